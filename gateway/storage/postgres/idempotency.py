"""Idempotent writes by request_id, recorded in the same transaction as the write.

Because the record commits atomically with the change, a retry after a crash
or a lost response finds either both or neither, and never repeats the work.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from gateway.errors import Aborted, AlreadyExists
from gateway.storage.postgres.fence import RangeFenced
from gateway.storage.postgres.keyspace_id import ksid_bytes
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.telemetry import FENCED_WRITES, TX_RETRIES

log = logging.getLogger(__name__)

T = TypeVar("T")

# 40P01 and 40001: PostgreSQL rolled the transaction back only because of a
# concurrent one, so the same transaction run again normally commits.
RETRYABLE = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
# Attempts in all, and the first pause (doubled each time, jittered so two
# losers do not collide again): once PostgreSQL has aborted us the other
# transaction holds what it needs and commits within milliseconds, and each
# deadlock already cost deadlock_timeout (1s by default), so a few short
# pauses bound the extra latency.
MAX_ATTEMPTS = 4
FIRST_BACKOFF_S = 0.02
# A routed write that a shard's fence refused: how long it keeps trying (a
# cutover's pause is well under a second), and the pause between tries of a
# frozen range.
FENCED_FOR_S = 5.0
FROZEN_PAUSE_S = 0.02


@dataclass
class Route:
    """Where a write of one keyspace id goes: the shard the newest range map
    names, looked up again when a shard's fence refuses the write."""

    keyspace: Keyspace
    ksid: int
    # The shard the last attempt ran on.
    used: Shard | None = None

    @property
    def shard(self) -> Shard:
        return self.keyspace.shard_for(self.ksid)


def _conflict(request_id: str, method: str) -> AlreadyExists:
    return AlreadyExists(
        f"request_id {request_id!r} was already used for a different request",
        reason="REQUEST_ID_REUSED",
        metadata={"request_id": request_id, "method": method},
    )


async def lookup(
    conn: asyncpg.Connection, request_id: str, method: str, request_hash: bytes
) -> dict[str, Any] | None:
    """The stored response of an earlier identical request, locking its key.

    The same id with another payload (or another method) is ALREADY_EXISTS.
    """
    # Serialise concurrent first attempts of one request_id: the second waits
    # here until the first commits, then sees its record.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", request_id)
    row = await conn.fetchrow(
        "SELECT method, request_hash, response FROM idempotency_keys WHERE request_id = $1",
        request_id,
    )
    if row is None:
        return None
    if row["method"] != method or bytes(row["request_hash"]) != request_hash:
        raise _conflict(request_id, method)
    response = row["response"]
    return json.loads(response) if isinstance(response, str) else dict(response)


async def record(
    conn: asyncpg.Connection,
    request_id: str,
    method: str,
    request_hash: bytes,
    response: dict[str, Any],
    ksid: int | None = None,
) -> None:
    """`ksid`: the keyspace id the write routed by, so the record moves with
    its range (None in unsharded keyspaces)."""
    if ksid is None:
        await conn.execute(
            "INSERT INTO idempotency_keys (request_id, method, request_hash, response) "
            "VALUES ($1, $2, $3, $4::jsonb)",
            request_id, method, request_hash, json.dumps(response))
    else:
        await conn.execute(
            "INSERT INTO idempotency_keys (request_id, method, request_hash, response, "
            "keyspace_id) VALUES ($1, $2, $3, $4::jsonb, $5)",
            request_id, method, request_hash, json.dumps(response), ksid_bytes(ksid))


