"""VerifyStores: clean once the relay and projections caught up, and each
kind of drift made behind the gateway's back is reported precisely.

The session gateway is shared: each test undoes its drift, and the "clean"
assertions compare with the findings the stack had before this module ran
(other modules' leftovers are theirs), by what they are about.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from datagw.v1 import admin_pb2, order_pb2

from gateway.domain.verify import Stores, Verifier, VerifySettings
from gateway.records.verify import (
    EVENTS_VS_ANALYTICS,
    INFO,
    INVENTORY,
    PROJECTIONS,
    Finding,
    VerifyReport,
)
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore
from gateway.storage.postgres import relay_store
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.analytics import relayed_past_now
from tests.commerce import Shop, shard_index, shard_rows, user_on_shard
from tests.helpers import eventually, metric, sql

_SYNC = {"mutations_sync": 2}


def _about(f: Finding) -> tuple[str, str, str, int | None, str, str]:
    return (f.check, f.kind, f.keyspace, f.shard, f.table, f.key)


@dataclass(frozen=True)
class Placed:
    users: list[str]
    sku: str
    # Per user: the order that stands and the one cancelled.
    orders: dict[str, tuple[str, str]]
    # What the stack was found with before this module's orders.
    before: frozenset[tuple[str, str, str, int | None, str, str]]


def _store(gateway: Gateway) -> AnalyticsStore:
    assert gateway.backends.clickhouse is not None
    return gateway.backends.clickhouse


async def _verify(gateway: Gateway, *checks: str) -> VerifyReport:
    return await gateway.wiring.verifier.run(None, set(checks))


def _new(report: VerifyReport, placed: Placed) -> list[Finding]:
    return [f for f in report.findings
            if f.severity != INFO and _about(f) not in placed.before]


async def _caught_up(gateway: Gateway, shop: Shop) -> None:
    """Until the relay has every event committed now, and the projections
    have applied them."""
    await relayed_past_now(gateway)

    async def applied() -> bool:
        response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
        return all(s.lag_events == 0 and not s.last_error
                   for p in response.projections for s in p.shards)

    await eventually(applied, "projections caught up", within_s=30)


@pytest.fixture(scope="module")
async def placed(gateway: Gateway, shop: Shop) -> AsyncIterator[Placed]:
    tag = uuid.uuid4().hex[:8]
    before = await gateway.wiring.verifier.run(None)
    sku = f"verify-{tag}"
    await shop.stocked(sku, 100, price_minor=250)
    users, orders = [], {}
    for index in range(len(gateway.backends.keyspaces["commerce"].shards)):
        user = user_on_shard(gateway, f"verify-{tag}", index)
        await shop.user(user)
        kept = await shop.place(user, {sku: 2}, f"verify-{tag}-{index}-a")
        gone = await shop.place(user, {sku: 1}, f"verify-{tag}-{index}-b")
        await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
            order_id=gone.order.order_id, reason="verify", request_id=f"cancel-{tag}-{index}"))
        users.append(user)
        orders[user] = (kept.order.order_id, gone.order.order_id)
    await _caught_up(gateway, shop)
    yield Placed(users, sku, orders, frozenset(
        _about(f) for f in before.findings if f.severity != INFO))


async def test_clean_after_orders_once_caught_up(gateway: Gateway, shop: Shop,
                                                 placed: Placed) -> None:
    response = await shop.admin.VerifyStores(admin_pb2.VerifyStoresRequest(exhaustive=True))
    assert response.sample == 1.0
    report = await _verify(gateway)
    assert _new(report, placed) == []
    assert not any(r.errors for r in report.results)
    counts = {r.check: r.counts for r in report.results}
    assert counts[EVENTS_VS_ANALYTICS]["events"] >= 4 * len(placed.users)
    assert counts[PROJECTIONS]["users"] >= len(placed.users)
    assert counts[PROJECTIONS]["skus"] >= 1
    assert counts[INVENTORY]["skus"] >= 1
    assert {c.name for c in response.checks} == {r.check for r in report.results}


async def test_sampled_run_compares_a_part(shop: Shop, placed: Placed) -> None:
    response = await shop.admin.VerifyStores(admin_pb2.VerifyStoresRequest(
        sample=0.5, checks=[EVENTS_VS_ANALYTICS]))
    assert response.sample == 0.5
    assert [c.name for c in response.checks] == [EVENTS_VS_ANALYTICS]


async def test_a_deleted_clickhouse_row_is_found(gateway: Gateway, placed: Placed) -> None:
    store = _store(gateway)
    user = placed.users[0]
    index = shard_index(gateway, user)
    [row] = await shard_rows(
        gateway, index,
        "SELECT event_id::text AS id, position FROM events "
        "WHERE event_type = 'OrderPlaced' AND payload ->> 'order_id' = $1",
        placed.orders[user][0])
    kept = await store.query(
        f"SELECT * FROM {DOMAIN_EVENTS.name} WHERE event_id = toUUID({{id:String}})",
        {"id": row["id"]})
    assert len(kept.rows) == 1
    await store.command(f"ALTER TABLE {DOMAIN_EVENTS.name} DELETE WHERE event_id = "
                        "toUUID({id:String})", {"id": row["id"]}, _SYNC)
    try:
        report = await _verify(gateway, EVENTS_VS_ANALYTICS)
        [missing] = [f for f in _new(report, placed) if f.kind == "missing_in_analytics"]
        assert (missing.keyspace, missing.shard, missing.table) == ("commerce", index,
                                                                   DOMAIN_EVENTS.name)
        assert f"{row['id']} at {row['position']}" in missing.detail
        assert "1 missing" in missing.detail
    finally:
        await store.insert(DOMAIN_EVENTS.name, DOMAIN_EVENTS.column_names, kept.rows)
    assert _new(await _verify(gateway, EVENTS_VS_ANALYTICS), placed) == []


async def test_a_deleted_order_row_is_found(gateway: Gateway, placed: Placed) -> None:
    store = _store(gateway)
    user = placed.users[-1]
    order_id = placed.orders[user][1]
    kept = await store.query(
        f"SELECT * FROM {ORDERS.name} WHERE order_id = {{id:String}} AND sign = -1",
        {"id": order_id})
    assert len(kept.rows) == 1
    # Compared with a run just before: the window holding this module's
    # orders may hold other modules' events too, and a difference they left.
    baseline = {_about(f): f for f in (await _verify(gateway, EVENTS_VS_ANALYTICS)).findings}
    await store.command(f"ALTER TABLE {ORDERS.name} DELETE WHERE order_id = {{id:String}} "
                        "AND sign = -1", {"id": order_id}, _SYNC)
    try:
        report = await _verify(gateway, EVENTS_VS_ANALYTICS)
        [off] = [f for f in report.findings if f.kind == "order_rows_mismatch"
                 and (_about(f) not in baseline or baseline[_about(f)].found != f.found)]
        assert (off.shard, off.table) == (shard_index(gateway, user), ORDERS.name)
        # One row fewer than before the deletion: as many as the events give,
        # or what the baseline found in a window that differed already.
        prior = baseline.get(_about(off))
        rows_before = int((prior.found if prior else off.expected).split()[0])
        assert rows_before - int(off.found.split()[0]) == 1
    finally:
        await store.insert(ORDERS.name, ORDERS.column_names, kept.rows)
    assert _new(await _verify(gateway, EVENTS_VS_ANALYTICS), placed) == []


async def test_a_wrong_projection_count_is_found(gateway: Gateway, placed: Placed) -> None:
    user = placed.users[0]
    index = shard_index(gateway, user)
    change = "UPDATE user_order_summary SET order_count = order_count + $2 WHERE user_id = $1"
    await shard_rows(gateway, index, change, user, 1)
    try:
        report = await _verify(gateway, PROJECTIONS)
        [wrong] = _new(report, placed)
        assert (wrong.kind, wrong.shard, wrong.table, wrong.key) == (
            "projection_mismatch", index, "user_order_summary", f"user {user} EUR")
        assert (wrong.expected, wrong.found) == ("orders 1, cancelled 1, spent 500",
                                                 "orders 2, cancelled 1, spent 500")
    finally:
        await shard_rows(gateway, index, change, user, -1)
    assert _new(await _verify(gateway, PROJECTIONS), placed) == []


async def test_wrong_product_sales_are_found(gateway: Gateway, placed: Placed) -> None:
    change = "UPDATE product_sales SET units = units + $2 WHERE sku = $1"
    await sql(gateway, "catalog", change, placed.sku, 3)
    try:
        report = await _verify(gateway, PROJECTIONS)
        [wrong] = _new(report, placed)
        assert (wrong.kind, wrong.table, wrong.key) == (
            "projection_mismatch", "product_sales", f"sku {placed.sku}")
        units = 2 * len(placed.users)
        assert wrong.expected.startswith(f"units {units}, orders {len(placed.users)}")
        assert wrong.found.startswith(f"units {units + 3}, ")
    finally:
        await sql(gateway, "catalog", change, placed.sku, -3)


async def test_a_leaked_reservation_is_found(gateway: Gateway, placed: Placed) -> None:
    user = placed.users[0]
    [saga] = await shard_rows(gateway, shard_index(gateway, user),
                              "SELECT saga_id, state FROM sagas WHERE order_id = $1",
                              placed.orders[user][0])
    assert saga["state"] == "completed"
    leaked = f"leak-{uuid.uuid4().hex[:8]}"
    await sql(gateway, "inventory",
              """WITH r AS (INSERT INTO reservations (reservation_id, state, items, saga_id,
                                                      saga_shard_key, expires_at)
                            VALUES ($1, 'held', jsonb_build_array(jsonb_build_object(
                                    'sku', $2::text, 'quantity', 2)), $3, $4,
                                    now() + interval '1 hour'))
                 UPDATE stock SET reserved = reserved + 2 WHERE sku = $2""",
              leaked, placed.sku, saga["saga_id"], user)
    try:
        report = await _verify(gateway, INVENTORY)
        [found] = _new(report, placed)
        assert (found.kind, found.table, found.key) == (
            "leaked_reservation", "reservations", f"reservation {leaked}")
        assert "saga completed" in found.expected
        assert metric("datagw_verify_findings", check=INVENTORY) == len(
            [f for f in report.findings if f.check == INVENTORY and f.severity != INFO])
    finally:
        await sql(gateway, "inventory",
                  """WITH r AS (DELETE FROM reservations WHERE reservation_id = $1)
                     UPDATE stock SET reserved = reserved - 2 WHERE sku = $2""",
                  leaked, placed.sku)
    after = await _verify(gateway, INVENTORY)
    assert _new(after, placed) == []
    assert metric("datagw_verify_findings", check=INVENTORY) == len(
        [f for f in after.findings if f.severity != INFO])


async def test_reserved_units_off_are_found(gateway: Gateway, placed: Placed) -> None:
    change = "UPDATE stock SET reserved = reserved + $2 WHERE sku = $1"
    await sql(gateway, "inventory", change, placed.sku, 1)
    try:
        [off] = _new(await _verify(gateway, INVENTORY), placed)
        assert (off.kind, off.key, off.expected, off.found) == (
            "reserved_mismatch", f"sku {placed.sku}", "reserved 0 (held reservations)",
            "reserved 1")
    finally:
        await sql(gateway, "inventory", change, placed.sku, -1)


async def test_unknown_check_is_refused(gateway: Gateway) -> None:
    from gateway.errors import InvalidArgument
    with pytest.raises(InvalidArgument):
        await gateway.wiring.verifier.run(None, {"nope"})
    with pytest.raises(InvalidArgument):
        await gateway.wiring.verifier.run(0.0, None)


async def test_rows_beyond_the_relay_checkpoint_are_found(gateway: Gateway,
                                                          placed: Placed) -> None:
    """What a PostgreSQL restored to an earlier point leaves in ClickHouse:
    rows of events past the checkpoint that no batch claimed."""
    store = _store(gateway)
    index = shard_index(gateway, placed.users[0])
    shard = gateway.backends.keyspaces["commerce"].shards[index]
    async with shard.connection("test") as conn:
        cp = await relay_store.load(conn)
    far = (cp.at.commit + 10**9, cp.at.position + 10**9)
    columns = DOMAIN_EVENTS.column_names
    [row] = (await store.query(
        f"SELECT * FROM {DOMAIN_EVENTS.name} WHERE keyspace = 'commerce' "
        "AND shard = {shard:UInt16} ORDER BY position DESC LIMIT 1", {"shard": index})).rows
    ghost = dict(zip(columns, row, strict=True))
    ghost.update(commit=far[0], position=far[1], event_id=uuid.uuid4())
    await store.insert(DOMAIN_EVENTS.name, columns, [tuple(ghost[c] for c in columns)])
    try:
        report = await _verify(gateway, EVENTS_VS_ANALYTICS)
        [beyond] = _new(report, placed)
        assert (beyond.kind, beyond.shard, beyond.found) == ("beyond_checkpoint", index,
                                                             "1 rows")
        assert beyond.key == f"cursors {far[0]}-{far[1]} .. {far[0]}-{far[1]}"
    finally:
        await store.command(f"ALTER TABLE {DOMAIN_EVENTS.name} DELETE WHERE event_id = "
                            "toUUID({id:String})", {"id": str(ghost["event_id"])}, _SYNC)
    assert _new(await _verify(gateway, EVENTS_VS_ANALYTICS), placed) == []


async def test_an_orphaned_email_row_is_found(gateway: Gateway, placed: Placed) -> None:
    """A lookup row (written before its user, an hour ago) whose user was never written."""
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    email = f"{ghost}@example.com"
    ksid = keyspace_id(email)
    at = gateway.backends.keyspaces["commerce"].shard_for(ksid).index
    await shard_rows(gateway, at,
                     "INSERT INTO user_emails (email, keyspace_id, user_id, created_at) "
                     "VALUES ($1, $2, $3, now() - interval '1 hour')",
                     email, ksid_bytes(ksid), ghost)
    try:
        report = await _verify(gateway, "housekeeping")
        [orphan] = _new(report, placed)
        assert (orphan.kind, orphan.shard, orphan.key, orphan.found) == (
            "orphaned_email", at, f"user {ghost}", "no such user")
        # The report names the user id, never the address.
        assert email not in repr(orphan)
    finally:
        await shard_rows(gateway, at, "DELETE FROM user_emails WHERE email = $1", email)


async def test_a_shard_owning_what_the_map_does_not_give_it_is_found(
        gateway: Gateway, placed: Placed) -> None:
    commerce = gateway.backends.keyspaces["commerce"]
    last = len(commerce.shards) - 1
    # Owning more than the map says refuses no write: the shared stack is safe.
    extra = "INSERT INTO shard_ranges (start_ksid, end_ksid, map_version) " \
            "VALUES ('\\x1000000000000000'::bytea, '\\x2000000000000000'::bytea, 1)"
    await shard_rows(gateway, last, extra)
    try:
        [wrong] = _new(await _verify(gateway, "range_maps"), placed)
        assert (wrong.kind, wrong.shard) == ("range_map_mismatch", last)
        assert "10-20" in wrong.found and "10-20" not in wrong.expected
    finally:
        await shard_rows(gateway, last, "DELETE FROM shard_ranges "
                                        "WHERE start_ksid = '\\x1000000000000000'::bytea")


async def test_on_hand_off_its_events_is_found(gateway: Gateway, placed: Placed) -> None:
    change = "UPDATE stock SET on_hand = on_hand + $2 WHERE sku = $1"
    await sql(gateway, "inventory", change, placed.sku, 5)
    sold = 2 * len(placed.users)  # the cancelled orders' units came back
    try:
        [off] = _new(await _verify(gateway, INVENTORY), placed)
        assert (off.kind, off.key, off.expected, off.found) == (
            "on_hand_mismatch", f"sku {placed.sku}",
            f"on_hand {100 - sold} (from the stock events)", f"on_hand {105 - sold}")
    finally:
        await sql(gateway, "inventory", change, placed.sku, -5)


async def test_a_saga_past_its_pivot_without_its_reservation_is_found(
        gateway: Gateway, placed: Placed) -> None:
    user = placed.users[-1]
    index = shard_index(gateway, user)
    ghost = f"ghost-saga-{uuid.uuid4().hex[:8]}"
    # A copy of the user's completed saga, still running (its lease far
    # ahead: recovery leaves it alone) and waiting on a reservation that
    # never was.
    await shard_rows(
        gateway, index,
        """INSERT INTO sagas (saga_id, keyspace_id, kind, state, user_id, order_id, request_id,
                              data, lease_until)
           SELECT $2, keyspace_id, kind, 'running', user_id, order_id, $2,
                  data || jsonb_build_object('reservation_id', $2 || '.0'),
                  now() + interval '1 hour'
           FROM sagas WHERE order_id = $1""", placed.orders[user][0], ghost)
    try:
        [waiting] = _new(await _verify(gateway, INVENTORY), placed)
        assert (waiting.kind, waiting.shard, waiting.key, waiting.expected) == (
            "saga_reservation_missing", index, f"saga {ghost}",
            f"reservation {ghost}.0 exists")
    finally:
        await shard_rows(gateway, index, "DELETE FROM sagas WHERE saga_id = $1", ghost)


async def test_the_periodic_run_keeps_the_gauge(gateway: Gateway, placed: Placed) -> None:
    commerce = gateway.backends.keyspaces["commerce"]
    stores = Stores(commerce, gateway.backends.keyspaces["inventory"],
                    gateway.backends.keyspaces["catalog"],
                    [gateway.backends.keyspaces[k] for k in gateway.opened.event_keyspaces],
                    gateway.backends.clickhouse)
    periodic = Verifier(gateway.policies, stores, VerifySettings(interval_s=0.05, sample=1.0))
    before = await _verify(gateway, INVENTORY)
    change = "UPDATE stock SET reserved = reserved + $2 WHERE sku = $1"
    await sql(gateway, "inventory", change, placed.sku, 1)
    periodic.start()
    try:
        want = 1 + len([f for f in before.findings if f.severity != INFO])

        async def counted() -> bool:
            return metric("datagw_verify_findings", check=INVENTORY) == want

        await eventually(counted, "the periodic run counts the reserved units off")
    finally:
        await periodic.stop()
        await sql(gateway, "inventory", change, placed.sku, -1)
