"""The relay: ClickHouse holds exactly the events of PostgreSQL, through faults.

Every comparison reads both sides: PostgreSQL's events tables straight from
the shards and ClickHouse through the store's query(), never the relay's own
counters. A window ("events after position p0, up to the checkpoint") keeps
the comparisons to what a test wrote, on the session's shared stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from datagw.v1 import admin_pb2, order_pb2

from gateway.domain.analytics.relay import RelaySettings, ShardRelay
from gateway.records.events import Cursor
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.schema import ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore, QueryResult
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import relay_store
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from gateway.storage.postgres.pool import Shard
from tests.analytics import event_sources, relayed_past_now
from tests.commerce import Shop, user_on_shard
from tests.conftest import SPANS
from tests.helpers import eventually, metric, money, product, upsert


@dataclass(frozen=True)
class Mark:
    """Where each source shard's events stood when a test began."""

    positions: dict[tuple[str, int], int]


def _store(gateway: Gateway) -> AnalyticsStore:
    assert gateway.backends.clickhouse is not None
    return gateway.backends.clickhouse


async def _mark(gateway: Gateway) -> Mark:
    out = {}
    for shard in event_sources(gateway):
        async with shard.connection("test") as conn:
            out[(shard.keyspace, shard.index)] = int(
                await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))
    return Mark(out)


async def _checkpoint(shard: Shard) -> relay_store.Checkpoint:
    async with shard.connection("test") as conn:
        return await relay_store.load(conn)


async def _pg_side(shard: Shard, since: int, upto: Cursor) -> tuple[int, int]:
    async with shard.connection("test") as conn:
        row = await conn.fetchrow(
            """SELECT count(*) AS n, coalesce(sum(position), 0) AS s FROM events
               WHERE position > $1 AND (tx_id, position) <= ($2::text::xid8, $3)""",
            since, str(upto.commit), upto.position)
    assert row is not None
    return int(row["n"]), int(row["s"])


async def _ch_side(store: AnalyticsStore, shard: Shard, since: int, upto: Cursor
                   ) -> tuple[int, int, int]:
    result = await store.query(
        """SELECT count(), sum(position), uniqExact(event_id) FROM domain_events
           WHERE keyspace = {ks:String} AND shard = {shard:UInt16} AND position > {since:Int64}
             AND (commit, position) <= ({c:UInt64}, {p:Int64})""",
        {"ks": shard.keyspace, "shard": shard.index, "since": since, "c": upto.commit,
         "p": upto.position})
    n, s, distinct = result.rows[0]
    return int(n), int(s), int(distinct)


async def _assert_exact(gateway: Gateway, mark: Mark) -> int:
    """Every source shard: ClickHouse holds exactly PostgreSQL's events since
    the mark (count and sum of positions), none twice; returns how many."""
    await relayed_past_now(gateway)
    store = _store(gateway)
    total = 0
    for shard in event_sources(gateway):
        since = mark.positions[(shard.keyspace, shard.index)]
        upto = (await _checkpoint(shard)).at
        pg = await _pg_side(shard, since, upto)
        n, s, distinct = await _ch_side(store, shard, since, upto)
        assert (n, s) == pg, f"{shard.name}: clickhouse {(n, s)} != postgres {pg}"
        assert distinct == n, f"{shard.name}: {n - distinct} events twice"
        total += n
    dupes = await store.query("SELECT count() - uniqExact(event_id) FROM domain_events")
    assert dupes.rows[0][0] == 0
    return total


async def _query(gateway: Gateway, sql: str, **params: Any) -> QueryResult:
    return await _store(gateway).query(sql, params)


async def _order_sums(gateway: Gateway, prefix: str) -> tuple[int, int, int]:
    """ClickHouse's net orders, revenue from orders and from lines, for users
    whose id starts with `prefix`."""
    orders = await _query(
        gateway, "SELECT sum(sign), sum(sign * total_minor) FROM orders "
        "WHERE startsWith(user_id, {p:String})", p=prefix)
    lines = await _query(
        gateway, "SELECT sum(sign * revenue_minor) FROM order_lines "
        "WHERE startsWith(user_id, {p:String})", p=prefix)
    return int(orders.rows[0][0]), int(orders.rows[0][1]), int(lines.rows[0][0])


