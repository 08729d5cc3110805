"""The durable path of the catalog cache's invalidations: the catalog's events.

Every product write appends its events in its own transaction (events.py),
so the event log holds every write that ever committed, whether or not its
gateway lived to invalidate the cache after it. Each gateway process runs
one follower: it reads the catalog shard's events in commit order (the
commit-safe reader, storage.eventstore.log), invalidates the product entry
and the search pages (search_scopes) each event can change, and then moves
the position stored in Redis forward (compare-and-set: it never moves back,
and a follower that finds it already past a page skips that page's work, so
the gateways share it instead of repeating it).

The direct invalidation after each commit stays the fast path; this one is
the guarantee. While the follower has not applied every event below the
database's transaction horizon since it started or since Redis last failed
it, the cache serves no entry (Cache.follow_with): a gateway killed during a
Redis outage, its queued invalidations lost with it, leaves nothing stale
for the others once Redis is back, because their followers replay its
writes' events from the stored position first. The catalog database being
unreachable does not stop the cache: no write commits meanwhile, and cached
reads are what still answers then.

The bound: a write through a gateway that dies before invalidating is
applied by the other gateways' followers when they next read, which a
commit's NOTIFY triggers at once (storage.eventstore.notify), and at least
every IDLE_CHECK_S; while Redis is unreachable, within RETRY_MAX_S of its
return.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

import asyncpg

from gateway.domain.catalog.search_scopes import KIND as SEARCH
from gateway.domain.catalog.search_scopes import touched_scopes
from gateway.errors import Unavailable
from gateway.records.events import Cursor, EventFilter, StoredEvent
from gateway.storage.eventstore import log as event_log
from gateway.storage.eventstore.notify import HorizonWaiter, ShardNotifier
from gateway.storage.postgres import catalog_history
from gateway.storage.postgres.pool import Shard
from gateway.storage.postgres.product_events import STREAM_PREFIX
from gateway.storage.redis.cache import Cache, Invalidation
from gateway.storage.redis.client import RedisDown
from gateway.tasks import stop_tasks
from gateway.telemetry import CACHE_FOLLOWER_CAUGHT_UP, CACHE_INVALIDATION_EVENTS

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
# The name of the position in Redis (one per followed log).
POSITION = "catalog-events"
# After a failure: retry after this, doubling up to the maximum.
RETRY_MIN_S = 0.05
RETRY_MAX_S = 1.0
# Without a commit to wake it, the follower still reads this often: it is how
# a Redis that went back to an older position (a restart that lost its last
# writes, a restored snapshot) is noticed without a failed call.
IDLE_CHECK_S = 1.0
# How long a read that finds the follower behind while Redis answers waits
# for it (it reads at once for it) before going to PostgreSQL instead.
CATCH_UP_WAIT_S = 0.2
_FILTER = EventFilter(stream_prefixes=(STREAM_PREFIX,))
_WIDTH = 20  # digits of each part of a stored position (2**63 has 19)


def encode_position(cursor: Cursor) -> str:
    """Fixed-width, so positions compare as strings (Cache.advance_position)."""
    return f"{cursor.commit:0{_WIDTH}d}:{cursor.position:0{_WIDTH}d}"


def decode_position(stored: str) -> Cursor:
    commit, position = stored.split(":")
    return Cursor(int(commit), int(position))


class InvalidationFollower:
    def __init__(self, cache: Cache, shard: Shard, notifier: ShardNotifier) -> None:
        self._cache = cache
        self._shard = shard
        self._notifier = notifier
        # Where this process last read to: the start when Redis holds no
        # position (it lost its data, and the entries with it).
        self._cursor: Cursor | None = None
        self._caught_up = False
        self._reached = asyncio.Event()  # set while caught up
        # Set to make the run loop read now instead of at its next wake-up.
        self._wake = asyncio.Event()
        # A read waited for a catch-up that took longer: the others do not
        # wait until it is done (a long replay must not slow every read).
        self._slow = False
        self._task: asyncio.Task[None] | None = None
        cache.follow_with(self.caught_up, self.catch_up)
        self._export()

    def caught_up(self) -> bool:
        return self._caught_up

    async def catch_up(self) -> bool:
        """For a read that finds the follower behind while Redis answers
        (just after an outage, at start-up): read now, and wait up to
        CATCH_UP_WAIT_S for it to catch up. True if it did."""
        if self._caught_up:
            return True
        if self._slow:
            return False
        self._wake.set()
        try:
            await asyncio.wait_for(self._reached.wait(), CATCH_UP_WAIT_S)
        except TimeoutError:
            self._slow = True
            return False
        return True

    def _set_caught_up(self, value: bool) -> None:
        if value != self._caught_up:
            self._caught_up = value
            self._export()
        if value:
            self._reached.set()
            self._slow = False
        else:
            self._reached.clear()

    def _export(self) -> None:
        CACHE_FOLLOWER_CAUGHT_UP.labels(self._cache.domain).set(1 if self._caught_up else 0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await stop_tasks(self._task, what="cache invalidation follower")

    async def _run(self) -> None:
        waiter = HorizonWaiter(self._notifier)
        retry = RETRY_MIN_S
        while True:
            ticket = waiter.ticket()
            try:
                moved, reached = await self.step()
            except RedisDown as exc:
                if self._caught_up:
                    log.warning("cache %s: invalidation follower stopped (%s); entries are "
                                "not served until it caught up", self._cache.domain, exc)
                self._set_caught_up(False)
                await self._pause(asyncio.sleep(retry))
                retry = min(retry * 2, RETRY_MAX_S)
                continue
            except (Unavailable, asyncpg.PostgresError, OSError) as exc:
                log.debug("cache %s: invalidation follower cannot read events: %s",
                          self._cache.domain, exc)
                await self._pause(asyncio.sleep(retry))
                retry = min(retry * 2, RETRY_MAX_S)
                continue
            except Exception:
                log.exception("cache %s: invalidation follower failed", self._cache.domain)
                self._set_caught_up(False)
                await self._pause(asyncio.sleep(RETRY_MAX_S))
                continue
            retry = RETRY_MIN_S
            if reached:
                await self._pause(waiter.wait(ticket, moved, at_most_s=IDLE_CHECK_S))

    async def _pause(self, wait: Coroutine[Any, Any, None]) -> None:
        """`wait`, cut short by a read that wants the follower to catch up now."""
        if self._wake.is_set():
            wait.close()
        else:
            waiting = asyncio.ensure_future(wait)
            woken = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({waiting, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiting.cancel()
                woken.cancel()
        self._wake.clear()

    async def step(self) -> tuple[bool, bool]:
        """Apply one page of events after the stored position: (whether the
        position moved, whether the page reached the horizon, which makes the
        follower caught up)."""
        stored = await self._cache.position(POSITION)
        async with self._shard.connection("READ events (cache follower)") as conn:
            if stored is not None:
                start = decode_position(stored)
                if self._cursor is not None and start < self._cursor:
                    # Redis went back (restored from a snapshot, or it lost
                    # its last writes): its entries may predate the writes
                    # since; none is served until they are replayed.
                    self._set_caught_up(False)
            else:
                # Nothing stored (Redis lost its data, or a flush dropped it
                # with every entry): no entry from before now can be stale.
                # Where this process had read to, if that is not ahead of the
                # database (restored to an earlier point).
                start = Cursor.below(await event_log.horizon_of(conn))
                if self._cursor is not None:
                    start = min(start, self._cursor)
            page = await event_log.read_after(conn, start, BATCH_SIZE, _FILTER)
            units = await self._units(conn, page.events)
        await self._cache.send(units)
        CACHE_INVALIDATION_EVENTS.labels(self._cache.domain).inc(len(page.events))
        await self._cache.advance_position(POSITION, encode_position(page.next))
        self._cursor = page.next
        if page.reached_horizon:
            self._set_caught_up(True)
        return page.next != start, page.reached_horizon

    async def _units(
        self, conn: asyncpg.Connection, stored: Sequence[StoredEvent]
    ) -> list[Invalidation]:
        """The invalidations a page of product events calls for: per write
        (a transaction's events on one stream) its product entry, and for the
        page the search pages its writes can change, marked with the writes'
        identities so that what their gateways invalidated already is
        skipped in Redis (the pages are bumped unless every write was)."""
        if not stored:
            return []
        writes: dict[tuple[int, str], list[StoredEvent]] = {}
        for e in stored:
            writes.setdefault((e.commit, e.stream_id), []).append(e)
        updates = [(e.stream_id, e.stream_revision) for e in stored
                   if e.event_type == "ProductUpdated"]
        before = await catalog_history.previous_categories(conn, updates)
        cache = self._cache
        units: list[Invalidation] = []
        categories: list[str] = []
        identities: list[str] = []
        unmarked = unknown = False
        for (_, stream), group in writes.items():
            sku = stream[len(STREAM_PREFIX):]
            state = next((e for e in group if e.event_type in _STATES), None)
            write = (write_identity(state.event_type == "ProductDeleted", state.payload)
                     if state is not None else None)
            units += cache.entry_units("product", [sku], write)
            if write is None:
                unmarked = True
            else:
                identities.append(write)
            for e in group:
                if e.event_type in _STATES:
                    categories.append(str(e.payload.get("category") or ""))
                if e.event_type == "ProductUpdated":
                    previous = (e.stream_id, e.stream_revision)
                    # An update whose earlier state is gone: its old category is not known.
                    unknown = unknown or previous not in before
                    categories.append(before.get(previous) or "")
        if unknown:
            return units + cache.epoch_units(SEARCH)
        return units + cache.scope_units(SEARCH, touched_scopes(categories),
                                         [] if unmarked else identities)


_STATES = ("ProductCreated", "ProductUpdated", "ProductDeleted")


def write_identity(deleted: bool, product: Mapping[str, Any]) -> str:
    """One product write, as its event payload (the product as stored, or as
    it was when deleted) names it: a product's version starts again after a
    delete, its update time does not repeat."""
    return (f"{'delete' if deleted else 'upsert'}:{product['sku']}:{product['version']}:"
            f"{product.get('updated_at') or ''}")
