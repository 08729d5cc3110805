"""The catalog's cache-aside reads (DESIGN.md section 6) on the real PostgreSQL and Valkey.

Rows are changed straight in PostgreSQL, behind the gateway's back, to tell a
cached answer from a fresh one; the races are driven both through the API and
step by step on the Cache and the CatalogDomain.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

from gateway.api.convert import ProductProto
from gateway.domain.catalog.invalidations import InvalidationFollower
from gateway.domain.catalog.service import CACHE_SCHEMA_VERSION, CatalogDomain, Loaded
from gateway.policy.decisions import ReadPlan
from gateway.records.catalog import ProductRecord
from gateway.storage.redis.cache import TTL, Cache, Fill, Lookup
from gateway.storage.redis.client import RedisBackend
from tests.helpers import (
    EVENTUAL,
    STRONG,
    eventually,
    fails,
    get,
    invalid,
    metric,
    product,
    race_writes_and_reads,
    sql,
    upsert,
)
from tests.policy_fixtures import copy_policies, edit
from tests.policy_fixtures import running_gateway as gateway_beside

pytestmark = pytest.mark.integration

TEN_MINUTES = TTL(600, 0, 600)


def lookups(result: str, kind: str = "product") -> float:
    return metric("datagw_cache_lookups_total", domain="catalog", kind=kind, result=result)


def db_loads() -> float:
    return metric("datagw_cache_loads_total", domain="catalog")


async def set_title_behind_the_gateway(gateway: Any, sku: str, title: str) -> None:
    await sql(gateway, "catalog", "UPDATE products SET title = $2 WHERE sku = $1", sku, title)


async def persist_aof(url: str, uid: str) -> None:
    """Wait until everything Valkey holds so far is fsynced, so a SIGKILL keeps it."""
    client = aioredis.Redis.from_url(url)
    try:
        # WAITAOF waits for this client's own writes; the AOF is one file, so
        # once this write is on disk every earlier one is too.
        await client.set(f"test:aof:{uid}", b"1", px=60_000)
        local, _ = await client.execute_command("WAITAOF", 1, 0, 5000)
        assert local == 1
    finally:
        await client.aclose()


async def restart_valkey(gateway: Any) -> None:
    """Start Valkey (if it is not running) and wait until the gateway's client uses it again.

    The first command on each connection pooled before the restart fails and
    opens the client's breaker for a moment; later tests must not see that.
    """
    await asyncio.to_thread(gateway.embedded.valkey.start)
    for _ in range(100):
        if await gateway.backends.redis.check():
            return
        await asyncio.sleep(0.05)
    pytest.fail("the gateway did not reconnect to Valkey within 5 s")


@pytest.fixture
async def private_cache(gateway: Any, uid: str) -> AsyncIterator[Cache]:
    """A Cache of its own (own key prefix, own client) on the embedded Valkey."""
    backend = RedisBackend(gateway.embedded.valkey.url, retry_after_s=0.05)
    try:
        yield Cache(backend, f"t{uid}", 1, shared_kinds=frozenset({"search"}))
    finally:
        await backend.close()


# -- served from the cache, invalidated by writes ------------------------------


async def test_eventual_read_is_served_from_the_cache(catalog: Any, gateway: Any, uid: str
                                                      ) -> None:
    sku = f"C-{uid}"
    await upsert(catalog, product(sku, title="cached"))
    assert (await get(catalog, sku)).title == "cached"  # miss: loads and fills

    hits = lookups("hit")
    await set_title_behind_the_gateway(gateway, sku, "changed in postgres")
    assert (await get(catalog, sku)).title == "cached"
    assert lookups("hit") - hits == 1
    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[sku], read_options=EVENTUAL))
    assert [p.title for p in batch.products] == ["cached"]

    assert (await get(catalog, sku, STRONG)).title == "changed in postgres"
    strong_batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[sku], read_options=STRONG))
    assert [p.title for p in strong_batch.products] == ["changed in postgres"]


async def test_every_write_deletes_the_entry(catalog: Any, uid: str) -> None:
    sku = f"W-{uid}"
    await upsert(catalog, product(sku, title="one"))
    assert (await get(catalog, sku)).title == "one"

    await upsert(catalog, product(sku, title="two"))
    assert ((await get(catalog, sku)).title, (await get(catalog, sku)).version) == ("two", 2)

    async def rows() -> AsyncIterator[catalog_pb2.ImportProductsRequest]:
        yield catalog_pb2.ImportProductsRequest(product=product(sku, title="three"))

    await catalog.ImportProducts(rows())
    assert (await get(catalog, sku)).title == "three"

    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku))
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku, read_options=EVENTUAL)),
                grpc.StatusCode.NOT_FOUND)
    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[sku], read_options=EVENTUAL))
    assert list(batch.missing_skus) == [sku]


async def test_concurrent_writers_and_readers_never_leave_an_old_value(
    catalog: Any, uid: str
) -> None:
    await race_writes_and_reads(catalog, f"RACE-{uid}", rounds=20, checks=3)


# -- the stale-set race, step by step -----------------------------------------


async def test_fill_after_an_invalidation_is_refused(private_cache: Cache) -> None:
    cache = private_cache
    rejected = metric("datagw_cache_fill_rejected_total", domain=cache.domain)

    seen = await cache.lookup("product", "sku1")
    assert seen.state is Lookup.MISS
    await cache.invalidate("product", ["sku1"])  # a write committed meanwhile
    assert not await cache.fill("product", "sku1", b"old row", seen.generation, TEN_MINUTES)
    assert (await cache.lookup("product", "sku1")).state is Lookup.MISS
    assert metric("datagw_cache_fill_rejected_total", domain=cache.domain) - rejected == 1

    fresh = await cache.lookup("product", "sku1")
    assert fresh.generation != seen.generation
    assert await cache.fill("product", "sku1", b"new row", fresh.generation, TEN_MINUTES)
    hit = await cache.lookup("product", "sku1")
    assert (hit.state, hit.value) == (Lookup.HIT, b"new row")

    # Another key's invalidation leaves this one alone.
    await cache.invalidate("product", ["sku2"])
    assert (await cache.lookup("product", "sku1")).value == b"new row"


async def test_negative_entries_and_shared_kind_generations(private_cache: Cache) -> None:
    cache = private_cache
    seen = await cache.lookup("product", "gone")
    assert await cache.fill("product", "gone", None, seen.generation, TEN_MINUTES)
    assert (await cache.lookup("product", "gone")).state is Lookup.NEGATIVE_HIT

    page1, page2 = await cache.lookup("search", "p1"), await cache.lookup("search", "p2")
    assert await cache.fill("search", "p1", b"page one", page1.generation, TEN_MINUTES)
    await cache.invalidate_kind("search")
    # Every page of the kind is invalid now, including one filled before the
    # bump and one whose load started before it.
    assert (await cache.lookup("search", "p1")).state is Lookup.MISS
    assert not await cache.fill("search", "p2", b"old page", page2.generation, TEN_MINUTES)
    assert (await cache.lookup("search", "p2")).state is Lookup.MISS


class _PausedFirstLoad(CatalogDomain):
    """Holds its first database load, after the read, until released."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.loaded, self.release = asyncio.Event(), asyncio.Event()

    async def _load_product(self, plan: ReadPlan, sku: str) -> Loaded[bytes | None]:
        value = await super()._load_product(plan, sku)
        if not self.loaded.is_set():
            self.loaded.set()
            await self.release.wait()
        return value


