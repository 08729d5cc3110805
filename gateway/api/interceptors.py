"""The cross-cutting work of every RPC, in one server interceptor.

Per call: a server span whose parent is the caller's W3C traceparent; the
access gate (the caller's identity, the access policy's decision, the
caller's own limits: api/auth/); a cap on concurrent RPCs of every kind, a
stream holding its slot until it ends or is cancelled (RESOURCE_EXHAUSTED
beyond it), and UNAVAILABLE once the server
drains; a deadline (the caller's, or the configured default when it set none)
enforced by cancelling the handler, which cancels its backend calls; RED
metrics; and the mapping of errors to a status with google.rpc details.
Unexpected errors become INTERNAL with an id that is also logged with the
stack trace, never sent to the caller.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import grpc
from opentelemetry import propagate, trace
from opentelemetry.semconv._incubating.attributes.rpc_attributes import (
    RPC_GRPC_STATUS_CODE,
    RPC_RESPONSE_STATUS_CODE,
)
from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
from opentelemetry.trace import SpanKind, Status, StatusCode

from gateway import request_context
from gateway.api.auth.gate import AccessGate, Admitted
from gateway.api.rpc_spans import SpanShapes
from gateway.api.status import to_status
from gateway.api.validation import check_request
from gateway.errors import DatagwError, DeadlineExceeded, ResourceExhausted, Unavailable
from gateway.tasks import Activity
from gateway.telemetry import (
    RPC_IN_FLIGHT,
    RPC_LATENCY,
    RPC_MAX_CONCURRENT,
    RPC_REJECTED,
    RPC_REQUESTS,
    serving,
    start_span,
)

log = logging.getLogger(__name__)
Context = grpc.aio.ServicerContext[Any, Any]

# W3C trace context and baggage, the keys of the default OpenTelemetry propagator.
_TRACE_HEADERS = frozenset({"traceparent", "tracestate", "baggage"})


# The codes that make a server span an error (the gRPC semantic conventions):
# the server's faults. The caller's mistakes (INVALID_ARGUMENT, NOT_FOUND,
# FAILED_PRECONDITION, ...) leave the status unset; the code is on the span.
_SERVER_FAULTS = frozenset({
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS,
})


@functools.cache
def _series(method: str, code: grpc.StatusCode) -> tuple[Any, Any]:
    """The metric children of one method and code, looked up once, not per call."""
    return RPC_REQUESTS.labels(method, code.name), RPC_LATENCY.labels(method, code.name)


# Infrastructure services: probes must stay cheap and never count against the cap.
_PASS_THROUGH = ("/grpc.health.v1.", "/grpc.reflection.")


if TYPE_CHECKING:
    # The stubs make it generic; the runtime class is not subscriptable.
    _Interceptor = grpc.aio.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.aio.ServerInterceptor


class GatewayInterceptor(_Interceptor):
    def __init__(self, *, max_concurrent: int, default_deadline_s: float,
                 gate: AccessGate, method_domains: Mapping[str, str | None]) -> None:
        """`method_domains`: each method's policy domain ("/pkg.Service/Method"
        -> "catalog"; None for the admin API), labelled on its server span."""
        self._max_concurrent = max_concurrent
        RPC_MAX_CONCURRENT.set(max_concurrent)
        self._spans = SpanShapes(method_domains)
        self.gate = gate
        self._default_deadline_s = default_deadline_s
        # Every call holding a slot of the cap, streams included.
        self._in_flight = 0
        # The calls a drain waits for: all but server streams (subscriptions
        # never end on their own; stopping the server ends them).
        self._finite = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._draining = False
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        # The calls served, health checks and reflection aside (a kubelet's
        # probe every few seconds is not traffic): background loops rest
        # while none arrive (runtime/server.py).
        self.activity = Activity()

    def set_keyspaces(self, keyspaces: Mapping[str, str]) -> None:
        """The keyspace of each policy domain, labelled on its methods' spans."""
        self._spans.set_keyspaces(keyspaces)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def drain(self) -> None:
        """Refuse new calls from now on (UNAVAILABLE); calls in flight go on."""
        self._draining = True

    async def wait_idle(self) -> None:
        """Return once no call is in flight, server streams aside (stopping
        the server ends them)."""
        await self._idle.wait()

    def _enter(
        self, method: str, context: Context, metadata: Any, request: Any, *, finite: bool
    ) -> tuple[Admitted | None, DatagwError | None]:
        """Let one call in: the access gate, then a slot of the cap; the
        refusal when either says no. An admitted call is `_leave`d once."""
        try:
            admitted = self.gate.enter(method, context, metadata, request)
        except DatagwError as exc:
            return None, exc
        except Exception as exc:
            # A bug in the gate is INTERNAL with an id, like one in a handler,
            # not an exception escaping to gRPC as UNKNOWN.
            return None, self._internal(method, exc, trace.get_current_span())
        request_context.actor.set(admitted.identity.principal)
        error = self._admit(finite=finite)
        if error is not None:
            self.gate.leave(admitted)
            return None, error
        return admitted, None

    def _leave(self, admitted: Admitted, *, finite: bool) -> None:
        self.gate.leave(admitted)
        self._release(finite=finite)

    def _admit(self, *, finite: bool) -> DatagwError | None:
        """Take a slot of the cap for one call; the refusal when there is none."""
        if self._draining:
            # UNAVAILABLE rather than the transport's refusal once the
            # server stops: the code clients retry on another instance.
            return Unavailable("the gateway is shutting down; retry", reason="SHUTTING_DOWN")
        if self._in_flight >= self._max_concurrent:
            RPC_REJECTED.inc()
            return ResourceExhausted(
                f"more than {self._max_concurrent} concurrent calls; retry with backoff",
                reason="CONCURRENCY_LIMIT",
                metadata={"limit": str(self._max_concurrent)},
            )
        self._in_flight += 1
        RPC_IN_FLIGHT.inc()
        if finite:
            self._finite += 1
            self._idle.clear()
        return None

    def _release(self, *, finite: bool) -> None:
        self._in_flight -= 1
        RPC_IN_FLIGHT.dec()
        if finite:
            self._finite -= 1
            if self._finite == 0:
                self._idle.set()

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        method: str = details.method
        # Handlers are fixed once the server starts: wrap each method once,
        # not on every call (this runs on the hot path of every RPC).
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            self.activity.note()
            return wrapped
        handler = await continuation(details)
        if handler is None or method.startswith(_PASS_THROUGH):
            return handler
        self.activity.note()
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(
        self, method: str, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        # grpc-stubs types handlers as sync; under grpc.aio they are coroutines.
        if handler.unary_unary is not None:
            inner_uu: Any = handler.unary_unary

            async def unary_unary(request: Any, context: Context) -> Any:
                def call() -> Any:
                    # After the access gate: a caller it refuses learns
                    # nothing about the request's validity.
                    check_request(request)
                    return inner_uu(request, context)

                return await self._run(method, context, request, call)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary is not None:
            inner_su: Any = handler.stream_unary

            async def stream_unary(requests: AsyncIterator[Any], context: Context) -> Any:
                # No one request to scope: access rules with `where` cannot
                # name a client-streaming method (the loader refuses it).
                return await self._run(method, context, None,
                                       lambda: inner_su(_checked(requests), context))

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream is not None:
            inner_us: Any = handler.unary_stream

            async def unary_stream(request: Any, context: Context) -> AsyncIterator[Any]:
                async for response in self._run_stream(method, context, request,
                                                       _checked_stream(request, inner_us,
                                                                       context)):
                    yield response

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer
            )
        return handler

    @staticmethod
    def _caller(metadata: Any) -> Any:
        """Record on whose behalf the caller acts; its trace context, if it sent one."""
        for key, value in metadata:
            if key == request_context.ACTOR_HEADER:
                request_context.on_behalf_of.set(str(value)[:200])
        # Only a caller that sent trace context needs the propagator's parsing.
        return (propagate.extract(dict(metadata))
                if any(key in _TRACE_HEADERS for key, _ in metadata) else None)

    async def _run_stream(
        self, method: str, context: Context, request: Any, responses: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        """A server-streaming call (subscriptions): span, cap, metrics, error mapping.

        A stream holds its slot of the concurrency cap until it ends, fails or
        is cancelled. Streams are long-lived, so they get no default deadline
        (only the caller's, which gRPC enforces by cancelling), and a drain
        does not wait for them: a draining server refuses new ones and ends
        the rest when it stops.
        """
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        shape = self._spans.of(method)
        metadata = context.invocation_metadata() or ()
        with start_span(
            shape.name, context=self._caller(metadata), kind=SpanKind.SERVER,
            attributes=shape.attributes,
        ) as span, serving(span, shape.domain):
            admitted, error = self._enter(method, context, metadata, request, finite=False)
            if admitted is None:
                assert error is not None
                self._record(method, error.code, started, span)
            else:
                # Released once, by whichever comes first: the generator's end,
                # or the call's (gRPC may drop a cancelled stream's generator
                # without closing it, which would otherwise keep its slot).
                held = True

                def release(_: object = None) -> None:
                    nonlocal held
                    if held:
                        held = False
                        self._leave(admitted, finite=False)

                # The stubs declare the callback as a class; gRPC takes any callable.
                context.add_done_callback(cast("grpc.aio.DoneCallback[Any, Any]", release))
                try:
                    async for response in responses:
                        yield response
                except DatagwError as exc:
                    error = exc
                except asyncio.CancelledError:
                    code = grpc.StatusCode.CANCELLED
                    raise
                except Exception as exc:
                    error = self._internal(method, exc, span)
                finally:
                    release()
                    self._record(method, error.code if error is not None else code, started,
                                 span)
            if error is None:
                return
            if error.code is not grpc.StatusCode.INTERNAL:
                span.set_attribute("datagw.error.reason", error.reason)
        status = to_status(error)
        await context.abort(status.code, status.details, status.trailing_metadata)

    async def _run(
        self, method: str, context: Context, request: Any, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        metadata = context.invocation_metadata() or ()
        parent = self._caller(metadata)
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        shape = self._spans.of(method)
        with start_span(
            shape.name, context=parent, kind=SpanKind.SERVER, attributes=shape.attributes,
        ) as span, serving(span, shape.domain):
            admitted, error = self._enter(method, context, metadata, request, finite=True)
            if admitted is None:
                assert error is not None
                self._record(method, error.code, started, span)
            else:
                try:
                    remaining = context.time_remaining()
                    budget = max(remaining if remaining is not None
                                 else self._default_deadline_s, 0.0)
                    request_context.set_call_budget(asyncio.get_running_loop().time(), budget)
                    async with asyncio.timeout(budget) as timeout:
                        result = await call()
                    return result
                except TimeoutError as exc:
                    # Only our own timeout is a deadline; a TimeoutError raised
                    # by the handler is an unexpected error like any other.
                    error = self._deadline(budget) if timeout.expired() else self._internal(
                        method, exc, span)
                except DatagwError as exc:
                    error = exc
                except asyncio.CancelledError:
                    # gRPC cancels the handler when the caller goes away, and
                    # also when the caller's deadline passes (racing our timeout).
                    left = context.time_remaining()
                    code = (grpc.StatusCode.DEADLINE_EXCEEDED if left is not None and left <= 0
                            else grpc.StatusCode.CANCELLED)
                    raise
                except Exception as exc:
                    error = self._internal(method, exc, span)
                finally:
                    self._leave(admitted, finite=True)
                    self._record(method, error.code if error is not None else code, started, span)
            assert error is not None
            if error.code is not grpc.StatusCode.INTERNAL:
                span.set_attribute("datagw.error.reason", error.reason)
        status = to_status(error)
        await context.abort(status.code, status.details, status.trailing_metadata)

    @staticmethod
    def _record(method: str, code: grpc.StatusCode, started: float, span: trace.Span) -> None:
        requests, latency = _series(method, code)
        requests.inc()
        latency.observe(time.perf_counter() - started)
        if span.is_recording():
            span.set_attribute(RPC_GRPC_STATUS_CODE, code.value[0])
            span.set_attribute(RPC_RESPONSE_STATUS_CODE, code.name)
            if code in _SERVER_FAULTS:
                span.set_attribute(ERROR_TYPE, code.name)
                span.set_status(Status(StatusCode.ERROR, code.name))

    @staticmethod
    def _deadline(budget: float) -> DeadlineExceeded:
        return DeadlineExceeded(
            "deadline exceeded; the backend work was cancelled",
            reason="DEADLINE_EXCEEDED",
            metadata={"deadline_s": f"{budget:.3f}"},
        )

    @staticmethod
    def _internal(method: str, exc: Exception, span: trace.Span) -> DatagwError:
        error_id = uuid.uuid4().hex[:16]
        log.exception("internal error %s in %s", error_id, method)
        span.record_exception(exc)
        return DatagwError(
            f"internal error (id {error_id}); the gateway log has the details",
            reason="INTERNAL", metadata={"error_id": error_id},
        )


async def _checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """A client stream's messages, each checked against its rules as it arrives."""
    async for request in requests:
        check_request(request)
        yield request


async def _checked_stream(
    request: Any, handler: Callable[[Any, Context], AsyncIterator[Any]], context: Context
) -> AsyncIterator[Any]:
    """A server stream's responses, its request checked first (inside the
    stream, so the refusal goes through the stream's error mapping)."""
    check_request(request)
    async for response in handler(request, context):
        yield response


def current_trace_id() -> str:
    ctx = trace.get_current_span().get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else ""
