"""run_transaction runs a transaction again whole when PostgreSQL aborted it
for a deadlock or a serialization failure, and answers ABORTED, never
INTERNAL, once its attempts run out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg
import pytest

from gateway.errors import Aborted
from gateway.storage.postgres import idempotency
from gateway.storage.postgres.pool import Shard


class _Conn:
    def transaction(self) -> Any:
        @asynccontextmanager
        async def tx() -> AsyncIterator[None]:
            yield

        return tx()

    async def fetchval(self, query: str, *args: object) -> str:
        return "00000001.0/1"  # the timeline and WAL position

    async def fetchrow(self, query: str, *args: object) -> dict[str, str]:
        return {"lsn": "0/0", "xid": "1"}  # the commit mark


class _Shard:
    keyspace = "commerce"
    index = 0

    @asynccontextmanager
    async def connection(self, operation: str) -> AsyncIterator[_Conn]:
        yield _Conn()


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "FIRST_BACKOFF_S", 0.0)


def _failing(times: int, exc: type[Exception]) -> tuple[list[int], Any]:
    runs: list[int] = []

    async def tx(conn: asyncpg.Connection) -> str:
        runs.append(1)
        if len(runs) <= times:
            raise exc("aborted by a concurrent transaction")
        return "done"

    return runs, tx


@pytest.mark.parametrize("exc", [asyncpg.exceptions.DeadlockDetectedError,
                                 asyncpg.exceptions.SerializationError])
async def test_a_conflict_runs_the_transaction_again(exc: type[Exception]) -> None:
    runs, tx = _failing(idempotency.MAX_ATTEMPTS - 1, exc)
    result = await idempotency.run_transaction(cast(Shard, _Shard()), "WRITE order", tx)
    assert result == ("done", "00000001.0/1.0/0.1")
    assert len(runs) == idempotency.MAX_ATTEMPTS


async def test_conflicts_past_the_attempts_are_aborted() -> None:
    runs, tx = _failing(idempotency.MAX_ATTEMPTS, asyncpg.exceptions.DeadlockDetectedError)
    with pytest.raises(Aborted) as caught:
        await idempotency.run_transaction(cast(Shard, _Shard()), "WRITE order", tx)
    assert caught.value.reason == "TRANSACTION_CONFLICT"
    assert caught.value.metadata["sqlstate"] == "40P01"
    assert caught.value.metadata["attempts"] == str(idempotency.MAX_ATTEMPTS)
    assert len(runs) == idempotency.MAX_ATTEMPTS


async def test_other_errors_are_not_retried() -> None:
    runs, tx = _failing(1, asyncpg.exceptions.UniqueViolationError)
    with pytest.raises(asyncpg.exceptions.UniqueViolationError):
        await idempotency.run_transaction(cast(Shard, _Shard()), "WRITE order", tx)
    assert len(runs) == 1