def _record(sku: str, title: str) -> ProductRecord:
    return ProductRecord(sku=sku, title=title, description="", category="", brand="",
                         price_minor=100, currency="EUR")


def _domain(gateway: Any, cache: Cache, cls: type[CatalogDomain] = CatalogDomain) -> Any:
    return cls(gateway.policies, gateway.backends.keyspaces["catalog"], cache, ProductProto())


async def _write(domain: CatalogDomain, sku: str, title: str) -> ProductRecord:
    result = await domain.upsert(_record(sku, title), has_price=True, expected_version=None,
                                 request_id="")
    assert result.product is not None
    return result.product


async def test_read_after_a_write_does_not_join_a_load_from_before_it(
    gateway: Any, private_cache: Cache, uid: str
) -> None:
    domain: _PausedFirstLoad = _domain(gateway, private_cache, _PausedFirstLoad)
    sku = f"J-{uid}"
    await _write(domain, sku, "old")
    early = asyncio.create_task(domain.get(sku))
    await domain.loaded.wait()  # `early` has read the old row and not filled it yet

    await _write(domain, sku, "new")
    late = asyncio.create_task(domain.get(sku))
    # A late reader waiting on the early load would only finish after the release.
    await asyncio.wait({late}, timeout=5)
    domain.release.set()
    assert (await late).title == "new"
    assert (await early).title == "old"  # it began before the write: fair
    assert (await domain.get(sku)).title == "new"  # and its fill was refused


