"""Consistency tokens: where a write landed, so a later read can wait for it.

A token is "v1.<keyspace>.<shard>.<lsn>": the primary's WAL position read
after the write's COMMIT. It is opaque to callers; only the gateway parses it.
"""

from __future__ import annotations

import re

from gateway.errors import FieldViolation, InvalidArgument
from gateway.storage.postgres.pool import parse_lsn

_TOKEN = re.compile(r"^v1\.([a-z0-9_]+)\.(\d+)\.([0-9A-F]{1,8}/[0-9A-F]{1,8})\Z")


def encode(keyspace: str, shard: int, lsn: str) -> str:
    return f"v1.{keyspace}.{shard}.{lsn}"


def lsn_for(token: str, keyspace: str, shard: int) -> int | None:
    """The WAL position a read of `shard` must wait for; None when the token
    names no write on it (empty, or a write elsewhere that this read cannot miss)."""
    if not token:
        return None
    match = _TOKEN.match(token)
    if match is None:
        raise InvalidArgument([FieldViolation(
            "read_options.consistency_token", "not a consistency token returned by a write")])
    if match.group(1) != keyspace or int(match.group(2)) != shard:
        return None
    return parse_lsn(match.group(3))
