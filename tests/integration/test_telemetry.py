"""What an operator sees: the span tree of a call by the OpenTelemetry
semantic conventions, the caller's trace context, RED metrics on /metrics,
and the trace id in the log of an INTERNAL error.

tests/e2e/test_telemetry_export.py checks the same from outside: a `datagw
serve` exporting OTLP over HTTP by the OTEL_* variables, and an idle window."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
import urllib.request
from collections.abc import Sequence

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from gateway.runtime.observability import log_handler, start_metrics_server
from gateway.runtime.server import Gateway
from tests.commerce import Shop
from tests.conftest import SPANS
from tests.helpers import EVENTUAL, STRONG, fails, get, product, sql, upsert

pytestmark = pytest.mark.integration

GET_PRODUCT = "datagw.v1.CatalogService/GetProduct"
CREATE_ORDER = "datagw.v1.OrderService/CreateOrder"
Catalog = catalog_pb2_grpc.CatalogServiceStub


def traceparent() -> tuple[str, int, int]:
    """A made-up caller context: (W3C traceparent header, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", int(trace_id, 16), int(span_id, 16)


def server_span(name: str) -> ReadableSpan:
    """The one SERVER span named `name` among those recorded since SPANS.clear()."""
    found = [s for s in SPANS.get_finished_spans()
             if s.kind is SpanKind.SERVER and s.name == name]
    assert len(found) == 1, [s.name for s in SPANS.get_finished_spans()]
    return found[0]


def children(parent: ReadableSpan) -> Sequence[ReadableSpan]:
    """The spans whose parent is `parent`: the health loop's spans are in other traces."""
    return [s for s in SPANS.get_finished_spans()
            if s.parent is not None and s.parent.span_id == parent.context.span_id
            and s.context.trace_id == parent.context.trace_id]


async def test_strong_read_is_one_server_span_with_a_primary_postgres_child(
    catalog: Catalog, uid: str
) -> None:
    sku = f"TS-{uid}"
    await upsert(catalog, product(sku))
    SPANS.clear()
    await get(catalog, sku, STRONG)

    server = server_span(GET_PRODUCT)
    attrs = dict(server.attributes or {})
    assert attrs["rpc.system"] == "grpc"
    assert attrs["rpc.service"] == "datagw.v1.CatalogService"
    assert attrs["rpc.method"] == "GetProduct"
    assert attrs["rpc.grpc.status_code"] == grpc.StatusCode.OK.value[0]
    assert attrs["datagw.domain"] == "catalog"
    assert attrs["datagw.consistency"] == "strong"
    assert server.parent is None

    [db] = children(server)
    assert (db.name, db.kind) == ("SELECT products", SpanKind.CLIENT)
    db_attrs = dict(db.attributes or {})
    assert db_attrs["db.system.name"] == "postgresql"
    assert db_attrs["datagw.keyspace"] == "catalog"
    assert db_attrs["datagw.shard"] == 0
    assert db_attrs["datagw.target"] == "primary"


async def test_eventual_read_of_a_warm_key_is_a_cache_hit(catalog: Catalog, uid: str) -> None:
    sku = f"TE-{uid}"
    await upsert(catalog, product(sku))
    await get(catalog, sku, EVENTUAL)  # fills the cache
    SPANS.clear()
    await get(catalog, sku, EVENTUAL)

    server = server_span(GET_PRODUCT)
    attrs = dict(server.attributes or {})
    assert attrs["datagw.cache"] == "hit"
    assert attrs["datagw.consistency"] == "eventual"
    kids = children(server)
    assert kids and all(dict(k.attributes or {})["db.system.name"] == "redis" for k in kids), [
        k.name for k in kids]
    assert all(k.kind is SpanKind.CLIENT for k in kids)


def descendants(root: ReadableSpan) -> list[ReadableSpan]:
    """Every span below `root` in its trace."""
    below = list(children(root))
    for span in list(below):
        below += descendants(span)
    return below


def check_db_span(span: ReadableSpan, system: str) -> dict[str, object]:
    """A database client span by the conventions; its attributes."""
    attrs = dict(span.attributes or {})
    assert span.kind is SpanKind.CLIENT
    assert attrs["db.system.name"] == system
    # The span is named by the bounded statement name, never its text.
    assert span.name == attrs["db.query.summary"]
    assert isinstance(attrs["server.port"], int)
    assert ":" not in str(attrs["server.address"])
    assert attrs["db.namespace"]
    assert not {"db.system", "db.statement", "db.query.text"} & attrs.keys()
    return attrs


def no_value_mentions(spans: Sequence[ReadableSpan], secret: str) -> None:
    """No span attribute carries `secret` (a key or customer data)."""
    for span in spans:
        for key, value in (span.attributes or {}).items():
            assert secret not in str(value), (span.name, key, value)


async def test_get_product_miss_then_hit_by_the_conventions(catalog: Catalog, uid: str) -> None:
    sku = f"TC-{uid}"
    await upsert(catalog, product(sku))
    SPANS.clear()
    await get(catalog, sku, EVENTUAL)  # a miss: loaded from PostgreSQL, then cached
    miss = server_span(GET_PRODUCT)
    below = descendants(miss)
    SPANS.clear()
    await get(catalog, sku, EVENTUAL)
    hit = server_span(GET_PRODUCT)

    for server, cache in ((miss, {"miss"}), (hit, {"hit", "near_hit"})):
        attrs = dict(server.attributes or {})
        assert server.kind is SpanKind.SERVER and server.status.status_code is StatusCode.UNSET
        assert {k: attrs[k] for k in ("rpc.system", "rpc.system.name", "rpc.service",
                                      "rpc.method", "rpc.grpc.status_code",
                                      "rpc.response.status_code")} == {
            "rpc.system": "grpc", "rpc.system.name": "grpc",
            "rpc.service": "datagw.v1.CatalogService", "rpc.method": "GetProduct",
            "rpc.grpc.status_code": 0, "rpc.response.status_code": "OK"}
        assert (attrs["datagw.domain"], attrs["datagw.keyspace"]) == ("catalog", "catalog")
        assert attrs["datagw.consistency"] == "eventual" and attrs["datagw.cache"] in cache
        assert "error.type" not in attrs
        no_value_mentions([server, *(below if server is miss else descendants(hit))], sku)

    [db] = [s for s in below if dict(s.attributes or {})["db.system.name"] == "postgresql"]
    attrs = check_db_span(db, "postgresql")
    assert (attrs["db.operation.name"], attrs["db.collection.name"]) == ("SELECT", "products")
    redis = [s for s in below if s is not db]
    assert redis, [s.name for s in below]
    for span in redis:
        attrs = check_db_span(span, "redis")
        assert attrs["db.operation.name"] == span.name.split()[0]
    assert all(check_db_span(s, "redis") for s in descendants(hit))


async def test_create_order_keeps_its_own_labels_and_prices_in_a_child_span(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user = f"{uid}-tel"
    await shop.user(user)
    await shop.stocked(f"{uid}-cup", 5)
    SPANS.clear()
    await shop.place(user, {f"{uid}-cup": 1}, f"{uid}-o")

    server = server_span(CREATE_ORDER)
    attrs = dict(server.attributes or {})
    orders = gateway.opened.keyspace_of("orders")
    # The catalog's price lookup does not relabel the order's span.
    assert (attrs["datagw.domain"], attrs["datagw.keyspace"]) == ("orders", orders)
    assert "datagw.consistency" not in attrs and "datagw.cache" not in attrs
    assert attrs["rpc.method"] == "CreateOrder" and attrs["rpc.grpc.status_code"] == 0
    [prices] = [s for s in children(server) if s.name == "catalog prices"]
    price_attrs = dict(prices.attributes or {})
    assert (price_attrs["datagw.keyspace"], price_attrs["datagw.consistency"]) == (
        gateway.opened.keyspace_of("catalog"), "strong")
    below = descendants(server)
    assert any(s.name == "SELECT products" for s in descendants(prices))
    for span in below:
        if span.kind is SpanKind.CLIENT and "db.system.name" in (span.attributes or {}):
            check_db_span(span, str(dict(span.attributes or {})["db.system.name"]))
    # Customer data stays out of spans: the user, their email, the card.
    for secret in (user, "example.com", "tok_visa"):
        no_value_mentions([server, *below], secret)


async def test_client_errors_leave_the_server_span_status_unset(
    catalog: Catalog, uid: str
) -> None:
    SPANS.clear()
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=f"TN-{uid}")),
                grpc.StatusCode.NOT_FOUND)
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku="")),
                grpc.StatusCode.INVALID_ARGUMENT)

    found = [s for s in SPANS.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert [dict(s.attributes or {})["rpc.response.status_code"] for s in found] == [
        "NOT_FOUND", "INVALID_ARGUMENT"]
    for span in found:
        attrs = dict(span.attributes or {})
        assert span.status.status_code is StatusCode.UNSET
        assert "error.type" not in attrs
    assert [dict(s.attributes or {})["rpc.grpc.status_code"] for s in found] == [
        grpc.StatusCode.NOT_FOUND.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]]