async def test_a_cancelled_load_leader_does_not_fail_the_others(private_cache: Cache) -> None:
    release = asyncio.Event()

    async def slow_load() -> bytes:
        await release.wait()
        return b"row"

    leader = asyncio.create_task(private_cache.load_once("k", slow_load))
    await asyncio.sleep(0)
    follower = asyncio.create_task(private_cache.load_once("k", slow_load))
    await asyncio.sleep(0)
    leader.cancel()  # e.g. its caller's deadline
    release.set()
    assert await follower == b"row"
    with pytest.raises(asyncio.CancelledError):
        await leader


class _PausingInvalidation(Cache):
    """Holds product invalidations until released, to cancel a write right there."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entered, self.release, self.finished = (asyncio.Event(), asyncio.Event(),
                                                     asyncio.Event())
        self.pausing = False

    async def invalidate(self, kind: str, idents: list[str], write: str | None = None) -> None:
        if self.pausing and kind == "product":
            self.entered.set()
            await self.release.wait()
        await super().invalidate(kind, idents, write)
        if self.pausing and kind == "product":
            self.finished.set()


async def test_a_write_cancelled_after_its_commit_still_invalidates(
    gateway: Any, uid: str
) -> None:
    backend = RedisBackend(gateway.embedded.valkey.url)
    try:
        cache = _PausingInvalidation(backend, f"t{uid}", 1, shared_kinds=frozenset({"search"}))
        domain = _domain(gateway, cache)
        sku = f"X-{uid}"
        await _write(domain, sku, "old")
        assert (await domain.get(sku)).title == "old"  # cached now

        cache.pausing = True
        writer = asyncio.create_task(_write(domain, sku, "new"))
        await cache.entered.wait()  # committed; the delete has not run
        writer.cancel()  # the caller's deadline strikes
        with pytest.raises(asyncio.CancelledError):
            await writer
        cache.release.set()
        await asyncio.wait({asyncio.create_task(cache.finished.wait())}, timeout=5)
        assert (await domain.get(sku)).title == "new"
    finally:
        await backend.close()


# -- single flight, negative entries, search pages --------------------------------


async def test_concurrent_misses_of_one_key_load_once(catalog: Any, uid: str) -> None:
    sku = f"SF-{uid}"
    await upsert(catalog, product(sku, title="flight"))  # the write leaves the key cold
    loads = db_loads()
    results = await asyncio.gather(*(get(catalog, sku) for _ in range(20)))
    assert {(p.title, p.version) for p in results} == {("flight", 1)}
    assert db_loads() - loads == 1


async def test_create_removes_the_negative_entry(catalog: Any, uid: str) -> None:
    sku = f"NEG-{uid}"
    request = catalog_pb2.GetProductRequest(sku=sku, read_options=EVENTUAL)
    await fails(catalog.GetProduct(request), grpc.StatusCode.NOT_FOUND)
    negative = lookups("negative_hit")
    await fails(catalog.GetProduct(request), grpc.StatusCode.NOT_FOUND)
    assert lookups("negative_hit") - negative == 1

    await upsert(catalog, product(sku, title="exists now"))
    assert (await get(catalog, sku)).title == "exists now"

    # The same through BatchGetProducts and ImportProducts.
    other = f"NEG2-{uid}"
    batch = catalog_pb2.BatchGetProductsRequest(skus=[other], read_options=EVENTUAL)
    assert list((await catalog.BatchGetProducts(batch)).missing_skus) == [other]
    negative = lookups("negative_hit")
    assert list((await catalog.BatchGetProducts(batch)).missing_skus) == [other]
    assert lookups("negative_hit") - negative == 1

    async def rows() -> AsyncIterator[catalog_pb2.ImportProductsRequest]:
        yield catalog_pb2.ImportProductsRequest(product=product(other))

    await catalog.ImportProducts(rows())
    assert [p.sku for p in (await catalog.BatchGetProducts(batch)).products] == [other]


async def test_search_pages_are_cached_and_dropped_by_any_write(
    catalog: Any, gateway: Any, uid: str
) -> None:
    word = f"zq{uid}"
    request = catalog_pb2.SearchProductsRequest(query=word, read_options=EVENTUAL)

    async def found(req: catalog_pb2.SearchProductsRequest = request) -> list[str]:
        return [p.sku for p in (await catalog.SearchProducts(req)).products]

    await upsert(catalog, product(f"s1-{uid}", title=f"Jar {word}"))
    assert await found() == [f"s1-{uid}"]
    hits = lookups("hit", kind="search")
    await sql(gateway, "catalog", "UPDATE products SET active = false WHERE sku = $1",
              f"s1-{uid}")
    assert await found() == [f"s1-{uid}"]  # the cached page
    assert lookups("hit", kind="search") - hits == 1
    strong = catalog_pb2.SearchProductsRequest(query=word, read_options=STRONG)
    assert await found(strong) == []

    # A write of any product drops every cached page.
    await upsert(catalog, product(f"s2-{uid}", title=f"Jar {word}"))
    assert await found() == [f"s2-{uid}"]
    await sql(gateway, "catalog", "UPDATE products SET active = true WHERE sku = $1",
              f"s1-{uid}")
    assert await found() == [f"s2-{uid}"]  # cached again
    await upsert(catalog, product(f"unrelated-{uid}", title="Unrelated"))  # no near word
    assert sorted(await found()) == [f"s1-{uid}", f"s2-{uid}"]


# -- consistency levels ------------------------------------------------------------


def _bounded(seconds: float) -> common_pb2.ReadOptions:
    options = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS)
    options.max_staleness.FromMilliseconds(int(seconds * 1000))
    return options


async def test_bounded_staleness_refuses_entries_older_than_the_bound(
    catalog: Any, gateway: Any, uid: str
) -> None:
    sku = f"BS-{uid}"
    await upsert(catalog, product(sku, title="first"))
    assert (await get(catalog, sku)).title == "first"
    await set_title_behind_the_gateway(gateway, sku, "second")
    assert (await get(catalog, sku, _bounded(5))).title == "first"  # young enough
    await asyncio.sleep(0.6)
    assert (await get(catalog, sku, _bounded(0.5))).title == "second"


async def test_staleness_beyond_the_policy_is_invalid(catalog: Any, uid: str) -> None:
    sku = f"BX-{uid}"
    await upsert(catalog, product(sku))
    failure = await invalid(catalog.GetProduct(catalog_pb2.GetProductRequest(
        sku=sku, read_options=_bounded(6))), "read_options.max_staleness")
    assert failure.bad_request is not None
    assert "5s" in failure.bad_request.field_violations[0].description
    await invalid(catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        query="x", read_options=_bounded(5.001))), "read_options.max_staleness")
    assert (await get(catalog, sku, _bounded(5))).sku == sku


async def test_level_outside_the_policy_names_the_allowed_ones(catalog: Any, uid: str) -> None:
    sku = f"RYW-{uid}"
    await upsert(catalog, product(sku))
    ryw = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES)
    calls = [
        catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku, read_options=ryw)),
        catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
            skus=[sku], read_options=ryw)),
        catalog.SearchProducts(catalog_pb2.SearchProductsRequest(read_options=ryw)),
    ]
    for call in calls:
        failure = await invalid(call, "read_options.consistency")
        assert failure.bad_request is not None
        description = failure.bad_request.field_violations[0].description
        assert "read_your_writes" in description
        assert "allowed: strong, bounded_staleness, eventual" in description


# -- Redis down --------------------------------------------------------------------


async def test_redis_down_bypasses_the_cache_and_replays_invalidations(
    catalog: Any, gateway: Any, uid: str
) -> None:
    valkey = gateway.embedded.valkey
    sku, word = f"DOWN-{uid}", f"zq{uid}"
    await upsert(catalog, product(sku, title=f"before {word}"))
    assert (await get(catalog, sku)).version == 1  # cached; it must not come back later
    await persist_aof(valkey.url, uid)
    bypassed = metric("datagw_cache_bypass_total", domain="catalog", operation="lookup")

    await asyncio.to_thread(valkey.kill)
    try:
        assert (await get(catalog, sku)).version == 1
        batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
            skus=[sku, f"none-{uid}"], read_options=EVENTUAL))
        assert ([p.sku for p in batch.products], list(batch.missing_skus)) == (
            [sku], [f"none-{uid}"])
        search = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
            query=word, read_options=EVENTUAL))
        assert [p.sku for p in search.products] == [sku]
        assert metric("datagw_cache_bypass_total", domain="catalog",
                      operation="lookup") - bypassed >= 3

        written = await upsert(catalog, product(sku, title=f"during {word}"))
        assert written.product.version == 2
        assert (await get(catalog, sku)).title == f"during {word}"

        await asyncio.to_thread(valkey.start)
        # Whether or not the gateway noticed yet, the entry cached before the
        # outage is never served again; once it has, the cache serves the new row.
        hits = lookups("hit")
        for _ in range(50):
            got = await get(catalog, sku)
            assert (got.title, got.version) == (f"during {word}", 2)
            if lookups("hit") > hits:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the cache was not used again within 5 s of Redis coming back")
    finally:
        await restart_valkey(gateway)


async def test_no_entry_is_served_before_queued_invalidations_land(
    gateway: Any, private_cache: Cache, uid: str
) -> None:
    cache, valkey = private_cache, gateway.embedded.valkey
    seen = await cache.lookup("product", "p")
    assert await cache.fill("product", "p", b"before the outage", seen.generation, TEN_MINUTES)
    await persist_aof(valkey.url, uid)

    await asyncio.to_thread(valkey.kill)
    try:
        await cache.invalidate("product", ["p"])  # a write commits while Redis is down
        assert (await cache.lookup("product", "p")).state is Lookup.BYPASS
        await asyncio.to_thread(valkey.start)
        # No health loop drives this cache's client: the lookups themselves
        # find Redis back, and must replay the delete before reading.
        for _ in range(50):
            entry = await cache.lookup("product", "p")
            assert entry.state is not Lookup.HIT, entry.value
            if entry.state is Lookup.MISS:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the cache did not recover within 5 s")
    finally:
        await restart_valkey(gateway)


# -- one load across gateways, stale-while-revalidate, search pages by category ------


def lease_waits(outcome: str, domain: str) -> float:
    return metric("datagw_cache_lease_waits_total", domain=domain, outcome=outcome)


@pytest.fixture
async def two_caches(gateway: Any, uid: str) -> AsyncIterator[tuple[Cache, Cache]]:
    """Two Caches of one domain, each with its own Redis client: two gateways' view."""
    backends = [RedisBackend(gateway.embedded.valkey.url, retry_after_s=0.05) for _ in range(2)]
    try:
        first, second = (Cache(b, f"t{uid}", 1, shared_kinds=frozenset({"search"}))
                         for b in backends)
        yield first, second
    finally:
        for b in backends:
            await b.close()


