"""An in-process near cache of Redis entries, kept coherent by Redis client tracking.

A hit on the near cache never leaves the process. It is only safe while this
process hears about every change to the keys it holds, so a `Tracker` keeps
one connection to Redis with client-side caching in broadcasting mode
(`CLIENT TRACKING ON REDIRECT <own id> BCAST PREFIX <prefix>`, then
`SUBSCRIBE __redis__:invalidate`): Redis then names every key under the prefix
that any client writes, deletes or expires, and FLUSHALL/FLUSHDB as "all
keys". The near cache is used only while that connection is subscribed; when
it drops, everything held is forgotten until the tracker is back. Each entry
also expires locally after a short TTL, the bound for a tracker that died
without its socket noticing.

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
from typing import Any, Generic, TypeVar

import redis.asyncio as aioredis
import redis.exceptions

from gateway.secrets import redact_url
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

V = TypeVar("V")

CHANNEL = "__redis__:invalidate"


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

    def invalidated_since(self, key: str, token: int) -> bool:
        """Whether `key` may have been invalidated after `token` (a past `seq`) was taken."""
        return token < self._horizon or self._dropped.get(key, 0) > token

    def put(self, key: str, token: int, value: V, ttl_s: float) -> bool:
        """Keep `value` unless `key` was invalidated after `token` was taken."""
        if not self.active or self.invalidated_since(key, token):
            return False
        self._entries[key] = (time.monotonic() + ttl_s, value)
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


class Tracker:
    """Keeps a NearCache coherent: one tracking connection, reconnected in the background.

    `key_of` maps a key Redis names to the near-cache key it affects (None:
    nothing held here depends on it).
    """

    def __init__(
        self, client: aioredis.Redis, prefix: str, near: NearCache[Any],
        key_of: Callable[[bytes], str | None], *, ping_after_s: float = 1.0,
        retry_min_s: float = 0.05, retry_max_s: float = 2.0,
    ) -> None:
        self._client = client
        self.prefix = prefix
        self._near = near
        self._key_of = key_of
        self._ping_after_s = ping_after_s
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._task: asyncio.Task[None] | None = None
        self._stopped = False
        # Messages applied and connections made; tests and logs read them.
        self.messages = 0
        self.connects = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None and not self._stopped:
            self._task = asyncio.create_task(self._run(), name=f"near-cache tracker {self.prefix}")

    async def stop(self) -> None:
        self._stopped = True
        task, self._task = self._task, None
        # A cancel that lands just as a read timeout fires can be swallowed
        # inside redis-py's timeout handling; the loops also check _stopped,
        # and stop_tasks repeats the cancel, so stopping never hangs a shutdown.
        await stop_tasks(task, what=f"near cache {self.prefix} tracker")
        self._near.disable()

    async def _run(self) -> None:
        delay = self._retry_min_s
        quiet = False  # an outage is logged once, not at every retry
        while not self._stopped:
            connects = self.connects
            try:
                await self._session()
            except (redis.exceptions.RedisError, OSError) as exc:
                if not quiet or self.connects != connects:
                    log.warning("near cache %s: no tracking connection (%s: %s); near cache "
                                "off until it is back", self.prefix, type(exc).__name__,
                                redact_url(str(exc)))
                quiet = True
            except Exception:
                # A bug here must not end coherence for good: report it, retry.
                log.exception("near cache %s: tracker failed", self.prefix)
            finally:
                self._near.disable()
            if self.connects != connects:
                delay = self._retry_min_s
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._retry_max_s)

    def _connection(self) -> Any:
        pool = self._client.connection_pool
        # The pool's settings (auth, TLS, timeouts) with RESP2, whose pub/sub
        # messages are plain arrays of bytes whatever push handling or
        # decoding the client has.
        kwargs = {**pool.connection_kwargs, "protocol": 2, "decode_responses": False}
        return pool.connection_class(**kwargs)

    async def _session(self) -> None:
        conn = self._connection()
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
            self._near.enable()
            log.info("near cache %s: tracking invalidations", self.prefix)
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
        while not self._stopped:
            message = await conn.read_response(timeout=self._ping_after_s)
            if message is None:
                # Quiet for a while: a PING tells a quiet Redis from a dead socket.
                if pinged:
                    raise redis.exceptions.ConnectionError("no answer to PING")
                await conn.send_command("PING")
                pinged = True
                continue
            pinged = False
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
