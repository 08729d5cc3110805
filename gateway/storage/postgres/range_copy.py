"""Copying one keyspace-id range of the commerce tables between two shards.

Three operations, all driven by the resharding workflow
(domain/resharding/workflow.py):

- `copy_range`: every row of the range, table by table, from the source's
  snapshot (the caller's REPEATABLE READ transaction) with binary COPY.
- `apply_changes`: the captured changes (fence.py's trigger logs which rows
  of the range changed) applied to the other side. An entry names a row, not
  what happened to it: the row's current state is read on the source and
  written on the target (or deleted there if it is gone), so applying an
  entry twice changes nothing and entries need no ordering beyond parents
  before children.
- `checksum`: a table's rows of the range counted and summed (an
  order-independent sum of row hashes), for the verify step.

Events are special: `position` and `tx_id` are the shard's own (its
commit-safe reading order, eventstore/log.py), so a copied event gets new
ones on the target, in the source's commit order, and `moved_from` says it
came from elsewhere: the readers of the whole log skip it, because they had
it from its first shard already.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg

from gateway.storage.postgres.fence import COPIER_SETTING
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.range_map import bound_bytes


@dataclass(frozen=True)
class RangeTable:
    name: str
    key: tuple[str, ...]  # identifies a row on any shard


# Parents before children (order_items and payments refer to orders).
TABLES = (
    RangeTable("users", ("user_id",)),
    RangeTable("user_emails", ("email",)),
    RangeTable("user_keys", ("user_id",)),
    RangeTable("streams", ("stream_id",)),
    RangeTable("events", ("event_id",)),
    RangeTable("orders", ("order_id",)),
    RangeTable("order_items", ("order_id", "line")),
    RangeTable("payments", ("payment_id",)),
    RangeTable("sagas", ("saga_id",)),
    RangeTable("idempotency_keys", ("request_id",)),
)
# Columns that belong to the shard an event is on, not to the event.
_LOCAL = frozenset({"position", "tx_id", "moved_from"})
_IN_RANGE = "keyspace_id >= $1 AND ($2::bytea IS NULL OR keyspace_id < $2)"
_COPY_CHUNKS = 8


def bounds(rng: KeyRange) -> tuple[bytes | None, bytes | None]:
    return bound_bytes(rng.start), bound_bytes(rng.end)


# Per table, read once per process: every shard has the same schema (the
# migrations are applied at start), and the catch-up asks for each batch.
_COLUMNS: dict[str, dict[str, str]] = {}


async def _columns(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    """The table's columns and their types, in table order."""
    if table not in _COLUMNS:
        rows = await conn.fetch(
            """SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
               WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
               ORDER BY attnum""", table)
        _COLUMNS[table] = {str(r["attname"]): str(r["type"]) for r in rows}
    return _COLUMNS[table]


def _content(table: str, columns: dict[str, str]) -> list[str]:
    return [c for c in columns if table != "events" or c not in _LOCAL]


async def copy_range(src: asyncpg.Connection, dst: asyncpg.Connection, rng: KeyRange,
                     source: int) -> dict[str, int]:
    """Replace the target's rows of `rng` by the source's, table by table;
    rows copied per table. `src` reads in the caller's snapshot; `dst` must
    be inside a transaction with the fence off (COPIER_SETTING)."""
    start, end = bounds(rng)
    for t in reversed(TABLES):
        await dst.execute(f"DELETE FROM {t.name} WHERE {_IN_RANGE}", start, end)
    copied: dict[str, int] = {}
    for t in TABLES:
        content = _content(t.name, await _columns(src, t.name))
        selected, written, order = list(content), list(content), ""
        if t.name == "events":
            selected.append(f"{source}::integer AS moved_from")
            written.append("moved_from")
            order = "ORDER BY tx_id, position"
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(_COPY_CHUNKS)

        async def produce(table: str = t.name, cols: str = ", ".join(selected),
                          order_by: str = order,
                          queue: asyncio.Queue[bytes | None] = chunks) -> None:
            try:
                await src.copy_from_query(
                    f"SELECT {cols} FROM {table} WHERE {_IN_RANGE} {order_by}", start, end,
                    output=queue.put, format="binary")
            finally:
                await queue.put(None)

        async def consume(queue: asyncio.Queue[bytes | None] = chunks) -> AsyncIterator[bytes]:
            while (chunk := await queue.get()) is not None:
                yield chunk

        _, status = await asyncio.gather(
            produce(), dst.copy_to_table(t.name, source=consume(), columns=written,
                                         format="binary"))
        copied[t.name] = int(str(status).rsplit(" ", 1)[-1])
    return copied


