"""SQL for the catalog's text search language (the search language
migration): search_settings holds the language products.search is built
with, and the re-index that follows a change of it."""

from __future__ import annotations

import asyncpg


async def set_language(conn: asyncpg.Connection, language: str) -> bool:
    """Make `language` (a text search configuration's name) the catalog's;
    when it changes, a re-index starts from the first product. Whether it
    changed; UndefinedObjectError when the database has no such
    configuration."""
    status = await conn.execute(
        "UPDATE search_settings SET language = $1::regconfig, reindex_after = ''"
        " WHERE language <> $1::regconfig", language)
    return bool(status == "UPDATE 1")


async def reindex_batch(conn: asyncpg.Connection, batch: int) -> int | None:
    """Rebuild the search vectors of the next `batch` products (sku order)
    with the current language, in one transaction; how many, or None when
    no re-index is pending. Setting title to itself fires the vector's
    trigger and changes nothing else (version and updated_at stay), so the
    products' caches and events are untouched. The settings row is locked
    for the batch: gateways running the job take turns."""
    # Read unlocked first: the job asks every few seconds, nearly always in vain.
    if await conn.fetchval("SELECT reindex_after IS NULL FROM search_settings"):
        return None
    async with conn.transaction():
        after = await conn.fetchval("SELECT reindex_after FROM search_settings FOR UPDATE")
        if after is None:
            return None
        row = await conn.fetchrow(
            """WITH batch AS (SELECT sku FROM products WHERE sku > $1 ORDER BY sku LIMIT $2),
                    done AS (UPDATE products AS p SET title = p.title FROM batch
                             WHERE p.sku = batch.sku RETURNING p.sku)
               SELECT max(sku) AS last, count(*) AS n FROM done""", after, batch)
        assert row is not None
        # NULL (none left): the re-index is over.
        await conn.execute("UPDATE search_settings SET reindex_after = $1", row["last"])
        return int(row["n"])
