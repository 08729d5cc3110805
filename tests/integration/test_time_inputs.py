"""Every Duration and Timestamp a request carries: a value outside the protobuf
well-known type's range, or one inside it but beyond what the domain accepts,
is INVALID_ARGUMENT naming the field, never INTERNAL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from datagw.v1 import (
    admin_pb2,
    analytics_pb2,
    analytics_pb2_grpc,
    catalog_pb2,
    common_pb2,
    eventstore_pb2,
    eventstore_pb2_grpc,
    inventory_pb2,
    session_pb2,
    session_pb2_grpc,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from tests.helpers import invalid

pytestmark = pytest.mark.integration

# Outside google.protobuf.Duration's range: seconds beyond ±315,576,000,000,
# nanos beyond ±999,999,999 or of the other sign than the seconds.
BAD_DURATIONS = [
    Duration(seconds=9_223_372_036_854_775_807),
    Duration(seconds=-9_223_372_036_854_775_808),
    Duration(seconds=315_576_000_001),
    Duration(seconds=-315_576_000_001),
    Duration(nanos=1_000_000_000),
    Duration(seconds=1, nanos=-1),
    Duration(seconds=-1, nanos=1),
]
# The largest Durations there are: valid, but beyond every domain's bound.
HUGE_DURATIONS = [Duration(seconds=315_576_000_000, nanos=999_999_999),
                  Duration(seconds=-315_576_000_000, nanos=-999_999_999)]
# Outside google.protobuf.Timestamp's range: before 0001-01-01T00:00:00Z,
# after 9999-12-31T23:59:59.999999999Z, nanos outside 0..999,999,999.
BAD_TIMESTAMPS = [
    Timestamp(seconds=9_223_372_036_854_775_807),
    Timestamp(seconds=-9_223_372_036_854_775_808),
    Timestamp(seconds=-62_135_596_801),
    Timestamp(seconds=253_402_300_800),
    Timestamp(seconds=0, nanos=-1),
    Timestamp(seconds=0, nanos=1_000_000_000),
]
FIRST = Timestamp(seconds=-62_135_596_800)
LAST = Timestamp(seconds=253_402_300_799, nanos=999_999_999)


class Stubs:
    def __init__(self, channel: grpc.aio.Channel, shop: Any) -> None:
        self.shop = shop
        self.sessions = session_pb2_grpc.SessionServiceStub(channel)
        self.events = eventstore_pb2_grpc.EventStoreServiceStub(channel)
        self.analytics = analytics_pb2_grpc.AnalyticsServiceStub(channel)


@pytest.fixture(scope="module")
def stubs(channel: grpc.aio.Channel, shop: Any) -> Stubs:
    return Stubs(channel, shop)


def _staleness(d: Duration) -> common_pb2.ReadOptions:
    return common_pb2.ReadOptions(
        consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS, max_staleness=d)


def _range(start: Timestamp, end: Timestamp) -> analytics_pb2.TimeRange:
    return analytics_pb2.TimeRange(start_time=start, end_time=end)


def _id(value: Duration | Timestamp) -> str:
    return f"{value.seconds}s{value.nanos:+}ns"


DurationCall = Callable[[Stubs, Duration], Awaitable[Any]]

# (the call with the Duration in place, the field path it is reported under)
DURATION_SITES: dict[str, tuple[DurationCall, str]] = {
    "GetProduct": (lambda s, d: s.shop.catalog.GetProduct(catalog_pb2.GetProductRequest(
        sku="time-sku", read_options=_staleness(d))), "read_options.max_staleness"),
    "GetStock": (lambda s, d: s.shop.inventory.GetStock(inventory_pb2.GetStockRequest(
        sku="time-sku", read_options=_staleness(d))), "read_options.max_staleness"),
    "ReserveStock": (lambda s, d: s.shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id="time-reservation",
        items=[inventory_pb2.ReservationItem(sku="time-sku", quantity=1)], ttl=d)), "ttl"),
    "CreateSession": (lambda s, d: s.sessions.CreateSession(session_pb2.CreateSessionRequest(
        user_id="time-user", ttl=d)), "ttl"),
    "ListStuckSagas": (lambda s, d: s.shop.admin.ListStuckSagas(
        admin_pb2.ListStuckSagasRequest(older_than=d)), "older_than"),
    "RunQuery": (lambda s, d: s.analytics.RunQuery(analytics_pb2.RunQueryRequest(
        sql="SELECT 1", timeout=d)), "timeout"),
    "SetStreamMetadata": (lambda s, d: s.events.SetStreamMetadata(
        eventstore_pb2.SetStreamMetadataRequest(
            stream=eventstore_pb2.StreamRef(stream="time-stream"),
            retention=eventstore_pb2.StreamRetention(max_age=d))), "retention.max_age"),
    "SubscribeToAll": (lambda s, d: s.events.SubscribeToAll(
        eventstore_pb2.SubscribeToAllRequest(checkpoint_interval=d)).read(),
        "checkpoint_interval"),
}

TimestampCall = Callable[[Stubs, Timestamp], Awaitable[Any]]
TIMESTAMP_SITES: dict[str, tuple[TimestampCall, str]] = {
    "ListOrders.start_time": (lambda s, t: s.shop.admin.ListOrders(
        admin_pb2.AdminServiceListOrdersRequest(start_time=t, end_time=LAST)), "start_time"),
    "ListOrders.end_time": (lambda s, t: s.shop.admin.ListOrders(
        admin_pb2.AdminServiceListOrdersRequest(start_time=FIRST, end_time=t)), "end_time"),
    "SalesSummary.start_time": (lambda s, t: s.analytics.SalesSummary(
        analytics_pb2.SalesSummaryRequest(range=_range(t, LAST), currency_code="EUR")),
        "range.start_time"),
    "TopProducts.end_time": (lambda s, t: s.analytics.TopProducts(
        analytics_pb2.TopProductsRequest(range=_range(FIRST, t), currency_code="EUR")),
        "range.end_time"),
    "ConversionFunnel.start_time": (lambda s, t: s.analytics.ConversionFunnel(
        analytics_pb2.ConversionFunnelRequest(range=_range(t, LAST))), "range.start_time"),
    "ActiveUsers.end_time": (lambda s, t: s.analytics.ActiveUsers(
        analytics_pb2.ActiveUsersRequest(range=_range(FIRST, t))), "range.end_time"),
}


@pytest.mark.parametrize("site", DURATION_SITES)
@pytest.mark.parametrize("value", BAD_DURATIONS + HUGE_DURATIONS, ids=_id)
async def test_a_duration_out_of_range_is_invalid_argument(
        stubs: Stubs, site: str, value: Duration) -> None:
    call, field = DURATION_SITES[site]
    await invalid(call(stubs, value), field)


@pytest.mark.parametrize("site", TIMESTAMP_SITES)
@pytest.mark.parametrize("value", BAD_TIMESTAMPS, ids=_id)
async def test_a_timestamp_out_of_range_is_invalid_argument(
        stubs: Stubs, site: str, value: Timestamp) -> None:
    call, field = TIMESTAMP_SITES[site]
    await invalid(call(stubs, value), field)


async def test_the_first_and_last_timestamps_are_accepted(stubs: Stubs) -> None:
    await stubs.shop.admin.ListOrders(admin_pb2.AdminServiceListOrdersRequest(
        start_time=FIRST, end_time=LAST, page_size=1))
    # A report's range may lie at either end of time; nothing was sold there.
    for start, end in ((FIRST, Timestamp(seconds=FIRST.seconds + 86_400)),
                       (Timestamp(seconds=LAST.seconds - 86_400), LAST)):
        summary = await stubs.analytics.SalesSummary(analytics_pb2.SalesSummaryRequest(
            range=_range(start, end), currency_code="EUR"))
        assert summary.total.orders == 0
    # Years apart: the domain's bound on a range, not an overflow.
    await invalid(stubs.analytics.ActiveUsers(analytics_pb2.ActiveUsersRequest(
        range=_range(FIRST, LAST))), "range")
