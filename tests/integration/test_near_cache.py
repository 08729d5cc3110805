"""The near cache (process memory in front of Redis) on the real Valkey and PostgreSQL.

Coherence comes from Redis client tracking, so the cross-process tests change
keys with other Redis clients and other Cache objects, as another gateway
would; the caches of their own use a near TTL of ten minutes, so an entry
that disappears was dropped by an invalidation, not by its local expiry.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from datagw.v1 import admin_pb2

from gateway.storage.redis.cache import TTL, Cache, Entry, Lookup
from gateway.storage.redis.client import RedisBackend
from gateway.storage.redis.near_cache import NearCache
from tests.conftest import SPANS
from tests.helpers import eventually, get, metric, product, race_writes_and_reads, upsert
from tests.integration.test_catalog_cache import restart_valkey, set_title_behind_the_gateway
from tests.integration.test_telemetry import GET_PRODUCT, children, server_span

pytestmark = pytest.mark.integration

TEN_MINUTES = TTL(600, 0, 600)
LONG_NEAR_TTL = 600.0


def lookups(result: str, domain: str = "catalog", kind: str = "product") -> float:
    return metric("datagw_cache_lookups_total", domain=domain, kind=kind, result=result)


def catalog_cache(gateway: Any) -> Cache:
    (cache,) = gateway.wiring.caches
    assert cache.domain == "catalog" and cache.near is not None
    return cache


async def tracker_up(cache: Cache) -> None:
    near = cache.near
    assert near is not None

    async def active() -> bool:
        return near.active

    await eventually(active, f"the near cache of {cache.prefix} is tracking")


async def caught_up(cache: Cache, raw: aioredis.Redis) -> None:
    """Wait until the tracker applied every change Redis made before this call.

    Redis reports changes to the tracking connection in order, so once a
    change made now is reported, every earlier one has been applied too.
    """
    near = cache.near
    assert near is not None
    token = near.seq
    barrier = f"{cache.prefix}barrier:{{{uuid.uuid4().hex}}}"
    await raw.set(barrier, b"1", px=10_000)

    async def reported() -> bool:
        return near.invalidated_since(barrier, token)

    await eventually(reported, "the tracker reports a change made just now")


def held(cache: Cache, ident: str, kind: str = "product") -> bytes | None:
    """The value the near cache holds for a key (None: not held)."""
    assert cache.near is not None
    found = cache.near.get(f"{cache.prefix}{kind}:{{{ident}}}")
    return None if found is None else found[1].value


async def cached(cache: Cache, raw: aioredis.Redis, ident: str, value: bytes | None) -> None:
    """Fill `ident` in Redis, then read it once so the near cache holds it."""
    seen = await cache.lookup("product", ident)
    assert seen.state is Lookup.MISS
    assert await cache.fill("product", ident, value, seen.generation, TEN_MINUTES)
    # The fill's own SET is reported too; a read before that report lands
    # would be dropped by it.
    await caught_up(cache, raw)
    first = await cache.lookup("product", ident)
    assert first.state is (Lookup.HIT if value is not None else Lookup.NEGATIVE_HIT)
    assert cache.near is not None
    assert f"{cache.prefix}product:{{{ident}}}" in cache.near


@pytest.fixture
async def raw(gateway: Any) -> AsyncIterator[aioredis.Redis]:
    """A Redis client of its own: what another gateway's writes look like to us."""
    client = aioredis.Redis.from_url(gateway.embedded.valkey.url)
    try:
        yield client
    finally:
        await client.aclose()


class _Caches:
    """Caches of one test-private domain, each on its own client, closed at the end."""

    def __init__(self, url: str, domain: str) -> None:
        self.url, self.domain = url, domain
        self.backends: list[RedisBackend] = []
        self.caches: list[Cache] = []

    def make(self, near_ttl: Callable[[], float] | None = lambda: LONG_NEAR_TTL,
             backend: RedisBackend | None = None) -> Cache:
        backend = backend or RedisBackend(self.url, retry_after_s=0.05)
        self.backends.append(backend)
        cache = Cache(backend, self.domain, 1, shared_kinds=frozenset({"search"}),
                      near_ttl=near_ttl)
        self.caches.append(cache)
        return cache

    async def started(self, near_ttl: Callable[[], float] = lambda: LONG_NEAR_TTL) -> Cache:
        cache = self.make(near_ttl)
        cache.start()
        await tracker_up(cache)
        return cache

    async def close(self) -> None:
        for cache in self.caches:
            await cache.close()
        for backend in self.backends:
            await backend.close()


@pytest.fixture
async def caches(gateway: Any, uid: str) -> AsyncIterator[_Caches]:
    made = _Caches(gateway.embedded.valkey.url, f"n{uid}")
    try:
        yield made
    finally:
        await made.close()


