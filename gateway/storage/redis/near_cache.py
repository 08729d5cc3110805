"""An in-process near cache of Redis entries, kept coherent by Redis client tracking.

A hit on the near cache never leaves the process. It is only safe while this
process hears about every change to the keys it holds, so a `Tracker` keeps
one connection to Redis (to each primary of a cluster) with client-side
caching in broadcasting mode
(`CLIENT TRACKING ON REDIRECT <own id> BCAST PREFIX <prefix>`, then
`SUBSCRIBE __redis__:invalidate`): Redis then names every key under the prefix
that any client writes, deletes or expires, and FLUSHALL/FLUSHDB as "all
keys". The near cache is used only while that connection (every one of them)
is subscribed; when one drops, everything held is forgotten until the tracker
is back. Each entry also expires locally after a short TTL, the bound for a
tracker that died without its socket noticing.

The race left is a reader whose Redis reply was sent before a write and
arrives after the write's invalidation was applied here: storing it would keep
the old value until the TTL. So every invalidation takes a sequence number, a
reader notes the number before its Redis call (`token`), and `put` refuses the
value if its key (or everything) was invalidated after that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

import redis.exceptions

from gateway.secrets import redact_url
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

V = TypeVar("V")

CHANNEL = "__redis__:invalidate"
# A tracking connection quiet this long is PINGed even while the near cache
# holds nothing (with entries: after `ping_after_s`), so a dead socket is
# found before entries depend on it again.
IDLE_PING_S = 30.0


class NearCache(Generic[V]):
    """A bounded LRU of values by Redis key, each with a local expiry."""

    def __init__(self, capacity: int = 10_000, remembered: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self.active = False
        self.seq = 0
        # The sequence number of each key's latest invalidation, for the last
        # `remembered` keys; a token older than the horizon may have lost its
        # record, so it is refused. Bounded, and nothing to clean up when a
        # reader is cancelled between token and put.
        self._dropped: OrderedDict[str, int] = OrderedDict()
        self._remembered = remembered
        self._horizon = 0
        # When the last entry put expires: none is served after it.
        self._holds_until = 0.0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def get(self, key: str) -> V | None:
        if not self.active:
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        expires, value = found
        if time.monotonic() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def holds_entries(self) -> bool:
        """Whether an entry may still be served (one put has not expired)."""
        return self.active and time.monotonic() < self._holds_until

    def invalidated_since(self, key: str, token: int) -> bool:
        """Whether `key` may have been invalidated after `token` (a past `seq`) was taken."""
        return token < self._horizon or self._dropped.get(key, 0) > token

    def put(self, key: str, token: int, value: V, ttl_s: float) -> bool:
        """Keep `value` unless `key` was invalidated after `token` was taken."""
        if not self.active or self.invalidated_since(key, token):
            return False
        expires = time.monotonic() + ttl_s
        self._entries[key] = (expires, value)
        self._holds_until = max(self._holds_until, expires)
        self._entries.move_to_end(key)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return True

    def invalidate(self, keys: Iterable[str]) -> None:
        if not self.active:
            # Nothing is held, and enable() refuses every earlier token.
            return
        entries, dropped = self._entries, self._dropped
        for key in keys:
            self.seq += 1
            entries.pop(key, None)
            dropped[key] = self.seq
            dropped.move_to_end(key)
            if len(dropped) > self._remembered:
                _, self._horizon = dropped.popitem(last=False)

    def clear(self) -> None:
        """Forget everything, and refuse every value read before now."""
        self.seq += 1
        self._horizon = self.seq
        self._entries.clear()
        self._dropped.clear()

    def enable(self) -> None:
        # Values read while nobody listened for invalidations may be stale.
        self.clear()
        self.active = True

    def disable(self) -> None:
        self.active = False
        self.clear()


class TrackedRedis(Protocol):
    """The nodes a Tracker listens to (storage.redis.client.RedisBackend)."""

    cluster: bool

    async def primaries(self) -> list[str]: ...

    def tracking_connection(self, node: str) -> Any: ...


class Tracker:
    """Keeps a NearCache coherent: one tracking connection per primary, reconnected
    in the background.

    A node reports only the writes it executes, so a cluster needs a
    connection to every primary, and the near cache is on only while every
    primary the cluster names has one. The cluster is asked for its primaries
    every `refresh_s`: a promoted replica or a node given slots gets its
    connection, and until it has it the near cache is off. A failed primary's
    connection drops on its own, which turns the near cache off at once; a
    primary demoted on purpose (a manual failover) keeps its connection, so
    writes on its successor may go unheard until the next refresh, a window
    shorter than the near TTL that bounds it anyway. A single node is its own
    only primary and is never asked.

    `key_of` maps a key Redis names to the near-cache key it affects (None:
    nothing held here depends on it).
    """

    def __init__(
        self, redis: TrackedRedis, prefix: str, near: NearCache[Any],
        key_of: Callable[[bytes], str | None], *, ping_after_s: float = 1.0,
        retry_min_s: float = 0.05, retry_max_s: float = 2.0, refresh_s: float = 1.0,
    ) -> None:
        self._redis = redis
        self.prefix = prefix
        self._near = near
        self._key_of = key_of
        self._ping_after_s = ping_after_s
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._refresh_s = refresh_s
        self._task: asyncio.Task[None] | None = None
        self._node_tasks: dict[str, asyncio.Task[None]] = {}
        # The primaries last named, and those with a subscribed connection.
        self._wanted: set[str] = set()
        self._live: set[str] = set()
        self._stopped = False
        # Messages applied and connections made; tests and logs read them.
        self.messages = 0
        self.connects = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def nodes(self) -> frozenset[str]:
        """The primaries with a live tracking connection now."""
        return frozenset(self._live)

    def start(self) -> None:
        if self._task is None and not self._stopped:
            self._task = asyncio.create_task(self._run(), name=f"near-cache tracker {self.prefix}")

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        nodes, self._node_tasks = list(self._node_tasks.values()), {}
        # A cancel that lands just as a read timeout fires can be swallowed
        # inside redis-py's timeout handling; the loops also check _stopped,
        # and stop_tasks repeats the cancel, so stopping never hangs a shutdown.
        await stop_tasks(task, *nodes, what=f"near cache {self.prefix} tracker")
        self._near.disable()

    def _settle(self) -> None:
        """Near cache on exactly while every wanted primary is heard."""
        heard = bool(self._wanted) and self._wanted <= self._live
        if heard and not self._near.active:
            self._near.enable()
            log.info("near cache %s: tracking invalidations on %d node(s)", self.prefix,
                     len(self._live))
        elif not heard and self._near.active:
            self._near.disable()

    async def _run(self) -> None:
        quiet = False
        while not self._stopped:
            try:
                wanted = set(await self._redis.primaries())
            except (redis.exceptions.RedisError, OSError) as exc:
                if not quiet:
                    log.warning("near cache %s: cannot list the cluster's primaries (%s)",
                                self.prefix, type(exc).__name__)
                quiet = True
            except Exception:
                # A bug here must not stop following the cluster: report it, retry.
                log.exception("near cache %s: listing the primaries failed", self.prefix)
            else:
                quiet = False
                self._follow(wanted)
            if not self._redis.cluster:
                # One node, named once: its connection loop does the rest.
                await asyncio.gather(*self._node_tasks.values())
                return
            await asyncio.sleep(self._refresh_s)

    def _follow(self, wanted: set[str]) -> None:
        if wanted != self._wanted:
            if self._wanted:
                log.info("near cache %s: primaries now %s", self.prefix, ",".join(sorted(wanted)))
            for gone in self._wanted - wanted:
                task = self._node_tasks.pop(gone, None)
                if task is not None:
                    task.cancel()
        self._wanted = wanted
        for node in wanted - self._node_tasks.keys():
            self._node_tasks[node] = asyncio.create_task(
                self._node_loop(node), name=f"near-cache tracker {self.prefix} {node}")
        self._settle()

    async def _node_loop(self, node: str) -> None:
        delay = self._retry_min_s
        quiet = False  # an outage is logged once, not at every retry
        while not self._stopped:
            connects = self.connects
            try:
                await self._session(node)
            except (redis.exceptions.RedisError, OSError) as exc:
                if not quiet or self.connects != connects:
                    log.warning("near cache %s: no tracking connection to %s (%s: %s); near "
                                "cache off until it is back", self.prefix, node,
                                type(exc).__name__, redact_url(str(exc)))
                quiet = True
            except Exception:
                # A bug here must not end coherence for good: report it, retry.
                log.exception("near cache %s: tracker of %s failed", self.prefix, node)
            finally:
                self._live.discard(node)
                self._settle()
            if self.connects != connects:
                delay = self._retry_min_s
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)

    async def _session(self, node: str) -> None:
        conn = self._redis.tracking_connection(node)
        try:
            await conn.connect()
            client_id = await self._command(conn, "CLIENT", "ID")
            # One connection both enables tracking and receives the messages.
            await self._command(conn, "CLIENT", "TRACKING", "ON", "REDIRECT", client_id,
                                "BCAST", "PREFIX", self.prefix)
            reply = await self._command(conn, "SUBSCRIBE", CHANNEL)
            if not (isinstance(reply, list) and reply[:1] == [b"subscribe"]):
                raise redis.exceptions.ConnectionError(f"unexpected SUBSCRIBE reply {reply!r}")
            self.connects += 1
            self._live.add(node)
            self._settle()
            await self._listen(conn)
        finally:
            with contextlib.suppress(redis.exceptions.RedisError, OSError):
                await conn.disconnect()

    @staticmethod
    async def _command(conn: Any, *args: Any) -> Any:
        await conn.send_command(*args)
        return await conn.read_response()

    async def _listen(self, conn: Any) -> None:
        pinged = False
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while not self._stopped:
            message = await conn.read_response(timeout=self._ping_after_s)
            if message is None:
                # Quiet for a while: a PING tells a quiet Redis from a dead socket.
                if pinged:
                    raise redis.exceptions.ConnectionError("no answer to PING")
                # Only while an entry may be served does a dead socket matter
                # within a second; an idle gateway asks every IDLE_PING_S.
                if self._near.holds_entries() or loop.time() - heard >= IDLE_PING_S:
                    await conn.send_command("PING")
                    pinged = True
                continue
            pinged, heard = False, loop.time()
            if isinstance(message, list) and message[:1] == [b"message"]:
                self.apply(message[2])

    def apply(self, keys: list[bytes] | None) -> None:
        """One invalidation message: the keys changed, or None for all of them."""
        self.messages += 1
        if keys is None:
            self._near.clear()
            return
        key_of = self._key_of
        self._near.invalidate(k for k in map(key_of, keys) if k is not None)
