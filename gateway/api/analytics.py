"""AnalyticsService: proto in, domain call, proto out."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import grpc
from datagw.v1 import analytics_pb2, analytics_pb2_grpc, common_pb2
from google.protobuf import struct_pb2

from gateway.api.convert import (
    MAX_TIMESTAMP_S,
    MIN_TIMESTAMP_S,
    NANOS,
    duration_in,
    timestamp,
    timestamp_in,
)
from gateway.domain.analytics.ingest import (
    ADD_TO_CART,
    CHECKOUT_START,
    INVALID_TIME,
    PAGE_VIEW,
    PRODUCT_VIEW,
    REMOVE_FROM_CART,
    SEARCH,
    BehaviourEvent,
)
from gateway.domain.analytics.reports import AnalyticsDomain
from gateway.records.analytics import SalesRow, Window

Context = grpc.aio.ServicerContext[Any, Any]

_EVENT_TYPES = {
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_PAGE_VIEW: PAGE_VIEW,
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_PRODUCT_VIEW: PRODUCT_VIEW,
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_SEARCH: SEARCH,
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_ADD_TO_CART: ADD_TO_CART,
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_REMOVE_FROM_CART: REMOVE_FROM_CART,
    analytics_pb2.BEHAVIOUR_EVENT_TYPE_CHECKOUT_START: CHECKOUT_START,
}
_WINDOWS = {analytics_pb2.ACTIVITY_WINDOW_WEEK: Window.WEEK,
            analytics_pb2.ACTIVITY_WINDOW_MONTH: Window.MONTH}
# Shared by every event without properties; nobody mutates it.
_NO_PROPERTIES: Mapping[str, str] = {}
# Integers beyond this lose precision as a double: they go out as strings.
_EXACT_DOUBLE = 2**53
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def _events(msg: analytics_pb2.IngestEventsRequest) -> list[BehaviourEvent]:
    """This runs per event at ingest rate: plain field reads, no helpers.
    An occur_time that is no valid Timestamp (timestamp_in's range) reads
    as INVALID_TIME, which the domain rejects on that field; its fields
    read as they come would move the time (nanos 1e9 is a second later)."""
    out = []
    for e in msg.events:
        t = e.occur_time
        props = e.properties
        out.append(BehaviourEvent(
            e.event_id, _EVENT_TYPES.get(e.type, ""),
            (t.seconds * 1000 + t.nanos // 1_000_000
             if 0 <= t.nanos < NANOS and MIN_TIMESTAMP_S <= t.seconds <= MAX_TIMESTAMP_S
             else INVALID_TIME) if e.HasField("occur_time") else None,
            e.user_id, e.session_id, e.sku, e.query, e.page, e.quantity,
            dict(props) if props else _NO_PROPERTIES))
    return out


async def _messages(requests: AsyncIterator[analytics_pb2.IngestEventsRequest]
                    ) -> AsyncIterator[list[BehaviourEvent]]:
    async for msg in requests:
        yield _events(msg)


def _ms(r: analytics_pb2.TimeRange, field: Literal["start_time", "end_time"]) -> int | None:
    """One end of a report's range in epoch milliseconds (sub-milliseconds dropped)."""
    if not r.HasField(field):
        return None
    return (timestamp_in(getattr(r, field), f"range.{field}") - _EPOCH) // _MILLISECOND


def _range(r: analytics_pb2.TimeRange, present: bool) -> tuple[int | None, int | None]:
    if not present:
        return None, None
    return _ms(r, "start_time"), _ms(r, "end_time")


def _bucket(row: SalesRow, currency: str) -> analytics_pb2.SalesBucket:
    out = analytics_pb2.SalesBucket(
        category=row.category, orders=row.orders, units=row.units,
        revenue=common_pb2.Money(amount_minor=row.revenue_minor, currency_code=currency),
        average_order_value=common_pb2.Money(amount_minor=row.average_order_minor,
                                             currency_code=currency))
    if row.bucket is not None:
        out.bucket_start.CopyFrom(timestamp(row.bucket))
    return out


def value_out(v: Any) -> struct_pb2.Value:
    """A ClickHouse value as JSON-like protobuf: numbers a double cannot hold
    exactly, and times, as strings (RFC 3339 in UTC, dates as YYYY-MM-DD)."""
    if v is None:
        return struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if isinstance(v, bool):
        return struct_pb2.Value(bool_value=v)
    if isinstance(v, int):
        if -_EXACT_DOUBLE <= v <= _EXACT_DOUBLE:
            return struct_pb2.Value(number_value=v)
        return struct_pb2.Value(string_value=str(v))
    if isinstance(v, float):
        if math.isfinite(v):
            return struct_pb2.Value(number_value=v)
        return struct_pb2.Value(string_value="NaN" if math.isnan(v) else
                                ("Infinity" if v > 0 else "-Infinity"))
    if isinstance(v, str):
        return struct_pb2.Value(string_value=v)
    if isinstance(v, datetime):
        # Naive ones are UTC: RunQuery runs with session_timezone = 'UTC'.
        moment = v.astimezone(UTC) if v.tzinfo is not None else v
        return struct_pb2.Value(string_value=moment.replace(tzinfo=None).isoformat() + "Z")
    if isinstance(v, date):
        return struct_pb2.Value(string_value=v.isoformat())
    if isinstance(v, bytes):
        return struct_pb2.Value(string_value=v.decode("utf-8", "backslashreplace"))
    if isinstance(v, list | tuple):
        return struct_pb2.Value(list_value=struct_pb2.ListValue(
            values=[value_out(x) for x in v]))
    if isinstance(v, dict):
        return struct_pb2.Value(struct_value=struct_pb2.Struct(
            fields={str(k): value_out(x) for k, x in v.items()}))
    # Decimal, UUID, IP addresses, times of day: their text is exact.
    return struct_pb2.Value(string_value=str(v) if not isinstance(v, Decimal) else format(v, "f"))


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(self, domain: AnalyticsDomain) -> None:
        self._domain = domain

    async def IngestEvents(
        self, request_iterator: AsyncIterator[analytics_pb2.IngestEventsRequest], context: Context
    ) -> analytics_pb2.IngestEventsResponse:
        result = await self._domain.ingest(_messages(request_iterator))
        return analytics_pb2.IngestEventsResponse(
            accepted=result.accepted, rejected=result.rejected,
            rejections=[analytics_pb2.RejectedEvent(index=r.index, event_id=r.event_id,
                                                    field=r.field, description=r.description)
                        for r in result.rejections])

    async def SalesSummary(
        self, request: analytics_pb2.SalesSummaryRequest, context: Context
    ) -> analytics_pb2.SalesSummaryResponse:
        summary = await self._domain.sales_summary(
            *_range(request.range, request.HasField("range")),
            request.granularity == analytics_pb2.TIME_GRANULARITY_HOUR,
            request.currency_code, request.category, request.by_category)
        return analytics_pb2.SalesSummaryResponse(
            buckets=[_bucket(b, summary.currency) for b in summary.buckets],
            total=_bucket(summary.total, summary.currency))

    async def TopProducts(
        self, request: analytics_pb2.TopProductsRequest, context: Context
    ) -> analytics_pb2.TopProductsResponse:
        products = await self._domain.top_products(
            *_range(request.range, request.HasField("range")),
            request.ranking == analytics_pb2.PRODUCT_RANKING_UNITS,
            request.currency_code, request.category, request.limit)
        return analytics_pb2.TopProductsResponse(products=[
            analytics_pb2.ProductSales(
                sku=p.sku, title=p.title, category=p.category, units=p.units, orders=p.orders,
                revenue=common_pb2.Money(amount_minor=p.revenue_minor,
                                         currency_code=request.currency_code))
            for p in products])

    async def ConversionFunnel(
        self, request: analytics_pb2.ConversionFunnelRequest, context: Context
    ) -> analytics_pb2.ConversionFunnelResponse:
        days = await self._domain.conversion_funnel(
            *_range(request.range, request.HasField("range")))
        return analytics_pb2.ConversionFunnelResponse(days=[
            analytics_pb2.FunnelDay(
                day=timestamp(d.day), viewers=d.viewers, added_to_cart=d.added_to_cart,
                ordered=d.ordered, view_to_cart_rate=d.view_to_cart,
                cart_to_order_rate=d.cart_to_order)
            for d in days])

    async def ActiveUsers(
        self, request: analytics_pb2.ActiveUsersRequest, context: Context
    ) -> analytics_pb2.ActiveUsersResponse:
        points = await self._domain.active_users(
            *_range(request.range, request.HasField("range")),
            _WINDOWS.get(request.window, Window.DAY))
        return analytics_pb2.ActiveUsersResponse(points=[
            analytics_pb2.ActiveUsersPoint(window_start=timestamp(p.start), active_users=p.users)
            for p in points])

    async def RunQuery(
        self, request: analytics_pb2.RunQueryRequest, context: Context
    ) -> analytics_pb2.RunQueryResponse:
        result = await self._domain.run_query(
            request.sql, dict(request.parameters), request.max_rows,
            duration_in(request.timeout, "timeout") if request.HasField("timeout") else None)
        return analytics_pb2.RunQueryResponse(
            columns=[analytics_pb2.QueryColumn(name=n, type=t)
                     for n, t in zip(result.columns, result.types, strict=True)],
            rows=[analytics_pb2.QueryRow(values=[value_out(v) for v in row])
                  for row in result.rows])
