"""The statements RunQuery sends for a caller's query: ClickHouse parses it
to its canonical text, explains that text (as dumps the domain checks) and
runs it under limits. Only the canonical text is explained and run, so what
is checked is what executes."""

from __future__ import annotations

from gateway.storage.clickhouse.store import AnalyticsStore, Params, QueryResult, Settings


async def _lines(store: AnalyticsStore, sql: str, params: Params) -> list[str]:
    result = await store.query(sql, params)
    return [str(row[0]) for row in result.rows]


async def canonical(store: AnalyticsStore, sql: str) -> str:
    """ClickHouse's canonical form of `sql`. The text is bound as a value, so
    nothing of it runs; more than one statement, or none, fails here."""
    return (await _lines(store, "SELECT formatQuery({sql:String})", {"sql": sql}))[0]


async def explain_ast(store: AnalyticsStore, canonical: str, params: Params) -> list[str]:
    """The lines of the statement's EXPLAIN AST dump."""
    return await _lines(store, f"EXPLAIN AST {canonical}", params)


async def explain_query_tree(store: AnalyticsStore, canonical: str, params: Params
                             ) -> list[str]:
    """The lines of the analyzer's query tree before it resolves anything
    (run_passes = 0), so nothing is read or executed."""
    return await _lines(store, f"EXPLAIN QUERY TREE run_passes = 0 {canonical}", params)


async def run_read_only(store: AnalyticsStore, canonical: str, params: Params, max_rows: int,
                        timeout_s: float, max_memory_bytes: int) -> QueryResult:
    """Run the statement read-only, in UTC, stopped after `timeout_s`, failed
    (never cut) past `max_rows` and past `max_memory_bytes` of memory. It runs
    wrapped as a subquery so the limits bind the whole statement (a UNION's
    trailing SETTINGS would bind only its last SELECT)."""
    settings: Settings = {
        "max_execution_time": timeout_s, "max_result_rows": max_rows,
        "result_overflow_mode": "throw", "max_memory_usage": max_memory_bytes,
        "session_timezone": "UTC", "readonly": 1}
    return await store.query(f"SELECT * FROM (\n{canonical}\n)", params, settings)