async def test_a_miss_in_two_gateways_loads_once(two_caches: tuple[Cache, Cache]) -> None:
    first, second = two_caches
    loads, release = 0, asyncio.Event()

    async def load() -> Fill:
        nonlocal loads
        loads += 1
        await release.wait()
        return Fill(b"the row", TEN_MINUTES)

    async def read(cache: Cache) -> bytes | None:
        return await cache.read_through("product", "hot", load, max_age_s=None,
                                        serve_stale=False, lease_s=60)

    readers = [asyncio.create_task(read(c)) for c in (first, second) for _ in range(5)]
    async def both_missed() -> bool:
        return loads > 0 and all(c._flights for c in (first, second))

    # Both have missed and one holds the lease: the other waits for its fill.
    await eventually(both_missed, "both caches are loading the key")
    release.set()
    assert await asyncio.gather(*readers) == [b"the row"] * 10
    assert loads == 1


async def test_a_dead_lease_holder_delays_the_others_only_until_its_lease_ends(
    two_caches: tuple[Cache, Cache], uid: str
) -> None:
    first, _ = two_caches
    waited = lease_waits("loaded", f"t{uid}")
    # A gateway took the lease and died before filling: its lease ends by itself.
    lease = f"dgw:t{uid}:v1:product:{{orphan}}:lease"
    await first._redis.call("SET", lambda r: r.set(lease, b"dead", px=300))

    async def load() -> Fill:
        return Fill(b"loaded here", TEN_MINUTES)

    assert await first.read_through("product", "orphan", load, max_age_s=None,
                                    serve_stale=False, lease_s=60) == b"loaded here"
    assert lease_waits("loaded", f"t{uid}") - waited == 1


