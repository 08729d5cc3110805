"""What every PostgreSQL-backed domain of commerce shares: routing, reads, writes.

Users, orders and payments live in the sharded commerce keyspace and route by
the user's keyspace id; inventory has one shard. This base holds the routing,
the consistency-aware read and the idempotent write once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg

from gateway import telemetry
from gateway.domain import reads, tokens
from gateway.domain.commerce import rules
from gateway.errors import Violations
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
        return self._keyspace.shard_for(ksid)

    def routed(self, ksid: int) -> idempotency.Route:
        """A write's destination: the owner of `ksid` when it runs, followed
        across a range move (idempotency.run_transaction)."""
        return idempotency.Route(self._keyspace, ksid)

    def routed_key(self, shard_key: str) -> idempotency.Route:
        return self.routed(keyspace_id(shard_key))

    def route(self, shard_key: str) -> tuple[Shard, bytes]:
        """The shard owning `shard_key` and the key's keyspace id as stored."""
        ksid = keyspace_id(shard_key)
        return self.shard_of(ksid), ksid_bytes(ksid)

    def token(self, shard: Shard, lsn: str) -> str:
        return tokens.encode(self._keyspace.name, shard.index, lsn)

    async def read(
        self, at: Shard | idempotency.Route, level: Consistency | None,
        max_staleness_s: float | None, token: str, operation: str,
        fn: Callable[[asyncpg.Connection], Awaitable[T]],
    ) -> T:
        """A planned read on `at` (a shard, or the owner of a routed keyspace id)."""
        if isinstance(at, idempotency.Route):
            named = tokens.shard_named(token, self._keyspace.name)
            if named is not None and named != at.shard.index:
                # The token's write went by another range map: a move since,
                # or this gateway's map is the older one. Read by the newest.
                await self._keyspace.refresh_map()
            shard = at.shard
        else:
            shard = at
        plan = plan_read(self._policies.get(self.domain), level, max_staleness_s, shard.index)
        return await reads.run_read(plan, self._keyspace, token, operation, fn)

    async def read_by_id(
        self, kind: str, field: str, ident: str, level: Consistency | None,
        max_staleness_s: float | None, token: str, operation: str,
        fetch: Callable[[asyncpg.Connection], Awaitable[T | None]],
    ) -> T:
        """A read routed by an id that carries its keyspace id (orders, payments);
        NOT_FOUND when `fetch` finds nothing."""
        v = Violations()
        ksid = rules.id_keyspace_id(v, field, kind, ident)
        v.raise_if_any()
        found = await self.read(self.routed(ksid), level, max_staleness_s, token, operation,
                                fetch)
        if found is None:
            raise rules.not_found(kind, ident)
        return found

    async def write(
        self, at: Shard | idempotency.Route, method: str, request_id: str, body: dict[str, Any],
        tx: Callable[[asyncpg.Connection], Awaitable[T]],
        encode: Callable[[T], dict[str, Any]], decode: Callable[[dict[str, Any]], T],
    ) -> tuple[T, str]:
        """An idempotent transaction on the primary of `at` (a shard, or the
        owner of a routed keyspace id); (result, consistency token)."""
        result, lsn = await idempotency.run_idempotent(
            at, method, request_id, body, tx, encode, decode)
        shard = at.used if isinstance(at, idempotency.Route) else at
        assert shard is not None
        telemetry.annotate(self.domain, {"datagw.shard": shard.index})
        return result, self.token(shard, lsn)
