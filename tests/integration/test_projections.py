"""Projections: the user order summary and product sales read models, their
checkpoints, lag, restart and rebuild-and-swap, on real orders across both
commerce shards."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc
from datagw.v1 import admin_pb2, catalog_pb2, inventory_pb2, order_pb2, user_pb2

from gateway.runtime.server import Gateway
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from gateway.telemetry import REGISTRY
from tests.commerce import Shop, shard_index, shard_rows, user_on_shard
from tests.conftest import SPANS
from tests.doc_scripts import run_doc_examples
from tests.helpers import STRONG, eventually, fails, invalid, keyspace_dsn, money, product, upsert

SUMMARY, SALES, STOCK = "user_order_summary", "product_sales", "product_stock"


@dataclass
class Expected:
    """What the read models must hold for the orders a test placed."""

    # user -> [order count, cancelled, spent per currency, last order id]
    users: dict[str, list[Any]] = field(default_factory=dict)
    # sku -> units net of cancellations
    units: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    # order id -> (user, {sku: quantity}, total)
    orders: dict[str, tuple[str, dict[str, int], int]] = field(default_factory=dict)

    def user(self, user_id: str) -> list[Any]:
        return self.users.setdefault(user_id, [0, 0, 0, ""])

    def placed(self, user_id: str, response: order_pb2.CreateOrderResponse,
               items: dict[str, int]) -> None:
        order = response.order
        u = self.user(user_id)
        u[0] += 1
        u[2] += order.total.amount_minor
        u[3] = order.order_id
        for sku, quantity in items.items():
            self.units[sku] += quantity
        self.orders[order.order_id] = (user_id, items, order.total.amount_minor)

    def cancelled(self, order_id: str) -> None:
        user_id, items, total = self.orders[order_id]
        u = self.user(user_id)
        u[0] -= 1
        u[1] += 1
        u[2] -= total
        for sku, quantity in items.items():
            self.units[sku] -= quantity


async def _stock(shop: Shop, skus: Iterable[str], category: str, price: int = 1000) -> None:
    for sku in skus:
        await upsert(shop.catalog, product(sku, category=category, price=money(price)))
        await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
            sku=sku, on_hand=10_000, request_id=f"stock-{sku}"))


async def _cancel(shop: Shop, order_id: str) -> None:
    await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=order_id, reason="changed my mind", request_id=f"cancel-{order_id}"))


async def _summary(shop: Shop, user_id: str) -> user_pb2.GetUserSummaryResponse:
    response: user_pb2.GetUserSummaryResponse = await shop.users.GetUserSummary(
        user_pb2.GetUserSummaryRequest(user_id=user_id))
    return response


async def _summary_matches(shop: Shop, user_id: str, want: list[Any]) -> bool:
    got = (await _summary(shop, user_id)).summary
    spent = {m.currency_code: m.amount_minor for m in got.total_spent}
    return (got.order_count, got.cancelled_count, spent, got.last_order_id) == (
        want[0], want[1], {"EUR": want[2]} if want[2] else {}, want[3])


async def _units(gateway: Gateway, skus: Iterable[str]) -> dict[str, int]:
    conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
    try:
        rows = await conn.fetch("SELECT sku, units FROM product_sales WHERE sku = ANY($1)",
                                list(skus))
    finally:
        await conn.close()
    return {r["sku"]: r["units"] for r in rows}


async def _models_match(gateway: Gateway, shop: Shop, want: Expected) -> bool:
    for user_id, values in want.users.items():
        if not await _summary_matches(shop, user_id, values):
            return False
    return await _units(gateway, want.units) == dict(want.units)


async def _caught_up(shop: Shop) -> bool:
    response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
    return all(s.lag_events == 0 and not s.last_error
               for p in response.projections for s in p.shards)


async def _place_and_cancel(shop: Shop, want: Expected, users: list[str], skus: list[str],
                            tag: str, rounds: int = 3) -> None:
    """Each user orders `rounds` times (varying quantities) and cancels the second order."""
    for n in range(rounds):
        for i, user_id in enumerate(users):
            items = {skus[(i + n) % len(skus)]: 1 + (i + n) % 3}
            response = await shop.place(user_id, items, f"{tag}-{user_id}-{n}")
            want.placed(user_id, response, items)
            if n == 1:
                await _cancel(shop, response.order.order_id)
                want.cancelled(response.order.order_id)


async def _users(gateway: Gateway, shop: Shop, prefix: str, count: int) -> list[str]:
    """`count` new users, alternating between the two commerce shards."""
    users = [user_on_shard(gateway, f"{prefix}-u{i}", i % 2) for i in range(count)]
    for user_id in users:
        await shop.user(user_id)
    return users


async def test_the_summary_counts_the_orders_of_users_on_both_shards(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    skus = [f"{uid}-s{i}" for i in range(3)]
    await _stock(shop, skus, f"cat-{uid}")
    users = await _users(gateway, shop, uid, 4)
    want = Expected()
    await _place_and_cancel(shop, want, users, skus, uid)
    await eventually(lambda: _models_match(gateway, shop, want),
                     "the summaries and sales counters match the orders")
    response = await _summary(shop, users[0])
    assert response.summary.user_id == users[0]
    # The last batch applied on the user's shard came after the user's last order.
    assert response.projected_through.ToDatetime() >= response.summary.last_order_time.ToDatetime()


async def test_a_user_without_orders_has_zeros_and_an_unknown_one_is_not_found(
        shop: Shop, uid: str) -> None:
    await shop.user(f"{uid}-idle")
    got = (await _summary(shop, f"{uid}-idle")).summary
    assert (got.user_id, got.order_count, got.cancelled_count, list(got.total_spent),
            got.last_order_id, got.HasField("last_order_time")) == (
        f"{uid}-idle", 0, 0, [], "", False)
    failure = await fails(_summary(shop, f"{uid}-nobody"), grpc.StatusCode.NOT_FOUND)
    assert failure.resource_info is not None
    await invalid(_summary(shop, "not a valid id!"), "user_id")
    await invalid(_summary(shop, ""), "user_id")


async def _search_popular(shop: Shop, category: str, page_size: int, token: str = ""
                          ) -> catalog_pb2.SearchProductsResponse:
    response: catalog_pb2.SearchProductsResponse = await shop.catalog.SearchProducts(
        catalog_pb2.SearchProductsRequest(
            category=category, sort=catalog_pb2.PRODUCT_SORT_POPULAR, page_size=page_size,
            page_token=token, read_options=STRONG))
    return response


async def _popular_skus(shop: Shop, category: str, page_size: int) -> list[list[str]]:
    pages, token = [], ""
    while True:
        response = await _search_popular(shop, category, page_size, token)
        pages.append([p.sku for p in response.products])
        token = response.next_page_token
        if not token:
            return pages


async def test_the_popular_sort_ranks_by_units_sold_and_pages(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    category = f"pop-{uid}"
    a, b, c, d, e, f = (f"{uid}-{x}" for x in "abcdef")
    await _stock(shop, [a, b, c, d, e, f], category)
    user_id = (await _users(gateway, shop, f"{uid}-pop", 1))[0]
    want = Expected()
    for n, items in enumerate([{a: 3, b: 2}, {b: 3}, {c: 5}, {c: 1, e: 2}]):
        want.placed(user_id, await shop.place(user_id, items, f"{uid}-pop-{n}"), items)
    cancelled = next(o for o, (_, items, _) in want.orders.items() if e in items)
    await _cancel(shop, cancelled)
    want.cancelled(cancelled)
    await eventually(lambda: _models_match(gateway, shop, want), "the sales counters")
    # b and c sold 5 (ties go by sku, descending like the other descending
    # sorts), a 3; d and f never sold, e's sale was cancelled: they come last.
    ranked = [c, b, a, f, e, d]
    assert await _popular_skus(shop, category, 2) == [ranked[0:2], ranked[2:4], ranked[4:6]]
    assert await _popular_skus(shop, category, 4) == [ranked[0:4], ranked[4:6]]
    assert await _popular_skus(shop, category, 6) == [ranked]
    # Filters apply to both parts: only the sold products above 1000 minor.
    response = await shop.catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        category=category, sort=catalog_pb2.PRODUCT_SORT_POPULAR, page_size=10,
        min_price_minor=1001, read_options=STRONG))
    assert [p.sku for p in response.products] == []
    await invalid(shop.catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        category=category, sort=catalog_pb2.PRODUCT_SORT_POPULAR, page_size=2,
        page_token="garbage", read_options=STRONG)), "page_token")


async def _snapshot(gateway: Gateway) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of both read models' live generations, read through the
    generation tables (the view is checked to show the same rows)."""
    places = [(shard.dsn, SUMMARY, ("user_order_summary", "user_order_summary_orders",
                                    "user_order_summary_erased"))
              for shard in gateway.backends.keyspaces["commerce"].shards]
    places.append((keyspace_dsn(gateway, "catalog"), SALES,
                   ("product_sales", "product_sales_orders")))
    out: dict[str, list[tuple[Any, ...]]] = {}
    for n, (dsn, projection, tables) in enumerate(places):
        conn = await asyncpg.connect(dsn)
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                generation = await conn.fetchval(
                    "SELECT generation FROM projection_generations WHERE projection = $1",
                    projection)
                for table in tables:
                    rows = await conn.fetch(f"SELECT * FROM {table}_g{generation} ORDER BY 1, 2")
                    out[f"{n}:{table}"] = [tuple(r.values()) for r in rows]
                view = await conn.fetch(f"SELECT * FROM {projection} ORDER BY 1, 2")
                assert [tuple(r.values()) for r in view] == out[f"{n}:{projection}"]
        finally:
            await conn.close()
    return out


