"""Consistency tokens: where a write landed, so a later read can wait for it.

A token is "v2.<keyspace>.<shard>.<timeline>.<lsn>[.<start>.<xid>]": the
primary's timeline and WAL position read after the write's COMMIT, then,
for a transaction that wrote, the position read inside it just before the
COMMIT and its transaction id. The timeline tells a write made before a
failover from one made after it: a promotion starts a new timeline, and only
the old timeline's WAL up to the switch point survives; the commit record
lies between `start` and `lsn`, and the transaction id settles a commit that
straddles the switch point (domain/reads.py vouch).
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
_TOKEN = re.compile(
    rf"^v2\.([a-z0-9_]+)\.(\d+)\.([0-9A-F]{{8}})\.({_LSN})(?:\.({_LSN})\.(\d{{1,20}}))?\Z")
_TOKEN_V1 = re.compile(rf"^v1\.([a-z0-9_]+)\.(\d+)\.({_LSN})\Z")


@dataclass(frozen=True)
class Position:
    """Where a write landed: a WAL position at or past its commit, on a
    timeline (0: not known, v1); for a transaction that wrote, a position
    before its commit record and its transaction id (else None)."""

    timeline: int
    lsn: int
    start: int | None = None
    xid: int | None = None


def encode(keyspace: str, shard: int, position: str) -> str:
    """The token of a write at `position` (idempotency.wal_position)."""
    return f"v2.{keyspace}.{shard}.{position}"


def shard_named(token: str, keyspace: str) -> int | None:
    """The shard of `keyspace` a token's write was on (None: no token, a
    token of another keyspace, or not a token: position_for says which)."""
    match = _TOKEN.match(token) or _TOKEN_V1.match(token)
    if match is None or match.group(1) != keyspace:
        return None
    return int(match.group(2))


def position_for(token: str, keyspace: str, shard: int) -> Position | None:
    """The position a read of `shard` must see; None when the token names no
    write on it (empty, or a write elsewhere that this read cannot miss)."""
    if not token:
        return None
    match = _TOKEN.match(token)
    if match is not None:
        ks, index, timeline, lsn, start, xid = match.groups()
        where = Position(int(timeline, 16), parse_lsn(lsn),
                         parse_lsn(start) if start else None, int(xid) if xid else None)
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
