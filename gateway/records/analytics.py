"""The analytics reports' value types: sales buckets, ranked products, the
conversion funnel's days and active-user windows."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Window(enum.Enum):
    """ActiveUsers windows (UTC; weeks start on Monday)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class SalesRow:
    bucket: datetime | None  # None: the total over the range
    category: str
    orders: int
    units: int
    revenue_minor: int

    @property
    def average_order_minor(self) -> int:
        """Revenue per net order, rounded down; 0 without orders."""
        return self.revenue_minor // self.orders if self.orders > 0 else 0


@dataclass(frozen=True)
class SalesSummary:
    currency: str
    buckets: list[SalesRow]
    total: SalesRow


@dataclass(frozen=True)
class ProductSales:
    sku: str
    title: str
    category: str
    units: int
    revenue_minor: int
    orders: int


@dataclass(frozen=True)
class FunnelDay:
    day: datetime
    viewers: int
    added_to_cart: int
    ordered: int

    @property
    def view_to_cart(self) -> float:
        return self.added_to_cart / self.viewers if self.viewers else 0.0

    @property
    def cart_to_order(self) -> float:
        return self.ordered / self.added_to_cart if self.added_to_cart else 0.0


@dataclass(frozen=True)
class ActivePoint:
    start: datetime
    users: int
