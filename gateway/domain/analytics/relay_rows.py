"""Events as ClickHouse rows: what the relay inserts for one batch.

Every event becomes one `domain_events` row. Order facts come from the
order events alone, so analytics can be rebuilt from the event store:
OrderPlaced gives an `orders` row and one `order_lines` row per item with
sign +1; OrderCancelled repeats them with sign -1 and the ORIGINAL placement
time and amounts, so a day's or a category's sums net the cancellation out
(`sum(sign * total_minor)`).

Rows are a pure function of the events: re-reading the same range gives the
same rows in the same order, which is what makes a re-insert under the same
deduplication token a no-op.

Nothing personal goes to ClickHouse: the PII envelope stays behind in
PostgreSQL, and the user id lives only in the `user_id` column (not in the
payload JSON), so erasure can anonymise it with one ALTER ... UPDATE.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.records.events import ENVELOPE, StoredEvent
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS, Table
from gateway.storage.eventstore.pii import envelope_of

# Insert order: the raw events first, then the facts derived from them. Rows
# are tuples in each table's column order.
TABLES: tuple[Table, ...] = (DOMAIN_EVENTS, ORDERS, ORDER_LINES)

# Appended by erasure on the user's stream; the relay anonymises the user's
# ClickHouse rows once the batch holding it is inserted.
USER_ERASED = "UserErased"
USER_STREAM = "user-"
PLACED = "OrderPlaced"
CANCELLED = "OrderCancelled"
_SIGNS = {PLACED: 1, CANCELLED: -1}


@dataclass
class BatchRows:
    # By table name.
    by_table: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t.name: [] for t in TABLES})
    # Users whose UserErased event is in the batch, in event order.
    erased_users: list[str] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(rows) for rows in self.by_table.values())


def user_of(event: StoredEvent) -> str:
    """The user an event is about: the payload's user_id, its envelope's
    owner, or the user of a "user-<id>" stream; "" when none."""
    user = event.payload.get("user_id")
    if isinstance(user, str) and user:
        return user
    env = envelope_of(event.payload)
    if env is not None:
        return str(env["user_id"])
    if event.stream_id.startswith(USER_STREAM):
        return event.stream_id[len(USER_STREAM):]
    return ""


# Personal fields that events written before the PII envelope carried in
# clear (erasure scrubs them from PostgreSQL, see erasure_store); ClickHouse
# never receives them, so an erasure there only has ids to anonymise.
CLEAR_PII = frozenset({"email", "display_name", "shipping"})
_NOT_KEPT = CLEAR_PII | {ENVELOPE, "user_id"}


def public_payload(payload: Mapping[str, Any]) -> str:
    """The payload as ClickHouse keeps it: no envelope, no personal field, no
    user id, keys sorted (the same event always gives the same text)."""
    kept = {k: v for k, v in payload.items() if k not in _NOT_KEPT}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _time(value: Any, fallback: datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else fallback


def _order_facts(out: BatchRows, keyspace: str, shard: int, event: StoredEvent,
                 user: str) -> None:
    p = event.payload
    items = p.get("items")
    # An OrderCancelled written before cancellations carried the order's
    # amounts cannot be netted out; its domain_events row still records it.
    if not isinstance(items, list) or "currency" not in p or "total_minor" not in p:
        return
    sign = _SIGNS[event.event_type]
    placed_at = _time(p.get("placed_at") if sign < 0 else p.get("created_at"), event.created_at)
    order_id, currency = str(p["order_id"]), str(p["currency"])
    out.by_table[ORDERS.name].append((
        order_id, user, placed_at, currency, int(p["total_minor"]), len(items), sign,
        keyspace, shard, event.position))
    for line, item in enumerate(items):
        quantity = int(item["quantity"])
        out.by_table[ORDER_LINES.name].append((
            order_id, line, user, placed_at, currency, str(item["sku"]),
            str(item.get("title", "")), str(item.get("category", "")), quantity,
            quantity * int(item["unit_price_minor"]), sign, keyspace, shard, event.position))


def rows_of(keyspace: str, shard: int, events: Sequence[StoredEvent]) -> BatchRows:
    out = BatchRows()
    for e in events:
        user = user_of(e)
        out.by_table[DOMAIN_EVENTS.name].append((
            keyspace, shard, e.commit, e.position, e.event_id, e.stream_id, e.stream_revision,
            e.event_type, e.created_at, user, public_payload(e.payload)))
        if e.event_type in _SIGNS:
            _order_facts(out, keyspace, shard, e, user)
        elif e.event_type == USER_ERASED and user:
            out.erased_users.append(user)
    return out
