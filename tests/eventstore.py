"""Helpers for the event store tests: requests, stubs and reading a subscription."""

from __future__ import annotations

import uuid
from typing import Any

from datagw.v1 import eventstore_pb2 as pb
from google.protobuf.struct_pb2 import Struct

ANY = pb.EXPECTED_REVISION_KIND_ANY
NO_STREAM = pb.EXPECTED_REVISION_KIND_NO_STREAM
STREAM_EXISTS = pb.EXPECTED_REVISION_KIND_STREAM_EXISTS
EXACT = pb.EXPECTED_REVISION_KIND_EXACT


def struct(value: dict[str, Any]) -> Struct:
    out = Struct()
    out.update(value)
    return out


def event(event_type: str = "Noted", event_id: str | None = None, **payload: Any
          ) -> pb.EventData:
    return pb.EventData(event_id=event_id or str(uuid.uuid4()), event_type=event_type,
                        payload=struct(payload))


def ref(stream: str, routing_key: str = "", keyspace: str = "") -> pb.StreamRef:
    return pb.StreamRef(stream=stream, routing_key=routing_key, keyspace=keyspace)


def append(stream: str | pb.StreamRef, events: list[pb.EventData], kind: int = ANY,
           revision: int = 0) -> pb.AppendToStreamRequest:
    return pb.AppendToStreamRequest(
        stream=ref(stream) if isinstance(stream, str) else stream,
        expected_revision_kind=kind, expected_revision=revision, events=events)


def positions(events: list[pb.RecordedEvent]) -> list[tuple[str, int, int, int]]:
    return [(e.position.keyspace, e.position.shard, e.position.commit, e.position.position)
            for e in events]


def resume_after(start: pb.AllPosition, events: list[pb.RecordedEvent]) -> pb.AllPosition:
    """The vector a subscriber resumes from: `start` moved past each event received."""
    at = {(p.keyspace, p.shard): (p.commit, p.position) for p in start.shards}
    for e in events:
        at[(e.position.keyspace, e.position.shard)] = (e.position.commit, e.position.position)
    return pb.AllPosition(shards=[
        pb.ShardPosition(keyspace=ks, shard=shard, commit=c, position=p)
        for (ks, shard), (c, p) in sorted(at.items())])
