"""A shard's primary dies under CreateOrder load and its synchronous standby
is promoted: the gateway follows the promotion through a multi-host DSN
(target_session_attrs=read-write) without a restart; no acknowledged order
is lost, every saga finishes or compensates, nothing is oversold, and
read_your_writes tokens are never served stale (issue 12, failover)."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import admin_pb2, common_pb2, order_pb2
from google.protobuf.duration_pb2 import Duration

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway
from gateway.runtime.startup import create_database
from tests.commerce import Shop, reconciled
from tests.conftest import TEST_SAGAS
from tests.helpers import eventually, fails
from tests.policy_fixtures import POLICIES, running_gateway

pytestmark = pytest.mark.integration

# One scarce sku (the load sells it out: no oversell) and one plentiful one.
SKUS = {"FO-SCARCE": 25, "FO-PLENTY": 5000}
WORKERS = 6
# Orders acknowledged before the primary dies, and after the promotion.
BEFORE, AFTER = 15, 15


@dataclass
class Pair:
    primary: EmbeddedPostgres
    standby: EmbeddedPostgres



@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    # Not under pytest's tmp dir: the servers run as their own user (see conftest).
    where = Path(tempfile.mkdtemp(prefix="datagw-failover-"))
    primary = EmbeddedPostgres(where / "p")
    servers = [primary]
    try:
        await asyncio.to_thread(primary.start)
        servers.append(await asyncio.to_thread(primary.add_replica, where / "s"))
        yield Pair(primary, servers[1])
    finally:
        for server in reversed(servers):
            await asyncio.to_thread(server.stop)
        shutil.rmtree(where, ignore_errors=True)


async def _synchronous(pair: Pair) -> None:
    """Commits wait for the standby (set after the base backup, so the standby,
    once promoted, does not wait for a standby of its own)."""
    conn = await asyncpg.connect(pair.primary.dsn)
    try:
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()


async def _promote(server: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(server.dsn)
    try:
        assert await conn.fetchval("SELECT pg_promote(true, 30)")
    finally:
        await conn.close()


@dataclass
class Load:
    shop: Shop
    acked: dict[str, order_pb2.CreateOrderResponse] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def worker(self, n: int, users: list[str]) -> None:
        for i in itertools.count():
            if self.stop.is_set():
                return
            sku = "FO-SCARCE" if i % 2 else "FO-PLENTY"
            request_id = f"fo-{n}-{i}"
            try:
                placed = await self.shop.place(users[n], {sku: 1}, request_id)
            except grpc.aio.AioRpcError as exc:
                self.errors[exc.code().name] += 1
                await asyncio.sleep(0.05)
                continue
            self.acked[request_id] = placed
            self.items[request_id] = sku

    async def until(self, count: int) -> None:
        async def enough() -> bool:
            return len(self.acked) >= count

        await eventually(enough, f"{count} orders acknowledged", within_s=60)


async def test_a_promoted_synchronous_standby_loses_no_acknowledged_order(
    gateway: Gateway, pair: Pair, tmp_path: Path, uid: str
) -> None:
    names = list(gateway.opened.backends.keyspaces)
    for name in names:
        await create_database(pair.primary.dsn, name)
    await _synchronous(pair)
    keyspaces = {name: KeyspaceConfig(name, (pair.primary.cluster_dsn(name),)) for name in names}
    async with running_gateway(tmp_path, POLICIES, gateway, keyspaces=keyspaces,
                               sagas=TEST_SAGAS) as (gw2, channel, _):
        shop = Shop.on(channel)
        for sku, stock in SKUS.items():
            await shop.stocked(sku, stock, price_minor=300)
        users = [f"{uid}-{n}" for n in range(WORKERS)]
        for user in users:
            await shop.user(user)
        load = Load(shop)
        workers = [asyncio.create_task(load.worker(n, users)) for n in range(WORKERS)]
        try:
            await load.until(BEFORE)
            before = len(load.acked)
            await asyncio.to_thread(pair.primary.kill)
            await _promote(pair.standby)
            await load.until(before + AFTER)
        finally:
            load.stop.set()
            await asyncio.gather(*workers)

        # The failover cost retryable refusals only: no INTERNAL, no hang.
        assert set(load.errors) <= {"UNAVAILABLE"}, load.errors
        commerce = gw2.backends.keyspaces["commerce"].shards[0]
        assert commerce.timeline == 2 and commerce.healthy
        topology = await shop.admin.GetTopology(admin_pb2.GetTopologyRequest())
        shown = {b.name: b for b in topology.backends}[commerce.name]
        assert (shown.timeline, shown.healthy) == (2, True)

        async def settled() -> bool:
            stuck = await shop.admin.ListStuckSagas(
                admin_pb2.ListStuckSagasRequest(older_than=Duration(seconds=0)))
            return not stuck.sagas and not stuck.unavailable_shards

        await eventually(settled, "every saga completed or compensated", within_s=60)

        # Every acknowledged order is there, read with its own token: the
        # tokens from before the failover are honoured (their writes reached
        # the standby), none is served stale.
        for request_id, placed in load.acked.items():
            got = await shop.orders.GetOrder(order_pb2.GetOrderRequest(
                order_id=placed.order.order_id, read_options=common_pb2.ReadOptions(
                    consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
                    consistency_token=placed.consistency_token)))
            assert got.order.order_id == placed.order.order_id, request_id
        # A token of the old timeline whose commit lies beyond the switch
        # point names a write the new primary never had: refused, not
        # answered from the new data. One that cannot tell is refused too.
        old = next(p.consistency_token for p in load.acked.values()
                   if ".00000001." in p.consistency_token)
        head, (_, start, xid) = old.split(".00000001.")[0], old.rsplit(".", 2)
        some_order = next(iter(load.acked.values())).order.order_id
        # One whose commit may straddle the switch point (its end unknown) is
        # settled by its transaction, which the new primary has committed.
        straddling = f"{head}.00000001.FF/0.{start}.{xid}"
        got = await shop.orders.GetOrder(order_pb2.GetOrderRequest(
            order_id=some_order, read_options=common_pb2.ReadOptions(
                consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
                consistency_token=straddling)))
        assert got.order.order_id == some_order
        for token, reason in ((f"{head}.00000001.FF/0.FE/0.{xid}", "WRITE_LOST_IN_FAILOVER"),
                              (f"{head}.00000001.FF/0", "WRITE_MAYBE_LOST_IN_FAILOVER")):
            refused = await fails(shop.orders.GetOrder(order_pb2.GetOrderRequest(
                order_id=some_order, read_options=common_pb2.ReadOptions(
                    consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
                    consistency_token=token))), grpc.StatusCode.FAILED_PRECONDITION)
            assert refused.error_info is not None
            assert refused.error_info.reason == reason

    order_ids, _ = await reconciled(
        [await asyncpg.connect(pair.standby.dsn.rsplit("/", 1)[0] + "/commerce")],
        await asyncpg.connect(pair.standby.dsn.rsplit("/", 1)[0] + "/inventory"), SKUS)
    assert {p.order.order_id for p in load.acked.values()} <= order_ids