async def _until_stale(cache: Cache, kind: str, ident: str, scope: str = "") -> None:
    async def stale() -> bool:
        return (await cache.lookup(kind, ident, scope=scope)).state is Lookup.STALE

    await eventually(stale, f"{kind} {ident} is stale")


async def test_stale_entries_are_served_while_one_refresh_runs(private_cache: Cache) -> None:
    cache = private_cache
    seen = await cache.lookup("product", "p")
    assert await cache.fill("product", "p", b"old", seen.generation, TTL(0.02, 0, 0, 600))
    await _until_stale(cache, "product", "p")
    loads, release = 0, asyncio.Event()

    async def load() -> Fill:
        nonlocal loads
        loads += 1
        await release.wait()
        return Fill(b"new", TEN_MINUTES)

    for _ in range(3):  # answered at once, with one refresh behind them
        assert await cache.read_through("product", "p", load, max_age_s=None,
                                        serve_stale=True, lease_s=60) == b"old"
    # A reader that may not take stale entries waits for the refresh instead.
    strict = asyncio.create_task(cache.read_through("product", "p", load, max_age_s=None,
                                                    serve_stale=False, lease_s=60))
    release.set()
    assert await strict == b"new"
    assert loads == 1
    hit = await cache.lookup("product", "p")
    assert (hit.state, hit.value) == (Lookup.HIT, b"new")
    # Bounded staleness: a stale entry older than the bound is a miss, not stale.
    assert (await cache.lookup("product", "p", max_age_s=0.0)).state is Lookup.MISS


