"""AnalyticsService.RunQuery on the embedded ClickHouse engine: good queries
with parameters and typed values, and every kind of refusal with its reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from datagw.v1 import analytics_pb2, analytics_pb2_grpc
from google.protobuf.json_format import MessageToDict
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.server import Gateway
from tests.analytics import SOURCE, analytics_store
from tests.helpers import fails, invalid

MARK = datetime(2026, 1, 15, 10, 30, 0, 123000, tzinfo=UTC)


@pytest.fixture(scope="module")
def analytics(channel: grpc.aio.Channel) -> analytics_pb2_grpc.AnalyticsServiceStub:
    return analytics_pb2_grpc.AnalyticsServiceStub(channel)


@pytest.fixture(scope="module")
async def orders_of(gateway: Gateway) -> str:
    """Three order rows under a currency nobody else uses; the currency."""
    store = analytics_store(gateway)
    currency = "XTS"
    await store.insert("orders", ("order_id", "user_id", "occurred_at", "currency", "total_minor",
                                  "items", "sign", "keyspace", "shard", "position"),
                       [(f"q-{n}-{uuid.uuid4().hex[:6]}", f"user-{n}", MARK, currency,
                         1000 * (n + 1), 1, 1, SOURCE, 0, n) for n in range(3)])
    return currency


def query(sql: str, max_rows: int = 0, timeout_s: float | None = None,
          **parameters: str) -> analytics_pb2.RunQueryRequest:
    request = analytics_pb2.RunQueryRequest(sql=sql, parameters=parameters, max_rows=max_rows)
    if timeout_s is not None:
        request.timeout.FromMilliseconds(int(timeout_s * 1000))
    return request


def reason(failure: object) -> str:
    info = getattr(failure, "error_info", None)
    assert info is not None
    return str(info.reason)


async def test_the_service_serves_while_its_store_answers(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    response = await health.Check(health_pb2.HealthCheckRequest(
        service="datagw.v1.AnalyticsService"))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_select_with_parameters_returns_typed_rows(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, orders_of: str
) -> None:
    response = await analytics.RunQuery(query(
        "SELECT user_id, total_minor, occurred_at FROM orders "
        "WHERE currency = {currency:String} AND total_minor >= {least:Int64} "
        "ORDER BY total_minor DESC", currency=orders_of, least="2000"))
    assert [(c.name, c.type) for c in response.columns] == [
        ("user_id", "String"), ("total_minor", "Int64"), ("occurred_at", "DateTime64(3, 'UTC')")]
    rows = [MessageToDict(r)["values"] for r in response.rows]
    assert rows == [["user-2", 3000, "2026-01-15T10:30:00.123000Z"],
                    ["user-1", 2000, "2026-01-15T10:30:00.123000Z"]]


async def test_values_that_json_cannot_carry_exactly_come_as_strings(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    response = await analytics.RunQuery(query(
        "SELECT 18446744073709551615 AS big, toUInt64(9007199254740992) AS edge, 1.5 AS half, "
        "toDecimal64(12.30, 2) AS price, toDate('2026-02-03') AS day, NULL AS nothing, "
        "toDateTime('2026-02-03 04:05:06') AS naive, [1, 2] AS list, map('k', 'v') AS m, "
        "{tags:Array(String)} AS tags", tags="['a','b c']"))
    values = MessageToDict(response.rows[0])["values"]
    assert values == ["18446744073709551615", 9007199254740992, 1.5, "12.30", "2026-02-03", None,
                      "2026-02-03T04:05:06Z", [1, 2], {"k": "v"}, ["a", "b c"]]


async def test_ctes_unions_and_numbers_are_allowed(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, orders_of: str
) -> None:
    response = await analytics.RunQuery(query(
        "WITH mine AS (SELECT * FROM datagw.orders WHERE currency = {c:String}) "
        "SELECT count() FROM mine UNION ALL SELECT count() FROM numbers(7)", c=orders_of))
    counts = sorted(r.values[0].number_value for r in response.rows)
    assert counts == [3, 7]


async def test_a_missing_or_unparsable_parameter_is_named(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    await invalid(analytics.RunQuery(query("SELECT {a:UInt8} + {b:UInt8}", a="1")),
                  "parameters['b']")
    failure = await invalid(analytics.RunQuery(query("SELECT {a:UInt8}", a="many")),
                            "parameters['a']")
    assert "UInt8" in failure.bad_request.field_violations[0].description  # type: ignore[union-attr]
    # Types that fail with codes of their own are named on the parameter too.
    await invalid(analytics.RunQuery(query("SELECT {d:DateTime64(3)}", d="garbage")),
                  "parameters['d']")
    await invalid(analytics.RunQuery(query("SELECT {a:Array(UInt8)}", a="x")), "parameters['a']")


async def test_integer_parameters_out_of_their_range_are_refused_not_wrapped(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    # ClickHouse alone would read UInt8 '300' as 44.
    failure = await invalid(analytics.RunQuery(query("SELECT {a:UInt8} AS a", a="300")),
                            "parameters['a']")
    assert "from 0 to 255 (UInt8)" in failure.message
    await invalid(analytics.RunQuery(query("SELECT {a:Int8} AS a", a="-129")), "parameters['a']")
    await invalid(analytics.RunQuery(query("SELECT {a:UInt32} AS a", a="-1")), "parameters['a']")
    await invalid(analytics.RunQuery(query("SELECT {a:Int64} AS a", a="1_000")),
                  "parameters['a']")
    edge = await analytics.RunQuery(query("SELECT {a:UInt8} AS a, {b:Int8} AS b", a="255",
                                          b="-128"))
    assert [MessageToDict(r)["values"] for r in edge.rows] == [[255, -128]]


@pytest.mark.parametrize(("sql", "statement"), [
    ("INSERT INTO orders (order_id) VALUES ('x')", "INSERT"),
    ("INSERT INTO orders SELECT * FROM orders", "INSERT"),
    ("ALTER TABLE orders DELETE WHERE 1", "ALTER"),
    ("ALTER TABLE orders UPDATE user_id = '' WHERE 1", "ALTER"),
    ("DROP TABLE orders", "DROP"),
    ("TRUNCATE TABLE clickstream", "TRUNCATE"),
    ("CREATE TABLE stolen ENGINE = Memory AS SELECT * FROM orders", "CREATE"),
    ("CREATE TABLE stolen (a Int8) ENGINE = Memory", "CREATE"),
    ("OPTIMIZE TABLE orders FINAL", "OPTIMIZE"),
])
async def test_writes_and_ddl_are_refused(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, gateway: Gateway, sql: str,
    statement: str
) -> None:
    store = analytics_store(gateway)
    failure = await invalid(analytics.RunQuery(query(sql)), "sql")
    assert reason(failure) == "QUERY_NOT_READ_ONLY"
    assert failure.error_info is not None
    assert failure.error_info.metadata["statement"] == statement
    tables = await store.query("SELECT name FROM system.tables WHERE database = currentDatabase()")
    assert {"orders", "clickstream"} <= {row[0] for row in tables.rows}
    assert "stolen" not in {row[0] for row in tables.rows}


@pytest.mark.parametrize(("sql", "table"), [
    ("SELECT name FROM system.tables", "system.tables"),
    ("SELECT * FROM information_schema.tables", "information_schema.tables"),
    ("SELECT 1 FROM orders WHERE order_id IN system.users", "system.users"),
    ("SELECT count() FROM relay_checkpoints", "relay_checkpoints"),
    ("SELECT count() FROM other.orders", "other.orders"),
    # A CTE's own name inside its body is the table, not the CTE.
    ("WITH secret AS (SELECT * FROM secret) SELECT * FROM secret", "secret"),
    ("SELECT * FROM orders WHERE user_id IN (SELECT name FROM system.users)", "system.users"),
    # system.one too, however it is named; a SELECT without FROM reads it
    # internally and still runs (below).
    ("SELECT 1 FROM system.one", "system.one"),
    ("SELECT dummy FROM system.one AS o", "system.one"),
    ("SELECT * FROM (SELECT 1 FROM system.one)", "system.one"),
    ("SELECT 1 WHERE 1 IN system.one", "system.one"),
    ("SELECT count() FROM orders WHERE 0 IN system.one", "system.one"),
    ('SELECT 1 FROM "system"."one"', "system.one"),
    ("SELECT system.one.dummy", "system.one.dummy"),
])
async def test_tables_outside_the_policy_are_refused(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, sql: str, table: str
) -> None:
    failure = await invalid(analytics.RunQuery(query(sql)), "sql")
    assert reason(failure) == "TABLE_NOT_ALLOWED"
    assert failure.error_info is not None and failure.error_info.metadata["table"] == table


async def test_a_select_without_from_still_runs(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    # What system.one gave: one row, here without naming a table at all.
    response = await analytics.RunQuery(query(
        "SELECT 1 AS a, (SELECT 2) AS b UNION ALL SELECT 3, 4"))
    assert sorted(MessageToDict(r)["values"] for r in response.rows) == [[1, 2], [3, 4]]


@pytest.mark.parametrize(("sql", "why", "name"), [
    ("SELECT * FROM url('http://127.0.0.1:9/x', CSV, 'a Int')", "TABLE_FUNCTION_NOT_ALLOWED",
     "url"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "TABLE_FUNCTION_NOT_ALLOWED", "remote"),
    ("SELECT * FROM merge('datagw', '.*')", "TABLE_FUNCTION_NOT_ALLOWED", "merge"),
    ("SELECT file('/etc/hostname')", "FUNCTION_NOT_ALLOWED", "file"),
    ("SELECT dictGet('d', 'a', toUInt64(1))", "FUNCTION_NOT_ALLOWED", "dictGet"),
    ("SELECT sleepEachRow(1) FROM numbers(3)", "FUNCTION_NOT_ALLOWED", "sleepEachRow"),
    # What describes the server rather than the data.
    ("SELECT version()", "FUNCTION_NOT_ALLOWED", "version"),
    ("SELECT count() FROM orders WHERE hostName() != ''", "FUNCTION_NOT_ALLOWED", "hostName"),
    ("SELECT getSetting('max_memory_usage')", "FUNCTION_NOT_ALLOWED", "getSetting"),
    ("SELECT currentUser(), uptime()", "FUNCTION_NOT_ALLOWED", "currentUser"),
])
async def test_functions_reaching_outside_are_refused(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, sql: str, why: str, name: str
) -> None:
    failure = await invalid(analytics.RunQuery(query(sql)), "sql")
    assert reason(failure) == why
    assert failure.error_info is not None and failure.error_info.metadata["function"] == name


async def test_more_than_one_statement_is_refused_and_none_runs(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, gateway: Gateway, orders_of: str
) -> None:
    failure = await invalid(analytics.RunQuery(query("SELECT 1; DROP TABLE orders")), "sql")
    assert reason(failure) == "MULTIPLE_STATEMENTS"
    # The caller's text never reaches the engine as statements: a parameter
    # with what would be SQL after %-formatting stays a string.
    response = await analytics.RunQuery(query(
        "SELECT '%(x)s' AS text, count() AS n FROM orders WHERE currency = {c:String}",
        x="'; DROP TABLE orders; --", c=orders_of))
    assert MessageToDict(response.rows[0])["values"] == ["%(x)s", 3]


@pytest.mark.parametrize(("sql", "why"), [
    ("SELECT 1 SETTINGS readonly = 0", "SETTINGS_NOT_ALLOWED"),
    ("SELECT * FROM (SELECT 1 SETTINGS max_threads = 64)", "SETTINGS_NOT_ALLOWED"),
    ("SET readonly = 0", "SETTINGS_NOT_ALLOWED"),
    ("SELECT 1 FORMAT JSON", "FORMAT_NOT_ALLOWED"),
    ("SHOW TABLES", "NOT_A_SELECT"),
    ("EXPLAIN SELECT 1", "NOT_A_SELECT"),
    ("SELECT * FROM `orders`` x`", "QUOTED_IDENTIFIER_NOT_ALLOWED"),
    ("SELEC 1", "SQL_SYNTAX_ERROR"),
    ("SELECT no_such_column FROM orders", "QUERY_FAILED"),
])
async def test_other_refusals_say_why(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, sql: str, why: str
) -> None:
    failure = await invalid(analytics.RunQuery(query(sql)), "sql")
    assert reason(failure) == why


async def test_into_outfile_is_refused_and_writes_nothing(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub, tmp_path: Path
) -> None:
    target = tmp_path / "leak.csv"
    failure = await invalid(analytics.RunQuery(query(f"SELECT 1 INTO OUTFILE '{target}'")),
                            "sql")
    assert reason(failure) == "INTO_OUTFILE_NOT_ALLOWED"
    assert not target.exists()


async def test_an_oversized_result_is_refused_never_cut(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    failure = await fails(analytics.RunQuery(query("SELECT number FROM numbers(11)", max_rows=10)),
                          grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert reason(failure) == "RESULT_TOO_LARGE"
    assert failure.error_info is not None and failure.error_info.metadata["max_rows"] == "10"
    # A UNION is limited as a whole, not only its last SELECT.
    failure = await fails(analytics.RunQuery(query(
        "SELECT number FROM numbers(20) UNION ALL SELECT 1", max_rows=10)),
        grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert reason(failure) == "RESULT_TOO_LARGE"
    exact = await analytics.RunQuery(query("SELECT number FROM numbers(10)", max_rows=10))
    assert len(exact.rows) == 10
    await invalid(analytics.RunQuery(query("SELECT 1", max_rows=10_001)), "max_rows")


async def test_a_query_over_its_memory_is_stopped(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    # 100 million UInt64 in one array: about 800 MB, over the policy's 256 MiB.
    failure = await fails(analytics.RunQuery(query(
        "SELECT length(groupArray(number)) AS n FROM numbers(100000000)")),
        grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert reason(failure) == "QUERY_MEMORY_LIMIT"
    # The gateway serves on: a small query answers.
    small = await analytics.RunQuery(query("SELECT length(groupArray(number)) AS n "
                                           "FROM numbers(1000)"))
    assert MessageToDict(small.rows[0])["values"] == [1000]


async def test_a_query_over_its_time_is_stopped(
    analytics: analytics_pb2_grpc.AnalyticsServiceStub
) -> None:
    failure = await fails(analytics.RunQuery(query(
        "SELECT count() FROM numbers(1000000000000)", timeout_s=0.2)),
        grpc.StatusCode.DEADLINE_EXCEEDED)
    assert reason(failure) == "QUERY_TIMEOUT"
    await invalid(analytics.RunQuery(query("SELECT 1", timeout_s=11)), "timeout")
