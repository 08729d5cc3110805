"""SQL for projections: checkpoints, generations, and the read models' tables.

A projection's read model is a set of tables per generation, named
`<table>_g<N>`; readers read a view named after the projection that points at
the live generation. Each source shard's checkpoint is a row next to the read
model, moved by compare-and-set in the transaction that applies the batch.
Functions take a connection so the caller decides the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from gateway.records.events import Cursor


def generation_table(table: str, generation: int) -> str:
    """The physical table of one generation; `table` is one of our own names."""
    return f"{table}_g{int(generation)}"


@dataclass(frozen=True)
class Checkpoint:
    projection: str
    generation: int
    keyspace: str
    shard: int
    cursor: Cursor
    last_batch_at: datetime | None
    last_error: str


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(row["projection"], row["generation"], row["source_keyspace"],
                      row["shard"], Cursor(row["commit"], row["position"]),
                      row["last_batch_at"], row["last_error"])


_CHECKPOINT_COLUMNS = ("projection, generation, source_keyspace, shard, commit, position, "
                       "last_batch_at, last_error")


# -- checkpoints and generations ---------------------------------------------

async def live_checkpoint(conn: asyncpg.Connection, projection: str, keyspace: str,
                          shard: int) -> Checkpoint:
    """The live generation's checkpoint for one source shard, created at the
    first event when missing. Takes the generation row FOR SHARE, so it waits
    for a swap in progress and sees the generation the swap put in place."""
    async with conn.transaction():
        generation = await conn.fetchval(
            "SELECT generation FROM projection_generations WHERE projection = $1 FOR SHARE",
            projection)
        if generation is None:
            raise LookupError(f"projection {projection!r} has no generation (not migrated)")
        row = await conn.fetchrow(
            f"""INSERT INTO projection_checkpoints (projection, generation, source_keyspace, shard)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (projection, generation, source_keyspace, shard)
                DO UPDATE SET projection = EXCLUDED.projection
                RETURNING {_CHECKPOINT_COLUMNS}""",
            projection, generation, keyspace, shard)
    assert row is not None
    return _checkpoint(row)


async def live_checkpoints(conn: asyncpg.Connection, projection: str) -> list[Checkpoint]:
    """Every source shard's checkpoint of the live generation."""
    rows = await conn.fetch(
        f"""SELECT {_CHECKPOINT_COLUMNS} FROM projection_checkpoints
            JOIN projection_generations USING (projection, generation)
            WHERE projection = $1""", projection)
    return [_checkpoint(r) for r in rows]


async def advance(conn: asyncpg.Connection, projection: str, generation: int, keyspace: str,
                  shard: int, expected: Cursor, to: Cursor, applied: bool) -> bool:
    """Move a checkpoint from `expected` to `to`; False when it is not at
    `expected` any more (another runner moved it, or a swap retired the
    generation), and then the caller must roll back its batch. The row stays
    locked to the end of the caller's transaction, so two runners applying
    the same batch take turns and the second one finds the checkpoint moved."""
    status = await conn.execute(
        """UPDATE projection_checkpoints
           SET commit = $6, position = $7, updated_at = now(), last_error = '',
               last_batch_at = CASE WHEN $8 THEN now() ELSE last_batch_at END
           WHERE projection = $1 AND generation = $2 AND source_keyspace = $3 AND shard = $4
             AND (commit, position) = ($5::bigint, $9::bigint)""",
        projection, generation, keyspace, shard, expected.commit, to.commit, to.position,
        applied, expected.position)
    return bool(status == "UPDATE 1")


async def record_error(conn: asyncpg.Connection, projection: str, generation: int,
                       keyspace: str, shard: int, error: str) -> None:
    await conn.execute(
        """UPDATE projection_checkpoints SET last_error = $5, updated_at = now()
           WHERE projection = $1 AND generation = $2 AND source_keyspace = $3 AND shard = $4""",
        projection, generation, keyspace, shard, error)


async def live_generation(conn: asyncpg.Connection, projection: str, *, lock: bool = False
                          ) -> int:
    generation = await conn.fetchval(
        "SELECT generation FROM projection_generations WHERE projection = $1"
        + (" FOR UPDATE" if lock else ""), projection)
    if generation is None:
        raise LookupError(f"projection {projection!r} has no generation (not migrated)")
    return int(generation)


async def generation_cursors(conn: asyncpg.Connection, projection: str, generation: int
                             ) -> dict[tuple[str, int], Cursor]:
    """One generation's checkpoints, locked: a live runner that tries to move
    one of them waits until the caller's transaction ends."""
    rows = await conn.fetch(
        """SELECT source_keyspace, shard, commit, position FROM projection_checkpoints
           WHERE projection = $1 AND generation = $2
           ORDER BY source_keyspace, shard FOR UPDATE""", projection, generation)
    return {(r["source_keyspace"], r["shard"]): Cursor(r["commit"], r["position"])
            for r in rows}