# -- through the gateway ---------------------------------------------------------


async def test_a_warm_product_is_served_from_memory_without_redis(
    catalog: Any, gateway: Any, uid: str
) -> None:
    sku = f"NH-{uid}"
    await upsert(catalog, product(sku, title="warm"))
    assert (await get(catalog, sku)).title == "warm"  # a miss: fills Redis

    async def near_hit() -> bool:
        before = lookups("near_hit")
        SPANS.clear()
        served = (await get(catalog, sku)).title == "warm"
        return served and lookups("near_hit") - before == 1

    await eventually(near_hit, "an eventual GetProduct of a warm key is a near hit")
    server = server_span(GET_PRODUCT)
    assert dict(server.attributes or {})["datagw.cache"] == "near_hit"
    # Neither Redis nor PostgreSQL was asked.
    assert [k.name for k in children(server)] == []


async def test_policies_show_the_near_ttl(admin: Any) -> None:
    response = await admin.GetPolicies(admin_pb2.GetPoliciesRequest())
    (catalog,) = [p for p in response.policies if p.domain == "catalog"]
    assert catalog.cache.near_ttl.ToMilliseconds() == 2000
    (sessions,) = [p for p in response.policies if p.domain == "sessions"]
    assert sessions.cache.near_ttl.ToMilliseconds() == 0


async def test_reads_after_a_write_in_this_process_see_it(
    catalog: Any, gateway: Any, uid: str
) -> None:
    near_hits = lookups("near_hit")
    await race_writes_and_reads(catalog, f"NW-{uid}", rounds=30, checks=4)
    assert lookups("near_hit") > near_hits, "the near cache was never used"


async def test_redis_down_turns_the_near_cache_off_until_tracking_is_back(
    catalog: Any, gateway: Any, uid: str
) -> None:
    cache = catalog_cache(gateway)
    near = cache.near
    assert near is not None
    sku = f"ND-{uid}"
    await upsert(catalog, product(sku, title="before"))
    await get(catalog, sku)

    async def near_hit(title: str) -> bool:
        before = lookups("near_hit")
        return (await get(catalog, sku)).title == title and lookups("near_hit") - before == 1

    await eventually(lambda: near_hit("before"), "the product is served from memory")
    connects = cache.tracker.connects if cache.tracker else 0
    try:
        await asyncio.to_thread(gateway.embedded.valkey.kill)

        async def off() -> bool:
            return not near.active

        await eventually(off, "the near cache is off once Redis is gone")
        assert len(near) == 0
        near_hits, bypassed = lookups("near_hit"), lookups("bypass")
        await set_title_behind_the_gateway(gateway, sku, "from postgres")
        assert (await get(catalog, sku)).title == "from postgres"
        # A write while Redis is down is queued; reads still go to PostgreSQL.
        await upsert(catalog, product(sku, title="written while down"))
        assert (await get(catalog, sku)).title == "written while down"
        assert lookups("near_hit") == near_hits
        assert lookups("bypass") - bypassed == 2
    finally:
        await restart_valkey(gateway)
    await tracker_up(cache)
    assert cache.tracker is not None and cache.tracker.connects > connects
    await eventually(lambda: near_hit("written while down"),
                     "near hits resume after the tracker reconnected")


# -- other processes' writes -----------------------------------------------------


async def test_a_change_by_another_client_drops_the_entry(
    caches: _Caches, raw: aioredis.Redis
) -> None:
    cache = await caches.started()
    for ident in ("deleted", "regenerated"):
        await cached(cache, raw, ident, b"old row")
    assert (await cache.lookup("product", "deleted")).value == b"old row"

    # What another gateway's invalidation does: bump the generation, delete
    # the entry; each alone must drop the entry here.
    await raw.delete(f"{cache.prefix}product:{{deleted}}")
    await raw.incr(f"{cache.prefix}product:{{regenerated}}:gen")

    async def dropped() -> bool:
        return held(cache, "deleted") is None and held(cache, "regenerated") is None

    await eventually(dropped, "both entries are dropped from memory")
    assert (await cache.lookup("product", "deleted")).state is Lookup.MISS
    assert (await cache.lookup("product", "regenerated")).state is Lookup.MISS


