"""Assembles the gateway: backends, policies, domains, servicers and the gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    analytics_pb2,
    analytics_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    eventstore_pb2,
    eventstore_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    payment_pb2,
    payment_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gateway.api.admin import AdminServicer
from gateway.api.analytics import AnalyticsServicer
from gateway.api.catalog import CatalogServicer
from gateway.api.eventstore import EventStoreServicer
from gateway.api.interceptors import GatewayInterceptor
from gateway.api.inventory import InventoryServicer
from gateway.api.orders import OrderServicer
from gateway.api.payments import PaymentServicer
from gateway.api.sessions import SessionServicer
from gateway.api.users import UserServicer
from gateway.domain import catalog as catalog_domain
from gateway.domain.admin import AdminDomain
from gateway.domain.analytics import AnalyticsDomain
from gateway.domain.erasure import ErasureDomain
from gateway.domain.eventstore import EventStoreDomain
from gateway.domain.inventory import InventoryDomain
from gateway.domain.order_sagas import OrderSagas
from gateway.domain.orders import OrdersDomain
from gateway.domain.payments import PaymentsDomain
from gateway.domain.projections import all_projections
from gateway.domain.projections.runner import ProjectionRunner
from gateway.domain.relay import Relay
from gateway.domain.retention import RetentionJob
from gateway.domain.sessions import SessionsDomain
from gateway.domain.subscriptions import Subscriptions
from gateway.domain.users import UsersDomain
from gateway.errors import Unavailable
from gateway.policy.model import Store
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.config import Config, ConfigError, KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.storage.clickhouse.chdb_backend import ChdbStore
from gateway.storage.clickhouse.schema import ensure_schema
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsUnavailable
from gateway.storage.eventstore.notify import EventNotifiers
from gateway.storage.postgres.migrations import migrate
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.replication import ReplicationTracker
from gateway.storage.redis.cache import Cache
from gateway.storage.redis.client import RedisBackend
from gateway.storage.topology import Backends

log = logging.getLogger(__name__)

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name
SESSIONS = session_pb2.DESCRIPTOR.services_by_name["SessionService"].full_name
ADMIN = admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name
USERS = user_pb2.DESCRIPTOR.services_by_name["UserService"].full_name
ORDERS = order_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name
PAYMENTS = payment_pb2.DESCRIPTOR.services_by_name["PaymentService"].full_name
INVENTORY = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name
EVENTSTORE = eventstore_pb2.DESCRIPTOR.services_by_name["EventStoreService"].full_name
ANALYTICS = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
SERVICES = (CATALOG, SESSIONS, USERS, ORDERS, PAYMENTS, INVENTORY, EVENTSTORE, ANALYTICS, ADMIN)
# The domain whose keyspace decides each service's health.
_SERVICE_DOMAINS = {CATALOG: "catalog", USERS: "users", ORDERS: "orders",
                    PAYMENTS: "payments", INVENTORY: "inventory"}
HEALTH_INTERVAL_S = 2.0
# A ClickHouse server down at start: how often the schema is tried again.
ANALYTICS_SCHEMA_RETRY_S = 5.0


def _database(dsn: str, name: str) -> str:
    return f"{dsn.rsplit('/', 1)[0]}/{name}"


async def create_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _keyspace(ks: KeyspaceConfig) -> Keyspace:
    shards = []
    for i, (dsn, key_range) in enumerate(zip(ks.shard_dsns, ks.key_ranges(), strict=True)):
        shard = Shard(ks.name, i, dsn, ks.pool, key_range)
        shard.replicas = [Shard(ks.name, i, r, ks.pool, key_range, role=f"replica{j}")
                          for j, r in enumerate(ks.replicas_of(i))]
        shards.append(shard)
    return Keyspace(ks.name, shards, ks.range_map_version)


@dataclass
class Gateway:
    config: Config
    policies: PolicyRegistry | None = None
    backends: Backends | None = None
    embedded: EmbeddedBackends | None = None
    server: grpc.aio.Server | None = None
    health: health_aio.HealthServicer | None = None
    port: int = 0
    interceptor: GatewayInterceptor | None = None
    _health_task: asyncio.Task[None] | None = None
    _recovery_task: asyncio.Task[None] | None = None
    _schema_task: asyncio.Task[None] | None = None
    order_sagas: OrderSagas | None = None
    # Events to ClickHouse; None without an analytics store.
    relay: Relay | None = None
    # The read models (user order summary, product sales).
    projections: ProjectionRunner | None = None
    # Removes the events that stream metadata and policies no longer keep.
    retention: RetentionJob | None = None
    replication: ReplicationTracker | None = None
    notifiers: EventNotifiers | None = None
    caches: list[Cache] = field(default_factory=list)
    _startup_lines: list[str] = field(default_factory=list)

    async def start(self) -> None:
        """Open the backends (migrated), then serve gRPC."""
        await self.open_backends()
        assert self.backends is not None
        self._build_server(self.backends.keyspaces, self.backends.redis)
        for cache in self.caches:
            cache.start()
        await self._update_health()
        assert self.server is not None
        await self.server.start()
        self._health_task = asyncio.create_task(self._health_loop())
        self._recovery_task = asyncio.create_task(self._recovery_loop())
        if self.relay is not None:
            self.relay.start()
        if self.projections is not None:
            self.projections.start()
        if self.retention is not None:
            self.retention.start()

    async def open_backends(self) -> None:
        """Policies, backends (started when embedded) and migrations; no listening."""
        cfg = self.config
        self.policies = PolicyRegistry(cfg.policies_dir)
        keyspace_configs = dict(cfg.keyspaces)
        redis_url = cfg.redis_url
        clickhouse: AnalyticsStore | None = None
        if cfg.clickhouse is not None:
            ch = cfg.clickhouse
            clickhouse = ClickHouseServerStore(
                ch.url, ch.database, ch.username, ch.password,
                ch.connect_timeout_s, ch.send_receive_timeout_s)
        if cfg.embedded:
            sharded = self._sharded_keyspaces()
            self.embedded = EmbeddedBackends(
                cfg.data_dir, ephemeral=cfg.ephemeral,
                shards=cfg.embedded_shards if sharded else 0, replicas=cfg.embedded_replicas)
            await asyncio.to_thread(self.embedded.start)
            self._startup_lines.extend(self.embedded.describe())
            keyspace_configs = await self._embedded_keyspaces(self.embedded, sharded)
            redis_url = self.embedded.valkey.url
            if clickhouse is None:
                clickhouse = ChdbStore(self.embedded.clickhouse_path)
        assert redis_url is not None
        self._check_keyspaces(keyspace_configs)
        keyspaces = {name: _keyspace(ks) for name, ks in keyspace_configs.items()}
        redis = RedisBackend(redis_url, timeout_s=cfg.redis_timeout_s)
        self.backends = Backends(keyspaces, redis, clickhouse, embedded=cfg.embedded)
        for ks in keyspaces.values():
            await ks.open()
            for shard in ks.shards:
                async with shard.connection("migrate") as conn:
                    await migrate(conn, ks.name)
        if clickhouse is not None:
            await self._ensure_analytics_schema(clickhouse)
        await self.backends.check()
        self.replication = ReplicationTracker(list(keyspaces.values()))
        self.replication.start()
        self.notifiers = EventNotifiers([keyspaces[k] for k in self.event_keyspaces()])
        self.notifiers.start()

    async def _ensure_analytics_schema(self, store: AnalyticsStore) -> None:
        """The analytics tables at their policy's TTL. A ClickHouse server
        that is down does not keep the gateway from starting (events wait in
        PostgreSQL): the schema is retried in the background until it is in."""
        try:
            await self._apply_analytics_schema(store)
        except AnalyticsUnavailable as exc:
            log.warning("analytics store unreachable, schema retried in the background: %s", exc)
            self._schema_task = asyncio.create_task(self._retry_analytics_schema(store))

    async def _retry_analytics_schema(self, store: AnalyticsStore) -> None:
        while True:
            await asyncio.sleep(ANALYTICS_SCHEMA_RETRY_S)
            with contextlib.suppress(AnalyticsUnavailable):
                await self._apply_analytics_schema(store)
                return

    async def _apply_analytics_schema(self, store: AnalyticsStore) -> None:
        assert self.policies is not None
        for change in await ensure_schema(store, self.policies.get("analytics")):
            log.info("analytics schema: %s", change)

    def event_keyspaces(self) -> list[str]:
        """The keyspaces whose shards hold events (commerce, inventory), in the
        order ReadAll and its consumers visit them."""
        return sorted({self._keyspace_of(d) for d in ("events", "orders", "inventory")})

    def _sharded_keyspaces(self) -> set[str]:
        assert self.policies is not None
        return {p.keyspace for p in self.policies.current.domains.values()
                if p.keyspace and p.shard_key}

    async def _embedded_keyspaces(
        self, embedded: EmbeddedBackends, sharded: set[str]
    ) -> dict[str, KeyspaceConfig]:
        """One database per keyspace, created on first start: unsharded ones on
        the main server, a sharded one on every shard server (and so on its
        replicas, which replay the CREATE DATABASE)."""
        assert self.policies is not None
        names = sorted({p.keyspace for p in self.policies.current.domains.values()
                        if p.store is Store.POSTGRES and p.keyspace})
        out: dict[str, KeyspaceConfig] = {}
        for name in names:
            servers = embedded.shards if name in sharded else [embedded.postgres]
            for server in servers:
                await create_database(server.dsn, name)
            out[name] = KeyspaceConfig(
                name, tuple(_database(server.dsn, name) for server in servers),
                replica_dsns=tuple(tuple(_database(r.dsn, name) for r in server.replicas)
                                   for server in servers))
        return out

    def _check_keyspaces(self, keyspaces: dict[str, KeyspaceConfig]) -> None:
        assert self.policies is not None
        for p in self.policies.current.domains.values():
            if p.store is Store.POSTGRES and p.keyspace not in keyspaces:
                raise ConfigError(
                    f"{p.source_file}: keyspace: {p.keyspace!r} is not in the topology config "
                    f"(configured: {', '.join(sorted(keyspaces)) or 'none'})"
                )

    def _build_server(self, keyspaces: dict[str, Keyspace], redis: RedisBackend) -> None:
        cfg = self.config
        assert self.policies is not None and self.backends is not None
        catalog_policy = self.policies.get(catalog_domain.DOMAIN)
        assert catalog_policy.keyspace is not None
        policies = self.policies
        catalog_cache = Cache(
            redis, catalog_domain.DOMAIN, catalog_domain.CACHE_SCHEMA_VERSION,
            shared_kinds=frozenset({"search"}),
            near_ttl=lambda: policies.get(catalog_domain.DOMAIN).cache.near_ttl_s)
        self.caches = [catalog_cache]
        catalog = catalog_domain.CatalogDomain(
            self.policies, keyspaces[catalog_policy.keyspace], catalog_cache)
        sessions = SessionsDomain(self.policies, redis)
        commerce = keyspaces[self._keyspace_of("orders")]
        inventory = InventoryDomain(self.policies, keyspaces[self._keyspace_of("inventory")])
        payments = PaymentsDomain(self.policies, commerce, cfg.payments)
        self.order_sagas = OrderSagas(self.policies, commerce, catalog, inventory, payments,
                                      cfg.sagas)
        orders = OrdersDomain(self.policies, commerce, self.order_sagas)
        users = UsersDomain(self.policies, commerce)
        if self.backends.clickhouse is not None:
            assert self.notifiers is not None
            self.relay = Relay.over([keyspaces[k] for k in self.event_keyspaces()],
                                    self.notifiers, self.backends.clickhouse)
        assert self.notifiers is not None
        self.projections = ProjectionRunner(
            all_projections(commerce, keyspaces[catalog_policy.keyspace]), self.notifiers)
        self.retention = RetentionJob(
            self.policies, [keyspaces[k] for k in self.event_keyspaces()],
            [s for ks in keyspaces.values() for s in ks.shards], cfg.retention)
        admin = AdminDomain(self.policies, self.backends, {catalog_domain.DOMAIN: catalog_cache},
                            orders, self.relay, self.projections)
        self.interceptor = GatewayInterceptor(
            max_concurrent=cfg.max_concurrent_rpcs, default_deadline_s=cfg.default_deadline_s)
        options: list[tuple[str, Any]] = [
            ("grpc.max_receive_message_length", cfg.max_message_bytes),
            ("grpc.max_send_message_length", cfg.max_message_bytes),
            ("grpc.so_reuseport", 0),
        ]
        server = grpc.aio.server(interceptors=[self.interceptor], options=options)
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(catalog), server)
        session_pb2_grpc.add_SessionServiceServicer_to_server(SessionServicer(sessions), server)
        user_pb2_grpc.add_UserServiceServicer_to_server(
            UserServicer(users, ErasureDomain(self.policies, commerce)), server)
        order_pb2_grpc.add_OrderServiceServicer_to_server(OrderServicer(orders), server)
        payment_pb2_grpc.add_PaymentServiceServicer_to_server(PaymentServicer(payments), server)
        inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
            InventoryServicer(inventory), server)
        admin_pb2_grpc.add_AdminServiceServicer_to_server(AdminServicer(admin), server)
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(
            AnalyticsServicer(AnalyticsDomain(self.policies, self.backends.clickhouse)), server)
        assert self.notifiers is not None
        event_store = EventStoreDomain(keyspaces, self.event_keyspaces())
        eventstore_pb2_grpc.add_EventStoreServiceServicer_to_server(
            EventStoreServicer(event_store, Subscriptions(event_store, self.notifiers)), server)
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
        if cfg.tls is not None:
            creds = grpc.ssl_server_credentials(
                [(Path(cfg.tls.key_file).read_bytes(), Path(cfg.tls.cert_file).read_bytes())],
                root_certificates=Path(cfg.tls.client_ca_file).read_bytes()
                if cfg.tls.client_ca_file else None,
                require_client_auth=cfg.tls.client_ca_file is not None,
            )
            self.port = server.add_secure_port(cfg.listen, creds)
        else:
            self.port = server.add_insecure_port(cfg.listen)
        if self.port == 0:
            raise ConfigError(f"server.listen: cannot listen on {cfg.listen!r}")
        if cfg.unix_socket:
            # The socket is for same-pod callers; the pod boundary is the trust boundary.
            server.add_insecure_port(f"unix:{cfg.unix_socket}")
        self.server = server

    async def _update_health(self) -> None:
        """Per service: SERVING while its keyspace can serve someone. A sharded
        service stays SERVING with one shard down (requests for the other
        shards succeed); each shard reports on its own health name,
        "datagw.shard.<keyspace>.<index>", so the degraded one is visible."""
        assert self.backends is not None and self.health is not None
        assert self.policies is not None
        serving, not_serving = (health_pb2.HealthCheckResponse.SERVING,
                                health_pb2.HealthCheckResponse.NOT_SERVING)
        keyspaces = self.backends.keyspaces
        statuses = {"": serving, ADMIN: serving,
                    # Sessions live only in Redis; the cache being down never
                    # makes the catalog NOT_SERVING, reads bypass it.
                    SESSIONS: serving if self.backends.redis.healthy else not_serving}
        for service, domain in _SERVICE_DOMAINS.items():
            ks = keyspaces[self._keyspace_of(domain)]
            statuses[service] = serving if any(s.healthy for s in ks.shards) else not_serving
        # The event store serves while any shard holding events does.
        statuses[EVENTSTORE] = serving if any(
            s.healthy for k in self.event_keyspaces() for s in keyspaces[k].shards
        ) else not_serving
        # Analytics serves while its ClickHouse store answers.
        clickhouse = self.backends.clickhouse
        statuses[ANALYTICS] = serving if clickhouse is not None and clickhouse.healthy \
            else not_serving
        for ks in keyspaces.values():
            if ks.sharded:
                for shard in ks.shards:
                    statuses[f"datagw.shard.{ks.name}.{shard.index}"] = (
                        serving if shard.healthy else not_serving)
        for service, status in statuses.items():
            await self.health.set(service, status)

    def _keyspace_of(self, domain: str) -> str:
        assert self.policies is not None
        keyspace = self.policies.get(domain).keyspace
        assert keyspace is not None
        return keyspace

    async def _health_loop(self) -> None:
        assert self.backends is not None
        while True:
            await asyncio.sleep(HEALTH_INTERVAL_S)
            try:
                await self.backends.check()
                await self._update_health()
            except Exception:
                log.exception("health check failed")

    async def _recovery_loop(self) -> None:
        """Finish or compensate abandoned sagas, settle expired reservations.

        Runs at start-up, then every recovery_interval; a shard that is down
        is skipped this round and retried the next.
        """
        assert self.order_sagas is not None
        sagas = self.order_sagas
        while True:
            for shard in sagas.keyspace.shards:
                try:
                    await sagas.recover(shard)
                except Unavailable:
                    pass
                except Exception:
                    log.exception("saga recovery on shard %s failed", shard.index)
            try:
                await sagas.sweep_reservations()
            except Unavailable:
                pass
            except Exception:
                log.exception("reservation expiry sweep failed")
            await asyncio.sleep(self.config.sagas.recovery_interval_s)

    def describe(self) -> list[str]:
        cfg = self.config
        where = [f"grpc {'tls' if cfg.tls else 'plaintext'} on {cfg.listen.rsplit(':', 1)[0]}:"
                 f"{self.port}"]
        if cfg.unix_socket:
            where.append(f"grpc on unix:{cfg.unix_socket}")
        return where + self._startup_lines

    async def stop(self) -> None:
        """Drain: NOT_SERVING first, refuse new calls, let in-flight ones finish."""
        for task in (self._health_task, self._recovery_task, self._schema_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.relay is not None:
            await self.relay.stop()
        if self.projections is not None:
            await self.projections.stop()
        if self.retention is not None:
            await self.retention.stop()
        if self.replication is not None:
            await self.replication.stop()
        if self.notifiers is not None:
            await self.notifiers.stop()
        loop = asyncio.get_running_loop()
        grace_ends = loop.time() + self.config.shutdown_grace_s
        if self.health is not None:
            await self.health.enter_graceful_shutdown()
        if self.interceptor is not None:
            # While calls drain, probes still answer (NOT_SERVING) and new
            # calls get a clear UNAVAILABLE; stopping the server right away
            # would close the listener and hide both.
            self.interceptor.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(grace_ends):
                    await self.interceptor.wait_idle()
        try:
            if self.server is not None:
                await self.server.stop(max(grace_ends - loop.time(), 0.0))
            for cache in self.caches:
                await cache.close()
            if self.backends is not None:
                await self.backends.close()
        finally:
            # Whatever failed above, never leave embedded servers running.
            if self.embedded is not None:
                await asyncio.to_thread(self.embedded.stop)
