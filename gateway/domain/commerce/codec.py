"""Orders and payments as JSON, for idempotency records and event payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.records.commerce import OrderItemRecord, OrderRecord, PaymentRecord


def order_json(o: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "user_id": o.user_id, "status": o.status,
        "currency": o.currency, "total_minor": o.total_minor, "shipping": o.shipping,
        "payment_id": o.payment_id, "saga_id": o.saga_id, "version": o.version,
        "created_at": o.created_at.isoformat(), "updated_at": o.updated_at.isoformat(),
        "items": [i.to_json() for i in o.items],
    }


def order_from_json(d: dict[str, Any]) -> OrderRecord:
    return OrderRecord(
        d["order_id"], d["user_id"], d["status"], d["currency"], d["total_minor"],
        d["shipping"], d["payment_id"], d["saga_id"], d["version"],
        datetime.fromisoformat(d["created_at"]), datetime.fromisoformat(d["updated_at"]),
        tuple(OrderItemRecord.from_json(i) for i in d["items"]),
    )


def payment_json(p: PaymentRecord) -> dict[str, Any]:
    return {
        "payment_id": p.payment_id, "order_id": p.order_id, "user_id": p.user_id,
        "status": p.status, "currency": p.currency, "amount_minor": p.amount_minor,
        "captured_minor": p.captured_minor, "refunded_minor": p.refunded_minor,
        "provider_ref": p.provider_ref, "version": p.version,
        "created_at": p.created_at.isoformat(), "updated_at": p.updated_at.isoformat(),
    }


def payment_from_json(d: dict[str, Any]) -> PaymentRecord:
    return PaymentRecord(
        d["payment_id"], d["order_id"], d["user_id"], d["status"], d["currency"],
        d["amount_minor"], d["captured_minor"], d["refunded_minor"], d["provider_ref"],
        d["version"], datetime.fromisoformat(d["created_at"]),
        datetime.fromisoformat(d["updated_at"]),
    )
