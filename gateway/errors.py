"""The error model shared by every layer.

Lower layers raise these; the API layer's interceptor turns them into a gRPC
status with google.rpc details (BadRequest, ErrorInfo, PreconditionFailure,
ResourceInfo). Anything that is not a DatagwError becomes INTERNAL with an id
that is also logged, so SQL text or a stack trace never reaches a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc

ERROR_DOMAIN = "datagw"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    type: str
    subject: str
    description: str


class DatagwError(Exception):
    """An error with a status code, a machine-readable reason and details."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        precondition_violations: tuple[PreconditionViolation, ...] = (),
        resource: tuple[str, str] | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata = dict(metadata or {})
        self.field_violations = field_violations
        self.precondition_violations = precondition_violations
        self.resource = resource
        # When to try again (google.rpc.RetryInfo), for refusals that pass.
        self.retry_after_s = retry_after_s


class InvalidArgument(DatagwError):
    """The request's fields at fault. A caller with a more precise reason
    (and its own message and metadata) names it; the default message sums
    up the violations."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(
        self,
        violations: list[FieldViolation] | tuple[FieldViolation, ...],
        *,
        reason: str = "INVALID_ARGUMENT",
        message: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        violations = tuple(violations)
        if message is None:
            summary = "; ".join(f"{v.field}: {v.description}" for v in violations[:3])
            more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
            message = f"invalid request: {summary}{more}"
        super().__init__(message, reason=reason, metadata=metadata, field_violations=violations)


class NotFound(DatagwError):
    code = grpc.StatusCode.NOT_FOUND

    def __init__(self, resource_type: str, name: str) -> None:
        super().__init__(
            f"{resource_type} {name!r} not found",
            reason=f"{resource_type.upper()}_NOT_FOUND",
            resource=(resource_type, name),
        )


class AlreadyExists(DatagwError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DatagwError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(DatagwError):
    """A concurrency conflict the caller may retry after re-reading."""

    code = grpc.StatusCode.ABORTED


class Unavailable(DatagwError):
    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(DatagwError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unauthenticated(DatagwError):
    """No identity where one is required, or a credential that does not verify."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(DatagwError):
    """The caller is known, and the access policy does not let it do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


class DeadlineExceeded(DatagwError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


@dataclass
class Violations:
    """Collects every field violation of a request before failing once;
    `reason` is the ErrorInfo reason of that failure (a check with a more
    precise one, e.g. INVALID_STREAM_NAME, sets it)."""

    items: list[FieldViolation] = field(default_factory=list)
    reason: str = "INVALID_ARGUMENT"

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument(self.items, reason=self.reason)
