"""Reconciliation after a database went back in time, without a restore:
the gateway is told a shard was further than it is (its recorded watermark
moved ahead), which is what a point-in-time restore looks like from the
gateway's side. The restore drills (tests/e2e/test_restore_drill.py) do it
for real; these tests pin each reconciliation step down.

A stack of its own (two commerce shards) and ClickHouse behind the test HTTP
front, so the gateway can be stopped and started again in this process.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from datagw.v1 import admin_pb2, catalog_pb2

from gateway.runtime.config import ClickHouseConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDERS
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from tests.chdb_http_front import running_front
from tests.commerce import Shop, user_on_shard
from tests.embedded_stack import keyspaces_on
from tests.helpers import eventually, metric
from tests.reshard_stack import gateway_on

pytestmark = pytest.mark.integration

DATABASE = "rewind"


@pytest.fixture(scope="module")
def clickhouse() -> Iterator[str]:
    with running_front() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def stack() -> AsyncIterator[EmbeddedBackends]:
    root = Path(tempfile.mkdtemp(prefix="datagw-rewind-"))
    backends = EmbeddedBackends(root, ephemeral=True, shards=2, supervise=False, analytics=False)
    backends.start()
    try:
        yield backends
    finally:
        backends.stop()
        shutil.rmtree(root, ignore_errors=True)


async def _catalog(stack: EmbeddedBackends) -> asyncpg.Connection:
    return await asyncpg.connect(stack.postgres.cluster_dsn("catalog"))


async def _count(store: ClickHouseServerStore, sql: str) -> int:
    return int((await store.query(sql)).rows[0][0])


async def _relayed(shop: Shop) -> bool:
    status = await shop.admin.GetRelayStatus(admin_pb2.GetRelayStatusRequest())
    return all(s.lag_events == 0 and not s.last_error for s in status.shards)


async def test_a_shard_behind_its_watermark_is_reconciled_once(
        stack: EmbeddedBackends, clickhouse: str, tmp_path: Path) -> None:
    keyspaces = await keyspaces_on(stack)
    ch = ClickHouseConfig(clickhouse, DATABASE)
    store = ClickHouseServerStore(clickhouse, DATABASE)
    sku = f"rw-{uuid.uuid4().hex[:8]}"
    async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (gw, shop):
        user = user_on_shard(gw, "rw", 0)
        await shop.user(user)
        await shop.stocked(sku, 100)
        for n in range(3):
            await shop.place(user, {sku: 1}, f"rw-{n}")
        await eventually(lambda: _relayed(shop), "the relay caught up", within_s=30)
    # What a restore of shard 0 to an earlier point leaves behind elsewhere:
    # an event (and its order) in ClickHouse beyond the shard's checkpoint,
    # and a reservation held for a saga the shard no longer has.
    now = datetime.now(UTC)
    await store.insert(DOMAIN_EVENTS.name, DOMAIN_EVENTS.column_names, [(
        "commerce", 0, 99_999_999, 99_999_999, uuid.uuid4(), "order-ghost", 0, "OrderPlaced",
        now, "ghost", "{}")])
    await store.insert(ORDERS.name, ORDERS.column_names, [(
        "o-ghost", "ghost", now, "EUR", 100, 1, 1, "commerce", 0, 99_999_999)])
    ghost_saga = f"s-ghost-{uuid.uuid4().hex[:6]}"
    inventory = await asyncpg.connect(stack.postgres.cluster_dsn("inventory"))
    try:
        await inventory.execute(
            "INSERT INTO reservations (reservation_id, state, items, saga_id, saga_shard_key, "
            "expires_at) VALUES ($1, 'held', $2::jsonb, $3, $4, now() + interval '1 hour')",
            f"{ghost_saga}.1", json.dumps([{"sku": sku, "quantity": 2}]), ghost_saga, user)
        await inventory.execute("UPDATE stock SET reserved = reserved + 2 WHERE sku = $1", sku)
    finally:
        await inventory.close()
    events_before = await _count(
        store, "SELECT count() FROM domain_events WHERE keyspace = 'commerce' AND shard = 0")
    catalog = await _catalog(stack)
    try:
        # The gateway saw shard 0 one WAL segment further than it is now.
        await catalog.execute(
            "UPDATE store_watermarks SET lsn = lsn + 16777216 "
            "WHERE keyspace = 'commerce' AND shard = 0")
        async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (gw, shop):
            rows = await catalog.fetch("SELECT * FROM reconciliations")
            assert [(r["keyspace"], r["shard"]) for r in rows] == [("commerce", 0)]
            assert "behind" in rows[0]["reason"]
            actions = "\n".join(json.loads(rows[0]["actions"]))
            assert "analytics: removed" in actions and "domain_events 1" in actions
            assert "orders 1" in actions
            assert f"reservation {ghost_saga}.1 released" in actions
            assert "projection user_order_summary: rebuilding" in actions
            assert "projection product_sales: rebuilding" in actions
            assert json.loads(rows[0]["unreconciled"]) == []
            # Only the ghost went; the relay, now in a new epoch, copied nothing twice.
            assert await _count(store, "SELECT count() FROM orders WHERE order_id = 'o-ghost'") \
                == 0
            await shop.place(user, {sku: 1}, "rw-after")
            await eventually(lambda: _relayed(shop), "the relay caught up", within_s=30)
            shard0 = await asyncpg.connect(stack.shards[0].cluster_dsn("commerce"))
            try:
                in_postgres = await shard0.fetchval("SELECT count(*) FROM events")
            finally:
                await shard0.close()
            assert await _count(
                store, "SELECT count() FROM domain_events WHERE keyspace = 'commerce' "
                       "AND shard = 0") == in_postgres > events_before - 1
            assert await _count(
                store, "SELECT count() - uniqExact(event_id) FROM domain_events") == 0
            stock = await shop.stock(sku)
            assert (stock.on_hand, stock.reserved) == (96, 0)
        # Reconciled once: the next start finds every database where it was seen.
        async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch):
            assert await catalog.fetchval("SELECT count(*) FROM reconciliations") == 1
    finally:
        await catalog.close()


async def test_a_catalog_database_behind_its_redis_watermark_flushes_the_cache(
        stack: EmbeddedBackends, clickhouse: str, tmp_path: Path) -> None:
    """The control table lives in the catalog's database: when that one is
    restored, its own copy of the watermarks goes back with it, and the copy
    in Redis tells."""
    keyspaces = await keyspaces_on(stack)
    ch = ClickHouseConfig(clickhouse, DATABASE)
    sku = f"rwc-{uuid.uuid4().hex[:8]}"
    async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (_gw, shop):
        await shop.stocked(sku, 5)
        await shop.catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku))
    catalog = await _catalog(stack)
    valkey = aioredis.Redis.from_url(stack.valkey.url)
    try:
        scope = await catalog.fetchval(
            "SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/' || "
            "current_database()")
        key = f"datagw:store-watermarks:{scope}"
        seen = json.loads(await valkey.hget(key, "catalog/0"))
        seen["lsn"] += 16777216
        await valkey.hset(key, "catalog/0", json.dumps(seen))
        assert await _cache_entries(valkey), "the product is cached before the restart"
        # As a restore to before a range move's cutover leaves it: the control
        # table's map is not what the shards' fences own.
        await catalog.execute(
            """UPDATE range_maps SET ranges = '[{"range": "-80", "shard": 1},
                                                {"range": "80-", "shard": 0}]'
               WHERE keyspace = 'commerce'""")
        async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch):
            rows = await catalog.fetch("SELECT * FROM reconciliations")
            assert [(r["keyspace"], r["shard"]) for r in rows] == [("catalog", 0)]
            assert "cache catalog:" in " ".join(json.loads(rows[0]["actions"]))
            assert await _cache_entries(valkey) == []
            left = json.loads(rows[0]["unreconciled"])
            assert len(left) == 2 and all(x.startswith("range map of commerce") for x in left)
    finally:
        await valkey.aclose()
        await catalog.close()


async def _cache_entries(valkey: aioredis.Redis) -> list[bytes]:
    return [k async for k in valkey.scan_iter(match="*catalog*")
            if not k.endswith(b":gen") and b"watermarks" not in k]


async def test_a_database_behind_while_serving_is_flagged_and_left_for_the_next_start(
        stack: EmbeddedBackends, clickhouse: str, tmp_path: Path) -> None:
    keyspaces = await keyspaces_on(stack)
    ch = ClickHouseConfig(clickhouse, DATABASE)
    catalog = await _catalog(stack)
    try:
        async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (gw, _shop):
            rewind = gw.wiring.rewind
            await rewind.record_once()
            recorded = await catalog.fetchval(
                "SELECT lsn FROM store_watermarks WHERE keyspace = 'commerce' AND shard = 1")
            # What this gateway saw of shard 1 is further than the shard is now.
            seen = rewind._seen[("commerce", 1)]
            rewind._seen[("commerce", 1)] = replace(seen, lsn=seen.lsn + 16777216)
            await rewind.record_once()
            assert metric("datagw_store_rewound", keyspace="commerce", shard="1") == 1
            # Not recorded over: the next start still finds it behind.
            assert await catalog.fetchval(
                "SELECT lsn FROM store_watermarks WHERE keyspace = 'commerce' AND shard = 1"
            ) == recorded
            assert metric("datagw_store_rewound", keyspace="commerce", shard="0") == 0
    finally:
        await catalog.close()


async def test_an_inventory_behind_its_orders_takes_their_units_again(
        stack: EmbeddedBackends, clickhouse: str, tmp_path: Path) -> None:
    """The inventory restored to before an order: its reservation is gone and
    its units back on hand, while the order stands on its shard. The start
    takes the units again under the same reservation id."""
    keyspaces = await keyspaces_on(stack)
    ch = ClickHouseConfig(clickhouse, DATABASE)
    sku = f"rwi-{uuid.uuid4().hex[:8]}"
    async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (gw, shop):
        user = user_on_shard(gw, "rwi", 1)
        await shop.user(user)
        await shop.stocked(sku, 10)
        await shop.place(user, {sku: 3}, "rwi-1")
        assert (await shop.stock(sku)).on_hand == 7
    inventory = await asyncpg.connect(stack.postgres.cluster_dsn("inventory"))
    catalog = await _catalog(stack)
    try:
        [rid] = [r["reservation_id"] for r in await inventory.fetch(
            "SELECT reservation_id FROM reservations WHERE items @> $1::jsonb",
            json.dumps([{"sku": sku}]))]
        # What the inventory looked like before the order.
        await inventory.execute("DELETE FROM reservations WHERE reservation_id = $1", rid)
        await inventory.execute("UPDATE stock SET on_hand = 10 WHERE sku = $1", sku)
        await catalog.execute(
            "UPDATE store_watermarks SET lsn = lsn + 16777216 WHERE keyspace = 'inventory'")
        async with gateway_on(stack, keyspaces, tmp_path, clickhouse=ch) as (_gw, shop):
            [row] = await catalog.fetch(
                "SELECT actions, unreconciled FROM reconciliations WHERE keyspace = 'inventory'")
            assert "its stock taken again" in " ".join(json.loads(row["actions"]))
            assert json.loads(row["unreconciled"]) == []
            stock = await shop.stock(sku)
            assert (stock.on_hand, stock.reserved) == (7, 0)
            assert await inventory.fetchval(
                "SELECT state FROM reservations WHERE reservation_id = $1", rid) == "committed"
    finally:
        await inventory.close()
        await catalog.close()