def _without(snapshot: dict[str, list[tuple[Any, ...]]], keys: set[str]
             ) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot without rows about `keys` (users, skus, order ids)."""
    return {table: [r for r in rows if not keys & {v for v in r if isinstance(v, str)}]
            for table, rows in snapshot.items()}


def _own(snapshot: dict[str, list[tuple[Any, ...]]], uid: str
         ) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot's rows about one test's data: users, skus and order lines
    carrying its uid."""
    return {table: [r for r in rows if any(isinstance(v, str) and uid in v for v in r)]
            for table, rows in snapshot.items()}


async def _generations(shop: Shop) -> dict[str, int]:
    response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
    return {p.name: p.generation for p in response.projections}


async def test_a_rebuild_during_orders_swaps_in_the_same_read_model(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    before_skus = [f"{uid}-old{i}" for i in range(2)]
    during_skus = [f"{uid}-new{i}" for i in range(2)]
    await _stock(shop, before_skus + during_skus, f"rb-{uid}")
    want = Expected()
    await _place_and_cancel(shop, want, await _users(gateway, shop, f"{uid}-before", 2),
                            before_skus, f"{uid}-before", rounds=2)
    await eventually(lambda: _models_match(gateway, shop, want), "the first orders")
    await eventually(lambda: _caught_up(shop), "the projections caught up")
    live = await _snapshot(gateway)
    generations = await _generations(shop)

    during = await _users(gateway, shop, f"{uid}-during", 4)
    rebuilt = asyncio.Event()

    async def orders_meanwhile() -> None:
        n = 0
        while not rebuilt.is_set() or n < 2:
            await _place_and_cancel(shop, want, during, during_skus, f"{uid}-during-{n}",
                                    rounds=2)
            n += 1

    traffic = asyncio.create_task(orders_meanwhile())
    try:
        responses = [await shop.admin.RebuildProjection(
            admin_pb2.RebuildProjectionRequest(name=name)) for name in (SUMMARY, SALES)]
    finally:
        rebuilt.set()
        await traffic
    for response, name in zip(responses, (SUMMARY, SALES), strict=True):
        assert response.projection.name == name
        assert response.projection.generation == generations[name] + 1
        assert response.events_replayed > 0
    await eventually(lambda: _models_match(gateway, shop, want), "the orders placed meanwhile")
    await eventually(lambda: _caught_up(shop), "the projections caught up again")
    # Readers read the swapped-in generation (prepared statements included).
    assert await _popular_skus(shop, f"rb-{uid}", 10) == [sorted(
        before_skus + during_skus, key=lambda sku: (want.units[sku], sku), reverse=True)]
    after = await _snapshot(gateway)
    # What this test had before the rebuild is there unchanged (only its own
    # rows: sagas of earlier tests may still be finishing in the background
    # and move theirs)...
    touched = set(during) | set(during_skus) | {
        o for o, (user_id, _, _) in want.orders.items() if user_id in during}
    assert sum(map(len, _own(live, uid).values())) > 0
    assert _without(_own(after, uid), touched) == _without(_own(live, uid), touched)
    # ...and a second rebuild, with nothing happening here, gives exactly the same rows.
    for name in (SUMMARY, SALES):
        await shop.admin.RebuildProjection(admin_pb2.RebuildProjectionRequest(name=name))
    assert _own(await _snapshot(gateway), uid) == _own(after, uid)
    # Only the live generation's tables are left.
    for shard in (0, 1):
        rows = await shard_rows(gateway, shard, "SELECT tablename FROM pg_tables "
                                "WHERE tablename LIKE 'user_order_summary%'")
        assert {r["tablename"].rpartition("_g")[2] for r in rows} == {
            str(generations[SUMMARY] + 2)}


async def test_rebuild_refusals(gateway: Gateway, shop: Shop) -> None:
    await fails(shop.admin.RebuildProjection(admin_pb2.RebuildProjectionRequest(name="nope")),
                grpc.StatusCode.NOT_FOUND)
    await invalid(shop.admin.RebuildProjection(admin_pb2.RebuildProjectionRequest()), "name")
    # The name is echoed cut, so the client can read the answer (found by
    # test_fuzz_rpcs: RESOURCE_EXHAUSTED on the client's side, the trailers
    # being larger than its 8 KiB limit).
    long_name = await fails(shop.admin.RebuildProjection(
        admin_pb2.RebuildProjectionRequest(name="x" * 70_000)), grpc.StatusCode.NOT_FOUND)
    assert len(long_name.message) < 1000 and "more bytes" in long_name.message
    # Hold the generation row so the first rebuild cannot get past its start.
    conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT 1 FROM projection_generations WHERE projection = $1 "
                           "FOR UPDATE", SALES)
        first = asyncio.ensure_future(shop.admin.RebuildProjection(
            admin_pb2.RebuildProjectionRequest(name=SALES)))

        async def rebuilding() -> bool:
            response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
            return any(p.name == SALES and p.state == admin_pb2.PROJECTION_STATE_REBUILDING
                       for p in response.projections)

        await eventually(rebuilding, "the first rebuild is running")
        failure = await fails(shop.admin.RebuildProjection(
            admin_pb2.RebuildProjectionRequest(name=SALES)), grpc.StatusCode.FAILED_PRECONDITION)
        assert failure.error_info is not None
        assert failure.error_info.reason == "REBUILD_IN_PROGRESS"
        await tx.rollback()
        assert (await first).projection.state == admin_pb2.PROJECTION_STATE_RUNNING
    finally:
        await conn.close()


