"""Idempotent writes by request_id, recorded in the same transaction as the write.

Because the record commits atomically with the change, a retry after a crash
or a lost response finds either both or neither, and never repeats the work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from gateway.errors import AlreadyExists
from gateway.storage.postgres.pool import Shard

T = TypeVar("T")


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
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (request_id, method, request_hash, response) "
        "VALUES ($1, $2, $3, $4::jsonb)",
        request_id, method, request_hash, json.dumps(response),
    )


def request_hash(method: str, body: dict[str, Any]) -> bytes:
    """What identifies a request's payload: same method and body, same hash."""
    blob = json.dumps({"m": method, **body}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).digest()


async def wal_position(conn: asyncpg.Connection) -> str:
    """The primary's WAL insert position, the raw material of consistency tokens."""
    return str(await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text"))


async def run_idempotent(
    shard: Shard,
    method: str,
    request_id: str,
    body: dict[str, Any],
    tx: Callable[[asyncpg.Connection], Awaitable[T]],
    encode: Callable[[T], dict[str, Any]],
    decode: Callable[[dict[str, Any]], T],
) -> tuple[T, str]:
    """Run `tx` in one transaction on the shard's primary, once per request_id.

    Returns the result (the stored one for a repeated request) and the WAL
    position after COMMIT: a replica that has replayed this far has the commit
    record too. A replayed request gets a fresh position, past its original.
    An empty request_id runs `tx` without a record.
    """
    digest = request_hash(method, body)
    async with shard.connection(method) as conn:
        async with conn.transaction():
            earlier = await lookup(conn, request_id, method, digest) if request_id else None
            if earlier is not None:
                result = decode(earlier)
            else:
                result = await tx(conn)
                if request_id:
                    await record(conn, request_id, method, digest, encode(result))
        lsn = await wal_position(conn)
    return result, lsn
