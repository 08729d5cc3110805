"""The server's limits against real backends: concurrency cap, deadlines that
cancel the backend work, message size, INTERNAL errors and a shard that is down.

Non-default limits need a gateway of their own. It runs in this process with
the backends configured (the way production runs it), either on the session
stack's servers or, for tests that break a server, on servers of its own.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    eventstore_pb2,
    eventstore_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.runtime.startup import create_database
from tests.conftest import make_config
from tests.embedded_stack import keyspaces_on
from tests.helpers import (
    STRONG,
    decode,
    eventually,
    fails,
    get,
    keyspace_dsn,
    metric,
    product,
    sql,
    upsert,
)

pytestmark = pytest.mark.integration

SMALL_MESSAGE_LIMIT = 16 * 1024
POLL_LIMIT_S = 10.0
GET = "/datagw.v1.CatalogService/GetProduct"
UPSERT = "/datagw.v1.CatalogService/UpsertProduct"
# Backends waiting on a lock that this session holds. Not by query text: for a
# statement prepared earlier on its connection, pg_stat_activity may still show
# the previous statement (and state idle) while it waits.
LOCK_WAITERS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND pg_backend_pid() = ANY(pg_blocking_pids(pid))
"""


@asynccontextmanager
async def own_backends() -> AsyncIterator[EmbeddedBackends]:
    """Throw-away PostgreSQL and Valkey servers with the catalog database created."""
    # Not under pytest's basetemp: a pytest run starting meanwhile makes that
    # tree private again (0700), locking out postgres, which runs as its own
    # user when the tests run as root.
    with tempfile.TemporaryDirectory(prefix="datagw-test-") as tmp:
        backends = EmbeddedBackends(Path(tmp), ephemeral=True, analytics=False)
        await asyncio.to_thread(backends.start)
        try:
            conn = await asyncpg.connect(backends.postgres.dsn)
            try:
                await conn.execute("CREATE DATABASE catalog")
            finally:
                await conn.close()
            yield backends
        finally:
            await asyncio.to_thread(backends.stop)


@asynccontextmanager
async def running_gateway(embedded: EmbeddedBackends, **overrides: object
                          ) -> AsyncIterator[Gateway]:
    """A gateway with `embedded`'s servers configured as its backends.

    Configured backends rather than embedded mode, which would start servers
    of its own: the test owns `embedded`'s.
    """
    if embedded.shards:
        # The session stack: a gateway that shares its catalog database (and
        # so its range maps) must list the same commerce shards.
        keyspaces = await keyspaces_on(embedded)
    else:
        keyspaces = {}
        for name in ("catalog", "commerce", "inventory"):
            # Commerce as one shard on the same server: these tests are not about sharding.
            await create_database(embedded.postgres.dsn, name)
            keyspaces[name] = KeyspaceConfig(name, (embedded.postgres.dsn.rsplit("/", 1)[0] +
                                                    f"/{name}",))
    cfg = make_config(embedded.data_dir, keyspaces=keyspaces, redis_url=embedded.valkey.url,
                      **overrides)
    gw = Gateway(cfg)
    try:
        await gw.start()
        yield gw
    finally:
        await gw.stop()


class Stack:
    """A second gateway, the servers behind it and stubs on one channel to it."""

    def __init__(self, gw: Gateway, embedded: EmbeddedBackends, channel: grpc.aio.Channel
                 ) -> None:
        self.gw = gw
        self.embedded = embedded
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.sessions = session_pb2_grpc.SessionServiceStub(channel)
        self.events = eventstore_pb2_grpc.EventStoreServiceStub(channel)
        self.health = health_pb2_grpc.HealthStub(channel)


@asynccontextmanager
async def stack(embedded: EmbeddedBackends, **overrides: object) -> AsyncIterator[Stack]:
    async with running_gateway(embedded, **overrides) as gw:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            yield Stack(gw, embedded, channel)


@pytest.fixture(scope="module")
async def limited(gateway: Gateway) -> AsyncIterator[Stack]:
    assert gateway.embedded is not None
    async with stack(gateway.embedded, max_concurrent_rpcs=1,
                     max_message_bytes=SMALL_MESSAGE_LIMIT) as s:
        yield s


@pytest.fixture(scope="module")
async def two_slots(gateway: Gateway) -> AsyncIterator[Stack]:
    assert gateway.embedded is not None
    async with stack(gateway.embedded, max_concurrent_rpcs=2) as s:
        yield s


@pytest.fixture(scope="module")
async def strict() -> AsyncIterator[Stack]:
    """Default deadline 0.5 s, on servers the tests may break."""
    async with own_backends() as embedded, stack(embedded, default_deadline_s=0.5) as s:
        yield s