async def test_caller_traceparent_is_the_parent_of_the_server_span(
    catalog: Catalog, uid: str
) -> None:
    header, trace_id, parent_id = traceparent()
    SPANS.clear()
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=f"TP-{uid}"),
                                   metadata=(("traceparent", header),)),
                grpc.StatusCode.NOT_FOUND)

    server = server_span(GET_PRODUCT)
    assert server.context.trace_id == trace_id
    assert server.parent is not None and server.parent.is_remote
    assert server.parent.span_id == parent_id
    assert dict(server.attributes or {})["datagw.error.reason"] == "PRODUCT_NOT_FOUND"


@pytest.fixture(scope="module")
def metrics_url() -> str:
    host, port = start_metrics_server("127.0.0.1:0")
    return f"http://{host}:{port}/metrics"


async def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=10) as response:
            body: bytes = response.read()
            return body.decode()

    text = await asyncio.to_thread(fetch)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_endpoint_counts_requests_and_latency(
    catalog: Catalog, uid: str, metrics_url: str
) -> None:
    method = f"/{GET_PRODUCT}"
    ok = ("datagw_rpc_requests_total", frozenset({("method", method), ("code", "OK")}))
    timed = ("datagw_rpc_duration_seconds_count", frozenset({("method", method), ("code", "OK")}))
    sku = f"TM-{uid}"
    await upsert(catalog, product(sku))
    await get(catalog, sku, STRONG)
    before = await scrape(metrics_url)
    assert before[ok] >= 1 and before[timed] >= 1

    await get(catalog, sku, STRONG)
    after = await scrape(metrics_url)
    assert after[ok] == before[ok] + 1
    assert after[timed] == before[timed] + 1
    inf_bucket = ("datagw_rpc_duration_seconds_bucket",
                  frozenset({("method", method), ("code", "OK"), ("le", "+Inf")}))
    assert after[inf_bucket] == after[timed]


