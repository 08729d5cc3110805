"""What a failed call says, decoded: the gateway's rich error model.

Every error the gateway returns carries a ``google.rpc.Status`` in the
``grpc-status-details-bin`` trailer, with an ``ErrorInfo`` (domain
``"datagw"``, a machine-readable ``reason`` and ``metadata``) and, depending
on the error, a ``BadRequest`` (which fields are wrong and why) or a
``RetryInfo``. Branch on ``reason``, never on the message text::

    try:
        catalog.GetProduct(request, timeout=5)
    except grpc.RpcError as e:
        failure = decode(e)
        if failure.reason == "INVALID_ARGUMENT":
            for v in failure.field_violations:
                print(v.field, v.description)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "datagw"
"""The ErrorInfo domain of the gateway's errors."""

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True)
class CallFailure:
    """A failed call: its status and the details the gateway sent with it."""

    code: grpc.StatusCode
    message: str
    status: status_pb2.Status | None
    """The whole google.rpc.Status; None when the server sent none (e.g. a
    call that never reached the gateway)."""
    domain: str | None = None
    reason: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    field_violations: tuple[FieldViolation, ...] = ()
    retry_delay_s: float | None = None
    """RetryInfo: how long to wait before a retry, when the gateway says."""


def details(status: status_pb2.Status | None, kind: type[M]) -> list[M]:
    """The details of ``status`` of type ``kind``, unpacked, in order."""
    found: list[M] = []
    for detail in status.details if status is not None else ():
        message = kind()
        if detail.Unpack(message):
            found.append(message)
    return found


def decode(err: grpc.RpcError) -> CallFailure:
    """``err`` (from a sync or ``grpc.aio`` stub) with its details decoded."""
    code: grpc.StatusCode = err.code()
    message: str = err.details() or ""
    # A sync stub's error is a grpc.Call; grpc.aio's has the same methods.
    status: status_pb2.Status | None = rpc_status.from_call(cast(grpc.Call, err))
    info = next(iter(details(status, error_details_pb2.ErrorInfo)), None)
    violations = tuple(
        FieldViolation(v.field, v.description)
        for bad in details(status, error_details_pb2.BadRequest)
        for v in bad.field_violations
    )
    retry = next(iter(details(status, error_details_pb2.RetryInfo)), None)
    return CallFailure(
        code=code,
        message=message,
        status=status,
        domain=info.domain if info else None,
        reason=info.reason if info else None,
        metadata=dict(info.metadata) if info else {},
        field_violations=violations,
        retry_delay_s=retry.retry_delay.ToTimedelta().total_seconds() if retry else None,
    )
