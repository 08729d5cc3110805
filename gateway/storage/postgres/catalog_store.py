"""SQL for the catalog keyspace: products, search and bulk import.

Functions take a connection so the caller decides the transaction; they never
touch the cache (the domain layer orders database and cache work).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from gateway.records.catalog import FacetCounts, ProductRecord, SearchHit, SearchQuery
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta
from gateway.storage.postgres import product_events
from gateway.storage.postgres.search_facets import search_facets
from gateway.storage.postgres.search_filters import SearchFilters, search_filters
from gateway.storage.postgres.search_query import Arg, Matchers, has_operators, matchers
from gateway.storage.postgres.search_relevance import ranked_matches
from gateway.storage.postgres.search_words import CORRECTION_THRESHOLD, QueryTerms, query_terms

_COLUMNS = (
    "sku, title, description, category, brand, price_minor, currency, attributes, active, "
    "version, created_at, updated_at"
)


def _record(row: asyncpg.Record) -> ProductRecord:
    attrs = row["attributes"]
    return ProductRecord(
        sku=row["sku"],
        title=row["title"],
        description=row["description"],
        category=row["category"],
        brand=row["brand"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        attributes=json.loads(attrs) if isinstance(attrs, str) else dict(attrs),
        active=row["active"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get_product(conn: asyncpg.Connection, sku: str) -> ProductRecord | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM products WHERE sku = $1", sku)
    return _record(row) if row else None


async def get_products(conn: asyncpg.Connection, skus: Sequence[str]) -> list[ProductRecord]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM products WHERE sku = ANY($1::text[])", list(skus)
    )
    return [_record(r) for r in rows]


async def lock_product(conn: asyncpg.Connection, sku: str) -> ProductRecord | None:
    """The stored product, locking its row for the rest of the transaction; None if absent."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM products WHERE sku = $1 FOR UPDATE", sku)
    return _record(row) if row else None


# One clock reading for both columns, so a new product's update_time equals
# its create_time (two clock_timestamp() defaults can differ by a microsecond).
_INSERT_ONE = """INSERT INTO products (sku, title, description, category, brand, price_minor,
                                       currency, attributes, active, created_at, updated_at)
    SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::text, $8::jsonb,
           $9::boolean, now_, now_
    FROM clock_timestamp() AS now_"""
_REPLACE = """ON CONFLICT (sku) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description,
    category = EXCLUDED.category, brand = EXCLUDED.brand,
    price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency,
    attributes = EXCLUDED.attributes, active = EXCLUDED.active,
    version = products.version + 1, updated_at = clock_timestamp()"""


def _args(p: ProductRecord) -> tuple[Any, ...]:
    return (p.sku, p.title, p.description, p.category, p.brand, p.price_minor, p.currency,
            json.dumps(p.attributes), p.active)


async def upsert_product(conn: asyncpg.Connection, p: ProductRecord) -> ProductRecord:
    """Insert or replace; returns the stored row."""
    row = await conn.fetchrow(f"{_INSERT_ONE} {_REPLACE} RETURNING {_COLUMNS}", *_args(p))
    assert row is not None
    return _record(row)


async def insert_product(conn: asyncpg.Connection, p: ProductRecord) -> ProductRecord | None:
    """Create the product; None if it exists (never touches an existing row)."""
    row = await conn.fetchrow(
        f"{_INSERT_ONE} ON CONFLICT (sku) DO NOTHING RETURNING {_COLUMNS}", *_args(p))
    return _record(row) if row else None


async def delete_product(conn: asyncpg.Connection, sku: str) -> bool:
    status = await conn.execute("DELETE FROM products WHERE sku = $1", sku)
    return bool(status == "DELETE 1")


