"""Facet counts of a search: brands, categories, price bands and in stock.

Disjunctive faceting: each facet is counted over the matches of the query
and every filter except its own, so a shopper who picked one brand still
sees how many matches the other brands have. A read of the matches with
every filter counts the facets without a filter and the total; each facet
with a filter is counted over its own read, with every other filter.

Cost is bounded by `sample`: each read examines at most that many matches
of the text and the category and brand filters (which the text index
holds with the words), and checks the price and stock filters on those
(search_filters.examined). When a read examines that many, the counts are
those of the first `sample` found (the index's order, not a random draw)
and flagged approximate: a common word can match a third of a large
catalog, and counting 300,000 rows takes seconds (docs/BENCHMARKS.md,
facets). A category or brand filter, however selective, is counted over
the products it selects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from gateway.records.catalog import FacetCounts, PriceBand, SearchQuery
from gateway.storage.postgres.search_filters import FACETS, Arg, examined, search_filters


def _bands(bounds: Sequence[int]) -> list[PriceBand]:
    return [PriceBand(low, bounds[i + 1] if i + 1 < len(bounds) else None)
            for i, low in enumerate(bounds)]


async def search_facets(conn: asyncpg.Connection, q: SearchQuery,
                        matching: Callable[[Arg], str] | None,
                        band_bounds: Sequence[int], size: int, sample: int) -> FacetCounts:
    """Counts for `q` (its text matched by the condition `matching` builds
    with the statement's parameters, or None without text), read inside the
    caller's transaction with its search settings. `band_bounds` are the
    price bands' lower bounds, ascending from 0, each band up to the next
    bound (the last unbounded); `size` values are kept per brand and category."""
    params: list[object] = []

    def arg(value: object) -> str:
        params.append(value)
        return f"${len(params)}"

    filters = search_filters(q, arg)
    text = matching(arg) if matching else None
    limit = arg(sample)
    bounds = arg(list(band_bounds))
    top = arg(size)
    # The conditions of each count: every filter for the total and the
    # facets without a filter ("all"), every other filter for a facet with one.
    counts = {"all": filters.for_text(),
              **{name: filters.for_text(without=name) for name in FACETS if filters.has(name)}}
    found = {name: examined(text, held, checked, limit)
             for name, (held, checked) in counts.items()}
    # Counts that examine the same rows (they differ in a price or stock
    # filter only, which is checked on the rows) share one read.
    reads: dict[str, str] = {}
    for f in found.values():
        reads.setdefault(f.rows, f"read_{len(reads)}")

    def read(rows: str, name: str) -> str:
        passes = ", ".join(f"{f.passes} AS passes_{count}"
                           for count, f in found.items() if f.rows == rows)
        return f"""{name} AS MATERIALIZED (
            SELECT brand, category, width_bucket(price_minor, {bounds}::bigint[]) AS band,
                   -- One index probe per row read: a join may hash the whole table.
                   coalesce((SELECT in_stock FROM product_stock AS st
                             WHERE st.sku = products.sku), false) AS stocked,
                   {passes}
            FROM {rows})"""

    def grouped(facet: str, column: str, limit: str, named: bool = False) -> str:
        count = facet if facet in counts else "all"
        # A product without a brand or category is no value of that facet.
        where = " AND ".join([f"passes_{count}", *([f"{column} <> ''"] if named else [])])
        return (f"(SELECT '{facet}', {column}::text, count(*) FROM {reads[found[count].rows]}"
                f" WHERE {where} GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT {limit})")

    sql = f"""WITH {', '.join(read(rows, name) for rows, name in reads.items())}
    {grouped('brand', 'brand', top, named=True)}
    UNION ALL {grouped('category', 'category', top, named=True)}
    UNION ALL {grouped('price', 'band', 'ALL')}
    UNION ALL {grouped('in_stock', 'stocked', 'ALL')}
    UNION ALL SELECT 'total', NULL, count(*) FROM {reads[found['all'].rows]} WHERE passes_all
    {''.join(f" UNION ALL SELECT 'read', NULL, count(*) FROM {name}" for name in reads.values())}"""
    rows = await conn.fetch(sql, *params)
    by: dict[str, list[tuple[str | None, int]]] = {}
    for facet, value, count in rows:
        by.setdefault(facet, []).append((value, count))
    bands = _bands(band_bounds)
    band_counts = dict(by.get("price", []))
    stock = dict(by.get("in_stock", []))
    total = by["total"][0][1]
    return FacetCounts(
        brands=[(v or "", n) for v, n in by.get("brand", [])],
        categories=[(v or "", n) for v, n in by.get("category", [])],
        # width_bucket numbers the bands from 1 (0: below the first bound, 0).
        price_bands=[(b, band_counts.get(str(i + 1), 0)) for i, b in enumerate(bands)],
        in_stock=stock.get("true", 0), out_of_stock=stock.get("false", 0),
        total=total, approximate=any(n >= sample for _, n in by["read"]), counted=total)
