"""The background jobs' election (storage/postgres/election.py) on the real
server: one holder of a key at a time, and a holder whose session ends is
replaced by a waiting campaigner."""

from __future__ import annotations

import asyncio

import pytest

from gateway.runtime.server import Gateway
from gateway.storage.postgres.election import Election
from tests.helpers import eventually, keyspace_dsn, sql

pytestmark = pytest.mark.asyncio(loop_scope="session")

KEY = 7_700_001


class Campaigner:
    def __init__(self, dsn: str, key: int = KEY) -> None:
        self.changes: list[str] = []
        self.election = Election(dsn, key, self._won, self._lost)
        self.task = asyncio.create_task(self.election.run())

    async def _won(self) -> None:
        self.changes.append("elected")

    async def _lost(self) -> None:
        self.changes.append("lost")

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _holders(gateway: Gateway, key: int = KEY) -> list[int]:
    """The backend pids holding the advisory lock `key`."""
    rows = await sql(gateway, "catalog",
                     "SELECT array_agg(pid) FROM pg_locks WHERE locktype = 'advisory' "
                     "AND granted AND ((classid::bigint << 32) | objid::bigint) = $1", key)
    return list(rows or [])


async def test_one_holder_and_a_waiter_takes_over_when_its_session_ends(
        gateway: Gateway) -> None:
    dsn = keyspace_dsn(gateway, "catalog")
    first = Campaigner(dsn)
    await eventually(lambda: _true(first.election.elected), "the first campaigner elected")
    second = Campaigner(dsn)
    try:
        # The second waits on the server (a blocked statement), not elected.
        await eventually(lambda: _waiting(gateway), "the second campaigner waiting for the lock")
        assert (first.election.elected, second.election.elected) == (True, False)
        assert len(await _holders(gateway)) == 1

        # The holder's session ends (a crash, a kill, a network loss): the
        # server releases the lock, the waiter gets it, the old holder stops.
        [holder] = await _holders(gateway)
        await sql(gateway, "catalog", "SELECT pg_terminate_backend($1)", holder)
        await eventually(lambda: _true(second.election.elected), "the waiter elected")
        await eventually(lambda: _true(first.changes == ["elected", "lost"]),
                         "the old holder told it lost")
        assert second.changes == ["elected"]
    finally:
        await first.stop()
        await second.stop()
    # Cancelled while elected: it is told, and the session (and lock) is gone.
    assert second.changes == ["elected", "lost"]
    await eventually(lambda: _no_holder(gateway), "the lock released")


async def _true(value: bool) -> bool:
    return value


async def _waiting(gateway: Gateway) -> bool:
    return bool(await sql(gateway, "catalog",
                          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                          "AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = $1",
                          KEY))


async def _no_holder(gateway: Gateway) -> bool:
    return not await _holders(gateway)
