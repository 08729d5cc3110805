"""SessionService against the real embedded Valkey: TTLs, sliding expiry, limits, hash tags."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import redis.asyncio as aioredis
from datagw.v1 import session_pb2, session_pb2_grpc
from google.protobuf.duration_pb2 import Duration

from gateway.records.sessions import SessionRecord
from gateway.runtime.server import Gateway
from gateway.storage.redis.sessions_store import user_tag
from tests.helpers import fails, invalid
from tests.policy_fixtures import copy_policies, edit, running_gateway

pytestmark = pytest.mark.integration

Stub = session_pb2_grpc.SessionServiceStub
POLICY_TTL_S = 30 * 60
# Generous: the point is "the policy's ttl, not another one", not latency.
TOLERANCE_S = 30.0
SESSION_KEYS = "dgw:sessions:v1:*"


def ttl(seconds: float) -> Duration:
    d = Duration()
    d.FromMilliseconds(int(seconds * 1000))
    return d


def seconds_left(s: session_pb2.Session) -> float:
    return s.expire_time.ToMilliseconds() / 1000 - time.time()


async def create(stub: Stub, user: str, lifetime: float | None = None,
                 **data: str) -> session_pb2.Session:
    req = session_pb2.CreateSessionRequest(user_id=user, data=data)
    if lifetime is not None:
        req.ttl.CopyFrom(ttl(lifetime))
    return (await stub.CreateSession(req)).session


async def get(stub: Stub, session_id: str) -> session_pb2.Session:
    return (await stub.GetSession(session_pb2.GetSessionRequest(session_id=session_id))).session


async def listed(stub: Stub, user: str) -> list[str]:
    resp = await stub.ListUserSessions(session_pb2.ListUserSessionsRequest(user_id=user))
    return [s.session_id for s in resp.sessions]


async def expect_not_found(stub: Stub, session_id: str) -> None:
    failure = await fails(get(stub, session_id), grpc.StatusCode.NOT_FOUND)
    assert failure.error_info is not None
    assert failure.error_info.reason == "SESSION_NOT_FOUND"


@pytest.fixture
async def valkey(gateway: Gateway) -> AsyncIterator[aioredis.Redis]:
    assert gateway.embedded is not None
    client = aioredis.Redis.from_url(gateway.embedded.valkey.url)
    try:
        yield client
    finally:
        await client.aclose()


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def hash_tag(key: str) -> str:
    """The part of the key Redis Cluster hashes: the first non-empty {...}, else all."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def key_slot(key: str) -> int:
    return crc16_xmodem(hash_tag(key).encode()) % 16384


def test_crc16_matches_the_cluster_spec() -> None:
    # Reference values from the Redis Cluster specification.
    assert crc16_xmodem(b"123456789") == 0x31C3
    assert key_slot("foo") == 12182
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers")
    assert hash_tag("foo{}{bar}") == "foo{}{bar}"


async def test_create_returns_unguessable_id_and_round_trips(sessions: Stub, uid: str) -> None:
    user = f"u-{uid}"
    created = await create(sessions, user, cart="3 items", theme="dark")
    assert re.fullmatch(r"[0-9a-f]{12}\.[0-9a-f]{32}", created.session_id)
    other = await create(sessions, user)
    # Same user, same tag; the random part differs.
    assert created.session_id.split(".")[0] == other.session_id.split(".")[0]
    assert created.session_id != other.session_id
    assert created.user_id == user
    assert abs(seconds_left(created) - POLICY_TTL_S) < TOLERANCE_S

    got = await get(sessions, created.session_id)
    assert got.user_id == user
    assert dict(got.data) == {"cart": "3 items", "theme": "dark"}
    assert got.create_time == created.create_time


async def test_requested_ttl_is_honoured_and_capped(sessions: Stub, uid: str) -> None:
    short = await create(sessions, f"u-{uid}", 60)
    assert abs(seconds_left(short) - 60) < TOLERANCE_S
    # Sliding restarts the session's own ttl, not the policy's longer one.
    assert abs(seconds_left(await get(sessions, short.session_id)) - 60) < TOLERANCE_S
    touched = await sessions.TouchSession(
        session_pb2.TouchSessionRequest(session_id=short.session_id))
    assert abs(touched.expire_time.ToMilliseconds() / 1000 - time.time() - 60) < TOLERANCE_S

    for bad in (POLICY_TTL_S + 1, -5):
        await invalid(create(sessions, f"u-{uid}", bad), "ttl")
    assert len(await listed(sessions, f"u-{uid}")) == 1


async def test_session_expires(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}", 1)
    await asyncio.sleep(1.5)
    await expect_not_found(sessions, s.session_id)
    assert await listed(sessions, f"u-{uid}") == []


