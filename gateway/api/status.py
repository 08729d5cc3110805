"""DatagwError -> grpc status with google.rpc details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from gateway.errors import ERROR_DOMAIN, DatagwError

# A client refuses trailers beyond its metadata limit (8 KiB by default in
# gRPC core: RESOURCE_EXHAUSTED on its side, and the real answer is lost), and
# the trailers carry the message (percent-encoded) and every detail. Values
# echoed from a request are cut to these many UTF-8 bytes, and only the first
# violations are listed (the message says how many there are).
MAX_MESSAGE_BYTES = 512
MAX_VALUE_BYTES = 128
MAX_DESCRIPTION_BYTES = 256
MAX_VIOLATIONS = 10


def cut(text: str, max_bytes: int = MAX_VALUE_BYTES) -> str:
    """`text`, or its start and how much was left out when it is longer than `max_bytes`."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    start = encoded[:max_bytes].decode(errors="ignore")
    return f"{start}... ({len(encoded) - len(start.encode())} more bytes)"


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_status(error: DatagwError) -> grpc.Status:
    details = [
        _pack(error_details_pb2.ErrorInfo(
            reason=error.reason, domain=ERROR_DOMAIN,
            metadata={cut(k): cut(v) for k, v in error.metadata.items()},
        ))
    ]
    if error.field_violations:
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=cut(v.field), description=cut(v.description, MAX_DESCRIPTION_BYTES))
            for v in error.field_violations[:MAX_VIOLATIONS]
        ])))
    if error.precondition_violations:
        details.append(_pack(error_details_pb2.PreconditionFailure(violations=[
            error_details_pb2.PreconditionFailure.Violation(
                type=cut(v.type), subject=cut(v.subject),
                description=cut(v.description, MAX_DESCRIPTION_BYTES),
            )
            for v in error.precondition_violations[:MAX_VIOLATIONS]
        ])))
    if error.resource is not None:
        details.append(_pack(error_details_pb2.ResourceInfo(
            resource_type=cut(error.resource[0]), resource_name=cut(error.resource[1])
        )))
    if error.retry_after_s is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_s * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    # grpc.StatusCode values are (number, name); the numbers are google.rpc.Code's.
    status = status_pb2.Status(code=error.code.value[0],
                               message=cut(error.message, MAX_MESSAGE_BYTES), details=details)
    converted: grpc.Status = rpc_status.to_status(status)
    return converted
