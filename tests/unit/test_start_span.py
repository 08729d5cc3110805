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


def test_tracing_on_records_the_span() -> None:
    with telemetry.start_span("x", attributes={"a": 1}) as span:
        assert span.is_recording()
        assert trace.get_current_span() is span
