"""The projection runner: read models kept from the shards' events.

For every projection and every source shard a feed reads the shard's events
through the commit-safe reader (log.read_after: commit order, below the
transaction horizon) in batches, catching up first and then following live
commits, woken by the shard's notifier. Each batch is applied and its
checkpoint moved in one transaction on the database holding the read model,
so a crash repeats nothing and loses nothing: the read model and the
checkpoint are always from the same moment. The checkpoint moves by
compare-and-set, so two runners (two gateways) on one read model take turns
instead of applying a batch twice; and applying is idempotent anyway (each
projection records the orders it counted and skips ones it has seen).

A rebuild fills generation N+1 of the read model from the first event while
generation N keeps serving and following, then swaps the two in one
transaction per database (docs/projections.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import asyncpg
from prometheus_client import Counter, Gauge

from gateway.domain.analytics.relay import ShardProgress
from gateway.errors import Aborted, FailedPrecondition, NotFound, Unavailable
from gateway.records.events import Cursor, EventFilter, Page, StoredEvent
from gateway.storage.eventstore.log import pending_after
from gateway.storage.eventstore.log import read_after as read_events
from gateway.storage.eventstore.notify import EventNotifiers, HorizonWaiter, ShardNotifier
from gateway.storage.postgres import projection_store as store
from gateway.storage.postgres.pool import Shard
from gateway.tasks import stop_tasks
from gateway.telemetry import REGISTRY, tracer

log = logging.getLogger(__name__)

BATCH_SIZE = 500
# A shard that fails: retry after this, doubling up to the maximum.
RETRY_MIN_S = 0.2
RETRY_MAX_S = 5.0
# While a feed is behind, how often its lag in events is counted.
LAG_COUNT_EVERY_S = 5.0

PROJECTION_EVENTS = Counter(
    "datagw_projection_events_total", "Events applied to read models, by projection",
    ["projection"], registry=REGISTRY)
PROJECTION_LAG_EVENTS = Gauge(
    "datagw_projection_lag_events",
    "Committed events a projection has not applied yet, by source shard",
    ["projection", "keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
PROJECTION_LAG_SECONDS = Gauge(
    "datagw_projection_lag_seconds",
    "Age of the oldest event a projection has not applied yet (0 when caught up)",
    ["projection", "keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")


class Projection(Protocol):
    """A read model kept from events; see user_order_summary.py for one."""

    name: str
    description: str
    # What readers read: a view over the live generation's first table.
    view: str
    # The tables of one generation (stored as <table>_g<N>); the view's first.
    tables: tuple[str, ...]
    event_types: tuple[str, ...]

    def sources(self) -> list[Shard]:
        """The shards whose events it reads."""

    def target(self, source: Shard) -> Shard:
        """The database holding the read model fed by `source` (and its checkpoint)."""

    async def apply(self, conn: asyncpg.Connection, generation: int,
                    events: Sequence[StoredEvent]) -> None:
        """Apply a batch to the generation's tables, inside the caller's
        transaction; applying events already applied must change nothing."""


class ProjectionState(enum.Enum):
    RUNNING = "running"
    REBUILDING = "rebuilding"
    FAILING = "failing"


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    description: str
    state: ProjectionState
    generation: int
    shards: list[ShardProgress]


class _Moved(Exception):
    """The stored checkpoint is not where this feed left it: another runner
    applied the batch, or a rebuild retired the generation."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Unavailable):
        return exc.message
    return f"{type(exc).__name__}: {exc}"[:300]


async def _apply_page(conn: asyncpg.Connection, projection: Projection, generation: int,
                      source: Shard, stored: Cursor, page: Page) -> None:
    """The batch and its checkpoint, in the caller's transaction."""
    if not await store.advance(conn, projection.name, generation, source.keyspace,
                               source.index, stored, page.next, bool(page.events)):
        raise _Moved
    if page.events:
        await projection.apply(conn, generation, page.events)


