"""One suite for every AnalyticsStore backend: the gateway's SQL must mean the
same on each.

Backends:
- embedded: the server backend (clickhouse-connect over HTTP) against
  embedded mode's analytics engine process (gateway/runtime/embedded/
  analytics_server.py, chdb behind a subset of the HTTP interface), with its
  password, as embedded mode runs it (always). It is not a ClickHouse
  server: it proves the HTTP code path (requests, URL settings and
  parameters, compressed Native bodies, errors from the response) against
  ClickHouse's engine; settings scoping is chdb's.
- server: the server backend against the ClickHouse server at
  DATAGW_TEST_CLICKHOUSE_URL (optional DATAGW_TEST_CLICKHOUSE_USER and
  DATAGW_TEST_CLICKHOUSE_PASSWORD); skipped when it is not set.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.policy.model import DomainPolicy
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.embedded.analytics import EmbeddedAnalytics
from gateway.runtime.services import POLICY_CATALOG
from gateway.storage.clickhouse.client import ClientStore
from gateway.storage.clickhouse.reports import top_params, top_sql
from gateway.storage.clickhouse.schema import PRODUCT_DAYS, TABLES, ensure_schema
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from gateway.storage.clickhouse.store import (
    AnalyticsStore,
    AnalyticsStoreError,
    AnalyticsUnavailable,
    ParamText,
    Settings,
)

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "datagw_conformance"
READONLY, TOO_MANY_ROWS, TIMEOUT_EXCEEDED = 164, 396, 159
UNKNOWN_TABLE, SYNTAX_ERROR, FUNCTION_THROW = 60, 62, 395
SERVER_URL = os.environ.get("DATAGW_TEST_CLICKHOUSE_URL")


@pytest.fixture(scope="module")
def policy() -> DomainPolicy:
    return PolicyRegistry(ROOT / "policies", POLICY_CATALOG).get("analytics")


@pytest.fixture(scope="module")
def engine() -> Iterator[EmbeddedAnalytics]:
    with tempfile.TemporaryDirectory(prefix="datagw-conformance-") as data:
        with EmbeddedAnalytics(Path(data) / "clickhouse") as running:
            yield running


def _open(kind: str, request: pytest.FixtureRequest) -> ClientStore:
    if kind == "embedded":
        engine: EmbeddedAnalytics = request.getfixturevalue("engine")
        return engine.store(DATABASE)
    if SERVER_URL is None:
        pytest.skip("no ClickHouse server: set DATAGW_TEST_CLICKHOUSE_URL=http://host:8123 "
                    "(the embedded case runs the same code path against chdb)")
    return ClickHouseServerStore(
        SERVER_URL, f"{DATABASE}_{uuid.uuid4().hex[:8]}",
        os.environ.get("DATAGW_TEST_CLICKHOUSE_USER", "default"),
        os.environ.get("DATAGW_TEST_CLICKHOUSE_PASSWORD", ""))


@pytest.fixture(scope="module", params=["embedded", "server"])
async def store(request: pytest.FixtureRequest,
                policy: DomainPolicy) -> AsyncIterator[AnalyticsStore]:
    s = _open(request.param, request)
    await s.command(f"DROP DATABASE IF EXISTS {DATABASE}")  # a previous run's leftovers
    s.close()  # reconnecting creates the database afresh
    await ensure_schema(s, dict(policy.retention))
    try:
        yield s
    finally:
        await s.command(f"DROP DATABASE IF EXISTS {s.database}")
        s.close()


def at_ms(value: datetime) -> datetime:
    """DateTime64(3) keeps milliseconds."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def tag() -> str:
    return f"u-{uuid.uuid4().hex[:12]}"


CLICK_COLUMNS = ("event_id", "event_type", "occurred_at", "user_id", "session_id", "sku",
                 "query", "page", "quantity", "properties", "ingested_at")


def click_row(user: str, n: int = 0) -> tuple[object, ...]:
    now = datetime.now(UTC)
    return (uuid.uuid4(), "page_view", now - timedelta(seconds=n), user, "s1", "sku-1", "",
            "/", n, {}, now)


async def count(store: AnalyticsStore, table: str, user: str) -> int:
    result = await store.query(f"SELECT count() FROM {table} WHERE user_id = {{u:String}}",
                               {"u": user})
    return int(result.rows[0][0])


