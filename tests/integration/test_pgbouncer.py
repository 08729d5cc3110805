"""The gateway behind PgBouncer in transaction mode (Debian's 1.18).

This module's `gateway` is a second gateway on the session's PostgreSQL
servers whose every keyspace goes through one PgBouncer (pool_mode =
transaction, a few server connections per database): a server connection is
the gateway's for one transaction only. The commerce and event store tests
imported below run against it unchanged, with the dedicated tests after
them: migrations and prepared statements through the pooler, no session
state left on a server connection, the event notifier polling without a
direct DSN and listening with one.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
import pytest
from datagw.v1 import admin_pb2_grpc, catalog_pb2_grpc, eventstore_pb2_grpc, session_pb2_grpc

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.server import Gateway
from gateway.storage.eventstore.notify import ShardNotifier
from gateway.storage.postgres.migrations import MIGRATIONS_ROOT, migrate
from gateway.storage.postgres.pool import PoolSettings
from tests.commerce import Shop, user_on_shard
from tests.conftest import TEST_SAGAS, need_tool
from tests.eventstore import append, event, ref
from tests.helpers import eventually

# The tests run again here, through the pooler (pytest collects what a module
# imports). Left out: those that read the session gateway's own spans or
# start third gateways of their own on the session's servers.
from tests.integration.test_eventstore_streams import (  # noqa: F401
    es,
    test_a_domain_write_to_a_tombstoned_stream_is_refused_and_changes_nothing,
    test_concurrent_identical_appends_write_one_set,
    test_no_stream_then_exact_then_stream_exists,
    test_re_append_is_idempotent_and_writes_nothing,
    test_read_all_pages_resume_from_the_position_vector,
    test_read_forward_backward_with_from_and_limit,
    test_soft_delete_hides_until_the_next_append_continues,
    test_tombstone_removes_events_and_the_name_for_ever,
)
from tests.integration.test_eventstore_subscriptions import (  # noqa: F401
    test_a_filtered_subscriber_gets_checkpoints_past_skipped_events,
    test_a_live_subscriber_is_woken_by_a_new_commit,
    test_every_event_exactly_once_in_commit_order_with_a_late_commit,
    test_resume_from_a_checkpoint_repeats_and_loses_nothing,
    test_stream_subscription_catches_up_then_goes_live,
)
from tests.integration.test_orders import (  # noqa: F401
    test_a_failure_inside_the_order_transaction_leaves_nothing_behind,
    test_a_users_orders_newest_first_in_pages,
    test_admin_lists_orders_across_shards_in_one_order,
    test_an_order_is_priced_and_written_with_payment_and_events_on_the_users_shard,
    test_cancel_voids_or_refunds_and_returns_the_stock,
    test_concurrent_duplicates_create_one_order,
    test_no_oversell_under_concurrent_orders,
    test_out_of_stock_and_declines_leave_nothing_reserved,
    test_the_status_machine,
)
from tests.integration.test_sagas import (  # noqa: F401
    test_a_finished_saga_keeps_no_card_token,
    test_a_saga_abandoned_after_its_pivot_is_finished,
    test_a_saga_abandoned_after_reserving_is_compensated,
    test_an_expired_reservation_is_released,
)
from tests.pgbouncer import PgBouncer, pgbouncer_binary
from tests.policy_fixtures import POLICIES, running_gateway

pytestmark = pytest.mark.integration

# The gateway's pools: small, and above PgBouncer's per-database pool, so
# clients queue for server connections as they would in production.
POOL = PoolSettings(min_size=1, max_size=4, transaction_pooler=True)
# Session settings that are not the gateway's: those PgBouncer itself SETs on
# a server connection to match each client's startup packet, and jit, which
# asyncpg's type introspection (once per connection and new type) turns off
# and back on with two statements outside a transaction, which a transaction
# pooler may send to two server connections. Either way jit only decides
# whether a query is compiled, never what it returns.
NOT_OURS = ["client_encoding", "DateStyle", "TimeZone", "standard_conforming_strings",
            "application_name", "jit"]
# Bounds waits on a background loop; not a timing assertion.
WITHIN_S = 20.0


@dataclass
class Pooled:
    """What this module runs on besides its gateway: the PgBouncer, and the
    session's gateway (direct connections, for reading behind the pooler)."""

    bouncer: PgBouncer | None = None
    shared: Gateway | None = None
    channel: grpc.aio.Channel | None = None
    # Per keyspace, its shards' databases as PgBouncer names them.
    names: dict[str, list[str]] = field(default_factory=dict)

    def direct_dsn(self, keyspace: str, shard: int = 0) -> str:
        assert self.bouncer is not None
        return self.bouncer.databases[self.names[keyspace][shard]]


