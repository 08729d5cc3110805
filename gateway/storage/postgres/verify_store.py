"""SQL of the cross-store verification (gateway/domain/verify/), on one
database each: reads only, in the caller's connection.

The event checksum is the one storage/clickhouse/verify.py computes: the
sum of the first 60 bits of md5(event id as text), order-independent, so
the same set of events gives the same number in both stores.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from asyncpg.transaction import Transaction

from gateway.records.events import Cursor
from gateway.records.verify import EventWindow
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.projection_store import generation_table
from gateway.storage.postgres.range_map import served

# An event's 60-bit share of the checksum (ClickHouse: clickhouse/verify.py).
EVENT_HASH = "('x' || left(md5(event_id::text), 15))::bit(60)::bigint"
ORDER_EVENTS = ("OrderPlaced", "OrderCancelled")
# The events the relay turns into orders/order_lines rows (relay_rows._order_facts).
_HAS_ORDER_FACTS = ("event_type = ANY($5::text[]) AND jsonb_typeof(payload -> 'items') = 'array' "
                    "AND payload ? 'currency' AND payload ? 'total_minor'")


def snapshot(conn: asyncpg.Connection) -> Transaction:
    """A read-only transaction whose statements all see one moment."""
    return conn.transaction(isolation="repeatable_read", readonly=True)


def _sampled(fraction: float, column: str) -> str:
    """A condition keeping about `fraction` of rows, by a hash of `column`
    (a stable pick within one statement; a new seed each run)."""
    if fraction >= 1.0:
        return "true"
    return f"(('x' || left(md5({column} || $seed), 8))::bit(32)::bigint < {int(fraction * 2**32)})"


def _bind_seed(sql: str, seed: str, args: list[Any]) -> str:
    if "$seed" not in sql:
        return sql
    args.append(seed)
    return sql.replace("$seed", f"${len(args)}")


# -- events ------------------------------------------------------------------

async def position_span(conn: asyncpg.Connection, upto: Cursor) -> tuple[int, int] | None:
    """The least and greatest position of the events still held at or below
    `upto` (None: none)."""
    row = await conn.fetchrow(
        """SELECT min(position) AS lo, max(position) AS hi FROM events
           WHERE (tx_id, position) <= ($1::text::xid8, $2) AND moved_from IS NULL""",
        str(upto.commit), upto.position)
    if row is None or row["lo"] is None:
        return None
    return int(row["lo"]), int(row["hi"])


async def event_windows(conn: asyncpg.Connection, upto: Cursor, lo: int, hi: int,
                        width: int) -> list[EventWindow]:
    """Per bucket of `width` positions within [lo, hi], the events at or
    below `upto` that were written here (not copied by a move): count,
    checksum, and the orders and order_lines rows the relay makes of them."""
    rows = await conn.fetch(
        f"""SELECT position / $6 AS bucket, count(*) AS n, sum({EVENT_HASH}) AS checksum,
                   count(*) FILTER (WHERE {_HAS_ORDER_FACTS}) AS orders,
                   coalesce(sum(jsonb_array_length(payload -> 'items'))
                            FILTER (WHERE {_HAS_ORDER_FACTS}), 0) AS lines
            FROM events
            WHERE (tx_id, position) <= ($1::text::xid8, $2) AND position BETWEEN $3 AND $4
              AND moved_from IS NULL
            GROUP BY 1 ORDER BY 1""",
        str(upto.commit), upto.position, lo, hi, list(ORDER_EVENTS), width)
    return [EventWindow(int(r["bucket"]), int(r["n"]), int(r["checksum"]), int(r["orders"]),
                   int(r["lines"])) for r in rows]


async def event_ids(conn: asyncpg.Connection, upto: Cursor, lo: int, hi: int
                    ) -> dict[str, int]:
    """event id -> position of the events at or below `upto` in [lo, hi]."""
    rows = await conn.fetch(
        """SELECT event_id::text AS id, position FROM events
           WHERE (tx_id, position) <= ($1::text::xid8, $2) AND position BETWEEN $3 AND $4
             AND moved_from IS NULL""", str(upto.commit), upto.position, lo, hi)
    return {str(r["id"]): int(r["position"]) for r in rows}


# -- projections -------------------------------------------------------------

async def projection_cursor(conn: asyncpg.Connection, projection: str, keyspace: str,
                            shard: int) -> tuple[int, Cursor] | None:
    """(live generation, its checkpoint on that source shard); None before
    the projection's first batch from it."""
    row = await conn.fetchrow(
        """SELECT generation, commit, position FROM projection_checkpoints
           JOIN projection_generations USING (projection, generation)
           WHERE projection = $1 AND source_keyspace = $2 AND shard = $3""",
        projection, keyspace, shard)
    if row is None:
        return None
    return int(row["generation"]), Cursor(int(row["commit"]), int(row["position"]))


