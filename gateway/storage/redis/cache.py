"""Cache-aside in Redis, safe against the stale-set race and shared by many gateways.

Every cached key K depends on one or more generation keys G in its hash slot
(a product entry on its own; a search page on its kind's epoch and its
scope's, e.g. its category's). A reader fetches K and the Gs together; on a
miss it loads from the database and fills K only if the Gs still hold the
generations it saw (a Lua check-and-set). A writer, after its commit, bumps
the Gs and deletes K. A slow reader that loaded the old row before the write
therefore cannot put it back: its fill sees a new G and is refused. Entries
carry the time they were loaded, so bounded-staleness reads can refuse old
ones, and the time they stop being fresh: with stale-while-revalidate an
entry lives on in Redis for that window after it, and may be served (STALE)
while one gateway refreshes it. A "not found" marker makes negative entries.

A miss of one key loads once per process (`load_once`) and once across
gateways: the loader first takes the key's lease (SET NX PX with a token,
released by compare-and-delete); the others wait a little for its fill, or
load themselves once the lease is gone without one (its holder failed or
died: the lease's expiry bounds the wait).

Redis being down never fails a read: lookups report BYPASS and fills are
skipped. Invalidations that could not be sent are kept and replayed when Redis
answers again; the durable copy of them is the writes' events, which the
catalog's invalidation follower (domain.catalog.invalidations) replays, and
until it has caught up after an outage (`follow_with`) no entry is served.

With a near TTL, entries of the per-key kinds (not shared ones) are also held
in process memory (storage.redis.near_cache), checked before Redis and kept
coherent by Redis client tracking; a write in this process drops its keys
there itself, before and after its Redis calls, so a read that follows the
write never waits for Redis to report it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import secrets
import struct
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from prometheus_client import Counter

from gateway import telemetry
from gateway.storage.redis.client import RedisBackend, RedisDown
from gateway.storage.redis.near_cache import NearCache, Tracker
from gateway.tasks import stop_tasks
from gateway.telemetry import (
    CACHE_BYPASS,
    CACHE_FILL_REJECTED,
    CACHE_LEASE_WAITS,
    CACHE_LOOKUPS,
    DB_LOADS,
    NEAR_CACHE_CAPACITY,
    NEAR_CACHE_ENTRIES,
)

log = logging.getLogger(__name__)

# Generation keys outlive any entry by far; see the module docstring.
_GEN_TTL_MS = 86_400_000
# loaded-at, fresh-until (unix seconds), flags, length of the generation that follows
_HEADER = struct.Struct(">ddBH")
_NEGATIVE = 1
# The waiters' polls for the fill: from the first to the longest gap between two.
_POLL_FIRST_S = 0.002
_POLL_MAX_S = 0.025

# KEYS[1] the entry, KEYS[2..] its generations; ARGV: the generation seen, the payload, PX.
_FILL = """
local g = {}
for i = 2, #KEYS do g[#g + 1] = redis.call('GET', KEYS[i]) or '0' end
if table.concat(g, '.') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS: ARGV[1] generations, then the entry they guard (if ARGV[2] is 1),
# then ARGV[3] markers of the writes it is for; ARGV[4], ARGV[5]: their PX.
# Skipped when every marker is set already (each write was applied).
_INVALIDATE = """
local n, m = tonumber(ARGV[1]), tonumber(ARGV[3])
local first = n + 1 + tonumber(ARGV[2])
if m > 0 then
  local unapplied = false
  for j = first, first + m - 1 do
    if redis.call('EXISTS', KEYS[j]) == 0 then unapplied = true; break end
  end
  if not unapplied then return 0 end
end
for j = 1, n do
  redis.call('INCR', KEYS[j])
  redis.call('PEXPIRE', KEYS[j], ARGV[4])
end
if ARGV[2] == '1' then redis.call('DEL', KEYS[n + 1]) end
for j = first, first + m - 1 do redis.call('SET', KEYS[j], '1', 'PX', ARGV[5]) end
return 1
"""
# How long a write's marker is kept: an invalidation path that comes later
# than this (a follower that long behind) repeats the work, harmlessly.
_MARKER_TTL_MS = 3_600_000
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# A position only moves forward; positions are fixed-width digits, so they
# compare as strings (Lua's numbers are doubles and would round them).
_ADVANCE = """
local cur = redis.call('GET', KEYS[1])
if cur and cur >= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


class Lookup(enum.Enum):
    HIT = "hit"
    NEGATIVE_HIT = "negative_hit"
    # Past its TTL but within its stale-while-revalidate window, and not invalidated.
    STALE = "stale"
    MISS = "miss"
    BYPASS = "bypass"


@dataclass(frozen=True)
class Entry:
    state: Lookup
    value: bytes | None = None
    # The generation(s) seen; a fill must present them.
    generation: bytes = b"0"
    # A STALE entry's kind: a "not found" marker.
    negative: bool = False


@dataclass(frozen=True)
class TTL:
    ttl_s: float
    jitter_percent: int
    negative_ttl_s: float
    # Stale-while-revalidate: how long after the TTL the entry may still be served.
    stale_s: float = 0.0

    def positive_ms(self) -> int:
        spread = self.ttl_s * self.jitter_percent / 100.0
        # Jitter spreads expiries so a burst of fills does not expire at once.
        return max(1, int((self.ttl_s + random.uniform(0, spread)) * 1000))

    def negative_ms(self) -> int:
        return max(1, int(self.negative_ttl_s * 1000))


@dataclass(frozen=True)
class Fill:
    """What a loader read: the value (None: not found), how long to keep it,
    and how old the state it was read from already was (a replica's lag)."""

    value: bytes | None
    ttl: TTL
    age_s: float = 0.0


_NEAR_RESULT = {Lookup.HIT: "near_hit", Lookup.NEGATIVE_HIT: "near_negative_hit"}
_GEN_SUFFIX = ":gen"
_LEASE_SUFFIX = ":lease"


@dataclass(frozen=True)
class Invalidation:
    """Bump `generations` and delete `entry` (if any), in one hash slot.

    `markers` name the writes it is for: the first path to apply it (the
    writer's own call after its commit, or a follower replaying the write's
    events) sets them, and a later one finds them all set and skips, so one
    write invalidates once however many paths report it. None: always applied."""

    generations: tuple[str, ...]
    entry: str | None = None
    markers: tuple[str, ...] = ()

    def keys(self) -> list[str]:
        return [*self.generations, *([self.entry] if self.entry else []), *self.markers]


@dataclass(frozen=True)
class _Keys:
    entry: str
    generations: tuple[str, ...]

    @property
    def lease(self) -> str:
        return self.entry + _LEASE_SUFFIX


class Cache:
    """The cache of one domain; keys are dgw:<domain>:v<schema>:<kind>:{<id>}.

    Kinds named in `shared_kinds` (search result pages) have generations for
    the whole kind instead of one per key: an epoch that invalidates every
    entry of the kind at once, and one per scope (a lookup's `scope`, e.g. a
    category) that invalidates the entries of that scope; their keys share a
    hash slot ({<kind>}).

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
        self._refreshing: set[asyncio.Task[bytes | None]] = set()
        # Invalidations not sent while Redis was down.
        self._pending_invalidations: set[Invalidation] = set()
        self._replaying = asyncio.Lock()
        redis.on_recovery.append(self._replay_invalidations)
        self._caught_up: Callable[[], bool] = lambda: True
        self._catch_up: Callable[[], Awaitable[bool]] | None = None
        self._lookup_counters: dict[tuple[str, str], Counter] = {}
        self._near_ttl = near_ttl
        # A near entry is the Redis entry's loaded-at time and the lookup result.
        self.near: NearCache[tuple[float, Entry]] | None = None
        self.tracker: Tracker | None = None
        if near_ttl is not None:
            self.near = NearCache(near_capacity)
            self.tracker = Tracker(redis, self.prefix, self.near, self._near_key)

    def follow_with(
        self, caught_up: Callable[[], bool], catch_up: Callable[[], Awaitable[bool]],
    ) -> None:
        """Serve no entry while `caught_up` says the invalidations recorded in
        the database may not all have reached Redis (after an outage);
        `catch_up`, called while Redis answers, hurries that along and says
        whether it is done."""
        self._caught_up = caught_up
        self._catch_up = catch_up

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
        await stop_tasks(*self._refreshing, what=f"cache {self.domain} refreshes")
        if self.tracker is not None:
            await self.tracker.stop()

    def _near_key(self, key: bytes) -> str | None:
        """The near-cache key a key named by Redis affects; None if none can."""
        name = key.decode(errors="replace")
        for suffix in (_GEN_SUFFIX, _LEASE_SUFFIX):
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        kind = name[len(self.prefix):].split(":", 1)[0]
        return None if kind in self._shared else name

    def _drop_near(self, entries: Iterable[str]) -> None:
        if self.near is not None:
            self.near.invalidate(entries)

    def _keys(self, kind: str, ident: str, scope: str = "") -> _Keys:
        if kind in self._shared:
            base = f"{self.prefix}{kind}:{{{kind}}}"
            epoch = f"{base}{_GEN_SUFFIX}"
            if not scope:
                return _Keys(f"{base}:{ident}", (epoch,))
            return _Keys(f"{base}:{ident}", (epoch, f"{base}:scope:{scope}{_GEN_SUFFIX}"))
        key = f"{self.prefix}{kind}:{{{ident}}}"
        return _Keys(key, (key + _GEN_SUFFIX,))

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

    async def _fetch(self, keys: _Keys, *extra: str) -> list[bytes | None]:
        """The entry, then `extra` keys, then the joined generation, in one MGET."""
        names = [keys.entry, *extra, *keys.generations]
        fetched = cast(list[bytes | None], await self._redis.call(
            "MGET", lambda r: r.mget(*names), key=keys.entry))
        cut = 1 + len(extra)
        generation = b".".join(g or b"0" for g in fetched[cut:])
        return [*fetched[:cut], generation]

    async def lookup(
        self, kind: str, ident: str, max_age_s: float | None = None, scope: str = "",
    ) -> Entry:
        keys = self._keys(kind, ident, scope)
        # Entries cached before Redis went away may predate writes whose
        # invalidations are still queued, or were lost with the gateway that
        # queued them: none is served until those landed.
        unsettled = self._pending_invalidations or self._replaying.locked()
        if unsettled and not await self._invalidations_settled():
            return self._bypass(kind)
        if not self._caught_up() and not (
                self._redis.healthy and self._catch_up is not None and await self._catch_up()):
            return self._bypass(kind)
        near, token, near_ttl = None, 0, 0.0
        if self.near is not None and kind not in self._shared:
            near_ttl = self._near_ttl() if self._near_ttl is not None else 0.0
            if near_ttl > 0:
                near = self.near
                held = near.get(keys.entry)
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
            value, generation = await self._fetch(keys)
        except RedisDown:
            return self._bypass(kind)
        assert generation is not None
        entry, loaded_at, fresh_s = self._decode(value, generation, max_age_s)
        if near is not None and entry.state in _NEAR_RESULT and fresh_s > 0:
            # Held no longer than the entry is fresh: a stale one is Redis's to serve.
            near.put(keys.entry, token, (loaded_at, entry), min(near_ttl, fresh_s))
        self._observe(kind, entry.state.value)
        return entry

    @staticmethod
    def _decode(
        value: bytes | None, generation: bytes, max_age_s: float | None,
    ) -> tuple[Entry, float, float]:
        """The lookup result of an entry as fetched, its load time and how
        much longer it is fresh."""
        if value is None:
            return Entry(Lookup.MISS, generation=generation), 0.0, 0.0
        loaded_at, fresh_until, flags, length = _HEADER.unpack_from(value)
        start = _HEADER.size + length
        # An entry filled under older generations was invalidated since (for
        # shared kinds that is the only sign of it): never served, not even stale.
        if value[_HEADER.size:start] != generation:
            return Entry(Lookup.MISS, generation=generation), 0.0, 0.0
        now = time.time()
        if max_age_s is not None and now - loaded_at > max_age_s:
            return Entry(Lookup.MISS, generation=generation), 0.0, 0.0
        negative = bool(flags & _NEGATIVE)
        if now >= fresh_until:
            return (Entry(Lookup.STALE, value[start:], generation, negative), loaded_at, 0.0)
        state = Lookup.NEGATIVE_HIT if negative else Lookup.HIT
        return Entry(state, value[start:], generation), loaded_at, fresh_until - now

    async def fill(
        self, kind: str, ident: str, value: bytes | None, generation: bytes, ttl: TTL,
        age_s: float = 0.0, scope: str = "",
    ) -> bool:
        """Store `value` (None: a negative entry) unless a write happened since
        lookup. `age_s`: how old the state it was read from already was (a
        replica's lag), so bounded-staleness lookups count it from then."""
        if value is None and ttl.negative_ttl_s <= 0:
            return False
        keys = self._keys(kind, ident, scope)
        flags = _NEGATIVE if value is None else 0
        fresh_ms = ttl.negative_ms() if value is None else ttl.positive_ms()
        now = time.time()
        payload = (_HEADER.pack(now - age_s, now + fresh_ms / 1000, flags, len(generation))
                   + generation + (value or b""))
        px = fresh_ms + int(ttl.stale_s * 1000)
        names = [keys.entry, *keys.generations]
        try:
            stored = await self._redis.call(
                "EVAL fill", lambda r: r.eval(_FILL, len(names), *names, generation, payload, px),
                key=keys.entry)
        except RedisDown:
            CACHE_BYPASS.labels(self.domain, "fill").inc()
            return False
        if not stored:
            CACHE_FILL_REJECTED.labels(self.domain).inc()
        return bool(stored)

    # -- reads through the cache: single-flight, the lease, stale-while-revalidate

    async def read_through(
        self, kind: str, ident: str, load: Callable[[], Awaitable[Fill]], *,
        max_age_s: float | None, serve_stale: bool, lease_s: float, scope: str = "",
    ) -> bytes | None:
        """The entry's value (None: not found), loaded and filled on a miss by
        one caller across gateways. `serve_stale`: a STALE entry is answered at
        once while one gateway refreshes it in the background. `lease_s`: how
        long a loader holds the key's lease, the longest the others wait for
        its fill before loading themselves (a slower load is repeated)."""
        entry = await self.lookup(kind, ident, max_age_s, scope)
        if entry.state is Lookup.HIT:
            return entry.value
        if entry.state is Lookup.NEGATIVE_HIT:
            return None
        # The generation is part of the flight: a reader that arrives after a
        # write must not share a load that may have read the row before it.
        flight = f"{kind}:{scope}:{ident}:{entry.generation.decode()}"
        if entry.state is Lookup.STALE and serve_stale:
            if flight not in self._flights:
                refresh = asyncio.ensure_future(self.load_once(flight, lambda: self._load_shared(
                    kind, ident, scope, entry, load, max_age_s, lease_s, background=True)))
                self._refreshing.add(refresh)
                refresh.add_done_callback(self._refreshed)
            return None if entry.negative else entry.value
        return await self.load_once(
            flight, lambda: self._load_shared(kind, ident, scope, entry, load, max_age_s, lease_s))

    def _refreshed(self, task: asyncio.Task[bytes | None]) -> None:
        self._refreshing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("cache %s: background refresh failed", self.domain,
                        exc_info=task.exception())

    async def _load_shared(
        self, kind: str, ident: str, scope: str, entry: Entry,
        load: Callable[[], Awaitable[Fill]], max_age_s: float | None, lease_s: float,
        background: bool = False,
    ) -> bytes | None:
        """Load under the key's lease. `background`: a refresh of a STALE
        entry, which leaves the key to whoever holds the lease already."""
        if entry.state is Lookup.BYPASS:
            return await self._load(load)
        keys = self._keys(kind, ident, scope)
        lease_ms = max(1, int(lease_s * 1000))
        lease = await self._take_lease(keys, lease_ms)
        if lease is None:
            if background:
                return None  # another gateway refreshes it
            served = await self._wait_for_fill(kind, keys, max_age_s, lease_s)
            if served is not None:
                CACHE_LEASE_WAITS.labels(self.domain, "served").inc()
                return None if served.state is Lookup.NEGATIVE_HIT else served.value
            CACHE_LEASE_WAITS.labels(self.domain, "loaded").inc()
            lease = await self._take_lease(keys, lease_ms)
        try:
            if lease is not None:
                # The holder before us may have filled it between our lookup and our lease.
                try:
                    value, generation = await self._fetch(keys)
                    assert generation is not None
                    landed = self._decode(value, generation, max_age_s)[0]
                except RedisDown:
                    landed = Entry(Lookup.BYPASS)
                if landed.state is Lookup.HIT:
                    return landed.value
                if landed.state is Lookup.NEGATIVE_HIT:
                    return None
            DB_LOADS.labels(self.domain).inc()
            loaded = await load()
            await self.fill(kind, ident, loaded.value, entry.generation, loaded.ttl,
                            loaded.age_s, scope)
            return loaded.value
        finally:
            if lease is not None:
                await self._release_lease(keys, lease)

    async def _load(self, load: Callable[[], Awaitable[Fill]]) -> bytes | None:
        DB_LOADS.labels(self.domain).inc()
        return (await load()).value

    async def _take_lease(self, keys: _Keys, lease_ms: int) -> bytes | None:
        """The lease's token if this caller took it; None if another holds it.
        Redis down: load without one (the token is then never released)."""
        token = secrets.token_bytes(12)
        try:
            taken = await self._redis.call(
                "SET lease", lambda r: r.set(keys.lease, token, nx=True, px=lease_ms),
                key=keys.entry)
        except RedisDown:
            return token
        return token if taken else None

    async def _release_lease(self, keys: _Keys, token: bytes) -> None:
        with contextlib.suppress(RedisDown):  # else it expires
            await self._redis.call(
                "EVAL release", lambda r: r.eval(_RELEASE, 1, keys.lease, token), key=keys.entry)

    async def _wait_for_fill(
        self, kind: str, keys: _Keys, max_age_s: float | None, lease_s: float,
    ) -> Entry | None:
        """The entry the lease holder fills (HIT or NEGATIVE_HIT), or None
        once the lease is gone without a usable fill (or after `lease_s`)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + lease_s
        pause = _POLL_FIRST_S
        while loop.time() < give_up:
            await asyncio.sleep(pause)
            pause = min(pause * 2, _POLL_MAX_S)
            try:
                value, holder, generation = await self._fetch(keys, keys.lease)
            except RedisDown:
                return None
            assert generation is not None
            entry = self._decode(value, generation, max_age_s)[0]
            if entry.state in (Lookup.HIT, Lookup.NEGATIVE_HIT):
                self._observe(kind, entry.state.value)
                return entry
            if holder is None:
                return None
        return None

    async def load_once(
        self, flight_key: str, loader: Callable[[], Awaitable[bytes | None]]
    ) -> bytes | None:
        """Single-flight: concurrent misses of one key in this process share one load.

        The load runs in its own task, so the caller that started it giving up
        (its deadline, a cancelled RPC) does not cancel the others waiting on it.
        """
        running = self._flights.get(flight_key)
        if running is None:
            running = asyncio.ensure_future(loader())
            self._flights[flight_key] = running

            def landed(task: asyncio.Task[bytes | None]) -> None:
                del self._flights[flight_key]
                if not task.cancelled():
                    # Waiters re-raise it; if all of them left, asyncio must not warn.
                    task.exception()

            running.add_done_callback(landed)
        return await asyncio.shield(running)

    # -- invalidations ---------------------------------------------------------

    def entry_units(
        self, kind: str, idents: Iterable[str], write: str | None = None,
    ) -> list[Invalidation]:
        """The invalidations of these entries of a per-key kind; `write`: the
        write's identity, for its marker (None: always applied)."""
        if kind in self._shared:
            raise ValueError(f"{kind!r} is shared: use scope_units or epoch_units")
        return [Invalidation(k.generations, k.entry, (f"{k.entry}:done:{write}",) if write
                             else ())
                for k in (self._keys(kind, i) for i in idents)]

    def scope_units(
        self, kind: str, scopes: Iterable[str], writes: Iterable[str] = (),
    ) -> list[Invalidation]:
        """The invalidation of the entries of a shared kind looked up with
        these scopes, for `writes` (their identities, for the markers; none:
        always applied)."""
        gens = tuple(self._keys(kind, "", s).generations[1] for s in sorted(set(scopes)))
        if not gens:
            return []
        return [Invalidation(gens, None, tuple(self._keys(kind, f"done:{w}").entry
                                               for w in writes))]

    def epoch_units(self, kind: str) -> list[Invalidation]:
        """The invalidation of every entry of a shared kind."""
        return [Invalidation(self._keys(kind, "").generations)]

    async def invalidate(self, kind: str, idents: list[str], write: str | None = None) -> None:
        """After a commit: bump each key's generation and delete it."""
        await self._invalidate(self.entry_units(kind, idents, write))

    async def invalidate_kind(self, kind: str) -> None:
        """Invalidate every entry of a shared kind by bumping its epoch."""
        await self._invalidate(self.epoch_units(kind))

    async def invalidate_scopes(
        self, kind: str, scopes: Iterable[str], write: str | None = None,
    ) -> None:
        """Invalidate the entries of a shared kind looked up with these scopes."""
        await self._invalidate(self.scope_units(kind, scopes, [write] if write else []))

    async def _invalidate(self, units: list[Invalidation]) -> None:
        """Send them now, or queue them for replay when Redis is back."""
        try:
            await self.send(units)
        except RedisDown:
            CACHE_BYPASS.labels(self.domain, "invalidate").inc()
            self._pending_invalidations.update(units)
            log.warning(
                "cache %s: redis down, %d invalidation(s) queued for replay",
                self.domain, len(self._pending_invalidations),
            )

    async def send(self, units: list[Invalidation]) -> None:
        """Apply invalidations in Redis; RedisDown if it cannot be reached."""
        if not units:
            return
        entries = [u.entry for u in units if u.entry]
        # Dropped here before and after: a local read that starts while the
        # Redis call runs may fetch the old entry, and the tracker reports the
        # write only some time after this returns.
        self._drop_near(entries)
        try:
            await self._invalidate_keys(units)
        finally:
            self._drop_near(entries)

    async def _invalidate_keys(self, units: Iterable[Invalidation]) -> None:
        # One EVAL per unit (a unit's keys share a hash slot, different ids
        # may not, and a cluster refuses cross-slot scripts), pipelined so a
        # bulk import invalidates thousands of keys per trip.
        async def run(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for u in units:
                    keys = u.keys()
                    pipe.eval(_INVALIDATE, len(keys), *keys, len(u.generations),
                              int(u.entry is not None), len(u.markers),
                              _GEN_TTL_MS, _MARKER_TTL_MS)
                await pipe.execute()

        await self._redis.call("EVAL invalidate", run)

    async def _replay_invalidations(self) -> None:
        if self._replaying.locked():
            # Re-entered through the recovery hook of the replay's own call.
            return
        async with self._replaying:
            pending, self._pending_invalidations = self._pending_invalidations, set()
            try:
                await self.send(list(pending))
            except RedisDown:
                self._pending_invalidations |= pending

    async def _invalidations_settled(self) -> bool:
        """True when no queued invalidation is outstanding (replaying them if needed)."""
        if self._replaying.locked():
            async with self._replaying:
                pass
        if self._pending_invalidations:
            await self._replay_invalidations()
        return not self._pending_invalidations

    # -- the invalidation follower's position ------------------------------------

    def _position_key(self, name: str) -> str:
        return f"{self.prefix}follower:{{{name}}}"

    async def position(self, name: str) -> str | None:
        """The position follower `name` stored last (None: none stored); RedisDown."""
        key = self._position_key(name)
        raw = await self._redis.call("GET position", lambda r: r.get(key), key=key)
        return raw.decode() if isinstance(raw, bytes) else raw

    async def advance_position(self, name: str, position: str) -> bool:
        """Store `position` unless a later one is stored already (positions
        compare as strings: fixed width); RedisDown."""
        key = self._position_key(name)
        moved = await self._redis.call(
            "EVAL advance", lambda r: r.eval(_ADVANCE, 1, key, position), key=key)
        return bool(moved)

    async def flush(self) -> int:
        """Delete every entry of this domain (generation keys stay, so no race
        opens); the count is of entries. Leases, write markers and the
        follower's position go too: the position may be ahead of a database
        restored to an earlier point, and a marker only saves work."""
        pattern = self.prefix + "*"
        bookkeeping = (_LEASE_SUFFIX.encode(), b":done:", b":follower:")

        async def scan_delete(r: object) -> int:
            client = self._redis.client
            deleted = 0
            async for key in client.scan_iter(match=pattern, count=1000):
                if not key.endswith(_GEN_SUFFIX.encode()):
                    gone = int(await client.delete(key))
                    if not any(part in key for part in bookkeeping):
                        deleted += gone
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
