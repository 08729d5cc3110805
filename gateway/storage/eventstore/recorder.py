"""The one writer of events: the domains' appends and the event store's (DESIGN section 7).

Events are recorded by one statement per stream: the upsert of the stream's
row takes the next revisions (locking the row, so appends to one stream
serialise and commit in revision order) and hands them to the events'
insert. The stream rules (streams.py) hold in that statement, whoever writes:

- a tombstoned stream is refused without a round trip of its own: the
  upsert's conflict arm skips its row, so nothing comes back and no event
  is inserted; the caller's transaction then fails with
  FAILED_PRECONDITION/STREAM_TOMBSTONED and rolls back;
- a soft-deleted stream comes back: `deleted` is cleared and
  `truncate_before` kept, so its older events stay hidden;
- revisions continue from the row's last one (0 for a new stream).

The domains call `append` inside the transaction of the change the event
records, one round trip per event, or `append_after` to make the change
itself (a caller's query) and record its events in one statement; bulk
writes (a catalog import) call `append_selected`: events on many streams,
built by the caller's SQL, in one statement. The event store calls
`append_new` with the stream locked and its expected revision checked: the
same statement, behind a lookup of the events' ids (idempotency by event
id).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry import trace

from gateway import request_context
from gateway.errors import FailedPrecondition


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
               "on_behalf_of": request_context.on_behalf_of.get(), "saga_id": self.saga_id,
               **self.extra}
        if ctx.is_valid:
            out["trace_id"] = f"{ctx.trace_id:032x}"
            out["span_id"] = f"{ctx.span_id:016x}"
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class NewEvent:
    """A domain event to append; its id is made when it is recorded."""

    stream_id: str
    event_type: str
    payload: dict[str, Any]


def tombstoned(stream: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"stream {stream!r} is tombstoned: it can never be written again",
        reason="STREAM_TOMBSTONED", metadata={"stream": stream})


def _next_revisions(count: str) -> str:
    """The streams row's conflict arm: take `count` more revisions, bring a
    soft-deleted stream back, and skip (return no row for) a tombstoned one."""
    return f"""ON CONFLICT (stream_id) DO UPDATE
        SET revision = s.revision + {count},
            metadata = CASE WHEN (s.metadata ->> 'deleted')::boolean
                            THEN s.metadata || jsonb_build_object('deleted', false)
                            ELSE s.metadata END,
            updated_at = now()
        WHERE (s.metadata ->> 'tombstoned')::boolean IS NOT TRUE"""


def _statement(*, ctes: str = "", only_if: str = "", payload: str = "e.payload::jsonb",
               result: str) -> str:
    """The recording statement with the caller's CTEs before it, a condition
    on writing at all, each event's payload (from `e.payload`) and its final
    SELECT.

    $1 stream, $2 keyspace id, $3-$6 the events' ids, types, payloads and
    metadata (JSON text), in order. `stream` returns the row's new last
    revision, or nothing when the stream is tombstoned or `only_if` fails;
    the events take the revisions up to it.
    """
    return f"""
WITH {ctes}
stream AS (
    INSERT INTO streams AS s (stream_id, revision, keyspace_id)
    SELECT $1::text, cardinality($3::uuid[]) - 1, $2::bytea {only_if}
    {_next_revisions("cardinality($3::uuid[])")}
    RETURNING revision),
inserted AS (
    INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload, metadata,
                        keyspace_id)
    SELECT e.id, $1, stream.revision - cardinality($3::uuid[]) + e.n, e.type, {payload},
           e.metadata::jsonb, $2
    FROM stream, unnest($3::uuid[], $4::text[], $5::text[], $6::text[])
         WITH ORDINALITY AS e(id, type, payload, metadata, n))
{result}"""


_APPEND = _statement(result="SELECT revision FROM stream")

# The ids are looked up in the statement that would insert them, so with the
# stream lock held beforehand its snapshot sees every id committed by an
# append that held the lock before us. $7: the append may go ahead.
_APPEND_NEW = _statement(
    ctes="""existing AS MATERIALIZED (
    SELECT event_id::text AS event_id, stream_id, stream_revision
    FROM events WHERE event_id = ANY($3::uuid[])),""",
    only_if="WHERE $7 AND NOT EXISTS (SELECT 1 FROM existing)",
    result="""SELECT (SELECT revision FROM stream) AS last_revision,
       array_agg(event_id) AS ids, array_agg(stream_id) AS streams,
       array_agg(stream_revision) AS revisions
FROM existing""")


# Parameters of a step recorded with its events (`append_after`) start here.
STEP_PARAMS = 7
_TOMBSTONED = "datagw:STREAM_TOMBSTONED"  # raised by datagw_refuse in append_after


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


async def append(
    conn: asyncpg.Connection,
    events: Sequence[NewEvent],
    meta: EventMeta,
    keyspace_id: bytes | None,
) -> list[int]:
    """Append `events` in order inside the caller's transaction; returns each
    one's stream revision. A tombstoned stream raises STREAM_TOMBSTONED, which
    must roll the caller's transaction back (the change it records with it)."""
    revisions: list[int] = []
    metadata = _json(meta.to_json())
    for event in events:
        revision = await conn.fetchval(
            _APPEND, event.stream_id, keyspace_id, [uuid.uuid4()], [event.event_type],
            [_json(event.payload)], [metadata])
        if revision is None:
            raise tombstoned(event.stream_id)
        revisions.append(int(revision))
    return revisions


