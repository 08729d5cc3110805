"""Consistency tokens: where a write landed, so a later read can wait for it.

A token is "v2.<keyspace>.<shard>.<timeline>.<lsn>": the primary's timeline
and WAL position read after the write's COMMIT. The timeline tells a write
made before a failover from one made after it: a promotion starts a new
timeline, and only the old timeline's WAL up to the switch point survives.
Tokens of the first version ("v1.<keyspace>.<shard>.<lsn>", no timeline)
are still read, and compared by position only. Opaque to callers; only the
gateway parses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import FieldViolation, InvalidArgument
from gateway.storage.postgres.pool import parse_lsn

_LSN = r"[0-9A-F]{1,8}/[0-9A-F]{1,8}"
_TOKEN = re.compile(rf"^v2\.([a-z0-9_]+)\.(\d+)\.([0-9A-F]{{8}})\.({_LSN})\Z")
_TOKEN_V1 = re.compile(rf"^v1\.([a-z0-9_]+)\.(\d+)\.({_LSN})\Z")


@dataclass(frozen=True)
class Position:
    """Where a write landed: a WAL position on a timeline (0: not known, v1)."""

    timeline: int
    lsn: int


def encode(keyspace: str, shard: int, position: str) -> str:
    """The token of a write at `position` ("<timeline>.<lsn>", idempotency.wal_position)."""
    return f"v2.{keyspace}.{shard}.{position}"


def position_for(token: str, keyspace: str, shard: int) -> Position | None:
    """The position a read of `shard` must see; None when the token names no
    write on it (empty, or a write elsewhere that this read cannot miss)."""
    if not token:
        return None
    match = _TOKEN.match(token)
    if match is not None:
        ks, index, timeline, lsn = match.groups()
        where = Position(int(timeline, 16), parse_lsn(lsn))
    else:
        match = _TOKEN_V1.match(token)
        if match is None:
            raise InvalidArgument([FieldViolation(
                "read_options.consistency_token", "not a consistency token returned by a write")])
        ks, index, lsn = match.groups()
        where = Position(0, parse_lsn(lsn))
    if ks != keyspace or int(index) != shard:
        return None
    return where
