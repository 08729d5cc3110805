"""The event store's value types: events to append and as stored, cursors,
filters, pages, stream state and metadata, expected revisions, and personal
data as a reader may see it."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Position of the cursor that has read everything below a horizon: the
# largest position sorts after every event of transaction horizon - 1.
END_OF_TX = 2**63 - 1


@dataclass(frozen=True, order=True)
class Cursor:
    """A point in one shard's commit order: after event (commit, position)."""

    commit: int = 0
    position: int = 0

    @staticmethod
    def below(horizon: int) -> Cursor:
        """The cursor after every event of every transaction below `horizon`."""
        return Cursor(horizon - 1, END_OF_TX) if horizon > 0 else Cursor()


@dataclass(frozen=True)
class StoredEvent:
    commit: int
    position: int
    event_id: str
    stream_id: str
    stream_revision: int
    event_type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    keyspace_id: bytes | None
    created_at: datetime

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.commit, self.position)


@dataclass(frozen=True)
class EventFilter:
    """Empty tuples match everything."""

    event_types: tuple[str, ...] = ()
    stream_prefixes: tuple[str, ...] = ()
    # Also the events a range move copied onto the shard (resharding): only
    # for a reader of that shard's own read model, which must see its users'
    # whole history; a reader of the whole log had them from their first shard.
    moved: bool = False

    def matches(self, event_type: str, stream_id: str) -> bool:
        return ((not self.event_types or event_type in self.event_types)
                and (not self.stream_prefixes
                     or any(stream_id.startswith(p) for p in self.stream_prefixes)))


@dataclass(frozen=True)
class Page:
    events: list[StoredEvent]
    # Where the next read starts: after the last event returned, or after
    # the horizon when the read reached it (filtered-out events included).
    next: Cursor
    # True when everything committed below the horizon has been read.
    reached_horizon: bool


NO_REVISION = -1


@dataclass(frozen=True)
class StreamMetadata:
    """The retention and delete state of a stream (the keys of streams.metadata)."""

    max_age_s: float | None = None
    max_count: int = 0
    truncate_before: int = 0
    deleted: bool = False
    tombstoned: bool = False

    @staticmethod
    def from_json(doc: Mapping[str, Any]) -> StreamMetadata:
        age = doc.get("max_age_s")
        return StreamMetadata(
            max_age_s=float(age) if age is not None else None,
            max_count=int(doc.get("max_count") or 0),
            truncate_before=int(doc.get("truncate_before") or 0),
            deleted=bool(doc.get("deleted", False)),
            tombstoned=bool(doc.get("tombstoned", False)))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"deleted": self.deleted, "tombstoned": self.tombstoned}
        if self.max_age_s is not None:
            doc["max_age_s"] = self.max_age_s
        if self.max_count:
            doc["max_count"] = self.max_count
        if self.truncate_before:
            doc["truncate_before"] = self.truncate_before
        return doc


@dataclass(frozen=True)
class StreamState:
    """A stream as its row says: last revision (-1: no event yet) and metadata."""

    revision: int = NO_REVISION
    metadata: StreamMetadata = field(default_factory=StreamMetadata)

    @property
    def live(self) -> bool:
        """Has events a read may return (not empty, deleted or tombstoned)."""
        return self.revision >= 0 and not self.metadata.deleted and not self.metadata.tombstoned

    def first_visible(self) -> int:
        """The lowest revision a read may return (truncate_before, max_count)."""
        first = self.metadata.truncate_before
        if self.metadata.max_count:
            first = max(first, self.revision - self.metadata.max_count + 1)
        return max(first, 0)


class ExpectedKind(enum.Enum):
    ANY = "any"
    NO_STREAM = "no_stream"
    STREAM_EXISTS = "stream_exists"
    EXACT = "exact"


@dataclass(frozen=True)
class Expected:
    kind: ExpectedKind = ExpectedKind.ANY
    revision: int = 0

    def holds(self, state: StreamState) -> bool:
        """Soft-deleted streams count as absent, yet EXACT accepts their last
        revision too, since an append continues from it."""
        exists = state.live
        if self.kind is ExpectedKind.NO_STREAM:
            return not exists
        if self.kind is ExpectedKind.STREAM_EXISTS:
            return exists
        if self.kind is ExpectedKind.EXACT:
            return state.revision >= 0 and self.revision == state.revision
        return True


@dataclass(frozen=True)
class StreamEvent:
    """An event to append; `pii` is sealed under `pii_user_id` in the append's
    transaction."""

    event_id: str
    event_type: str
    payload: dict[str, Any]
    metadata: dict[str, str]
    pii: dict[str, Any] | None = None
    pii_user_id: str = ""


@dataclass(frozen=True)
class AppendResult:
    first_revision: int
    last_revision: int
    already_appended: bool


@dataclass(frozen=True)
class StreamPage:
    events: list[StoredEvent]
    state: StreamState
    end_of_stream: bool


# The payload key holding the envelope.
ENVELOPE = "_pii"


@dataclass(frozen=True)
class Opened:
    """One payload's personal data: `pii` decrypted, or None with `erased`
    True when the payload had an envelope whose key is gone."""

    pii: dict[str, Any] | None = None
    erased: bool = False


def without_envelope(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The payload as callers may see it: never the envelope's ciphertext."""
    return {k: v for k, v in payload.items() if k != ENVELOPE}
