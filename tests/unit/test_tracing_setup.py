"""Where tracing settings come from: datagw's configuration when it sets
them, else the standard OTEL_* variables, else the defaults."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GRPCExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HTTPExporter,
)

from gateway.runtime.config import Config, ConfigError, load_config
from gateway.runtime.observability import otlp_exporter, resource, setup_tracing
from gateway.telemetry import gateway_version


def test_the_otel_variables_decide_what_the_configuration_leaves_unset() -> None:
    cfg = load_config(None, {})
    exporter = otlp_exporter(cfg, {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert isinstance(exporter, HTTPExporter)
    # The signal's own variable before the general one.
    exporter = otlp_exporter(cfg, {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
                                   "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
    assert isinstance(exporter, GRPCExporter)
    assert isinstance(otlp_exporter(cfg, {}), GRPCExporter)


def test_the_configuration_wins_over_the_otel_variables() -> None:
    cfg = load_config(None, {"DATAGW_TELEMETRY__OTLP_PROTOCOL": "grpc",
                             "DATAGW_TELEMETRY__EXPORTER": "none"})
    env = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp"}
    assert isinstance(otlp_exporter(cfg, env), GRPCExporter)
    # telemetry.exporter none: no provider, whatever OTEL_TRACES_EXPORTER says.
    assert setup_tracing(cfg, env) is None


def test_otel_traces_exporter_none_or_unset_installs_nothing() -> None:
    assert setup_tracing(Config(), {}) is None
    assert setup_tracing(Config(), {"OTEL_TRACES_EXPORTER": "none"}) is None
    assert setup_tracing(Config(), {"OTEL_TRACES_EXPORTER": "otlp",
                                    "OTEL_SDK_DISABLED": "true"}) is None


def test_an_unknown_exporter_or_protocol_in_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        setup_tracing(Config(), {"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        otlp_exporter(Config(), {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})


def test_the_resource_names_the_service_its_version_and_this_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    first, second = resource(Config()).attributes, resource(Config()).attributes
    assert first["service.name"] == "datagw"
    assert first["service.version"] == gateway_version()
    assert first["service.instance.id"] != second["service.instance.id"]

    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES",
                       "service.instance.id=pod-7,deployment.environment.name=prod")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-gateway")
    attributes = resource(Config()).attributes
    assert (attributes["service.name"], attributes["service.instance.id"]) == (
        "shop-gateway", "pod-7")
    assert attributes["deployment.environment.name"] == "prod"
    # telemetry.service_name, when set, wins over OTEL_SERVICE_NAME.
    assert resource(Config(service_name="orders")).attributes["service.name"] == "orders"
