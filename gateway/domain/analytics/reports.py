"""AnalyticsService: behaviour-event ingest, typed reports and RunQuery.

Reports read the relayed order facts (`orders`, `order_lines`: +1 rows when
an order is placed, -1 rows with the placement's time and amounts when it is
cancelled) and the `clickstream`. Every amount is net of cancellations
(sum(sign * x)), every time is UTC and every value reaches ClickHouse as a
bound parameter; only fixed SQL fragments (the bucket expression, the table)
are chosen in code. The exact definitions are in docs/analytics.md.
"""

from __future__ import annotations

import enum
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import SpanKind

from gateway.domain.analytics import ingest as analytics_ingest
from gateway.domain.analytics import query as analytics_query
from gateway.domain.analytics.ingest import BehaviourEvent, IngestResult
from gateway.domain.analytics.query import QueryRequest, unavailable
from gateway.errors import FailedPrecondition, Violations
from gateway.policy.registry import PolicyRegistry
from gateway.storage.clickhouse.store import (
    AnalyticsStore,
    AnalyticsUnavailable,
    Params,
    QueryResult,
)
from gateway.telemetry import tracer

DOMAIN = "analytics"
MAX_RANGE_DAYS = 400
DAY_MS = 86_400_000
MAX_RANGE_MS = MAX_RANGE_DAYS * DAY_MS
DEFAULT_TOP = 10
MAX_TOP = 1000
MAX_CATEGORY = 100
CURRENCY = re.compile(r"^[A-Z]{3}$")

# Bucket starts as epoch seconds (UInt32), whatever the engine's time zone.
HOUR = "toUnixTimestamp(toStartOfHour(occurred_at))"
DAY = "toUnixTimestamp(toStartOfDay(occurred_at))"


class Window(enum.Enum):
    """ActiveUsers windows (UTC; weeks start on Monday)."""

    DAY = DAY
    WEEK = "toUnixTimestamp(toDateTime(toMonday(occurred_at), 'UTC'))"
    MONTH = "toUnixTimestamp(toDateTime(toStartOfMonth(occurred_at), 'UTC'))"

_IN_RANGE = ("occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC') "
             "AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')")
_SALES = f"currency = {{currency:String}} AND {_IN_RANGE}"
# Net orders among lines: distinct orders placed minus distinct orders
# cancelled (a cancellation repeats every line of its order with sign -1).
_NET_ORDERS = ("toInt64(uniqExactIf(order_id, sign > 0)) "
               "- toInt64(uniqExactIf(order_id, sign < 0))")


@dataclass(frozen=True)
class SalesRow:
    bucket: datetime | None  # None: the total over the range
    category: str
    orders: int
    units: int
    revenue_minor: int

    @property
    def average_order_minor(self) -> int:
        """Revenue per net order, rounded down; 0 without orders."""
        return self.revenue_minor // self.orders if self.orders > 0 else 0


@dataclass(frozen=True)
class SalesSummary:
    currency: str
    buckets: list[SalesRow]
    total: SalesRow


@dataclass(frozen=True)
class ProductSales:
    sku: str
    title: str
    category: str
    units: int
    revenue_minor: int
    orders: int


@dataclass(frozen=True)
class FunnelDay:
    day: datetime
    viewers: int
    added_to_cart: int
    ordered: int

    @property
    def view_to_cart(self) -> float:
        return self.added_to_cart / self.viewers if self.viewers else 0.0

    @property
    def cart_to_order(self) -> float:
        return self.ordered / self.added_to_cart if self.added_to_cart else 0.0


@dataclass(frozen=True)
class ActivePoint:
    start: datetime
    users: int