async def test_list_projections_reports_positions_and_zero_lag_when_caught_up(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    await _stock(shop, [f"{uid}-l"], f"lag-{uid}")
    for user_id in await _users(gateway, shop, f"{uid}-lag", 2):
        await shop.place(user_id, {f"{uid}-l": 1}, f"{uid}-lag-{user_id}")
    await eventually(lambda: _caught_up(shop), "the projections caught up")
    response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
    sources = {SALES: [("commerce", 0), ("commerce", 1)],
               SUMMARY: [("commerce", 0), ("commerce", 1)], STOCK: [("inventory", 0)]}
    assert sorted(p.name for p in response.projections) == sorted(sources)
    for p in response.projections:
        assert p.description and p.state == admin_pb2.PROJECTION_STATE_RUNNING
        assert sorted((s.position.keyspace, s.position.shard) for s in p.shards) == sources[
            p.name]
        for s in p.shards:
            assert (s.lag_events, s.lag.ToTimedelta().total_seconds(), s.last_error) == (0, 0, "")
            assert s.position.commit > 0 and s.HasField("last_batch_time")
            labels = {"projection": p.name, "keyspace": s.position.keyspace,
                      "shard": str(s.position.shard)}
            for metric in ("datagw_projection_lag_events", "datagw_projection_lag_seconds"):
                assert REGISTRY.get_sample_value(metric, labels) == 0.0


async def test_a_stopped_runner_catches_up_on_start_without_counting_twice(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    skus = [f"{uid}-r{i}" for i in range(2)]
    await _stock(shop, skus, f"rs-{uid}")
    users = await _users(gateway, shop, f"{uid}-rs", 2)
    want = Expected()
    await _place_and_cancel(shop, want, users, skus, f"{uid}-first", rounds=1)
    await eventually(lambda: _models_match(gateway, shop, want), "the first orders")
    runner = gateway.wiring.projections
    assert runner is not None
    await runner.stop()
    try:
        await _place_and_cancel(shop, want, users, skus, f"{uid}-stopped", rounds=3)
        # Stopped: the orders are committed but not applied, and it shows.
        response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
        for p in response.projections:
            assert sum(s.lag_events for s in p.shards) > 0
        assert not await _models_match(gateway, shop, want)
    finally:
        SPANS.clear()
        runner.start()
    await eventually(lambda: _models_match(gateway, shop, want), "the orders placed while stopped")
    await eventually(lambda: _caught_up(shop), "caught up")
    assert await _models_match(gateway, shop, want)
    batches = [s for s in SPANS.get_finished_spans() if s.name == "projection batch"]
    assert {(s.attributes or {})["datagw.projection.name"] for s in batches
            if (s.attributes or {})["datagw.projection.events"]} == {SUMMARY, SALES, STOCK}


async def test_a_failing_projection_stalls_alone_and_recovers_without_loss(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    sku = f"{uid}-f"
    await _stock(shop, [sku], f"fail-{uid}")
    users = await _users(gateway, shop, f"{uid}-fail", 2)
    want = Expected()
    dsn = keyspace_dsn(gateway, "catalog")
    conn = await asyncpg.connect(dsn)
    try:
        generation = await conn.fetchval(
            "SELECT generation FROM projection_generations WHERE projection = $1", SALES)
        await conn.execute(f"""
            CREATE FUNCTION fail_{uid}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'sales counters refuse writes'; END $$;
            CREATE TRIGGER fail_{uid} BEFORE INSERT OR UPDATE ON product_sales_g{generation}
                FOR EACH ROW EXECUTE FUNCTION fail_{uid}()""")
        try:
            for user_id in users:
                items = {sku: 2}
                want.placed(user_id, await shop.place(user_id, items, f"{uid}-{user_id}"), items)

            async def failing() -> bool:
                response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
                sales = next(p for p in response.projections if p.name == SALES)
                return (sales.state == admin_pb2.PROJECTION_STATE_FAILING
                        and all("refuse writes" in s.last_error for s in sales.shards))

            await eventually(failing, "product_sales fails on both shards")
            # The other projection goes on.
            for user_id in users:
                assert await _summary_matches(shop, user_id, want.user(user_id))
            assert await _units(gateway, [sku]) == {}
        finally:
            await conn.execute(f"DROP TRIGGER fail_{uid} ON product_sales_g{generation}; "
                               f"DROP FUNCTION fail_{uid}()")
    finally:
        await conn.close()
    await eventually(lambda: _models_match(gateway, shop, want), "product_sales recovered")
    await eventually(lambda: _caught_up(shop), "caught up")
    response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
    assert all(p.state == admin_pb2.PROJECTION_STATE_RUNNING for p in response.projections)


async def test_an_erased_user_is_forgotten_and_later_events_ignored(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    sku = f"{uid}-e"
    await _stock(shop, [sku], f"erase-{uid}")
    user_id = (await _users(gateway, shop, f"{uid}-erase", 1))[0]
    want = Expected()
    want.placed(user_id, await shop.place(user_id, {sku: 1}, f"{uid}-e1"), {sku: 1})
    await eventually(lambda: _models_match(gateway, shop, want), "the first order")
    # The erasure's event, as the erasure appends it on the user's stream.
    shard = gateway.backends.keyspaces["commerce"].shards[shard_index(gateway, user_id)]
    async with shard.connection("test erase") as conn:
        async with conn.transaction():
            await recorder.append(conn, [NewEvent(f"user-{user_id}", "UserErased",
                                                  {"user_id": user_id, "reason": "test"})],
                                  EventMeta(f"{uid}-erase"), ksid_bytes(keyspace_id(user_id)))
    placed = await shop.place(user_id, {sku: 2}, f"{uid}-e2")
    await _cancel(shop, placed.order.order_id)
    want.placed(user_id, placed, {sku: 2})
    want.cancelled(placed.order.order_id)
    # Sales are not personal: they stay counted.
    await eventually(lambda: _caught_up(shop), "caught up")
    assert await _units(gateway, [sku]) == {sku: 1}
    assert await _summary_matches(shop, user_id, [0, 0, 0, ""])
    rows = await shard_rows(gateway, shard.index,
                            "SELECT count(*) AS n FROM user_order_summary WHERE user_id = $1",
                            user_id)
    assert rows[0]["n"] == 0


async def test_erase_user_drops_the_summary_and_keeps_the_sales(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    sku = f"{uid}-x"
    await _stock(shop, [sku], f"erase2-{uid}")
    user_id = (await _users(gateway, shop, f"{uid}-gdpr", 1))[0]
    want = Expected()
    want.placed(user_id, await shop.place(user_id, {sku: 3}, f"{uid}-x1"), {sku: 3})
    await eventually(lambda: _models_match(gateway, shop, want), "the order")
    await shop.users.EraseUser(user_pb2.EraseUserRequest(
        user_id=user_id, reason="test", request_id=f"{uid}-erase"))

    async def forgotten() -> bool:
        rows = await shard_rows(gateway, shard_index(gateway, user_id),
                                "SELECT count(*) AS n FROM user_order_summary WHERE user_id = $1",
                                user_id)
        return bool(rows[0]["n"] == 0)

    await eventually(forgotten, "the summary row is deleted")
    failure = await fails(_summary(shop, user_id), grpc.StatusCode.NOT_FOUND)
    assert failure.error_info is not None and failure.error_info.reason == "USER_ERASED"
    assert await _units(gateway, [sku]) == {sku: 3}


async def test_the_grpcurl_examples_of_the_doc_run(gateway: Gateway) -> None:
    await run_doc_examples("projections.md", gateway.port, 4)


async def test_a_shard_that_is_down_stalls_only_its_feeds(
        gateway: Gateway, shop: Shop, uid: str) -> None:
    assert gateway.embedded is not None
    sku = f"{uid}-d"
    await _stock(shop, [sku], f"down-{uid}")
    alive, doomed = await _users(gateway, shop, f"{uid}-down", 2)
    want = Expected()
    want.placed(doomed, await shop.place(doomed, {sku: 1}, f"{uid}-d0"), {sku: 1})
    await eventually(lambda: _models_match(gateway, shop, want), "the first order")
    server = gateway.embedded.shards[1]
    await asyncio.to_thread(server.stop)
    try:
        want.placed(alive, await shop.place(alive, {sku: 2}, f"{uid}-d1"), {sku: 2})
        # Shard 0's feeds go on: its user's summary and the sales counters.
        await eventually(lambda: _summary_matches(shop, alive, want.user(alive)), "shard 0")

        async def sales_from_shard_0() -> bool:
            return await _units(gateway, [sku]) == {sku: 3}

        await eventually(sales_from_shard_0, "sales from shard 0")

        async def only_shard_1_fails() -> bool:
            response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
            # product_stock reads the inventory keyspace: it goes on.
            return all(p.state == admin_pb2.PROJECTION_STATE_FAILING
                       and [bool(s.last_error) for s in sorted(
                           p.shards, key=lambda s: s.position.shard)] == [False, True]
                       for p in response.projections if p.name != STOCK)

        await eventually(only_shard_1_fails, "both projections report shard 1 failing")
    finally:
        await asyncio.to_thread(server.start)
    await eventually(lambda: _caught_up(shop), "shard 1 back and caught up", within_s=30)
    want.placed(doomed, await shop.place(doomed, {sku: 4}, f"{uid}-d2"), {sku: 4})
    await eventually(lambda: _models_match(gateway, shop, want), "shard 1's feeds recovered")
    response = await shop.admin.ListProjections(admin_pb2.ListProjectionsRequest())
    assert all(p.state == admin_pb2.PROJECTION_STATE_RUNNING for p in response.projections)