async def apply_changes(src: asyncpg.Connection, dst: asyncpg.Connection, workflow: str,
                        source: int, limit: int, applied: list[int] | None = None) -> int:
    """Apply up to `limit` captured changes of `workflow` from `src` to `dst`;
    how many there were. The rows are read in `src`'s current snapshot (the
    caller's transaction, if any). The entries are deleted on `src`, or,
    with `applied`, their ids added to it (and those already there skipped)
    for the caller to delete after its snapshot (`forget_changes`): a
    REPEATABLE READ snapshot that only reads takes no transaction id, so it
    holds back no reader of the event log (they read below the oldest
    running one) however long it lasts."""
    after = applied[-1] if applied else 0
    entries = await src.fetch(
        """SELECT id, table_name, row_key::text AS row_key FROM reshard_changes
           WHERE workflow = $1 AND id > $3 ORDER BY id LIMIT $2""", workflow, limit, after)
    if not entries:
        return 0
    keys: dict[str, dict[str, object]] = {}
    for e in entries:
        keys.setdefault(e["table_name"], {})[e["row_key"]] = json.loads(e["row_key"])
    present: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for t in TABLES:
        if t.name in keys:
            columns[t.name] = await _columns(src, t.name)
            present[t.name] = str(await src.fetchval(
                f"""SELECT coalesce(jsonb_agg(to_jsonb(r)), '[]'::jsonb)::text FROM {t.name} r
                    JOIN jsonb_to_recordset($1::jsonb) AS k({_key_defs(t, columns[t.name])})
                    USING ({', '.join(t.key)})""",
                json.dumps(list(keys[t.name].values()))))
    async with dst.transaction():
        await dst.execute(COPIER_SETTING)
        for t in reversed(TABLES):
            if t.name in keys:
                key = ", ".join(t.key)
                await dst.execute(
                    f"""DELETE FROM {t.name} WHERE ({key}) IN (
                            SELECT {key} FROM jsonb_to_recordset($1::jsonb)
                                AS k({_key_defs(t, columns[t.name])})
                            EXCEPT SELECT {key}
                            FROM jsonb_populate_recordset(NULL::{t.name}, $2::jsonb))""",
                    json.dumps(list(keys[t.name].values())), present[t.name])
        for t in TABLES:
            if t.name in keys:
                await dst.execute(_upsert(t, columns[t.name]), present[t.name],
                                  *([source] if t.name == "events" else []))
    if applied is None:
        await forget_changes(src, [e["id"] for e in entries])
    else:
        applied.extend(e["id"] for e in entries)
    return len(entries)


async def change_ids(conn: asyncpg.Connection, workflow: str) -> list[int]:
    """The captured changes of `workflow` this snapshot sees."""
    return [r["id"] for r in await conn.fetch(
        "SELECT id FROM reshard_changes WHERE workflow = $1 ORDER BY id", workflow)]


async def forget_changes(conn: asyncpg.Connection, ids: list[int]) -> None:
    if ids:
        await conn.execute("DELETE FROM reshard_changes WHERE id = ANY($1::bigint[])", ids)


def _key_defs(t: RangeTable, columns: dict[str, str]) -> str:
    return ", ".join(f"{k} {columns[k]}" for k in t.key)


def _upsert(t: RangeTable, columns: dict[str, str]) -> str:
    content = _content(t.name, columns)
    rows = f"jsonb_populate_recordset(NULL::{t.name}, $1::jsonb)"
    if t.name == "events":
        # Events never change: one already here stays as it is.
        cols = ", ".join(content)
        return (f"INSERT INTO events ({cols}, moved_from) SELECT {cols}, $2::integer "
                f"FROM {rows} ORDER BY tx_id, position ON CONFLICT (event_id) DO NOTHING")
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in content if c not in t.key)
    cols = ", ".join(content)
    return (f"INSERT INTO {t.name} ({cols}) SELECT {cols} FROM {rows} "
            f"ON CONFLICT ({', '.join(t.key)}) DO UPDATE SET {updates}")


async def pending(conn: asyncpg.Connection, workflow: str) -> int:
    """Captured changes not applied yet."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM reshard_changes WHERE workflow = $1", workflow))


async def drop_changes(conn: asyncpg.Connection, workflow: str) -> None:
    await conn.execute("DELETE FROM reshard_changes WHERE workflow = $1", workflow)


async def checksum(conn: asyncpg.Connection, table: str, rng: KeyRange) -> tuple[int, str]:
    """(rows, sum of row hashes) of the table's rows of `rng`, over the
    columns that belong to a row wherever it is."""
    content = _content(table, await _columns(conn, table))
    start, end = bounds(rng)
    row = await conn.fetchrow(
        f"""SELECT count(*) AS n, coalesce(sum(
                ('x' || substr(md5(ROW({', '.join(content)})::text), 1, 15))::bit(60)::bigint),
                0)::text AS s
            FROM {table} WHERE {_IN_RANGE}""", start, end)
    assert row is not None
    return int(row["n"]), str(row["s"])


async def delete_range(conn: asyncpg.Connection, rng: KeyRange) -> dict[str, int]:
    """Delete every row of `rng` (children first); rows deleted per table."""
    start, end = bounds(rng)
    deleted: dict[str, int] = {}
    for t in reversed(TABLES):
        status = await conn.execute(f"DELETE FROM {t.name} WHERE {_IN_RANGE}", start, end)
        deleted[t.name] = int(str(status).rsplit(" ", 1)[-1])
    return deleted


async def last_event(conn: asyncpg.Connection, rng: KeyRange) -> tuple[int, int] | None:
    """(commit, position) of the range's last event in this shard's commit
    order (moved ones included: no reader needs them, none is harmed)."""
    start, end = bounds(rng)
    row = await conn.fetchrow(
        f"""SELECT tx_id::text::bigint AS commit, position FROM events WHERE {_IN_RANGE}
            ORDER BY tx_id DESC, position DESC LIMIT 1""", start, end)
    return None if row is None else (int(row["commit"]), int(row["position"]))