async def test_an_invalidation_through_another_gateway_reaches_this_one(
    caches: _Caches, raw: aioredis.Redis
) -> None:
    here, there = await caches.started(), await caches.started()
    await cached(here, raw, "sku1", b"old row")
    await cached(here, raw, "sku2", b"other row")
    assert (await there.lookup("product", "sku1")).value == b"old row"
    assert held(there, "sku1") == b"old row"

    await there.invalidate("product", ["sku1"])
    # The writer itself never waits for Redis to tell it.
    assert held(there, "sku1") is None
    assert (await there.lookup("product", "sku1")).state is Lookup.MISS

    async def dropped_here() -> bool:
        return held(here, "sku1") is None

    await eventually(dropped_here, "the other gateway's invalidation reaches this one")
    assert (await here.lookup("product", "sku1")).state is Lookup.MISS
    # Another key's invalidation leaves this one alone.
    await caught_up(here, raw)
    assert held(here, "sku2") == b"other row"


async def test_flushall_and_flushdb_clear_everything(caches: _Caches, raw: aioredis.Redis
                                                     ) -> None:
    cache = await caches.started()
    await cached(cache, raw, "sku1", b"row")
    assert cache.tracker is not None and cache.near is not None
    # The message Redis sends for FLUSHALL/FLUSHDB names no key (the shared
    # Valkey is not flushed here: other tests' entries live there).
    cache.tracker.apply(None)
    assert len(cache.near) == 0


# -- the reader/tracker race, step by step ---------------------------------------------


