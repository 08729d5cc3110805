"""The reports' statements and their rows as the domain's values.

Reports read the relayed order facts (`orders`, `order_lines`: +1 rows when
an order is placed, -1 rows with the placement's time and amounts when it is
cancelled) and the `clickstream`. Every amount is net of cancellations
(sum(sign * x)), every time is UTC and every value reaches ClickHouse as a
bound parameter; only fixed SQL fragments (the bucket expression, the table)
are chosen in code. The exact definitions are in docs/analytics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.records.analytics import ActivePoint, FunnelDay, SalesRow, Window
from gateway.storage.clickhouse.store import AnalyticsStore

_DAY_MS = 86_400_000

# Bucket starts as epoch seconds (UInt32), whatever the engine's time zone.
HOUR = "toUnixTimestamp(toStartOfHour(occurred_at))"
DAY = "toUnixTimestamp(toStartOfDay(occurred_at))"
_WINDOWS = {
    Window.DAY: DAY,
    Window.WEEK: "toUnixTimestamp(toDateTime(toMonday(occurred_at), 'UTC'))",
    Window.MONTH: "toUnixTimestamp(toDateTime(toStartOfMonth(occurred_at), 'UTC'))",
}

_IN_RANGE = ("occurred_at >= fromUnixTimestamp64Milli({start_ms:Int64}, 'UTC') "
             "AND occurred_at < fromUnixTimestamp64Milli({end_ms:Int64}, 'UTC')")
_SALES = f"currency = {{currency:String}} AND {_IN_RANGE}"
# Net orders among lines: distinct orders placed minus distinct orders
# cancelled (a cancellation repeats every line of its order with sign -1).
_NET_ORDERS = ("toInt64(uniqExactIf(order_id, sign > 0)) "
               "- toInt64(uniqExactIf(order_id, sign < 0))")


def _utc(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


def _sales_params(start_ms: int, end_ms: int, currency: str, category: str) -> dict[str, Any]:
    """_sales_sql's and top_sql's parameters: `category` only when there is
    one, as only then does the SQL have its placeholder (the store binds no
    parameter without one)."""
    params: dict[str, Any] = {"start_ms": start_ms, "end_ms": end_ms, "currency": currency}
    if category:
        params["category"] = category
    return params


def _sales_sql(bucket: str, category: str, by_category: bool) -> str:
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


async def sales(store: AnalyticsStore, start_ms: int, end_ms: int, hourly: bool, currency: str,
                category: str, by_category: bool) -> list[SalesRow]:
    """Net sales per hour or day (and per category) in [start_ms, end_ms),
    the total over the range last (bucket None, category "")."""
    result = await store.query(_sales_sql(HOUR if hourly else DAY, category, by_category),
                               _sales_params(start_ms, end_ms, currency, category))
    return [SalesRow(None, "", orders, units, revenue) if is_total
            else SalesRow(_utc(bucket), bucket_category, orders, units, revenue)
            for bucket, bucket_category, is_total, orders, units, revenue in result.rows]


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


def _whole_days(start_ms: int, end_ms: int) -> tuple[int, int]:
    """The whole UTC days in [start_ms, end_ms) as [from, to) in epoch ms;
    (start_ms, start_ms) when there is none, which leaves the whole range to
    the edges."""
    first = -(-start_ms // _DAY_MS) * _DAY_MS
    last = end_ms // _DAY_MS * _DAY_MS
    return (first, last) if first < last else (start_ms, start_ms)


def top_sql(by_units: bool, category: str) -> str:
    """The ranking, without titles: carrying the title and category strings
    through the aggregation of every line would cost more than the ranking
    itself. Each product's latest sale time comes along for latest_names.

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
    days_from, days_to = _whole_days(start_ms, end_ms)
    return {**_sales_params(start_ms, end_ms, currency, category), "limit": limit,
            "days_from_ms": days_from, "days_to_ms": days_to}


@dataclass(frozen=True)
class RankedProduct:
    sku: str
    units: int
    revenue_minor: int
    orders: int
    # Its latest sale in the range, where latest_names finds its names.
    last_ms: int


async def top_products(store: AnalyticsStore, start_ms: int, end_ms: int, by_units: bool,
                       currency: str, category: str, limit: int) -> list[RankedProduct]:
    """The `limit` products with the most net units (`by_units`) or revenue
    in [start_ms, end_ms), best first."""
    result = await store.query(top_sql(by_units, category),
                               top_params(start_ms, end_ms, currency, category, limit))
    return [RankedProduct(*row) for row in result.rows]


# The title and category of each ranked product's latest line: a lookup of a
# few (time, sku) keys on the table's sorting key (currency, occurred_at,
# sku), not a scan. Lines of one product at the very same millisecond give
# the greatest (title, category).
_TITLES_SQL = """
    SELECT sku, max((title, category)) AS latest FROM order_lines
    WHERE currency = {currency:String} AND (category = {category:String} OR {category:String} = '')
      AND occurred_at IN arrayMap(ms -> fromUnixTimestamp64Milli(ms, 'UTC'), {times:Array(Int64)})
      AND (toUnixTimestamp64Milli(occurred_at), sku) IN {keys:Array(Tuple(Int64, String))}
    GROUP BY sku"""


async def latest_names(store: AnalyticsStore, currency: str, category: str,
                       ranked: list[RankedProduct]) -> dict[str, tuple[str, str]]:
    """Each ranked product's (title, category) on its latest line."""
    keys = [(p.last_ms, p.sku) for p in ranked]
    result = await store.query(_TITLES_SQL, {
        "currency": currency, "category": category, "times": [ms for ms, _ in keys],
        "keys": keys})
    return {sku: names for sku, names in result.rows}


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


async def funnel(store: AnalyticsStore, start_ms: int, end_ms: int) -> list[FunnelDay]:
    """Per UTC day: the users who viewed a product, those of them who added
    one to their cart and those who also ordered that day."""
    result = await store.query(_FUNNEL_SQL, {"start_ms": start_ms, "end_ms": end_ms})
    return [FunnelDay(_utc(day), viewers, added, ordered)
            for day, viewers, added, ordered in result.rows]


def _active_sql(window: str) -> str:
    return f"""
        SELECT window_start, uniqExact(user_id) AS users FROM (
            SELECT {window} AS window_start, user_id FROM clickstream
            WHERE user_id != '' AND {_IN_RANGE}
            UNION ALL
            SELECT {window} AS window_start, user_id FROM orders
            WHERE user_id != '' AND {_IN_RANGE})
        GROUP BY window_start ORDER BY window_start"""


async def active_users(store: AnalyticsStore, start_ms: int, end_ms: int, window: Window
                       ) -> list[ActivePoint]:
    """Distinct signed-in users per window (behaviour events or orders)."""
    result = await store.query(_active_sql(_WINDOWS[window]),
                               {"start_ms": start_ms, "end_ms": end_ms})
    return [ActivePoint(_utc(start), users) for start, users in result.rows]
