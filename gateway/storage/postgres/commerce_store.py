"""SQL of the commerce keyspace: users, the email lookup, orders, items, payments.

Every function runs on one shard inside the caller's transaction; routing is
decided above. Rows carry the keyspace id of their user (8 bytes).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

import asyncpg

from gateway.records.commerce import OrderItemRecord, OrderRecord, PaymentRecord, UserRecord
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.pool import one
from gateway.storage.postgres.range_map import served

USER_COLUMNS = "user_id, email, display_name, version, created_at, updated_at, erased_at"
ORDER_COLUMNS = ("order_id, user_id, status, currency, total_minor, shipping, payment_id, saga_id, "
                 "version, created_at, updated_at")
PAYMENT_COLUMNS = ("payment_id, order_id, user_id, status, currency, amount_minor, captured_minor, "
                   "refunded_minor, provider_ref, version, created_at, updated_at")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _user(row: asyncpg.Record) -> UserRecord:
    return UserRecord(**dict(row))


def _order(row: asyncpg.Record, items: tuple[OrderItemRecord, ...] = ()) -> OrderRecord:
    data = dict(row)
    data["shipping"] = _json(data["shipping"])
    return OrderRecord(**data, items=items)


def _payment(row: asyncpg.Record) -> PaymentRecord:
    return PaymentRecord(**dict(row))


# -- users --------------------------------------------------------------------


async def get_user(conn: asyncpg.Connection, user_id: str, *, lock: bool = False
                   ) -> UserRecord | None:
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM users WHERE user_id = $1{' FOR UPDATE' if lock else ''}",
        user_id)
    return _user(row) if row else None


async def insert_user(conn: asyncpg.Connection, user_id: str, ksid: bytes, email: str,
                      display_name: str) -> UserRecord | None:
    row = await conn.fetchrow(
        f"""INSERT INTO users (user_id, keyspace_id, email, display_name)
            VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING
            RETURNING {USER_COLUMNS}""",
        user_id, ksid, email, display_name)
    return _user(row) if row else None


async def update_user(conn: asyncpg.Connection, user_id: str, email: str, display_name: str
                      ) -> UserRecord:
    row = await conn.fetchrow(
        f"""UPDATE users SET email = $2, display_name = $3, version = version + 1,
                             updated_at = now()
            WHERE user_id = $1 RETURNING {USER_COLUMNS}""",
        user_id, email, display_name)
    return _user(one(row))


async def email_owner(conn: asyncpg.Connection, email: str, *, lock: bool = False) -> str | None:
    value = await conn.fetchval(
        f"SELECT user_id FROM user_emails WHERE email = $1{' FOR UPDATE' if lock else ''}", email)
    return str(value) if value is not None else None


async def claim_email(conn: asyncpg.Connection, email: str, ksid: bytes, user_id: str) -> None:
    """Point the email at the user (insert, or take over an orphan row)."""
    await conn.execute(
        """INSERT INTO user_emails (email, keyspace_id, user_id) VALUES ($1, $2, $3)
           ON CONFLICT (email) DO UPDATE SET user_id = $3, created_at = now()""",
        email, ksid, user_id)


async def restore_email(conn: asyncpg.Connection, email: str, ksid: bytes,
                        user_id: str) -> None:
    """Point the email at the user unless a row for it exists."""
    await conn.execute(
        """INSERT INTO user_emails (email, keyspace_id, user_id) VALUES ($1, $2, $3)
           ON CONFLICT (email) DO NOTHING""", email, ksid, user_id)


async def drop_email(conn: asyncpg.Connection, email: str, user_id: str) -> None:
    await conn.execute("DELETE FROM user_emails WHERE email = $1 AND user_id = $2",
                       email, user_id)


# -- orders -------------------------------------------------------------------


_INSERT_ORDER = """o AS (
    INSERT INTO orders (order_id, keyspace_id, user_id, status, currency, total_minor, shipping,
                        payment_id, saga_id, created_at, updated_at)
    VALUES ($7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16, $16)),