async def users_behind(conn: asyncpg.Connection, after: Cursor) -> set[str]:
    """Users with an order event on this shard the projection has not
    applied (after `after`, committed or not yet visible to its reader)."""
    rows = await conn.fetch(
        """SELECT DISTINCT coalesce(e.payload ->> 'user_id', o.user_id) AS user_id
           FROM events e LEFT JOIN orders o ON o.order_id = e.payload ->> 'order_id'
           WHERE e.event_type = ANY($3::text[]) AND (e.tx_id, e.position) > ($1::text::xid8, $2)
             AND e.moved_from IS NULL""",
        str(after.commit), after.position, list(ORDER_EVENTS))
    return {str(r["user_id"]) for r in rows if r["user_id"] is not None}


async def skus_behind(conn: asyncpg.Connection, after: Cursor) -> set[str]:
    """Skus of order events on this shard after `after` (a projection
    applying them has not counted them yet)."""
    rows = await conn.fetch(
        """SELECT DISTINCT i.sku FROM events e
           JOIN order_items i ON i.order_id = e.payload ->> 'order_id'
           WHERE e.event_type = ANY($3::text[]) AND (e.tx_id, e.position) > ($1::text::xid8, $2)
             AND e.moved_from IS NULL""",
        str(after.commit), after.position, list(ORDER_EVENTS))
    return {str(r["sku"]) for r in rows}


# (order_count, cancelled_count, spent_minor) per (user, currency).
UserTotals = dict[tuple[str, str], tuple[int, int, int]]


async def sample_users(conn: asyncpg.Connection, ranges: Sequence[KeyRange], fraction: float,
                       seed: str) -> list[str]:
    """Users of this shard's ranges with orders or a summary row, about
    `fraction` of them."""
    where, args = served(list(ranges), 1)
    sql = _bind_seed(
        f"""SELECT user_id FROM users u WHERE {where} AND {_sampled(fraction, 'user_id')}
              AND (EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.user_id)
                   OR EXISTS (SELECT 1 FROM user_order_summary s WHERE s.user_id = u.user_id))""",
        seed, args)
    return [str(r["user_id"]) for r in await conn.fetch(sql, *args)]


async def summary_rows(conn: asyncpg.Connection, users: Sequence[str]) -> UserTotals:
    rows = await conn.fetch(
        """SELECT user_id, currency, order_count, cancelled_count, spent_minor
           FROM user_order_summary WHERE user_id = ANY($1::text[])""", list(users))
    return {(r["user_id"], r["currency"]): (int(r["order_count"]), int(r["cancelled_count"]),
                                           int(r["spent_minor"])) for r in rows}


async def summary_recomputed(conn: asyncpg.Connection, users: Sequence[str]) -> UserTotals:
    """What user_order_summary should hold, from the orders table."""
    rows = await conn.fetch(
        """SELECT user_id, currency,
                  count(*) FILTER (WHERE status <> 'cancelled') AS order_count,
                  count(*) FILTER (WHERE status = 'cancelled') AS cancelled_count,
                  coalesce(sum(total_minor) FILTER (WHERE status <> 'cancelled'), 0) AS spent
           FROM orders WHERE user_id = ANY($1::text[]) GROUP BY 1, 2""", list(users))
    return {(r["user_id"], r["currency"]): (int(r["order_count"]), int(r["cancelled_count"]),
                                           int(r["spent"])) for r in rows}


