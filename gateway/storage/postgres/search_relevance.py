"""Which full-text matches relevance ranks, with a bounded cost.

A query matching at most RANK_ALL_UP_TO products (rare and medium words,
and most multi-word queries) has every match ranked by ts_rank, so the best
match comes first however old it is. A common word can match a third of a
large catalog; ranking every match would read all of them on every page, so
above that count the ranked candidates are bounded: the RELEVANCE_WINDOW
newest matches, and the first RELEVANCE_WINDOW products whose title itself
matches (found through a GIN index on the title's vector: the search
migration "search_title_index"). Titles weigh most in the ranking (weight
A), so the best matches of a common word are among its title matches,
wherever they are in the catalog. Counting up to the bound reads at most
RANK_ALL_UP_TO + 1 matches, no wide column (docs/BENCHMARKS.md, facets and
relevance).
"""

from __future__ import annotations

RANK_ALL_UP_TO = 2000
RELEVANCE_WINDOW = 1000
# The title's own vector, as the search_title_index migration indexes it.
TITLE_VECTOR = "to_tsvector('english'::regconfig, title)"


def ranked_matches(columns: str, tsquery: str, filters: list[str], tier: int) -> str:
    """A SELECT of `columns` and `score` (`tier` plus ts_rank normalised
    into [0, 1)) over the matches of `tsquery` (an SQL expression) that
    relevance ranks, each passing `filters`."""
    where = " AND ".join([f"search @@ {tsquery}", *filters])
    titled = " AND ".join([f"{TITLE_VECTOR} @@ {tsquery}", *filters])
    few = f"(SELECT n FROM counted) <= {RANK_ALL_UP_TO}"
    # The count reads no more than it must, and no wide column. PostgreSQL
    # evaluates it once, and skips the parts its result rules out: every
    # match for a rare query, the two windows for a common one.
    return f"""WITH counted AS (
            SELECT count(*) AS n
            FROM (SELECT 1 FROM products WHERE {where} LIMIT {RANK_ALL_UP_TO + 1}) AS m),
        newest AS MATERIALIZED (
            SELECT {columns}, search FROM products WHERE {where}
            ORDER BY created_at DESC, sku DESC LIMIT {RELEVANCE_WINDOW}),
        titled AS MATERIALIZED (
            SELECT {columns}, search FROM products WHERE {titled} LIMIT {RELEVANCE_WINDOW}),
        ranked AS (
            SELECT {columns}, search FROM products WHERE {where} AND {few}
            UNION ALL SELECT * FROM newest WHERE NOT {few}
            UNION ALL SELECT * FROM titled
                WHERE NOT {few} AND sku NOT IN (SELECT sku FROM newest)
                -- The title's vector is in English whatever the catalog's
                -- language (search.language): only matches of `search` count.
                -- Checked here, on the window, not in it: there PostgreSQL
                -- would AND both GIN indexes, reading every match of a common
                -- word twice (60 ms on 1,000,000 products).
                AND search @@ {tsquery})
        SELECT {columns}, {tier}::real + ts_rank(search, {tsquery}, 32) AS score FROM ranked"""
