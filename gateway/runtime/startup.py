"""Everything below the domain layer, opened and migrated: policies, backends
(started first when embedded), the replication tracker and event notifiers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import asyncpg

from gateway.policy.model import PolicyCatalog, Store
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.config import ClickHouseConfig, Config, ConfigError, KeyspaceConfig
from gateway.runtime.embedded.analytics import USER as ANALYTICS_USER
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.storage.clickhouse.schema import ensure_schema
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsUnavailable
from gateway.storage.eventstore.notify import EventNotifiers
from gateway.storage.postgres.keyspace_id import even_ranges
from gateway.storage.postgres.map_watch import MapWatch
from gateway.storage.postgres.migrations import migrate
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.replication import ReplicationTracker
from gateway.storage.redis.client import RedisBackend
from gateway.storage.topology import Backends
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

# A ClickHouse server down at start: how often the schema is tried again.
ANALYTICS_SCHEMA_RETRY_S = 5.0
# The policy domains whose keyspaces hold events (ReadAll and its consumers
# visit those keyspaces in name order).
EVENT_DOMAINS = ("events", "orders", "inventory", "catalog")
# The domain whose (unsharded) keyspace holds the control tables: the range
# maps and resharding workflows (catalog migration 0005).
CONTROL_DOMAIN = "catalog"


@dataclass
class OpenBackends:
    policies: PolicyRegistry
    backends: Backends
    replication: ReplicationTracker
    notifiers: EventNotifiers
    # The keyspaces whose shards hold events, in the order ReadAll visits them.
    event_keyspaces: list[str]
    # The sharded keyspaces' range maps, followed in the control table (None:
    # no sharded keyspace).
    maps: MapWatch | None
    # How another process reaches the same backends (`serve --workers N`):
    # the keyspaces (embedded servers included), Redis, and the analytics
    # store when it can be reached from elsewhere.
    keyspace_configs: dict[str, KeyspaceConfig]
    redis_url: str
    analytics: ClickHouseConfig | None
    # The control database without a transaction pooler (None: only through
    # one), for session locks.
    control_dsn: str | None
    embedded: EmbeddedBackends | None = None
    startup_lines: list[str] = field(default_factory=list)
    # Retries the analytics schema while ClickHouse is down at start.
    schema_retry: asyncio.Task[None] | None = None

    def keyspace_of(self, domain: str) -> str:
        keyspace = self.policies.get(domain).keyspace
        assert keyspace is not None, f"{domain} is not a postgres domain"
        return keyspace

    async def close(self) -> None:
        """Background work first, then connections; embedded servers always stop."""
        try:
            await stop_tasks(self.schema_retry, what="schema retry")
            if self.maps is not None:
                await self.maps.stop()
            await self.replication.stop()
            await self.notifiers.stop()
            await self.backends.close()
        finally:
            if self.embedded is not None:
                await asyncio.to_thread(self.embedded.stop)


async def open_backends(config: Config, catalog: PolicyCatalog) -> OpenBackends:
    """Policies (checked against the catalog), backends and migrations; no listening."""
    policies = PolicyRegistry(config.policies_dir, catalog)
    keyspace_configs = dict(config.keyspaces)
    redis_url = config.redis_url
    clickhouse: AnalyticsStore | None = None
    if config.clickhouse is not None:
        ch = config.clickhouse
        clickhouse = ClickHouseServerStore(
            ch.url, ch.database, ch.username, ch.password,
            ch.connect_timeout_s, ch.send_receive_timeout_s, ca_file=ch.ca_file,
            client_cert_file=ch.client_cert_file, client_key_file=ch.client_key_file)
    embedded: EmbeddedBackends | None = None
    startup_lines: list[str] = []
    analytics = config.clickhouse
    sharded = _sharded_keyspaces(policies)
    if config.embedded:
        embedded = EmbeddedBackends(
            config.data_dir, ephemeral=config.ephemeral,
            shards=config.embedded_shards if sharded else 0, replicas=config.embedded_replicas,
            synchronous=config.embedded_synchronous, backup=config.backup,
            analytics=clickhouse is None)
        await asyncio.to_thread(embedded.start)
    try:
        # Whatever fails from here on, embedded servers started above stop.
        if embedded is not None:
            startup_lines.extend(embedded.describe())
            keyspace_configs = await _embedded_keyspaces(policies, embedded, sharded)
            redis_url = embedded.valkey.url
            if clickhouse is None:
                # The engine's own process (every gateway process of this
                # data dir reaches the same one).
                clickhouse = embedded.analytics.store()
                analytics = ClickHouseConfig(embedded.analytics.url, username=ANALYTICS_USER,
                                             password=embedded.analytics.password)
        assert redis_url is not None
        _check_keyspaces(policies, keyspace_configs)
        keyspaces = {name: _keyspace(ks) for name, ks in keyspace_configs.items()}
        redis = RedisBackend(redis_url, timeout_s=config.redis_timeout_s,
                             cluster=config.redis_cluster, seeds=config.redis_seeds)
        backends = Backends(keyspaces, redis, clickhouse, embedded=config.embedded)
        for ks in keyspaces.values():
            await ks.open()
            for shard in ks.shards:
                async with shard.connection("migrate") as conn:
                    await migrate(conn, ks.name)
        maps = await _watch_maps(policies, keyspaces, keyspace_configs, sharded)
        event_keyspaces = sorted({policies.get(d).keyspace or "" for d in EVENT_DOMAINS})
        schema_retry = (await _ensure_analytics_schema(policies, clickhouse)
                        if clickhouse is not None else None)
        control = policies.get(CONTROL_DOMAIN).keyspace
        assert control is not None
        opened = OpenBackends(
            policies, backends, ReplicationTracker(list(keyspaces.values())),
            EventNotifiers([keyspaces[k] for k in event_keyspaces], _listen_dsns(keyspace_configs)),
            event_keyspaces, maps, keyspace_configs, redis_url, analytics,
            keyspace_configs[control].listen_dsn(0), embedded, startup_lines, schema_retry)
        await backends.check()
    except BaseException:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
        raise
    opened.replication.start()
    opened.notifiers.start()
    if opened.maps is not None:
        opened.maps.start()
    return opened


async def _ensure_analytics_schema(
    policies: PolicyRegistry, store: AnalyticsStore
) -> asyncio.Task[None] | None:
    """The analytics tables at their policy's TTL. A ClickHouse server that is
    down does not keep the gateway from starting (events wait in PostgreSQL):
    the schema is retried in the background (the task returned) until it is in."""
    try:
        await _apply_analytics_schema(policies, store)
        return None
    except AnalyticsUnavailable as exc:
        log.warning("analytics store unreachable, schema retried in the background: %s", exc)
        return asyncio.create_task(_retry_analytics_schema(policies, store))


async def _retry_analytics_schema(policies: PolicyRegistry, store: AnalyticsStore) -> None:
    while True:
        await asyncio.sleep(ANALYTICS_SCHEMA_RETRY_S)
        with contextlib.suppress(AnalyticsUnavailable):
            await _apply_analytics_schema(policies, store)
            return


async def _apply_analytics_schema(policies: PolicyRegistry, store: AnalyticsStore) -> None:
    analytics = policies.get("analytics")
    for change in await ensure_schema(store, dict(analytics.retention)):
        log.info("analytics schema: %s", change)


def database_on(dsn: str, name: str) -> str:
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
    for i, dsn in enumerate(ks.shard_dsns):
        shard = Shard(ks.name, i, dsn, ks.pool)
        shard.replicas = [Shard(ks.name, i, r, ks.pool, role=f"replica{j}")
                          for j, r in enumerate(ks.replicas_of(i))]
        shards.append(shard)
    # The config's map until the control table's is read (map_watch.py).
    return Keyspace(ks.name, shards, ks.initial_map())


async def _watch_maps(policies: PolicyRegistry, keyspaces: dict[str, Keyspace],
                      configs: dict[str, KeyspaceConfig], sharded: set[str]) -> MapWatch | None:
    """The range maps of the sharded keyspaces, from the control table in the
    catalog keyspace (seeded from the config the first time)."""
    if not sharded:
        return None
    control = policies.get(CONTROL_DOMAIN).keyspace
    assert control is not None
    watch = MapWatch(keyspaces[control].single, [keyspaces[k] for k in sorted(sharded)],
                     configs[control].listen_dsn(0))
    await watch.open({k: configs[k].initial_map() for k in sharded})
    return watch


def _listen_dsns(keyspaces: dict[str, KeyspaceConfig]) -> dict[tuple[str, int], str | None]:
    return {(name, i): ks.listen_dsn(i)
            for name, ks in keyspaces.items() for i in range(len(ks.shard_dsns))}


def _sharded_keyspaces(policies: PolicyRegistry) -> set[str]:
    return {p.keyspace for p in policies.current.domains.values() if p.keyspace and p.shard_key}


async def _embedded_keyspaces(
    policies: PolicyRegistry, embedded: EmbeddedBackends, sharded: set[str]
) -> dict[str, KeyspaceConfig]:
    """One database per keyspace, created on first start: unsharded ones on
    the main server, a sharded one on every shard server (and so on its
    replicas, which replay the CREATE DATABASE)."""
    names = sorted({p.keyspace for p in policies.current.domains.values()
                    if p.store is Store.POSTGRES and p.keyspace})
    out: dict[str, KeyspaceConfig] = {}
    for name in names:
        servers = embedded.shards if name in sharded else [embedded.postgres]
        for server in servers:
            await create_database(server.dsn, name)
        first = embedded.first_shard_count if name in sharded else 1
        out[name] = KeyspaceConfig(
            # A shard with replicas: a multi-host DSN, so a promotion is followed.
            name, tuple(server.cluster_dsn(name) for server in servers),
            replica_dsns=tuple(tuple(database_on(r.dsn, name) for r in server.replicas)
                               for server in servers),
            ranges=(*even_ranges(first), *[None] * (len(servers) - first)))
    return out


def _check_keyspaces(policies: PolicyRegistry, keyspaces: dict[str, KeyspaceConfig]) -> None:
    for p in policies.current.domains.values():
        if p.store is Store.POSTGRES and p.keyspace not in keyspaces:
            raise ConfigError(
                f"{p.source_file}: keyspace: {p.keyspace!r} is not in the topology config "
                f"(configured: {', '.join(sorted(keyspaces)) or 'none'})"
            )