async def _generation_tables(conn: asyncpg.Connection, tables: Sequence[str]
                             ) -> list[tuple[str, int]]:
    """The existing generation tables of `tables`: (name, generation)."""
    rows = await conn.fetch(
        """SELECT tablename FROM pg_tables
           WHERE schemaname = current_schema() AND tablename LIKE ANY($1::text[])""",
        [t.replace("_", "\\_") + "\\_g%" for t in tables])
    found = []
    for r in rows:
        name: str = r["tablename"]
        base, _, number = name.rpartition("_g")
        if base in tables and number.isdigit():
            found.append((name, int(number)))
    return found


async def prepare_generation(conn: asyncpg.Connection, projection: str, tables: Sequence[str],
                             live: int, sources: Sequence[tuple[str, int]]) -> int:
    """Empty tables for generation live+1, shaped like the live ones (indexes
    included), with checkpoints at the first event of every source shard.
    Leftovers of an interrupted rebuild (tables and checkpoints of any
    generation but the live one) go first."""
    await drop_generations(conn, projection, tables, keep=live)
    new = live + 1
    for table in tables:
        await conn.execute(
            f"CREATE TABLE {generation_table(table, new)} "
            f"(LIKE {generation_table(table, live)} INCLUDING ALL)")
    await conn.executemany(
        """INSERT INTO projection_checkpoints (projection, generation, source_keyspace, shard)
           VALUES ($1, $2, $3, $4)""",
        [(projection, new, keyspace, shard) for keyspace, shard in sources])
    return new


async def drop_generations(conn: asyncpg.Connection, projection: str, tables: Sequence[str],
                           keep: int) -> None:
    """Drop every generation of the projection's tables but `keep`, and their checkpoints."""
    for name, generation in await _generation_tables(conn, tables):
        if generation != keep:
            await conn.execute(f"DROP TABLE {name}")
    await conn.execute(
        "DELETE FROM projection_checkpoints WHERE projection = $1 AND generation <> $2",
        projection, keep)


async def swap(conn: asyncpg.Connection, projection: str, view: str, table: str, old: int,
               new: int) -> None:
    """Readers see generation `new` from this transaction's commit on; the old
    generation's checkpoints go, so a runner still applying to it finds its
    checkpoint gone and moves to the new one. The view is replaced last: its
    exclusive lock (readers wait) is held only for the commit."""
    await conn.execute(
        "DELETE FROM projection_checkpoints WHERE projection = $1 AND generation = $2",
        projection, old)
    await conn.execute(
        "UPDATE projection_generations SET generation = $2, swapped_at = now() "
        "WHERE projection = $1", projection, new)
    await conn.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {generation_table(table, new)}")


# -- user_order_summary --------------------------------------------------------

USER_ORDER_SUMMARY = "user_order_summary"
_SUMMARY = USER_ORDER_SUMMARY
_SUMMARY_ORDERS = "user_order_summary_orders"
_SUMMARY_ERASED = "user_order_summary_erased"
USER_ORDER_SUMMARY_TABLES = (_SUMMARY, _SUMMARY_ORDERS, _SUMMARY_ERASED)


@dataclass(frozen=True)
class UserOrder:
    order_id: str
    user_id: str
    currency: str
    total_minor: int
    placed_at: datetime


@dataclass(frozen=True)
class UserTotals:
    """A change to one (user, currency) row of the summary."""

    user_id: str
    currency: str
    orders: int
    cancelled: int
    spent_minor: int
    last_order_id: str | None
    last_order_at: datetime | None


async def erase_summary_users(conn: asyncpg.Connection, generation: int,
                              erased: Sequence[tuple[str, datetime]]) -> None:
    """Forget the users (summary and counted orders) and keep a tombstone."""
    users = [u for u, _ in erased]
    await conn.execute(
        f"DELETE FROM {generation_table(_SUMMARY, generation)} WHERE user_id = ANY($1::text[])",
        users)
    await conn.execute(
        f"DELETE FROM {generation_table(_SUMMARY_ORDERS, generation)} "
        "WHERE user_id = ANY($1::text[])", users)
    await conn.execute(
        f"""INSERT INTO {generation_table(_SUMMARY_ERASED, generation)} (user_id, erased_at)
            SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT DO NOTHING""",
        users, [at for _, at in erased])


