"""What every PostgreSQL-backed domain of commerce shares: routing, reads, writes.

Users, orders and payments live in the sharded commerce keyspace and route by
the user's keyspace id; inventory has one shard. This base holds the routing,
the consistency-aware read and the idempotent write once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from opentelemetry import trace

from gateway.domain import reads, tokens
from gateway.policy.decisions import plan_read
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.storage.postgres import idempotency
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from gateway.storage.postgres.pool import Keyspace, Shard

T = TypeVar("T")


class KeyspaceDomain:
    domain = ""

    def __init__(self, policies: PolicyRegistry, keyspace: Keyspace) -> None:
        self._policies = policies
        self._keyspace = keyspace

    @property
    def keyspace(self) -> Keyspace:
        return self._keyspace

    def shard_of(self, ksid: int) -> Shard:
        shard = self._keyspace.shard_for(ksid)
        trace.get_current_span().set_attribute("datagw.shard", shard.index)
        return shard

    def route(self, shard_key: str) -> tuple[Shard, bytes]:
        """The shard owning `shard_key` and the key's keyspace id as stored."""
        ksid = keyspace_id(shard_key)
        return self.shard_of(ksid), ksid_bytes(ksid)

    def token(self, shard: Shard, lsn: str) -> str:
        return tokens.encode(self._keyspace.name, shard.index, lsn)

    async def read(
        self, shard: Shard, level: Consistency | None, max_staleness_s: float | None,
        token: str, operation: str, fn: Callable[[asyncpg.Connection], Awaitable[T]],
    ) -> T:
        plan = plan_read(self._policies.get(self.domain), level, max_staleness_s)
        return await reads.run_read(self.domain, plan, shard, token, operation, fn)

    async def write(
        self, shard: Shard, method: str, request_id: str, body: dict[str, Any],
        tx: Callable[[asyncpg.Connection], Awaitable[T]],
        encode: Callable[[T], dict[str, Any]], decode: Callable[[dict[str, Any]], T],
    ) -> tuple[T, str]:
        """An idempotent transaction on the shard's primary; (result, consistency token)."""
        trace.get_current_span().set_attribute("datagw.domain", self.domain)
        result, lsn = await idempotency.run_idempotent(
            shard, method, request_id, body, tx, encode, decode)
        return result, self.token(shard, lsn)