async def test_an_invalidated_entry_is_never_served_as_stale(private_cache: Cache) -> None:
    cache = private_cache
    seen = await cache.lookup("search", "page", scope="c:shoes")
    assert await cache.fill("search", "page", b"old page", seen.generation,
                            TTL(0.02, 0, 0, 600), scope="c:shoes")
    await _until_stale(cache, "search", "page", "c:shoes")
    await cache.invalidate_scopes("search", ["c:shoes"])
    # The entry is still in Redis (a scope's bump deletes nothing), but invalid.
    assert (await cache.lookup("search", "page", scope="c:shoes")).state is Lookup.MISS

    async def load() -> Fill:
        return Fill(b"new page", TEN_MINUTES)

    assert await cache.read_through("search", "page", load, max_age_s=None, serve_stale=True,
                                    lease_s=60, scope="c:shoes") == b"new page"


async def test_search_scopes_and_the_epoch(private_cache: Cache) -> None:
    cache = private_cache
    for scope in ("c:shoes", "c:hats", "*"):
        seen = await cache.lookup("search", scope, scope=scope)
        assert await cache.fill("search", scope, scope.encode(), seen.generation, TEN_MINUTES,
                                scope=scope)
    await cache.invalidate_scopes("search", ["c:shoes", "*"])
    states = {s: (await cache.lookup("search", s, scope=s)).state
              for s in ("c:shoes", "c:hats", "*")}
    assert states == {"c:shoes": Lookup.MISS, "c:hats": Lookup.HIT, "*": Lookup.MISS}
    await cache.invalidate_kind("search")
    assert (await cache.lookup("search", "c:hats", scope="c:hats")).state is Lookup.MISS


