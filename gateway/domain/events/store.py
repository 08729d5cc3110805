"""The event store's operations: routing streams, appends, reads, metadata, audit trails.

Streams live in an event keyspace: "commerce" (sharded; a stream goes to the
shard owning its routing key), "inventory" or "catalog" (one shard each). Writes go to the
stream's shard primary in one transaction (gateway/storage/eventstore/
streams.py); ReadAll reads every shard of every event keyspace through the
commit-safe reader (log.read_after). Semantics for callers: docs/events.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from gateway import telemetry
from gateway.domain import tokens
from gateway.domain.commerce import rules as commerce_rules
from gateway.domain.paging import decode_token, encode_token, fingerprint
from gateway.errors import FieldViolation, InvalidArgument, NotFound, Violations
from gateway.records.events import (
    ENVELOPE,
    NO_REVISION,
    AppendResult,
    Cursor,
    EventFilter,
    Expected,
    ExpectedKind,
    Opened,
    Page,
    StoredEvent,
    StreamEvent,
    StreamState,
)
from gateway.storage.eventstore import log, pii
from gateway.storage.eventstore import streams as store
from gateway.storage.eventstore.recorder import EventMeta
from gateway.storage.postgres import idempotency
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.telemetry import tracer

DOMAIN = "events"
COMMERCE = "commerce"
INVENTORY = "inventory"
CATALOG = "catalog"

# A stream name: 1-200 of A-Z a-z 0-9 . _ - :, the first a letter or digit.
# Without "/" or a backslash, and with no leading ".", a name is one plain
# word that cannot read as a path (".", "..", "../x", "a/b") wherever it is
# stored, exported or logged. The domains' names fit: user-, order-,
# payment- and stock- carry ids of this alphabet; a reservation id is free
# text, so a reservation- stream with other characters cannot be named here
# (ReadAll and subscriptions still carry its events). Matched with
# fullmatch: "$" would let a trailing newline through.
STREAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")
STREAM_NAME_RULE = "1-200 characters of A-Z a-z 0-9 . _ - :, starting with a letter or digit"
INVALID_STREAM_NAME = "INVALID_STREAM_NAME"
# What ReadAll's stream_prefixes may hold: the alphabet names had before
# STREAM_NAME (with "/"), so streams created then can still be filtered for.
STREAM_PREFIX = re.compile(r"[A-Za-z0-9._:/-]{1,200}")
# \Z, not $, which also matches before a trailing newline.
EVENT_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,100}\Z")
METADATA_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
MAX_EVENTS = 1000
MAX_REVISION = 2**63 - 1  # a stream revision is a bigint
MAX_PAYLOAD_BYTES = 64 * 1024      # one event's payload, as stored (compact JSON)
MAX_PII_BYTES = 16 * 1024          # one event's personal data, before sealing
# A stream's max_age: reads and retention compare created_at with now() minus
# it, which must stay a time PostgreSQL can hold.
MAX_AGE_S = 100 * 365 * 86_400
MAX_METADATA_ENTRIES = 32
MAX_METADATA_VALUE = 1024
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Written by the gateway from the call itself; a caller cannot set them.
GATEWAY_METADATA = frozenset({"actor", "on_behalf_of", "trace_id", "span_id"})
# The streams the domains write (users, orders, payments, inventory): they
# are the system's own record, read by projections and audit trails, so the
# API reads them but never writes, deletes or re-configures them.
DOMAIN_STREAM_PREFIXES = {COMMERCE: ("user-", "order-", "payment-"),
                          INVENTORY: ("stock-", "reservation-"), CATALOG: ("product-",)}
# Streams whose name carries the routing key (the rest route by the name).
_ID_STREAMS = {"order-": "o", "payment-": "p"}

ShardKey = tuple[str, int]
Position = dict[ShardKey, Cursor]
# A caller's position vector as sent: (keyspace, shard, commit, position) each.
PositionVector = Sequence[tuple[str, int, int, int]]


@dataclass(frozen=True)
class StreamRef:
    stream: str
    routing_key: str = ""
    keyspace: str = ""


@dataclass(frozen=True)
class Located:
    """Where a stream lives: its keyspace, shard and stored keyspace id."""

    stream: str
    keyspace: Keyspace
    shard: Shard
    ksid: bytes


@dataclass(frozen=True)
class Recorded:
    """A stored event with its place and its personal data opened."""

    event: StoredEvent
    keyspace: str
    shard: int
    opened: Opened

    @property
    def key(self) -> ShardKey:
        return self.keyspace, self.shard


@dataclass(frozen=True)
class Appended:
    result: AppendResult
    consistency_token: str


@dataclass(frozen=True)
class StreamRead:
    events: list[Recorded]
    last_revision: int
    end_of_stream: bool


@dataclass(frozen=True)
class AllRead:
    events: list[Recorded]
    position: Position
    end_of_all: bool


@dataclass(frozen=True)
class AuditPage:
    entries: list[Recorded]
    next_page_token: str


class AuditEntity:
    ORDER = "order"
    PAYMENT = "payment"
    USER = "user"


def check_limit(v: Violations, name: str, limit: int) -> int:
    if limit == 0:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        v.add(name, f"must be 1-{MAX_LIMIT} (unset: {DEFAULT_LIMIT})")
    return limit


def check_filter(v: Violations, flt: EventFilter, name: str = "filter") -> None:
    for i, t in enumerate(flt.event_types):
        if not EVENT_TYPE_PATTERN.match(t):
            v.add(f"{name}.event_types[{i}]", "must be 1-100 characters of A-Z a-z 0-9 . _ -")
    for i, p in enumerate(flt.stream_prefixes):
        if not STREAM_PREFIX.fullmatch(p):
            v.add(f"{name}.stream_prefixes[{i}]",
                  "must be 1-200 characters of A-Z a-z 0-9 . _ - : /")


def _has_nul(value: Any) -> bool:
    """Whether a JSON value holds NUL in a key or a string: jsonb refuses it."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def _check_event(v: Violations, name: str, e: StreamEvent, seen: set[str]) -> None:
    try:
        canonical = str(uuid.UUID(e.event_id))
    except ValueError:
        v.add(f"{name}.event_id", "required: a UUID, the idempotency key of the event")
        canonical = ""
    if canonical and canonical in seen:
        v.add(f"{name}.event_id", "appears twice in this request")
    seen.add(canonical)
    if not EVENT_TYPE_PATTERN.match(e.event_type):
        v.add(f"{name}.event_type", "required: 1-100 characters of A-Z a-z 0-9 . _ -")
    if ENVELOPE in e.payload:
        v.add(f"{name}.payload", f"the key {ENVELOPE!r} is reserved; put personal data in pii")
    if _json_size(e.payload) > MAX_PAYLOAD_BYTES:
        v.add(f"{name}.payload", f"must be at most {MAX_PAYLOAD_BYTES} bytes as JSON")
    elif _has_nul(e.payload):
        v.add(f"{name}.payload", "must not contain NUL characters")
    if e.pii is not None:
        if not e.pii_user_id:
            v.add(f"{name}.pii_user_id", "required with pii: whose personal data it is")
        else:
            commerce_rules.check_user_id(v, f"{name}.pii_user_id", e.pii_user_id)
        if _json_size(e.pii) > MAX_PII_BYTES:
            v.add(f"{name}.pii", f"must be at most {MAX_PII_BYTES} bytes as JSON")
    elif e.pii_user_id:
        v.add(f"{name}.pii_user_id", "set only together with pii")
    if len(e.metadata) > MAX_METADATA_ENTRIES:
        v.add(f"{name}.metadata", f"at most {MAX_METADATA_ENTRIES} entries")
    for key, value in e.metadata.items():
        if not METADATA_KEY_PATTERN.match(key):
            v.add(f"{name}.metadata", f"key {key[:70]!r}: 1-64 characters of A-Z a-z 0-9 . _ -")
        elif key in GATEWAY_METADATA:
            v.add(f"{name}.metadata", f"key {key!r} is set by the gateway from the call")
        if len(value) > MAX_METADATA_VALUE:
            v.add(f"{name}.metadata", f"value of {key[:70]!r}: at most {MAX_METADATA_VALUE} "
                                      "characters")
        elif "\x00" in value:
            v.add(f"{name}.metadata", f"value of {key[:70]!r}: must not contain NUL characters")


