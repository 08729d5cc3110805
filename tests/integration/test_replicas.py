"""Consistency levels on a real streaming replica (pg_basebackup -R).

A second gateway reads commerce shard 0 through a replica of the session
stack's shard-0 server. Replay is paused with pg_wal_replay_pause() to make
the replica fall behind on purpose.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    user_pb2,
)
from google.protobuf.duration_pb2 import Duration

from gateway.domain import tokens
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway
from gateway.storage.postgres.pool import Shard
from tests.commerce import Shop, user_on_shard
from tests.helpers import eventually, explain_request, metric
from tests.policy_fixtures import POLICIES, running_gateway


def _ryw(token: str) -> common_pb2.ReadOptions:
    return common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
                                  consistency_token=token)


def _routes(level: str, target: str) -> float:
    return metric("datagw_read_routes_total", domain="users", level=level, target=target)


async def _replay(replica: EmbeddedPostgres, action: str, database: str = "commerce") -> None:
    conn = await asyncpg.connect(replica.dsn.rsplit("/", 1)[0] + f"/{database}")
    try:
        await conn.execute(f"SELECT pg_wal_replay_{action}()")
    finally:
        await conn.close()


async def test_consistency_levels_route_by_replica_progress(
    gateway: Gateway, replica: EmbeddedPostgres, tmp_path: Path, uid: str
) -> None:
    dsn = replica.dsn.rsplit("/", 1)[0] + "/commerce"
    async with running_gateway(tmp_path, POLICIES, gateway,
                               replicas={"commerce": ((dsn,), ())}) as (gw2, channel, _):
        assert gw2.backends is not None
        shard: Shard = gw2.backends.keyspaces["commerce"].shards[0]
        lagging = shard.replicas[0]
        shop = Shop.on(channel)
        user = user_on_shard(gateway, uid, 0)
        created = await shop.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=user, email=f"{user}@example.com", request_id=f"{uid}-c"))
        position = tokens.position_for(created.consistency_token, "commerce", 0)
        assert position is not None
        first = position.lsn

        async def caught_up() -> bool:
            return lagging.replay_lsn >= first  # type: ignore[operator]

        await eventually(caught_up, "the replica replays the first write")
        await _replay(replica, "pause")
        try:
            updated = await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
                user_id=user, display_name="v2", request_id=f"{uid}-u"))
            assert updated.user.version == 2

            # The token of the latest write: the paused replica lacks it, so
            # the primary answers, never the older row.
            before = _routes("read_your_writes", "primary")
            got = await shop.users.GetUser(user_pb2.GetUserRequest(
                user_id=user, read_options=_ryw(updated.consistency_token)))
            assert got.user.version == 2
            assert _routes("read_your_writes", "primary") == before + 1

            # The token of the first write: the replica has it and serves it.
            before = _routes("read_your_writes", "replica")
            got = await shop.users.GetUser(user_pb2.GetUserRequest(
                user_id=user, read_options=_ryw(created.consistency_token)))
            assert got.user.version >= 1
            assert _routes("read_your_writes", "replica") == before + 1

            # bounded_staleness: once the paused replica is more than 1s
            # behind, a 1s bound goes to the primary and sees version 2.
            async def stale() -> bool:
                return lagging.staleness_s > 1.5

            await eventually(stale, "the paused replica falls behind")
            before = _routes("bounded_staleness", "primary")
            got = await shop.users.GetUser(user_pb2.GetUserRequest(
                user_id=user, read_options=common_pb2.ReadOptions(
                    consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS,
                    max_staleness=Duration(seconds=1))))
            assert got.user.version == 2
            assert _routes("bounded_staleness", "primary") == before + 1
        finally:
            await _replay(replica, "resume")

        # Caught up again, the replica serves the latest token too.
        async def replica_serves_latest() -> bool:
            before = _routes("read_your_writes", "replica")
            got = await shop.users.GetUser(user_pb2.GetUserRequest(
                user_id=user, read_options=_ryw(updated.consistency_token)))
            assert got.user.version == 2
            return _routes("read_your_writes", "replica") == before + 1

        await eventually(replica_serves_latest, "the resumed replica serves the latest write")

        # A dead replica is skipped: reads fall back to the primary.
        await asyncio.to_thread(replica.kill)
        got = await shop.users.GetUser(user_pb2.GetUserRequest(
            user_id=user, read_options=_ryw(created.consistency_token)))
        assert got.user.version == 2


@pytest.fixture(scope="module")
async def catalog_replica(gateway: Gateway) -> AsyncIterator[EmbeddedPostgres]:
    """A streaming replica of the server holding the catalog keyspace."""
    assert gateway.embedded is not None
    where = Path(tempfile.mkdtemp(prefix="datagw-catalog-replica-"))
    server = await asyncio.to_thread(gateway.embedded.postgres.add_replica, where / "r")
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(where, ignore_errors=True)


def _catalog_routes(level: str, target: str) -> float:
    return metric("datagw_read_routes_total", domain="catalog", level=level, target=target)


async def test_catalog_reads_use_a_replica_as_the_policy_allows(
    gateway: Gateway, catalog_replica: EmbeddedPostgres, tmp_path: Path, uid: str
) -> None:
    """strong reads the primary; eventual may read the replica (and sees its
    older row while replay is paused); bounded_staleness leaves a replica
    that fell behind its bound for the primary, and a cache entry filled from
    the replica counts as old as the replica was."""
    dsn = catalog_replica.dsn.rsplit("/", 1)[0] + "/catalog"
    sku = f"REPL-{uid}"[:64]
    async with running_gateway(tmp_path, POLICIES, gateway,
                               replicas={"catalog": ((dsn,),)}) as (gw2, channel, _):
        replica = gw2.backends.keyspaces["catalog"].shards[0].replicas[0]
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)

        async def upsert(title: str) -> None:
            await catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
                product=catalog_pb2.Product(
                    sku=sku, title=title, category="kitchen",
                    price=common_pb2.Money(amount_minor=100, currency_code="EUR"), active=True),
                request_id=f"{uid}-{title}"))

        async def get(level: int, staleness_s: int = 0) -> str:
            options = common_pb2.ReadOptions(consistency=level)
            if staleness_s:
                options.max_staleness.CopyFrom(Duration(seconds=staleness_s))
            got = await catalog.GetProduct(catalog_pb2.GetProductRequest(
                sku=sku, read_options=options))
            return got.product.title

        await upsert("v1")

        async def replica_has_v1() -> bool:
            conn = await asyncpg.connect(dsn)
            try:
                return await conn.fetchval(
                    "SELECT title FROM products WHERE sku = $1", sku) == "v1"
            finally:
                await conn.close()

        await eventually(replica_has_v1, "the catalog replica replays v1")

        async def tracked() -> bool:
            return replica.healthy and replica.replay_lsn > 0

        await eventually(tracked, "the gateway tracks the catalog replica")
        admin = admin_pb2_grpc.AdminServiceStub(channel)

        async def explained(level: int, staleness_s: int = 0) -> admin_pb2.ShardRoute:
            options = common_pb2.ReadOptions(consistency=level)
            if staleness_s:
                options.max_staleness.CopyFrom(Duration(seconds=staleness_s))
            got = await admin.ExplainCall(explain_request(
                "datagw.v1.CatalogService/GetProduct",
                catalog_pb2.GetProductRequest(sku=sku, read_options=options)))
            route: admin_pb2.ShardRoute = got.shards[0]
            return route

        # ExplainCall sees the same replica state the reads do.
        assert (await explained(common_pb2.CONSISTENCY_LEVEL_EVENTUAL)).node == "replica0"
        await _replay(catalog_replica, "pause", "catalog")
        try:
            await upsert("v2")
            strong = common_pb2.CONSISTENCY_LEVEL_STRONG
            before = _catalog_routes("strong", "primary")
            assert await get(strong) == "v2"
            assert _catalog_routes("strong", "primary") == before + 1

            # The write dropped the cached entry; the eventual read misses and
            # the replica (paused, still at v1) serves it.
            before = _catalog_routes("eventual", "replica")
            assert await get(common_pb2.CONSISTENCY_LEVEL_EVENTUAL) == "v1"
            assert _catalog_routes("eventual", "replica") == before + 1

            async def stale() -> bool:
                return replica.staleness_s > 1.5

            await eventually(stale, "the paused catalog replica falls behind")
            bounded = await explained(common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS, 1)
            assert (bounded.node, bounded.reason) == ("primary", "no healthy replica within 1s")
            # Neither the entry filled from the replica nor the replica itself
            # is within a 1 s bound: the primary answers.
            before = _catalog_routes("bounded_staleness", "primary")
            assert await get(common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS, 1) == "v2"
            assert _catalog_routes("bounded_staleness", "primary") == before + 1
        finally:
            await _replay(catalog_replica, "resume", "catalog")
