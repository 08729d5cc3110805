"""Which full-text matches relevance ranks, with a bounded cost.

"Matches" here are those of the query's text and of the filters the text
index holds with the words (category, brand); the price and stock filters
are checked on them (search_filters.examined).

A query matching at most RANK_ALL_UP_TO products (rare and medium words,
and most multi-word queries) has every match passing the filters ranked by
ts_rank, so the best result comes first however old it is. A common word
can match a third of a large catalog; ranking every match would read all
of them on every page, so above that count the ranked candidates are
bounded: those of the first RANK_ALL_UP_TO + 1 matches found (in the
table's order, which is no order a shopper sees) that pass the filters,
and, unless those hold TITLE_MATCHES_ENOUGH title matches already, those
of the first TITLE_WINDOW products whose title itself matches
(products.title_search, the title's vector in the catalog's language,
which the search_title_vector migration stores and indexes). Titles weigh
most in the ranking (weight A), so the best matches of a common word are
among its title matches, wherever they are in the catalog.

The matches are read once, narrow (sku and the search vector), and the
reading stops at RANK_ALL_UP_TO + 1 whatever the filters: a query with
13,000 matches reads 2,001 rows, not 13,000 (a window of the newest
matches had to read them all to sort them), and a price band checked on a
common word's matches does not read 50,000 of them to find 2,001 in the
band. Only the page's products are then read whole (docs/BENCHMARKS.md,
search quality).
"""

from __future__ import annotations

from gateway.storage.postgres.search_filters import examined

RANK_ALL_UP_TO = 2000
TITLE_WINDOW = 1000
# Title matches among the matches read that make the title window needless:
# ten pages of 20, the best of which come first already. Reading the window
# costs a common word 6 ms of 19 in PostgreSQL (docs/BENCHMARKS.md).
TITLE_MATCHES_ENOUGH = 200


def ranked_matches(tsquery: str, held: list[str], checked: list[str], tier: int) -> str:
    """A SELECT of `sku` and `score` (`tier` plus ts_rank normalised into
    [0, 1)) over the matches of `tsquery` (an SQL expression) that
    relevance ranks, passing the conditions `held` and `checked`
    (search_filters.SearchFilters.for_text)."""
    read = examined(f"search @@ {tsquery}", held, checked, str(RANK_ALL_UP_TO + 1))
    # PostgreSQL evaluates this once (an uncorrelated subquery) and skips
    # the title window's scan unless the matches read are too many to be
    # every match and hold few title matches.
    wanted = (f"(SELECT count(*) > {RANK_ALL_UP_TO}"
              f" AND count(*) FILTER (WHERE passes AND in_title) < {TITLE_MATCHES_ENOUGH}"
              " FROM matched)")
    titles = examined(f"title_search @@ {tsquery}", [*held, wanted], checked, str(TITLE_WINDOW))
    return f"""WITH matched AS MATERIALIZED (
            SELECT sku, search, title_search @@ {tsquery} AS in_title, {read.passes} AS passes
            FROM {read.rows}),
        ranked AS (
            SELECT sku, search FROM matched WHERE passes
            UNION ALL SELECT sku, search FROM {titles.rows}
            WHERE {titles.passes} AND sku NOT IN (SELECT sku FROM matched)
                -- A title match of a query with an exclusion (-word) can hold
                -- the excluded word in its description. Checked on the
                -- window, not in it: there PostgreSQL would AND both GIN
                -- indexes, reading every match of a common word.
                AND search @@ {tsquery})
        SELECT sku, {tier}::real + ts_rank(search, {tsquery}, 32) AS score FROM ranked"""
