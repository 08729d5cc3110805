"""telemetry.start_span: no span at all when tracing is off, unless the
caller sent trace context (its no-op span carries the trace id into logs)."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from gateway import telemetry

CALLER = SpanContext(trace_id=0x1234, span_id=0x56, is_remote=True,
                     trace_flags=TraceFlags(TraceFlags.SAMPLED))


@pytest.fixture
def tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test session installs an SDK provider (tests/conftest.py); a
    # gateway with telemetry.exporter none has the API's proxy.
    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)


@pytest.mark.usefixtures("tracing_off")
def test_tracing_off_makes_no_span() -> None:
    before = trace.get_current_span()
    with telemetry.start_span("x", attributes={"a": 1}) as span:
        assert span is trace.INVALID_SPAN
        assert trace.get_current_span() is before


@pytest.mark.usefixtures("tracing_off")
def test_a_callers_trace_context_is_still_current() -> None:
    parent = trace.set_span_in_context(NonRecordingSpan(CALLER))
    with telemetry.start_span("x", context=parent, kind=trace.SpanKind.SERVER):
        assert trace.get_current_span().get_span_context().trace_id == 0x1234


def test_tracing_on_records_the_span_of_a_call_and_what_it_does() -> None:
    with telemetry.start_span("call", kind=trace.SpanKind.SERVER) as call:
        assert call.is_recording()
        with telemetry.start_span("x", attributes={"a": 1}) as span:
            assert span.is_recording()
            assert trace.get_current_span() is span


def test_a_backend_call_outside_any_span_is_not_traced() -> None:
    """A background loop's poll: no root span of its own (an idle gateway
    would export hundreds a minute)."""
    before = trace.get_current_span()
    assert not before.is_recording()
    with telemetry.start_span("SELECT x", kind=trace.SpanKind.CLIENT) as span:
        assert span is trace.INVALID_SPAN


def test_work_found_by_a_loop_is_traced_beneath_its_work_span() -> None:
    with telemetry.work_span("relay batch") as work:
        assert work.is_recording()
        with telemetry.start_span("SELECT x", kind=trace.SpanKind.CLIENT) as span:
            assert span.is_recording()
            assert span.parent is not None  # type: ignore[attr-defined]


def test_nothing_is_traced_inside_untraced() -> None:
    with telemetry.start_span("call", kind=trace.SpanKind.SERVER), telemetry.untraced(), \
            telemetry.start_span("SELECT x", kind=trace.SpanKind.CLIENT) as span:
        assert span is trace.INVALID_SPAN


def test_another_domains_work_never_labels_the_calls_server_span() -> None:
    with telemetry.start_span("CreateOrder", kind=trace.SpanKind.SERVER) as call, \
            telemetry.serving(call, "orders"):
        telemetry.annotate("orders", {"datagw.shard": 1})
        telemetry.annotate("catalog", {"datagw.shard": 0, "datagw.consistency": "strong"})
        with telemetry.start_span("catalog prices") as inner:
            telemetry.annotate("catalog", {"datagw.consistency": "strong"})
    attributes = dict(call.attributes or {})  # type: ignore[attr-defined]
    assert attributes == {"datagw.shard": 1}
    assert dict(inner.attributes or {}) == {  # type: ignore[attr-defined]
        "datagw.consistency": "strong"}