class _Holding(RedisBackend):
    """Holds one Redis operation, before it is sent or once its reply came, until released."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold: tuple[str, str] | None = None  # (operation, "before" or "after")
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    async def call(self, operation: str, fn: Any, *, key: str | None = None) -> Any:
        when = self.hold[1] if self.hold and self.hold[0] == operation else None
        if when == "before":
            await self._pause()
        result = await super().call(operation, fn, key=key)
        if when == "after":
            await self._pause()
        return result

    async def _pause(self) -> None:
        self.hold = None
        self.reached.set()
        await self.release.wait()
        self.reached.clear()
        self.release.clear()


async def test_a_reply_overtaken_by_an_invalidation_is_not_kept(
    caches: _Caches, raw: aioredis.Redis, gateway: Any
) -> None:
    backend = _Holding(gateway.embedded.valkey.url)
    cache = caches.make(backend=backend)
    cache.start()
    await tracker_up(cache)
    other = await caches.started()
    for ident in ("calm", "raced"):
        seen = await cache.lookup("product", ident)
        assert await cache.fill("product", ident, b"old row", seen.generation, TEN_MINUTES)
    await caught_up(cache, raw)

    async def held_lookup(ident: str, meanwhile: Callable[[], Awaitable[None]]) -> Entry:
        backend.hold = ("MGET", "after")
        reader = asyncio.create_task(cache.lookup("product", ident))
        await backend.reached.wait()  # the reply carries the entry as it was
        await meanwhile()
        backend.release.set()
        return await reader

    async def nothing() -> None:
        pass

    # Without a write meanwhile the reply is kept: the test can tell.
    calm = await held_lookup("calm", nothing)
    assert (calm.state, calm.value, held(cache, "calm")) == (Lookup.HIT, b"old row", b"old row")

    async def write_elsewhere_and_wait_for_the_report() -> None:
        await other.invalidate("product", ["raced"])
        await caught_up(cache, raw)

    raced = await held_lookup("raced", write_elsewhere_and_wait_for_the_report)
    # Its read began before the write, so answering the old row is fair;
    # keeping it would serve it after the write until the TTL.
    assert (raced.state, raced.value) == (Lookup.HIT, b"old row")
    assert held(cache, "raced") is None
    assert (await cache.lookup("product", "raced")).state is Lookup.MISS


async def test_a_write_here_drops_its_keys_without_waiting_for_redis(
    caches: _Caches, gateway: Any
) -> None:
    backend = _Holding(gateway.embedded.valkey.url)
    cache = caches.make(backend=backend)
    assert cache.near is not None
    # No tracker runs: only the writer's own drops can keep this cache right.
    cache.near.enable()
    seen = await cache.lookup("product", "sku1")
    assert await cache.fill("product", "sku1", b"old row", seen.generation, TEN_MINUTES)
    assert (await cache.lookup("product", "sku1")).value == b"old row"
    assert held(cache, "sku1") == b"old row"

    backend.hold = ("EVAL invalidate", "before")
    writer = asyncio.create_task(cache.invalidate("product", ["sku1"]))
    await backend.reached.wait()
    assert held(cache, "sku1") is None  # dropped before the Redis call
    # A read meanwhile still finds the old entry in Redis, and keeps it.
    assert (await cache.lookup("product", "sku1")).value == b"old row"
    assert held(cache, "sku1") == b"old row"
    backend.release.set()
    await writer
    # So the writer drops it again once Redis has it: a read after the write
    # returned never sees the old entry.
    assert held(cache, "sku1") is None
    assert (await cache.lookup("product", "sku1")).state is Lookup.MISS


def test_values_read_before_tracking_or_beyond_memory_are_refused() -> None:
    near: NearCache[bytes] = NearCache(capacity=2, remembered=2)
    before = near.seq
    near.enable()  # whatever was read while nobody listened may be stale
    assert not near.put("k", before, b"v", 60)
    token = near.seq
    assert near.put("k", token, b"v", 60) and near.get("k") == b"v"

    token = near.seq
    near.invalidate(["a", "b", "c"])  # more than it remembers: "k" may be among them
    assert not near.put("k2", token, b"v", 60)
    assert near.put("k2", near.seq, b"v", 60)

    near.put("k3", near.seq, b"v", 60)  # over capacity: the least recently used goes
    assert (near.get("k"), len(near)) == (None, 2)
    near.disable()
    assert near.get("k2") is None and not near.put("k4", near.seq, b"v", 60)


# -- what a near hit still checks, and what is never held --------------------------


async def test_near_hits_keep_the_entry_rules(caches: _Caches, raw: aioredis.Redis) -> None:
    cache = await caches.started()
    await cached(cache, raw, "row", b"a row")
    await cached(cache, raw, "gone", None)

    near_hits = lookups("near_hit", domain=cache.domain)
    negative = lookups("near_negative_hit", domain=cache.domain)
    hit = await cache.lookup("product", "row")
    assert (hit.state, hit.value) == (Lookup.HIT, b"a row")
    assert (await cache.lookup("product", "gone")).state is Lookup.NEGATIVE_HIT
    assert lookups("near_hit", domain=cache.domain) - near_hits == 1
    assert lookups("near_negative_hit", domain=cache.domain) - negative == 1

    # A bounded-staleness read refuses an entry loaded before its bound, in
    # memory as in Redis.
    assert (await cache.lookup("product", "row", max_age_s=0.0)).state is Lookup.MISS

    # Search pages (a shared kind) are never held in memory.
    page = await cache.lookup("search", "p1")
    assert await cache.fill("search", "p1", b"page", page.generation, TEN_MINUTES)
    await caught_up(cache, raw)
    assert (await cache.lookup("search", "p1")).value == b"page"
    assert (await cache.lookup("search", "p1")).value == b"page"
    assert held(cache, "p1", kind="search") is None
    assert lookups("hit", domain=cache.domain, kind="search") == 2

    # A flush through this cache empties memory as well.
    await cache.flush()
    assert held(cache, "row") is None
    assert (await cache.lookup("product", "row")).state is Lookup.MISS


async def test_without_tracking_an_entry_expires_after_the_near_ttl(
    caches: _Caches, raw: aioredis.Redis
) -> None:
    # A tracker that died without its socket noticing: memory believes it is
    # coherent, so only the local expiry bounds what it serves.
    ttl = [LONG_NEAR_TTL]
    cache = caches.make(near_ttl=lambda: ttl[0])
    assert cache.near is not None and cache.tracker is not None
    cache.near.enable()

    async def held_then_deleted(ident: str) -> None:
        seen = await cache.lookup("product", ident)
        assert await cache.fill("product", ident, b"old row", seen.generation, TEN_MINUTES)
        assert (await cache.lookup("product", ident)).value == b"old row"  # read into memory
        await raw.delete(f"{cache.prefix}product:{{{ident}}}")  # nobody reports it

    await held_then_deleted("long")
    assert not cache.tracker.running
    assert (await cache.lookup("product", "long")).value == b"old row"

    ttl[0] = 0.3
    await held_then_deleted("short")

    async def expired() -> bool:
        return (await cache.lookup("product", "short")).state is Lookup.MISS

    await eventually(expired, "the entry expires from memory after near_ttl")
    assert (await cache.lookup("product", "long")).value == b"old row"


async def test_tracker_lifecycle(caches: _Caches, raw: aioredis.Redis) -> None:
    ttl = [0.0]
    cache = caches.make(near_ttl=lambda: ttl[0])
    assert cache.tracker is not None and cache.near is not None
    cache.start()  # the near cache is off: no tracking connection
    assert not cache.tracker.running
    assert (await cache.lookup("product", "sku1")).state is Lookup.MISS
    assert not cache.tracker.running

    ttl[0] = LONG_NEAR_TTL  # a policy reload turned it on: the next read starts it
    await cache.lookup("product", "sku1")
    assert cache.tracker.running
    await tracker_up(cache)
    await cached(cache, raw, "sku2", b"row")

    await cache.close()
    assert not cache.tracker.running and not cache.near.active and len(cache.near) == 0
    names = [t.get_name() for t in asyncio.all_tasks()]
    assert not [n for n in names if n.startswith(f"near-cache tracker {cache.prefix}")], names
    cache.start()  # closed for good
    assert not cache.tracker.running