@functools.cache
def _selected(source: str) -> str:
    """The recording statement for events a caller's query selects: `source`
    is CTEs ending in one named `ev` (stream_id text, n int, event_type text,
    payload jsonb), n ordering each stream's events. $1 is the metadata of
    all; the caller's parameters follow. Streams are taken in name order (so
    two bulk writes lock them in one order); returns the streams refused,
    each a tombstoned one."""
    return f"""
WITH {source},
counts AS (SELECT stream_id, count(*) AS k FROM ev GROUP BY stream_id),
stream AS (
    INSERT INTO streams AS s (stream_id, revision)
    SELECT stream_id, k - 1 FROM counts ORDER BY stream_id
    {_next_revisions("EXCLUDED.revision + 1")}
    RETURNING stream_id, revision),
inserted AS (
    INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload, metadata)
    SELECT gen_random_uuid(), ev.stream_id,
           stream.revision - counts.k
               + row_number() OVER (PARTITION BY ev.stream_id ORDER BY ev.n),
           ev.event_type, ev.payload, $1::jsonb
    FROM ev JOIN counts USING (stream_id) JOIN stream USING (stream_id)
    ORDER BY ev.stream_id, ev.n)
SELECT array_agg(stream_id) FROM counts
WHERE stream_id NOT IN (SELECT stream_id FROM stream)"""


async def append_selected(conn: asyncpg.Connection, source: str, args: Sequence[Any],
                          meta: EventMeta) -> None:
    """Append the events a caller's query selects, on many streams, inside
    the caller's transaction, in one statement: a bulk write's events (a
    catalog import's thousands of products) built in SQL from the rows it
    writes, with no per-event work in Python. `source` (see `_selected`) may
    itself make the change (a data-modifying CTE); its parameters are
    numbered from 2. For unsharded keyspaces (no keyspace id).

    A tombstoned stream raises STREAM_TOMBSTONED, which must roll the
    caller's transaction back."""
    refused = await conn.fetchval(_selected(source), _json(meta.to_json()), *args)
    if refused:
        raise tombstoned(min(refused))


@functools.cache
def _after(before: str, step: str) -> str:
    return _statement(ctes=f"{before} step AS MATERIALIZED ({step}),",
                      only_if="WHERE (SELECT changed FROM step)",
                      payload="e.payload::jsonb || (SELECT event_fields FROM step)",
                      result="""SELECT step.*, stream.revision AS recorded,
       CASE WHEN step.changed AND stream.revision IS NULL
            THEN datagw_refuse('STREAM_TOMBSTONED', $1) END AS refused
FROM step LEFT JOIN stream ON true""")


async def append_after(
    conn: asyncpg.Connection,
    step: str,
    step_args: Sequence[Any],
    events: Sequence[NewEvent],
    meta: EventMeta,
    keyspace_id: bytes | None,
    *,
    before: str = "",
) -> asyncpg.Record:
    """Run the caller's `step` and record `events` (all of one stream) in the
    same statement: one round trip for a change and the events that record it.

    `step` is a query yielding exactly one row with a boolean column
    `changed` and a jsonb object `event_fields`; it runs first and once, and
    the events are appended only when `changed` is true (an idempotent
    repeat of the change records nothing), each with `event_fields` added to
    its payload (what only the step knows, such as a row it locked). Its
    parameters are numbered from STEP_PARAMS; `before`, CTEs ending in a
    comma, comes ahead of it (a data-modifying CTE there runs whether the
    step reads it or not). Returns the step's row.

    A tombstoned stream fails the statement itself (datagw_refuse, commerce
    and inventory migrations 0012 and 0009), so the step's change never
    outlives its refused events: the caller needs no transaction of its own
    for that, and gets STREAM_TOMBSTONED as from `append`."""
    stream = events[0].stream_id
    assert all(e.stream_id == stream for e in events)
    metadata = _json(meta.to_json())
    try:
        row = await conn.fetchrow(
            _after(before, step), stream, keyspace_id, [uuid.uuid4() for _ in events],
            [e.event_type for e in events], [_json(e.payload) for e in events],
            [metadata] * len(events), *step_args)
    except asyncpg.RaiseError as exc:
        if exc.message == _TOMBSTONED:
            raise tombstoned(stream) from None
        raise
    assert row is not None
    return row


@dataclass(frozen=True)
class Recorded:
    """What `append_new` did: the stream's new last revision (None: nothing
    written), and which of the ids were stored already (id: stream, revision)."""

    last_revision: int | None
    stored: dict[str, tuple[str, int]]


async def append_new(conn: asyncpg.Connection, stream: str, ksid: bytes, ids: Sequence[str],
                     types: Sequence[str], payloads: Sequence[Mapping[str, Any]],
                     metadata: Sequence[Mapping[str, str]], allowed: bool) -> Recorded:
    """Append the events (given column by column) to `stream` when `allowed`
    and none of their ids is stored yet; the caller holds the stream's lock."""
    row = await conn.fetchrow(_APPEND_NEW, stream, ksid, ids, types,
                              [_json(p) for p in payloads], [_json(m) for m in metadata],
                              allowed)
    assert row is not None
    found = zip(row["ids"] or (), row["streams"] or (), row["revisions"] or (), strict=True)
    last = row["last_revision"]
    return Recorded(None if last is None else int(last),
                    {i: (s, int(r)) for i, s, r in found})