@pytest.fixture(scope="module")
def stack() -> Pooled:
    """Filled by `gateway`, the only fixture here that sees the session's."""
    return Pooled()


@pytest.fixture(scope="module")
def pooled(gateway: Gateway, stack: Pooled) -> Pooled:
    return stack


@pytest.fixture(scope="module")
async def gateway(gateway: Gateway, stack: Pooled) -> AsyncIterator[Gateway]:
    """This module's gateway: every keyspace through PgBouncer, no direct DSN
    (so the event notifiers poll)."""
    binary = need_tool("pgbouncer", pgbouncer_binary())
    assert gateway.backends is not None
    # Not under pytest's tmp dir, for the reason tests/conftest.py gives: the
    # PgBouncer runs as the embedded servers' user when we are root.
    tmp = Path(tempfile.mkdtemp(prefix="datagw-pgbouncer-"))
    pooled = stack
    pooled.shared = gateway
    pooled.names = {name: [f"{name}_{s.index}" for s in ks.shards]
                    for name, ks in gateway.backends.keyspaces.items()}
    assert gateway.embedded is not None
    pooled.bouncer = PgBouncer(
        binary, tmp / "pgbouncer",
        {f"{name}_{s.index}": s.dsn
         for name, ks in gateway.backends.keyspaces.items() for s in ks.shards},
        fallback=gateway.embedded.postgres.dsn)
    await pooled.bouncer.start()
    try:
        keyspaces = {name: KeyspaceConfig(name, tuple(pooled.bouncer.dsn(n) for n in names),
                                          pool=POOL)
                     for name, names in pooled.names.items()}
        # The session's short saga lease, which the saga recovery tests wait out.
        async with running_gateway(tmp, POLICIES, gateway, keyspaces=keyspaces,
                                   sagas=TEST_SAGAS) as (gw, ch, _):
            pooled.channel = ch
            yield gw
    finally:
        pooled.bouncer.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def channel(gateway: Gateway, pooled: Pooled) -> grpc.aio.Channel:
    assert pooled.channel is not None
    return pooled.channel


@pytest.fixture(scope="module")
def shop(channel: grpc.aio.Channel) -> Shop:
    return Shop.on(channel)


@pytest.fixture(scope="module")
def catalog(channel: grpc.aio.Channel) -> catalog_pb2_grpc.CatalogServiceStub:
    return catalog_pb2_grpc.CatalogServiceStub(channel)


@pytest.fixture(scope="module")
def sessions(channel: grpc.aio.Channel) -> session_pb2_grpc.SessionServiceStub:
    return session_pb2_grpc.SessionServiceStub(channel)


@pytest.fixture(scope="module")
def admin(channel: grpc.aio.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


async def test_migrations_through_the_pooler_apply_once_and_leave_no_lock(
    pooled: Pooled, uid: str
) -> None:
    assert pooled.bouncer is not None and pooled.shared is not None
    assert pooled.shared.embedded is not None
    name = f"mig_pool_{uid}"
    direct = await asyncpg.connect(pooled.shared.embedded.postgres.dsn)
    try:
        await direct.execute(f'CREATE DATABASE "{name}"')
        # Three gateways racing through one pooler whose few server
        # connections they share: a session lock would be taken on one server
        # connection and released (or not) on another.
        conns = [await asyncpg.connect(pooled.bouncer.dsn(name), statement_cache_size=0)
                 for _ in range(3)]
        try:
            applied = await asyncio.gather(*(migrate(c, "catalog") for c in conns))
            assert await migrate(conns[0], "catalog") == []
            versions = await conns[0].fetch("SELECT version FROM datagw_schema_migrations")
        finally:
            for c in conns:
                await c.close()
        assert sorted(len(a) for a in applied) == [0, 0, len(versions)]
        assert len(versions) == len(list((MIGRATIONS_ROOT / "catalog").glob("*.sql")))
        held = await direct.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
            "(SELECT oid FROM pg_database WHERE datname = $1)", name)
        assert held == 0
    finally:
        await direct.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await direct.close()


