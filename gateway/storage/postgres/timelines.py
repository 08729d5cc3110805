"""Which WAL survived a failover: the timeline history of a shard's primary.

A promoted standby starts a new timeline; its history file lists, for every
earlier timeline, the WAL position where it was left (the switch point).
Writes of an earlier timeline up to its switch point are on the new primary;
later ones were never replicated and are gone. Consistency tokens carry their
timeline, so a read can tell the two apart (domain/reads.py).

The history is read with pg_read_binary_file, which needs superuser or the
pg_read_server_files role (docs/operations.md).
"""

from __future__ import annotations

import asyncpg

from gateway.errors import FailedPrecondition
from gateway.storage.postgres.pool import Shard, parse_lsn

HISTORY_SQL = (
    "SELECT pg_read_binary_file('pg_wal/' || lpad(upper(to_hex($1::int)), 8, '0') "
    "|| '.history')"
)


def parse_history(text: str) -> dict[int, int]:
    """Timeline -> switch point, from a history file's lines
    "<timeline>\\t<lsn>\\t<reason>" (comments and blank lines skipped)."""
    ends: dict[int, int] = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            ends[int(fields[0])] = parse_lsn(fields[1])
    return ends


async def timeline_end(shard: Shard, timeline: int) -> int | None:
    """Where `timeline` ended in the history of the shard's current primary
    (None: not one of its ancestors). Read once per timeline of the primary."""
    current = shard.timeline
    ends = shard.timeline_ends.get(current)
    if ends is None:
        try:
            async with shard.connection("READ timeline history") as conn:
                raw = await conn.fetchval(HISTORY_SQL, current)
        except asyncpg.InsufficientPrivilegeError as exc:
            raise FailedPrecondition(
                f"keyspace {shard.keyspace!r} shard {shard.index} failed over; checking a "
                "consistency token from before needs the primary's timeline history, "
                "which the gateway's role may not read",
                reason="TIMELINE_HISTORY_UNREADABLE",
                metadata={"keyspace": shard.keyspace, "shard": str(shard.index),
                          "grant": "pg_read_server_files"},
            ) from exc
        ends = parse_history(bytes(raw).decode())
        shard.timeline_ends[current] = ends
    return ends.get(timeline)


async def transaction_committed(shard: Shard, xid: int) -> bool:
    """Whether transaction `xid` is committed on the shard's primary; an id
    too old to tell (its status truncated away) committed long ago."""
    async with shard.connection("SELECT transaction status") as conn:
        status = await conn.fetchval("SELECT pg_xact_status($1::text::xid8)", str(xid))
    return status is None or status == "committed"
