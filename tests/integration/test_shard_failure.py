"""One commerce shard down fails only what is routed to it, and comes back by itself."""

from __future__ import annotations

import asyncio

import grpc
from datagw.v1 import order_pb2, user_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.server import Gateway
from tests.commerce import Shop, user_on_shard
from tests.helpers import eventually, fails

ORDERS = "datagw.v1.OrderService"


async def test_a_stopped_shard_fails_only_its_users_and_recovers(
    gateway: Gateway, shop: Shop, channel: grpc.aio.Channel, uid: str
) -> None:
    assert gateway.embedded is not None
    alive, doomed = user_on_shard(gateway, f"{uid}-ok", 0), user_on_shard(gateway, f"{uid}-x", 1)
    await shop.user(alive)
    await shop.user(doomed)
    await shop.stocked(f"{uid}-f", 10)
    health = health_pb2_grpc.HealthStub(channel)

    async def shard_health() -> int:
        response = await health.Check(
            health_pb2.HealthCheckRequest(service="datagw.shard.commerce.1"))
        return int(response.status)

    server = gateway.embedded.shards[1]
    await asyncio.to_thread(server.stop)
    try:
        failure = await fails(shop.users.GetUser(user_pb2.GetUserRequest(user_id=doomed)),
                              grpc.StatusCode.UNAVAILABLE)
        assert failure.error_info is not None
        assert failure.error_info.reason == "BACKEND_UNAVAILABLE"
        assert (failure.error_info.metadata["keyspace"],
                failure.error_info.metadata["shard"]) == ("commerce", "1")
        await fails(shop.place(doomed, {f"{uid}-f": 1}, f"{uid}-o1"),
                    grpc.StatusCode.UNAVAILABLE)
        # The other shard works, orders included.
        got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=alive))
        assert got.user.user_id == alive
        placed = await shop.place(alive, {f"{uid}-f": 1}, f"{uid}-o2")
        assert placed.order.status == order_pb2.ORDER_STATUS_PLACED

        async def degraded() -> bool:
            return await shard_health() == health_pb2.HealthCheckResponse.NOT_SERVING

        await eventually(degraded, "health reports shard 1 down")
        service = await health.Check(health_pb2.HealthCheckRequest(service=ORDERS))
        assert service.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await asyncio.to_thread(server.start)

    async def answers() -> bool:
        try:
            await shop.users.GetUser(user_pb2.GetUserRequest(user_id=doomed))
            return True
        except grpc.aio.AioRpcError as exc:
            assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
            return False

    await eventually(answers, "shard 1 answers again without a gateway restart", within_s=20)
    placed = await shop.place(doomed, {f"{uid}-f": 1}, f"{uid}-o3")
    assert placed.order.status == order_pb2.ORDER_STATUS_PLACED

    async def healthy() -> bool:
        return await shard_health() == health_pb2.HealthCheckResponse.SERVING

    await eventually(healthy, "health reports shard 1 serving again")
    # The order that failed while the shard was down left nothing reserved.
    stock = await shop.stock(f"{uid}-f")
    assert (stock.on_hand, stock.reserved) == (8, 0)
