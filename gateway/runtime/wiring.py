"""Every domain object of a running gateway, built once from open backends.

`open_backends` (runtime/startup.py) hands over what is below the domain
layer; `wire` builds the domains and background jobs on it. The services
table (runtime/services.py) then builds each servicer from this object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.api.convert import ProductProto
from gateway.domain.admin import AdminDomain
from gateway.domain.analytics.relay import Relay
from gateway.domain.analytics.reports import AnalyticsDomain
from gateway.domain.backups import BackupMonitor, NewestBaseBackup
from gateway.domain.catalog import service as catalog
from gateway.domain.catalog.invalidations import InvalidationFollower
from gateway.domain.catalog.search_maintenance import SearchMaintenance
from gateway.domain.events.retention import RetentionJob
from gateway.domain.events.store import EventStoreDomain
from gateway.domain.events.subscriptions import Subscriptions
from gateway.domain.explain import Explainer, PlannedRead
from gateway.domain.inventory import InventoryDomain
from gateway.domain.orders.saga import OrderSagas
from gateway.domain.orders.service import OrdersDomain
from gateway.domain.payments import PaymentsDomain
from gateway.domain.projections import all_projections
from gateway.domain.projections.runner import ProjectionRunner
from gateway.domain.resharding.workflow import Resharding
from gateway.domain.rewind.reconcile import Reach, Reconciler
from gateway.domain.row_retention import RowRetention
from gateway.domain.sessions import SessionsDomain
from gateway.domain.users.erasure import ErasureDomain
from gateway.domain.users.service import UsersDomain
from gateway.domain.verify import Stores, Verifier
from gateway.policy.model import ROW_RETENTION_KEYS
from gateway.records.backup import BaseBackupInfo
from gateway.runtime.config import Config
from gateway.runtime.embedded.backup import newest_base_backup
from gateway.runtime.embedded.wal_archive import server_name
from gateway.runtime.startup import OpenBackends
from gateway.storage.redis.cache import Cache


@dataclass(frozen=True)
class Wiring:
    catalog: catalog.CatalogDomain
    catalog_cache: Cache
    # Applies the catalog's write events to its cache: the durable invalidations.
    catalog_follower: InvalidationFollower
    sessions: SessionsDomain
    users: UsersDomain
    erasure: ErasureDomain
    orders: OrdersDomain
    sagas: OrderSagas
    payments: PaymentsDomain
    inventory: InventoryDomain
    event_store: EventStoreDomain
    subscriptions: Subscriptions
    analytics: AnalyticsDomain
    admin: AdminDomain
    explainer: Explainer
    projections: ProjectionRunner
    retention: RetentionJob
    search_maintenance: SearchMaintenance
    # Events to ClickHouse; None when no analytics store is configured (the
    # events then wait in PostgreSQL).
    relay: Relay | None
    # Moving ranges between shards (workflows in the control table).
    resharding: Resharding
    # Databases restored to an earlier point, noticed and reconciled.
    rewind: Reconciler
    # The cross-store consistency report (AdminService.VerifyStores).
    verifier: Verifier
    # Each primary's WAL archiving and base backups (GetTopology, metrics).
    backups: BackupMonitor

    @property
    def caches(self) -> list[Cache]:
        return [self.catalog_cache]


def wire(config: Config, opened: OpenBackends, planned: Mapping[str, PlannedRead]) -> Wiring:
    """`planned`: the reads ExplainCall explains (from the services table)."""
    policies, backends = opened.policies, opened.backends
    keyspaces = backends.keyspaces
    catalog_keyspace = keyspaces[opened.keyspace_of(catalog.DOMAIN)]
    commerce = keyspaces[opened.keyspace_of("orders")]
    event_keyspaces = [keyspaces[k] for k in opened.event_keyspaces]
    catalog_cache = Cache(
        backends.redis, catalog.DOMAIN, catalog.CACHE_SCHEMA_VERSION,
        shared_kinds=frozenset({"search"}),
        near_ttl=lambda: policies.get(catalog.DOMAIN).cache.near_ttl_s)
    catalog_domain = catalog.CatalogDomain(policies, catalog_keyspace, catalog_cache,
                                           ProductProto())
    catalog_follower = InvalidationFollower(
        catalog_cache, catalog_keyspace.single,
        opened.notifiers.of(catalog_keyspace.name, catalog_keyspace.single.index))
    inventory_keyspace = keyspaces[opened.keyspace_of("inventory")]
    inventory = InventoryDomain(policies, inventory_keyspace)
    payments = PaymentsDomain(policies, commerce, config.payments)
    sagas = OrderSagas(policies, commerce, catalog_domain, inventory, payments, config.sagas)
    orders = OrdersDomain(policies, commerce, sagas)
    relay = (Relay.over(event_keyspaces, opened.notifiers, backends.clickhouse)
             if backends.clickhouse is not None else None)
    projections = ProjectionRunner(
        all_projections(commerce, inventory_keyspace, catalog_keyspace), opened.notifiers)
    event_store = EventStoreDomain(keyspaces, opened.event_keyspaces)
    resharding = Resharding(catalog_keyspace.single, keyspaces, relay is not None)
    verifier = Verifier(policies, Stores(commerce, inventory_keyspace, catalog_keyspace,
                                         event_keyspaces, backends.clickhouse), config.verify)
    rewind = Reconciler(Reach(
        catalog_keyspace.single, keyspaces, backends.redis, relay, projections,
        {catalog_keyspace.name: [catalog_cache]}, commerce, inventory, inventory_keyspace.name,
        frozenset(opened.event_keyspaces), verifier))
    backups = BackupMonitor(list(keyspaces.values()), _newest_base_backup(opened))
    return Wiring(
        catalog=catalog_domain,
        catalog_cache=catalog_cache,
        catalog_follower=catalog_follower,
        sessions=SessionsDomain(policies, backends.redis),
        users=UsersDomain(policies, commerce),
        erasure=ErasureDomain(policies, commerce),
        orders=orders,
        sagas=sagas,
        payments=payments,
        inventory=inventory,
        event_store=event_store,
        subscriptions=Subscriptions(event_store, opened.notifiers),
        analytics=AnalyticsDomain(policies, backends.clickhouse),
        admin=AdminDomain(policies, backends, {catalog.DOMAIN: catalog_cache}, orders,
                          resharding, backups, relay, projections),
        explainer=Explainer(policies, keyspaces, planned),
        projections=projections,
        retention=RetentionJob(policies, event_keyspaces,
                               [s for ks in keyspaces.values() for s in ks.shards],
                               config.retention, RowRetention(
                                   policies, {d: keyspaces[opened.keyspace_of(d)]
                                              for d in ROW_RETENTION_KEYS},
                                   config.retention.batch_size)),
        search_maintenance=SearchMaintenance(catalog_keyspace.single, policies,
                                             config.search),
        relay=relay,
        resharding=resharding,
        rewind=rewind,
        verifier=verifier,
        backups=backups,
    )


def _newest_base_backup(opened: OpenBackends) -> NewestBaseBackup | None:
    """Where embedded mode keeps base backups: a sharded keyspace's shard is
    its own server, the other keyspaces share the main one."""
    embedded = opened.embedded
    if embedded is None:
        return None
    keyspaces = opened.backends.keyspaces

    def newest(keyspace: str, shard: int) -> BaseBackupInfo | None:
        name = server_name(shard if keyspaces[keyspace].sharded else None)
        found = newest_base_backup(embedded.data_dir, name)
        return BaseBackupInfo(found.ended_at, found.size_bytes) if found is not None else None

    return newest