async def test_no_session_state_is_left_on_the_servers_connections(
    gateway: Gateway, pooled: Pooled, shop: Shop, uid: str
) -> None:
    """Every server connection PgBouncer holds for inventory and commerce
    shard 1, after the orders above went through them: no prepared statement,
    no LISTEN, no advisory lock, no setting changed by SET (a SET LOCAL ends
    with its transaction)."""
    assert pooled.bouncer is not None
    # Traffic on both databases just before looking.
    user = user_on_shard(gateway, f"{uid}-state", 1)
    await shop.user(user)
    await shop.stocked(f"{uid}-sku", 5)
    await shop.place(user, {f"{uid}-sku": 1}, f"{uid}-order")
    for database in ("inventory_0", "commerce_1"):
        # As many clients as PgBouncer has server connections per database,
        # each holding one in a transaction: together they see every one.
        clients = [await asyncpg.connect(pooled.bouncer.dsn(database), statement_cache_size=0)
                   for _ in range(3)]
        try:
            seen = []
            for conn in clients:
                await conn.execute("BEGIN")
                seen.append(await conn.fetchrow(
                    """SELECT pg_backend_pid() AS pid,
                              (SELECT count(*) FROM pg_prepared_statements) AS statements,
                              (SELECT count(*) FROM pg_listening_channels()) AS channels,
                              (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                                  AND pid = pg_backend_pid()) AS locks,
                              (SELECT count(*) FROM pg_settings WHERE source = 'session'
                                  AND name <> ALL($1::text[])) AS settings""", NOT_OURS))
        finally:
            for conn in clients:
                await conn.close()
        assert len({row["pid"] for row in seen}) == 3, "not every server connection seen"
        for row in seen:
            assert (row["statements"], row["channels"], row["locks"], row["settings"]) \
                == (0, 0, 0, 0), (database, dict(row))


async def test_without_a_direct_dsn_the_notifier_polls(gateway: Gateway) -> None:
    notifier = gateway.notifiers.of("commerce", 0)
    assert notifier.listen_dsn is None and not notifier.listening


async def test_a_direct_dsn_gets_notifications_of_commits_through_the_pooler(
    gateway: Gateway, pooled: Pooled, uid: str
) -> None:
    assert gateway.backends is not None
    user = user_on_shard(gateway, f"{uid}-listen", 1)
    notifier = ShardNotifier(gateway.backends.keyspaces["commerce"].shards[1],
                             pooled.direct_dsn("commerce", 1))
    notifier.start()
    try:
        async def listening() -> bool:
            return notifier.listening

        await eventually(listening, "the notifier listens on the direct DSN", WITHIN_S)
        ticket = notifier.ticket()
        assert pooled.channel is not None
        es = eventstore_pb2_grpc.EventStoreServiceStub(pooled.channel)
        await es.AppendToStream(append(ref(f"{uid}-s", routing_key=user), [event()]))
        # Only a NOTIFY fires it: this notifier does not poll.
        assert await notifier.wait(ticket, WITHIN_S)
    finally:
        await notifier.stop()


async def test_a_gateway_with_direct_dsns_listens_on_them(
    gateway: Gateway, pooled: Pooled, tmp_path: Path
) -> None:
    assert pooled.bouncer is not None and pooled.shared is not None
    keyspaces = {name: KeyspaceConfig(
        name, tuple(pooled.bouncer.dsn(n) for n in names), pool=POOL,
        direct_dsns=tuple(pooled.direct_dsn(name, i) for i in range(len(names))))
        for name, names in pooled.names.items()}
    async with running_gateway(tmp_path, POLICIES, pooled.shared, keyspaces=keyspaces,
                               sagas=TEST_SAGAS) as (gw, _, _):
        notifiers = [gw.notifiers.of("commerce", i) for i in range(len(pooled.names["commerce"]))]
        assert [n.listen_dsn for n in notifiers] == [
            pooled.direct_dsn("commerce", i) for i in range(len(notifiers))]

        async def listening() -> bool:
            return all(n.listening for n in notifiers)

        await eventually(listening, "every commerce shard's notifier listens", WITHIN_S)
