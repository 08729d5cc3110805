"""The catalog cache shared by two `datagw serve` processes on one PostgreSQL
and one Valkey: a hot key that expires under load from both is loaded from
the database once, and a gateway SIGKILLed after a write during a Redis
outage (its invalidation never sent) leaves the other serving no stale entry
once Redis is back (the invalidation follower replays the write's event).

The gateways borrow the session gateway's PostgreSQL (rows keyed by the
test's uid) and share a Valkey of the test's own, which the test kills.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
import redis.asyncio as aioredis
from datagw.v1 import catalog_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from gateway.domain.catalog.service import CACHE_SCHEMA_VERSION
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.runtime.server import Gateway
from tests.e2e.gateway_process import free_port
from tests.helpers import eventually, get, keyspace_dsn, product, upsert
from tests.integration.test_catalog_cache import persist_aof
from tests.policy_fixtures import copy_policies, edit

pytestmark = pytest.mark.e2e

START_S = 90.0


@dataclass
class Serving:
    """One `datagw serve` process and a CatalogService stub on it."""

    process: asyncio.subprocess.Process
    catalog: Any
    metrics_port: int
    log: Path

    def sample(self, name: str, **labels: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=10) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return float(s.value)
        return 0.0

    async def metric(self, name: str, **labels: str) -> float:
        return await asyncio.to_thread(self.sample, name, **labels)

    async def loads(self) -> float:
        return await self.metric("datagw_cache_loads_total", domain="catalog")

    async def lookups(self, result: str) -> float:
        return await self.metric("datagw_cache_lookups_total", domain="catalog", kind="product",
                                 result=result)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


def _config(shared: Gateway, tmp: Path, redis_url: str) -> Path:
    """The shared PostgreSQL and the test's Valkey, as `datagw serve` reads them;
    policies without a near cache (every read asks Redis) and with a lease long
    enough to outlast the held load below."""
    policies = copy_policies(tmp)
    catalog = policies / "catalog.yaml"
    edit(catalog, "near_ttl: 2s", "near_ttl: 0s")
    edit(catalog, "stale_while_revalidate: 30s", "stale_while_revalidate: 30s\n  lease: 60s")
    assert shared.backends is not None
    keyspaces = {name: {"shards": [{"primary": s.dsn} for s in ks.shards]}
                 for name, ks in shared.backends.keyspaces.items()}
    config = {"policies_dir": str(policies), "logging": {"level": "warning", "format": "text"},
              "redis": {"url": redis_url}, "postgres": {"keyspaces": keyspaces}}
    path = tmp / "datagw.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@asynccontextmanager
async def serving(config: Path, tmp: Path, name: str) -> AsyncIterator[Serving]:
    port, metrics_port = free_port(), free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.runtime.cli", "serve", "--config", str(config),
            "--listen", f"127.0.0.1:{port}", "--metrics-listen", f"127.0.0.1:{metrics_port}",
            "--data-dir", str(tmp / name), stdout=out, stderr=asyncio.subprocess.STDOUT)
    try:
        async def started() -> bool:
            if process.returncode is not None:
                pytest.fail(f"datagw {name} exited during start-up:\n" + log.read_text())
            return "datagw serving:" in log.read_text()

        await eventually(started, f"datagw {name} serves", within_s=START_S)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Serving(process, catalog_pb2_grpc.CatalogServiceStub(channel), metrics_port,
                          log)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


@dataclass
class Pair:
    a: Serving
    b: Serving
    valkey: EmbeddedValkey
    redis: aioredis.Redis


@pytest.fixture
async def pair(gateway: Gateway, tmp_path: Path) -> AsyncIterator[Pair]:
    valkey = EmbeddedValkey(tmp_path / "valkey")
    await asyncio.to_thread(valkey.start)
    config = _config(gateway, tmp_path, valkey.url)
    client = aioredis.Redis.from_url(valkey.url)
    try:
        async with AsyncExitStack() as stack:
            a = await stack.enter_async_context(serving(config, tmp_path, "a"))
            b = await stack.enter_async_context(serving(config, tmp_path, "b"))
            yield Pair(a, b, valkey, client)
    finally:
        await client.aclose()
        await asyncio.to_thread(valkey.stop)


def entry_key(sku: str) -> str:
    return f"dgw:catalog:v{CACHE_SCHEMA_VERSION}:product:{{{sku}}}"


async def test_a_hot_key_expiring_under_load_from_two_gateways_is_loaded_once(
    pair: Pair, gateway: Gateway, uid: str
) -> None:
    sku = f"HOT-{uid}"
    await upsert(pair.a.catalog, product(sku))
    await get(pair.a.catalog, sku)
    before = await pair.redis.get(entry_key(sku))
    assert before is not None

    stop = asyncio.Event()

    async def hammer(catalog: Any) -> int:
        calls = 0
        while not stop.is_set():
            assert (await get(catalog, sku)).sku == sku
            calls += 1
        return calls

    readers = [asyncio.create_task(hammer(s.catalog)) for s in (pair.a, pair.b) for _ in range(8)]
    try:
        loads = await pair.a.loads() + await pair.b.loads()
        misses = [await s.lookups("miss") for s in (pair.a, pair.b)]
        # The database load is held until both gateways have missed the key,
        # so the one load cannot be luck: each gateway would make its own.
        conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
        try:
            async with conn.transaction():
                await conn.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
                await pair.redis.pexpire(entry_key(sku), 1)

                async def both_missed() -> bool:
                    now = [await s.lookups("miss") for s in (pair.a, pair.b)]
                    return all(n > m for n, m in zip(now, misses, strict=True))

                await eventually(both_missed, "both gateways missed the expired key")
        finally:
            await conn.close()

        async def refilled() -> bool:
            now = await pair.redis.get(entry_key(sku))
            return now is not None and now != before

        await eventually(refilled, "the key is filled again")
    finally:
        stop.set()
        calls = await asyncio.gather(*readers)
    assert all(calls)
    assert await pair.a.loads() + await pair.b.loads() - loads == 1
    served = [await s.metric("datagw_cache_lease_waits_total", domain="catalog",
                             outcome="served") for s in (pair.a, pair.b)]
    assert sum(served) >= 1  # the other gateway waited for the fill


async def test_a_gateway_killed_during_a_redis_outage_leaves_no_stale_entry(
    pair: Pair, uid: str
) -> None:
    sku = f"KILLED-{uid}"
    await upsert(pair.a.catalog, product(sku, title="before"))
    hits = await pair.b.lookups("hit")
    assert (await get(pair.b.catalog, sku)).version == 1  # cached by b
    assert (await get(pair.b.catalog, sku)).version == 1
    assert await pair.b.lookups("hit") > hits
    await persist_aof(pair.valkey.url, uid)  # the entry survives the outage

    await asyncio.to_thread(pair.valkey.kill)
    written = await upsert(pair.a.catalog, product(sku, title="during"))
    assert written.product.version == 2
    # a's invalidation is queued in its memory, and dies with it.
    await pair.a.kill()
    assert (await get(pair.b.catalog, sku)).version == 2  # from PostgreSQL
    await asyncio.to_thread(pair.valkey.start)

    # Through b, with eventual consistency: never version 1, and once b's
    # follower has replayed a's write, the cache serves version 2 again.
    hits = await pair.b.lookups("hit")

    async def served_from_the_cache() -> bool:
        got = await get(pair.b.catalog, sku)
        assert (got.version, got.title) == (2, "during")
        return await pair.b.lookups("hit") > hits

    await eventually(served_from_the_cache, "b serves the product from the cache again",
                     within_s=30)