class Feed:
    """One projection's reading of one source shard."""

    def __init__(self, projection: Projection, source: Shard, notifier: ShardNotifier) -> None:
        self.projection = projection
        self.source = source
        self.target = projection.target(source)
        self.notifier = notifier
        # A read model on its source shard sees the events moved there with
        # their users; one fed by many shards had them from the first.
        self.filter = EventFilter(event_types=projection.event_types,
                                  moved=self.target is source)
        # What this process knows, for ListProjections when a database cannot tell.
        self.generation = 0
        self.last_error = ""
        self._labels = (projection.name, source.keyspace, str(source.index))
        self._lag_counted_at = 0.0

    @property
    def key(self) -> tuple[str, int]:
        return self.source.keyspace, self.source.index

    async def _read(self, cursor: Cursor) -> tuple[Page, bool]:
        """The next batch, and whether it is worth a checkpoint write: it has
        events, or the cursor passed events this projection skips (so lag
        reads zero), but not when only the horizon moved."""
        async with self.source.connection("READ events") as conn:
            page = await read_events(conn, cursor, BATCH_SIZE, self.filter)
            if page.events or page.next == cursor:
                return page, bool(page.events)
            skipped, _ = await pending_after(conn, cursor)
            return page, skipped > 0

    async def step(self, generation: int, stored: Cursor, cursor: Cursor) -> tuple[Page, bool]:
        """Read after `cursor` and apply the batch, moving the checkpoint from
        `stored`; the page and whether the checkpoint moved."""
        name = self.projection.name
        page, save = await self._read(cursor)
        if save:
            with tracer.start_as_current_span("projection batch", attributes={
                "datagw.projection.name": name, "datagw.projection.generation": generation,
                "datagw.projection.events": len(page.events),
                "datagw.keyspace": self.source.keyspace, "datagw.shard": self.source.index,
                "datagw.projection.to": f"{page.next.commit}-{page.next.position}",
            }):
                async with self.target.connection(f"APPLY {name}") as conn:
                    async with conn.transaction():
                        await _apply_page(conn, self.projection, generation, self.source,
                                          stored, page)
            PROJECTION_EVENTS.labels(name).inc(len(page.events))
        return page, save

    async def run(self) -> None:
        """Follow the live generation forever: catch up, then wait for commits."""
        stored: Cursor | None = None
        cursor = Cursor()
        retry_s = RETRY_MIN_S
        waiter = HorizonWaiter(self.notifier)
        while True:
            try:
                if stored is None:
                    async with self.target.connection("SELECT projection_checkpoints") as conn:
                        cp = await store.live_checkpoint(conn, self.projection.name,
                                                         *self.key)
                    self.generation, stored = cp.generation, cp.cursor
                    cursor = stored
                ticket = waiter.ticket()
                page, saved = await self.step(self.generation, stored, cursor)
                moved, cursor = page.next != cursor, page.next
                if saved:
                    stored = cursor
                if self.last_error:
                    log.info("projection %s on %s recovered", self.projection.name,
                             self.source.name)
                self.last_error, retry_s = "", RETRY_MIN_S
                await self._export_lag(page)
                if page.reached_horizon:
                    await waiter.wait(ticket, moved)
            except asyncio.CancelledError:
                raise
            except _Moved:
                stored = None
            except Exception as exc:
                stored = None
                await self._failed(exc)
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, RETRY_MAX_S)

    async def _failed(self, exc: Exception) -> None:
        error = _describe(exc)
        if error != self.last_error:
            if isinstance(exc, Unavailable):
                log.warning("projection %s on %s: %s", self.projection.name,
                            self.source.name, error)
            else:
                log.exception("projection %s on %s failed", self.projection.name,
                              self.source.name)
        self.last_error = error
        # Best effort: the database holding the checkpoint may be the one down.
        with contextlib.suppress(Exception):
            async with self.target.connection("UPDATE projection_checkpoints") as conn:
                await store.record_error(conn, self.projection.name, self.generation,
                                         *self.key, error)

    async def _export_lag(self, page: Page) -> None:
        if page.reached_horizon:
            PROJECTION_LAG_EVENTS.labels(*self._labels).set(0)
            PROJECTION_LAG_SECONDS.labels(*self._labels).set(0)
            return
        now = asyncio.get_running_loop().time()
        # Behind, so the next event to apply is about as old as the last one applied.
        oldest = page.events[-1].created_at if page.events else None
        if now - self._lag_counted_at >= LAG_COUNT_EVERY_S:
            # Counting is a scan of what is left; while catching up, not per batch.
            self._lag_counted_at = now
            async with self.source.connection("SELECT events") as conn:
                count, _ = await pending_after(conn, page.next)
            PROJECTION_LAG_EVENTS.labels(*self._labels).set(count)
        if oldest is not None:
            PROJECTION_LAG_SECONDS.labels(*self._labels).set(
                max((datetime.now(UTC) - oldest).total_seconds(), 0.0))

    async def replay(self, generation: int) -> int:
        """Apply every event up to the horizon to `generation` (a rebuild's
        first pass, from the first event); the number of events applied."""
        stored = cursor = Cursor()
        replayed = 0
        while True:
            page, saved = await self.step(generation, stored, cursor)
            replayed += len(page.events)
            cursor = page.next
            if saved:
                stored = cursor
            if page.reached_horizon:
                return replayed

    async def finish(self, conn: asyncpg.Connection, generation: int, at: Cursor,
                     until: Cursor) -> int:
        """Inside the swap's transaction on the target: bring `generation`
        from `at` to at least `until` (where the live generation stands)."""
        replayed = 0
        while at < until:
            async with self.source.connection("READ events") as source:
                page = await read_events(source, at, BATCH_SIZE, self.filter)
            await _apply_page(conn, self.projection, generation, self.source, at, page)
            replayed += len(page.events)
            at = page.next
            if page.reached_horizon and at < until:
                # The horizon never moves back, so the live generation cannot
                # have read past it; refuse rather than swap in less.
                raise Aborted(
                    f"projection {self.projection.name!r}: the rebuilt generation did not "
                    "reach the live one; try again",
                    reason="REBUILD_BEHIND", metadata={"projection": self.projection.name})
        return replayed