# Typo tolerance. A search whose words match fewer than CORRECT_BELOW products
# (a misspelt word usually matches none) also finds, ranked below every full-
# text match, the products matching the query corrected through the search
# vocabulary (search_words.py): each word of the query may also be any of its
# nearest vocabulary words. They are picked for ranking like full-text
# matches (search_relevance.py). The cost is that of two
# full-text searches and one lookup per word in the vocabulary, whatever the
# catalog's size (docs/BENCHMARKS.md).
CORRECT_BELOW = 10
# Full-text matches rank above every corrected one: their key is 2 plus
# ts_rank normalised into [0, 1) (rank / (rank + 1), which keeps their
# order); a corrected match's key is 1 plus its rank against the corrected
# query.
_EXACT_TIER = 2
_CORRECTED_TIER = 1


def _popular(filters: list[str], after: tuple[Any, str] | None, arg: Any, limit: str) -> str:
    """The "popular" candidates: products with units sold, walked from the
    sales counters' (units, sku) index, then products without sales by sku
    (both newest-sku-first within a tie, like the other descending sorts);
    each part holds at most a page and the caller's ORDER BY merges them.
    `product_sales` is the view over the projection's live generation."""
    where = " AND ".join(filters) or "true"
    parts = []
    if after is None or after[0] > 0:
        keyset = ("" if after is None else
                  f" AND (s.units, s.sku) < ({arg(after[0])}::bigint, {arg(after[1])})")
        parts.append(
            f"(SELECT {_COLUMNS}, s.units AS units_sold FROM product_sales AS s"
            f" JOIN products USING (sku) WHERE s.units > 0 AND {where}{keyset}"
            f" ORDER BY s.units DESC, s.sku DESC LIMIT {limit})")
    keyset = f" AND sku < {arg(after[1])}" if after is not None and after[0] <= 0 else ""
    parts.append(
        f"(SELECT {_COLUMNS}, 0::bigint AS units_sold FROM products WHERE {where}{keyset}"
        " AND NOT EXISTS (SELECT 1 FROM product_sales AS s"
        " WHERE s.sku = products.sku AND s.units > 0)"
        f" ORDER BY sku DESC LIMIT {limit})")
    return f"({' UNION ALL '.join(parts)}) AS popular"


def _relevance_candidates(match: Matchers, filters: SearchFilters) -> str:
    """The products relevance ranks, each `sku` with its `score`: the
    full-text matches of the query search_relevance.py picks, and, when the
    query has corrections and those are fewer than CORRECT_BELOW, the
    matches of the corrected query that full-text search did not find,
    picked the same way. Both parts apply `filters`."""
    tsq = match.exact
    held, checked = filters.for_text()
    exact = ranked_matches(tsq, held, checked, _EXACT_TIER)
    if match.corrected is None:
        return f"({exact}) AS candidates"
    # PostgreSQL evaluates the count once, before the corrected part, and
    # skips that part's scans when full-text search found enough: it is
    # held with the words, in the scans' own conditions (search_filters.examined).
    few = (f"(SELECT count(*) FROM (SELECT 1 FROM exact LIMIT {CORRECT_BELOW}) AS few)"
           f" < {CORRECT_BELOW}")
    near = ranked_matches(match.corrected, [*held, few],
                          [f"NOT (search @@ {tsq})", *checked], _CORRECTED_TIER)
    return (f"(WITH exact AS ({exact}) SELECT * FROM exact"
            f" UNION ALL ({near})) AS candidates")


async def _search_settings(conn: asyncpg.Connection) -> None:
    """Settings of a search's read-only transaction."""
    # asyncpg reuses prepared statements, and after five runs PostgreSQL
    # may switch one to a generic plan that assumes every word matches
    # the same number of rows: 10x slower for common or rare words
    # (docs/BENCHMARKS.md). Planning each search for its words costs ~1 ms.
    # The trigram index's % compares with a setting, not a value. One
    # process reads a bounded window or sample, from the table's start: with
    # parallel workers, or a scan joining another scan of the table midway
    # (synchronize_seqscans), which rows it holds would vary from run to
    # run, and a relevance search's pages with it. A common word's
    # bitmap (180,000 products of 1,000,000) outgrows the default 4MB and
    # turns lossy: every row of its pages is checked again (30 ms -> 22 ms
    # for a word in a category with 16MB).
    await conn.execute(
        "SET LOCAL plan_cache_mode = force_custom_plan;"
        f" SET LOCAL pg_trgm.similarity_threshold = {CORRECTION_THRESHOLD};"
        " SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL synchronize_seqscans = off;"
        " SET LOCAL work_mem = '16MB'")