async def test_a_write_drops_the_search_pages_of_its_categories_only(
    catalog: Any, gateway: Any, uid: str
) -> None:
    word = f"zc{uid}"
    shoes, hats, bags = f"shoes-{uid}", f"hats-{uid}", f"bags-{uid}"

    def request(category: str = "") -> catalog_pb2.SearchProductsRequest:
        return catalog_pb2.SearchProductsRequest(query=word, category=category,
                                                 read_options=EVENTUAL)

    async def found(category: str = "") -> list[str]:
        return sorted(p.sku for p in (await catalog.SearchProducts(request(category))).products)

    await upsert(catalog, product(f"a-{uid}", title=f"Boot {word}", category=shoes))
    await upsert(catalog, product(f"b-{uid}", title=f"Cap {word}", category=hats))
    assert await found(shoes) == [f"a-{uid}"]
    assert await found(hats) == [f"b-{uid}"]
    assert await found() == [f"a-{uid}", f"b-{uid}"]
    # Behind the gateway: the cached pages keep showing the hat.
    await sql(gateway, "catalog", "UPDATE products SET active = false WHERE sku = $1",
              f"b-{uid}")

    await upsert(catalog, product(f"c-{uid}", title=f"Sandal {word}", category=shoes))
    assert await found(shoes) == [f"a-{uid}", f"c-{uid}"]  # its category: dropped
    assert await found(hats) == [f"b-{uid}"]  # another category: still cached
    assert await found() == [f"a-{uid}", f"c-{uid}"]  # unfiltered: dropped

    # Moving a product drops the pages of the category it left and the one it joined.
    await upsert(catalog, product(f"d-{uid}", title=f"Bag {word}", category=bags))
    assert await found(bags) == [f"d-{uid}"]
    await upsert(catalog, product(f"a-{uid}", title=f"Boot {word}", category=bags))
    assert await found(shoes) == [f"c-{uid}"]
    assert await found(bags) == [f"a-{uid}", f"d-{uid}"]
    assert await found(hats) == [f"b-{uid}"]


