"""A server that hangs (SIGSTOP: sockets open, nothing answers) fails its
calls fast with UNAVAILABLE naming it, flips its health, and comes back by
itself; a hung replica never makes a read wait (issue 12, fail fast)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    session_pb2,
    session_pb2_grpc,
    user_pb2,
)
from google.protobuf.duration_pb2 import Duration
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway
from tests.commerce import Shop, user_on_shard
from tests.helpers import eventually, fails, frozen, get, metric, product, upsert
from tests.policy_fixtures import POLICIES, running_gateway

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# Far beyond what failing fast takes: a call that waits for it would end in
# DEADLINE_EXCEEDED, which the assertions on UNAVAILABLE refuse.
CALLER_DEADLINE_S = 20.0


async def _healthy(admin: admin_pb2_grpc.AdminServiceStub, name: str) -> bool:
    resp = await admin.GetTopology(admin_pb2.GetTopologyRequest())
    return {b.name: b.healthy for b in resp.backends}[name]


async def test_a_hung_shard_primary_fails_fast_flips_health_and_recovers(
    gateway: Gateway, shop: Shop, channel: grpc.aio.Channel,
    admin: admin_pb2_grpc.AdminServiceStub, uid: str,
) -> None:
    assert gateway.embedded is not None
    alive, stuck = user_on_shard(gateway, f"{uid}-ok", 0), user_on_shard(gateway, f"{uid}-h", 1)
    for user in (alive, stuck):
        await shop.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=user, email=f"{user}@example.com", request_id=f"{user}-c"))
    health = health_pb2_grpc.HealthStub(channel)

    async def shard_status() -> int:
        got = await health.Check(health_pb2.HealthCheckRequest(service="datagw.shard.commerce.1"))
        return int(got.status)

    def get(user: str) -> grpc.aio.UnaryUnaryCall[user_pb2.GetUserRequest,
                                                  user_pb2.GetUserResponse]:
        return shop.users.GetUser(user_pb2.GetUserRequest(user_id=user),
                                  timeout=CALLER_DEADLINE_S)

    def hung_trips() -> float:
        return metric("datagw_backend_circuit_trips_total",
                      backend="postgres/commerce/1/primary", cause="hung")

    trips = hung_trips()
    with frozen(gateway.embedded.shards[1].pid):
        # Calls on pooled connections and new ones alike.
        failures = await asyncio.gather(*(fails(get(stuck), grpc.StatusCode.UNAVAILABLE)
                                          for _ in range(8)))
        for failure in failures:
            assert failure.error_info is not None
            assert failure.error_info.reason == "BACKEND_UNAVAILABLE"
            meta = failure.error_info.metadata
            assert (meta["keyspace"], meta["shard"], meta["target"]) == ("commerce", "1",
                                                                         "primary")

        async def down() -> bool:
            return await shard_status() == NOT_SERVING and not await _healthy(
                admin, "postgres/commerce/1/primary")

        await eventually(down, "shard 1 NOT_SERVING and unhealthy in GetTopology")
        # The circuit is open: a call fails without waiting on the server.
        opened = await fails(get(stuck), grpc.StatusCode.UNAVAILABLE)
        assert opened.error_info is not None
        assert opened.error_info.metadata["cause"].startswith("no answer to a probe")
        assert hung_trips() == trips + 1
        # The other shard is untouched.
        got = await get(alive)
        assert got.user.user_id == alive

    async def back() -> bool:
        if await shard_status() != SERVING:
            return False
        got = await get(stuck)
        return got.user.user_id == stuck

    await eventually(back, "shard 1 serves again after SIGCONT")


async def test_a_hung_replica_never_makes_a_read_wait(
    gateway: Gateway, replica: EmbeddedPostgres, tmp_path: Path, uid: str
) -> None:
    dsn = replica.dsn.rsplit("/", 1)[0] + "/commerce"
    async with running_gateway(tmp_path, POLICIES, gateway,
                               replicas={"commerce": ((dsn,), ())}) as (gw2, channel, _):
        shop = Shop.on(channel)
        user = user_on_shard(gateway, uid, 0)
        await shop.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=user, email=f"{user}@example.com", request_id=f"{uid}-c"))
        bounded = common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS,
            max_staleness=Duration(seconds=5))

        def replica_reads() -> float:
            return metric("datagw_read_routes_total", domain="users",
                          level="bounded_staleness", target="replica")

        async def read() -> user_pb2.GetUserResponse:
            return await shop.users.GetUser(
                user_pb2.GetUserRequest(user_id=user, read_options=bounded), timeout=5)

        async def replica_serves() -> bool:
            before = replica_reads()
            try:
                await read()
            except grpc.aio.AioRpcError as exc:
                # Within the staleness bound, the replica may not have the user yet.
                assert exc.code() is grpc.StatusCode.NOT_FOUND, exc
                return False
            return replica_reads() > before

        await eventually(replica_serves, "the replica serves bounded_staleness reads")
        await read()  # the replica has the user
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        with frozen(replica.pid):
            # Every read succeeds (on the primary), none waits out its deadline.
            got = await asyncio.gather(*(read() for _ in range(24)))
            assert {g.user.user_id for g in got} == {user}

            async def replica_down() -> bool:
                return not await _healthy(admin, "postgres/commerce/0/replica0")

            await eventually(replica_down, "the hung replica is unhealthy in GetTopology")
            before = replica_reads()
            await read()
            assert replica_reads() == before
        await eventually(replica_serves, "the replica serves again after SIGCONT")
        assert gw2.backends.keyspaces["commerce"].shards[0].replicas[0].healthy


async def test_a_hung_valkey_bypasses_the_cache_and_fails_sessions_fast(
    gateway: Gateway, tmp_path: Path, uid: str
) -> None:
    async with running_gateway(tmp_path, POLICIES, gateway) as (_, channel, valkey):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        sessions = session_pb2_grpc.SessionServiceStub(channel)
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        sku = f"HANG-{uid}"
        await upsert(catalog, product(sku))
        assert (await get(catalog, sku)).sku == sku  # now cached
        with frozen(valkey.pid):
            # The catalog reads PostgreSQL; sessions, which live only in
            # Redis, fail with UNAVAILABLE naming it, not at the deadline.
            got = await catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku),
                                           timeout=CALLER_DEADLINE_S)
            assert got.product.sku == sku
            failure = await fails(sessions.CreateSession(
                session_pb2.CreateSessionRequest(user_id=uid), timeout=CALLER_DEADLINE_S),
                grpc.StatusCode.UNAVAILABLE)
            assert failure.error_info is not None
            assert failure.error_info.metadata["backend"] == "redis"

            async def redis_down() -> bool:
                return not await _healthy(admin, "redis")

            await eventually(redis_down, "the hung Valkey is unhealthy in GetTopology")

        async def sessions_back() -> bool:
            try:
                await sessions.CreateSession(session_pb2.CreateSessionRequest(user_id=uid))
            except grpc.aio.AioRpcError:
                return False
            return True

        await eventually(sessions_back, "sessions are served again after SIGCONT")


async def test_a_call_waiting_inside_a_transaction_is_cut_too(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """The update waits on a row lock inside its transaction when the server
    hangs: cut by the failed probe, its ROLLBACK on the way out must not wait
    on the silent server either (a cancel alone left it waiting)."""
    assert gateway.embedded is not None
    user = user_on_shard(gateway, f"{uid}-tx", 1)
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=user, email=f"{user}@example.com", request_id=f"{user}-c"))
    conn = await asyncpg.connect(gateway.backends.keyspaces["commerce"].shards[1].dsn)
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("SELECT 1 FROM users WHERE user_id = $1 FOR UPDATE", user)
        call = asyncio.ensure_future(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
            user_id=user, display_name="blocked", request_id=f"{user}-u"),
            timeout=CALLER_DEADLINE_S))

        async def waiting() -> bool:
            return call.done() or await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE NOT granted") > 0

        await eventually(waiting, "the update waits on the row lock")
        assert not call.done()
        with frozen(gateway.embedded.shards[1].pid):
            failure = await fails(call, grpc.StatusCode.UNAVAILABLE)
        assert failure.error_info is not None
        assert failure.error_info.metadata["shard"] == "1"
    finally:
        await tx.rollback()
        await conn.close()
    # Nothing of the cut update committed.
    await eventually(gateway.backends.keyspaces["commerce"].shards[1].check,
                     "shard 1 answers its probe after SIGCONT")
    got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=user))
    assert got.user.display_name != "blocked"