async def test_get_slides_the_expiry(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}")
    first = await get(sessions, s.session_id)
    await asyncio.sleep(1.1)
    second = await get(sessions, s.session_id)
    assert second.expire_time.ToMilliseconds() - first.expire_time.ToMilliseconds() >= 1000
    assert second.last_access_time.ToMilliseconds() > first.last_access_time.ToMilliseconds()


async def test_update_merges_and_removes(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}", a="1", b="2", c="3")
    # Non-ASCII and JSON-special text survives the Lua (cjson) round trip.
    tricky = {"b": "20", "d": "caf\u00e9 \U0001f600 \"q\" a/b", "1": "numeric key"}
    updated = (await sessions.UpdateSession(session_pb2.UpdateSessionRequest(
        session_id=s.session_id, data=tricky, remove_keys=["c", "missing"],
    ))).session
    expected = {"a": "1", **tricky}
    assert dict(updated.data) == expected
    assert dict((await get(sessions, s.session_id)).data) == expected

    emptied = (await sessions.UpdateSession(session_pb2.UpdateSessionRequest(
        session_id=s.session_id, remove_keys=["a", "b", "d", "1"],
    ))).session
    assert dict(emptied.data) == {}
    assert dict((await get(sessions, s.session_id)).data) == {}


async def test_update_beyond_the_entry_limit_is_refused(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}", **{f"k{i}": "v" for i in range(60)})
    await invalid(sessions.UpdateSession(session_pb2.UpdateSessionRequest(
        session_id=s.session_id, data={f"n{i}": "v" for i in range(60)})), "data")
    assert len((await get(sessions, s.session_id)).data) == 60


async def test_touch_extends_the_expiry(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}")
    await asyncio.sleep(0.05)
    touched = await sessions.TouchSession(session_pb2.TouchSessionRequest(
        session_id=s.session_id))
    assert touched.expire_time.ToMilliseconds() > s.expire_time.ToMilliseconds()


async def test_delete_then_get_is_not_found(sessions: Stub, uid: str) -> None:
    s = await create(sessions, f"u-{uid}")
    await sessions.DeleteSession(session_pb2.DeleteSessionRequest(session_id=s.session_id))
    await expect_not_found(sessions, s.session_id)
    assert await listed(sessions, f"u-{uid}") == []
    await fails(sessions.DeleteSession(session_pb2.DeleteSessionRequest(
        session_id=s.session_id)), grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("session_id", [
    "0123456789ab." + "0" * 32,  # well-formed, never issued
    "nope",
    "",
    "0123456789AB." + "0" * 32,  # upper-case hex is not what we issue
    "0123456789ab." + "0" * 31 + "\u00e9",
    "{x}.y:z*",
])
async def test_unknown_and_malformed_ids_are_not_found(sessions: Stub, session_id: str) -> None:
    await expect_not_found(sessions, session_id)
    for call, req in (
        (sessions.TouchSession, session_pb2.TouchSessionRequest(session_id=session_id)),
        (sessions.DeleteSession, session_pb2.DeleteSessionRequest(session_id=session_id)),
        (sessions.UpdateSession,
         session_pb2.UpdateSessionRequest(session_id=session_id, data={"a": "b"})),
    ):
        failure = await fails(call(req), grpc.StatusCode.NOT_FOUND)
        assert failure.error_info is not None
        assert failure.error_info.reason == "SESSION_NOT_FOUND"


async def test_list_user_sessions(sessions: Stub, uid: str) -> None:
    user, other = f"u-{uid}", f"o-{uid}"
    ids = []
    for _ in range(3):
        ids.append((await create(sessions, user)).session_id)
        await asyncio.sleep(0.01)  # distinct create times, so "newest first" is defined
    deleted = await create(sessions, user)
    await sessions.DeleteSession(session_pb2.DeleteSessionRequest(session_id=deleted.session_id))
    expiring = await create(sessions, user, 1)
    other_id = (await create(sessions, other)).session_id
    await asyncio.sleep(1.2)

    resp = await sessions.ListUserSessions(session_pb2.ListUserSessionsRequest(user_id=user))
    assert [s.session_id for s in resp.sessions] == list(reversed(ids))
    assert all(s.user_id == user for s in resp.sessions)
    assert expiring.session_id not in [s.session_id for s in resp.sessions]
    assert await listed(sessions, other) == [other_id]
    assert await listed(sessions, f"nobody-{uid}") == []


async def test_delete_user_sessions(sessions: Stub, uid: str) -> None:
    user, other = f"u-{uid}", f"o-{uid}"
    mine = [(await create(sessions, user)).session_id for _ in range(4)]
    theirs = (await create(sessions, other)).session_id
    resp = await sessions.DeleteUserSessions(
        session_pb2.DeleteUserSessionsRequest(user_id=user))
    assert resp.deleted_count == 4
    for sid in mine:
        await expect_not_found(sessions, sid)
    assert await listed(sessions, user) == []
    assert (await get(sessions, theirs)).user_id == other
    again = await sessions.DeleteUserSessions(
        session_pb2.DeleteUserSessionsRequest(user_id=user))
    assert again.deleted_count == 0


async def test_max_per_user_drops_the_oldest(gateway: Gateway, tmp_path: Path, uid: str) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "sessions.yaml", "max_per_user: 50", "max_per_user: 3")
    async with running_gateway(tmp_path, policies, gateway) as (_, channel, _valkey):
        stub = Stub(channel)
        user = f"u-{uid}"
        ids = []
        for _ in range(5):
            ids.append((await create(stub, user)).session_id)
            await asyncio.sleep(0.01)
        assert await listed(stub, user) == list(reversed(ids[2:]))
        for dropped in ids[:2]:
            await expect_not_found(stub, dropped)

        # A new session with a shorter ttl than the others is the newest, not
        # the oldest: the cap must not drop the session it just created.
        short = await create(stub, user, 60)
        assert (await get(stub, short.session_id)).session_id == short.session_id
        assert await listed(stub, user) == [short.session_id, ids[4], ids[3]]
        await expect_not_found(stub, ids[2])