@asynccontextmanager
async def row_locked(dsn: str, sku: str) -> AsyncIterator[asyncpg.Connection]:
    """Hold the product's row lock in an open transaction, rolled back at the end."""
    conn = await asyncpg.connect(dsn)
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.fetchval("SELECT version FROM products WHERE sku = $1 FOR UPDATE", sku)
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


async def lock_waiters(conn: asyncpg.Connection) -> int:
    count: int = await conn.fetchval(LOCK_WAITERS)
    return count


async def blocked_upsert_is_cancelled(
    catalog: catalog_pb2_grpc.CatalogServiceStub, dsn: str, sku: str, deadline_s: float | None,
) -> grpc.aio.AioRpcError:
    """An upsert waiting on a row lock past its deadline leaves nothing behind.

    Returns the error the caller saw, after checking that PostgreSQL saw the
    wait, that the wait ended with the deadline and that nothing committed.
    """
    await upsert(catalog, product(sku, title="Before"))
    deadlines_before = metric("datagw_rpc_requests_total", method=UPSERT, code="DEADLINE_EXCEEDED")
    async with row_locked(dsn, sku) as conn:
        call = asyncio.ensure_future(catalog.UpsertProduct(
            catalog_pb2.UpsertProductRequest(product=product(sku, title="After"),
                                             expected_version=1),
            timeout=deadline_s,
        ))

        async def waiting_or_done() -> bool:
            return call.done() or await lock_waiters(conn) == 1

        await eventually(waiting_or_done, "the upsert waits on the row lock")
        assert not call.done(), "the upsert finished without waiting on the lock"
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED

        async def nobody_waits() -> bool:
            return await lock_waiters(conn) == 0

        await eventually(nobody_waits, "the gateway's statement stops waiting on the lock")

    async def counted_as_deadline() -> bool:
        # Whichever noticed first, gRPC or the gateway's timeout; the handler
        # finishes unwinding (rollback, cancel request) after the caller gave up.
        return metric("datagw_rpc_requests_total", method=UPSERT,
                      code="DEADLINE_EXCEEDED") == deadlines_before + 1

    await eventually(counted_as_deadline, "the call is counted as DEADLINE_EXCEEDED")
    got = await get(catalog, sku, STRONG)
    assert (got.version, got.title) == (1, "Before")
    # The pool connection cancelled mid-statement is usable again.
    again = await upsert(catalog, product(sku, title="After"), expected_version=1)
    assert again.product.version == 2
    return caught.value


# -- concurrency cap ------------------------------------------------------------


async def test_concurrency_cap_rejects_beyond_the_limit_and_recovers(
    limited: Stack, uid: str
) -> None:
    sku = f"CAP-{uid}"
    stream = limited.catalog.ImportProducts()
    await stream.write(catalog_pb2.ImportProductsRequest(product=product(sku)))
    interceptor = limited.gw.interceptor
    assert interceptor is not None

    async def one_in_flight() -> bool:
        return interceptor.in_flight == 1

    await eventually(one_in_flight, "the open import stream counts as in flight")
    rejected_before = metric("datagw_rpc_requests_total", method=GET, code="RESOURCE_EXHAUSTED")

    failure = await fails(limited.catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku)),
                          grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert failure.error_info is not None
    assert failure.error_info.reason == "CONCURRENCY_LIMIT"
    assert failure.error_info.metadata["limit"] == "1"
    assert metric("datagw_rpc_requests_total", method=GET,
                  code="RESOURCE_EXHAUSTED") == rejected_before + 1
    # Probes never count against the cap, or a busy gateway would be restarted.
    probe = await limited.health.Check(health_pb2.HealthCheckRequest(service=""))
    assert probe.status == health_pb2.HealthCheckResponse.SERVING

    await stream.done_writing()
    report = await stream
    assert (report.received_count, report.imported_count, report.failed_count) == (1, 1, 0)
    assert interceptor.in_flight == 0
    assert (await get(limited.catalog, sku, STRONG)).sku == sku


