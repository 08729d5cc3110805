"""Proto <-> domain conversions of the event store."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from datagw.v1 import eventstore_pb2 as pb
from google.protobuf.struct_pb2 import Struct, Value

from gateway.api.convert import timestamp
from gateway.domain.events.store import (
    AuditEntity,
    Position,
    Recorded,
    StreamRef,
)
from gateway.errors import FieldViolation, InvalidArgument
from gateway.records.events import (
    EventFilter,
    Expected,
    ExpectedKind,
    StreamEvent,
    without_envelope,
)

_EXPECTED: dict[int, ExpectedKind] = {
    pb.EXPECTED_REVISION_KIND_UNSPECIFIED: ExpectedKind.ANY,
    pb.EXPECTED_REVISION_KIND_ANY: ExpectedKind.ANY,
    pb.EXPECTED_REVISION_KIND_NO_STREAM: ExpectedKind.NO_STREAM,
    pb.EXPECTED_REVISION_KIND_STREAM_EXISTS: ExpectedKind.STREAM_EXISTS,
    pb.EXPECTED_REVISION_KIND_EXACT: ExpectedKind.EXACT,
}
_ENTITIES: dict[int, str] = {pb.AUDIT_ENTITY_TYPE_ORDER: AuditEntity.ORDER,
             pb.AUDIT_ENTITY_TYPE_PAYMENT: AuditEntity.PAYMENT,
             pb.AUDIT_ENTITY_TYPE_USER: AuditEntity.USER}


def stream_in(msg: pb.StreamRef) -> StreamRef:
    return StreamRef(msg.stream, msg.routing_key, msg.keyspace)


def expected_in(kind: int, revision: int) -> Expected:
    known = _EXPECTED.get(kind)
    if known is None:
        # A check this server does not know is never skipped silently.
        raise InvalidArgument([FieldViolation(
            "expected_revision_kind", "must be ANY, NO_STREAM, STREAM_EXISTS or EXACT")])
    return Expected(known, revision)


def entity_in(kind: int) -> str:
    return _ENTITIES.get(kind, "")


class _NotFinite(ValueError):
    pass


def _fields(msg: Struct) -> dict[str, Any]:
    return {key: _value(value) for key, value in msg.fields.items()}


def _value(msg: Value) -> Any:
    kind = msg.WhichOneof("kind")
    if kind == "string_value":
        return msg.string_value
    if kind == "number_value":
        number = msg.number_value
        if not math.isfinite(number):
            raise _NotFinite
        return number
    if kind == "bool_value":
        return msg.bool_value
    if kind == "struct_value":
        return _fields(msg.struct_value)
    if kind == "list_value":
        return [_value(item) for item in msg.list_value.values]
    return None  # null_value


def _dict(msg: Struct, field: str) -> dict[str, Any]:
    """The Struct as plain JSON values, the ones json_format.MessageToDict
    gives (numbers as floats), read field by field at about half its cost:
    every event of an append goes through here."""
    try:
        return _fields(msg)
    except _NotFinite:
        # A number_value of NaN or ±Infinity: JSON (and jsonb) has no such number.
        raise InvalidArgument([FieldViolation(
            field, "numbers must be finite: JSON has no NaN or Infinity")]) from None


def struct(value: dict[str, Any]) -> Struct:
    out = Struct()
    out.update(value)
    return out


def event_in(msg: pb.EventData, name: str) -> StreamEvent:
    """`name`: the event's field path in the request, e.g. "events[0]"."""
    return StreamEvent(
        event_id=msg.event_id, event_type=msg.event_type,
        payload=_dict(msg.payload, f"{name}.payload") if msg.HasField("payload") else {},
        metadata=dict(msg.metadata),
        pii=_dict(msg.pii, f"{name}.pii") if msg.HasField("pii") else None,
        pii_user_id=msg.pii_user_id)


def filter_in(msg: pb.EventFilter) -> EventFilter:
    return EventFilter(tuple(msg.event_types), tuple(msg.stream_prefixes))


def position_in(msg: pb.AllPosition) -> list[tuple[str, int, int, int]]:
    return [(s.keyspace, s.shard, s.commit, s.position) for s in msg.shards]


def position_out(position: Position) -> pb.AllPosition:
    return pb.AllPosition(shards=[
        pb.ShardPosition(keyspace=ks, shard=shard, commit=c.commit, position=c.position)
        for (ks, shard), c in sorted(position.items())])


def recorded_out(r: Recorded) -> pb.RecordedEvent:
    e = r.event
    out = pb.RecordedEvent(
        event_id=e.event_id, stream=e.stream_id, stream_revision=e.stream_revision,
        event_type=e.event_type,
        # The envelope's ciphertext is never returned, only what it opens to.
        payload=struct(without_envelope(e.payload)),
        pii_erased=r.opened.erased,
        metadata={k: str(v) for k, v in e.metadata.items()},
        create_time=timestamp(e.created_at),
        position=pb.ShardPosition(keyspace=r.keyspace, shard=r.shard, commit=e.commit,
                                  position=e.position))
    if r.opened.pii is not None:
        out.pii.CopyFrom(struct(r.opened.pii))
    return out


def audit_out(r: Recorded) -> pb.AuditEntry:
    e = r.event
    change = without_envelope(e.payload)
    if r.opened.pii is not None:
        change["pii"] = r.opened.pii
    elif r.opened.erased:
        change["pii_erased"] = True
    meta = e.metadata
    return pb.AuditEntry(
        time=timestamp(e.created_at), event_type=e.event_type,
        actor=str(meta.get("actor", "")), request_id=str(meta.get("request_id", "")),
        trace_id=str(meta.get("trace_id", "")), span_id=str(meta.get("span_id", "")),
        saga_id=str(meta.get("saga_id", "")), change=struct(change),
        revision=e.stream_revision, event_id=e.event_id,
        on_behalf_of=str(meta.get("on_behalf_of", "")))


def events_out(events: Sequence[Recorded]) -> list[pb.RecordedEvent]:
    return [recorded_out(r) for r in events]
