"""Records domain events inside the caller's transaction (DESIGN section 7).

The change and its event commit together or not at all. A stream's next
revision comes from its row in `streams`, locked by the upsert, so two
transactions appending to one stream serialise instead of colliding.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry import trace

from gateway import request_context


@dataclass(frozen=True)
class EventMeta:
    """Who and why, recorded with every event of one request."""

    request_id: str = ""
    actor: str = ""
    saga_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, str]:
        ctx = trace.get_current_span().get_span_context()
        out = {"request_id": self.request_id, "actor": self.actor or request_context.actor.get(),
               "saga_id": self.saga_id,
               **self.extra}
        if ctx.is_valid:
            out["trace_id"] = f"{ctx.trace_id:032x}"
            out["span_id"] = f"{ctx.span_id:016x}"
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class NewEvent:
    stream_id: str
    event_type: str
    payload: dict[str, Any]


async def append(
    conn: asyncpg.Connection,
    events: list[NewEvent],
    meta: EventMeta,
    keyspace_id: bytes | None,
) -> list[int]:
    """Append `events` in order; returns each one's stream revision."""
    revisions: list[int] = []
    metadata = json.dumps(meta.to_json())
    for event in events:
        # One round trip per event: the stream row's upsert hands its new
        # revision straight to the event insert.
        revision = await conn.fetchval(
            """WITH stream AS (
                   INSERT INTO streams AS s (stream_id, revision, keyspace_id)
                   VALUES ($1, 0, $2)
                   ON CONFLICT (stream_id) DO UPDATE
                       SET revision = s.revision + 1, updated_at = now()
                   RETURNING revision)
               INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload,
                                   metadata, keyspace_id)
               SELECT $3, $1, stream.revision, $4, $5::jsonb, $6::jsonb, $2 FROM stream
               RETURNING stream_revision""",
            event.stream_id, keyspace_id, uuid.uuid4(), event.event_type,
            json.dumps(event.payload), metadata,
        )
        revisions.append(int(revision))
    return revisions
