"""Where spans, metrics and logs go: chosen by config, set up once at start."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.semconv.attributes.service_attributes import (
    SERVICE_INSTANCE_ID,
    SERVICE_NAME,
    SERVICE_VERSION,
)
from prometheus_client import CollectorRegistry, multiprocess, start_http_server

from gateway import telemetry
from gateway.runtime.config import EXPORTERS, OTLP_PROTOCOLS, Config, ConfigError
from gateway.runtime.worker_processes import WorkerProcesses
from gateway.secrets import redact_url
from gateway.telemetry import REGISTRY


def setup_tracing(cfg: Config, env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install a tracer provider with the configured exporter (None for none).

    Each setting comes from the datagw configuration when it sets it, else
    from the standard OTEL_* variable, else from the default: exporter
    (OTEL_TRACES_EXPORTER; none), OTLP protocol (OTEL_EXPORTER_OTLP_TRACES_
    PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL; grpc), endpoint (left to the
    exporter, which reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and
    OTEL_EXPORTER_OTLP_ENDPOINT), service name (OTEL_SERVICE_NAME,
    OTEL_RESOURCE_ATTRIBUTES; datagw). The sampler has no datagw setting:
    the SDK reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG itself.
    OTEL_SDK_DISABLED=true is OTEL_TRACES_EXPORTER=none.
    """
    env = os.environ if env is None else env
    # OTEL_SDK_DISABLED=true turns tracing off like OTEL_TRACES_EXPORTER=none.
    disabled = _first_of(env, "OTEL_SDK_DISABLED") == "true"
    exporter_name = cfg.exporter or ("none" if disabled else None) or _first_of(
        env, "OTEL_TRACES_EXPORTER") or "none"
    if exporter_name == "none":
        return None
    exporter: SpanExporter
    if exporter_name == "console":
        exporter = ConsoleSpanExporter(out=sys.stderr)
    elif exporter_name == "otlp":
        exporter = otlp_exporter(cfg, env)
    else:
        raise ConfigError(f"OTEL_TRACES_EXPORTER: {exporter_name!r} is not one of: "
                          f"{', '.join(EXPORTERS)}")
    provider = TracerProvider(resource=resource(cfg))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _first_of(env: Mapping[str, str], *names: str) -> str | None:
    """The first of the variables that is set and not empty, trimmed and in
    lower case (OTEL_* values are case-insensitive)."""
    for name in names:
        value = env.get(name, "").strip().lower()
        if value:
            return value
    return None


def otlp_exporter(cfg: Config, env: Mapping[str, str]) -> SpanExporter:
    """The OTLP exporter of the configured protocol (telemetry.otlp_protocol,
    else the OTEL_* variables, else grpc)."""
    protocol = cfg.otlp_protocol or _first_of(
        env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL") or "grpc"
    # Without telemetry.otlp_endpoint each exporter reads the OTEL_*
    # endpoint variables, adding /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT
    # for HTTP as the specification says.
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HTTPExporter,
        )

        return HTTPExporter(endpoint=cfg.otlp_endpoint)
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GRPCExporter,
        )

        return GRPCExporter(endpoint=cfg.otlp_endpoint)
    raise ConfigError(f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is not one of: "
                      f"{', '.join(OTLP_PROTOCOLS)}")


def resource(cfg: Config) -> Resource:
    """What every span says of its process: service.name (telemetry.service_name,
    else OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES, else datagw),
    service.version (the gateway's) and service.instance.id (one per process:
    each worker of `serve --workers N` is an instance), the environment's
    values winning over these defaults."""
    from_env = OTELResourceDetector().detect().attributes
    defaults = {SERVICE_NAME: "datagw", SERVICE_VERSION: telemetry.gateway_version(),
                SERVICE_INSTANCE_ID: str(uuid.uuid4())}
    attributes = {k: v for k, v in defaults.items() if k not in from_env}
    if cfg.service_name:
        attributes[SERVICE_NAME] = cfg.service_name
    # Resource.create adds the SDK's attributes and the environment's.
    return Resource.create(attributes)


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
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(WorkerProcesses(directory))
    server, _thread = start_http_server(int(port), addr=host or "0.0.0.0", registry=registry)
    bound_host, bound_port = server.server_address[:2]
    return str(bound_host), int(bound_port)