async def _terms(conn: asyncpg.Connection, q: SearchQuery, correct: bool) -> QueryTerms:
    return await query_terms(conn, q.text, correct,
                             [w for group in q.synonyms for w in group if " " not in w])


async def search_products(conn: asyncpg.Connection, q: SearchQuery) -> list[SearchHit]:
    """One page; asks for limit+1 rows so the caller knows whether more exist."""
    async with conn.transaction(readonly=True):
        await _search_settings(conn)
        sort = q.sort if (q.sort != "relevance" or q.text) else "newest"
        operators = has_operators(q.text)
        correct = sort == "relevance" and not operators
        terms = await _terms(conn, q, correct) if q.text else None
        sql, params = _search_sql(q, sort, terms, operators)
        rows = await conn.fetch(sql, *params)
    return [SearchHit(_record(r), (r["sort_key"], r["sku"])) for r in rows]


def _search_sql(q: SearchQuery, sort: str, terms: QueryTerms | None,
                operators: bool) -> tuple[str, list[Any]]:
    params: list[Any] = []

    def arg(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    match = (matchers(q.text, terms, q.synonyms, operators, arg)
             if terms is not None else None)
    filters = search_filters(q, arg)
    where = [f"search @@ {match.exact}", *filters.all()] if match else filters.all()
    source = "products"
    if sort == "relevance":
        assert match is not None
        source = _relevance_candidates(match, filters)
        where = []
    elif sort == "popular":
        source = _popular(where, q.after, arg, arg(q.limit + 1))
        where = []
    key_expr, direction, cast = {
        "relevance": ("score", "DESC", "::real"),
        "price_asc": ("price_minor", "ASC", "::bigint"),
        "price_desc": ("price_minor", "DESC", "::bigint"),
        "newest": ("created_at", "DESC", "::timestamptz"),
        "popular": ("units_sold", "DESC", "::bigint"),
    }[sort]
    if q.after is not None and sort != "popular":  # popular's parts apply it themselves
        op = ">" if direction == "ASC" else "<"
        where.append(f"({key_expr}, sku) {op} ({arg(q.after[0])}{cast}, {arg(q.after[1])})")
    columns = "sku, score" if sort == "relevance" else _COLUMNS
    sql = (
        f"SELECT {columns}, {key_expr} AS sort_key FROM {source}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {key_expr} {direction}, sku {direction} LIMIT {arg(q.limit + 1)}"
    )
    if sort == "relevance":
        # Candidates are narrow: only the page's products are read whole.
        sql = (f"SELECT {_COLUMNS}, page.sort_key FROM ({sql}) AS page"
               " JOIN products USING (sku) ORDER BY page.sort_key DESC, sku DESC")
    return sql, params


async def search_facet_counts(conn: asyncpg.Connection, q: SearchQuery,
                              band_bounds: Sequence[int], size: int,
                              sample: int) -> FacetCounts:
    """Facet counts of the products search_products finds by full text (in
    the catalog's language, with its synonyms), whatever the sort
    (search_facets.py). Corrected matches are left out: they are only listed
    after a relevance search's few full-text matches, and counts that moved
    with the sort would not add up."""
    async with conn.transaction(readonly=True):
        await _search_settings(conn)
        operators = has_operators(q.text)
        terms = await _terms(conn, q, False) if q.text else None

        def matching(arg: Arg) -> str:
            assert terms is not None
            return f"search @@ {matchers(q.text, terms, q.synonyms, operators, arg).exact}"

        return await search_facets(conn, q, matching if terms is not None else None,
                                   band_bounds, size, sample)


_IMPORT_COLUMNS = (
    "sku", "title", "description", "category", "brand", "price_minor", "currency",
    "attributes", "active",
)

# What a batch's COPY writes: the rest are the columns' defaults.
_COPY_COLUMNS = [*_IMPORT_COLUMNS, "created_at", "updated_at"]

# The events of a batch just COPYed: each product created, version 1.
# $2: the batch's SKUs, each looked up by the primary key (the LIMIT keeps
# the planner from turning the lookups into a scan of the whole table, which
# it may choose while a bulk load outgrows the table's statistics).
_CREATED_EVENTS = f"""stored AS (
    SELECT p.*, true AS created
    FROM unnest($2::text[]) AS batch (sku),
         LATERAL (SELECT {_COLUMNS} FROM products
                  WHERE products.sku = batch.sku LIMIT 1) AS p),
{product_events.events("stored", None)}"""

_STAGED = ", ".join(_COPY_COLUMNS)
# The staged batch upserted, with its events, in one statement. Every part
# of a statement reads one snapshot, so `before` sees the rows as they were
# before the upsert in `stored` replaced them.
_UPSERT_WITH_EVENTS = f"""before AS (
    SELECT sku, price_minor, currency FROM products
    WHERE sku IN (SELECT sku FROM import_staging)),
stored AS (
    INSERT INTO products ({_STAGED}) SELECT {_STAGED} FROM import_staging {_REPLACE}
    RETURNING {_COLUMNS}, (xmax = 0) AS created),
{product_events.events("stored", "before")}"""


async def import_products(conn: asyncpg.Connection, rows: Sequence[ProductRecord],
                          meta: EventMeta) -> None:
    """Store a batch and record its product events (inside the caller's
    transaction): COPY it straight into `products` when none of its SKUs
    exists yet, else COPY it into a staging table and upsert from there;
    either way the events are built in SQL from the rows as stored
    (product_events.py). A tombstoned product stream raises
    STREAM_TOMBSTONED, which must roll the caller's transaction back.

    COPY inserts rows in bulk, several times cheaper for PostgreSQL than an
    INSERT ... ON CONFLICT row by row; the staging table lets that one
    statement bump versions of existing products. New rows of a batch share
    one creation time, the database's clock at the start of the batch.
    Callers pass unique SKUs (ON CONFLICT cannot touch the same row twice in
    one statement).
    """
    skus = [r.sku for r in rows]
    # A join, not `sku = ANY($1)`: on a freshly loaded table without
    # statistics the planner may scan it and compare each row with the
    # whole array, which grows with every batch.
    row = await conn.fetchrow(
        "SELECT clock_timestamp(), EXISTS (SELECT 1 FROM unnest($1::text[]) AS batch (sku) "
        "JOIN products USING (sku))", skus)
    assert row is not None
    now, existing = row
    records = [(*_args(r), now, now) for r in rows]
    if not existing:
        try:
            async with conn.transaction():  # a savepoint
                await conn.copy_records_to_table("products", columns=_COPY_COLUMNS, records=records)
        except asyncpg.UniqueViolationError:
            pass  # a concurrent write created one of them since the check: upsert
        else:
            await recorder.append_selected(conn, _CREATED_EVENTS, [skus], meta)
            return
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS import_staging "
        "(LIKE products INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table("import_staging", columns=_COPY_COLUMNS, records=records)
    # The rows to be replaced, locked first (in one order, as concurrent
    # imports do), so the upsert's statement reads, as `before`, the rows
    # it replaces. A row a concurrent writer creates in between is replaced
    # without its earlier state being known (no ProductPriceChanged).
    await conn.execute(
        "SELECT count(*) FROM (SELECT FROM products WHERE sku IN "
        "(SELECT sku FROM import_staging) ORDER BY sku FOR UPDATE) AS locked")
    await recorder.append_selected(conn, _UPSERT_WITH_EVENTS, [], meta)

