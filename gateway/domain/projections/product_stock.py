"""product_stock: whether each product is in stock, for search's in-stock
facet and filter.

Fed by the stock events of the inventory keyspace and kept in the catalog
keyspace, like product_sales. The events say which skus changed but not
always by how much (a reservation's events name only the reservation), so
a batch reads the current stock of the skus its events touch, from the
inventory keyspace, and stores it: every change to a stock row appends an
event in the same transaction, so the flags converge to the stock within
the projection's lag, and applying a batch twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from gateway.records.events import StoredEvent
from gateway.storage.postgres import product_stock_store as store
from gateway.storage.postgres.pool import Keyspace, Shard

# Events that change one sku's stock, carrying it in the payload.
_STOCK_EVENTS = ("StockSet", "StockAdjusted")
# A reservation's steps, carrying only its id: its lines name the skus.
_RESERVATION_EVENTS = ("StockReserved", "StockCommitted", "StockReleased", "StockReturned")


class ProductStock:
    name: str = store.PRODUCT_STOCK
    description: str = ("Per product: units available and whether any are "
                        "(CatalogService.SearchProducts, in-stock facet and filter)")
    view: str = store.PRODUCT_STOCK
    tables: tuple[str, ...] = store.PRODUCT_STOCK_TABLES
    event_types: tuple[str, ...] = (*_STOCK_EVENTS, *_RESERVATION_EVENTS)

    def __init__(self, inventory: Keyspace, catalog: Keyspace) -> None:
        self._inventory = inventory
        self._catalog = catalog

    def sources(self) -> list[Shard]:
        return list(self._inventory.shards)

    def target(self, source: Shard) -> Shard:
        return self._catalog.single

    async def apply(self, conn: asyncpg.Connection, generation: int,
                    events: Sequence[StoredEvent]) -> None:
        skus = {e.payload["sku"] for e in events if e.event_type in _STOCK_EVENTS}
        reservations = [e.payload["reservation_id"] for e in events
                        if e.event_type in _RESERVATION_EVENTS]
        async with self._inventory.single.connection("SELECT stock") as source:
            if reservations:
                skus |= await store.reservation_skus(source, reservations)
            available = await store.available_units(source, sorted(skus)) if skus else {}
        if available:
            await store.set_available(conn, generation, available)
