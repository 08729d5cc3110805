"""The gateway on a Valkey cluster (3 primaries, 3 replicas; tests/valkey_cluster.py).

In-process gateways borrow the session's PostgreSQL and use a fresh cluster
per test (redis.cluster: true, redis.url one node, redis.seeds the others).
Keys are placed on purpose: a product or a user is picked by the primary its
hash slot lives on, so a failover or a migration hits exactly the keys the
test then reads. The failover tests print what they measured (run with -s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import redis.asyncio.cluster as aiocluster
from datagw.v1 import catalog_pb2_grpc, session_pb2, session_pb2_grpc
from redis.crc import key_slot

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.server import Gateway
from gateway.storage.redis.cache import Cache
from gateway.storage.redis.sessions_store import user_tag
from tests.conftest import make_config
from tests.helpers import eventually, get, metric, product, upsert
from tests.policy_fixtures import POLICIES, copy_policies, edit
from tests.valkey_cluster import PASSWORD, Node, ValkeyCluster, running_cluster

pytestmark = pytest.mark.integration

Sessions = session_pb2_grpc.SessionServiceStub
Catalog = catalog_pb2_grpc.CatalogServiceStub
# Bounds for waits, not timing assertions: a failover takes about two node
# timeouts (1 s each here).
RECOVERY_BOUND_S = 30.0


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[ValkeyCluster]:
    async with running_cluster(tmp_path / "cluster") as started:
        yield started


@asynccontextmanager
async def cluster_gateway(
    tmp: Path, shared: Gateway, cluster: ValkeyCluster, policies_dir: Path = POLICIES,
) -> AsyncIterator[tuple[Gateway, grpc.aio.Channel]]:
    """A gateway on the shared PostgreSQL and on `cluster` for Redis."""
    assert shared.backends is not None
    keyspaces = {name: KeyspaceConfig(name, tuple(s.dsn for s in ks.shards))
                 for name, ks in shared.backends.keyspaces.items()}
    gw = Gateway(make_config(tmp, policies_dir=policies_dir, keyspaces=keyspaces,
                             redis_url=cluster.url, redis_cluster=True,
                             redis_seeds=cluster.seeds()))
    try:
        await gw.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            yield gw, channel
    finally:
        await gw.stop()


def catalog_cache(gw: Gateway) -> Cache:
    (cache,) = gw.wiring.caches
    return cache


def product_key(cache: Cache, sku: str) -> str:
    return f"{cache.prefix}product:{{{sku}}}"


def owner(cluster: ValkeyCluster, key: str) -> Node:
    return cluster.slot_owner(key_slot(key.encode()))


def pick(prefix: str, fits: Callable[[str], bool]) -> str:
    """The first `prefix-N` that fits (a key on a chosen node or slot)."""
    for i in range(200_000):
        candidate = f"{prefix}-{i}"
        if fits(candidate):
            return candidate
    raise AssertionError(f"no {prefix}-N fits")


def user_slot(user: str) -> int:
    """The slot of a user's sessions and index (their hash tag)."""
    return key_slot(user_tag(user).encode())


async def tracking_every_primary(cache: Cache, cluster: ValkeyCluster) -> None:
    async def tracking() -> bool:
        primaries = {n.address for n in await asyncio.to_thread(cluster.primaries)}
        assert cache.tracker is not None and cache.near is not None
        return cache.tracker.nodes == primaries and cache.near.active

    await eventually(tracking, "a tracking connection to each primary", RECOVERY_BOUND_S)


