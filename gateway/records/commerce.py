"""The commerce domains' value types: users, orders, payments, stock,
reservations and the saga log's records."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    email: str
    display_name: str
    version: int
    created_at: datetime
    updated_at: datetime
    # Set once the user was erased (email and name are anonymised then).
    erased_at: datetime | None = None


@dataclass(frozen=True)
class OrderItemRecord:
    sku: str
    title: str
    quantity: int
    unit_price_minor: int
    # The product's category when the order was priced ("" before it was kept).
    category: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "title": self.title, "quantity": self.quantity,
                "unit_price_minor": self.unit_price_minor, "category": self.category}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderItemRecord:
        # Items stored before the category was kept have none.
        return cls(data["sku"], data["title"], data["quantity"], data["unit_price_minor"],
                   data.get("category", ""))


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    user_id: str
    status: str
    currency: str
    total_minor: int
    shipping: dict[str, str]
    payment_id: str
    saga_id: str
    version: int
    created_at: datetime
    updated_at: datetime
    items: tuple[OrderItemRecord, ...] = field(default=())


@dataclass(frozen=True)
class PaymentRecord:
    payment_id: str
    order_id: str
    user_id: str
    status: str
    currency: str
    amount_minor: int
    captured_minor: int
    refunded_minor: int
    provider_ref: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StockRecord:
    sku: str
    on_hand: int
    reserved: int
    version: int
    updated_at: datetime | None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class ReservationRecord:
    reservation_id: str
    state: str  # held | committed | released | returned
    items: tuple[tuple[str, int], ...]
    saga_id: str
    saga_shard_key: str
    expires_at: datetime
    created_at: datetime

    def item_json(self) -> list[dict[str, Any]]:
        return [{"sku": sku, "quantity": qty} for sku, qty in self.items]


@dataclass(frozen=True)
class SagaRecord:
    saga_id: str
    kind: str
    state: str  # running | compensating | completed | compensated
    user_id: str
    order_id: str
    request_id: str
    data: dict[str, Any]
    steps: list[dict[str, Any]]
    failure_reason: str
    attempts: int
    lease_until: datetime
    created_at: datetime
    updated_at: datetime

    def done(self, step: str) -> bool:
        """Was `step` done in the current attempt (since the last restart)?"""
        found = False
        for s in self.steps:
            if s["name"] == "restart":
                found = False
            elif s["name"] == step and s["outcome"] == "done":
                found = True
        return found