items AS (
    INSERT INTO order_items (order_id, line, keyspace_id, sku, title, quantity, unit_price_minor,
                             category)
    SELECT $7, i.n - 1, $8, i.sku, i.title, i.quantity, i.price, i.category
    FROM unnest($17::text[], $18::text[], $19::bigint[], $20::bigint[], $21::text[])
         WITH ORDINALITY AS i(sku, title, quantity, price, category, n)),"""
# What a plain insert gives recorder.append_after: changed, nothing to add.
_INSERTED = "SELECT true AS changed, '{}'::jsonb AS event_fields"


async def insert_order(conn: asyncpg.Connection, order: OrderRecord, ksid: bytes,
                       placed: NewEvent, meta: EventMeta) -> None:
    """The order, its items and the event `placed`, in one statement (the
    items' foreign key is checked at its end, when the order row is there)."""
    items = order.items
    await recorder.append_after(
        conn, _INSERTED, (
            order.order_id, ksid, order.user_id, order.status, order.currency,
            order.total_minor, json.dumps(order.shipping), order.payment_id, order.saga_id,
            order.created_at, [it.sku for it in items], [it.title for it in items],
            [it.quantity for it in items], [it.unit_price_minor for it in items],
            [it.category for it in items]),
        [placed], meta, ksid, before=_INSERT_ORDER)


async def _items(conn: asyncpg.Connection, order_ids: list[str]
                 ) -> dict[str, tuple[OrderItemRecord, ...]]:
    rows = await conn.fetch(
        """SELECT order_id, sku, title, quantity, unit_price_minor, category FROM order_items
           WHERE order_id = ANY($1::text[]) ORDER BY order_id, line""", order_ids)
    grouped: dict[str, list[OrderItemRecord]] = {}
    for r in rows:
        grouped.setdefault(r["order_id"], []).append(
            OrderItemRecord(r["sku"], r["title"], r["quantity"], r["unit_price_minor"],
                            r["category"]))
    return {k: tuple(v) for k, v in grouped.items()}


async def orders_with_items(conn: asyncpg.Connection, rows: list[asyncpg.Record]
                            ) -> list[OrderRecord]:
    return await with_items(conn, [_order(r) for r in rows])


# One order and its items in one statement (one round trip, not two): the
# items as an array of anonymous records, in line order.
_ORDER_WITH_ITEMS = f"""SELECT {ORDER_COLUMNS}, ARRAY(
    SELECT ROW(i.sku, i.title, i.quantity, i.unit_price_minor, i.category)
      FROM order_items i WHERE i.order_id = orders.order_id ORDER BY i.line) AS items
  FROM orders WHERE order_id = $1"""


async def get_order(conn: asyncpg.Connection, order_id: str, *, lock: bool = False
                    ) -> OrderRecord | None:
    row = await conn.fetchrow(_ORDER_WITH_ITEMS + (" FOR UPDATE" if lock else ""), order_id)
    if row is None:
        return None
    data = dict(row)
    data["shipping"] = _json(data["shipping"])
    data["items"] = tuple(OrderItemRecord(*item) for item in data["items"])
    return OrderRecord(**data)


async def list_user_orders(conn: asyncpg.Connection, user_id: str, after: tuple[datetime, str]
                           | None, limit: int) -> list[OrderRecord]:
    if after is None:
        rows = await conn.fetch(
            f"""SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1
                ORDER BY created_at DESC, order_id DESC LIMIT $2""", user_id, limit)
    else:
        rows = await conn.fetch(
            f"""SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = $1
                  AND (created_at, order_id) < ($2, $3)
                ORDER BY created_at DESC, order_id DESC LIMIT $4""",
            user_id, after[0], after[1], limit)
    return await orders_with_items(conn, list(rows))


async def scan_orders(
    conn: asyncpg.Connection, status: str | None, start: datetime | None, end: datetime | None,
    after: tuple[datetime, str] | None, limit: int, ranges: list[KeyRange],
) -> list[OrderRecord]:
    """Orders of every user on this shard, newest first, for the admin scatter.

    Only those of `ranges` (what the range map the scatter routes by gives
    this shard): during a move the target holds a copy of a range it does
    not serve yet, and after it the source still holds the old one until
    cleanup; each order is counted on one shard only.

    Without their items: the merge keeps only a page of what all shards
    return, so items are read afterwards for the kept orders (with_items).
    """
    where, args = [], []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    condition, bounds = served(ranges, 1)
    where.append(condition)
    args.extend(bounds)

    if status is not None:
        where.append(f"status = {arg(status)}")
    if start is not None:
        where.append(f"created_at >= {arg(start)}")
    if end is not None:
        where.append(f"created_at < {arg(end)}")
    if after is not None:
        where.append(f"(created_at, order_id) < ({arg(after[0])}, {arg(after[1])})")
    rows = await conn.fetch(
        f"""SELECT {ORDER_COLUMNS} FROM orders WHERE {' AND '.join(where)}
            ORDER BY created_at DESC, order_id DESC LIMIT {arg(limit)}""", *args)
    return [_order(r) for r in rows]


async def with_items(conn: asyncpg.Connection, orders: list[OrderRecord]) -> list[OrderRecord]:
    """The orders (of this shard) with their items filled in."""
    items = await _items(conn, [o.order_id for o in orders])
    return [replace(o, items=items.get(o.order_id, ())) for o in orders]


async def set_order_status(conn: asyncpg.Connection, order_id: str, status: str,
                           payment_id: str | None = None) -> OrderRecord:
    row = await conn.fetchrow(
        f"""UPDATE orders SET status = $2, payment_id = coalesce($3, payment_id),
                              version = version + 1, updated_at = now()
            WHERE order_id = $1 RETURNING {ORDER_COLUMNS}""", order_id, status, payment_id)
    return (await orders_with_items(conn, [one(row)]))[0]


# -- payments -----------------------------------------------------------------


async def insert_payment(conn: asyncpg.Connection, p: PaymentRecord, ksid: bytes,
                         event: NewEvent, meta: EventMeta) -> None:
    """The payment and the event that records it, in one statement."""
    await recorder.append_after(
        conn, _INSERTED, (p.payment_id, ksid, p.order_id, p.user_id, p.status, p.currency,
                          p.amount_minor, p.provider_ref, p.created_at),
        [event], meta, ksid, before="""payment AS (
    INSERT INTO payments (payment_id, keyspace_id, order_id, user_id, status, currency,
                          amount_minor, provider_ref, created_at, updated_at)
    VALUES ($7, $8, $9, $10, $11, $12, $13, $14, $15, $15)),""")


async def get_payment(conn: asyncpg.Connection, payment_id: str, *, lock: bool = False
                      ) -> PaymentRecord | None:
    row = await conn.fetchrow(
        f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE payment_id = $1"
        f"{' FOR UPDATE' if lock else ''}", payment_id)
    return _payment(row) if row else None


async def order_payments(conn: asyncpg.Connection, order_id: str) -> list[PaymentRecord]:
    rows = await conn.fetch(
        f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 ORDER BY created_at, "
        "payment_id", order_id)
    return [_payment(r) for r in rows]


async def update_payment(conn: asyncpg.Connection, payment_id: str, status: str, captured: int,
                         refunded: int) -> PaymentRecord:
    row = await conn.fetchrow(
        f"""UPDATE payments SET status = $2, captured_minor = $3, refunded_minor = $4,
                                version = version + 1, updated_at = now()
            WHERE payment_id = $1 RETURNING {PAYMENT_COLUMNS}""",
        payment_id, status, captured, refunded)
    return _payment(one(row))
