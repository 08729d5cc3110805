"""SQL of the saga log (commerce keyspace, on the shard of the saga's user)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from gateway.records.commerce import (
    OrderSagaState,
    SagaFailure,
    SagaRecord,
    SagaState,
    saga_state_from_json,
)
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.range_map import served

SAGA_COLUMNS = ("saga_id, kind, state, user_id, order_id, request_id, data, steps, "
                "failure_reason, attempts, lease_until, created_at, updated_at")
UNFINISHED = ("running", "compensating")


def _saga(row: asyncpg.Record | dict[str, Any]) -> SagaRecord:
    fields = dict(row)
    for key in ("data", "steps"):
        if isinstance(fields[key], str):
            fields[key] = json.loads(fields[key])
    fields["data"] = saga_state_from_json(fields["kind"], fields["data"])
    return SagaRecord(**fields)


async def insert(conn: asyncpg.Connection, saga_id: str, ksid: bytes, kind: str, user_id: str,
                 order_id: str, request_id: str, data: SagaState, lease_s: float
                 ) -> SagaRecord | None:
    """The new saga, or None when one with this id exists already."""
    row = await conn.fetchrow(
        f"""INSERT INTO sagas (saga_id, keyspace_id, kind, state, user_id, order_id, request_id,
                               data, lease_until)
            VALUES ($1, $2, $3, 'running', $4, $5, $6, $7::jsonb,
                    now() + make_interval(secs => $8))
            ON CONFLICT (saga_id) DO NOTHING
            RETURNING {SAGA_COLUMNS}""",
        saga_id, ksid, kind, user_id, order_id, request_id, json.dumps(data.to_json()), lease_s)
    return _saga(row) if row else None


async def get(conn: asyncpg.Connection, saga_id: str, *, lock: bool = False) -> SagaRecord | None:
    row = await conn.fetchrow(
        f"SELECT {SAGA_COLUMNS} FROM sagas WHERE saga_id = $1{' FOR UPDATE' if lock else ''}",
        saga_id)
    return _saga(row) if row else None


async def log_step(conn: asyncpg.Connection, saga_id: str, name: str, outcome: str,
                   detail: str = "", *, state: str | None = None, failure_reason: str | None = None,
                   done_before: tuple[str, ...] = (), forget: tuple[str, ...] = ()) -> None:
    """Append a step to the log, optionally moving the saga's state.

    `done_before` logs steps that finished earlier in the same statement (a
    step whose effect is idempotent and compensated blindly needs no write of
    its own before the next one starts). `forget` removes keys of the saga's
    data that no later step needs (a card token, once the payment exists).
    """
    at = datetime.now().astimezone().isoformat()
    entries = [{"name": n, "outcome": "done", "detail": "", "at": at} for n in done_before]
    entries.append({"name": name, "outcome": outcome, "detail": detail, "at": at})
    await conn.execute(
        """UPDATE sagas SET steps = steps || $2::jsonb, state = coalesce($3, state),
                            failure_reason = coalesce($4, failure_reason),
                            data = data - $5::text[], updated_at = now()
           WHERE saga_id = $1""",
        saga_id, json.dumps(entries), state, failure_reason, list(forget))


async def record_failure(conn: asyncpg.Connection, saga_id: str, failure: SagaFailure,
                         retryable: bool) -> None:
    """Keep, in a placing saga's data, why it failed and whether a retry may
    place the order afresh.

    Compensation writes them before its first step: a duplicate of the
    request answers from them once the saga is compensated, and a recovery
    that takes over the compensation reports the same failure. They are
    merged into the data rather than replacing it, as the compensation
    still reads the draft beside them.
    """
    await conn.execute("UPDATE sagas SET data = data || $2::jsonb WHERE saga_id = $1",
                       saga_id, json.dumps(OrderSagaState.failure_json(failure, retryable)))


async def get_with_user(conn: asyncpg.Connection, saga_id: str, user_id: str
                        ) -> tuple[SagaRecord | None, bool]:
    """The saga (if any) and whether the user exists and is not erased, in one
    round trip."""
    row = await conn.fetchrow(
        f"""SELECT s.*, EXISTS (SELECT 1 FROM users WHERE user_id = $2 AND erased_at IS NULL)
                   AS user_exists
            FROM (SELECT 1) AS one
            LEFT JOIN (SELECT {SAGA_COLUMNS} FROM sagas WHERE saga_id = $1) AS s ON TRUE""",
        saga_id, user_id)
    assert row is not None
    exists = bool(row["user_exists"])
    if row["saga_id"] is None:
        return None, exists
    return _saga({k: v for k, v in row.items() if k != "user_exists"}), exists


async def get_locked_with_user(conn: asyncpg.Connection, saga_id: str, user_id: str
                               ) -> tuple[SagaRecord | None, datetime | None]:
    """The saga locked for update, and when its user was erased (None: not
    erased), with the user's row key-share locked: an erasure, which locks
    that row for update, waits for this transaction, or this one waits for
    the erasure and sees it.

    The user's row is locked first, in a statement of its own, as
    erasure_store.lock_user orders a user's locks: the erasure holds that row
    while it updates the user's sagas, so taking the saga first deadlocks
    against it (one statement's row-lock order is unspecified).
    """
    erased = await conn.fetchval(
        "SELECT erased_at FROM users WHERE user_id = $1 FOR KEY SHARE", user_id)
    return await get(conn, saga_id, lock=True), erased if isinstance(erased, datetime) else None


async def restart(conn: asyncpg.Connection, saga_id: str, data: OrderSagaState, lease_s: float
                  ) -> SagaRecord | None:
    """Run a compensated saga again with fresh data; None if it is not compensated."""
    row = await conn.fetchrow(
        f"""UPDATE sagas SET state = 'running', data = $2::jsonb, failure_reason = '',
                             steps = steps || '[{{"name": "restart", "outcome": "done",
                                                  "detail": "retried by its caller"}}]'::jsonb,
                             lease_until = now() + make_interval(secs => $3), updated_at = now()
            WHERE saga_id = $1 AND state = 'compensated' RETURNING {SAGA_COLUMNS}""",
        saga_id, json.dumps(data.to_json()), lease_s)
    return _saga(row) if row else None


async def claim_abandoned(conn: asyncpg.Connection, limit: int, lease_s: float,
                          ranges: list[KeyRange]) -> list[SagaRecord]:
    """Unfinished sagas of `ranges` (the shard's, by the range map) whose
    lease ran out, leased to the caller for `lease_s`.

    SKIP LOCKED lets several gateways recover the same shard without taking
    the same saga twice.
    """
    condition, bounds = served(ranges, 3)
    rows = await conn.fetch(
        f"""UPDATE sagas SET lease_until = now() + make_interval(secs => $2),
                             attempts = attempts + 1, updated_at = now()
            WHERE saga_id IN (
                SELECT saga_id FROM sagas
                WHERE state IN ('running', 'compensating') AND lease_until < now()
                  AND {condition}
                ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING {SAGA_COLUMNS}""",
        limit, lease_s, *bounds)
    return [_saga(r) for r in rows]


async def oldest_unfinished_s(conn: asyncpg.Connection, ranges: list[KeyRange]) -> float:
    """Seconds since the oldest unfinished saga of `ranges` started (0: none)."""
    condition, bounds = served(ranges, 1)
    return float(await conn.fetchval(
        f"""SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM sagas
            WHERE state IN ('running', 'compensating') AND {condition}""", *bounds))


async def list_unfinished(conn: asyncpg.Connection, older_than_s: float, limit: int,
                          ranges: list[KeyRange]) -> list[SagaRecord]:
    """Unfinished sagas of `ranges` older than `older_than_s`, oldest first."""
    condition, bounds = served(ranges, 3)
    rows = await conn.fetch(
        f"""SELECT {SAGA_COLUMNS} FROM sagas
            WHERE state IN ('running', 'compensating')
              AND created_at < now() - make_interval(secs => $1) AND {condition}
            ORDER BY created_at LIMIT $2""",
        older_than_s, limit, *bounds)
    return [_saga(r) for r in rows]


async def existing(conn: asyncpg.Connection, saga_ids: list[str]) -> set[str]:
    """Which of `saga_ids` this shard has."""
    rows = await conn.fetch("SELECT saga_id FROM sagas WHERE saga_id = ANY($1::text[])",
                            saga_ids)
    return {r["saga_id"] for r in rows}


async def completed_since(conn: asyncpg.Connection, since: datetime, ranges: list[KeyRange]
                          ) -> list[SagaRecord]:
    """Completed sagas of `ranges` last changed at or after `since`."""
    condition, bounds = served(ranges, 2)
    rows = await conn.fetch(
        f"""SELECT {SAGA_COLUMNS} FROM sagas
            WHERE state = 'completed' AND updated_at >= $1 AND {condition}
            ORDER BY updated_at""",
        since, *bounds)
    return [_saga(r) for r in rows]