async def erased_summary_users(conn: asyncpg.Connection, generation: int,
                               users: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        f"SELECT user_id FROM {generation_table(_SUMMARY_ERASED, generation)} "
        "WHERE user_id = ANY($1::text[])", list(users))
    return {r["user_id"] for r in rows}


async def count_user_orders(conn: asyncpg.Connection, generation: int,
                            orders: Sequence[UserOrder]) -> set[str]:
    """Record placed orders; the ids not counted before (the others are replays)."""
    rows = await conn.fetch(
        f"""INSERT INTO {generation_table(_SUMMARY_ORDERS, generation)}
                (order_id, user_id, currency, total_minor)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
            ON CONFLICT (order_id) DO NOTHING RETURNING order_id""",
        [o.order_id for o in orders], [o.user_id for o in orders],
        [o.currency for o in orders], [o.total_minor for o in orders])
    return {r["order_id"] for r in rows}


async def cancel_user_orders(conn: asyncpg.Connection, generation: int,
                             order_ids: Sequence[str]) -> list[tuple[str, str, int]]:
    """Mark counted orders cancelled; (user, currency, total) of those not
    cancelled before. Orders never counted (an erased user's) are skipped."""
    rows = await conn.fetch(
        f"""UPDATE {generation_table(_SUMMARY_ORDERS, generation)} SET cancelled = true
            WHERE order_id = ANY($1::text[]) AND NOT cancelled
            RETURNING user_id, currency, total_minor""", list(order_ids))
    return [(r["user_id"], r["currency"], r["total_minor"]) for r in rows]


async def add_user_totals(conn: asyncpg.Connection, generation: int,
                          changes: Sequence[UserTotals]) -> None:
    """Add the changes to the summary; the newest order wins by (time, id).
    Callers pass one change per (user, currency), sorted, so concurrent
    batches lock rows in one order."""
    table = generation_table(_SUMMARY, generation)
    await conn.execute(
        f"""INSERT INTO {table} AS s (user_id, currency, order_count, cancelled_count,
                                      spent_minor, last_order_id, last_order_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],
                                 $5::bigint[], $6::text[], $7::timestamptz[])
            ON CONFLICT (user_id, currency) DO UPDATE SET
                order_count = s.order_count + EXCLUDED.order_count,
                cancelled_count = s.cancelled_count + EXCLUDED.cancelled_count,
                spent_minor = s.spent_minor + EXCLUDED.spent_minor,
                last_order_id = CASE WHEN EXCLUDED.last_order_at IS NOT NULL
                    AND (s.last_order_at IS NULL OR (EXCLUDED.last_order_at, EXCLUDED.last_order_id)
                         > (s.last_order_at, s.last_order_id))
                    THEN EXCLUDED.last_order_id ELSE s.last_order_id END,
                last_order_at = CASE WHEN EXCLUDED.last_order_at IS NOT NULL
                    AND (s.last_order_at IS NULL OR (EXCLUDED.last_order_at, EXCLUDED.last_order_id)
                         > (s.last_order_at, s.last_order_id))
                    THEN EXCLUDED.last_order_at ELSE s.last_order_at END""",
        [c.user_id for c in changes], [c.currency for c in changes],
        [c.orders for c in changes], [c.cancelled for c in changes],
        [c.spent_minor for c in changes], [c.last_order_id for c in changes],
        [c.last_order_at for c in changes])


@dataclass(frozen=True)
class UserSummaryRows:
    user_exists: bool
    # Set when the user was erased (the row stays, anonymised).
    erased_at: datetime | None
    # One row per currency the user ordered in.
    rows: list[UserTotals]
    # The last batch the live generation applied on this shard.
    projected_through: datetime | None


async def user_summary(conn: asyncpg.Connection, user_id: str) -> UserSummaryRows:
    """The user's summary rows, whether the user exists, and how far the
    projection has read, in one statement (one snapshot)."""
    rows = await conn.fetch(
        f"""SELECT known.user_exists, known.erased_at, through.at AS projected_through, s.*
            FROM (SELECT EXISTS (SELECT 1 FROM users WHERE user_id = $1) AS user_exists,
                         (SELECT erased_at FROM users WHERE user_id = $1) AS erased_at) known
            CROSS JOIN (SELECT max(c.last_batch_at) AS at FROM projection_checkpoints c
                        JOIN projection_generations g USING (projection, generation)
                        WHERE projection = '{_SUMMARY}') through
            LEFT JOIN {_SUMMARY} s ON s.user_id = $1
            ORDER BY s.currency""", user_id)
    first = rows[0]
    return UserSummaryRows(
        first["user_exists"], first["erased_at"],
        [UserTotals(r["user_id"], r["currency"], r["order_count"], r["cancelled_count"],
                    r["spent_minor"], r["last_order_id"], r["last_order_at"])
         for r in rows if r["user_id"] is not None],
        first["projected_through"])


