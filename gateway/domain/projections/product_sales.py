"""product_sales: sales per product, for the catalog's "popular" sort.

Fed by the order events of every commerce shard and kept in the catalog
keyspace, next to the products it ranks; each source shard's checkpoint is
stored there too, in the transaction that adds its batch. Per sku, net of
cancellations: units sold, orders holding the sku, and revenue in minor units
per order currency (amounts in different currencies are never added up).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from gateway.records.events import StoredEvent
from gateway.storage.postgres import projection_store as store
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.projection_store import SalesLine, SalesOrder, SkuSales


@dataclass
class _Change:
    """What one batch adds to a sku's counters."""

    units: int = 0
    orders: int = 0
    revenue_minor: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


def _order(e: StoredEvent) -> SalesOrder:
    p = e.payload
    return SalesOrder(p["order_id"], p["currency"], tuple(
        SalesLine(i["sku"], int(i["quantity"]), int(i["quantity"]) * int(i["unit_price_minor"]))
        for i in p["items"]))


class ProductSales:
    name: str = store.PRODUCT_SALES
    description: str = ("Per product: units sold, orders and revenue per currency, net of "
                   "cancellations (CatalogService.SearchProducts, PRODUCT_SORT_POPULAR)")
    view: str = store.PRODUCT_SALES
    tables: tuple[str, ...] = store.PRODUCT_SALES_TABLES
    event_types: tuple[str, ...] = ("OrderPlaced", "OrderCancelled")

    def __init__(self, commerce: Keyspace, catalog: Keyspace) -> None:
        self._commerce = commerce
        self._catalog = catalog

    def sources(self) -> list[Shard]:
        return list(self._commerce.shards)

    def target(self, source: Shard) -> Shard:
        return self._catalog.single

    async def apply(self, conn: asyncpg.Connection, generation: int,
                    events: Sequence[StoredEvent]) -> None:
        placed = {o.order_id: o for o in (_order(e) for e in events
                                          if e.event_type == "OrderPlaced")}
        cancels = [e.payload["order_id"] for e in events if e.event_type == "OrderCancelled"]
        new = (await store.count_sales_orders(conn, generation, list(placed.values()))
               if placed else set())
        cancelled = (await store.cancel_sales_orders(conn, generation, cancels)
                     if cancels else [])
        changes: defaultdict[str, _Change] = defaultdict(_Change)
        signed = [(1, o) for o in placed.values() if o.order_id in new]
        signed += [(-1, o) for o in cancelled]
        for sign, order in signed:
            for line in order.lines:
                c = changes[line.sku]
                c.units += sign * line.quantity
                c.revenue_minor[order.currency] += sign * line.revenue_minor
            for sku in {line.sku for line in order.lines}:
                changes[sku].orders += sign
        if changes:
            await store.add_sales(conn, generation, [
                SkuSales(sku, c.units, c.orders, dict(c.revenue_minor))
                for sku, c in sorted(changes.items())])
