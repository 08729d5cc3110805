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


# The kinds of saga in the log; a row's kind says which state its data holds.
CREATE_ORDER = "create_order"
CANCEL_ORDER = "cancel_order"
# The keys of a placing saga's data that it keeps only while a step may still
# charge the card (the storage drops them in the statement that logs the step).
CARD_DATA = ("card_token",)


@dataclass(frozen=True)
class SagaFailure:
    """Why a placing saga was compensated: the error its request failed with,
    kept so that a duplicate of the request fails with the same one."""

    code: str  # the gRPC status code's name
    reason: str
    message: str
    metadata: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "message": self.message,
                "metadata": self.metadata}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SagaFailure:
        return cls(data["code"], data["reason"], data["message"], data["metadata"])


@dataclass(frozen=True)
class OrderSagaState:
    """The data of a create_order saga: the order's draft, priced when the
    attempt started, and, once it failed, why.

    The JSON form (the row's `data`) is the one stored since the saga was
    written, so rows of every earlier gateway load.
    """

    # The digest of the request: a duplicate has the same, a reuse of its
    # request id for another order does not (JSON "hash").
    request_hash: str
    attempt: int  # 1, plus one per retry of a compensated saga
    order_id: str
    payment_id: str
    reservation_id: str
    currency: str
    items: tuple[OrderItemRecord, ...]
    shipping: dict[str, str]
    total_minor: int
    # None once the order is written or the saga compensated: the log keeps
    # the customer's card only while a step may still charge it (CARD_DATA).
    card_token: str | None
    failure: SagaFailure | None = None
    # Whether a retry of the request may place the order afresh (set with
    # `failure`: the backend that failed may be back).
    retryable: bool = False

    @staticmethod
    def failure_json(failure: SagaFailure, retryable: bool) -> dict[str, Any]:
        """The keys compensation adds to the stored data (merged into it, so
        the draft stays as it was)."""
        return {"failure": failure.to_json(), "retryable": retryable}

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "hash": self.request_hash, "attempt": self.attempt, "order_id": self.order_id,
            "payment_id": self.payment_id, "reservation_id": self.reservation_id,
            "currency": self.currency, "items": [i.to_json() for i in self.items],
            "shipping": self.shipping, "total_minor": self.total_minor,
        }
        if self.card_token is not None:
            data["card_token"] = self.card_token
        if self.failure is not None:
            data.update(self.failure_json(self.failure, self.retryable))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OrderSagaState:
        failure = data.get("failure")
        return cls(
            data["hash"], data["attempt"], data["order_id"], data["payment_id"],
            data["reservation_id"], data["currency"],
            tuple(OrderItemRecord.from_json(i) for i in data["items"]), data["shipping"],
            data["total_minor"], data.get("card_token"),
            SagaFailure.from_json(failure) if failure is not None else None,
            data.get("retryable", False))


@dataclass(frozen=True)
class CancelSagaState:
    """The data of a cancel_order saga: the stock to give back and why the
    order was cancelled (the refunds' reason)."""

    reservation_id: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"reservation_id": self.reservation_id, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CancelSagaState:
        return cls(data["reservation_id"], data["reason"])


SagaState = OrderSagaState | CancelSagaState


def saga_state_from_json(kind: str, data: dict[str, Any]) -> SagaState:
    """The state a saga of `kind` keeps in its row's data."""
    if kind == CREATE_ORDER:
        return OrderSagaState.from_json(data)
    if kind == CANCEL_ORDER:
        return CancelSagaState.from_json(data)
    raise ValueError(f"no saga kind {kind!r}")


@dataclass(frozen=True)
class SagaRecord:
    saga_id: str
    kind: str
    state: str  # running | compensating | completed | compensated
    user_id: str
    order_id: str
    request_id: str
    data: SagaState
    steps: list[dict[str, Any]]
    failure_reason: str
    attempts: int
    lease_until: datetime
    created_at: datetime
    updated_at: datetime

    @property
    def placing(self) -> OrderSagaState:
        """The data of a create_order saga (TypeError for another kind)."""
        if not isinstance(self.data, OrderSagaState):
            raise TypeError(f"saga {self.saga_id} is a {self.kind}, not a {CREATE_ORDER}")
        return self.data

    @property
    def cancelling(self) -> CancelSagaState:
        """The data of a cancel_order saga (TypeError for another kind)."""
        if not isinstance(self.data, CancelSagaState):
            raise TypeError(f"saga {self.saga_id} is a {self.kind}, not a {CANCEL_ORDER}")
        return self.data

    def done(self, step: str) -> bool:
        """Was `step` done in the current attempt (since the last restart)?"""
        found = False
        for s in self.steps:
            if s["name"] == "restart":
                found = False
            elif s["name"] == step and s["outcome"] == "done":
                found = True
        return found
