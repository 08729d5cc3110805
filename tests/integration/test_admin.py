"""AdminService (topology, policies, reload, cache flush) and the gRPC health service."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    session_pb2,
    session_pb2_grpc,
)
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from gateway.runtime.server import HEALTH_INTERVAL_S, Gateway
from gateway.telemetry import REGISTRY
from tests.helpers import decode, eventually, fails, invalid, metric
from tests.policy_fixtures import copy_policies, edit, running_gateway

CATALOG = "datagw.v1.CatalogService"
SESSIONS = "datagw.v1.SessionService"

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# A few health intervals: long enough for the loop to notice, short enough to fail fast.
HEALTH_WAIT_S = 4 * HEALTH_INTERVAL_S
CATALOG_CACHE = "dgw:catalog:"


def misses() -> float:
    return metric("datagw_cache_lookups_total", domain="catalog", kind="product", result="miss")


def precondition_violations(err: grpc.aio.AioRpcError) -> list[Any]:
    status = rpc_status.from_call(err)
    assert status is not None
    found = error_details_pb2.PreconditionFailure()
    assert any(d.Unpack(found) for d in status.details if d.Is(found.DESCRIPTOR))
    return list(found.violations)


async def topology(admin: admin_pb2_grpc.AdminServiceStub) -> dict[str, admin_pb2.Backend]:
    resp = await admin.GetTopology(admin_pb2.GetTopologyRequest())
    return {b.name: b for b in resp.backends}


async def test_topology_lists_every_backend_healthy(
    admin: admin_pb2_grpc.AdminServiceStub,
) -> None:
    async def all_healthy() -> bool:
        return all(b.healthy for b in (await topology(admin)).values())

    # An earlier fault test may have restarted valkey; the health loop catches up.
    await eventually(all_healthy, "every backend healthy", HEALTH_WAIT_S)
    resp = await admin.GetTopology(admin_pb2.GetTopologyRequest())
    assert resp.embedded
    backends = {b.name: b for b in resp.backends}
    assert set(backends) == {
        "postgres/catalog/0/primary", "postgres/inventory/0/primary",
        "postgres/commerce/0/primary", "postgres/commerce/1/primary", "redis",
        "clickhouse/embedded"}
    # Each commerce shard is its own server and owns half the keyspace ids.
    shards = [backends[f"postgres/commerce/{i}/primary"] for i in (0, 1)]
    assert [s.key_range for s in shards] == ["-80", "80-"]
    assert len({s.address for s in shards} | {backends["postgres/catalog/0/primary"].address}) == 3
    assert dict(resp.range_map_versions) == {"commerce": 1}

    pg = backends["postgres/catalog/0/primary"]
    assert (pg.kind, pg.role, pg.keyspace, pg.shard) == (
        admin_pb2.BACKEND_KIND_POSTGRES, "primary", "catalog", 0)
    assert pg.address.startswith("127.0.0.1:") and "@" not in pg.address
    assert pg.pool_max_size == 20 and 1 <= pg.pool_size <= pg.pool_max_size
    assert 0 <= pg.pool_in_use <= pg.pool_size

    rd = backends["redis"]
    assert rd.kind == admin_pb2.BACKEND_KIND_REDIS
    assert rd.pool_max_size == 64 and rd.pool_size >= 1 and rd.last_error == ""

    ch = backends["clickhouse/embedded"]
    assert ch.kind == admin_pb2.BACKEND_KIND_CLICKHOUSE and ch.role == "analytics"
    assert not ch.HasField("backup") and not rd.HasField("backup")


async def test_topology_shows_each_primarys_wal_archiving(
    admin: admin_pb2_grpc.AdminServiceStub,
) -> None:
    backends = await topology(admin)
    primaries = [b for b in backends.values() if b.role == "primary"]
    assert len(primaries) == 4
    for b in primaries:
        status = b.backup
        # Embedded servers archive (into the data dir's backups/wal/<server>).
        assert status.archiving and status.error == "", b.name
        assert status.archive_age.ToTimedelta().total_seconds() >= 0
        # An ephemeral data dir has no base backup, and no segment needs archiving yet.
        assert not status.HasField("last_base_backup_time")
        labels = {"keyspace": b.keyspace, "shard": str(b.shard)}
        age = REGISTRY.get_sample_value("datagw_backup_wal_archive_age_seconds", labels)
        assert age is not None and age >= 0, b.name
        assert REGISTRY.get_sample_value("datagw_backup_wal_archive_failures_total",
                                         labels) == 0


async def test_policies_are_the_yaml_files(admin: admin_pb2_grpc.AdminServiceStub) -> None:
    resp = await admin.GetPolicies(admin_pb2.GetPoliciesRequest())
    assert resp.directory.endswith("policies") and resp.generation >= 1
    policies = {p.domain: p for p in resp.policies}
    assert set(policies) == {"catalog", "sessions", "users", "orders", "payments", "inventory",
                             "events", "analytics"}
    analytics = policies["analytics"]
    assert (analytics.store, analytics.query.max_rows) == ("clickhouse", 10_000)
    assert "clickstream" in analytics.query.tables
    assert analytics.query.max_memory_bytes == 256 * 2**20
    assert analytics.retention["clickstream"].seconds == 90 * 86400
    assert policies["inventory"].retention["events"].seconds == 400 * 86400
    assert policies["orders"].retention["finished_sagas"].seconds == 30 * 86400
    assert not policies["payments"].retention

    catalog = policies["catalog"]
    assert (catalog.source_file, catalog.store, catalog.keyspace) == (
        "catalog.yaml", "postgres", "catalog")
    assert catalog.default_consistency == common_pb2.CONSISTENCY_LEVEL_EVENTUAL
    assert list(catalog.allowed_consistency) == [
        common_pb2.CONSISTENCY_LEVEL_STRONG, common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS,
        common_pb2.CONSISTENCY_LEVEL_EVENTUAL]
    assert catalog.max_staleness.seconds == 5
    assert catalog.cache.enabled
    assert (catalog.cache.ttl.seconds, catalog.cache.jitter_percent,
            catalog.cache.negative_ttl.seconds, catalog.cache.search_ttl.seconds) == (
        300, 10, 30, 30)
    assert (catalog.cache.stale_while_revalidate.seconds, catalog.cache.lease.seconds) == (30, 1)
    assert (catalog.search.language, list(catalog.search.synonyms)) == ("english", [])
    assert not catalog.HasField("session")

    sessions = policies["sessions"]
    assert (sessions.source_file, sessions.store, sessions.keyspace) == (
        "sessions.yaml", "redis", "")
    assert list(sessions.allowed_consistency) == [common_pb2.CONSISTENCY_LEVEL_STRONG]
    assert not sessions.cache.enabled
    assert not sessions.HasField("search")
    assert (sessions.session.ttl.seconds, sessions.session.sliding,
            sessions.session.max_per_user) == (1800, True, 50)


async def test_reload_applies_a_valid_edit_and_refuses_a_broken_one(
    gateway: Gateway, tmp_path: Path, uid: str
) -> None:
    policies = copy_policies(tmp_path)
    async with running_gateway(tmp_path, policies, gateway) as (_, channel, _valkey):
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        sessions = session_pb2_grpc.SessionServiceStub(channel)
        before = await admin.GetPolicies(admin_pb2.GetPoliciesRequest())
        assert before.directory == str(policies)

        edit(policies / "sessions.yaml", "ttl: 30m", "ttl: 10m")
        reloaded = await admin.ReloadPolicies(admin_pb2.ReloadPoliciesRequest())
        assert reloaded.generation == before.generation + 1
        assert {p.domain: p.session.ttl.seconds for p in reloaded.policies}["sessions"] == 600
        after = await admin.GetPolicies(admin_pb2.GetPoliciesRequest())
        assert after.generation == reloaded.generation
        assert {p.domain: p.session.ttl.seconds for p in after.policies}["sessions"] == 600
        created = (await sessions.CreateSession(
            session_pb2.CreateSessionRequest(user_id=f"u-{uid}"))).session
        assert abs(created.expire_time.ToSeconds() - time.time() - 600) < 30

        async def refused_subjects() -> set[str]:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await admin.ReloadPolicies(admin_pb2.ReloadPoliciesRequest())
            info = decode(err.value).error_info
            assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
            assert info is not None and info.reason == "INVALID_POLICY"
            assert info.metadata["directory"] == str(policies)
            violations = precondition_violations(err.value)
            assert {v.type for v in violations} == {"POLICY"}
            assert all(v.description for v in violations)
            return {v.subject for v in violations}

        # A valid file that needs other connections than the running ones.
        edit(policies / "catalog.yaml", "keyspace: catalog", "keyspace: commerce")
        assert await refused_subjects() == {"catalog.yaml:keyspace"}
        edit(policies / "catalog.yaml", "keyspace: commerce", "keyspace: catalog")

        edit(policies / "sessions.yaml", "default: strong", "default: sometimes")
        edit(policies / "catalog.yaml", "jitter: 10%", "jitter: 150%")
        assert await refused_subjects() == {
            "sessions.yaml:consistency.default", "catalog.yaml:cache.jitter"}

        # The old policies stay in force.
        unchanged = await admin.GetPolicies(admin_pb2.GetPoliciesRequest())
        assert unchanged.generation == reloaded.generation
        assert {p.domain: p.session.ttl.seconds for p in unchanged.policies}["sessions"] == 600
        still = (await sessions.CreateSession(
            session_pb2.CreateSessionRequest(user_id=f"u-{uid}"))).session
        assert abs(still.expire_time.ToSeconds() - time.time() - 600) < 30


async def test_flush_cache_deletes_the_catalogs_entries(
    gateway: Gateway, tmp_path: Path, uid: str
) -> None:
    # A gateway with a Valkey of its own, so the flush cannot touch other tests' entries.
    async with running_gateway(tmp_path, copy_policies(tmp_path), gateway) as (
        _, channel, valkey,
    ):
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        sku = f"FLUSH-{uid}"
        await catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product=catalog_pb2.Product(
            sku=sku, title="Flushed mug", active=True,
            price=common_pb2.Money(amount_minor=500, currency_code="EUR"))))
        get = catalog_pb2.GetProductRequest(sku=sku)
        await catalog.GetProduct(get)  # a miss that fills the cache
        before = misses()
        await catalog.GetProduct(get)
        assert misses() == before, "the warmed entry should have been a hit"

        client = aioredis.Redis.from_url(valkey.url)
        try:
            # Entries, not the generations or the writes' markers.
            cached = [k async for k in client.scan_iter(f"{CATALOG_CACHE}*{sku}*")
                      if not k.endswith(b":gen") and b":done:" not in k]
            assert cached, "GetProduct did not fill the cache"
            flushed = await admin.FlushCache(admin_pb2.FlushCacheRequest(domain="catalog"))
            assert flushed.deleted_count >= len(cached) > 0
            left = [k async for k in client.scan_iter(f"{CATALOG_CACHE}*")
                    if not k.endswith(b":gen")]
            assert left == []
        finally:
            await client.aclose()
        before = misses()
        assert (await catalog.GetProduct(get)).product.title == "Flushed mug"
        assert misses() == before + 1


@pytest.mark.parametrize("domain", ["sessions", "nope", ""])
async def test_flush_cache_of_a_domain_without_one(
    admin: admin_pb2_grpc.AdminServiceStub, domain: str
) -> None:
    failure = await invalid(admin.FlushCache(admin_pb2.FlushCacheRequest(domain=domain)),
                            "domain")
    assert failure.bad_request is not None
    (violation,) = failure.bad_request.field_violations
    assert violation.description.endswith("domains with one: catalog")


async def health_of(stub: health_pb2_grpc.HealthStub, service: str) -> int:
    resp = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    return int(resp.status)


async def test_health_reports_each_service(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    assert CATALOG == "datagw.v1.CatalogService" and SESSIONS == "datagw.v1.SessionService"

    async def all_serving() -> bool:
        return all([await health_of(stub, s) == SERVING for s in ("", CATALOG, SESSIONS)])

    await eventually(all_serving, "every service SERVING", HEALTH_WAIT_S)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await health_of(stub, "datagw.v1.NoSuchService")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_redis_down_fails_only_sessions_health(
    gateway: Gateway, channel: grpc.aio.Channel, admin: admin_pb2_grpc.AdminServiceStub,
    catalog: catalog_pb2_grpc.CatalogServiceStub, uid: str,
) -> None:
    assert gateway.embedded is not None
    valkey = gateway.embedded.valkey
    stub = health_pb2_grpc.HealthStub(channel)
    sku = f"HEALTH-{uid}"
    await catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product=catalog_pb2.Product(
        sku=sku, title="Still here", active=True,
        price=common_pb2.Money(amount_minor=100, currency_code="EUR"))))

    async def sessions_is(status: int) -> bool:
        return await health_of(stub, SESSIONS) == status

    try:
        valkey.kill()
        await eventually(lambda: sessions_is(NOT_SERVING), "sessions NOT_SERVING",
                         HEALTH_WAIT_S)
        assert await health_of(stub, CATALOG) == SERVING
        assert await health_of(stub, "") == SERVING
        # The catalog reads around the dead cache rather than failing.
        got = await catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku))
        assert got.product.title == "Still here"
        redis_backend = (await topology(admin))["redis"]
        assert not redis_backend.healthy and redis_backend.last_error
        assert (await topology(admin))["postgres/catalog/0/primary"].healthy
        failure = await fails(admin.FlushCache(admin_pb2.FlushCacheRequest(domain="catalog")),
                              grpc.StatusCode.UNAVAILABLE)
        assert failure.error_info is not None
        assert failure.error_info.reason == "BACKEND_UNAVAILABLE"
    finally:
        await asyncio.to_thread(valkey.start)
    await eventually(lambda: sessions_is(SERVING), "sessions SERVING again", HEALTH_WAIT_S)
    assert await health_of(stub, CATALOG) == SERVING