async def test_open_subscriptions_hold_their_slots_until_cancelled(
    two_slots: Stack, uid: str
) -> None:
    sku = f"SUBCAP-{uid}"
    await upsert(two_slots.catalog, product(sku))
    interceptor = two_slots.gw.interceptor
    assert interceptor is not None
    request = eventstore_pb2.SubscribeToAllRequest(
        filter=eventstore_pb2.EventFilter(stream_prefixes=[f"subcap-{uid}-"]))
    subscriptions = [two_slots.events.SubscribeToAll(request) for _ in range(2)]
    try:
        for subscription in subscriptions:
            first = await subscription.read()  # admitted: it has caught up
            assert first.WhichOneof("content") == "caught_up"
        assert interceptor.in_flight == 2

        failure = await fails(two_slots.catalog.GetProduct(catalog_pb2.GetProductRequest(
            sku=sku)), grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert failure.error_info is not None
        assert failure.error_info.reason == "CONCURRENCY_LIMIT"
        assert failure.error_info.metadata["limit"] == "2"
        # A third subscription gets the same answer.
        failure = await fails(two_slots.events.SubscribeToAll(request).read(),
                              grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert failure.error_info is not None
        assert failure.error_info.reason == "CONCURRENCY_LIMIT"

        subscriptions[0].cancel()

        async def one_left() -> bool:
            return interceptor.in_flight == 1

        await eventually(one_left, "the cancelled subscription gives its slot back")
        assert (await get(two_slots.catalog, sku, STRONG)).sku == sku
    finally:
        for subscription in subscriptions:
            subscription.cancel()

    async def none_left() -> bool:
        return interceptor.in_flight == 0

    await eventually(none_left, "every cancelled subscription gives its slot back")


# -- message size ---------------------------------------------------------------


async def test_message_larger_than_the_limit_is_rejected(limited: Stack, uid: str) -> None:
    # Valid by the catalog rules (a default gateway would store it), only too big.
    big = product(f"BIG-{uid}", description="d" * 10_000,
                  attributes={f"a{i}": "v" * 1000 for i in range(10)})
    assert big.ByteSize() > SMALL_MESSAGE_LIMIT
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await upsert(limited.catalog, big)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED

    assert (await upsert(limited.catalog, product(f"SMALL-{uid}"))).created
    await fails(limited.catalog.GetProduct(catalog_pb2.GetProductRequest(
        sku=f"BIG-{uid}", read_options=STRONG)), grpc.StatusCode.NOT_FOUND)


# -- deadlines --------------------------------------------------------------------


async def test_client_deadline_cancels_the_blocked_database_statement(
    gateway: Gateway, catalog: catalog_pb2_grpc.CatalogServiceStub, uid: str
) -> None:
    await blocked_upsert_is_cancelled(catalog, keyspace_dsn(gateway, "catalog"), f"DL-{uid}", 0.5)


async def test_default_deadline_applies_when_the_caller_sets_none(
    strict: Stack, uid: str
) -> None:
    err = await blocked_upsert_is_cancelled(
        strict.catalog, keyspace_dsn(strict, "catalog"), f"DD-{uid}", None)
    info = decode(err).error_info
    assert info is not None and info.reason == "DEADLINE_EXCEEDED"
    assert float(info.metadata["deadline_s"]) == pytest.approx(0.5)


# -- unexpected errors -------------------------------------------------------------


async def test_unexpected_error_is_internal_with_an_id_and_no_internals(
    strict: Stack, uid: str, caplog: pytest.LogCaptureFixture
) -> None:
    sku = f"INT-{uid}"
    await upsert(strict.catalog, product(sku))
    await sql(strict, "catalog", "ALTER TABLE products RENAME TO products_hidden")
    try:
        failure = await fails(strict.catalog.GetProduct(catalog_pb2.GetProductRequest(
            sku=sku, read_options=STRONG)), grpc.StatusCode.INTERNAL)
    finally:
        await sql(strict, "catalog", "ALTER TABLE products_hidden RENAME TO products")

    assert failure.error_info is not None and failure.error_info.reason == "INTERNAL"
    error_id = failure.error_info.metadata["error_id"]
    assert error_id and error_id in failure.message
    for leak in ("products", "relation", "Traceback", "SELECT", "asyncpg"):
        assert leak not in failure.message
    # The operator finds the id next to the real cause in the log.
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], asyncpg.UndefinedTableError)

    assert (await get(strict.catalog, sku, STRONG)).sku == sku


# -- a shard that is down -----------------------------------------------------------


async def test_shard_down_is_unavailable_then_recovers(strict: Stack, uid: str) -> None:
    sku = f"DOWN-{uid}"
    await upsert(strict.catalog, product(sku))
    postgres = strict.embedded.postgres
    await asyncio.to_thread(postgres.kill)
    try:
        failure = await fails(strict.catalog.GetProduct(catalog_pb2.GetProductRequest(
            sku=sku, read_options=STRONG)), grpc.StatusCode.UNAVAILABLE)
        assert failure.error_info is not None
        assert failure.error_info.reason == "BACKEND_UNAVAILABLE"
        metadata = failure.error_info.metadata
        assert (metadata["keyspace"], metadata["shard"]) == ("catalog", "0")
        assert metadata["address"] == f"127.0.0.1:{postgres.port}"
        # Sessions live in Redis, which is still up.
        created = await strict.sessions.CreateSession(
            session_pb2.CreateSessionRequest(user_id=f"u-{uid}"))
        assert created.session.session_id
    finally:
        await asyncio.to_thread(postgres.start)

    async def catalog_answers() -> bool:
        try:
            return (await get(strict.catalog, sku, STRONG)).sku == sku
        except grpc.aio.AioRpcError as exc:
            assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
            return False

    await eventually(catalog_answers, "the catalog answers again after postgres restarted")