# -- schema ---------------------------------------------------------------


async def test_schema_is_idempotent_and_as_specified(
        store: AnalyticsStore, policy: DomainPolicy) -> None:
    assert await ensure_schema(store, dict(policy.retention)) == []
    assert await ensure_schema(store, dict(policy.retention)) == []
    tables = await store.query(
        "SELECT name, partition_key, sorting_key FROM system.tables "
        "WHERE database = currentDatabase() ORDER BY name")
    keys = {row[0]: (row[1], row[2]) for row in tables.rows}
    assert set(keys) == {t.name for t in TABLES}
    assert keys["clickstream"] == ("toYYYYMMDD(occurred_at)", "event_type, occurred_at")
    assert keys["orders"] == ("toYYYYMM(occurred_at)", "currency, occurred_at, order_id")
    assert keys["order_lines"] == ("toYYYYMM(occurred_at)", "currency, occurred_at, sku")
    products = await store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'order_lines' AND name IN ('sku', 'title', 'category') ORDER BY name")
    assert products.rows == [(name, "LowCardinality(String)")
                             for name in ("category", "sku", "title")]
    # Erasure rewrites user_id: it must never be part of a key.
    assert all("user_id" not in part for pair in keys.values() for part in pair)
    types = await store.query(
        "SELECT name, type FROM system.columns "
        "WHERE database = currentDatabase() AND table = 'clickstream' ORDER BY position")
    assert dict(types.rows) == {
        "event_id": "UUID", "event_type": "LowCardinality(String)",
        "occurred_at": "DateTime64(3, 'UTC')", "user_id": "String", "session_id": "String",
        "sku": "String", "query": "String", "page": "String", "quantity": "Int64",
        "properties": "Map(String, String)", "ingested_at": "DateTime64(3, 'UTC')"}


async def test_schema_moves_columns_an_earlier_build_typed_otherwise(
        store: AnalyticsStore, policy: DomainPolicy) -> None:
    user = tag()
    # order_lines as an earlier build of this release created it: no
    # projection, String products.
    await store.command(f"ALTER TABLE order_lines DROP PROJECTION {PRODUCT_DAYS}",
                        settings={"mutations_sync": 2})
    for column in ("sku", "title"):
        await store.command(f"ALTER TABLE order_lines MODIFY COLUMN {column} String",
                            settings={"mutations_sync": 2})
    columns = ("order_id", "line", "user_id", "occurred_at", "sku", "title")
    now = at_ms(datetime.now(UTC))
    await store.insert("order_lines", columns, [("o-old", 1, user, now, "sku-old", "Old title")])
    # Types first: ClickHouse refuses to retype a column a projection uses.
    assert await ensure_schema(store, dict(policy.retention)) == [
        "order_lines.sku: String -> LowCardinality(String)",
        "order_lines.title: String -> LowCardinality(String)",
        f"order_lines: projection {PRODUCT_DAYS} added"]
    # The existing parts get it by a mutation in the background.
    mutations = await store.query(
        "SELECT command FROM system.mutations WHERE database = currentDatabase() "
        "AND table = 'order_lines'")
    assert any(f"MATERIALIZE PROJECTION {PRODUCT_DAYS}" in str(row[0]) for row in mutations.rows)
    types = await store.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
        "AND table = 'order_lines' AND name IN ('sku', 'title') ORDER BY name")
    assert types.rows == [("sku", "LowCardinality(String)"), ("title", "LowCardinality(String)")]
    # The rows are kept, and new ones go in with the new types.
    await store.insert("order_lines", columns, [("o-new", 1, user, now, "sku-new", "New title")])
    lines = await store.query("SELECT sku, title FROM order_lines WHERE user_id = {u:String} "
                              "ORDER BY sku", {"u": user})
    assert lines.rows == [("sku-new", "New title"), ("sku-old", "Old title")]
    assert await ensure_schema(store, dict(policy.retention)) == []


