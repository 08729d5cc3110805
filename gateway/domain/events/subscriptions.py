"""Catch-up-then-live subscriptions: to every shard (SubscribeToAll) or one stream.

SubscribeToAll runs one reader task per event shard. Each reads its shard
through the commit-safe reader (log.read_after: only transactions below the
horizon, in (commit, position) order) and puts what it reads into one
bounded queue; the RPC's writer takes from the queue and sends. A slow
client stalls the writer, the full queue stalls the readers: memory stays
bounded by the queue, never by the backlog.

Live phase, per shard: take a notifier ticket, read, and when the read
reached the horizon wait on the ticket (a commit after the ticket wakes at
once; ~1 s fallback for a lost notification). A wake-up whose read finds
nothing new usually means an older transaction is still open below the
committed one: the reader re-polls shortly (20 ms, doubling to 1 s) until
the horizon moves, instead of waiting for a notification the older
transaction may never send.

The position vector the writer reports (Checkpoint, CaughtUp) always covers
exactly what was sent: the writer moves a shard's cursor when it takes that
shard's event or progress mark from the queue. Resuming from a checkpoint,
or from the positions of the last events received, repeats and loses
nothing, because a cursor below the horizon is final.

A shard that is down does not end the subscription: its reader retries
every second and the other shards keep flowing; CaughtUp waits until every
shard has reached its horizon once, and checkpoints keep the down shard's
last position.

Across a range move (resharding) a stream's events continue on another
shard. The reader of that shard holds back its events past the point where
the range arrived (EventStoreDomain.held_back) until the subscription has
read the range's last event on the shard it left, so each stream still
arrives in revision order; copies the move made are never delivered (the
log reader skips them).

A stream subscription reads its stream by revision: writes to one stream
serialise on the stream's row lock, so its revisions commit in order and a
read by revision never passes a late commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.domain.events.store import (
    EventStoreDomain,
    Position,
    PositionVector,
    Recorded,
    ShardKey,
    StreamRef,
    check_filter,
)
from gateway.errors import Unavailable, Violations
from gateway.records.events import Cursor, EventFilter
from gateway.storage.eventstore.notify import FALLBACK_S, EventNotifiers, HorizonWaiter
from gateway.storage.postgres.pool import Shard
from gateway.telemetry import MULTIPROCESS_METRICS, SUBSCRIPTION_LAG, record_work, untraced

log = logging.getLogger(__name__)

BATCH = 500
# The span of a page a subscription read that had events.
BATCH_SPAN = "eventstore subscription batch"
QUEUE_ITEMS = 1000
RETRY_S = 1.0
# A shard held back behind a range move's old shard: how soon it looks again.
HOLD_S = 0.05
# The soonest a checkpoint follows another when only skipped events moved
# the position (so a busy filtered subscription is not all checkpoints).
MIN_CHECKPOINT_GAP_S = 0.1
# With several workers: how often the lag gauge is written (see _Lag).
LAG_TICK_S = 1.0
DEFAULT_CHECKPOINT_S = 1.0
MIN_CHECKPOINT_S = 0.01
MAX_CHECKPOINT_S = 3600.0


@dataclass(frozen=True)
class EventItem:
    recorded: Recorded


@dataclass(frozen=True)
class CaughtUpItem:
    position: Position


@dataclass(frozen=True)
class CheckpointItem:
    position: Position
    # The subscription's lag when the checkpoint was sent (_Tracked.lag_s).
    lag_s: float = 0.0


Item = EventItem | CaughtUpItem | CheckpointItem


@dataclass(frozen=True)
class _Progress:
    """A shard's reader moved to `cursor` (past skipped events or to its horizon)."""

    key: ShardKey
    cursor: Cursor
    reached_horizon: bool


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _Lag:
    """What the lag gauge reads: the furthest-behind live subscription per kind."""

    def __init__(self, kind: str) -> None:
        self.live: weakref.WeakSet[_Tracked] = weakref.WeakSet()
        self._gauge = SUBSCRIPTION_LAG.labels(kind)
        self._ticking = False
        if not MULTIPROCESS_METRICS:
            self._gauge.set_function(self.furthest_s)

    def furthest_s(self) -> float:
        return max((t.lag_s() for t in list(self.live)), default=0.0)

    def track(self, tracked: _Tracked) -> None:
        self.live.add(tracked)
        if MULTIPROCESS_METRICS and not self._ticking:
            # Workers' metrics are files another process reads: a value
            # computed at scrape time cannot reach them, so it is written
            # every second while subscriptions live (nothing when none do).
            self._ticking = True
            asyncio.get_running_loop().call_later(LAG_TICK_S, self._tick)

    def _tick(self) -> None:
        self._gauge.set(self.furthest_s())
        if self.live:
            asyncio.get_running_loop().call_later(LAG_TICK_S, self._tick)
        else:
            self._ticking = False