async def test_expired_entries_are_served_stale_then_refreshed_but_never_once_invalidated(
    gateway: Any, tmp_path: Path, uid: str
) -> None:
    policies = copy_policies(tmp_path)
    for old, new in (("ttl: 5m", "ttl: 200ms"), ("jitter: 10%", "jitter: 0%"),
                     ("search_ttl: 30s", "search_ttl: 200ms"), ("near_ttl: 2s", "near_ttl: 0s")):
        edit(policies / "catalog.yaml", old, new)
    sku, category, word = f"SWR-{uid}", f"swr-{uid}", f"zs{uid}"
    async with gateway_beside(tmp_path, policies, gateway) as (_, channel, valkey):
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        await upsert(catalog, product(sku, title=f"first {word}", category=category))
        assert (await get(catalog, sku)).title == f"first {word}"  # fills
        await set_title_behind_the_gateway(gateway, sku, f"second {word}")

        # Past its TTL the entry is answered at once, and refreshed behind the answer.
        stale = lookups("stale")

        async def served_stale() -> bool:
            got = await get(catalog, sku)
            assert got.title == f"first {word}"
            return lookups("stale") > stale

        await eventually(served_stale, "the expired entry is served stale")

        async def refreshed() -> bool:
            return (await get(catalog, sku)).title == f"second {word}"

        await eventually(refreshed, "the refresh lands")

        # A search page of the category, then past its TTL: stale, not invalid.
        search = catalog_pb2.SearchProductsRequest(query=word, category=category,
                                                   read_options=EVENTUAL)

        async def page() -> list[str]:
            return [p.title for p in (await catalog.SearchProducts(search)).products]

        assert await page() == [f"second {word}"]
        # Left alone past its TTL, the page is stale in Redis (seen by a
        # Cache of the same prefix, as another gateway would see it)...
        backend = RedisBackend(valkey.url)
        probe = Cache(backend, "catalog", CACHE_SCHEMA_VERSION, shared_kinds=frozenset({"search"}))
        raw = aioredis.Redis.from_url(valkey.url)
        try:
            prefix = f"dgw:catalog:v{CACHE_SCHEMA_VERSION}:search:{{search}}:"
            pages = [k.decode()[len(prefix):] async for k in raw.scan_iter(match=prefix + "*")
                     if k.decode()[len(prefix):].isalnum()]
            assert len(pages) == 1

            async def page_stale() -> bool:
                entry = await probe.lookup("search", pages[0], scope=f"c:{category}")
                return entry.state is Lookup.STALE

            await eventually(page_stale, "the page is past its TTL")
        finally:
            await raw.aclose()
            await backend.close()
        # ...and a write in its category makes it invalid: never served, stale or not.
        await upsert(catalog, product(f"{sku}-2", title=f"third {word}", category=category))
        assert sorted(await page()) == [f"second {word}", f"third {word}"]


# -- the invalidation follower -------------------------------------------------------


async def _caught_up(follower: InvalidationFollower) -> None:
    while not (await follower.step())[1]:
        pass


async def test_the_follower_invalidates_what_a_writer_did_not_and_skips_what_it_did(
    gateway: Any, two_caches: tuple[Cache, Cache], uid: str
) -> None:
    """`here` is a gateway's cache with its follower, driven step by step;
    `gone` the same cache through another gateway whose invalidations never
    reach Redis as its own (it died): only the follower's do."""
    here, _ = two_caches
    keyspace = gateway.backends.keyspaces["catalog"]
    follower = InvalidationFollower(here, keyspace.single,
                                    gateway.notifiers.of("catalog", keyspace.single.index))
    assert not follower.caught_up()  # until its first read reaches the horizon
    await _caught_up(follower)
    assert follower.caught_up()
    writer_here = _domain(gateway, here)
    gone_backend = RedisBackend(gateway.embedded.valkey.url)
    writer_gone = _domain(gateway, Cache(gone_backend, f"gone{uid}", 1,
                                         shared_kinds=frozenset({"search"})))
    try:
        sku, category = f"F-{uid}", f"cat-{uid}"
        record = replace(_record(sku, "one"), category=category)
        await writer_here.upsert(record, has_price=True, expected_version=None,
                                 request_id=f"r1-{uid}")
        assert (await writer_here.get(sku)).title == "one"  # fills
        await _caught_up(follower)
        # The writer invalidated its own write: the follower skips it, and the
        # entry filled after the write stays.
        assert (await here.lookup("product", sku)).state is Lookup.HIT

        page = await here.lookup("search", "page", scope=f"c:{category}")
        assert await here.fill("search", "page", b"cached page", page.generation, TEN_MINUTES,
                               scope=f"c:{category}")
        await writer_gone.upsert(replace(record, title="two"), has_price=True,
                                 expected_version=None, request_id=f"r2-{uid}")
        # Nothing told `here` yet: its entry is the old one...
        assert (await here.lookup("product", sku)).state is Lookup.HIT
        await _caught_up(follower)
        # ...until the follower applied the write's events.
        assert (await here.lookup("product", sku)).state is Lookup.MISS
        assert (await here.lookup("search", "page", scope=f"c:{category}")).state \
            is Lookup.MISS
        assert (await writer_here.get(sku)).title == "two"
    finally:
        await gone_backend.close()