async def test_internal_error_log_carries_the_trace_id(
    gateway: Gateway, catalog: Catalog, uid: str
) -> None:
    sku = f"TL-{uid}"
    header, trace_id, _ = traceparent()
    stream = io.StringIO()
    handler = log_handler(stream, "json")
    root = logging.getLogger()
    # A row written behind the gateway's back that it cannot decode: an honest
    # unexpected error, confined to this test's own SKU.
    await sql(gateway, "catalog",
              "INSERT INTO products (sku, title, price_minor, currency, attributes, active) "
              "VALUES ($1, 'corrupt row', 1, 'EUR', '\"not an object\"'::jsonb, false)", sku)
    root.addHandler(handler)
    try:
        failure = await fails(catalog.GetProduct(
            catalog_pb2.GetProductRequest(sku=sku, read_options=STRONG),
            metadata=(("traceparent", header),)), grpc.StatusCode.INTERNAL)
    finally:
        root.removeHandler(handler)
        await sql(gateway, "catalog", "DELETE FROM products WHERE sku = $1", sku)

    assert failure.error_info is not None
    # A server fault: the one kind of status that marks a server span an error.
    server = [s for s in SPANS.get_finished_spans()
              if s.kind is SpanKind.SERVER and s.context.trace_id == trace_id]
    assert [(s.status.status_code, dict(s.attributes or {})["error.type"]) for s in server] == [
        (StatusCode.ERROR, "INTERNAL")]
    error_id = failure.error_info.metadata["error_id"]
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    [entry] = [e for e in entries if error_id in e["message"]]
    assert entry["level"] == "error"
    assert entry["trace_id"] == f"{trace_id:032x}"
    assert "Traceback" in entry["exception"]


async def test_metrics_follow_the_prometheus_conventions(
    catalog: Catalog, uid: str, metrics_url: str
) -> None:
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=f"TX-{uid}")),
                grpc.StatusCode.NOT_FOUND)
    samples = await scrape(metrics_url)
    names = {name for name, _ in samples}

    # The latency histogram by status code, as the request counter.
    assert (("datagw_rpc_duration_seconds_count",
             frozenset({("method", f"/{GET_PRODUCT}"), ("code", "NOT_FOUND")}))) in samples
    [(build, value)] = [(dict(labels), v) for (name, labels), v in samples.items()
                        if name == "datagw_build_info"]
    assert value == 1 and set(build) == {"version", "python", "grpcio"}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes",
            "process_open_fds", "process_start_time_seconds"} <= names
    assert not [n for n in names if n.endswith("_created")]
    # Limits apart from usage.
    assert samples[("datagw_rpc_max_concurrent", frozenset())] >= 1
    assert "datagw_pool_connections_max" in names
    # The catalog's near cache is on (policies/catalog.yaml, cache.near_ttl).
    assert {"datagw_near_cache_entries", "datagw_near_cache_capacity"} <= names
    assert "max" not in {labelled_state for (name, labels) in samples
                         if name == "datagw_pool_connections"
                         for key, labelled_state in labels if key == "state"}
    pools = {dict(labels)["backend"] for name, labels in samples
             if name == "datagw_pool_connections_max"}
    assert "redis" in pools and any(p.startswith("postgres/") for p in pools), pools