async def _open(conn: asyncpg.Connection, keyspace: str,
                events: Sequence[StoredEvent]) -> list[Opened]:
    """Decrypted personal data per event; keys exist only in commerce (an
    envelope elsewhere cannot be opened and reads as erased)."""
    if keyspace == COMMERCE:
        return await pii.open_all(conn, [e.payload for e in events])
    return [Opened(erased=pii.envelope_of(e.payload) is not None) for e in events]


class EventStoreDomain:
    def __init__(self, keyspaces: Mapping[str, Keyspace], event_keyspaces: Sequence[str]) -> None:
        self._keyspaces = {name: keyspaces[name] for name in event_keyspaces}

    # -- routing -------------------------------------------------------------

    def _hold_back(self, keyspace: str, shard: int, position: Position) -> Cursor | None:
        """How far a reader of the whole log may read `shard` now, given what
        it has read of the others (`position`); None: as far as it likes.
        A range that moved onto `shard` (RangeMap.handoffs) holds its events
        back until the reader has passed the range's last event on the shard
        it left, so that every stream reads in order across the move."""
        ks = self._keyspaces[keyspace]
        caps = [Cursor(*h.to_after) for h in ks.map.handoffs
                if h.target == shard
                and position.get((keyspace, h.source), Cursor()) < Cursor(*h.from_last)]
        return min(caps) if caps else None

    def held_back(self, keyspace: str, shard: int, position: Position, start: Cursor,
                  read: tuple[Page, list[Recorded]]) -> tuple[Page, list[Recorded]] | None:
        """A shard's page read from `start`, cut at its hold-back (`_hold_back`,
        given `position`): what lies beyond comes in a later read. None when
        nothing is held back."""
        page, recs = read
        cap = self._hold_back(keyspace, shard, position)
        if cap is None or page.next <= cap:
            return None
        kept = [r for r in recs if r.event.cursor <= cap]
        return Page([r.event for r in kept], max(start, cap), reached_horizon=False), kept

    def event_shards(self) -> list[tuple[str, Shard]]:
        """Every shard holding events, in ReadAll's order."""
        return [(name, s) for name, ks in self._keyspaces.items() for s in ks.shards]

    def locate(self, v: Violations, ref: StreamRef, name: str = "stream") -> Located | None:
        """The stream's shard and keyspace id; None (with violations) when the
        reference is malformed."""
        keyspace_name = ref.keyspace or COMMERCE
        keyspace = self._keyspaces.get(keyspace_name)
        if keyspace is None:
            v.add(f"{name}.keyspace", f"must be one of {', '.join(sorted(self._keyspaces))} "
                                      f"(empty: {COMMERCE})")
        if not STREAM_NAME.fullmatch(ref.stream):
            v.add(f"{name}.stream", f"required: {STREAM_NAME_RULE}")
            v.reason = INVALID_STREAM_NAME
            return None
        if len(ref.routing_key) > 200:
            v.add(f"{name}.routing_key", "must be at most 200 characters")
        derived = self._derived_ksid(v, ref.stream, name) if keyspace_name == COMMERCE else None
        if keyspace is None:
            return None
        if derived is not None and ref.routing_key and keyspace_id(ref.routing_key) != derived:
            v.add(f"{name}.routing_key",
                  "this stream routes by the id in its name; leave routing_key empty")
        ksid = derived if derived is not None else keyspace_id(ref.routing_key or ref.stream)
        if v.items:
            return None
        shard = keyspace.shard_for(ksid)
        telemetry.annotate(DOMAIN, {"datagw.shard": shard.index})
        return Located(ref.stream, keyspace, shard, ksid_bytes(ksid))

    @staticmethod
    def _derived_ksid(v: Violations, stream: str, name: str) -> int | None:
        """The keyspace id a commerce domain stream's name carries, if it is one."""
        if stream.startswith("user-"):
            return keyspace_id(stream[len("user-"):])
        for prefix, kind in _ID_STREAMS.items():
            if stream.startswith(prefix):
                return commerce_rules.id_keyspace_id(v, f"{name}.stream", kind,
                                                     stream[len(prefix):])
        return None

    def _located(self, ref: StreamRef, name: str = "stream") -> Located:
        v = Violations()
        where = self.locate(v, ref, name)
        v.raise_if_any()
        assert where is not None
        return where

    def _writable(self, v: Violations, where: Located | None, name: str = "stream") -> None:
        if where is None:
            return
        for prefix in DOMAIN_STREAM_PREFIXES.get(where.keyspace.name, ()):
            if where.stream.startswith(prefix):
                v.add(f"{name}.stream", f"streams named {prefix}* are written by the gateway's "
                                        "own domains; append to a stream of your own")

    def _token(self, where: Located, lsn: str) -> str:
        return tokens.encode(where.keyspace.name, where.shard.index, lsn)

    # -- appends and stream writes --------------------------------------------

    async def append(self, ref: StreamRef, expected: Expected,
                     events: Sequence[StreamEvent]) -> Appended:
        v = Violations()
        where = self.locate(v, ref)
        self._writable(v, where)
        _check_expected(v, expected)
        if not 1 <= len(events) <= MAX_EVENTS:
            v.add("events", f"must hold 1-{MAX_EVENTS} events")
        seen: set[str] = set()
        for i, e in enumerate(events[:MAX_EVENTS]):
            _check_event(v, f"events[{i}]", e, seen)
            if e.pii is not None and where is not None and e.pii_user_id:
                if where.keyspace.name != COMMERCE:
                    v.add(f"events[{i}].pii", "personal data is kept only in the commerce "
                                              "keyspace, next to its user's key")
                elif ksid_bytes(keyspace_id(e.pii_user_id)) != where.ksid:
                    v.add(f"events[{i}].pii_user_id",
                          "the stream must route by this user (routing_key = the user id, or "
                          "the user's own stream): the user's key lives on the user's shard "
                          "and is used in the append's transaction")
        v.raise_if_any()
        assert where is not None
        meta = EventMeta().to_json()
        stored = [dataclasses.replace(e, event_id=str(uuid.UUID(e.event_id)),
                                      metadata={**e.metadata, **meta}) for e in events]
        with tracer.start_as_current_span("eventstore append", attributes={
                "datagw.keyspace": where.keyspace.name, "datagw.shard": where.shard.index,
                "datagw.stream": where.stream, "datagw.events": len(events)}) as span:
            # Routed: a stream whose range moves meanwhile is appended where it went.
            stream, ksid = where.stream, where.ksid
            route = idempotency.Route(where.keyspace, int.from_bytes(ksid, "big"))
            result, lsn = await idempotency.run_transaction(
                route, "AppendToStream",
                lambda conn: store.append(conn, stream, ksid, expected, stored))
            assert route.used is not None
            where = dataclasses.replace(where, shard=route.used)
            span.set_attribute("datagw.already_appended", result.already_appended)
        return Appended(result, self._token(where, lsn))

    async def _write(self, ref: StreamRef, operation: str, expected: Expected | None,
                     fn: Callable[[asyncpg.Connection, Located], Awaitable[object]]) -> None:
        v = Violations()
        where = self.locate(v, ref)
        self._writable(v, where)
        if expected is not None:
            _check_expected(v, expected)
        v.raise_if_any()
        assert where is not None
        async with where.shard.connection(operation) as conn:
            async with conn.transaction():
                await fn(conn, where)

    async def set_retention(self, ref: StreamRef, max_age_s: float | None,
                            max_count: int) -> None:
        v = Violations()
        if max_age_s is not None and not 0 < max_age_s <= MAX_AGE_S:
            v.add("retention.max_age",
                  "must be positive and at most 100 years (unset: keep events of any age)")
        if max_count < 0:
            v.add("retention.max_count", "must be 0 (keep all) or more")
        v.raise_if_any()
        await self._write(ref, "SetStreamMetadata", None, lambda conn, where: store.set_retention(
            conn, where.stream, max_age_s, max_count))

    async def delete(self, ref: StreamRef, expected: Expected) -> None:
        await self._write(ref, "DeleteStream", expected, lambda conn, where: store.soft_delete(
            conn, where.stream, expected))

    async def tombstone(self, ref: StreamRef, expected: Expected) -> None:
        await self._write(ref, "TombstoneStream", expected, lambda conn, where: store.tombstone(
            conn, where.stream, expected))

    # -- reads ---------------------------------------------------------------

    async def metadata(self, ref: StreamRef) -> StreamState:
        where = self._located(ref)
        async with where.shard.connection("GetStreamMetadata") as conn:
            state = await store.get_state(conn, where.stream)
        return store.existing(where.stream, state)

    async def read_stream(self, ref: StreamRef, forward: bool, from_revision: int | None,
                          limit: int) -> StreamRead:
        v = Violations()
        where = self.locate(v, ref)
        limit = check_limit(v, "limit", limit)
        if from_revision is not None and from_revision < 0:
            v.add("from_revision", "must be 0 or more (unset: the start, or the end backward)")
        v.raise_if_any()
        assert where is not None
        async with where.shard.connection("ReadStream") as conn:
            page = await store.read(conn, where.stream, forward, from_revision, limit)
            opened = await _open(conn, where.keyspace.name, page.events)
        return StreamRead(self._recorded(where, page.events, opened), page.state.revision,
                          page.end_of_stream)

    async def read_stream_after(self, where: Located, revision: int, limit: int) -> StreamRead:
        """A stream subscription's next page: visible events from `revision`;
        nothing yet for a stream without events; NOT_FOUND once tombstoned."""
        async with where.shard.connection("subscription read") as conn:
            state = await store.get_state(conn, where.stream)
            if state is not None and state.metadata.tombstoned:
                raise store.StreamDeleted(where.stream, state)
            if state is None or state.revision < revision:
                return StreamRead([], state.revision if state else NO_REVISION, True)
            page = await store.read_visible(conn, where.stream, state, True, revision, limit)
            opened = await _open(conn, where.keyspace.name, page.events)
        return StreamRead(self._recorded(where, page.events, opened), state.revision,
                          page.end_of_stream)

    def _recorded(self, where: Located, events: Sequence[StoredEvent],
                  opened: Sequence[Opened]) -> list[Recorded]:
        return [Recorded(e, where.keyspace.name, where.shard.index, o)
                for e, o in zip(events, opened, strict=True)]

    def check_position(self, v: Violations, position: PositionVector,
                       name: str = "after") -> Position:
        """A caller's position vector: (keyspace, shard, commit, position) each."""
        known = {(ks, s.index) for ks, s in self.event_shards()}
        out: Position = {}
        for i, (ks, shard, commit, pos) in enumerate(position):
            key = (ks or COMMERCE, shard)
            if key not in known:
                v.add(f"{name}.shards[{i}]", f"no event shard {shard} in keyspace {ks!r} "
                                             f"(shards: {_describe(known)})")
            elif key in out:
                v.add(f"{name}.shards[{i}]", "the same shard appears twice")
            if commit < 0 or pos < 0:
                v.add(f"{name}.shards[{i}]", "commit and position must be 0 or more")
            out[key] = Cursor(commit, pos)
        return out

    async def read_shard(self, keyspace: str, shard: Shard, after: Cursor, limit: int,
                         flt: EventFilter, operation: str) -> tuple[Page, list[Recorded]]:
        """One commit-safe page of a shard, personal data opened."""
        async with shard.connection(operation) as conn:
            page = await log.read_after(conn, after, limit, flt)
            opened = await _open(conn, keyspace, page.events)
        return page, [Recorded(e, keyspace, shard.index, o)
                      for e, o in zip(page.events, opened, strict=True)]

    async def read_all(self, after_vector: PositionVector, limit: int,
                       flt: EventFilter) -> AllRead:
        v = Violations()
        after = self.check_position(v, after_vector)
        check_filter(v, flt)
        limit = check_limit(v, "limit", limit)
        v.raise_if_any()
        shards = self.event_shards()
        results = await asyncio.gather(
            *(self.read_shard(ks, s, after.get((ks, s.index), Cursor()), limit, flt, "ReadAll")
              for ks, s in shards), return_exceptions=True)
        for r in results:
            # No silently partial page: a shard that is down fails the read.
            if isinstance(r, BaseException):
                raise r
        pages = [self.held_back(ks, s.index, after, after.get((ks, s.index), Cursor()), r) or r
                 for (ks, s), r in zip(shards, results, strict=True)
                 if not isinstance(r, BaseException)]
        # Interleave shards by time; heapq.merge only ever takes a head, so
        # each shard's own commit order is kept whatever the timestamps say.
        merged = list(heapq.merge(*(recs for _, recs in pages),
                                  key=lambda r: r.event.created_at))[:limit]
        taken: dict[ShardKey, Recorded] = {r.key: r for r in merged}
        position: Position = {}
        end = True
        for (ks, shard), (page, recs) in zip(shards, pages, strict=True):
            key = (ks, shard.index)
            last = taken.get(key)
            if recs and (last is None or last.event.event_id != recs[-1].event.event_id):
                # Some of this shard's page did not fit: resume after what was sent.
                position[key] = last.event.cursor if last is not None else after.get(
                    key, Cursor())
                end = False
            else:
                position[key] = page.next
                end = end and page.reached_horizon
        return AllRead(merged, position, end)

    # -- audit trails --------------------------------------------------------

    async def audit_trail(self, entity: str, entity_id: str, page_size: int,
                          page_token: str) -> AuditPage:
        v = Violations()
        page_size = check_limit(v, "page_size", page_size)
        if entity == AuditEntity.USER:
            commerce_rules.check_user_id(v, "entity_id", entity_id)
        elif entity in (AuditEntity.ORDER, AuditEntity.PAYMENT):
            commerce_rules.id_keyspace_id(v, "entity_id", entity[0], entity_id)
        else:
            v.add("entity_type", "must be ORDER, PAYMENT or USER")
        v.raise_if_any()
        stream = f"{entity}-{entity_id}"
        query = fingerprint({"audit": stream, "size": page_size})
        start = 0
        if page_token:
            key = decode_token(page_token, query)
            if len(key) != 1 or not isinstance(key[0], int) or not 0 <= key[0] <= MAX_REVISION:
                raise InvalidArgument([FieldViolation("page_token",
                                                      "not a page token returned by this API")])
            start = key[0]
        where = self._located(StreamRef(stream))
        async with where.shard.connection("GetAuditTrail") as conn:
            try:
                page = await store.read(conn, stream, True, start, page_size)
            except NotFound as exc:
                raise NotFound(entity, entity_id) from exc
            opened = await _open(conn, where.keyspace.name, page.events)
        entries = self._recorded(where, page.events, opened)
        token = "" if page.end_of_stream or not entries else encode_token(
            query, [entries[-1].event.stream_revision + 1])
        return AuditPage(entries, token)


def _check_expected(v: Violations, expected: Expected) -> None:
    if expected.kind is ExpectedKind.EXACT and expected.revision < 0:
        v.add("expected_revision", "must be 0 or more with EXACT (the stream's last revision)")


def _describe(known: set[ShardKey]) -> str:
    return ", ".join(f"{ks}/{s}" for ks, s in sorted(known))

