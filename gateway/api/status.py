"""DatagwError -> grpc status with google.rpc details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.errors import ERROR_DOMAIN, DatagwError


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: DatagwError) -> grpc.Status:
    details = [
        _pack(error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
        ))
    ]
    if error.field_violations:
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.field_violations
        ])))
    if error.precondition_violations:
        details.append(_pack(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type=v.type, subject=v.subject, description=v.description
            )
            for v in error.precondition_violations
        ])))
    if error.resource is not None:
        details.append(_pack(error_details_pb2.ResourceInfo(
            resource_type=error.resource[0], resource_name=error.resource[1]
        )))
    if error.retry_after_s is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_s * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    # grpc.StatusCode values are (number, name); the numbers are google.rpc.Code's.
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=details)
    converted: grpc.Status = rpc_status.to_status(status)
    return converted
