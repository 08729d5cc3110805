"""The relay's checkpoint on one shard (table relay_checkpoint, one row).

Both writes are compare-and-set on the checkpoint they start from: a batch
range is claimed only from the checkpoint the relay read, and the
checkpoint moves only from that point with that range pending. Two relays
on one shard (two gateways) therefore never claim different ranges from
the same point; at worst both insert the same range under the same
deduplication tokens, which ClickHouse counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from gateway.records.events import Cursor


@dataclass(frozen=True)
class Checkpoint:
    # The last event relayed.
    at: Cursor
    # The last event of a batch whose insert was started and not confirmed.
    pending: Cursor | None
    events_relayed: int
    last_batch_at: datetime | None
    # '' until a restore of this database was reconciled (relay_epoch.sql):
    # part of every deduplication token.
    epoch: str = ""


async def load(conn: asyncpg.Connection) -> Checkpoint:
    row = await conn.fetchrow(
        """SELECT commit, position, pending_commit, pending_position, events_relayed,
                  last_batch_at, epoch FROM relay_checkpoint""")
    assert row is not None, "migration relay.sql inserts the row"
    pending = (Cursor(row["pending_commit"], row["pending_position"])
               if row["pending_commit"] is not None else None)
    return Checkpoint(Cursor(row["commit"], row["position"]), pending, row["events_relayed"],
                      row["last_batch_at"], row["epoch"])


async def claim(conn: asyncpg.Connection, at: Cursor, to: Cursor) -> bool:
    """Record (at, to] as the batch being inserted; False when the
    checkpoint is no longer at `at` or another batch is pending."""
    return await conn.fetchval(
        """UPDATE relay_checkpoint SET pending_commit = $3, pending_position = $4,
                  updated_at = now()
           WHERE commit = $1 AND position = $2 AND pending_commit IS NULL
           RETURNING true""", at.commit, at.position, to.commit, to.position) is not None


async def advance(conn: asyncpg.Connection, at: Cursor, to: Cursor, events: int) -> bool:
    """Move the checkpoint from `at` to the pending `to` and clear pending;
    False when that batch is not the pending one any more."""
    return await conn.fetchval(
        """UPDATE relay_checkpoint SET commit = $3, position = $4, pending_commit = NULL,
                  pending_position = NULL, events_relayed = events_relayed + $5,
                  last_batch_at = now(), updated_at = now()
           WHERE commit = $1 AND position = $2
             AND pending_commit = $3 AND pending_position = $4
           RETURNING true""",
        at.commit, at.position, to.commit, to.position, events) is not None


async def new_epoch(conn: asyncpg.Connection, epoch: str) -> Checkpoint:
    """After a restore of this database: drop a pending batch (its rows in
    ClickHouse were removed with everything beyond the checkpoint) and start
    `epoch`, so the ranges relayed again get tokens ClickHouse has not seen."""
    await conn.execute(
        """UPDATE relay_checkpoint SET pending_commit = NULL, pending_position = NULL,
                  epoch = $1, updated_at = now()""", epoch)
    return await load(conn)
