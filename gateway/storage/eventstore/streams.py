"""Streams on one shard: append with an expected revision, read, metadata, deletes.

A stream is its row in `streams` (last revision, metadata) plus its events.
Every write locks the stream row first (an append creating it when
missing), so writes to one stream serialise and a stream's revisions commit
in order: reading a stream by revision never passes an event that commits
later.

The events and the stream row's new revision are written by recorder.py,
the one writer the domains use too (so the tombstone and soft-delete rules
below hold for every write); an append here adds the expected revision and
idempotency checks on top of it.

Idempotency by event id is guaranteed by the data, not a cache: after the
stream lock is held, a fresh statement sees every committed event, so an
append whose ids are already stored as exactly these consecutive revisions
of this stream is recognised as a retry (even when the retries race: the
second waits on the lock, then sees the first's rows).

`streams.metadata` keys (the retention job relies on these):

    max_age_s        number, optional: events older than this many seconds are
                     hidden from reads and removed by retention
    max_count        int, optional (0 or absent: all): only the newest
                     max_count events are visible and kept
    truncate_before  int, optional (0): revisions below it are hidden and
                     removed by retention (soft delete sets it to last + 1)
    deleted          bool: soft deleted; reads are NOT_FOUND until the next
                     append, which continues the revisions and clears it
    tombstoned       bool: hard deleted; the events are gone and the name
                     can never be written again

Only appends create a stream's row; metadata changes, deletes and tombstones
need a stream that had an event (lock_existing), so no caller can fill the
table with, or block for ever, names that were never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import asyncpg

from gateway.errors import Aborted, AlreadyExists, DatagwError, NotFound
from gateway.records.events import (
    ENVELOPE,
    AppendResult,
    Expected,
    ExpectedKind,
    StreamEvent,
    StreamMetadata,
    StreamPage,
    StreamState,
)
from gateway.storage.eventstore import pii, recorder
from gateway.storage.eventstore.log import EVENT_COLUMNS, events_from_rows
from gateway.storage.eventstore.recorder import tombstoned


def not_found(stream: str) -> NotFound:
    return NotFound("stream", stream)


class StreamDeleted(NotFound):
    """A soft-deleted or tombstoned stream, read as NOT_FOUND/STREAM_DELETED."""

    def __init__(self, stream: str, state: StreamState) -> None:
        how = "tombstoned" if state.metadata.tombstoned else "deleted"
        DatagwError.__init__(
            self, f"stream {stream!r} was {how}", reason="STREAM_DELETED",
            metadata={"stream": stream, "tombstoned": str(state.metadata.tombstoned).lower()},
            resource=("stream", stream))


def wrong_expected(stream: str, expected: Expected, state: StreamState) -> Aborted:
    current = str(state.revision) if state.live else (
        "no stream" if state.revision < 0 else f"deleted (last revision {state.revision})")
    want = (str(expected.revision) if expected.kind is ExpectedKind.EXACT
            else expected.kind.value)
    return Aborted(
        f"stream {stream!r} is at {current}, expected {want}",
        reason="WRONG_EXPECTED_VERSION",
        metadata={"stream": stream, "expected": want,
                  "current_revision": str(state.revision),
                  "current": current})


def _state(row: asyncpg.Record | None) -> StreamState | None:
    if row is None:
        return None
    return StreamState(int(row["revision"]), StreamMetadata.from_json(json.loads(row["metadata"])))


async def get_state(conn: asyncpg.Connection, stream: str) -> StreamState | None:
    return _state(await conn.fetchrow(
        "SELECT revision, metadata::text AS metadata FROM streams WHERE stream_id = $1", stream))


async def lock_state(conn: asyncpg.Connection, stream: str, ksid: bytes) -> StreamState:
    """Lock the stream's row (creating it, with no events, when missing) for
    the rest of the transaction; a missing row created here vanishes if the
    transaction rolls back."""
    row = await conn.fetchrow(
        """INSERT INTO streams AS s (stream_id, revision, keyspace_id) VALUES ($1, -1, $2)
           ON CONFLICT (stream_id) DO UPDATE SET updated_at = now()
           RETURNING revision, metadata::text AS metadata""",
        stream, ksid)
    state = _state(row)
    assert state is not None
    return state


def existing(stream: str, state: StreamState | None) -> StreamState:
    """The state of a stream that exists; NOT_FOUND (STREAM_NOT_FOUND) otherwise.

    A stream exists once an event was appended to it (revision 0 or more),
    whatever happened since (soft delete, tombstone). A row without an event
    is left only by an older gateway, which made one for a metadata change
    or a tombstone before any append: a tombstoned one still exists (its
    name was reserved and appends to it are refused, so saying so is the
    truth), the others count as never existed.
    """
    if state is None or (state.revision < 0 and not state.metadata.tombstoned):
        raise not_found(stream)
    return state


async def lock_existing(conn: asyncpg.Connection, stream: str) -> StreamState:
    """Lock the row of a stream that exists for the rest of the transaction;
    NOT_FOUND, creating nothing, for one that does not."""
    return existing(stream, _state(await conn.fetchrow(
        "SELECT revision, metadata::text AS metadata FROM streams WHERE stream_id = $1 "
        "FOR UPDATE", stream)))


def _retry_result(stream: str, ids: Sequence[str], found: Mapping[str, tuple[str, int]]
                  ) -> AppendResult:
    """The original result when `ids` are stored as consecutive revisions of
    `stream` in request order; otherwise the overlap error."""
    if len(found) == len(ids) and all(found[i][0] == stream for i in ids):
        first = found[ids[0]][1]
        if all(found[i][1] == first + n for n, i in enumerate(ids)):
            return AppendResult(first, first + len(ids) - 1, already_appended=True)
    elsewhere = sorted({found[i][0] for i in found} - {stream})
    raise AlreadyExists(
        f"{len(found)} of the {len(ids)} event ids are already stored"
        + (f" in other streams ({', '.join(elsewhere[:3])})" if elsewhere else
           " but not as exactly this append"),
        reason="EVENT_IDS_OVERLAP",
        metadata={"stream": stream, "existing_ids": ",".join(sorted(found)[:10]),
                  "existing_count": str(len(found))})


async def _seal(conn: asyncpg.Connection, ksid: bytes, events: Sequence[StreamEvent]
                ) -> list[dict[str, Any]]:
    """Each event's payload, with its personal data sealed into the envelope."""
    payloads = [dict(e.payload) for e in events]
    by_user: dict[str, list[int]] = {}
    for n, e in enumerate(events):
        if e.pii is not None:
            by_user.setdefault(e.pii_user_id, []).append(n)
    for user, indexes in by_user.items():
        sealed = await pii.seal_many(conn, user, ksid, [events[n].pii or {} for n in indexes])
        for n, envelope in zip(indexes, sealed, strict=True):
            payloads[n][ENVELOPE] = envelope
    return payloads