def _utc(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _check_range(v: Violations, start_ms: int | None, end_ms: int | None) -> None:
    if start_ms is None:
        v.add("range.start_time", "required")
    if end_ms is None:
        v.add("range.end_time", "required")
    if start_ms is not None and end_ms is not None:
        if start_ms >= end_ms:
            v.add("range.end_time", "must be after range.start_time")
        elif end_ms - start_ms > MAX_RANGE_MS:
            v.add("range", f"at most {MAX_RANGE_DAYS} days")


def _check_currency(v: Violations, currency: str) -> None:
    if not CURRENCY.match(currency):
        v.add("currency_code", "required: an ISO 4217 code, three upper-case letters")


def _check_category(v: Violations, category: str) -> None:
    if len(category) > MAX_CATEGORY or "\x00" in category:
        v.add("category", f"at most {MAX_CATEGORY} characters, no NUL")


def sales_params(start_ms: int | None, end_ms: int | None, currency: str, category: str
                 ) -> dict[str, Any]:
    """sales_sql's and top_sql's parameters: `category` only when there is
    one, as only then does the SQL have its placeholder (the store binds no
    parameter without one)."""
    params: dict[str, Any] = {"start_ms": start_ms, "end_ms": end_ms, "currency": currency}
    if category:
        params["category"] = category
    return params


def sales_sql(bucket: str, category: str, by_category: bool) -> str:
    """One row per bucket (and category), plus the total row (grouping set ()).
    Aliases never reuse a column's name: ClickHouse would put the alias's
    expression in place of the column in WHERE."""
    if not category and not by_category:
        # Orders and revenue from the orders (an order's total), units from
        # its lines; each side aggregated on its own, then joined by bucket.
        return f"""
            SELECT bucket, '' AS bucket_category, grouping(bucket) AS is_total,
                   sum(orders) AS orders, sum(units) AS units, sum(revenue) AS revenue
            FROM (
                SELECT {bucket} AS bucket, toInt64(sum(sign)) AS orders, toInt64(0) AS units,
                       toInt64(sum(sign * total_minor)) AS revenue
                FROM orders WHERE {_SALES} GROUP BY bucket
                UNION ALL
                SELECT {bucket} AS bucket, toInt64(0), toInt64(sum(sign * quantity)), toInt64(0)
                FROM order_lines WHERE {_SALES} GROUP BY bucket)
            GROUP BY GROUPING SETS ((bucket), ())
            ORDER BY is_total, bucket"""
    keys = "bucket, bucket_category" if by_category else "bucket"
    where = _SALES + (" AND category = {category:String}" if category else "")
    return f"""
        SELECT {bucket} AS bucket,
               {"category" if by_category else "{category:String}"} AS bucket_category,
               grouping({keys}) AS is_total,
               {_NET_ORDERS} AS orders, toInt64(sum(sign * quantity)) AS units,
               toInt64(sum(sign * revenue_minor)) AS revenue
        FROM order_lines WHERE {where}
        GROUP BY GROUPING SETS (({keys}), ())
        ORDER BY is_total, bucket, bucket_category"""


# TopProducts' per-product sums over part of its range (the aggregates are
# those of order_lines' product_days projection, see schema.py, so that
# ClickHouse can read whole days from it).
_PRODUCT_SUMS = """
    SELECT sku, sum(sign * quantity) AS part_units, sum(sign * revenue_minor) AS part_revenue,
           sum(sign) AS part_orders, max(occurred_at) AS part_last
    FROM order_lines WHERE currency = {{currency:String}}{category} AND {days}
    GROUP BY sku"""
# Whole UTC days, on the projection's day key.
_WHOLE_DAYS = (
    "toStartOfDay(occurred_at) >= fromUnixTimestamp64Milli({days_from_ms:Int64}, 'UTC') "
    "AND toStartOfDay(occurred_at) < fromUnixTimestamp64Milli({days_to_ms:Int64}, 'UTC')")
# The rest of the range: before the first whole day and from the end of the
# last one, from the lines themselves.
_EDGES = ("(occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC') "
          "AND occurred_at < fromUnixTimestamp64Milli({days_from_ms:Int64}, 'UTC') "
          "OR occurred_at >= fromUnixTimestamp64Milli({days_to_ms:Int64}, 'UTC') "
          "AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC'))")


def whole_days(start_ms: int, end_ms: int) -> tuple[int, int]:
    """The whole UTC days in [start_ms, end_ms) as [from, to) in epoch ms;
    (start_ms, start_ms) when there is none, which leaves the whole range to
    the edges."""
    first = -(-start_ms // DAY_MS) * DAY_MS
    last = end_ms // DAY_MS * DAY_MS
    return (first, last) if first < last else (start_ms, start_ms)


def top_sql(by_units: bool, category: str) -> str:
    """The ranking, without titles: carrying the title and category strings
    through the aggregation of every line would cost more than the ranking
    itself. Each product's latest sale time comes along for TITLES_SQL.

    Whole days of the range come from the product_days projection (a few
    thousand rows a day instead of every line), the partial days at its
    edges from the lines: the same sums, as the projection is kept with
    every part of the table."""
    # An order holds each sku at most once (CreateOrder refuses repeats), so
    # a product's net orders are its net lines: sum(sign).
    where = " AND category = {category:String}" if category else ""
    order = "units DESC, revenue DESC" if by_units else "revenue DESC, units DESC"
    whole = _PRODUCT_SUMS.format(category=where, days=_WHOLE_DAYS)
    edges = _PRODUCT_SUMS.format(category=where, days=_EDGES)
    return f"""
        SELECT sku, toInt64(sum(part_units)) AS units, toInt64(sum(part_revenue)) AS revenue,
               toInt64(sum(part_orders)) AS orders,
               toUnixTimestamp64Milli(max(part_last)) AS last_ms
        FROM ({whole}
              UNION ALL{edges})
        GROUP BY sku HAVING units > 0
        ORDER BY {order}, sku
        LIMIT {{limit:UInt32}}"""


def top_params(start_ms: int, end_ms: int, currency: str, category: str, limit: int
               ) -> dict[str, Any]:
    """top_sql's parameters."""
    days_from, days_to = whole_days(start_ms, end_ms)
    return {**sales_params(start_ms, end_ms, currency, category), "limit": limit,
            "days_from_ms": days_from, "days_to_ms": days_to}


# The title and category of each ranked product's latest line: a lookup of a
# few (time, sku) keys on the table's sorting key (currency, occurred_at,
# sku), not a scan. Lines of one product at the very same millisecond give
# the greatest (title, category).
TITLES_SQL = """
    SELECT sku, max((title, category)) AS latest FROM order_lines
    WHERE currency = {currency:String} AND (category = {category:String} OR {category:String} = '')
      AND occurred_at IN arrayMap(ms -> fromUnixTimestamp64Milli(ms, 'UTC'), {times:Array(Int64)})
      AND (toUnixTimestamp64Milli(occurred_at), sku) IN {keys:Array(Tuple(Int64, String))}
    GROUP BY sku"""


def titles_params(currency: str, category: str, ranked: list[tuple[Any, ...]]
                  ) -> dict[str, Any]:
    """TITLES_SQL's parameters for top_sql's rows."""
    keys = [(last_ms, sku) for sku, *_, last_ms in ranked]
    return {"currency": currency, "category": category, "times": [ms for ms, _ in keys],
            "keys": keys}


_FUNNEL_SQL = f"""
    SELECT v.day AS day, count() AS viewers, countIf(v.added) AS added_to_cart,
           countIf(v.added AND o.user_id != '') AS ordered
    FROM (
        SELECT {DAY} AS day, user_id, max(event_type = 'add_to_cart') AS added
        FROM clickstream
        WHERE user_id != '' AND event_type IN ('product_view', 'add_to_cart') AND {_IN_RANGE}
        GROUP BY day, user_id
        HAVING max(event_type = 'product_view') = 1) AS v
    LEFT JOIN (
        SELECT DISTINCT {DAY} AS day, user_id FROM orders
        WHERE sign > 0 AND user_id != '' AND {_IN_RANGE}) AS o
    ON v.day = o.day AND v.user_id = o.user_id
    GROUP BY day ORDER BY day"""


def _active_sql(window: str) -> str:
    return f"""
        SELECT window_start, uniqExact(user_id) AS users FROM (
            SELECT {window} AS window_start, user_id FROM clickstream
            WHERE user_id != '' AND {_IN_RANGE}
            UNION ALL
            SELECT {window} AS window_start, user_id FROM orders
            WHERE user_id != '' AND {_IN_RANGE})
        GROUP BY window_start ORDER BY window_start"""


class AnalyticsDomain:
    def __init__(self, policies: PolicyRegistry, store: AnalyticsStore | None) -> None:
        self._policies = policies
        self._store = store

    @property
    def store(self) -> AnalyticsStore:
        if self._store is None:
            # A configuration matter, not an outage: retrying will not help.
            raise FailedPrecondition(
                "no analytics store is configured (set clickhouse.url, or run embedded)",
                reason="ANALYTICS_NOT_CONFIGURED")
        return self._store

    async def _report(self, name: str, sql: str, params: Params) -> QueryResult:
        with tracer.start_as_current_span(f"clickhouse SELECT {name}", kind=SpanKind.CLIENT,
                                          attributes={"db.system": "clickhouse",
                                                      "datagw.report": name}) as span:
            try:
                result = await self.store.query(sql, params)
            except AnalyticsUnavailable as exc:
                raise unavailable() from exc
            span.set_attribute("datagw.rows", len(result.rows))
            return result

    # -- ingest -------------------------------------------------------------

    async def ingest(self, messages: AsyncIterator[Sequence[BehaviourEvent]]) -> IngestResult:
        retention = self._policies.get(DOMAIN).retention_s("clickstream")
        return await analytics_ingest.ingest(self.store, retention, messages)

    # -- reports ------------------------------------------------------------

    async def sales_summary(self, start_ms: int | None, end_ms: int | None, hourly: bool,
                            currency: str, category: str, by_category: bool) -> SalesSummary:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        _check_currency(v, currency)
        _check_category(v, category)
        v.raise_if_any()
        result = await self._report(
            "SalesSummary", sales_sql(HOUR if hourly else DAY, category, by_category),
            sales_params(start_ms, end_ms, currency, category))
        buckets: list[SalesRow] = []
        total = SalesRow(None, "", 0, 0, 0)
        for bucket, cat, is_total, orders, units, revenue in result.rows:
            if is_total:
                total = SalesRow(None, "", orders, units, revenue)
            elif orders or units or revenue:
                # A bucket whose orders were all cancelled nets to nothing.
                buckets.append(SalesRow(_utc(bucket), cat, orders, units, revenue))
        return SalesSummary(currency, buckets, total)

    async def top_products(self, start_ms: int | None, end_ms: int | None, by_units: bool,
                           currency: str, category: str, limit: int) -> list[ProductSales]:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        _check_currency(v, currency)
        _check_category(v, category)
        if not 0 <= limit <= MAX_TOP:
            v.add("limit", f"must be 1-{MAX_TOP} (0: {DEFAULT_TOP})")
        v.raise_if_any()
        assert start_ms is not None and end_ms is not None  # checked above
        ranked = await self._report(
            "TopProducts", top_sql(by_units, category),
            top_params(start_ms, end_ms, currency, category, limit or DEFAULT_TOP))
        if not ranked.rows:
            return []
        titles = await self._report("TopProducts titles", TITLES_SQL,
                                    titles_params(currency, category, ranked.rows))
        latest: dict[str, tuple[str, str]] = {sku: names for sku, names in titles.rows}
        return [ProductSales(sku, latest[sku][0], latest[sku][1], units, revenue, orders)
                for sku, units, revenue, orders, _ in ranked.rows]

    async def conversion_funnel(self, start_ms: int | None, end_ms: int | None
                                ) -> list[FunnelDay]:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        result = await self._report("ConversionFunnel", _FUNNEL_SQL,
                                    {"start_ms": start_ms, "end_ms": end_ms})
        return [FunnelDay(_utc(day), viewers, added, ordered)
                for day, viewers, added, ordered in result.rows]

    async def active_users(self, start_ms: int | None, end_ms: int | None, window: Window
                           ) -> list[ActivePoint]:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        result = await self._report("ActiveUsers", _active_sql(window.value),
                                    {"start_ms": start_ms, "end_ms": end_ms})
        return [ActivePoint(_utc(start), users) for start, users in result.rows]

    # -- RunQuery -----------------------------------------------------------

    async def run_query(self, sql: str, parameters: dict[str, str], max_rows: int,
                        timeout_s: float | None) -> QueryResult:
        policy = self._policies.get(DOMAIN).query
        assert policy is not None, "the analytics policy's query section is validated at load"
        with tracer.start_as_current_span("clickhouse RunQuery", kind=SpanKind.CLIENT,
                                          attributes={"db.system": "clickhouse",
                                                      "datagw.report": "RunQuery"}) as span:
            result = await analytics_query.run_query(
                self.store, policy, QueryRequest(sql, parameters, max_rows, timeout_s))
            span.set_attribute("datagw.rows", len(result.rows))
            return result