class ProjectionRunner:
    """Runs every projection's feeds in the gateway's process."""

    def __init__(self, projections: Sequence[Projection], notifiers: EventNotifiers) -> None:
        self._projections = {p.name: p for p in projections}
        self._notifiers = notifiers
        self._feeds = {p.name: [Feed(p, s, notifiers.of(s.keyspace, s.index))
                                for s in p.sources()] for p in projections}
        self._tasks: list[asyncio.Task[None]] = []
        self._rebuilds: dict[str, asyncio.Task[int]] = {}

    def start(self) -> None:
        if not self._tasks:
            self._tasks = [asyncio.create_task(feed.run(), name=f"projection {name}")
                           for name, feeds in self._feeds.items() for feed in feeds]

    def add_sources(self) -> None:
        """Feeds for the source shards added while the gateway runs (each
        projection's sources() names the keyspace's shards as they are now)."""
        for name, projection in self._projections.items():
            known = {feed.key for feed in self._feeds[name]}
            for s in projection.sources():
                if (s.keyspace, s.index) in known:
                    continue
                feed = Feed(projection, s, self._notifiers.of(s.keyspace, s.index))
                self._feeds[name].append(feed)
                if self._tasks:
                    self._tasks.append(asyncio.create_task(feed.run(),
                                                           name=f"projection {name}"))

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._rebuilds.values()]
        self._tasks = []
        await stop_tasks(*tasks, what="projections")
        for feeds in self._feeds.values():
            for feed in feeds:
                feed.last_error = ""

    def _projection(self, name: str) -> Projection:
        projection = self._projections.get(name)
        if projection is None:
            raise NotFound("projection", name)
        return projection

    # -- status -------------------------------------------------------------

    async def statuses(self) -> list[ProjectionStatus]:
        return list(await asyncio.gather(*(self.status(name) for name in self._projections)))

    async def status(self, name: str) -> ProjectionStatus:
        projection = self._projection(name)
        feeds = self._feeds[name]
        progress = await asyncio.gather(*(self._progress(f) for f in feeds))
        shards = [p for p, _ in progress]
        if name in self._rebuilds:
            state = ProjectionState.REBUILDING
        elif any(s.last_error for s in shards):
            state = ProjectionState.FAILING
        else:
            state = ProjectionState.RUNNING
        return ProjectionStatus(name, projection.description, state,
                                max(g for _, g in progress), shards)

    async def _progress(self, feed: Feed) -> tuple[ShardProgress, int]:
        """Where the live generation stands on the feed's shard (from the
        database, so also when another gateway ran the batches), its lag,
        and the generation."""
        errors = [feed.last_error] if feed.last_error else []
        checkpoint = None
        try:
            async with feed.target.connection("SELECT projection_checkpoints") as conn:
                for cp in await store.live_checkpoints(conn, feed.projection.name):
                    if (cp.keyspace, cp.shard) == feed.key:
                        checkpoint = cp
        except Unavailable as exc:
            errors.append(exc.message)
        if checkpoint is not None and checkpoint.last_error and not self._tasks:
            errors.append(checkpoint.last_error)
        cursor = checkpoint.cursor if checkpoint else Cursor()
        lag_events, lag_s = 0, 0.0
        try:
            async with feed.source.connection("SELECT events") as conn:
                lag_events, oldest = await pending_after(conn, cursor)
            if oldest is not None:
                lag_s = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
        except Unavailable as exc:
            errors.append(exc.message)
        return ShardProgress(
            feed.source.keyspace, feed.source.index, cursor, lag_events, lag_s,
            "; ".join(dict.fromkeys(errors)),
            checkpoint.last_batch_at if checkpoint else None,
        ), checkpoint.generation if checkpoint else feed.generation

    # -- rebuild ------------------------------------------------------------

    async def rebuild(self, name: str) -> tuple[ProjectionStatus, int]:
        """Rebuild and swap; the status after the swap and the events replayed.
        The rebuild goes on if the caller gives up waiting."""
        if name in self._rebuilds:
            raise FailedPrecondition(
                f"projection {name!r} is being rebuilt already; wait for it (ListProjections "
                "shows REBUILDING until the swap)",
                reason="REBUILD_IN_PROGRESS", metadata={"projection": name})
        replayed = await asyncio.shield(self.start_rebuild(name))
        return await self.status(name), replayed

    def start_rebuild(self, name: str) -> asyncio.Task[int]:
        """The rebuild of `name` as a task of the runner (stop() ends it):
        the one running already, or a new one."""
        task = self._rebuilds.get(name)
        if task is None:
            projection = self._projection(name)
            task = asyncio.create_task(self._rebuild(projection), name=f"rebuild {name}")
            self._rebuilds[name] = task
            task.add_done_callback(lambda t: self._rebuild_done(name, t))
        return task

    async def reread_source(self, keyspace: str, index: int) -> list[str]:
        """That database was restored to an earlier point (before the feeds
        start): the read models kept elsewhere read it again from its first
        event (a checkpoint of theirs may lie beyond it). Returns every
        projection that reads it or lives in it: each must be rebuilt, so
        that what it no longer has is no longer counted; start the rebuilds
        once every restored source is reread (a reread retires a running
        rebuild's progress)."""
        here = (keyspace, index)
        names = self.touching(keyspace, index)
        for name in names:
            for feed in self._feeds[name]:
                target = (feed.target.keyspace, feed.target.index)
                if (feed.source.keyspace, feed.source.index) == here and target != here:
                    async with feed.target.connection("UPDATE projection_checkpoints") as conn:
                        await store.reread_source(conn, name, keyspace, index)
        return names

    def touching(self, keyspace: str, index: int) -> list[str]:
        """The projections that read events from that database or keep their
        read model there."""
        here = (keyspace, index)
        return sorted(name for name, feeds in self._feeds.items()
                      if any(here in ((f.source.keyspace, f.source.index),
                                      (f.target.keyspace, f.target.index)) for f in feeds))

    def _rebuild_done(self, name: str, task: asyncio.Task[int]) -> None:
        self._rebuilds.pop(name, None)
        # The caller may have stopped waiting (its deadline): say how it ended.
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("rebuild of projection %s failed: %s", name, _describe(exc))

    async def _rebuild(self, projection: Projection) -> int:
        by_target: dict[str, list[Feed]] = {}
        for feed in self._feeds[projection.name]:
            by_target.setdefault(feed.target.name, []).append(feed)
        counts = await asyncio.gather(*(self._rebuild_on(projection, feeds)
                                        for feeds in by_target.values()))
        return sum(counts)

    async def _rebuild_on(self, projection: Projection, feeds: list[Feed]) -> int:
        """Rebuild the read model of one database (the feeds share its target)."""
        name, target = projection.name, feeds[0].target
        with tracer.start_as_current_span("projection rebuild", attributes={
            "datagw.projection.name": name, "datagw.keyspace": target.keyspace,
            "datagw.shard": target.index,
        }) as span:
            async with target.connection("CREATE generation") as conn:
                async with conn.transaction():
                    live = await store.live_generation(conn, name, lock=True)
                    new = await store.prepare_generation(
                        conn, name, projection.tables, live, [f.key for f in feeds])
            span.set_attribute("datagw.projection.generation", new)
            replayed = sum(await asyncio.gather(*(f.replay(new) for f in feeds)))
            async with target.connection("SWAP generation") as conn:
                async with conn.transaction():
                    if await store.live_generation(conn, name, lock=True) != live:
                        raise Aborted(f"projection {name!r} was swapped by someone else",
                                      reason="REBUILD_CONFLICT", metadata={"projection": name})
                    # Locking the live checkpoints holds the live feeds still
                    # while the new generation catches up with them.
                    until = await store.generation_cursors(conn, name, live)
                    at = await store.generation_cursors(conn, name, new)
                    for feed in feeds:
                        replayed += await feed.finish(conn, new, at[feed.key],
                                                      until.get(feed.key, Cursor()))
                    await store.swap(conn, name, projection.view, projection.tables[0], live,
                                     new)
            async with target.connection("DROP generation") as conn:
                async with conn.transaction():
                    await store.drop_generations(conn, name, projection.tables, keep=new)
            span.set_attribute("datagw.projection.events", replayed)
            log.info("projection %s rebuilt on %s: generation %d, %d events", name,
                     target.name, new, replayed)
            return replayed
