"""Session operations: TTLs, sliding expiry and per-user limits from the policy."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.errors import NotFound, Violations
from gateway.policy.model import SessionPolicy
from gateway.policy.registry import PolicyRegistry
from gateway.records.sessions import SessionRecord
from gateway.storage.redis.client import RedisBackend, RedisDown
from gateway.storage.redis.sessions_store import MalformedSessionId, SessionStore, new_session_id

DOMAIN = "sessions"
MAX_ENTRIES = 100
MAX_KEY = 128
MAX_DATA_BYTES = 64 * 1024
T = TypeVar("T")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check_data(v: Violations, data: dict[str, str], field: str = "data") -> None:
    if len(data) > MAX_ENTRIES:
        v.add(field, f"at most {MAX_ENTRIES} entries (got {len(data)})")
    size = sum(len(k.encode()) + len(val.encode()) for k, val in data.items())
    if size > MAX_DATA_BYTES:
        v.add(field, f"at most {MAX_DATA_BYTES} bytes in all (got {size})")
    for key in data:
        if not key or len(key) > MAX_KEY:
            v.add(field, f"keys must be 1-{MAX_KEY} characters")
            break


class SessionsDomain:
    def __init__(self, policies: PolicyRegistry, redis: RedisBackend) -> None:
        self._policies = policies
        self._redis = redis
        self._store = SessionStore(redis)

    def _policy(self) -> SessionPolicy:
        policy = self._policies.get(DOMAIN).session
        assert policy is not None  # the loader requires it for this domain
        return policy

    async def _run(self, op: Callable[[], Awaitable[T]]) -> T:
        try:
            return await op()
        except RedisDown as exc:
            raise self._redis.unavailable(exc) from exc

    async def _existing(self, session_id: str) -> SessionRecord:
        try:
            found = await self._store.get(session_id)
        except MalformedSessionId:
            found = None
        if found is None:
            # Unknown, expired and malformed ids look alike on purpose.
            raise NotFound("session", session_id)
        return found

    async def create(
        self, user_id: str, data: dict[str, str], ttl_s: float | None
    ) -> SessionRecord:
        policy = self._policy()
        v = Violations()
        # user_id: CreateSessionRequest's rules in proto/.
        _check_data(v, data)
        if ttl_s is not None and not 0 < ttl_s <= policy.ttl_s:
            v.add("ttl", f"must be greater than 0s and at most the policy's {policy.ttl_s:g}s")
        v.raise_if_any()
        now = _now_ms()
        lifetime_ms = int((ttl_s if ttl_s is not None else policy.ttl_s) * 1000)
        record = SessionRecord(new_session_id(user_id), user_id, dict(data), now,
                               now + lifetime_ms, now, lifetime_ms)
        await self._run(lambda: self._store.create(record, policy.max_per_user))
        return record

    async def get(self, session_id: str) -> SessionRecord:
        async def op() -> SessionRecord:
            found = await self._existing(session_id)
            if not self._policy().sliding:
                return found
            return await self._update(found, {}, [])

        return await self._run(op)

    def _restart_ms(self, s: SessionRecord) -> int:
        # The session's own lifetime, which a reload may since have capped lower.
        return min(s.ttl_ms, int(self._policy().ttl_s * 1000))

    async def _update(
        self, s: SessionRecord, set_data: dict[str, str], remove: list[str]
    ) -> SessionRecord:
        ttl_ms = self._restart_ms(s) if self._policy().sliding else 0
        updated = await self._store.update(
            s.session_id, s.user_id, set_data, remove, _now_ms(), ttl_ms
        )
        if updated is None:
            raise NotFound("session", s.session_id)
        return updated

    async def update(
        self, session_id: str, set_data: dict[str, str], remove: list[str]
    ) -> SessionRecord:
        v = Violations()
        _check_data(v, set_data)
        if len(remove) > MAX_ENTRIES:
            v.add("remove_keys", f"at most {MAX_ENTRIES} keys")
        v.raise_if_any()

        async def op() -> SessionRecord:
            current = await self._existing(session_id)
            merged = {**current.data, **set_data}
            for key in remove:
                merged.pop(key, None)
            check = Violations()
            _check_data(check, merged)
            check.raise_if_any()
            return await self._update(current, set_data, remove)

        return await self._run(op)

    async def touch(self, session_id: str) -> SessionRecord:
        async def op() -> SessionRecord:
            current = await self._existing(session_id)
            # Touch always restarts the ttl, sliding or not: that is its job.
            updated = await self._store.update(
                session_id, current.user_id, {}, [], _now_ms(), self._restart_ms(current)
            )
            if updated is None:
                raise NotFound("session", session_id)
            return updated

        return await self._run(op)

    async def delete(self, session_id: str) -> None:
        async def op() -> None:
            current = await self._existing(session_id)
            if not await self._store.delete(session_id, current.user_id):
                raise NotFound("session", session_id)

        await self._run(op)

    async def list_for_user(self, user_id: str) -> list[SessionRecord]:
        # user_id: ListUserSessionsRequest's rules in proto/.
        return await self._run(lambda: self._store.list_for_user(user_id, _now_ms()))

    async def delete_for_user(self, user_id: str) -> int:
        # user_id: DeleteUserSessionsRequest's rules in proto/.
        return await self._run(lambda: self._store.delete_for_user(user_id))
