"""The typed reports on a generated data set, against answers computed here
in Python from the same orders and clicks (tests/analytics.py)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from datagw.v1 import analytics_pb2, analytics_pb2_grpc, inventory_pb2, order_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.runtime.server import Gateway
from tests.analytics import (
    CATEGORIES,
    DataSet,
    Order,
    analytics_store,
    generate,
    load,
    quiet_days_ago,
)
from tests.commerce import Shop
from tests.conftest import SPANS
from tests.helpers import invalid, money, product, upsert

Key = tuple[datetime, str]


@pytest.fixture(scope="module")
def analytics(channel: grpc.aio.Channel) -> analytics_pb2_grpc.AnalyticsServiceStub:
    return analytics_pb2_grpc.AnalyticsServiceStub(channel)


@pytest.fixture(scope="module")
async def data(gateway: Gateway) -> DataSet:
    generated = generate("rep", quiet_days_ago(40))
    await load(analytics_store(gateway), generated)
    return generated


def ts(moment: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(moment)
    return out


def time_range(start: datetime, end: datetime) -> analytics_pb2.TimeRange:
    return analytics_pb2.TimeRange(start_time=ts(start), end_time=ts(end))


def day_of(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def placed(data: DataSet, currency: str, start: datetime, end: datetime) -> list[Order]:
    """The orders that count: placed in the range, in the currency, not cancelled."""
    return [o for o in data.orders
            if o.currency == currency and start <= o.at < end and not o.cancelled]


def expected_sales(orders: list[Order], bucket: Callable[[datetime], datetime],
                   category: str = "", by_category: bool = False
                   ) -> dict[Key, tuple[int, int, int]]:
    """(bucket, category) -> (orders, units, revenue)."""
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in orders:
        if not category and not by_category:
            row = out[(bucket(o.at), "")]
            row[0] += 1
            row[1] += sum(line.quantity for line in o.lines)
            row[2] += o.total_minor
            continue
        lines = [line for line in o.lines if not category or line.category == category]
        for cat in sorted({line.category for line in lines}):
            row = out[(bucket(o.at), cat if by_category else category)]
            row[0] += 1
            row[1] += sum(line.quantity for line in lines if line.category == cat)
            row[2] += sum(line.revenue_minor for line in lines if line.category == cat)
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def got_sales(response: analytics_pb2.SalesSummaryResponse, currency: str
              ) -> dict[Key, tuple[int, int, int]]:
    out = {}
    for b in response.buckets:
        assert b.revenue.currency_code == currency
        assert b.average_order_value.amount_minor == b.revenue.amount_minor // b.orders
        out[(b.bucket_start.ToDatetime(UTC), b.category)] = (b.orders, b.units,
                                                               b.revenue.amount_minor)
    return out


async def test_daily_sales_net_of_cancellations_per_currency(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    for currency in ("EUR", "USD"):
        response = await analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
            range=time_range(data.start, data.end), currency_code=currency))
        orders = placed(data, currency, data.start, data.end)
        assert got_sales(response, currency) == expected_sales(orders, day_of)
        assert [b.bucket_start.ToDatetime(UTC) for b in response.buckets] == sorted(
            day_of(o.at) for o in {day_of(o.at): o for o in orders}.values())
        total = response.total
        assert (total.orders, total.units, total.revenue.amount_minor) == (
            len(orders), sum(line.quantity for o in orders for line in o.lines),
            sum(o.total_minor for o in orders))
        assert total.average_order_value.amount_minor == total.revenue.amount_minor // len(orders)
    # The data set does cancel orders in both currencies, so netting is tested.
    assert {o.currency for o in data.orders if o.cancelled} == {"EUR", "USD"}


async def test_hourly_sales_over_part_of_a_day(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    start = data.start + timedelta(days=1, hours=6)
    end = data.start + timedelta(days=2, hours=3, minutes=30)
    response = await analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(start, end), currency_code="EUR",
        granularity=analytics_pb2.TIME_GRANULARITY_HOUR))
    expected = expected_sales(placed(data, "EUR", start, end), hour_of)
    assert got_sales(response, "EUR") == expected
    assert len(expected) > 5


async def test_sales_of_one_category_count_each_order_once(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    response = await analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(data.start, data.end), currency_code="USD", category="kitchen"))
    orders = placed(data, "USD", data.start, data.end)
    expected = expected_sales(orders, day_of, category="kitchen")
    assert got_sales(response, "USD") == expected
    assert response.total.orders == sum(v[0] for v in expected.values())
    assert response.total.revenue.amount_minor == sum(v[2] for v in expected.values())


async def test_sales_by_category_and_a_total_of_distinct_orders(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    response = await analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(data.start, data.end), currency_code="EUR", by_category=True))
    orders = placed(data, "EUR", data.start, data.end)
    assert got_sales(response, "EUR") == expected_sales(orders, day_of, by_category=True)
    assert {b.category for b in response.buckets} == set(CATEGORIES)
    # An order with lines in two categories counts in both, once in the total.
    assert sum(b.orders for b in response.buckets) > len(orders)
    assert response.total.orders == len(orders)
    assert response.total.units == sum(line.quantity for o in orders for line in o.lines)
    assert response.total.revenue.amount_minor == sum(
        line.revenue_minor for o in orders for line in o.lines)


async def test_top_products_by_revenue_and_by_units(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    orders = placed(data, "EUR", data.start, data.end)
    sales: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in orders:
        for line in o.lines:
            row = sales[line.sku]
            row[0] += line.quantity
            row[1] += line.revenue_minor
            row[2] += 1
    latest = {}
    for o in sorted((o for o in data.orders if o.currency == "EUR"), key=lambda o: o.at):
        for line in o.lines:
            latest[line.sku] = (line.title, line.category)
    by_revenue = sorted(sales, key=lambda sku: (-sales[sku][1], -sales[sku][0], sku))
    response = await analytics.TopProducts(analytics_pb2.TopProductsRequest(
        range=time_range(data.start, data.end), currency_code="EUR", limit=5))
    assert [(p.sku, p.title, p.category, p.units, p.revenue.amount_minor, p.orders)
            for p in response.products] == [
        (sku, *latest[sku], *sales[sku]) for sku in by_revenue[:5]]
    assert any(p.title.endswith("(new name)") for p in response.products)
    by_units = sorted(sales, key=lambda sku: (-sales[sku][0], -sales[sku][1], sku))
    response = await analytics.TopProducts(analytics_pb2.TopProductsRequest(
        range=time_range(data.start, data.end), currency_code="EUR",
        ranking=analytics_pb2.PRODUCT_RANKING_UNITS))
    assert [p.sku for p in response.products] == by_units[:10]
    garden = await analytics.TopProducts(analytics_pb2.TopProductsRequest(
        range=time_range(data.start, data.end), currency_code="EUR", category="garden",
        limit=1000))
    assert [p.sku for p in garden.products] == [
        sku for sku in by_revenue if latest[sku][1] == "garden"]


async def test_conversion_funnel_per_day(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    response = await analytics.ConversionFunnel(analytics_pb2.ConversionFunnelRequest(
        range=time_range(data.start, data.end)))
    expected = []
    for d in range(data.days):
        day = data.start + timedelta(days=d)

        def users(kind: str, day: datetime = day) -> set[str]:
            return {c.user_id for c in data.clicks
                    if c.event_type == kind and c.user_id and day_of(c.at) == day}

        viewers = users("product_view")
        added = viewers & users("add_to_cart")
        buyers = {o.user_id for o in data.orders if day_of(o.at) == day}
        expected.append((day, len(viewers), len(added), len(added & buyers)))
    assert [(d.day.ToDatetime(UTC), d.viewers, d.added_to_cart, d.ordered)
            for d in response.days] == expected
    for d in response.days:
        assert d.view_to_cart_rate == pytest.approx(d.added_to_cart / d.viewers)
        assert d.cart_to_order_rate == pytest.approx(
            d.ordered / d.added_to_cart if d.added_to_cart else 0.0)
    assert all(d.ordered <= d.added_to_cart <= d.viewers for d in response.days)
    assert sum(d.ordered for d in response.days) > 0
    assert sum(d.added_to_cart for d in response.days) < sum(d.viewers for d in response.days)


@pytest.mark.parametrize(("window", "start_of"), [
    (analytics_pb2.ACTIVITY_WINDOW_DAY, day_of),
    (analytics_pb2.ACTIVITY_WINDOW_WEEK,
     lambda t: day_of(t) - timedelta(days=t.weekday())),
    (analytics_pb2.ACTIVITY_WINDOW_MONTH, lambda t: day_of(t).replace(day=1)),
])
async def test_active_users_per_window(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet,
    window: analytics_pb2.ActivityWindow.ValueType, start_of: Callable[[datetime], datetime]
) -> None:
    start, end = data.start + timedelta(hours=12), data.end
    active: dict[datetime, set[str]] = defaultdict(set)
    for at, user in [(c.at, c.user_id) for c in data.clicks] + [
            (o.at, o.user_id) for o in data.orders]:
        if user and start <= at < end:
            active[start_of(at)].add(user)
    response = await analytics.ActiveUsers(analytics_pb2.ActiveUsersRequest(
        range=time_range(start, end), window=window))
    assert [(p.window_start.ToDatetime(UTC), p.active_users) for p in response.points] == [
        (w, len(users)) for w, users in sorted(active.items())]


async def test_a_range_without_data_is_empty(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    start = data.start - timedelta(days=10)
    response = await analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(start, start + timedelta(days=1)), currency_code="EUR",
        by_category=True))
    assert list(response.buckets) == []
    assert response.total.orders == 0 and response.total.average_order_value.amount_minor == 0


async def test_report_requests_are_checked(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)
    await invalid(analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        currency_code="EUR")), "range.start_time", "range.end_time")
    # The proto's rules, checked on entry...
    await invalid(analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(now, now), currency_code="eur", category="x" * 101)),
        "currency_code", "category")
    await invalid(analytics.TopProducts(analytics_pb2.TopProductsRequest(
        range=time_range(now - timedelta(days=401), now), limit=1001)),
        "currency_code", "limit")
    # ...then the range, whose two ends the gateway compares.
    await invalid(analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
        range=time_range(now, now), currency_code="EUR")), "range.end_time")
    await invalid(analytics.TopProducts(analytics_pb2.TopProductsRequest(
        range=time_range(now - timedelta(days=401), now), currency_code="EUR")), "range")
    await invalid(analytics.ConversionFunnel(analytics_pb2.ConversionFunnelRequest(
        range=analytics_pb2.TimeRange(end_time=ts(now)))), "range.start_time")
    await invalid(analytics.ActiveUsers(analytics_pb2.ActiveUsersRequest(
        range=time_range(now, now - timedelta(seconds=1)))), "range.end_time")


async def test_reports_are_traced_with_their_row_count(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, data: DataSet
) -> None:
    SPANS.clear()
    response = await analytics.ConversionFunnel(analytics_pb2.ConversionFunnelRequest(
        range=time_range(data.start, data.end)))
    spans = [s for s in SPANS.get_finished_spans()
             if s.name == "report ConversionFunnel"]
    assert len(spans) == 1 and spans[0].attributes is not None
    assert spans[0].attributes["datagw.rows"] == len(response.days)
    assert spans[0].parent is not None  # inside the RPC's server span


async def test_orders_placed_through_the_gateway_reach_the_reports(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, shop: Shop, uid: str
) -> None:
    """End to end: CreateOrder and CancelOrder on the shards, the relay,
    then TopProducts (a category of this test's own)."""
    category, sku = f"cat-{uid}", f"{uid}-E2E"
    await upsert(shop.catalog, product(sku, category=category, price=money(1250)))
    await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=10, request_id=f"{uid}-stock"))
    await shop.user(f"{uid}-buyer")
    kept = await shop.place(f"{uid}-buyer", {sku: 3}, f"{uid}-kept")
    dropped = await shop.place(f"{uid}-buyer", {sku: 2}, f"{uid}-dropped")
    await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=dropped.order.order_id, reason="changed mind", request_id=f"{uid}-cancel"))
    now = datetime.now(UTC)
    request = analytics_pb2.TopProductsRequest(
        range=time_range(now - timedelta(hours=1), now + timedelta(hours=1)),
        currency_code="EUR", category=category)
    seen: list[tuple[str, int, int, int]] = []
    for _ in range(300):  # the relay copies within a few batches; wait up to 30s
        response = await analytics.TopProducts(request)
        seen = [(p.sku, p.units, p.revenue.amount_minor, p.orders) for p in response.products]
        # The cancellation arrives in its own event: wait for the net result.
        if seen == [(sku, 3, 3 * 1250, 1)]:
            break
        await asyncio.sleep(0.1)
    assert seen == [(sku, 3, 3 * 1250, 1)], kept.order.order_id
