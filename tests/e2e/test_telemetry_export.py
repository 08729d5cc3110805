"""`datagw serve` exporting spans as users set it up: by the standard OTEL_*
variables alone, OTLP over HTTP, to a receiver in this test that decodes
what arrives (ExportTraceServiceRequest). An idle gateway sends no spans; a
call's span carries the resource the variables describe."""

from __future__ import annotations

import asyncio
import gzip
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from gateway.domain.orders.saga import SagaSettings
from gateway.domain.resharding.workflow import IDLE_TICK_S
from gateway.domain.rewind.reconcile import RECORD_IDLE_S
from gateway.runtime.server import HEALTH_IDLE_INTERVAL_S, RECOVERY_IDLE_FACTOR
from gateway.storage.eventstore.notify import LISTENING_FALLBACK_S
from gateway.storage.redis.near_cache import IDLE_PING_S
from tests.e2e.gateway_process import gateway_process
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

# The idle window: longer than the longest rest of any background loop of an
# idle gateway (health rounds, saga recovery, the resharding driver, the
# near cache's ping, the notifiers' fallback poll, the store watermarks), so
# that every loop polls at least once inside it.
IDLE_WINDOW_S = max(
    HEALTH_IDLE_INTERVAL_S, SagaSettings().recovery_interval_s * RECOVERY_IDLE_FACTOR,
    IDLE_TICK_S, IDLE_PING_S, LISTENING_FALLBACK_S, RECORD_IDLE_S) + 1.0


@dataclass
class Received:
    """What the receiver decoded: (resource attributes, span) per span."""

    spans: list[tuple[dict[str, object], Span]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope in resource_spans.scope_spans:
                    self.spans += [(resource, span) for span in scope.spans]

    def snapshot(self) -> list[tuple[dict[str, object], Span]]:
        with self.lock:
            return list(self.spans)


def value(v: AnyValue) -> str | int | bool | float:
    kind = v.WhichOneof("value")
    found: str | int | bool | float = getattr(v, kind) if kind else ""
    return found


def attributes(kvs: Iterable[KeyValue]) -> dict[str, object]:
    return {kv.key: value(kv.value) for kv in kvs}


@contextmanager
def otlp_http_receiver() -> Iterator[tuple[str, Received]]:
    """An OTLP/HTTP traces endpoint: (its base URL, what it received)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != "/v1/traces":
                self.send_error(404)
                return
            received.add(ExportTraceServiceRequest.FromString(body))
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def otel_env(endpoint: str) -> dict[str, str]:
    """This environment without datagw telemetry settings, with OTEL_* ones."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATAGW_TELEMETRY__", "OTEL_"))}
    return env | {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        # The exporter adds /v1/traces to the base endpoint.
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_SERVICE_NAME": "shop-gateway",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=e2e",
        "OTEL_TRACES_SAMPLER": "always_on",
        # Exported within 0.1 s of ending rather than 5 s.
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


async def test_an_idle_gateway_sends_no_spans_and_a_call_is_exported_by_the_otel_variables(
    tmp_path: Path,
) -> None:
    with otlp_http_receiver() as (endpoint, received), \
            gateway_process(tmp_path, env=otel_env(endpoint)) as gw:
        # Started (migrations, first rounds of every loop), then idle: every
        # loop polls at least once in the window and finds nothing to do.
        await asyncio.sleep(IDLE_WINDOW_S)
        idle = received.snapshot()
        assert idle == [], [span.name for _, span in idle]

        async with grpc.aio.insecure_channel(gw.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as missing:
                await catalog_pb2_grpc.CatalogServiceStub(channel).GetProduct(
                    catalog_pb2.GetProductRequest(sku="NO-SUCH-SKU"))
        assert missing.value.code() is grpc.StatusCode.NOT_FOUND

        async def exported() -> bool:
            return any(s.kind == Span.SPAN_KIND_SERVER for _, s in received.snapshot())

        await eventually(exported, "the call's server span exported")

    [(resource, server)] = [(r, s) for r, s in received.snapshot()
                            if s.kind == Span.SPAN_KIND_SERVER]
    assert resource["service.name"] == "shop-gateway"
    assert resource["deployment.environment.name"] == "e2e"
    assert resource["service.version"] and resource["service.instance.id"]
    assert server.name == "datagw.v1.CatalogService/GetProduct"
    attrs = attributes(server.attributes)
    assert attrs["rpc.system"] == "grpc" and attrs["rpc.method"] == "GetProduct"
    assert attrs["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert attrs["datagw.domain"] == "catalog"
    # NOT_FOUND is the caller's mistake, not a fault of the server.
    assert server.status.code == Status.STATUS_CODE_UNSET
    assert "error.type" not in attrs