async def erased_users(conn: asyncpg.Connection, generation: int, users: Sequence[str]
                       ) -> set[str]:
    rows = await conn.fetch(
        f"SELECT user_id FROM {generation_table('user_order_summary_erased', generation)} "
        "WHERE user_id = ANY($1::text[])", list(users))
    return {str(r["user_id"]) for r in rows}


# (units, orders, revenue per currency) per sku.
SkuTotals = dict[str, tuple[int, int, dict[str, int]]]


async def sample_sale_skus(conn: asyncpg.Connection, fraction: float, seed: str) -> list[str]:
    """Catalog: skus with a product_sales row, about `fraction` of them."""
    args: list[Any] = []
    sql = _bind_seed(f"SELECT sku FROM product_sales WHERE {_sampled(fraction, 'sku')}",
                     seed, args)
    return [str(r["sku"]) for r in await conn.fetch(sql, *args)]


async def sample_sold_skus(conn: asyncpg.Connection, fraction: float, seed: str) -> list[str]:
    """Commerce shard: skus of order lines, about `fraction` of them (the
    same pick as sample_sale_skus for the same seed)."""
    args: list[Any] = []
    sql = _bind_seed(f"SELECT DISTINCT sku FROM order_items WHERE {_sampled(fraction, 'sku')}",
                     seed, args)
    return [str(r["sku"]) for r in await conn.fetch(sql, *args)]


async def sales_rows(conn: asyncpg.Connection, skus: Sequence[str]) -> SkuTotals:
    rows = await conn.fetch(
        "SELECT sku, units, orders, revenue_minor::text AS revenue FROM product_sales "
        "WHERE sku = ANY($1::text[])", list(skus))
    return {str(r["sku"]): (int(r["units"]), int(r["orders"]), {
        k: int(v) for k, v in json.loads(r["revenue"]).items()}) for r in rows}


async def sales_recomputed(conn: asyncpg.Connection, ranges: Sequence[KeyRange],
                           skus: Sequence[str]) -> SkuTotals:
    """This shard's share of product_sales, from its orders that stand (the
    orders of the ranges it serves: a move's copies count where served)."""
    where, args = served(list(ranges), 2)
    rows = await conn.fetch(
        f"""SELECT i.sku, o.currency, sum(i.quantity) AS units, count(DISTINCT o.order_id) AS n,
                   sum(i.quantity * i.unit_price_minor) AS revenue
            FROM (SELECT * FROM orders WHERE {where}) o JOIN order_items i USING (order_id)
            WHERE o.status <> 'cancelled' AND i.sku = ANY($1::text[])
            GROUP BY 1, 2""", list(skus), *args)
    out: SkuTotals = {}
    for r in rows:
        units, orders, revenue = out.get(r["sku"], (0, 0, {}))
        revenue[r["currency"]] = int(r["revenue"])
        out[r["sku"]] = (units + int(r["units"]), orders + int(r["n"]), revenue)
    return out


# -- inventory ---------------------------------------------------------------

async def reserved_mismatches(conn: asyncpg.Connection, fraction: float, seed: str
                              ) -> tuple[int, list[tuple[str, int, int]]]:
    """(skus compared, [(sku, stock.reserved, units of held reservations)]
    where they differ); a held sku without a stock row counts reserved 0."""
    args: list[Any] = []
    sql = _bind_seed(
        f"""WITH held AS (
                SELECT i ->> 'sku' AS sku, sum((i ->> 'quantity')::bigint) AS units
                FROM reservations r, jsonb_array_elements(r.items) i
                WHERE r.state = 'held' GROUP BY 1),
            compared AS (
                SELECT coalesce(s.sku, h.sku) AS sku, coalesce(s.reserved, 0) AS reserved,
                       coalesce(h.units, 0) AS units
                FROM stock s FULL JOIN held h ON h.sku = s.sku)
            SELECT sku, reserved, units FROM compared WHERE {_sampled(fraction, 'sku')}""",
        seed, args)
    rows = await conn.fetch(sql, *args)
    return len(rows), [(str(r["sku"]), int(r["reserved"]), int(r["units"]))
                       for r in rows if r["reserved"] != r["units"]]


