"""AnalyticsService: behaviour-event ingest, typed reports and RunQuery.

Reports check their request here and read ClickHouse through
storage/clickhouse/reports.py; the exact definitions are in
docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence, Sized
from typing import TypeVar

from opentelemetry.trace import SpanKind

from gateway.domain.analytics import ingest as analytics_ingest
from gateway.domain.analytics import query as analytics_query
from gateway.domain.analytics.ingest import BehaviourEvent, IngestResult
from gateway.domain.analytics.query import QueryRequest, unavailable
from gateway.errors import FailedPrecondition, Violations
from gateway.policy.registry import PolicyRegistry
from gateway.records.analytics import (
    ActivePoint,
    FunnelDay,
    ProductSales,
    SalesRow,
    SalesSummary,
    Window,
)
from gateway.storage.clickhouse import reports
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsUnavailable, QueryResult
from gateway.telemetry import db_attributes, tracer

DOMAIN = "analytics"
MAX_RANGE_DAYS = 400
MAX_RANGE_MS = MAX_RANGE_DAYS * 86_400_000
DEFAULT_TOP = 10

_Rows = TypeVar("_Rows", bound=Sized)


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

    async def _report(self, name: str, read: Callable[[AnalyticsStore], Awaitable[_Rows]]
                      ) -> _Rows:
        """One statement of report `name` in its client span; `read` gets the
        store inside it, so a missing store fails in the span too."""
        # A report runs statements of its own: its name, not a table, is the summary.
        summary = f"report {name}"
        with tracer.start_as_current_span(summary, kind=SpanKind.CLIENT, attributes={
                **db_attributes("clickhouse", summary, "", None), "datagw.report": name,
        }) as span:
            try:
                rows = await read(self.store)
            except AnalyticsUnavailable as exc:
                raise unavailable() from exc
            span.set_attribute("datagw.rows", len(rows))
            return rows

    # -- ingest -------------------------------------------------------------

    async def ingest(self, messages: AsyncIterator[Sequence[BehaviourEvent]]) -> IngestResult:
        retention = self._policies.get(DOMAIN).retention_s("clickstream")
        return await analytics_ingest.ingest(self.store, retention, messages)

    # -- reports ------------------------------------------------------------

    async def sales_summary(self, start_ms: int | None, end_ms: int | None, hourly: bool,
                            currency: str, category: str, by_category: bool) -> SalesSummary:
        # currency_code, category: SalesSummaryRequest's rules in proto/.
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        assert start_ms is not None and end_ms is not None  # checked above
        rows = await self._report("SalesSummary", lambda store: reports.sales(
            store, start_ms, end_ms, hourly, currency, category, by_category))
        total = next((r for r in rows if r.bucket is None), SalesRow(None, "", 0, 0, 0))
        # A bucket whose orders were all cancelled nets to nothing.
        buckets = [r for r in rows
                   if r.bucket is not None and (r.orders or r.units or r.revenue_minor)]
        return SalesSummary(currency, buckets, total)

    async def top_products(self, start_ms: int | None, end_ms: int | None, by_units: bool,
                           currency: str, category: str, limit: int) -> list[ProductSales]:
        # currency_code, category, limit: TopProductsRequest's rules in proto/.
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        assert start_ms is not None and end_ms is not None  # checked above
        ranked = await self._report("TopProducts", lambda store: reports.top_products(
            store, start_ms, end_ms, by_units, currency, category, limit or DEFAULT_TOP))
        if not ranked:
            return []
        names = await self._report("TopProducts titles", lambda store: reports.latest_names(
            store, currency, category, ranked))
        return [ProductSales(p.sku, *names[p.sku], p.units, p.revenue_minor, p.orders)
                for p in ranked]

    async def conversion_funnel(self, start_ms: int | None, end_ms: int | None
                                ) -> list[FunnelDay]:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        assert start_ms is not None and end_ms is not None  # checked above
        return await self._report("ConversionFunnel",
                                  lambda store: reports.funnel(store, start_ms, end_ms))

    async def active_users(self, start_ms: int | None, end_ms: int | None, window: Window
                           ) -> list[ActivePoint]:
        v = Violations()
        _check_range(v, start_ms, end_ms)
        v.raise_if_any()
        assert start_ms is not None and end_ms is not None  # checked above
        return await self._report("ActiveUsers", lambda store: reports.active_users(
            store, start_ms, end_ms, window))

    # -- RunQuery -----------------------------------------------------------

    async def run_query(self, sql: str, parameters: dict[str, str], max_rows: int,
                        timeout_s: float | None) -> QueryResult:
        policy = self._policies.get(DOMAIN).query
        assert policy is not None, "the analytics policy's query section is validated at load"
        # The caller's statement is not a bounded name: the span says RunQuery.
        with tracer.start_as_current_span("RunQuery", kind=SpanKind.CLIENT, attributes={
                **db_attributes("clickhouse", "RunQuery", "", None),
                "datagw.report": "RunQuery"}) as span:
            result = await analytics_query.run_query(
                self.store, policy, QueryRequest(sql, parameters, max_rows, timeout_s))
            span.set_attribute("datagw.rows", len(result.rows))
            return result
