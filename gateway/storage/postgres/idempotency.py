"""Idempotent writes by request_id, recorded in the same transaction as the write.

Because the record commits atomically with the change, a retry after a crash
or a lost response finds either both or neither, and never repeats the work.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from gateway.errors import AlreadyExists


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