async def test_top_products_reads_whole_days_from_the_projection_with_the_same_sums(
        store: AnalyticsStore) -> None:
    # Its own currency, so other tests' lines are not in its sums.
    currency = "X" + uuid.uuid4().hex[:2].upper()
    day0 = datetime(2026, 3, 1, tzinfo=UTC)
    lines = []
    for n in range(200):  # four days and a bit, a line every 30 minutes
        at = day0 + timedelta(minutes=30 * n + 7)
        sku, quantity = f"sku-{n % 7}", 1 + n % 4
        lines.append((f"o{n}", 1, "u", at, currency, sku, f"T{n % 7}", f"c{n % 2}",
                      quantity, quantity * 250, 1, "conformance", 0, n))
        if n % 5 == 0:  # cancelled: the placement's copy with sign -1
            lines.append((*lines[-1][:10], -1, "conformance", 0, 1000 + n))
    await store.insert("order_lines", (
        "order_id", "line", "user_id", "occurred_at", "currency", "sku", "title", "category",
        "quantity", "revenue_minor", "sign", "keyspace", "shard", "position"), lines)
    # A range from mid-day to mid-day: three whole days and two partial ones.
    start, end = day0 + timedelta(hours=9, minutes=10), day0 + timedelta(days=4, hours=2)
    for category in ("", "c1"):
        sql = top_sql(False, category)
        params = top_params(int(start.timestamp() * 1000), int(end.timestamp() * 1000),
                            currency, category, 5)
        assert params["days_to_ms"] - params["days_from_ms"] == 3 * 86_400_000
        plan = await store.query(f"EXPLAIN {sql}", params)
        reads = [str(row[0]).split("ReadFromMergeTree ")[1] for row in plan.rows
                 if "ReadFromMergeTree" in str(row[0])]
        # Whole days from the projection, the edges from the lines.
        assert sorted(reads) == [f"({store.database}.order_lines)", f"({PRODUCT_DAYS})"], reads
        used = await store.query(sql, params)
        rows = await store.query(sql, params, {"optimize_use_projections": 0})
        assert used.rows == rows.rows and len(used.rows) == 5, category
        # ... and what Python makes of the lines.
        net: dict[str, list[int]] = {}
        for (_, _, _, at, _, sku, _, cat, quantity, revenue, sign, *_) in lines:
            if start <= at < end and category in ("", cat):
                sums = net.setdefault(sku, [0, 0, 0])
                sums[0] += sign * quantity
                sums[1] += sign * revenue
                sums[2] += sign
        ranked = sorted(((sku, sums) for sku, sums in net.items() if sums[0] > 0),
                        key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))[:5]
        assert [row[:4] for row in used.rows] == [(sku, *sums) for sku, sums in ranked]


async def ttl_of(store: AnalyticsStore, table: str) -> str:
    result = await store.query(
        "SELECT engine_full FROM system.tables "
        "WHERE database = currentDatabase() AND name = {t:String}", {"t": table})
    engine = str(result.rows[0][0])
    return engine.split(" TTL ", 1)[1].split(" SETTINGS ", 1)[0] if " TTL " in engine else ""


async def test_ttl_follows_the_policy(store: AnalyticsStore, policy: DomainPolicy) -> None:
    assert await ttl_of(store, "clickstream") == "occurred_at + toIntervalSecond(7776000)"  # 90d
    assert await ttl_of(store, "orders") == "occurred_at + toIntervalSecond(63072000)"  # 730d
    shorter = dataclasses.replace(policy, retention=(("domain_events", 400 * 86400.0),))
    try:
        changes = await ensure_schema(store, dict(shorter.retention))
        assert sorted(c.split(":")[0] for c in changes) == [
            "clickstream", "domain_events", "order_lines", "orders"]
        assert await ttl_of(store, "orders") == "occurred_at + toIntervalSecond(34560000)"
        # No retention for the clickstream any more: kept for ever.
        assert await ttl_of(store, "clickstream") == ""
    finally:
        await ensure_schema(store, dict(policy.retention))
    assert await ttl_of(store, "clickstream") == "occurred_at + toIntervalSecond(7776000)"


# -- values ---------------------------------------------------------------


