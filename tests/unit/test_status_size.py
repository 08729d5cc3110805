"""An error's trailers stay small enough for a client to read, however long
the request values it echoes (found by test_fuzz_rpcs: a 70,000-character
name came back in the message, and the client saw RESOURCE_EXHAUSTED instead
of NOT_FOUND)."""

from __future__ import annotations

from google.rpc import error_details_pb2, status_pb2

from gateway.api.status import cut, to_status
from gateway.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PreconditionViolation,
)

# gRPC core's default limit on the metadata a client receives.
CLIENT_LIMIT = 8 * 1024


def _size(status: object) -> int:
    code, details, trailing = (getattr(status, a) for a in ("code", "details",
                                                            "trailing_metadata"))
    assert code is not None
    encoded_message = len(details.encode()) * 3  # percent-encoding at worst
    return encoded_message + sum(len(k) + len(v) for k, v in trailing)


def test_long_echoed_values_are_cut() -> None:
    huge = "é" * 70_000
    error = NotFound("projection", huge)
    error.metadata["name"] = huge
    assert _size(to_status(error)) < CLIENT_LIMIT
    refused = FailedPrecondition(f"cannot {huge}", reason="X", precondition_violations=(
        PreconditionViolation("T", huge, huge),) * 50)
    assert _size(to_status(refused)) < CLIENT_LIMIT


def test_many_violations_are_cut_to_the_first() -> None:
    error = InvalidArgument([FieldViolation(f"events[{i}].event_id", "must be a UUID")
                             for i in range(1000)])
    status = to_status(error)
    assert _size(status) < CLIENT_LIMIT
    assert status.details.endswith("(and 997 more)")
    bad_request = _bad_request(status)
    assert [v.field for v in bad_request.field_violations] == [
        f"events[{i}].event_id" for i in range(10)]
    huge = InvalidArgument([FieldViolation(f"events[{i}].x" + "x" * 500, "bad " * 200)
                            for i in range(1000)])
    assert _size(to_status(huge)) < CLIENT_LIMIT


def _bad_request(status: object) -> error_details_pb2.BadRequest:
    trailing = dict(status.trailing_metadata)  # type: ignore[attr-defined]
    decoded = status_pb2.Status.FromString(trailing["grpc-status-details-bin"])
    for detail in decoded.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            out = error_details_pb2.BadRequest()
            detail.Unpack(out)
            return out
    raise AssertionError("no BadRequest")


def test_short_values_are_kept_as_they_are() -> None:
    assert cut("sku-1") == "sku-1"
    assert cut("x" * 128) == "x" * 128
    assert cut("x" * 129) == "x" * 128 + "... (1 more bytes)"
    # Never half a character.
    assert cut("é" * 100) == "é" * 64 + "... (72 more bytes)"