def request_hash(method: str, body: dict[str, Any]) -> bytes:
    """What identifies a request's payload: same method and body, same hash."""
    blob = json.dumps({"m": method, **body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).digest()


async def commit_mark(conn: asyncpg.Connection) -> str:
    """Read as the last statement inside a write transaction: the WAL insert
    position (before the commit record, after every other record of the
    transaction) and the transaction's id ("0/16B3700.1234"; "" if it wrote
    nothing). After a failover they tell whether the commit survived when
    the position read after it does not (domain/reads.py vouch)."""
    row = await conn.fetchrow(
        "SELECT pg_current_wal_insert_lsn()::text AS lsn, "
        "pg_current_xact_id_if_assigned()::text AS xid")
    assert row is not None
    return f"{row['lsn']}.{row['xid']}" if row["xid"] is not None else ""


async def wal_position(conn: asyncpg.Connection, mark: str = "") -> str:
    """The primary's timeline and WAL insert position after a commit
    ("00000001.0/16B3748"), then the transaction's `mark` if it has one: the
    raw material of consistency tokens (domain/tokens.py)."""
    position = str(await conn.fetchval(
        "SELECT substr(pg_walfile_name(p), 1, 8) || '.' || p::text "
        "FROM pg_current_wal_insert_lsn() AS p"))
    return f"{position}.{mark}" if mark else position


async def run_transaction(
    target: Shard | Route, operation: str, tx: Callable[[asyncpg.Connection], Awaitable[T]],
) -> tuple[T, str]:
    """Run `tx` in one transaction on the shard's primary; (result, WAL position
    after COMMIT).

    A transaction PostgreSQL aborts for a deadlock or a serialization failure
    is run again whole, after a short jittered pause, up to MAX_ATTEMPTS in
    all: `tx` must be such a unit, reading inside the transaction all it
    decides on and with no effect outside it that a second run would repeat
    harmfully. When the attempts run out the caller gets ABORTED (reason
    TRANSACTION_CONFLICT): the conflict is with other writes of the same rows,
    which gRPC says to retry at a higher level, and never INTERNAL.

    A `Route` is resolved before each attempt. When the shard's fence
    refuses it (fence.py), the transaction rolled back whole, so it is run
    again like a conflict: on the new owner after reading the range map
    (moved), or after a short pause (frozen by a cutover), for up to
    FENCED_FOR_S. With a plain shard the refusal is the caller's.
    """
    attempt = 1
    loop = asyncio.get_running_loop()
    fenced_until = loop.time() + FENCED_FOR_S
    while True:
        shard = target.shard if isinstance(target, Route) else target
        if isinstance(target, Route):
            target.used = shard
        try:
            async with shard.connection(operation) as conn:
                async with conn.transaction():
                    result = await tx(conn)
                    mark = await commit_mark(conn)
                lsn = await wal_position(conn, mark)
            return result, lsn
        except RangeFenced as exc:
            if not isinstance(target, Route) or not await _after_fence(target.keyspace, exc,
                                                                       fenced_until):
                raise
            continue
        except RETRYABLE as exc:
            sqlstate = str(exc.sqlstate)
            if attempt == MAX_ATTEMPTS:
                TX_RETRIES.labels(shard.keyspace, sqlstate, "gave_up").inc()
                log.warning("%s on keyspace %s shard %s aborted %d times (%s); giving up",
                            operation, shard.keyspace, shard.index, attempt, sqlstate)
                raise Aborted(
                    f"{operation} conflicted with concurrent writes {attempt} times; retry",
                    reason="TRANSACTION_CONFLICT",
                    metadata={"sqlstate": sqlstate, "attempts": str(attempt),
                              "keyspace": shard.keyspace, "shard": str(shard.index)},
                ) from exc
            TX_RETRIES.labels(shard.keyspace, sqlstate, "retried").inc()
            log.info("%s on keyspace %s shard %s aborted (%s); retrying", operation,
                     shard.keyspace, shard.index, sqlstate)
            await asyncio.sleep(FIRST_BACKOFF_S * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
        attempt += 1


async def _after_fence(keyspace: Keyspace, exc: RangeFenced, until: float) -> bool:
    """Whether a write the fence refused may be tried again (False: the
    time is up): a moved range after reading the range map, a frozen one
    after a short pause."""
    if asyncio.get_running_loop().time() >= until:
        FENCED_WRITES.labels(keyspace.name, exc.reason, "refused").inc()
        return False
    FENCED_WRITES.labels(keyspace.name, exc.reason, "rerouted" if exc.moved else "waited").inc()
    if exc.moved:
        await keyspace.refresh_map()
    await asyncio.sleep(FROZEN_PAUSE_S)
    return True


async def rerouted(keyspace: Keyspace, operation: Callable[[], Awaitable[T]]) -> T:
    """`operation` (a whole write that routes by the range map each time it
    runs, and that is safe to run again after a refusal) run again while a
    shard's fence refuses it, for up to FENCED_FOR_S."""
    until = asyncio.get_running_loop().time() + FENCED_FOR_S
    while True:
        try:
            return await operation()
        except RangeFenced as exc:
            if not await _after_fence(keyspace, exc, until):
                raise


async def run_idempotent(
    target: Shard | Route,
    method: str,
    request_id: str,
    body: dict[str, Any],
    tx: Callable[[asyncpg.Connection], Awaitable[T]],
    encode: Callable[[T], dict[str, Any]],
    decode: Callable[[dict[str, Any]], T],
) -> tuple[T, str]:
    """Run `tx` in one transaction on the shard's primary, once per request_id
    (run_transaction: retried whole on a deadlock or serialization failure).

    Returns the result (the stored one for a repeated request) and the WAL
    position after COMMIT: a replica that has replayed this far has the commit
    record too. A replayed request gets a fresh position, past its original.
    An empty request_id runs `tx` without a record.
    """
    digest = request_hash(method, body)

    async def once(conn: asyncpg.Connection) -> T:
        earlier = await lookup(conn, request_id, method, digest) if request_id else None
        if earlier is not None:
            return decode(earlier)
        result = await tx(conn)
        if request_id:
            await record(conn, request_id, method, digest, encode(result),
                         target.ksid if isinstance(target, Route) else None)
        return result

    return await run_transaction(target, method, once)
