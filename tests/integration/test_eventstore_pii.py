"""The PII envelope (crypto-shredding) on a real commerce shard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from gateway.errors import FailedPrecondition
from gateway.records.events import ENVELOPE, Opened, without_envelope
from gateway.runtime.server import Gateway
from gateway.storage.eventstore import pii
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes

pytestmark = pytest.mark.integration


@pytest.fixture
async def conn(gateway: Gateway) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(gateway.backends.keyspaces["commerce"].shards[0].dsn)
    try:
        yield c
    finally:
        await c.close()


def _ksid(user_id: str) -> bytes:
    return ksid_bytes(keyspace_id(user_id))


def _user(prefix: str, uid: str) -> str:
    """A user id on shard 0, which these tests write directly: its fence
    refuses the keys of users whose keyspace id it does not own."""
    n = 0
    while keyspace_id(f"{prefix}-{uid}-{n}") >= 1 << 63:
        n += 1
    return f"{prefix}-{uid}-{n}"


async def _seal(conn: asyncpg.Connection, user_id: str, data: dict[str, object]
                ) -> dict[str, object]:
    async with conn.transaction():
        return await pii.seal(conn, user_id, _ksid(user_id), data)


async def test_seal_hides_the_data_and_open_all_reads_it_back(
        conn: asyncpg.Connection, uid: str) -> None:
    user = _user("pii", uid)
    env = await _seal(conn, user, {"email": "a@example.com", "name": "Ann"})
    assert set(env) == {"user_id", "v", "nonce", "ciphertext"}
    assert env["user_id"] == user and env["v"] == 1
    assert "a@example.com" not in json.dumps(env) and "Ann" not in json.dumps(env)
    opened = await pii.open_all(conn, [{"x": 1, ENVELOPE: env}, {"x": 2}])
    assert opened == [Opened(pii={"email": "a@example.com", "name": "Ann"}),
                      Opened()]
    assert without_envelope({"x": 1, ENVELOPE: env}) == {"x": 1}


async def test_one_key_per_user_even_when_first_uses_race(
        gateway: Gateway, conn: asyncpg.Connection, uid: str) -> None:
    dsn = gateway.backends.keyspaces["commerce"].shards[0].dsn
    user = _user("race", uid)

    async def one(n: int) -> dict[str, object]:
        c = await asyncpg.connect(dsn)
        try:
            return await _seal(c, user, {"n": n})
        finally:
            await c.close()

    envelopes = await asyncio.gather(*(one(n) for n in range(6)))
    assert await conn.fetchval("SELECT count(*) FROM user_keys WHERE user_id = $1", user) == 1
    opened = await pii.open_all(conn, [{ENVELOPE: e} for e in envelopes])
    assert [o.pii for o in opened] == [{"n": n} for n in range(6)]


async def test_an_envelope_moved_to_another_user_does_not_open(
        conn: asyncpg.Connection, uid: str) -> None:
    env = await _seal(conn, _user("a", uid), {"email": "a@example.com"})
    await _seal(conn, _user("b", uid), {"email": "b@example.com"})
    forged = {**env, "user_id": _user("b", uid)}
    assert await pii.open_all(conn, [{ENVELOPE: forged}]) == [Opened(erased=True)]


async def test_erased_key_makes_every_envelope_unreadable_and_blocks_new_ones(
        conn: asyncpg.Connection, uid: str) -> None:
    user, other = _user("gone", uid), _user("kept", uid)
    first = await _seal(conn, user, {"email": "g@example.com"})
    second = await _seal(conn, user, {"street": "1 Main St"})
    kept = await _seal(conn, other, {"email": "k@example.com"})
    async with conn.transaction():
        assert await pii.erase_key(conn, user) is True
    async with conn.transaction():
        assert await pii.erase_key(conn, user) is False
    opened = await pii.open_all(conn, [{ENVELOPE: e} for e in (first, second, kept)])
    assert opened == [Opened(erased=True), Opened(erased=True),
                      Opened(pii={"email": "k@example.com"})]
    row = await conn.fetchrow("SELECT key, erased_at FROM user_keys WHERE user_id = $1", user)
    assert row is not None and row["key"] is None and row["erased_at"] is not None
    with pytest.raises(FailedPrecondition) as err:
        await _seal(conn, user, {"email": "again@example.com"})
    assert err.value.reason == "USER_ERASED"
    assert err.value.code is grpc.StatusCode.FAILED_PRECONDITION


async def test_erasing_a_user_without_a_key_prevents_one_later(
        conn: asyncpg.Connection, uid: str) -> None:
    user = _user("never", uid)
    async with conn.transaction():
        assert await pii.erase_key(conn, user) is False
    with pytest.raises(FailedPrecondition):
        await _seal(conn, user, {"email": "n@example.com"})
