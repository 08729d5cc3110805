"""Where a PostgreSQL database stands in its WAL, and what the gateway
recorded of it (catalog table store_watermarks, migration 0006).

A restore to an earlier point (point-in-time recovery) starts a new
timeline whose history says where it left the old one: before the WAL
position the gateway last saw there means the database went back in time.
A database re-created (a different system identifier) went back to nothing
we know of.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import asyncpg

from gateway.records.rewind import WalPosition
from gateway.storage.postgres.pool import parse_lsn
from gateway.storage.postgres.timelines import HISTORY_SQL, parse_history

POSITION_SQL = """
SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
       ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS timeline,
       pg_current_wal_lsn()::text AS lsn,
       pg_current_snapshot()::text AS snapshot
"""


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


async def position(conn: asyncpg.Connection) -> tuple[WalPosition, str]:
    """Where the server's WAL stands, and its transaction snapshot
    (xmin:xmax:running): the snapshot changes only when a transaction that
    wrote ends or starts writing, not on a WAL switch, a checkpoint or
    reads, so an unchanged one says nothing was written since."""
    row = await conn.fetchrow(POSITION_SQL)
    assert row is not None
    return (WalPosition(row["system_identifier"], int(row["timeline"]), parse_lsn(row["lsn"])),
            row["snapshot"])


async def scope(conn: asyncpg.Connection) -> str:
    """This database by its cluster's system identifier and its name."""
    row = await conn.fetchrow(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS sysid, "
        "current_database() AS name")
    assert row is not None
    return f"{row['sysid']}/{row['name']}"


async def timeline_history(conn: asyncpg.Connection, timeline: int) -> dict[int, int] | None:
    """Each ancestor timeline of `timeline` -> where it was left; None when the
    history cannot be read (the role lacks pg_read_server_files)."""
    if timeline <= 1:
        return {}
    try:
        raw = await conn.fetchval(HISTORY_SQL, timeline)
    except (asyncpg.InsufficientPrivilegeError, asyncpg.UndefinedFileError):
        return None
    return parse_history(bytes(raw).decode())


async def load(conn: asyncpg.Connection) -> dict[tuple[str, int], WalPosition]:
    rows = await conn.fetch(
        "SELECT keyspace, shard, system_identifier, timeline, lsn FROM store_watermarks")
    # asyncpg gives pg_lsn as the number parse_lsn makes of its text.
    return {(r["keyspace"], r["shard"]): WalPosition(r["system_identifier"], r["timeline"],
                                                     int(r["lsn"])) for r in rows}


async def save(conn: asyncpg.Connection,
               seen: Iterable[tuple[tuple[str, int], WalPosition]]) -> tuple[str, str]:
    """Record `seen` in one transaction; the server's system identifier and
    its snapshot right after (what `position` then gives of every database
    of that server while nothing else writes there)."""
    async with conn.transaction():
        await conn.executemany(
            """INSERT INTO store_watermarks AS w (keyspace, shard, system_identifier, timeline,
                   lsn)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (keyspace, shard) DO UPDATE
                   SET system_identifier = $3, timeline = $4, lsn = $5, seen_at = now()""",
            [(ks, shard, p.system_identifier, p.timeline, p.lsn)
             for (ks, shard), p in seen])
    row = await conn.fetchrow(
        "SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier, "
        "pg_current_snapshot()::text AS snapshot")
    assert row is not None
    return row["system_identifier"], row["snapshot"]


async def record_reconciliation(conn: asyncpg.Connection, keyspace: str, shard: int,
                                reason: str, actions: list[str], unreconciled: list[str]
                                ) -> None:
    await conn.execute(
        """INSERT INTO reconciliations (keyspace, shard, reason, actions, unreconciled)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)""",
        keyspace, shard, reason, json.dumps(actions), json.dumps(unreconciled))
