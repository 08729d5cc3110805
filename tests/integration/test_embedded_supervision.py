"""Crashed embedded servers are restarted (gateway/runtime/embedded/supervisor.py).

A dedicated stack (2 commerce shards) with an in-process gateway on it
(tests/embedded_stack.py): the session's gateway must not lose its servers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from datagw.v1 import user_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway
from tests.commerce import Shop, user_on_shard
from tests.embedded_stack import gateway_on
from tests.helpers import eventually

pytestmark = pytest.mark.integration

SUPERVISOR = "gateway.runtime.embedded.supervisor"
SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass
class Supervised:
    stack: EmbeddedBackends
    gateway: Gateway
    channel: grpc.aio.Channel
    shop: Shop


@pytest.fixture
async def supervised() -> AsyncIterator[Supervised]:
    # Not under pytest's tmp dir: PostgreSQL runs as its own user (see conftest).
    where = Path(tempfile.mkdtemp(prefix="datagw-supervised-"))
    stack = EmbeddedBackends(where / "data", ephemeral=False, shards=2)
    await asyncio.to_thread(stack.start)
    try:
        async with gateway_on(stack, where) as (gw, channel):
            yield Supervised(stack, gw, channel, Shop.on(channel))
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(where, ignore_errors=True)


def _kill9(server: EmbeddedPostgres) -> int:
    pid = server.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    return pid


async def test_a_killed_shard_primary_is_restarted_with_its_data_and_serves_again(
    supervised: Supervised, caplog: pytest.LogCaptureFixture, uid: str
) -> None:
    caplog.set_level(logging.INFO, logger=SUPERVISOR)
    gw, shop = supervised.gateway, supervised.shop
    user = user_on_shard(gw, f"{uid}-sup", 1)
    await shop.user(user)
    shard = supervised.stack.shards[1]
    port = shard.port
    killed = _kill9(shard)

    async def restarted() -> bool:
        return "embedded postgres shard 1 restarted" in caplog.text

    await eventually(restarted, "the supervisor restarts shard 1", within_s=30)
    assert ("embedded postgres shard 1 exited with signal 9 (SIGKILL); restarting in 0.5 s"
            in caplog.text)
    assert shard.pid not in (None, killed) and shard.port == port
    # Nothing else was touched.
    assert "embedded postgres shard 0" not in caplog.text

    health = health_pb2_grpc.HealthStub(supervised.channel)

    async def serving() -> bool:
        response = await health.Check(
            health_pb2.HealthCheckRequest(service="datagw.shard.commerce.1"))
        return response.status == SERVING

    await eventually(serving, "shard 1 health SERVING again", within_s=20)

    async def answers() -> bool:
        try:
            got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=user))
        except grpc.aio.AioRpcError as exc:
            assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
            return False
        # The row written before the crash is there (fsync=on, WAL replayed).
        assert got.user.user_id == user
        return True

    await eventually(answers, "shard 1 answers calls again", within_s=20)
    later = user_on_shard(gw, f"{uid}-after", 1)
    assert (await shop.user(later)).user_id == later


async def test_a_crash_loop_backs_off_and_a_deliberate_stop_stays_down(
    supervised: Supervised, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SUPERVISOR)
    valkey = supervised.stack.valkey
    for delay in ("0.5", "1.0"):
        pid = valkey.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

        async def restarted(pid: int = pid) -> bool:
            return valkey.pid not in (None, pid)

        await eventually(restarted, "valkey restarted", within_s=30)
        assert (f"embedded valkey exited with signal 9 (SIGKILL); restarting in {delay} s"
                in caplog.text)
    assert caplog.text.count("embedded valkey restarted") == 2

    shard = supervised.stack.shards[0]
    await asyncio.to_thread(shard.stop)
    # Several supervisor rounds (ROUND_S 1 s, first backoff 0.5 s) pass.
    await asyncio.sleep(2)
    assert not shard.is_running()
    assert "postgres shard 0" not in caplog.text
    await asyncio.to_thread(shard.start)
