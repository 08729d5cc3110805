"""Facet counts of a search: brands, categories, price bands and in stock.

Disjunctive faceting: each facet is counted over the matches of the query
and every filter except its own, so a shopper who picked one brand still
sees how many matches the other brands have. One pass reads the matches
once (each row with whether it passes each facet filter) and counts every
facet from it.

Cost is bounded by `sample`: at most that many matches of the query and
the plain filters (active, min and max price) are read, and the facet
filters are applied to those, so selective facet filters cannot make it
read more. When there are more, the counts are those of the first `sample`
found (the index's order, not a random draw) and flagged approximate: a
common word can match a third of a large catalog, and counting 300,000 rows
takes seconds (docs/BENCHMARKS.md, facets).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import asyncpg

from gateway.records.catalog import FacetCounts, PriceBand, SearchQuery
from gateway.storage.postgres.search_filters import Arg, search_filters


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
    facets = filters.facet_conditions("stocked")
    passes = {name: f"({cond})" if cond else "true" for name, cond in facets.items()}
    where = [*([matching(arg)] if matching else []), *filters.base]
    bounds = arg(list(band_bounds))
    top = arg(size)

    def others(name: str) -> str:
        return " AND ".join(f"p_{n}" for n in passes if n != name)

    def grouped(facet: str, column: str, limit: str, named: bool = False) -> str:
        # A product without a brand or category is no value of that facet.
        where = " AND ".join([others(facet), *([f"{column} <> ''"] if named else [])])
        return (f"(SELECT '{facet}', {column}::text, count(*) FROM matches"
                f" WHERE {where} GROUP BY 2 ORDER BY 3 DESC, 2 LIMIT {limit})")

    sql = f"""WITH sampled AS MATERIALIZED (
        SELECT sku, brand, category, price_minor FROM products
        WHERE {' AND '.join(where) or 'true'} LIMIT {arg(sample)}),
    stocked AS (
        -- One index probe per sampled row: a join may hash the whole table.
        SELECT sampled.*, coalesce((SELECT in_stock FROM product_stock AS st
                                    WHERE st.sku = sampled.sku), false) AS stocked
        FROM sampled),
    matches AS MATERIALIZED (
        SELECT brand, category, width_bucket(price_minor, {bounds}::bigint[]) AS band,
               stocked, {', '.join(f'{p} AS p_{n}' for n, p in passes.items())}
        FROM stocked)
    {grouped('brand', 'brand', top, named=True)}
    UNION ALL {grouped('category', 'category', top, named=True)}
    UNION ALL {grouped('price', 'band', 'ALL')}
    UNION ALL {grouped('in_stock', 'stocked', 'ALL')}
    UNION ALL SELECT 'total', NULL, count(*) FILTER (WHERE {others('')}) FROM matches
    UNION ALL SELECT 'counted', NULL, count(*) FROM matches"""
    rows = await conn.fetch(sql, *params)
    by: dict[str, list[tuple[str | None, int]]] = {}
    for facet, value, count in rows:
        by.setdefault(facet, []).append((value, count))
    bands = _bands(band_bounds)
    band_counts = dict(by.get("price", []))
    stock = dict(by.get("in_stock", []))
    counted = by["counted"][0][1]
    return FacetCounts(
        brands=[(v or "", n) for v, n in by.get("brand", [])],
        categories=[(v or "", n) for v, n in by.get("category", [])],
        # width_bucket numbers the bands from 1 (0: below the first bound, 0).
        price_bands=[(b, band_counts.get(str(i + 1), 0)) for i, b in enumerate(bands)],
        in_stock=stock.get("true", 0), out_of_stock=stock.get("false", 0),
        total=by["total"][0][1], approximate=counted >= sample, counted=counted)
