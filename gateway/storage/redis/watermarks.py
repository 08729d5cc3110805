"""The copy of the store watermarks kept in Redis (one hash), for when the
database holding the table copy (the catalog's) is the one restored.

The hash is named after that database (`scope`: its system identifier, which
a point-in-time restore keeps, and its name): deployments sharing one Redis
keep apart, and a database re-created from scratch starts a new record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gateway.records.rewind import WalPosition
from gateway.storage.redis.client import RedisBackend

PREFIX = "datagw:store-watermarks:"


def _field(keyspace: str, shard: int) -> str:
    return f"{keyspace}/{shard}"


async def load(redis: RedisBackend, scope: str) -> dict[tuple[str, int], WalPosition]:
    """RedisDown when Redis cannot be reached."""
    key = PREFIX + scope

    async def run(r: Any) -> dict[bytes, bytes]:
        result: dict[bytes, bytes] = await r.hgetall(key)
        return result

    out: dict[tuple[str, int], WalPosition] = {}
    for name, value in (await redis.call("HGETALL", run, key=key)).items():
        keyspace, _, shard = name.decode().rpartition("/")
        out[(keyspace, int(shard))] = WalPosition.from_json(json.loads(value))
    return out


async def save(redis: RedisBackend, scope: str,
               seen: Iterable[tuple[tuple[str, int], WalPosition]]) -> None:
    key = PREFIX + scope
    mapping = {_field(ks, shard): json.dumps(p.to_json()) for (ks, shard), p in seen}
    if not mapping:
        return

    async def run(r: Any) -> None:
        await r.hset(key, mapping=mapping)

    await redis.call("HSET", run, key=key)
