"""CQRS read models kept from the shards' events (docs/projections.md)."""

from __future__ import annotations

from gateway.domain.projections.product_sales import ProductSales
from gateway.domain.projections.product_stock import ProductStock
from gateway.domain.projections.runner import Projection
from gateway.domain.projections.user_order_summary import UserOrderSummary
from gateway.storage.postgres.pool import Keyspace


def all_projections(commerce: Keyspace, inventory: Keyspace,
                    catalog: Keyspace) -> list[Projection]:
    """Every projection the gateway runs."""
    return [UserOrderSummary(commerce), ProductSales(commerce, catalog),
            ProductStock(inventory, catalog)]
