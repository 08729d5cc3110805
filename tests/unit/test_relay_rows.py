"""Events as ClickHouse rows: the facts net out, nothing personal leaves."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gateway.domain.analytics.relay_rows import TABLES, public_payload, rows_of, user_of
from gateway.records.events import StoredEvent
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS, Table

PLACED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
CANCELLED_AT = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
ITEMS = [{"sku": "A", "title": "Lamp", "quantity": 2, "unit_price_minor": 1500,
          "category": "home"},
         {"sku": "B", "title": "Book", "quantity": 1, "unit_price_minor": 900,
          "category": "books"}]
ENVELOPE = {"user_id": "u1", "v": 1, "nonce": "bm9uY2U=", "ciphertext": "c2VjcmV0"}


def event(position: int, stream: str, kind: str, payload: dict[str, Any],
          at: datetime = PLACED_AT) -> StoredEvent:
    return StoredEvent(commit=100 + position, position=position, event_id=f"e{position}",
                       stream_id=stream, stream_revision=0, event_type=kind, payload=payload,
                       metadata={}, keyspace_id=None, created_at=at)


def placed() -> StoredEvent:
    return event(1, "order-o1", "OrderPlaced", {
        "order_id": "o1", "user_id": "u1", "currency": "EUR", "total_minor": 3900,
        "created_at": PLACED_AT.isoformat(), "items": ITEMS, "_pii": ENVELOPE})


def cancelled() -> StoredEvent:
    return event(2, "order-o1", "OrderCancelled", {
        "order_id": "o1", "reason": "r", "user_id": "u1", "currency": "EUR",
        "total_minor": 3900, "placed_at": PLACED_AT.isoformat(), "items": ITEMS},
        at=CANCELLED_AT)


def column(table: Table, row: tuple[Any, ...], name: str) -> Any:
    return row[table.column_names.index(name)]


def test_a_cancellation_repeats_the_placement_with_the_opposite_sign() -> None:
    rows = rows_of("commerce", 1, [placed(), cancelled()])
    orders = rows.by_table[ORDERS.name]
    assert [column(ORDERS, r, "sign") for r in orders] == [1, -1]
    # Same time and amounts, so any day's or category's sum nets to zero.
    for name in ("occurred_at", "total_minor", "currency", "items", "user_id"):
        assert column(ORDERS, orders[0], name) == column(ORDERS, orders[1], name)
    assert column(ORDERS, orders[1], "occurred_at") == PLACED_AT
    lines = rows.by_table[ORDER_LINES.name]
    assert sum(column(ORDER_LINES, r, "sign") * column(ORDER_LINES, r, "revenue_minor")
               for r in lines) == 0
    assert {(column(ORDER_LINES, r, "category"), column(ORDER_LINES, r, "revenue_minor"))
            for r in lines} == {("home", 3000), ("books", 900)}
    assert all(len(r) == len(t.column_names) for t in TABLES for r in rows.by_table[t.name])


def test_an_old_cancellation_without_amounts_is_only_an_event() -> None:
    old = event(3, "order-o2", "OrderCancelled", {"order_id": "o2", "reason": "r"})
    rows = rows_of("commerce", 0, [old])
    assert len(rows.by_table[DOMAIN_EVENTS.name]) == 1
    assert rows.by_table[ORDERS.name] == rows.by_table[ORDER_LINES.name] == []


def test_nothing_personal_goes_into_the_payload() -> None:
    text = public_payload({"order_id": "o1", "user_id": "u1", "_pii": ENVELOPE,
                           "shipping": {"line1": "1 Main St"}, "email": "a@b.c"})
    assert json.loads(text) == {"order_id": "o1"}


def test_the_same_events_always_give_the_same_rows() -> None:
    # A pending batch re-read after a crash must rebuild identical rows.
    one = rows_of("commerce", 0, [placed(), cancelled()])
    two = rows_of("commerce", 0, [placed(), cancelled()])
    assert one.by_table == two.by_table
    assert public_payload({"b": 1, "a": 2}) == public_payload({"a": 2, "b": 1})


def test_whose_event_it_is() -> None:
    assert user_of(placed()) == "u1"
    assert user_of(event(4, "order-o9", "OrderPaid", {"_pii": ENVELOPE})) == "u1"
    assert user_of(event(5, "user-u7", "UserUpdated", {})) == "u7"
    assert user_of(event(6, "order-o9", "OrderShipped", {"order_id": "o9"})) == ""


def test_user_erased_events_are_collected_in_order() -> None:
    rows = rows_of("commerce", 0, [
        event(7, "user-u1", "UserErased", {"user_id": "u1"}),
        event(8, "user-u2", "UserErased", {"user_id": "u2"})])
    assert rows.erased_users == ["u1", "u2"]
