"""Where spans, metrics and logs go: chosen by config, set up once at start."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from gateway.runtime.config import Config
from gateway.secrets import redact_url
from gateway.telemetry import REGISTRY


def setup_tracing(cfg: Config) -> TracerProvider | None:
    """Install a tracer provider with the configured exporter (None for 'none')."""
    if cfg.exporter == "none":
        return None
    exporter: SpanExporter
    if cfg.exporter == "console":
        exporter = ConsoleSpanExporter(out=sys.stderr)
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=cfg.otlp_endpoint) if cfg.otlp_endpoint else (
            OTLPSpanExporter())
    provider = TracerProvider(resource=Resource.create({"service.name": cfg.service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


class _TraceContext(logging.Filter):
    """Stamps each record with the current trace and span ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = f"{ctx.trace_id:032x}" if ctx.is_valid else ""
        record.span_id = f"{ctx.span_id:016x}" if ctx.is_valid else ""
        return True


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", ""),
            "span_id": getattr(record, "span_id", ""),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class _Redacted(logging.Formatter):
    """Another formatter's line without DSN or URL passwords: a logged
    exception's text or traceback may quote a connection string."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact_url(self._inner.format(record))


def log_handler(stream: TextIO, log_format: str) -> logging.Handler:
    """A handler writing `log_format` (json or text) with the trace id of each
    record, passwords redacted."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(_TraceContext())
    inner = _JSONFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [trace=%(trace_id)s] %(message)s")
    handler.setFormatter(_Redacted(inner))
    return handler


def setup_logging(cfg: Config) -> None:
    root = logging.getLogger()
    root.handlers[:] = [log_handler(sys.stderr, cfg.log_format)]
    root.setLevel(cfg.log_level.upper())


def start_metrics_server(listen: str) -> tuple[str, int]:
    """Serve Prometheus text format on its own port; returns the bound address.
    With several workers (PROMETHEUS_MULTIPROC_DIR set, worker_group.py) it
    serves every worker's series added up."""
    host, _, port = listen.rpartition(":")
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    server, _thread = start_http_server(int(port), addr=host or "0.0.0.0", registry=registry)
    bound_host, bound_port = server.server_address[:2]
    return str(bound_host), int(bound_port)