async def test_every_column_type_round_trips(store: AnalyticsStore) -> None:
    user = tag()
    when = at_ms(datetime.now(UTC) - timedelta(days=3))
    event_id = uuid.uuid4()
    text = "it's \\ \"quoted\"\n\ttabbed, ünïcode ✓"
    await store.insert(
        "domain_events",
        ("keyspace", "shard", "commit", "position", "event_id", "stream_id", "stream_revision",
         "event_type", "occurred_at", "user_id", "payload"),
        [("commerce", 65535, 2**63 + 5, -7, event_id, "order-1", 3, "OrderPlaced", when, user,
          text)])
    row = (await store.query(
        "SELECT keyspace, shard, commit, position, event_id, stream_id, stream_revision, "
        "event_type, occurred_at, user_id, payload FROM domain_events "
        "WHERE user_id = {u:String}", {"u": user})).rows
    assert row == [("commerce", 65535, 2**63 + 5, -7, event_id, "order-1", 3, "OrderPlaced",
                    when, user, text)]

    click_id = uuid.uuid4()
    props = {"ref": "mail", "q'": "a\\b"}
    # A UUID may come as text; a datetime with microseconds keeps milliseconds.
    await store.insert("clickstream", CLICK_COLUMNS, [
        (str(click_id), "search", when.replace(microsecond=when.microsecond + 999), user, "s-9",
         "", "red shoes", "/search", -1, props, when)])
    clicks = await store.query(
        "SELECT event_id, event_type, occurred_at, quantity, properties, properties['ref'] "
        "FROM clickstream WHERE user_id = {u:String}", {"u": user})
    assert clicks.rows == [(click_id, "search", when, -1, props, "mail")]
    assert clicks.types == ("UUID", "LowCardinality(String)", "DateTime64(3, 'UTC')", "Int64",
                            "Map(String, String)", "String")

    await store.insert(
        "order_lines",
        ("order_id", "line", "user_id", "occurred_at", "currency", "sku", "title", "category",
         "quantity", "revenue_minor", "sign", "keyspace", "shard", "position"),
        [("o-1", 1, user, when, "EUR", "sku-1", text, "shoes", 2, 5000, 1, "commerce", 1, 10),
         ("o-1", 1, user, when, "EUR", "sku-1", text, "shoes", 2, 5000, -1, "commerce", 1, 11)])
    net = await store.query(
        "SELECT sum(sign * revenue_minor), sum(sign * quantity), any(title) FROM order_lines "
        "WHERE user_id = {u:String}", {"u": user})
    assert net.rows == [(0, 0, text)]