@asynccontextmanager
async def raw_cluster(cluster: ValkeyCluster) -> AsyncIterator[aiocluster.RedisCluster]:
    client = aiocluster.RedisCluster.from_url(cluster.url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_catalog_cached_and_invalidated_across_two_gateways(
        gateway: Gateway, tmp_path: Path, uid: str, cluster: ValkeyCluster) -> None:
    # A near TTL of five minutes: an entry that goes was dropped by the
    # invalidation a primary reported, not by its local expiry.
    policies = copy_policies(tmp_path)
    edit(policies / "catalog.yaml", "near_ttl: 2s", "near_ttl: 5m")
    async with cluster_gateway(tmp_path, gateway, cluster, policies) as (gw_a, chan_a), \
            cluster_gateway(tmp_path, gateway, cluster, policies) as (gw_b, chan_b), \
            raw_cluster(cluster) as raw:
        writer, reader = Catalog(chan_a), Catalog(chan_b)
        cache_b = catalog_cache(gw_b)
        await tracking_every_primary(catalog_cache(gw_a), cluster)
        await tracking_every_primary(cache_b, cluster)
        # One product per primary: each one's tracking connection is exercised.
        skus = [pick(f"cl-{uid}-{i}", lambda s, p=p: owner(cluster, product_key(cache_b, s)) == p)
                for i, p in enumerate(cluster.primaries())]
        for sku in skus:
            await upsert(writer, product(sku, title="v1"))
            assert (await get(reader, sku)).title == "v1"
            assert await raw.exists(product_key(cache_b, sku)) == 1
            assert (await get(reader, sku)).title == "v1"
            assert cache_b.near is not None and product_key(cache_b, sku) in cache_b.near
        for sku in skus:
            await upsert(writer, product(sku, title="v2"))

            async def dropped(sku: str = sku) -> bool:
                assert cache_b.near is not None
                return product_key(cache_b, sku) not in cache_b.near

            await eventually(dropped, f"gateway B's near cache drops {sku} after A's write")
            assert (await get(reader, sku)).title == "v2"
        # A flush reaches every primary (a SCAN per node).
        assert await cache_b.flush() == len(skus)
        for sku in skus:
            assert await raw.exists(product_key(cache_b, sku)) == 0


async def test_sessions_on_a_cluster(
        gateway: Gateway, tmp_path: Path, uid: str, cluster: ValkeyCluster) -> None:
    async with cluster_gateway(tmp_path, gateway, cluster) as (_, channel), \
            raw_cluster(cluster) as raw:
        stub = Sessions(channel)
        # A user whose sessions live on each primary.
        users = [pick(f"su-{uid}-{i}", lambda u, p=p: cluster.slot_owner(user_slot(u)) == p)
                 for i, p in enumerate(cluster.primaries())]
        for user in users:
            ids = []
            for n in range(3):
                created = await stub.CreateSession(session_pb2.CreateSessionRequest(
                    user_id=user, data={"n": str(n)}))
                ids.append(created.session.session_id)
            assert await raw.exists(f"dgw:sessions:v1:s:{{{user_tag(user)}}}:{ids[0]}") == 1
            got = await stub.GetSession(session_pb2.GetSessionRequest(session_id=ids[0]))
            assert got.session.user_id == user and dict(got.session.data) == {"n": "0"}
            touched = await stub.TouchSession(session_pb2.TouchSessionRequest(session_id=ids[0]))
            assert touched.expire_time.ToMilliseconds() >= got.session.expire_time.ToMilliseconds()
            updated = await stub.UpdateSession(session_pb2.UpdateSessionRequest(
                session_id=ids[1], data={"cart": "3"}, remove_keys=["n"]))
            assert dict(updated.session.data) == {"cart": "3"}
            listed = await stub.ListUserSessions(session_pb2.ListUserSessionsRequest(user_id=user))
            assert sorted(s.session_id for s in listed.sessions) == sorted(ids)
            await stub.DeleteSession(session_pb2.DeleteSessionRequest(session_id=ids[2]))
            with pytest.raises(grpc.aio.AioRpcError) as gone:
                await stub.GetSession(session_pb2.GetSessionRequest(session_id=ids[2]))
            assert gone.value.code() is grpc.StatusCode.NOT_FOUND
            deleted = await stub.DeleteUserSessions(
                session_pb2.DeleteUserSessionsRequest(user_id=user))
            assert deleted.deleted_count == 2


@dataclass
class Traffic:
    """Calls made in a loop until stopped, each outcome kept with its time."""

    outcomes: list[tuple[float, grpc.StatusCode]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, call: Callable[[], Awaitable[object]], pause_s: float = 0.02) -> None:
        while not self._stop.is_set():
            try:
                await call()
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
            self.outcomes.append((time.monotonic(), code))
            await asyncio.sleep(pause_s)

    def stop(self) -> None:
        self._stop.set()

    def errors(self) -> list[grpc.StatusCode]:
        return [code for _, code in self.outcomes if code is not grpc.StatusCode.OK]

    def last_error_at(self) -> float | None:
        failed = [t for t, code in self.outcomes if code is not grpc.StatusCode.OK]
        return failed[-1] if failed else None


def replica_of(cluster: ValkeyCluster, primary: Node) -> Node:
    for node in cluster.running():
        info = node.info("replication")
        if info.get("role") == "slave" and int(str(info["master_port"])) == primary.port:
            return node
    raise LookupError(f"no replica of {primary.address}")


def replica_caught_up(primary: Node, replica: Node) -> bool:
    offset = int(str(primary.info("replication")["master_repl_offset"]))
    return int(str(replica.info("replication")["slave_repl_offset"])) >= offset


@pytest.mark.parametrize("failure", ["kill", "sigstop"])
async def test_primary_failover_mid_traffic(
        gateway: Gateway, tmp_path: Path, uid: str, cluster: ValkeyCluster, failure: str) -> None:
    async with cluster_gateway(tmp_path, gateway, cluster) as (gw, channel):
        catalog, sessions = Catalog(channel), Sessions(channel)
        cache = catalog_cache(gw)
        assert gw.backends is not None
        redis = gw.backends.redis
        await tracking_every_primary(cache, cluster)
        victim = cluster.primaries()[0]
        sku = pick(f"fo-{uid}", lambda s: owner(cluster, product_key(cache, s)) == victim)
        elsewhere = pick(f"fo-{uid}-x", lambda s: owner(cluster, product_key(cache, s)) != victim)
        user = pick(f"fo-{uid}", lambda u: cluster.slot_owner(user_slot(u)) == victim)
        other_user = pick(f"fo-{uid}-x", lambda u: cluster.slot_owner(user_slot(u)) != victim)
        for s in (sku, elsewhere):
            await upsert(catalog, product(s, title="v1"))
            assert (await get(catalog, s)).title == "v1"  # cached on the victim's slot
        session_id, other_id = [(await sessions.CreateSession(
            session_pb2.CreateSessionRequest(user_id=u))).session.session_id
            for u in (user, other_user)]
        replica = replica_of(cluster, victim)
        # An acknowledged write a replica never received is lost with its
        # primary (Redis replication is asynchronous); this test is about
        # the gateway, so it fails the primary once the replica has it all.
        await eventually(lambda: asyncio.to_thread(replica_caught_up, victim, replica),
                         "the victim's replica has every write")

        reads, session_reads, other_reads = Traffic(), Traffic(), Traffic()
        tasks = [
            asyncio.create_task(reads.run(lambda: get(catalog, sku))),
            asyncio.create_task(reads.run(lambda: get(catalog, elsewhere))),
            asyncio.create_task(session_reads.run(lambda: sessions.GetSession(
                session_pb2.GetSessionRequest(session_id=session_id), timeout=5))),
            asyncio.create_task(other_reads.run(lambda: sessions.GetSession(
                session_pb2.GetSessionRequest(session_id=other_id), timeout=5))),
        ]
        await asyncio.sleep(0.5)
        bypassed = metric("datagw_cache_bypass_total", domain="catalog", operation="lookup")
        failed_at = time.monotonic()
        if failure == "kill":
            await asyncio.to_thread(cluster.kill, victim)
        else:
            cluster.pause(victim)
        try:
            async def noticed() -> bool:
                return not redis.healthy

            await eventually(noticed, "the gateway notices the primary is gone", RECOVERY_BOUND_S)
            detected_s = time.monotonic() - failed_at
            # A write while the slot has no primary: committed, its cache
            # invalidation queued, and replayed once the slot is served again.
            await upsert(catalog, product(sku, title="v2"))

            async def promoted() -> bool:
                return replica in await asyncio.to_thread(cluster.primaries)

            await eventually(promoted, "the replica is promoted", RECOVERY_BOUND_S)
            promoted_s = time.monotonic() - failed_at

            async def session_back() -> bool:
                try:
                    await sessions.GetSession(session_pb2.GetSessionRequest(
                        session_id=session_id), timeout=5)
                except grpc.aio.AioRpcError:
                    return False
                return True

            await eventually(session_back, "the session is served again", RECOVERY_BOUND_S)
            back_s = time.monotonic() - failed_at
            await tracking_every_primary(cache, cluster)
            tracked_s = time.monotonic() - failed_at

            async def healthy() -> bool:
                return redis.healthy

            await eventually(healthy, "redis healthy again (the health check)", RECOVERY_BOUND_S)
            await asyncio.sleep(1.0)  # traffic after the recovery, too
        finally:
            for traffic in (reads, session_reads, other_reads):
                traffic.stop()
            await asyncio.gather(*tasks)
            if failure == "sigstop":
                cluster.resume(victim)
        last_session_error = session_reads.last_error_at()
        print(f"\n[{failure}] redis marked down after {detected_s:.2f}s, replica promoted "
              f"after {promoted_s:.2f}s, session served again after {back_s:.2f}s "
              f"(last failed GetSession at "
              f"{(last_session_error or failed_at) - failed_at:.2f}s), near cache tracking "
              f"every primary after {tracked_s:.2f}s; catalog reads {len(reads.outcomes)}, "
              f"errors {len(reads.errors())} {sorted({c.name for c in reads.errors()})}; "
              f"session reads {len(session_reads.outcomes)}, "
              f"errors {len(session_reads.errors())} "
              f"{sorted({c.name for c in session_reads.errors()})}; "
              f"sessions on other primaries: reads {len(other_reads.outcomes)}, "
              f"errors {len(other_reads.errors())} "
              f"{sorted({c.name for c in other_reads.errors()})}")
        assert reads.errors() == [], "catalog reads are served while the cache is down"
        assert metric("datagw_cache_bypass_total", domain="catalog",
                      operation="lookup") > bypassed, "the cache was bypassed meanwhile"
        # The other primaries' sessions are served throughout. A single stray
        # UNAVAILABLE was seen twice in about 30 runs, under the load of the
        # whole tier (cause not pinned down); a breaker shared by every
        # primary fails about as many calls here as on the victim.
        assert len(other_reads.errors()) <= 1, "the other primaries' sessions are not affected"
        assert set(session_reads.errors()) <= {grpc.StatusCode.UNAVAILABLE}
        assert session_reads.outcomes[-1][1] is grpc.StatusCode.OK
        # The promoted replica still held the v1 entry; the replayed
        # invalidation is what makes this v2.
        assert (await get(catalog, sku)).title == "v2"
        assert (await get(catalog, elsewhere)).title == "v1"
        # A paused primary that comes back rejoins as a replica; nothing stays broken.
        await eventually(healthy, "redis healthy with the old primary back", RECOVERY_BOUND_S)


def migrate_slot(cluster: ValkeyCluster, slot: int, source: Node, target: Node,
                 between_batches: Callable[[], None]) -> None:
    """Move `slot` from `source` to `target` as valkey-cli --cluster reshard does,
    a few keys per MIGRATE, calling `between_batches` after each batch."""
    target.command("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id)
    source.command("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id)
    while True:
        keys = source.command("CLUSTER", "GETKEYSINSLOT", slot, 2)
        assert isinstance(keys, list)
        if not keys:
            break
        source.command("MIGRATE", "127.0.0.1", target.port, "", 0, 5000,
                       "AUTH", PASSWORD, "KEYS", *keys)
        between_batches()
    for node in cluster.primaries():
        node.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)
    target.command("CLUSTER", "SETSLOT", slot, "NODE", target.node_id)


def asking_calls(node: Node) -> int:
    stats = node.info("commandstats")
    found = stats.get("cmdstat_asking")
    return int(found["calls"]) if isinstance(found, dict) else 0


async def test_slot_migration_under_traffic(
        gateway: Gateway, tmp_path: Path, uid: str, cluster: ValkeyCluster) -> None:
    async with cluster_gateway(tmp_path, gateway, cluster) as (gw, channel):
        catalog, sessions = Catalog(channel), Sessions(channel)
        cache = catalog_cache(gw)
        assert gw.backends is not None
        user = f"mv-{uid}"
        slot = user_slot(user)
        # A product in the same slot: its cache entries move with the sessions.
        sku = pick(f"mv-{uid}", lambda s: key_slot(product_key(cache, s).encode()) == slot)
        source = cluster.slot_owner(slot)
        # A node added for the move: the near cache must start tracking it.
        target = await asyncio.to_thread(cluster.add_primary)
        await upsert(catalog, product(sku, title="v1"))
        ids = [(await sessions.CreateSession(session_pb2.CreateSessionRequest(
            user_id=user, data={"n": str(n)}))).session.session_id for n in range(8)]
        assert (await get(catalog, sku)).title == "v1"
        asked_before = asking_calls(target)

        calls = Traffic()
        written: list[str] = []

        async def session_round() -> None:
            for sid in ids:
                await sessions.GetSession(session_pb2.GetSessionRequest(session_id=sid))
            await sessions.UpdateSession(session_pb2.UpdateSessionRequest(
                session_id=ids[0], data={"round": str(len(calls.outcomes))}))
            listed = await sessions.ListUserSessions(
                session_pb2.ListUserSessionsRequest(user_id=user))
            assert set(ids) <= {s.session_id for s in listed.sessions}

        async def catalog_round() -> None:
            title = f"t{len(written)}"
            await upsert(catalog, product(sku, title=title))
            written.append(title)
            # Its invalidation landed (or was queued, and the cache is
            # bypassed until it lands): no read after the write is older.
            assert (await get(catalog, sku)).title == title

        tasks = [asyncio.create_task(calls.run(session_round, pause_s=0.005)),
                 asyncio.create_task(calls.run(catalog_round, pause_s=0.005))]
        await asyncio.sleep(0.3)
        try:
            await asyncio.to_thread(migrate_slot, cluster, slot, source, target,
                                    lambda: time.sleep(0.1))
            await asyncio.sleep(0.5)  # calls after the move: MOVED, then the new map
        finally:
            calls.stop()
            await asyncio.gather(*tasks)
        assert calls.errors() == []
        assert cluster.slot_owner(slot) == target
        assert asking_calls(target) > asked_before, "no call was redirected with ASK"
        client = gw.backends.redis.client
        assert isinstance(client, aiocluster.RedisCluster)
        assert client.nodes_manager.slots_cache[slot][0].port == target.port
        got = await sessions.GetSession(session_pb2.GetSessionRequest(session_id=ids[0]))
        assert "round" in got.session.data
        assert (await get(catalog, sku)).title == written[-1]
        await tracking_every_primary(cache, cluster)
        assert target.address in cache.tracker.nodes if cache.tracker else False
        # A write on the new node reaches the near cache through its connection.
        near = cache.near
        assert near is not None
        token = near.seq
        barrier = f"{cache.prefix}barrier:{{{sku}}}"
        async with raw_cluster(cluster) as raw:
            await raw.set(barrier, b"1", px=10_000)

        async def reported() -> bool:
            assert near is not None
            return near.invalidated_since(barrier, token)

        await eventually(reported, "the new node reports a write to the near cache")
