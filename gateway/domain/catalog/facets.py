"""Search facets: the fixed price bands and the bounds of counting.

The price bands are fixed (not per catalog policy): minor units, so one set
serves every currency with two decimals, from cheap accessories to
furniture. Each band runs from its bound to the next; the last has none.
"""

from __future__ import annotations

from gateway.errors import Violations
from gateway.records.catalog import SearchQuery

PRICE_BAND_BOUNDS = (0, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
DEFAULT_FACET_SIZE = 10
# Each read of a search's facet counts examines at most this many matches
# (search_facets.py). The cost is reading them, scattered over the table:
# 5,000 cost 100-190 ms p50 for common and medium words on 1,000,000
# products (docs/BENCHMARKS.md, facets); 2,000 took a common word's facets
# to 14 ms in PostgreSQL, and their search to 51 ms p95 end to end, page
# and counts together, just over the 50; 1,000 takes the counts to
# 7 ms. The counts of a larger match set are approximate either way.
FACET_SAMPLE = 1_000


def check_price_bands(v: Violations, q: SearchQuery) -> None:
    for i, band in enumerate(q.price_bands):
        if band.high is not None and band.high <= band.low:
            v.add(f"price_bands[{i}].max_price_minor", "must be more than min_price_minor")