@pytest.mark.parametrize(("request_kwargs", "field"), [
    ({"user_id": ""}, "user_id"),
    ({"user_id": "x" * 129}, "user_id"),
    ({"data": {f"k{i}": "v" for i in range(101)}}, "data"),
    ({"data": {"blob": "x" * (64 * 1024)}}, "data"),
    ({"data": {"": "empty key"}}, "data"),
])
async def test_invalid_create_stores_nothing(
    sessions: Stub, valkey: aioredis.Redis, uid: str, request_kwargs: dict[str, object],
    field: str,
) -> None:
    user = str(request_kwargs.pop("user_id", f"u-{uid}"))
    failure = await invalid(sessions.CreateSession(
        session_pb2.CreateSessionRequest(user_id=user, **request_kwargs)), field)
    assert failure.error_info is not None and failure.error_info.reason == "INVALID_ARGUMENT"
    if user:
        assert [k async for k in valkey.scan_iter(f"*{{{user_tag(user)}}}*")] == []


async def test_several_violations_are_reported_together(sessions: Stub) -> None:
    too_much = {f"k{i}": "v" for i in range(101)}
    # The gateway's own checks (data's limits, the policy's ttl) report together...
    await invalid(sessions.CreateSession(session_pb2.CreateSessionRequest(
        user_id="u", data=too_much, ttl=ttl(POLICY_TTL_S * 2))), "data", "ttl")
    # ...once the request passes the proto's rules (user_id), checked on entry.
    await invalid(sessions.CreateSession(session_pb2.CreateSessionRequest(
        user_id="", data=too_much, ttl=ttl(POLICY_TTL_S * 2))), "user_id")


async def test_a_users_keys_share_one_cluster_slot(
    sessions: Stub, valkey: aioredis.Redis, uid: str
) -> None:
    user = f"u-{uid}"
    ids = [(await create(sessions, user)).session_id for _ in range(3)]
    tag = ids[0].split(".")[0]
    keys = sorted([k.decode() async for k in valkey.scan_iter(SESSION_KEYS, count=1000)
                   if tag in k.decode()])
    session_keys = [k for k in keys if any(k.endswith(sid) for sid in ids)]
    index_keys = [k for k in keys if k.endswith(f":{user}")]
    assert len(session_keys) == 3 and len(index_keys) == 1, keys
    assert {hash_tag(k) for k in keys} == {tag}
    assert len({key_slot(k) for k in keys}) == 1
    # Sanity: the slot really depends on the tag, not on the whole key.
    assert key_slot(index_keys[0]) == crc16_xmodem(tag.encode()) % 16384


async def test_redis_down_is_unavailable_then_recovers(
    gateway: Gateway, sessions: Stub, uid: str
) -> None:
    assert gateway.embedded is not None
    valkey = gateway.embedded.valkey
    before = await create(sessions, f"u-{uid}")
    try:
        valkey.kill()
        for call in (get(sessions, before.session_id), create(sessions, f"u-{uid}")):
            info = (await fails(call, grpc.StatusCode.UNAVAILABLE)).error_info
            assert info is not None and info.reason == "BACKEND_UNAVAILABLE"
            assert info.metadata["backend"] == "redis"
    finally:
        await asyncio.to_thread(valkey.start)
    # The breaker may still be open for a moment after the restart.
    for _ in range(50):
        try:
            after = await create(sessions, f"u-{uid}")
            break
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAVAILABLE
            await asyncio.sleep(0.1)
    else:
        pytest.fail("sessions did not recover after valkey restarted")
    assert (await get(sessions, after.session_id)).user_id == f"u-{uid}"


def test_sessions_stored_before_ttl_ms_keep_their_first_lifetime() -> None:
    legacy = ('{"user_id":"u","data":{},"create_ms":1000,"expire_ms":61000,'
              '"last_access_ms":1000}')
    assert SessionRecord.decode("id", legacy).ttl_ms == 60_000