class _Tracked:
    def __init__(self, lag: _Lag) -> None:
        self._last: datetime | None = None
        self._pending = False
        lag.track(self)

    def delivered(self, created_at: datetime, more: bool) -> None:
        self._last, self._pending = created_at, more

    def idle(self) -> None:
        self._pending = False

    def lag_s(self) -> float:
        if not self._pending or self._last is None:
            return 0.0
        return max((datetime.now(UTC) - self._last).total_seconds(), 0.0)


_LAG = {"all": _Lag("all"), "stream": _Lag("stream")}


class Subscriptions:
    def __init__(self, store_domain: EventStoreDomain, notifiers: EventNotifiers) -> None:
        self._store = store_domain
        self._notifiers = notifiers

    # -- all streams ---------------------------------------------------------

    async def subscribe_all(self, after_vector: PositionVector, flt: EventFilter,
                            checkpoint_interval_s: float | None) -> AsyncIterator[Item]:
        v = Violations()
        after = self._store.check_position(v, after_vector)
        check_filter(v, flt)
        if checkpoint_interval_s is None:
            checkpoint_interval_s = DEFAULT_CHECKPOINT_S
        elif not MIN_CHECKPOINT_S <= checkpoint_interval_s <= MAX_CHECKPOINT_S:
            v.add("checkpoint_interval", "must be 10ms-1h (unset: 1s)")
        v.raise_if_any()
        queue: asyncio.Queue[EventItem | _Progress | _Failed] = asyncio.Queue(QUEUE_ITEMS)
        shards = self._store.event_shards()
        position: Position = {(ks, s.index): after.get((ks, s.index), Cursor())
                              for ks, s in shards}
        tasks = [asyncio.create_task(self._shard_reader(ks, s, position, flt, queue),
                                     name=f"subscription {ks}/{s.index}")
                 for ks, s in shards]
        tracked = _Tracked(_LAG["all"])
        loop = asyncio.get_running_loop()
        # What the client can resume from: the last checkpoint overlaid with
        # the positions of the events sent since.
        known = dict(position)
        caught: set[ShardKey] = set()
        caught_up_sent = False
        last_checkpoint = loop.time()
        try:
            while True:
                due = last_checkpoint + (checkpoint_interval_s if known == position
                                         else min(MIN_CHECKPOINT_GAP_S, checkpoint_interval_s))
                item: EventItem | _Progress | _Failed | None = None
                if queue.empty() and loop.time() < due:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(due - loop.time()):
                            item = await queue.get()
                elif not queue.empty():
                    item = queue.get_nowait()
                if isinstance(item, _Failed):
                    raise item.error
                if isinstance(item, EventItem):
                    key = item.recorded.key
                    position[key] = known[key] = item.recorded.event.cursor
                    tracked.delivered(item.recorded.event.created_at, more=not queue.empty())
                    yield item
                if isinstance(item, _Progress):
                    position[item.key] = item.cursor
                    if item.reached_horizon:
                        caught.add(item.key)
                    if not caught_up_sent and len(caught) == len(shards):
                        caught_up_sent = True
                        known = dict(position)
                        last_checkpoint = loop.time()
                        yield CaughtUpItem(dict(position))
                        continue
                if queue.empty():
                    tracked.idle()
                now = loop.time()
                if now >= last_checkpoint + checkpoint_interval_s or (
                        queue.empty() and known != position
                        and now >= last_checkpoint + MIN_CHECKPOINT_GAP_S):
                    known = dict(position)
                    last_checkpoint = now
                    yield CheckpointItem(dict(position), tracked.lag_s())
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _shard_reader(self, keyspace: str, shard: Shard, position: Position,
                            flt: EventFilter,
                            queue: asyncio.Queue[EventItem | _Progress | _Failed]) -> None:
        """`position`: what the writer has taken from every shard (shared, and
        read here for the hold-back across a range move)."""
        key = (keyspace, shard.index)
        cursor = position[key]
        wakeups = HorizonWaiter(self._notifiers.of(keyspace, shard.index))
        down = announced = False
        try:
            while True:
                ticket = wakeups.ticket()
                started = time.time_ns()
                try:
                    # A span only for a page with events: a caught-up
                    # subscription reads an empty one at every wake-up.
                    with untraced():
                        page, recorded = await self._store.read_shard(
                            keyspace, shard, cursor, BATCH, flt, "subscription read")
                    if recorded:
                        record_work(BATCH_SPAN, started, {
                            "datagw.keyspace": keyspace, "datagw.shard": shard.index,
                            "datagw.subscription": "all", "datagw.events": len(recorded)})
                except Unavailable as exc:
                    if not down:
                        log.warning("subscription: %s shard %s is down, retrying every %.0f s: %s",
                                    keyspace, shard.index, RETRY_S, exc.message)
                    down = True
                    await asyncio.sleep(RETRY_S)
                    continue
                down = False
                cut = self._store.held_back(keyspace, shard.index, position, cursor,
                                            (page, recorded))
                held = cut is not None
                if cut is not None:
                    page, recorded = cut
                for rec in recorded:
                    await queue.put(EventItem(rec))
                moved = page.next != cursor
                last = recorded[-1].event.cursor if recorded else cursor
                if page.next != last or (page.reached_horizon and not announced):
                    announced = announced or page.reached_horizon
                    await queue.put(_Progress(key, page.next, page.reached_horizon))
                cursor = page.next
                if held:
                    await asyncio.sleep(HOLD_S)
                elif page.reached_horizon:
                    await wakeups.wait(ticket, moved)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: end the subscription with it, not silently
            await queue.put(_Failed(exc))

    # -- one stream ----------------------------------------------------------

    async def subscribe_stream(self, ref: StreamRef, after_revision: int | None
                               ) -> AsyncIterator[Item]:
        v = Violations()
        where = self._store.locate(v, ref)
        if after_revision is not None and after_revision < 0:
            v.add("after_revision", "must be 0 or more (unset: from the start)")
        v.raise_if_any()
        assert where is not None
        notifier = self._notifiers.of(where.keyspace.name, where.shard.index)
        tracked = _Tracked(_LAG["stream"])
        next_revision = after_revision + 1 if after_revision is not None else 0
        caught_up = False
        while True:
            ticket = notifier.ticket()
            started = time.time_ns()
            try:
                with untraced():
                    page = await self._store.read_stream_after(where, next_revision, BATCH)
                if page.events:
                    record_work(BATCH_SPAN, started, {
                        "datagw.keyspace": where.keyspace.name,
                        "datagw.shard": where.shard.index, "datagw.stream": where.stream,
                        "datagw.subscription": "stream", "datagw.events": len(page.events)})
            except Unavailable:
                # As for SubscribeToAll: wait for the shard rather than end.
                await asyncio.sleep(RETRY_S)
                continue
            for n, rec in enumerate(page.events):
                tracked.delivered(rec.event.created_at, more=n + 1 < len(page.events))
                yield EventItem(rec)
                next_revision = rec.event.stream_revision + 1
            if not page.end_of_stream:
                continue
            tracked.idle()
            if not caught_up:
                caught_up = True
                yield CaughtUpItem({})
            await notifier.wait(ticket, FALLBACK_S)