async def append(conn: asyncpg.Connection, stream: str, ksid: bytes, expected: Expected,
                 events: Sequence[StreamEvent]) -> AppendResult:
    """Append `events` to `stream` (conn in a transaction on its shard)."""
    state = await lock_state(conn, stream, ksid)
    allowed = not state.metadata.tombstoned and expected.holds(state)
    has_pii = any(e.pii is not None for e in events)
    ids = [e.event_id for e in events]

    async def run(payloads: Sequence[Mapping[str, Any]], write: bool) -> recorder.Recorded:
        try:
            return await recorder.append_new(
                conn, stream, ksid, ids, [e.event_type for e in events], payloads,
                [e.metadata for e in events], write)
        except asyncpg.UniqueViolationError as exc:
            # The same ids appended to another stream at this very moment:
            # that append holds a different stream lock, so the unique index
            # is what meets us.
            raise AlreadyExists(
                "some event ids are being appended to another stream concurrently",
                reason="EVENT_IDS_OVERLAP", metadata={"stream": stream}) from exc

    recorded = await run([e.payload for e in events], allowed and not has_pii)
    if allowed and has_pii and not recorded.stored:
        # Personal data is sealed only once the append is known to go ahead
        # (a retry must not need the key, which may have been erased since).
        recorded = await run(await _seal(conn, ksid, events), True)
    if recorded.stored:
        return _retry_result(stream, ids, recorded.stored)
    if state.metadata.tombstoned:
        raise tombstoned(stream)
    if not allowed:
        raise wrong_expected(stream, expected, state)
    assert recorded.last_revision is not None
    return AppendResult(recorded.last_revision - len(events) + 1, recorded.last_revision,
                        already_appended=False)