async def _pg_order_sums(gateway: Gateway, prefix: str) -> tuple[int, int, int]:
    count = revenue = 0
    for shard in gateway.backends.keyspaces["commerce"].shards:
        async with shard.connection("test") as conn:
            row = await conn.fetchrow(
                """SELECT count(*) AS n, coalesce(sum(total_minor), 0) AS t FROM orders
                   WHERE user_id LIKE $1 || '%' AND status <> 'cancelled'""", prefix)
        assert row is not None
        count, revenue = count + int(row["n"]), revenue + int(row["t"])
    return count, revenue, revenue


@contextlib.asynccontextmanager
async def _relay_paused(gateway: Gateway) -> AsyncIterator[None]:
    """The gateway's relay stopped, so a test can drive shard relays itself."""
    assert gateway.wiring.relay is not None
    await gateway.wiring.relay.stop()
    try:
        yield
    finally:
        gateway.wiring.relay.start()


async def _products(shop: Shop, uid: str) -> tuple[str, str]:
    a, b = f"{uid}-a", f"{uid}-b"
    await shop.stocked(a, 1000, price_minor=1250)
    await shop.stocked(b, 1000, price_minor=700)
    await upsert(shop.catalog, product(a, category=f"{uid}-cat-a", price=money(1250)))
    await upsert(shop.catalog, product(b, category=f"{uid}-cat-b", price=money(700)))
    return a, b


async def _status(shop: Shop) -> admin_pb2.GetRelayStatusResponse:
    response: admin_pb2.GetRelayStatusResponse = await shop.admin.GetRelayStatus(
        admin_pb2.GetRelayStatusRequest())
    return response


async def test_every_event_reaches_clickhouse_once_with_its_order_facts(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    mark = await _mark(gateway)
    a, b = await _products(shop, uid)
    users = [user_on_shard(gateway, f"{uid}-u{i}", i % 2) for i in range(4)]
    placed = []
    for user in users:
        await shop.user(user)
        placed.append(await shop.place(user, {a: 2, b: 1}, f"{uid}-o-{user}"))
    cancelled = placed[0].order.order_id
    await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=cancelled, reason="changed my mind", request_id=f"{uid}-cancel"))

    assert await _assert_exact(gateway, mark) > 0
    # The facts net the cancellation out: orders, revenue (from orders and
    # from lines) match PostgreSQL's orders that stand.
    assert await _order_sums(gateway, f"{uid}-") == await _pg_order_sums(gateway, f"{uid}-")
    by_category = await _query(
        gateway, "SELECT category, sum(sign * quantity), sum(sign * revenue_minor) "
        "FROM order_lines WHERE startsWith(category, {p:String}) "
        "GROUP BY category ORDER BY category", p=uid)
    assert by_category.rows == [(f"{uid}-cat-a", 6, 3 * 2 * 1250), (f"{uid}-cat-b", 3, 3 * 700)]
    # The cancellation is booked at the placement's time, so its day nets out.
    booked = await _query(gateway, "SELECT sign, occurred_at, total_minor FROM orders "
                          "WHERE order_id = {o:String} ORDER BY sign", o=cancelled)
    assert [r[0] for r in booked.rows] == [-1, 1]
    assert booked.rows[0][1:] == booked.rows[1][1:]
    # The user id is a column, never in the payload, and no PII envelope leaves PostgreSQL.
    events = await _query(gateway, "SELECT event_type, payload FROM domain_events "
                          "WHERE has({users:Array(String)}, user_id)", users=users)
    assert sum(1 for t, _ in events.rows if t == "OrderPlaced") == len(users)
    assert all('"_pii"' not in p and '"user_id"' not in p for _, p in events.rows)

    status = await _status(shop)
    assert status.target == _store(gateway).kind
    assert {(s.position.keyspace, s.position.shard) for s in status.shards} == {
        (s.keyspace, s.index) for s in event_sources(gateway)}
    for progress in status.shards:
        assert progress.last_error == ""
        assert progress.last_batch_time.seconds > 0
    assert status.events_relayed > 0
    assert metric("datagw_relay_events_total", keyspace="commerce", shard="0") > 0
    batches = [s for s in SPANS.get_finished_spans() if s.name == "relay batch"]
    assert batches and batches[-1].attributes is not None
    assert batches[-1].attributes["datagw.relay.events"] > 0