async def test_an_insert_of_many_blocks_lands_whole(store: AnalyticsStore) -> None:
    # About 8 MB of rows: clickhouse-connect sends them as several blocks
    # (about 2 MB each), each compressed on its own; every one must land.
    user, rows = tag(), 20_000
    now = datetime.now(UTC)
    await store.insert("clickstream", CLICK_COLUMNS, [
        (uuid.uuid4(), "page_view", now, user, "s1", f"sku-{n}", "", f"/p/{n}", n,
         {"filler": uuid.uuid4().hex * 8}, now) for n in range(rows)])
    result = await store.query(
        "SELECT count(), sum(quantity) FROM clickstream WHERE user_id = {u:String}", {"u": user})
    assert result.rows == [(rows, rows * (rows - 1) // 2)]


async def test_parameters_bind_typed_values(store: AnalyticsStore) -> None:
    when = at_ms(datetime(2024, 2, 29, 23, 59, 58, 123000, tzinfo=UTC))
    some_id = uuid.uuid4()
    tricky = "x' OR 1 = 1 -- \\ \t\n"
    result = await store.query(
        "SELECT {s:String}, {n:Int64} + 1, {t:DateTime64(3, 'UTC')}, {id:UUID}, "
        "length({a:Array(String)}), {lc:LowCardinality(String)}",
        {"s": tricky, "n": -(2**40), "t": when, "id": some_id, "a": ["a", "b'"], "lc": "EUR"})
    assert result.rows == [(tricky, -(2**40) + 1, when, some_id, 2, "EUR")]
    user = tag()
    await store.insert("clickstream", CLICK_COLUMNS, [click_row(user)])
    # A value never becomes SQL: the injection attempt matches nothing.
    assert await count(store, "clickstream", user) == 1
    assert await count(store, "clickstream", tricky) == 0


async def test_parameters_bind_server_side_only(store: AnalyticsStore) -> None:
    user = tag()
    await store.insert("clickstream", CLICK_COLUMNS, [click_row(user)])
    attack = f"{user}' OR 1 = 1; DROP TABLE clickstream; --"
    # clickhouse-connect would %-format parameters into a statement without a
    # {name:Type} placeholder; the store refuses such a statement instead,
    # before anything is sent.
    for sql in ("SELECT count() FROM clickstream WHERE user_id = %(u)s",
                "SELECT count() FROM clickstream WHERE user_id = %s",
                "SELECT count() FROM clickstream WHERE user_id = '%(u)s'",
                "SELECT count() FROM clickstream"):
        with pytest.raises(AnalyticsStoreError, match="u not used by the statement") as err:
            await store.query(sql, {"u": attack})
        assert err.value.code is None, sql
    with pytest.raises(AnalyticsStoreError, match="not used by the statement"):
        await store.command("ALTER TABLE clickstream DELETE WHERE user_id = %(u)s",
                            {"u": attack}, {"mutations_sync": 2})
    assert await count(store, "clickstream", user) == 1
    # Next to a placeholder, %-markers stay text: nothing was formatted.
    result = await store.query("SELECT {u:String}, '%(u)s', '%s', '100%'", {"u": attack})
    assert result.rows == [(attack, "%(u)s", "%s", "100%")]
    # A parameter the statement does not use is an error even among used
    # ones (a misspelt name is not dropped silently).
    with pytest.raises(AnalyticsStoreError, match="uu not used by the statement"):
        await store.query("SELECT {u:String}", {"u": "a", "uu": "b"})
    # Names clickhouse-connect treats specially ($x$: bytes spliced into
    # the SQL) are no parameter names.
    with pytest.raises(AnalyticsStoreError, match="invalid parameter name"):
        await store.query("SELECT {u:String}, $x$", {"u": "a", "$x$": b"1"})


async def test_param_text_is_parsed_by_clickhouse_for_its_type(store: AnalyticsStore) -> None:
    # Text in ClickHouse's own form for the placeholder's type, as
    # RunQuery's callers give every parameter.
    result = await store.query(
        "SELECT {a:Array(String)}, {n:Int64}, {s:String}, {t:DateTime64(3, 'UTC')}",
        {"a": ParamText("['a','b']"), "n": ParamText("-5"), "s": ParamText("tab\\there"),
         "t": ParamText("2024-02-29 23:59:58.123")})
    assert result.rows == [(["a", "b"], -5, "tab\there",
                            datetime(2024, 2, 29, 23, 59, 58, 123000, tzinfo=UTC))]
    # The same text as a str is a String's value, escaped by the store.
    text = await store.query("SELECT {s:String}", {"s": "['a','b']"})
    assert text.rows == [("['a','b']",)]


async def test_dedup_token_counts_a_retried_batch_once(store: AnalyticsStore) -> None:
    user = tag()
    rows = [click_row(user, n) for n in range(5)]
    await store.insert("clickstream", CLICK_COLUMNS, rows, dedup_token=f"{user}-1")
    await store.insert("clickstream", CLICK_COLUMNS, rows, dedup_token=f"{user}-1")
    assert await count(store, "clickstream", user) == 5
    # Another token is another batch, even with the same rows.
    await store.insert("clickstream", CLICK_COLUMNS, rows, dedup_token=f"{user}-2")
    assert await count(store, "clickstream", user) == 10


# -- settings and errors --------------------------------------------------


async def test_readonly_rejects_writes_and_ddl(store: AnalyticsStore) -> None:
    user = tag()
    readonly: Settings = {"readonly": 1}
    for sql in (f"INSERT INTO clickstream (user_id) SELECT '{user}'",
                "CREATE TABLE conformance_scratch (a Int32) ENGINE = Memory",
                "DROP TABLE clickstream"):
        with pytest.raises(AnalyticsStoreError) as err:
            await store.query(sql, settings=readonly)
        assert err.value.code == READONLY, sql
    # A query's own SETTINGS cannot lift the limit it was given.
    with pytest.raises(AnalyticsStoreError) as err:
        await store.query("SELECT 1 SETTINGS readonly = 0", settings=readonly)
    assert err.value.code == READONLY
    # Scoped to the statement: the store still writes afterwards.
    await store.insert("clickstream", CLICK_COLUMNS, [click_row(user)])
    assert await count(store, "clickstream", user) == 1
    assert (await store.query("SELECT 1", settings=readonly)).rows == [(1,)]


async def test_result_limits_raise_their_codes(store: AnalyticsStore) -> None:
    limits: Settings = {"readonly": 1, "max_result_rows": 10, "result_overflow_mode": "throw"}
    ok = await store.query("SELECT number FROM numbers(10)", settings=limits)
    assert len(ok.rows) == 10
    with pytest.raises(AnalyticsStoreError) as err:
        await store.query("SELECT number FROM numbers(11)", settings=limits)
    assert err.value.code == TOO_MANY_ROWS
    with pytest.raises(AnalyticsStoreError) as err:
        await store.query("SELECT sleepEachRow(0.2) FROM numbers(20) SETTINGS max_block_size = 1",
                          settings={"max_execution_time": 0.5})
    assert err.value.code == TIMEOUT_EXCEEDED
    # Nothing leaks into the next statement: not the settings, and not the
    # rows a statement had produced before it failed.
    with pytest.raises(AnalyticsStoreError) as err:
        await store.query("SELECT number, throwIf(number = 7000) FROM numbers(10000) "
                          "SETTINGS max_block_size = 1000")
    assert err.value.code == FUNCTION_THROW
    after = await store.query("SELECT number FROM numbers(50)")
    assert [row[0] for row in after.rows] == list(range(50))


async def test_errors_carry_clickhouse_codes(store: AnalyticsStore) -> None:
    with pytest.raises(AnalyticsStoreError) as err:
        await store.query("SELECT * FROM no_such_table")
    assert err.value.code == UNKNOWN_TABLE and not isinstance(err.value, AnalyticsUnavailable)
    with pytest.raises(AnalyticsStoreError) as err:
        await store.command("SELEKT 1")
    assert err.value.code == SYNTAX_ERROR
    assert await store.check() and store.healthy and store.last_error == ""


async def test_mutations_update_and_delete_synchronously(store: AnalyticsStore) -> None:
    user, other = tag(), tag()
    await store.insert("clickstream", CLICK_COLUMNS,
                       [click_row(user, 1), click_row(user, 2), click_row(other, 3)])
    sync = {"mutations_sync": 2}
    await store.command("ALTER TABLE clickstream UPDATE user_id = '', session_id = '' "
                        "WHERE user_id = {u:String}", {"u": user}, sync)
    assert await count(store, "clickstream", user) == 0
    assert await count(store, "clickstream", other) == 1
    await store.command("ALTER TABLE clickstream DELETE WHERE user_id = {u:String}",
                        {"u": other}, sync)
    assert await count(store, "clickstream", other) == 0


# -- backend specifics ------------------------------------------------------


async def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = ClickHouseServerStore(f"http://127.0.0.1:{port}", connect_timeout_s=1)
    with pytest.raises(AnalyticsUnavailable):
        await store.query("SELECT 1")
    assert not await store.check() and store.last_error
    store.close()


async def test_the_embedded_engine_refuses_a_request_without_its_password(
    engine: EmbeddedAnalytics,
) -> None:
    wrong = ClickHouseServerStore(engine.url, DATABASE, password="not-the-password")
    try:
        with pytest.raises(AnalyticsStoreError) as refused:
            await wrong.query("SELECT 1")
        assert refused.value.code == 516  # AUTHENTICATION_FAILED
    finally:
        wrong.close()
    right = engine.store(DATABASE + "_auth")
    try:
        assert await right.check(), right.last_error
        await right.command(f"DROP DATABASE {DATABASE}_auth")
    finally:
        right.close()


def test_the_embedded_engine_refuses_a_request_without_credentials(
    engine: EmbeddedAnalytics,
) -> None:
    # curl, a browser: refused; /ping (a liveness probe) answers.
    with pytest.raises(urllib.error.HTTPError) as plain:
        urllib.request.urlopen(f"{engine.url}/?query=SELECT+1", timeout=10)
    assert plain.value.code == 403
    with urllib.request.urlopen(f"{engine.url}/ping", timeout=10) as ping:
        assert ping.read() == b"Ok.\n"