# -- product_sales ---------------------------------------------------------------

PRODUCT_SALES = "product_sales"
_SALES = PRODUCT_SALES
_SALES_ORDERS = "product_sales_orders"
PRODUCT_SALES_TABLES = (_SALES, _SALES_ORDERS)


@dataclass(frozen=True)
class SalesLine:
    sku: str
    quantity: int
    revenue_minor: int


@dataclass(frozen=True)
class SalesOrder:
    order_id: str
    currency: str
    lines: tuple[SalesLine, ...]


@dataclass(frozen=True)
class SkuSales:
    """A change to one sku's counters; revenue per currency."""

    sku: str
    units: int
    orders: int
    revenue_minor: dict[str, int]


async def count_sales_orders(conn: asyncpg.Connection, generation: int,
                             orders: Sequence[SalesOrder]) -> set[str]:
    """Record placed orders with their lines; the ids not counted before."""
    rows = await conn.fetch(
        f"""INSERT INTO {generation_table(_SALES_ORDERS, generation)} (order_id, currency, lines)
            SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])
            ON CONFLICT (order_id) DO NOTHING RETURNING order_id""",
        [o.order_id for o in orders], [o.currency for o in orders],
        [json.dumps([[ln.sku, ln.quantity, ln.revenue_minor] for ln in o.lines])
         for o in orders])
    return {r["order_id"] for r in rows}


async def cancel_sales_orders(conn: asyncpg.Connection, generation: int,
                              order_ids: Sequence[str]) -> list[SalesOrder]:
    """Mark counted orders cancelled; those not cancelled before, with their lines."""
    rows = await conn.fetch(
        f"""UPDATE {generation_table(_SALES_ORDERS, generation)} SET cancelled = true
            WHERE order_id = ANY($1::text[]) AND NOT cancelled
            RETURNING order_id, currency, lines::text AS lines""", list(order_ids))
    return [SalesOrder(r["order_id"], r["currency"],
                       tuple(SalesLine(*ln) for ln in json.loads(r["lines"]))) for r in rows]


async def add_sales(conn: asyncpg.Connection, generation: int,
                    changes: Sequence[SkuSales]) -> None:
    """Add the changes to the counters, revenue summed per currency. Callers
    pass one change per sku, sorted: the runners of several source shards
    update the same rows, and one lock order keeps them from deadlocking."""
    table = generation_table(_SALES, generation)
    await conn.execute(
        f"""INSERT INTO {table} AS s (sku, units, orders, revenue_minor)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::jsonb[])
            ON CONFLICT (sku) DO UPDATE SET
                units = s.units + EXCLUDED.units,
                orders = s.orders + EXCLUDED.orders,
                revenue_minor = (
                    SELECT coalesce(jsonb_object_agg(currency, total), '{{}}')
                    FROM (SELECT key AS currency, sum(value::bigint) AS total
                          FROM (SELECT * FROM jsonb_each_text(s.revenue_minor)
                                UNION ALL
                                SELECT * FROM jsonb_each_text(EXCLUDED.revenue_minor)) AS both_
                          GROUP BY key) AS sums)""",
        [c.sku for c in changes], [c.units for c in changes], [c.orders for c in changes],
        [json.dumps(c.revenue_minor) for c in changes])



async def source_checkpoints(conn: asyncpg.Connection, keyspace: str,
                             shard: int) -> list[tuple[str, Cursor]]:
    """Where each projection's live generation stands on one source shard."""
    rows = await conn.fetch(
        """SELECT projection, commit, position FROM projection_checkpoints
           JOIN projection_generations USING (projection, generation)
           WHERE source_keyspace = $1 AND shard = $2""", keyspace, shard)
    return [(r["projection"], Cursor(r["commit"], r["position"])) for r in rows]


async def reread_source(conn: asyncpg.Connection, projection: str, keyspace: str,
                        shard: int) -> None:
    """Every generation of `projection` reads that source shard from its first
    event again: the shard was restored to an earlier point, so the
    checkpoints kept here may lie beyond anything it has now, and its new
    events may come at cursors below them. Applying is idempotent (each
    projection records the orders it counted), so reading again repeats
    nothing."""
    await conn.execute(
        """UPDATE projection_checkpoints SET commit = 0, position = 0, updated_at = now()
           WHERE projection = $1 AND source_keyspace = $2 AND shard = $3""",
        projection, keyspace, shard)
