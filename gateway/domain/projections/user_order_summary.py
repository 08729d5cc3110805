"""user_order_summary: each user's orders, summed, on the user's own shard.

Fed by the order events of the same commerce shard (everything of a user
lives there), so a batch and its checkpoint are one local transaction.
Per user and currency: orders placed net of cancellations, cancellations,
the amount spent on the orders still standing, and the newest order placed.
A UserErased event forgets the user and ignores the user's later events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.records.events import StoredEvent
from gateway.storage.postgres import projection_store as store
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.projection_store import UserOrder, UserTotals


@dataclass
class _Change:
    """What one batch adds to a (user, currency) row."""

    orders: int = 0
    cancelled: int = 0
    spent_minor: int = 0
    last: tuple[datetime, str] | None = None


def _placed(e: StoredEvent) -> UserOrder:
    p: dict[str, Any] = e.payload
    created = p.get("created_at")
    return UserOrder(p["order_id"], p["user_id"], p["currency"], int(p["total_minor"]),
                     datetime.fromisoformat(created) if created else e.created_at)


def _erased_user(e: StoredEvent) -> str:
    user: str = e.payload.get("user_id") or e.stream_id.removeprefix("user-")
    return user


class UserOrderSummary:
    name: str = store.USER_ORDER_SUMMARY
    description: str = ("Per user: orders placed net of cancellations, cancellations, amount spent "
                   "per currency, newest order (UserService.GetUserSummary)")
    view: str = store.USER_ORDER_SUMMARY
    tables: tuple[str, ...] = store.USER_ORDER_SUMMARY_TABLES
    event_types: tuple[str, ...] = ("OrderPlaced", "OrderCancelled", "UserErased")

    def __init__(self, commerce: Keyspace) -> None:
        self._commerce = commerce

    def sources(self) -> list[Shard]:
        return list(self._commerce.shards)

    def target(self, source: Shard) -> Shard:
        return source

    async def apply(self, conn: asyncpg.Connection, generation: int,
                    events: Sequence[StoredEvent]) -> None:
        # An erasure anywhere in the batch settles all of the user's events in
        # it: the earlier ones would be forgotten, the later ones ignored.
        erased: dict[str, datetime] = {}
        for e in events:
            if e.event_type == "UserErased":
                erased.setdefault(_erased_user(e), e.created_at)
        placed = {o.order_id: o for o in (_placed(e) for e in events
                                          if e.event_type == "OrderPlaced")
                  if o.user_id not in erased}
        cancels = [e.payload["order_id"] for e in events if e.event_type == "OrderCancelled"]
        if erased:
            await store.erase_summary_users(conn, generation, sorted(erased.items()))
        if placed:
            gone = await store.erased_summary_users(
                conn, generation, sorted({o.user_id for o in placed.values()}))
            placed = {k: o for k, o in placed.items() if o.user_id not in gone}
        new = (await store.count_user_orders(conn, generation, list(placed.values()))
               if placed else set())
        cancelled = (await store.cancel_user_orders(conn, generation, cancels)
                     if cancels else [])
        changes: dict[tuple[str, str], _Change] = {}
        for o in placed.values():
            if o.order_id in new:
                c = changes.setdefault((o.user_id, o.currency), _Change())
                c.orders += 1
                c.spent_minor += o.total_minor
                c.last = max(c.last or (o.placed_at, o.order_id), (o.placed_at, o.order_id))
        for user, currency, total in cancelled:
            c = changes.setdefault((user, currency), _Change())
            c.orders -= 1
            c.cancelled += 1
            c.spent_minor -= total
        if changes:
            await store.add_user_totals(conn, generation, [
                UserTotals(user, currency, c.orders, c.cancelled, c.spent_minor,
                           c.last[1] if c.last else None, c.last[0] if c.last else None)
                for (user, currency), c in sorted(changes.items())])