def live_state(stream: str, state: StreamState | None) -> StreamState:
    """The state of a stream a read may return events of; NOT_FOUND otherwise."""
    if state is None or state.revision < 0:
        raise not_found(stream)
    if state.metadata.deleted or state.metadata.tombstoned:
        raise StreamDeleted(stream, state)
    return state


async def read(conn: asyncpg.Connection, stream: str, forward: bool, from_revision: int | None,
               limit: int) -> StreamPage:
    """Up to `limit` visible events of a live stream from `from_revision`
    (inclusive; None: the start, or the end when reading backward)."""
    state = live_state(stream, await get_state(conn, stream))
    return await read_visible(conn, stream, state, forward, from_revision, limit)


async def read_visible(conn: asyncpg.Connection, stream: str, state: StreamState, forward: bool,
                       from_revision: int | None, limit: int) -> StreamPage:
    """Events of `stream` that retention leaves visible, bounded by `state`
    (an append after `state` was read is not included)."""
    low, high = state.first_visible(), state.revision
    if forward:
        low = max(low, from_revision if from_revision is not None else 0)
    elif from_revision is not None:
        high = min(high, from_revision)
    rows = await conn.fetch(
        f"""SELECT {EVENT_COLUMNS} FROM events
            WHERE stream_id = $1 AND stream_revision BETWEEN $2 AND $3
              AND ($4::float8 IS NULL OR created_at >= now() - make_interval(secs => $4))
            ORDER BY stream_revision {'ASC' if forward else 'DESC'} LIMIT $5""",
        stream, low, high, state.metadata.max_age_s, limit)
    events = events_from_rows(rows)
    bound = high if forward else low
    end = len(events) < limit or events[-1].stream_revision == bound
    return StreamPage(events, state, end)


async def set_retention(conn: asyncpg.Connection, stream: str,
                        max_age_s: float | None, max_count: int) -> StreamState:
    """Set the retention of a stream that exists (NOT_FOUND before its first
    append: a caller cannot make rows for names nobody writes)."""
    state = await lock_existing(conn, stream)
    if state.metadata.tombstoned:
        raise tombstoned(stream)
    meta = replace(state.metadata, max_age_s=max_age_s, max_count=max_count)
    await _write_metadata(conn, stream, meta)
    return replace(state, metadata=meta)


async def _write_metadata(conn: asyncpg.Connection, stream: str, meta: StreamMetadata) -> None:
    await conn.execute(
        "UPDATE streams SET metadata = $2::jsonb, updated_at = now() WHERE stream_id = $1",
        stream, json.dumps(meta.to_json()))


async def soft_delete(conn: asyncpg.Connection, stream: str, expected: Expected) -> None:
    """Hide every event up to now; the next append continues the revisions.
    Deleting a deleted stream again succeeds (the check still applies);
    NOT_FOUND for a stream that never had an event."""
    state = await lock_existing(conn, stream)
    if state.metadata.tombstoned:
        raise tombstoned(stream)
    if not expected.holds(state):
        raise wrong_expected(stream, expected, state)
    await _write_metadata(conn, stream, replace(
        state.metadata, deleted=True, truncate_before=state.revision + 1))


async def tombstone(conn: asyncpg.Connection, stream: str, expected: Expected) -> None:
    """Remove the stream's events now and refuse every later write to it.
    Tombstoning twice succeeds; a stream that never had an event is
    NOT_FOUND (a tombstone would block a name nobody used, for ever)."""
    state = await lock_existing(conn, stream)
    if state.metadata.tombstoned:
        return
    if not expected.holds(state):
        raise wrong_expected(stream, expected, state)
    await conn.execute("DELETE FROM events WHERE stream_id = $1", stream)
    await _write_metadata(conn, stream, replace(
        state.metadata, deleted=True, tombstoned=True, truncate_before=state.revision + 1))