async def on_hand_mismatches(conn: asyncpg.Connection, fraction: float, seed: str
                             ) -> tuple[int, list[tuple[str, int, int]]]:
    """(skus whose stock stream is complete from its last StockSet on,
    [(sku, on_hand from the events, stock.on_hand)] where they differ).

    on_hand = the last StockSet + StockAdjusted deltas - StockCommitted +
    StockReturned units after it. A stream is complete when every revision
    from that StockSet to its head is still stored (retention may have
    removed older events; then the sku is not compared)."""
    args: list[Any] = []
    sql = _bind_seed(
        f"""WITH last_set AS (
                SELECT DISTINCT ON (stream_id) stream_id, payload ->> 'sku' AS sku, position,
                       stream_revision, (payload ->> 'on_hand')::bigint AS on_hand
                FROM events WHERE event_type = 'StockSet' AND stream_id LIKE 'stock-%'
                ORDER BY stream_id, position DESC),
            complete AS (
                SELECT l.* FROM last_set l JOIN streams s USING (stream_id)
                WHERE {_sampled(fraction, 'l.sku')}
                  AND (SELECT count(*) FROM events e WHERE e.stream_id = l.stream_id
                         AND e.stream_revision >= l.stream_revision)
                      = s.revision - l.stream_revision + 1),
            deltas AS (
                SELECT c.sku, sum((e.payload ->> 'delta')::bigint) AS units
                FROM complete c JOIN events e ON e.stream_id = c.stream_id
                WHERE e.event_type = 'StockAdjusted' AND e.position > c.position GROUP BY 1),
            moves AS (
                SELECT c.sku, sum(x.units) AS units
                FROM (SELECT i ->> 'sku' AS sku, e.position,
                             CASE e.event_type WHEN 'StockReturned' THEN 1 ELSE -1 END
                             * (i ->> 'quantity')::bigint AS units
                      FROM events e CROSS JOIN LATERAL jsonb_array_elements(e.payload -> 'items') i
                      WHERE e.event_type IN ('StockCommitted', 'StockReturned')) x
                JOIN complete c ON c.sku = x.sku AND x.position > c.position GROUP BY 1)
            SELECT c.sku, c.on_hand + coalesce(d.units, 0) + coalesce(m.units, 0) AS expected,
                   s.on_hand AS found
            FROM complete c JOIN stock s ON s.sku = c.sku
            LEFT JOIN deltas d ON d.sku = c.sku LEFT JOIN moves m ON m.sku = c.sku""",
        seed, args)
    rows = await conn.fetch(sql, *args)
    return len(rows), [(str(r["sku"]), int(r["expected"]), int(r["found"]))
                       for r in rows if r["expected"] != r["found"]]


@dataclass(frozen=True)
class HeldReservation:
    reservation_id: str
    saga_id: str
    saga_shard_key: str


async def held_saga_reservations(conn: asyncpg.Connection, fraction: float, seed: str
                                 ) -> list[HeldReservation]:
    args: list[Any] = []
    sql = _bind_seed(
        f"""SELECT reservation_id, saga_id, saga_shard_key FROM reservations
            WHERE state = 'held' AND saga_id <> '' AND {_sampled(fraction, 'reservation_id')}""",
        seed, args)
    return [HeldReservation(r["reservation_id"], r["saga_id"], r["saga_shard_key"])
            for r in await conn.fetch(sql, *args)]


async def reservation_states(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT reservation_id, state FROM reservations WHERE reservation_id = ANY($1::text[])",
        list(ids))
    return {str(r["reservation_id"]): str(r["state"]) for r in rows}


async def saga_states(conn: asyncpg.Connection, ids: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT saga_id, state FROM sagas WHERE saga_id = ANY($1::text[])",
                            list(ids))
    return {str(r["saga_id"]): str(r["state"]) for r in rows}