async def test_clickhouse_refusing_inserts_delays_but_loses_and_doubles_nothing(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    mark = await _mark(gateway)
    a, b = await _products(shop, uid)
    users = [user_on_shard(gateway, f"{uid}-u{i}", i) for i in range(2)]
    for user in users:
        await shop.user(user)
    await relayed_past_now(gateway)
    failures = metric("datagw_relay_failures_total", keyspace="commerce", shard="0",
                      cause="target")
    store = _store(gateway)
    # The last table of a batch goes away: domain_events and orders land,
    # order_lines fails, so every retry repeats inserts that already landed.
    await store.command("RENAME TABLE order_lines TO order_lines_away")
    try:
        for n in range(3):
            for user in users:
                await shop.place(user, {a: 1, b: n + 1}, f"{uid}-o{n}-{user}")

        async def refused() -> bool:
            status = await _status(shop)
            return all("order_lines" in s.last_error for s in status.shards
                       if s.position.keyspace == "commerce")

        await eventually(refused, "the relay reports the failing inserts", within_s=30)

        async def lagging() -> bool:
            return all(metric("datagw_relay_lag_events", keyspace="commerce",
                              shard=str(i)) > 0 for i in range(2))

        await eventually(lagging, "the lag metric counts the waiting events", within_s=30)
        for shard in gateway.backends.keyspaces["commerce"].shards:
            # The batch waits in PostgreSQL, recorded as pending.
            assert (await _checkpoint(shard)).pending is not None
    finally:
        await store.command("RENAME TABLE order_lines_away TO order_lines")
    await _assert_exact(gateway, mark)
    assert await _order_sums(gateway, f"{uid}-") == await _pg_order_sums(gateway, f"{uid}-")
    assert metric("datagw_relay_failures_total", keyspace="commerce", shard="0",
                  cause="target") > failures
    status = await _status(shop)
    assert all(s.last_error == "" for s in status.shards)


class _Crash(Exception):
    pass


class _CrashAfterInsert(ShardRelay):
    """Dies after its inserts landed and before the checkpoint moves: a
    process killed there, or an insert that timed out although it landed."""

    async def _insert(self, *args: Any) -> None:
        await super()._insert(*args)
        raise _Crash


class _TokensOnly(ShardRelay):
    """Re-inserts a pending batch whatever ClickHouse already holds, so only
    the deduplication tokens stand between it and a double count."""

    async def _landed(self, table: str, rows: Sequence[tuple[Any, ...]]) -> bool:
        return False


@pytest.mark.parametrize("recoverer", [ShardRelay, _TokensOnly])
async def test_a_crash_between_insert_and_checkpoint_doubles_nothing(
    gateway: Gateway, shop: Shop, uid: str, recoverer: type[ShardRelay]
) -> None:
    mark = await _mark(gateway)
    a, b = await _products(shop, uid)
    user = user_on_shard(gateway, f"{uid}-u", 1)
    await shop.user(user)
    shard = gateway.backends.keyspaces["commerce"].shards[1]
    notifier = gateway.notifiers.of("commerce", 1)
    settings = RelaySettings(window_s=0.05)
    async with _relay_paused(gateway):
        for n in range(4):
            await shop.place(user, {a: n + 1, b: 1}, f"{uid}-o{n}")
        crashing = _CrashAfterInsert("commerce", shard, notifier, _store(gateway), settings)
        with pytest.raises(_Crash):
            while True:  # batches until one holds the orders
                await crashing.step()
        before = await _checkpoint(shard)
        assert before.pending is not None
        landed = await _ch_side(_store(gateway), shard, before.at.position, before.pending)
        assert landed[0] > 0, "the crashed batch's rows are in ClickHouse"
        # Orders keep coming: a relay that read afresh from the checkpoint
        # would now form a bigger batch (other rows, other tokens) and count
        # the landed rows twice.
        await shop.place(user, {a: 1}, f"{uid}-late")
        # A fresh relay (a restarted gateway) finishes the pending batch first,
        # exactly as it was.
        relay = recoverer("commerce", shard, notifier, _store(gateway), settings)
        batch = await relay.step()
        assert batch is not None and batch.recovered
        assert (batch.after, batch.to) == (before.at, before.pending)
        after = await _checkpoint(shard)
        assert after.pending is None and after.at == before.pending
        late = await relay.step()
        assert late is not None and not late.recovered
    await _assert_exact(gateway, mark)
    assert await _order_sums(gateway, f"{uid}-") == await _pg_order_sums(gateway, f"{uid}-")


class _CrashBeforeInsert(ShardRelay):
    """Dies after claiming its batch, before inserting anything."""

    async def _insert(self, *args: Any) -> None:
        raise _Crash


async def test_other_rows_at_a_pending_batchs_positions_do_not_pass_for_its_rows(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """Rows another writer put at the same (keyspace, shard, position) as a
    pending batch's (data loaded directly, as the analytics tests do; a
    database restored or re-created, whose positions repeat) must not make
    the relay believe the batch landed and skip it."""
    mark = await _mark(gateway)
    a, b = await _products(shop, uid)
    user = user_on_shard(gateway, f"{uid}-u", 0)
    await shop.user(user)
    shard = gateway.backends.keyspaces["commerce"].shards[0]
    await relayed_past_now(gateway, [shard])
    notifier = gateway.notifiers.of("commerce", 0)
    settings = RelaySettings(window_s=0.05)
    store = _store(gateway)
    async with _relay_paused(gateway):
        for n in range(3):
            await shop.place(user, {a: 1, b: n + 1}, f"{uid}-o{n}")
        with pytest.raises(_Crash):
            while True:
                await _CrashBeforeInsert("commerce", shard, notifier, store, settings).step()
        pending = await _checkpoint(shard)
        assert pending.pending is not None
        async with shard.connection("test") as conn:
            positions = [int(p) for p in await conn.fetchval(
                """SELECT array_agg(position) FROM events
                   WHERE (tx_id, position) > ($1::text::xid8, $2)
                     AND (tx_id, position) <= ($3::text::xid8, $4)""",
                str(pending.at.commit), pending.at.position, str(pending.pending.commit),
                pending.pending.position)]
        # Plenty of someone else's order facts at every position of the batch.
        other, when = f"other-{uid}", datetime.now(UTC) - timedelta(days=400)
        await store.insert(ORDERS.name, ORDERS.column_names, [
            (f"{other}-{p}-{k}", other, when, "XXX", 1, 1, 1, "commerce", 0, p)
            for p in positions for k in range(3)])
        await store.insert(ORDER_LINES.name, ORDER_LINES.column_names, [
            (f"{other}-{p}-{k}", k, other, when, "XXX", "x", "x", "x", 1, 1, 1, "commerce", 0, p)
            for p in positions for k in range(3)])
        batch = await ShardRelay("commerce", shard, notifier, store, settings).step()
        assert batch is not None and batch.recovered
    try:
        await _assert_exact(gateway, mark)
        assert await _order_sums(gateway, f"{uid}-") == await _pg_order_sums(gateway, f"{uid}-")
    finally:
        for table in ("orders", "order_lines"):
            await store.command(f"ALTER TABLE {table} DELETE WHERE user_id = {{u:String}}",
                                {"u": other}, {"mutations_sync": 2})


async def test_a_source_shard_down_stalls_only_its_own_relay(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    assert gateway.embedded is not None
    mark = await _mark(gateway)
    a, _ = await _products(shop, uid)
    alive, doomed = user_on_shard(gateway, f"{uid}-ok", 0), user_on_shard(gateway, f"{uid}-x", 1)
    await shop.user(alive)
    await shop.user(doomed)
    shards = gateway.backends.keyspaces["commerce"].shards
    server = gateway.embedded.shards[1]
    await asyncio.to_thread(server.stop)
    try:
        placed = await shop.place(alive, {a: 1}, f"{uid}-o1")
        await relayed_past_now(gateway, [shards[0]])
        found = await _query(gateway, "SELECT count() FROM orders WHERE order_id = {o:String}",
                             o=placed.order.order_id)
        assert found.rows == [(1,)]

        async def reported() -> bool:
            status = await _status(shop)
            errors = {(s.position.keyspace, s.position.shard): s.last_error
                      for s in status.shards}
            return "unavailable" in errors[("commerce", 1)] and errors[("commerce", 0)] == ""

        await eventually(reported, "GetRelayStatus names the down shard", within_s=30)
    finally:
        await asyncio.to_thread(server.start)
    # Calls fail at once until a probe finds the server back (a moment).
    await eventually(shards[1].check, "shard 1 answers its probe again")
    await shop.place(doomed, {a: 1}, f"{uid}-o2")
    await _assert_exact(gateway, mark)


async def test_user_erased_events_anonymise_the_users_analytics_rows(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """Two erasures in one batch (one transaction): both users' rows go, in
    one mutation per table, and a bystander's stay."""
    a, _ = await _products(shop, uid)
    victim, bystander = f"{uid}-victim", f"{uid}-bystander"
    ksid = keyspace_id(victim)
    shard = gateway.backends.keyspaces["commerce"].shard_for(ksid)
    second = user_on_shard(gateway, f"{uid}-victim2", shard.index)
    placed = {}
    for who in (victim, second):
        await shop.user(who)
        placed[who] = await shop.place(who, {a: 3}, f"{uid}-{who}-o")
    store = _store(gateway)
    columns = ("event_id", "event_type", "occurred_at", "user_id", "session_id", "sku",
               "query", "page", "quantity", "properties", "ingested_at")
    now = datetime.now(UTC)
    await store.insert("clickstream", columns, [
        (str(uuid.uuid4()), "product_view", now, who, "s1", a, "", "/p", 0, {}, now)
        for who in (victim, victim, second, bystander)])
    async with shard.connection("test") as conn, conn.transaction():
        # What EraseUser appends on each user's stream.
        for who in (victim, second):
            await recorder.append(conn, [NewEvent(f"user-{who}", "UserErased",
                                                  {"user_id": who})],
                                  EventMeta("test-erase"), ksid_bytes(keyspace_id(who)))
    await relayed_past_now(gateway)

    for who in (victim, second):
        for table in ("domain_events", "orders", "order_lines", "clickstream"):
            left = await _query(
                gateway, f"SELECT count() FROM {table} WHERE user_id = {{u:String}}", u=who)
            assert left.rows == [(0,)], (who, table)
        streams = await _query(gateway, "SELECT count() FROM domain_events "
                               "WHERE stream_id = {s:String}", s=f"user-{who}")
        assert streams.rows == [(0,)]
        # The facts survive, anonymised.
        order = placed[who].order
        kept = await _query(gateway, "SELECT user_id, sum(sign * total_minor) FROM orders "
                            "WHERE order_id = {o:String} GROUP BY user_id", o=order.order_id)
        assert kept.rows == [("", order.total.amount_minor)]
    others = await _query(gateway, "SELECT count() FROM clickstream WHERE user_id = {u:String}",
                          u=bystander)
    assert others.rows == [(1,)]
