"""SQL of the product_stock projection: the stock it reads in the inventory
keyspace and the flags it writes in the catalog keyspace."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from gateway.storage.postgres.projection_store import generation_table

PRODUCT_STOCK = "product_stock"
PRODUCT_STOCK_TABLES = (PRODUCT_STOCK,)


async def reservation_skus(conn: asyncpg.Connection, reservation_ids: Sequence[str]) -> set[str]:
    """The skus on these reservations' lines (inventory keyspace)."""
    rows = await conn.fetch(
        "SELECT items::text AS items FROM reservations WHERE reservation_id = ANY($1::text[])",
        list(reservation_ids))
    return {item["sku"] for r in rows for item in json.loads(r["items"])}


async def available_units(conn: asyncpg.Connection, skus: Sequence[str]) -> dict[str, int]:
    """Units on hand and not reserved per sku with a stock row (inventory keyspace)."""
    rows = await conn.fetch(
        "SELECT sku, on_hand - reserved AS available FROM stock WHERE sku = ANY($1::text[])",
        list(skus))
    return {r["sku"]: r["available"] for r in rows}


async def set_available(conn: asyncpg.Connection, generation: int,
                        available: dict[str, int]) -> None:
    """Store each sku's available units (catalog keyspace), in sku order:
    one lock order for concurrent runners."""
    skus = sorted(available)
    await conn.execute(
        f"""INSERT INTO {generation_table(PRODUCT_STOCK, generation)} AS s
                (sku, available, in_stock)
            SELECT sku, n, n > 0 FROM unnest($1::text[], $2::bigint[]) AS u (sku, n)
            ON CONFLICT (sku) DO UPDATE
                SET available = EXCLUDED.available, in_stock = EXCLUDED.in_stock""",
        skus, [available[s] for s in skus])
