"""What a commerce shard owns, and the fence that refuses writes of anything else.

Each shard keeps the keyspace-id ranges it owns in `shard_ranges`
(migration 0009). A trigger on every table whose rows belong to a range
checks each written row against it, so a gateway routing by an old range
map cannot write to the wrong shard, whatever code path it takes: the
statement fails with SQLSTATE DGR01 (not owned: the range moved away) or
DGR02 (frozen: a cutover is moving it), which the pool turns into
UNAVAILABLE RANGE_MOVED / RANGE_FROZEN with a retry delay
(`fenced_error`), and a routed write retries on the new owner
(idempotency.run_transaction).

Every change to `shard_ranges` takes FENCE_LOCK exclusively; each write
takes it shared and holds it to its commit, so a freeze waits for the
writes already past the fence and none slips past it. The same trigger
records the changes of a captured range for a resharding workflow
(range_copy.py applies them on the other shard).
"""

from __future__ import annotations

import asyncpg

from gateway.errors import Unavailable
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.range_map import bound_bytes

# The trigger's advisory lock (the same constant in 0009_resharding.sql).
FENCE_LOCK = 7234017283807667969
NOT_OWNED = "DGR01"
FROZEN = "DGR02"
# The session setting of the workflow's copier: it writes ranges its shard
# does not own yet (or any more), which the fence must let through.
COPIER_SETTING = "SET LOCAL datagw.fence = 'off'"


class RangeFenced(Unavailable):
    """A shard refused a write of a range it does not own, or that is frozen."""

    @property
    def moved(self) -> bool:
        return self.reason == "RANGE_MOVED"


def fenced_error(keyspace: str, shard: int, exc: asyncpg.PostgresError) -> RangeFenced | None:
    state = getattr(exc, "sqlstate", None)
    if state == NOT_OWNED:
        return RangeFenced(
            f"keyspace {keyspace!r} shard {shard} no longer owns this key's range (it moved); "
            "retry: the gateway routes by the new range map",
            reason="RANGE_MOVED", metadata={"keyspace": keyspace, "shard": str(shard)},
            retry_after_s=0.05)
    if state == FROZEN:
        return RangeFenced(
            f"keyspace {keyspace!r} shard {shard}: this key's range is being cut over to "
            "another shard; retry in a moment",
            reason="RANGE_FROZEN", metadata={"keyspace": keyspace, "shard": str(shard)},
            retry_after_s=0.1)
    return None


async def identify(conn: asyncpg.Connection, keyspace: str, shard: int,
                   owned: list[KeyRange], version: int) -> tuple[str, int]:
    """Record this server's keyspace and shard, and the ranges it owns, the
    first time a gateway opens it; (keyspace, shard) as recorded, which the
    caller compares with its config."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", FENCE_LOCK)
        row = await conn.fetchrow("SELECT keyspace, shard FROM shard_identity")
        if row is not None:
            return str(row["keyspace"]), int(row["shard"])
        await conn.execute("INSERT INTO shard_identity (keyspace, shard) VALUES ($1, $2)",
                           keyspace, shard)
        for rng in owned:
            await conn.execute(
                "INSERT INTO shard_ranges (start_ksid, end_ksid, map_version) VALUES ($1, $2, $3)",
                bound_bytes(rng.start), bound_bytes(rng.end), version)
        return keyspace, shard


async def _carve(conn: asyncpg.Connection, rng: KeyRange) -> None:
    """Split owned rows so that `rng`'s bounds are row bounds."""
    for cut in (rng.start, rng.end):
        at = bound_bytes(cut)
        if at is None or cut == 0:
            continue
        row = await conn.fetchrow(
            """SELECT start_ksid, end_ksid, state, capture, map_version FROM shard_ranges
               WHERE start_ksid < $1 AND (end_ksid IS NULL OR end_ksid > $1)""", at)
        if row is None:
            continue
        await conn.execute("UPDATE shard_ranges SET end_ksid = $2, updated_at = now() "
                           "WHERE start_ksid = $1", row["start_ksid"], at)
        await conn.execute(
            """INSERT INTO shard_ranges (start_ksid, end_ksid, state, capture, map_version)
               VALUES ($1, $2, $3, $4, $5)""",
            at, row["end_ksid"], row["state"], row["capture"], row["map_version"])


# The owned rows inside a range ($1 its start, $2 its end or NULL).
_WITHIN = "start_ksid >= $1 AND ($2::bytea IS NULL OR (end_ksid IS NOT NULL AND end_ksid <= $2))"


async def owned_part(conn: asyncpg.Connection, rng: KeyRange) -> list[tuple[str, str | None]]:
    """(state, capture) of each owned row that overlaps `rng`."""
    rows = await conn.fetch(
        """SELECT state, capture FROM shard_ranges
           WHERE ($2::bytea IS NULL OR start_ksid < $2) AND (end_ksid IS NULL OR end_ksid > $1)""",
        bound_bytes(rng.start), bound_bytes(rng.end))
    return [(str(r["state"]), r["capture"]) for r in rows]


async def change(conn: asyncpg.Connection, rng: KeyRange, *, state: str | None = None,
                 capture: str | bool | None = False, version: int | None = None) -> None:
    """Set the state (owned/frozen) and/or the capture (a workflow, None for
    none; False leaves it) of the owned rows within `rng`, under the fence
    lock, in its own transaction: a freeze returns once every write that
    passed the fence before it has ended."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", FENCE_LOCK)
        await _carve(conn, rng)
        sets = ["updated_at = now()"]
        args: list[object] = [bound_bytes(rng.start), bound_bytes(rng.end)]
        if state is not None:
            args.append(state)
            sets.append(f"state = ${len(args)}")
        if capture is not False:
            args.append(capture)
            sets.append(f"capture = ${len(args)}")
        if version is not None:
            args.append(version)
            sets.append(f"map_version = ${len(args)}")
        await conn.execute(f"UPDATE shard_ranges SET {', '.join(sets)} WHERE {_WITHIN}", *args)


async def own(conn: asyncpg.Connection, rng: KeyRange, version: int, capture: str | None) -> int:
    """Take ownership of `rng` (idempotent), capturing its changes for
    `capture`; the id of the transaction that did: a write of the range
    here comes from a later one (it could not pass the fence before)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", FENCE_LOCK)
        await _carve(conn, rng)
        start, end = bound_bytes(rng.start), bound_bytes(rng.end)
        await conn.execute(f"DELETE FROM shard_ranges WHERE {_WITHIN}", start, end)
        await conn.execute(
            """INSERT INTO shard_ranges (start_ksid, end_ksid, state, capture, map_version)
               VALUES ($1, $2, 'owned', $3, $4)""", start, end, capture, version)
        return int(await conn.fetchval("SELECT pg_current_xact_id()::text::bigint"))


async def disown(conn: asyncpg.Connection, rng: KeyRange) -> None:
    """Give up `rng` (idempotent): its writes are refused from now on."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", FENCE_LOCK)
        await _carve(conn, rng)
        await conn.execute(f"DELETE FROM shard_ranges WHERE {_WITHIN}",
                           bound_bytes(rng.start), bound_bytes(rng.end))
