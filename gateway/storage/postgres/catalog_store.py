"""SQL for the catalog keyspace: products, search and bulk import.

Functions take a connection so the caller decides the transaction; they never
touch the cache (the domain layer orders database and cache work).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import asyncpg

from gateway.records.catalog import (
    FacetCounts,
    ProductRecord,
    ProductWrite,
    SearchHit,
    SearchQuery,
)
from gateway.storage.postgres.search_facets import search_facets
from gateway.storage.postgres.search_filters import search_filters
from gateway.storage.postgres.search_relevance import ranked_matches

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


# Typo tolerance. A search whose words match fewer than FUZZY_BELOW products
# (a misspelt word usually matches none) also finds, ranked below every full-
# text match, products whose title and brand contain the query's words
# approximately: pg_trgm's strict_word_similarity of at least FUZZY_THRESHOLD
# between the query and a run of whole words of the title and brand, both
# with accents folded (catalog migration 0012). 0.45 lets one wrong, missing or extra
# letter through in a word of five letters or more ("hedphones" scores 0.62,
# "leathr chair" 0.48 against "Leather Office Chair") while unrelated titles
# that merely share a few letters score below 0.2; shorter words have too few
# trigrams to tell a typo from another word. The GIN trigram index finds the
# candidates; like full-text matches, at most FUZZY_WINDOW of them are ranked
# (the first found). The window bounds the rows ranked and returned, not the
# rows PostgreSQL rechecks: the index yields every product that shares enough
# of the query's trigrams, and each is rechecked (about 15 us a row) until the
# window fills. In 100,000 synthetic products "hedphones" took 22-36 ms
# (135 ms ranking all 8,600 near matches); "steel kettle model1234", whose
# trigrams 17% of the products share, 260 ms. A vocabulary of words to correct
# the query against would bound it (docs/api.md, typo tolerance).
FUZZY_BELOW = 10
FUZZY_THRESHOLD = 0.45
FUZZY_WINDOW = 1000
FUZZY_MIN_CHARS = 4
_FUZZY_TEXT = "search_fold(title || ' ' || brand)"
# Full-text matches rank above every fuzzy one: their key is 2 plus ts_rank
# normalised into [0, 1) (rank / (rank + 1), which keeps their order); a
# fuzzy match's key is its similarity, in [0, 1].
_EXACT_TIER = 2


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


def _has_operators(text: str) -> bool:
    """Whether the query uses web-search syntax ("phrase", -word): trigram
    similarity cannot honour it, so such a query is matched exactly only."""
    return '"' in text or any(word.startswith("-") for word in text.split())


def _tsquery(text: str) -> str:
    return f"websearch_to_tsquery('english'::regconfig, {text})"


def _relevance_candidates(text: str, filters: list[str], fuzzy: bool) -> str:
    """The products relevance ranks, each with its `score`: the full-text
    matches of `text` (the query's parameter) search_relevance.py picks,
    and, when `fuzzy` and those are fewer than FUZZY_BELOW, FUZZY_WINDOW
    trigram matches that full-text search did not find, scored by
    similarity. Both parts apply `filters`."""
    tsq = _tsquery(text)
    exact = ranked_matches(_COLUMNS, tsq, filters, _EXACT_TIER)
    if not fuzzy:
        return f"({exact}) AS candidates"
    # PostgreSQL evaluates the count once, before the fuzzy part, and skips
    # that part's index scan when full-text search found enough.
    similarity = f"strict_word_similarity(search_fold({text}), {_FUZZY_TEXT})"
    near = " AND ".join([
        f"search_fold({text}) <<% {_FUZZY_TEXT}", f"NOT (search @@ {tsq})", *filters,
        f"(SELECT count(*) FROM (SELECT 1 FROM exact LIMIT {FUZZY_BELOW}) AS few)"
        f" < {FUZZY_BELOW}",
    ])
    fuzzy_part = (
        f"SELECT {_COLUMNS}, {similarity}::real AS score FROM products WHERE {near}"
        f" LIMIT {FUZZY_WINDOW}")
    return (f"(WITH exact AS ({exact}) SELECT * FROM exact"
            f" UNION ALL ({fuzzy_part})) AS candidates")


async def search_products(conn: asyncpg.Connection, q: SearchQuery) -> list[SearchHit]:
    """One page; asks for limit+1 rows so the caller knows whether more exist."""
    params: list[Any] = []

    def arg(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    text = arg(q.text) if q.text else ""
    filters = search_filters(q, arg).all()
    where = [f"search @@ {_tsquery(text)}", *filters] if text else filters
    sort = q.sort if (q.sort != "relevance" or q.text) else "newest"
    source = "products"
    if sort == "relevance":
        fuzzy = len(q.text.strip()) >= FUZZY_MIN_CHARS and not _has_operators(q.text)
        source = _relevance_candidates(text, filters, fuzzy)
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
    sql = (
        f"SELECT {_COLUMNS}, {key_expr} AS sort_key FROM {source}"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {key_expr} {direction}, sku {direction} LIMIT {arg(q.limit + 1)}"
    )
    async with conn.transaction(readonly=True):
        # asyncpg reuses prepared statements, and after five runs PostgreSQL
        # may switch one to a generic plan that assumes every word matches
        # the same number of rows: 10x slower for common or rare words
        # (docs/BENCHMARKS.md). Planning each search for its words costs ~1 ms.
        # <<%, the trigram index's operator, compares with a setting, not a
        # value. One process reads the fuzzy window: parallel workers would
        # make "the first found" differ between the pages of one search.
        await conn.execute(
            "SET LOCAL plan_cache_mode = force_custom_plan;"
            f" SET LOCAL pg_trgm.strict_word_similarity_threshold = {FUZZY_THRESHOLD};"
            " SET LOCAL max_parallel_workers_per_gather = 0")
        rows = await conn.fetch(sql, *params)
    return [SearchHit(_record(r), (r["sort_key"], r["sku"])) for r in rows]


async def search_facet_counts(conn: asyncpg.Connection, q: SearchQuery,
                              band_bounds: Sequence[int], size: int,
                              sample: int) -> FacetCounts:
    """Facet counts of the products search_products finds (search_facets.py)."""
    return await search_facets(conn, q, _tsquery("$1") if q.text else None, band_bounds,
                               size, sample)


_IMPORT_COLUMNS = (
    "sku", "title", "description", "category", "brand", "price_minor", "currency",
    "attributes", "active",
)


async def import_products(conn: asyncpg.Connection,
                          rows: Sequence[ProductRecord]) -> list[ProductWrite]:
    """Store a batch (inside the caller's transaction): COPY it straight into
    `products` when none of its SKUs exists yet, else COPY it into a staging
    table and upsert from there in one statement. Returns each row as stored,
    with the row it replaced (for the events that record the import).

    COPY inserts rows in bulk, several times cheaper for PostgreSQL than an
    INSERT ... ON CONFLICT row by row; the staging table lets that one
    statement bump versions of existing products. New rows of a batch share
    one creation time, the database's clock at the start of the batch.
    Callers pass unique SKUs (ON CONFLICT cannot touch the same row twice in
    one statement).
    """
    # A join, not `sku = ANY($1)`: on a freshly loaded table without
    # statistics the planner may scan it and compare each row with the
    # whole array, which grows with every batch.
    row = await conn.fetchrow(
        "SELECT clock_timestamp(), EXISTS (SELECT 1 FROM unnest($1::text[]) AS batch (sku) "
        "JOIN products USING (sku))",
        [r.sku for r in rows])
    assert row is not None
    now, existing = row
    records = [(*_args(r), now, now) for r in rows]
    columns = [*_IMPORT_COLUMNS, "created_at", "updated_at"]
    if not existing:
        try:
            async with conn.transaction():  # a savepoint
                await conn.copy_records_to_table("products", columns=columns, records=records)
            # As stored: the columns' defaults give version 1.
            return [ProductWrite(replace(r, version=1, created_at=now, updated_at=now), True)
                    for r in rows]
        except asyncpg.UniqueViolationError:
            pass  # a concurrent write created one of them since the check: upsert
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS import_staging "
        "(LIKE products INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    await conn.copy_records_to_table("import_staging", columns=columns, records=records)
    # The rows to be replaced, locked first so that what is read is what the
    # upsert replaces (a row a concurrent writer creates in between is
    # replaced without its earlier state being known).
    before = {r["sku"]: _record(r) for r in await conn.fetch(
        f"SELECT {_COLUMNS} FROM products WHERE sku IN (SELECT sku FROM import_staging) "
        "ORDER BY sku FOR UPDATE")}
    cols = ", ".join(columns)
    stored = await conn.fetch(
        f"INSERT INTO products ({cols}) SELECT {cols} FROM import_staging {_REPLACE} "
        f"RETURNING {_COLUMNS}, (xmax = 0) AS created")
    return [ProductWrite(_record(r), bool(r["created"]), before.get(r["sku"])) for r in stored]
