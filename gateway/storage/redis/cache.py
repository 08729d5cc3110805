"""Cache-aside in Redis, safe against the stale-set race.

Every cached key K has a generation key G in the same hash slot. A reader
fetches K and G together; on a miss it loads from the database and fills K
only if G still holds the generation it saw (a Lua check-and-set). A writer,
after its commit, bumps G and deletes K. A slow reader that loaded the old row
before the write therefore cannot put it back: its fill sees a new G and is
refused. Entries carry the time they were loaded so bounded-staleness reads
can refuse old ones, and a "not found" marker makes short negative entries.

Redis being down never fails a read: lookups report BYPASS and fills are
skipped. Invalidations that could not be sent are kept and replayed when Redis
answers again, and every entry has a TTL, so staleness stays bounded.

With a near TTL, entries of the per-key kinds (not shared ones) are also held
in process memory (storage.redis.near_cache), checked before Redis and kept
coherent by Redis client tracking; a write in this process drops its keys
there itself, before and after its Redis calls, so a read that follows the
write never waits for Redis to report it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from prometheus_client import Counter

from gateway import telemetry
from gateway.storage.redis.client import RedisBackend, RedisDown
from gateway.storage.redis.near_cache import NearCache, Tracker
from gateway.telemetry import (
    CACHE_BYPASS,
    CACHE_FILL_REJECTED,
    CACHE_LOOKUPS,
    DB_LOADS,
    NEAR_CACHE_CAPACITY,
    NEAR_CACHE_ENTRIES,
)

log = logging.getLogger(__name__)

# Generation keys outlive any entry by far; see the module docstring.
_GEN_TTL_MS = 86_400_000
_HEADER = struct.Struct(">dBq")  # loaded-at (unix seconds), flags, generation
_NEGATIVE = 1

_FILL = """
local g = redis.call('GET', KEYS[2])
if (g or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
_INVALIDATE = """
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
  redis.call('DEL', KEYS[i])
end
return #KEYS / 2
"""


class Lookup(enum.Enum):
    HIT = "hit"
    NEGATIVE_HIT = "negative_hit"
    MISS = "miss"
    BYPASS = "bypass"


@dataclass(frozen=True)
class Entry:
    state: Lookup
    value: bytes | None = None
    # The generation seen; a fill must present it.
    generation: bytes = b"0"


@dataclass(frozen=True)
class TTL:
    ttl_s: float
    jitter_percent: int
    negative_ttl_s: float

    def positive_ms(self) -> int:
        spread = self.ttl_s * self.jitter_percent / 100.0
        # Jitter spreads expiries so a burst of fills does not expire at once.
        return max(1, int((self.ttl_s + random.uniform(0, spread)) * 1000))

    def negative_ms(self) -> int:
        return max(1, int(self.negative_ttl_s * 1000))


_NEAR_RESULT = {Lookup.HIT: "near_hit", Lookup.NEGATIVE_HIT: "near_negative_hit"}
_GEN_SUFFIX = ":gen"


class Cache:
    """The cache of one domain; keys are dgw:<domain>:v<schema>:<kind>:{<id>}.

    Kinds named in `shared_kinds` (search result pages) have one generation
    for the whole kind instead of one per key, so a single INCR invalidates
    every page at once; their keys share a hash slot ({<kind>}).

    `near_ttl` (read at every lookup, so a policy reload applies) turns on the
    near cache while it returns more than zero; start() and close() run its
    tracker.
    """

    def __init__(
        self, redis: RedisBackend, domain: str, schema_version: int,
        shared_kinds: frozenset[str] = frozenset(),
        near_ttl: Callable[[], float] | None = None, near_capacity: int = 10_000,
    ) -> None:
        self._redis = redis
        self.domain = domain
        self.prefix = f"dgw:{domain}:v{schema_version}:"
        self._shared = shared_kinds
        self._flights: dict[str, asyncio.Task[bytes | None]] = {}
        self._pending_invalidations: set[tuple[str, str]] = set()
        self._replaying = asyncio.Lock()
        redis.on_recovery.append(self._replay_invalidations)
        self._lookup_counters: dict[tuple[str, str], Counter] = {}
        self._near_ttl = near_ttl
        # A near entry is the Redis entry's loaded-at time and the lookup result.
        self.near: NearCache[tuple[float, Entry]] | None = None
        self.tracker: Tracker | None = None
        if near_ttl is not None:
            self.near = NearCache(near_capacity)
            self.tracker = Tracker(redis, self.prefix, self.near, self._near_key)

    def export_near_metrics(self) -> None:
        """The near cache's size and its capacity (nothing when it is off)."""
        if self.near is not None:
            NEAR_CACHE_ENTRIES.labels(self.domain).set(len(self.near))
            NEAR_CACHE_CAPACITY.labels(self.domain).set(self.near.capacity)

    def start(self) -> None:
        """Start the near cache's tracker if the near cache is on (else the first lookup will)."""
        if self.tracker is not None and self._near_ttl is not None and self._near_ttl() > 0:
            self.tracker.start()

    async def close(self) -> None:
        if self.tracker is not None:
            await self.tracker.stop()

    def _near_key(self, key: bytes) -> str | None:
        """The near-cache key a key named by Redis affects; None if none can."""
        name = key.decode(errors="replace")
        if name.endswith(_GEN_SUFFIX):
            name = name[: -len(_GEN_SUFFIX)]
        kind = name[len(self.prefix):].split(":", 1)[0]
        return None if kind in self._shared else name

    def _drop_near(self, kind: str, idents: list[str]) -> None:
        if self.near is not None and kind not in self._shared:
            self.near.invalidate(self._keys(kind, i)[0] for i in idents)

    def _keys(self, kind: str, ident: str) -> tuple[str, str]:
        if kind in self._shared:
            base = f"{self.prefix}{kind}:{{{kind}}}"
            return f"{base}:{ident}", f"{base}:gen"
        key = f"{self.prefix}{kind}:{{{ident}}}"
        return key, key + ":gen"

    def _observe(self, kind: str, result: str) -> None:
        counter = self._lookup_counters.get((kind, result))
        if counter is None:
            # labels() takes a lock and builds a key per call; a near hit is
            # cheap enough for that to show.
            counter = CACHE_LOOKUPS.labels(self.domain, kind, result)
            self._lookup_counters[(kind, result)] = counter
        counter.inc()
        telemetry.annotate(self.domain, {"datagw.cache": result})

    def _bypass(self, kind: str) -> Entry:
        CACHE_BYPASS.labels(self.domain, "lookup").inc()
        self._observe(kind, Lookup.BYPASS.value)
        return Entry(Lookup.BYPASS)

    async def lookup(self, kind: str, ident: str, max_age_s: float | None = None) -> Entry:
        key, gen = self._keys(kind, ident)
        # Entries cached before Redis went away may predate writes whose
        # invalidations are still queued: none is served until those landed.
        unsettled = self._pending_invalidations or self._replaying.locked()
        if unsettled and not await self._invalidations_settled():
            return self._bypass(kind)
        near, token, near_ttl = None, 0, 0.0
        if self.near is not None and kind not in self._shared:
            near_ttl = self._near_ttl() if self._near_ttl is not None else 0.0
            if near_ttl > 0:
                near = self.near
                held = near.get(key)
                if held is not None:
                    loaded_at, entry = held
                    if max_age_s is None or time.time() - loaded_at <= max_age_s:
                        self._observe(kind, _NEAR_RESULT[entry.state])
                        return entry
                elif not near.active and self.tracker is not None:
                    self.tracker.start()  # turned on by a policy reload
                # Taken before the MGET: its reply may be older than an
                # invalidation the tracker applies meanwhile.
                token = near.seq
        try:
            fetched = await self._redis.call("MGET", lambda r: r.mget(key, gen), key=key)
            value, generation = cast(list[bytes | None], fetched)
        except RedisDown:
            return self._bypass(kind)
        generation = generation or b"0"
        if value is None:
            self._observe(kind, Lookup.MISS.value)
            return Entry(Lookup.MISS, generation=generation)
        loaded_at, flags, filled_gen = _HEADER.unpack_from(value)
        # An entry filled under an older generation was invalidated since
        # (for shared kinds that is the only sign of it).
        if filled_gen != int(generation):
            self._observe(kind, Lookup.MISS.value)
            return Entry(Lookup.MISS, generation=generation)
        state = Lookup.NEGATIVE_HIT if flags & _NEGATIVE else Lookup.HIT
        entry = Entry(state, value[_HEADER.size:], generation)
        if near is not None:
            near.put(key, token, (loaded_at, entry), near_ttl)
        if max_age_s is not None and time.time() - loaded_at > max_age_s:
            self._observe(kind, Lookup.MISS.value)
            return Entry(Lookup.MISS, generation=generation)
        self._observe(kind, state.value)
        return entry

    async def fill(
        self, kind: str, ident: str, value: bytes | None, generation: bytes, ttl: TTL,
        age_s: float = 0.0,
    ) -> bool:
        """Store `value` (None: a negative entry) unless a write happened since
        lookup. `age_s`: how old the state it was read from already was (a
        replica's lag), so bounded-staleness lookups count it from then."""
        if value is None and ttl.negative_ttl_s <= 0:
            return False
        key, gen = self._keys(kind, ident)
        flags = _NEGATIVE if value is None else 0
        payload = _HEADER.pack(time.time() - age_s, flags, int(generation)) + (value or b"")
        px = ttl.negative_ms() if value is None else ttl.positive_ms()
        try:
            stored = await self._redis.call(
                "EVAL fill", lambda r: r.eval(_FILL, 2, key, gen, generation, payload, px), key=key
            )
        except RedisDown:
            CACHE_BYPASS.labels(self.domain, "fill").inc()
            return False
        if not stored:
            CACHE_FILL_REJECTED.labels(self.domain).inc()
        return bool(stored)

    async def invalidate(self, kind: str, idents: list[str]) -> None:
        """After a commit: bump each key's generation and delete it."""
        if not idents:
            return
        keys: list[str] = []
        for ident in idents:
            keys.extend(self._keys(kind, ident))
        # Dropped here before and after: a local read that starts while the
        # Redis call runs may fetch the old entry, and the tracker reports the
        # write only some time after this returns.
        self._drop_near(kind, idents)
        try:
            await self._invalidate_keys(keys)
        except RedisDown:
            CACHE_BYPASS.labels(self.domain, "invalidate").inc()
            self._pending_invalidations.update((kind, i) for i in idents)
            log.warning(
                "cache %s: redis down, %d invalidation(s) queued for replay",
                self.domain, len(self._pending_invalidations),
            )
        finally:
            self._drop_near(kind, idents)

    async def invalidate_kind(self, kind: str) -> None:
        """Invalidate every entry of a shared kind by bumping its one generation."""
        await self.invalidate(kind, ["*"])

    async def _invalidate_keys(self, keys: list[str]) -> None:
        # One EVAL per key pair (a key and its generation share a hash slot,
        # different ids may not, and a cluster refuses cross-slot scripts),
        # pipelined so a bulk import invalidates thousands of keys per trip.
        async def run(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for i in range(0, len(keys), 2):
                    pipe.eval(_INVALIDATE, 2, keys[i], keys[i + 1], _GEN_TTL_MS)
                await pipe.execute()

        await self._redis.call("EVAL invalidate", run)

    async def _replay_invalidations(self) -> None:
        if self._replaying.locked():
            # Re-entered through the recovery hook of the replay's own call.
            return
        async with self._replaying:
            pending, self._pending_invalidations = self._pending_invalidations, set()
            if not pending:
                return
            keys = [key for kind, ident in pending for key in self._keys(kind, ident)]
            self._drop_pending_near(pending)
            try:
                await self._invalidate_keys(keys)
            except RedisDown:
                self._pending_invalidations |= pending
            finally:
                self._drop_pending_near(pending)

    def _drop_pending_near(self, pending: set[tuple[str, str]]) -> None:
        for kind, ident in pending:
            self._drop_near(kind, [ident])

    async def _invalidations_settled(self) -> bool:
        """True when no queued invalidation is outstanding (replaying them if needed)."""
        if self._replaying.locked():
            async with self._replaying:
                pass
        if self._pending_invalidations:
            await self._replay_invalidations()
        return not self._pending_invalidations

    async def load_once(
        self, flight_key: str, loader: Callable[[], Awaitable[bytes | None]]
    ) -> bytes | None:
        """Single-flight: concurrent misses of one key in this process share one load.

        The load runs in its own task, so the caller that started it giving up
        (its deadline, a cancelled RPC) does not cancel the others waiting on it.
        """
        running = self._flights.get(flight_key)
        if running is None:
            DB_LOADS.labels(self.domain).inc()
            running = asyncio.ensure_future(loader())
            self._flights[flight_key] = running

            def landed(task: asyncio.Task[bytes | None]) -> None:
                del self._flights[flight_key]
                if not task.cancelled():
                    # Waiters re-raise it; if all of them left, asyncio must not warn.
                    task.exception()

            running.add_done_callback(landed)
        return await asyncio.shield(running)

    async def flush(self) -> int:
        """Delete every entry of this domain (generation keys stay, so no race opens)."""
        pattern = self.prefix + "*"

        async def scan_delete(r: object) -> int:
            client = self._redis.client
            deleted = 0
            async for key in client.scan_iter(match=pattern, count=1000):
                if not key.endswith(b":gen"):
                    deleted += int(await client.delete(key))
            return deleted

        if self.near is not None:
            self.near.clear()
        try:
            return await self._redis.call("SCAN+DEL", scan_delete)
        except RedisDown as exc:
            raise self._redis.unavailable(exc) from exc
        finally:
            if self.near is not None:
                self.near.clear()
