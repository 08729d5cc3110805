"""What an operator sees: the span tree of a call, the caller's trace context,
RED metrics on /metrics, and the trace id in the log of an INTERNAL error."""

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
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from gateway.runtime.observability import log_handler, start_metrics_server
from gateway.runtime.server import Gateway
from tests.conftest import SPANS
from tests.helpers import EVENTUAL, STRONG, fails, get, product, sql, upsert

pytestmark = pytest.mark.integration

GET_PRODUCT = "datagw.v1.CatalogService/GetProduct"
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
    error_id = failure.error_info.metadata["error_id"]
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    [entry] = [e for e in entries if error_id in e["message"]]
    assert entry["level"] == "error"
    assert entry["trace_id"] == f"{trace_id:032x}"
    assert "Traceback" in entry["exception"]