async def pivoted_reservations(conn: asyncpg.Connection, fraction: float, seed: str
                               ) -> dict[str, str]:
    """saga id -> reservation id of running order sagas past their pivot
    (their order exists): each must still hold a reservation to commit."""
    args: list[Any] = []
    sql = _bind_seed(
        f"""SELECT s.saga_id, s.data ->> 'reservation_id' AS reservation_id FROM sagas s
            WHERE s.state = 'running' AND s.data ? 'reservation_id'
              AND EXISTS (SELECT 1 FROM orders o WHERE o.order_id = s.order_id)
              AND {_sampled(fraction, 's.saga_id')}""", seed, args)
    return {str(r["saga_id"]): str(r["reservation_id"]) for r in await conn.fetch(sql, *args)}


# -- housekeeping ------------------------------------------------------------

async def table_rows(conn: asyncpg.Connection, tables: Sequence[str], *, exact: bool
                     ) -> dict[str, int]:
    """Rows per table: counted (`exact`: a scan of each) or as the planner
    estimates them (no scan; -1 before the first analyze counts 0). Tables
    this database lacks are left out."""
    rows = await conn.fetch(
        """SELECT c.relname, greatest(c.reltuples, 0)::bigint AS n FROM pg_class c
           WHERE c.relkind = 'r' AND c.relname = ANY($1::text[])
             AND c.relnamespace = 'public'::regnamespace""", list(tables))
    found = {str(r["relname"]): int(r["n"]) for r in rows}
    if exact:
        for table in found:  # names from pg_class, matched against ours
            found[table] = int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
    return found


async def has_table(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def idempotency_past(conn: asyncpg.Connection, age_s: float) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM idempotency_keys "
        "WHERE created_at < now() - make_interval(secs => $1)", age_s))


async def finished_sagas_past(conn: asyncpg.Connection, age_s: float) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM sagas WHERE state IN ('completed', 'compensated') "
        "AND updated_at < now() - make_interval(secs => $1)", age_s))


async def stuck_sagas(conn: asyncpg.Connection, age_s: float, limit: int
                      ) -> tuple[int, list[tuple[str, str, str]]]:
    """(how many unfinished sagas' lease ran out more than `age_s` ago,
    up to `limit` of them as (saga id, state, lease_until))."""
    rows = await conn.fetch(
        """SELECT saga_id, state, lease_until::text AS lease, count(*) OVER () AS total
           FROM sagas WHERE state IN ('running', 'compensating')
             AND lease_until < now() - make_interval(secs => $1)
           ORDER BY lease_until LIMIT $2""", age_s, limit)
    total = int(rows[0]["total"]) if rows else 0
    return total, [(str(r["saga_id"]), str(r["state"]), str(r["lease"])) for r in rows]


async def email_rows(conn: asyncpg.Connection, older_than_s: float, fraction: float, seed: str
                     ) -> list[tuple[str, str]]:
    """(email, user id) of lookup rows older than `older_than_s` (a row is
    written just before its user: a younger one may be a claim in flight)."""
    args: list[Any] = [older_than_s]
    sql = _bind_seed(
        f"""SELECT email, user_id FROM user_emails
            WHERE created_at < now() - make_interval(secs => $1)
              AND {_sampled(fraction, 'email')}""", seed, args)
    return [(str(r["email"]), str(r["user_id"])) for r in await conn.fetch(sql, *args)]


async def existing_users(conn: asyncpg.Connection, users: Sequence[str]) -> set[str]:
    rows = await conn.fetch("SELECT user_id FROM users WHERE user_id = ANY($1::text[])",
                            list(users))
    return {str(r["user_id"]) for r in rows}


# -- range maps --------------------------------------------------------------

async def owned_ranges(conn: asyncpg.Connection) -> list[tuple[bytes, bytes | None]]:
    """shard_ranges as (start, end or None), in keyspace id order."""
    rows = await conn.fetch("SELECT start_ksid, end_ksid FROM shard_ranges ORDER BY start_ksid")
    return [(bytes(r["start_ksid"]), bytes(r["end_ksid"]) if r["end_ksid"] is not None
             else None) for r in rows]
