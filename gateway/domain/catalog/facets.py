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
# At most this many matches are counted per search (search_facets.py). The
# cost is reading that many product rows scattered over the table: 5,000
# cost 100-190 ms p50 for common and medium words on 1,000,000 products
# (docs/BENCHMARKS.md, facets), over the 50 ms; 2,000 reads 2.5x
# fewer, and the counts of a larger match set are approximate either way.
FACET_SAMPLE = 2_000


def check_price_bands(v: Violations, q: SearchQuery) -> None:
    for i, band in enumerate(q.price_bands):
        if band.high is not None and band.high <= band.low:
            v.add(f"price_bands[{i}].max_price_minor", "must be more than min_price_minor")

