"""EXPLAIN ANALYZE of search requests, with the gateway's own SQL.

The query text is built by gateway.storage.postgres.catalog_store.search_products
itself: it is handed a connection whose fetch() runs EXPLAIN on the statement
instead, so the plan is of exactly the SQL the gateway sends.

Two plans per request: the custom plan (parameters known to the planner, as
on the first five executions of a prepared statement) and the generic plan
(what PostgreSQL's plan cache may switch to from the sixth execution on: the
gateway's asyncpg connections prepare and cache every statement, so a
frequently run search shape ends up there).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from typing import Any

import asyncpg
from datagw.v1 import catalog_pb2

from gateway.api.catalog import _SORTS
from gateway.domain.catalog.rules import DEFAULT_PAGE_SIZE
from gateway.domain.catalog.service import CatalogDomain
from gateway.records.catalog import SearchQuery
from gateway.storage.postgres import catalog_store


class _ExplainingConnection:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self.sql = ""
        self.params: tuple[Any, ...] = ()
        self.plan: list[str] = []

    def transaction(self, **options: Any) -> Any:
        return self._conn.transaction(**options)

    async def execute(self, sql: str, *params: Any) -> str:
        # Session settings the gateway makes around its search (plan_cache_mode).
        return str(await self._conn.execute(sql, *params))

    async def fetch(self, sql: str, *params: Any) -> list[Any]:
        if not sql.startswith("SELECT sku"):
            # What the search reads first (its language and the query's
            # words with their corrections, search_words.query_terms) runs
            # as it is; the search itself is the statement reading products.
            return list(await self._conn.fetch(sql, *params))
        self.sql, self.params = sql, params
        rows = await self._conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
        self.plan = [r[0] for r in rows]
        return []


def search_query(request: catalog_pb2.SearchProductsRequest) -> SearchQuery:
    """The SearchQuery the gateway builds for this request (cursor included)."""
    q = SearchQuery(
        text=request.query.strip(), category=request.category, brand=request.brand,
        min_price=request.min_price_minor if request.HasField("min_price_minor") else None,
        max_price=request.max_price_minor if request.HasField("max_price_minor") else None,
        sort=_SORTS.get(request.sort, "relevance"),
        limit=request.page_size or DEFAULT_PAGE_SIZE,
        include_inactive=request.include_inactive,
    )
    if request.page_token:
        # The token was issued for this very request, so its fingerprint is not rechecked.
        token = request.page_token
        body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        q = replace(q, after=CatalogDomain._cursor_key(q, body["k"]))
    return q


def _execution_ms(plan: list[str]) -> float | None:
    m = re.search(r"Execution Time: ([\d.]+) ms", "\n".join(plan))
    return float(m.group(1)) if m else None


async def explain(dsn: str, request: catalog_pb2.SearchProductsRequest) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        shim = _ExplainingConnection(conn)
        await catalog_store.search_products(shim, search_query(request))  # type: ignore[arg-type]
        await conn.execute(f"PREPARE bench_search AS {shim.sql}")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        # EXECUTE takes no bind parameters: the values go in as quoted literals,
        # which PostgreSQL coerces to the prepared statement's parameter types.
        args = [await conn.fetchval("SELECT quote_literal($1::text)", str(p))
                for p in shim.params]
        generic = [r[0] for r in await conn.fetch(
            f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_search({', '.join(args)})")]
    finally:
        await conn.close()
    return {
        "sql": shim.sql,
        "params": [str(p) for p in shim.params],
        "execution_ms": _execution_ms(shim.plan),
        "plan": shim.plan,
        "generic_execution_ms": _execution_ms(generic),
        "generic_plan": generic,
    }
