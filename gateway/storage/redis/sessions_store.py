"""Sessions in Redis.

Layout: a session is one JSON string with a TTL at
    dgw:sessions:v1:s:{<user tag>}:<random id>
and a user's sessions are indexed in a sorted set (score = expiry, ms) at
    dgw:sessions:v1:u:{<user tag>}:<user id>
The user tag (a hash of the user id) is a Redis hash tag: one user's sessions
and index share a cluster slot, so create, update and "log out everywhere" are
single-slot scripts. The session id given to clients is "<tag>.<128 random
bits>"; it reveals nothing about the user and cannot be guessed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any, cast

from gateway.records.sessions import SessionRecord
from gateway.storage.redis.client import RedisBackend

_PREFIX = "dgw:sessions:v1:"

# Create: store the session, index it, and drop the oldest beyond the cap.
# The index is ordered by expiry, so a new session with a short ttl sorts
# first; it is skipped, or the caller would get the id of a dropped session.
_CREATE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
local dropped = 0
if excess > 0 then
  for _, sid in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess)) do
    if dropped < excess and sid ~= ARGV[4] then
      redis.call('DEL', ARGV[7] .. sid)
      redis.call('ZREM', KEYS[2], sid)
      dropped = dropped + 1
    end
  end
end
redis.call('PEXPIREAT', KEYS[2], redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2])
return dropped
"""

# Update: merge data, remove keys, optionally move the expiry; nil if gone.
_UPDATE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local s = cjson.decode(raw)
local set = cjson.decode(ARGV[1])
for k, v in pairs(set) do s.data[k] = v end
local removed = cjson.decode(ARGV[2])
for _, k in ipairs(removed) do s.data[k] = nil end
s.last_access_ms = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  s.expire_ms = tonumber(ARGV[3]) + ttl
  redis.call('ZADD', KEYS[2], s.expire_ms, ARGV[5])
  redis.call('PEXPIREAT', KEYS[2], redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2])
end
if next(s.data) == nil then s.data = cjson.decode('{}') end
local out = cjson.encode(s)
local remaining = redis.call('PTTL', KEYS[1])
if ttl > 0 then remaining = ttl end
if remaining <= 0 then return false end
redis.call('SET', KEYS[1], out, 'PX', remaining)
return out
"""

_DELETE_USER = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local n = 0
for _, sid in ipairs(ids) do n = n + redis.call('DEL', ARGV[1] .. sid) end
redis.call('DEL', KEYS[1])
return n
"""


class MalformedSessionId(ValueError):
    pass


def user_tag(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:12]


def new_session_id(user_id: str) -> str:
    return f"{user_tag(user_id)}.{secrets.token_hex(16)}"


def _session_key(session_id: str) -> str:
    tag, sep, rand = session_id.partition(".")
    if not sep or len(tag) != 12 or len(rand) != 32 or not all(
        c in "0123456789abcdef" for c in tag + rand
    ):
        raise MalformedSessionId(session_id)
    return f"{_PREFIX}s:{{{tag}}}:{session_id}"


def _index_key(user_id: str) -> str:
    return f"{_PREFIX}u:{{{user_tag(user_id)}}}:{user_id}"


class SessionStore:
    def __init__(self, redis: RedisBackend) -> None:
        self._redis = redis

    async def create(self, s: SessionRecord, max_per_user: int) -> int:
        """Store a new session; returns how many old sessions the cap dropped."""
        ttl_ms = s.expire_ms - s.last_access_ms
        key = _session_key(s.session_id)
        prefix = key[: -len(s.session_id)]
        dropped = await self._redis.call(
            "EVAL session.create",
            lambda r: r.eval(
                _CREATE, 2, key, _index_key(s.user_id), s.encode(), ttl_ms, s.expire_ms,
                s.session_id, s.last_access_ms, max_per_user, prefix,
            ), key=key,
        )
        return int(dropped)

    async def get(self, session_id: str) -> SessionRecord | None:
        key = _session_key(session_id)
        raw = await self._redis.call("GET", lambda r: r.get(key), key=key)
        return SessionRecord.decode(session_id, raw) if raw else None

    async def update(
        self, session_id: str, user_id: str, set_data: dict[str, str], remove: list[str],
        now_ms: int, new_ttl_ms: int,
    ) -> SessionRecord | None:
        """Merge atomically; new_ttl_ms > 0 also restarts the expiry (sliding)."""
        raw = await self._redis.call(
            "EVAL session.update",
            lambda r: r.eval(
                _UPDATE, 2, _session_key(session_id), _index_key(user_id),
                json.dumps(set_data) if set_data else "{}", json.dumps(remove) if remove else "[]",
                now_ms, new_ttl_ms, session_id,
            ), key=_index_key(user_id),
        )
        return SessionRecord.decode(session_id, raw) if raw else None

    async def delete(self, session_id: str, user_id: str) -> bool:
        key, index = _session_key(session_id), _index_key(user_id)

        async def run(r: Any) -> int:
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.zrem(index, session_id)
                deleted, _ = await pipe.execute()
            return int(deleted)

        return bool(await self._redis.call("MULTI session.delete", run, key=key))

    async def list_for_user(self, user_id: str, now_ms: int) -> list[SessionRecord]:
        index = _index_key(user_id)
        ids = cast(list[bytes], await self._redis.call(
            "ZRANGEBYSCORE", lambda r: r.zrangebyscore(index, now_ms, "+inf"), key=index
        ))
        if not ids:
            return []
        sids = [i.decode() for i in ids]
        raws = await self._redis.call(
            "MGET", lambda r: r.mget([_session_key(s) for s in sids]), key=index)
        found = [SessionRecord.decode(s, raw) for s, raw in zip(sids, raws, strict=True) if raw]
        return sorted(found, key=lambda s: s.create_ms, reverse=True)

    async def delete_for_user(self, user_id: str) -> int:
        index = _index_key(user_id)
        prefix = f"{_PREFIX}s:{{{user_tag(user_id)}}}:"
        return int(
            await self._redis.call(
                "EVAL session.delete_user", lambda r: r.eval(_DELETE_USER, 1, index, prefix),
                key=index,
            )
        )
