"""The relay: every source shard's events into ClickHouse, each exactly once.

One loop per source shard (each commerce shard, the inventory shard). A
loop reads its shard's events after the shard's checkpoint in commit-safe
order (log.read_after), gathers a batch (up to `batch_events`, or whatever
arrived within `window_s` of the first event), and then:

1. claims the batch: records its range (checkpoint, last event] as pending
   in the checkpoint row, committed;
2. inserts each table's rows under the token
   "{keyspace}:{shard}:{from}:{to}:{digest of the event ids}:{table}";
3. anonymises the rows of users erased in the batch (UserErased);
4. moves the checkpoint to the batch's last event and clears pending.

A loop that finds a pending range (after a crash, or a failed step) re-reads
exactly that range, so it rebuilds the same rows under the same tokens, and
finishes it before reading anything new. docs/relay.md explains why this
neither loses nor doubles an event.

Any failure (the shard down, ClickHouse down or refusing) leaves the events
in PostgreSQL and the loop backs off exponentially up to `backoff_max_s`,
keeping the error for GetRelayStatus; the other shards' loops go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.domain.analytics.relay_rows import TABLES, USER_STREAM, BatchRows, rows_of
from gateway.errors import Unavailable
from gateway.records.events import Cursor, StoredEvent
from gateway.storage.clickhouse import erasure, relayed, rewind
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsStoreError
from gateway.storage.eventstore import log as event_log
from gateway.storage.eventstore.notify import EventNotifiers, HorizonWaiter, ShardNotifier
from gateway.storage.postgres import relay_store
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.relay_store import Checkpoint
from gateway.tasks import stop_tasks
from gateway.telemetry import (
    RELAY_EVENTS,
    RELAY_FAILURES,
    RELAY_LAG_EVENTS,
    RELAY_LAG_SECONDS,
    tracer,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelaySettings:
    batch_events: int = 5000
    # How long a batch waits for more events after its first one.
    window_s: float = 0.2
    backoff_min_s: float = 0.1
    backoff_max_s: float = 5.0
    # Lag (a count over the unrelayed events) is sampled at most this often.
    lag_every_s: float = 1.0


@dataclass(frozen=True)
class Batch:
    """One relayed batch: its range and what it became."""

    after: Cursor
    to: Cursor
    events: list[StoredEvent]
    rows: BatchRows
    # True when it was a pending range finished after a failure or crash.
    recovered: bool
    # time.time() when the checkpoint moved past it.
    done_at: float


@dataclass(frozen=True)
class ShardProgress:
    keyspace: str
    shard: int
    at: Cursor
    lag_events: int
    lag_s: float
    last_error: str
    last_batch_at: datetime | None


def _cursor_text(c: Cursor) -> str:
    return f"{c.commit}-{c.position}"


def _age_s(oldest: datetime | None) -> float:
    return max((datetime.now(UTC) - oldest).total_seconds(), 0.0) if oldest else 0.0


def dedup_token(keyspace: str, shard: int, after: Cursor, to: Cursor,
                events: Sequence[StoredEvent], table: str, epoch: str = "") -> str:
    """The same range of the same events always gives the same token, and
    no other batch can. Cursors alone could repeat with other events: a
    database restored from a backup or re-created (transaction ids and
    positions start again) relaying into the same ClickHouse, whose
    deduplication window would then drop a new batch as a repeat of an old
    one. Event ids are unique to their events. The same events relayed
    again after a restore (their rows removed from ClickHouse by the
    reconciliation) come under the shard's new `epoch`."""
    digest = hashlib.sha256("\n".join(e.event_id for e in events).encode()).hexdigest()[:32]
    where = f"{keyspace}:{shard}" + (f"@{epoch}" if epoch else "")
    return f"{where}:{_cursor_text(after)}:{_cursor_text(to)}:{digest}:{table}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Unavailable):
        return f"source shard unavailable ({exc.metadata.get('cause', 'down')})"
    if isinstance(exc, AnalyticsStoreError):
        return f"analytics store: {exc}"[:500]
    return f"internal error ({type(exc).__name__})"


class ShardRelay:
    """The relay of one source shard."""

    def __init__(self, keyspace: str, shard: Shard, notifier: ShardNotifier,
                 store: AnalyticsStore, settings: RelaySettings) -> None:
        self.keyspace = keyspace
        self.shard = shard
        self.store = store
        self.settings = settings
        self.last_error = ""
        self.events_relayed = 0  # since this process started
        # The checkpoint as this loop holds it; None: read the row next step.
        self.checkpoint: Checkpoint | None = None
        # The last checkpoint seen, kept across failures for lag and status.
        self.known: Checkpoint | None = None
        self.lag_events = 0
        self.lag_s = 0.0
        self._lag_sampled = 0.0
        self._labels = (keyspace, str(shard.index))
        self._waiter = HorizonWaiter(notifier)

    async def run(self) -> None:
        """Relay forever; every failure is kept, backed off and retried."""
        backoff = self.settings.backoff_min_s
        while True:
            try:
                await self.step()
                backoff = self.settings.backoff_min_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failed(exc)
                # The lag keeps growing while batches fail: say so.
                with contextlib.suppress(Exception):
                    await self._sample_lag(force=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.backoff_max_s)

    def failed(self, exc: BaseException) -> None:
        """Keep the error; the next step re-reads the checkpoint row."""
        self.last_error = _describe(exc)
        self.checkpoint = None
        cause = ("source" if isinstance(exc, Unavailable)
                 else "target" if isinstance(exc, AnalyticsStoreError) else "internal")
        RELAY_FAILURES.labels(*self._labels, cause).inc()
        if cause == "internal":
            log.exception("relay of %s failed", self.shard.name, exc_info=exc)
        else:
            log.warning("relay of %s: %s", self.shard.name, self.last_error)

    async def step(self) -> Batch | None:
        """Relay one batch: the pending one if there is one, else the next
        events (waiting for some). None when nothing was relayed."""
        cp = self.checkpoint
        if cp is None:
            async with self.shard.connection("SELECT relay_checkpoint") as conn:
                cp = self.checkpoint = self.known = await relay_store.load(conn)
        recovered = cp.pending is not None
        if cp.pending is not None:
            to = cp.pending
            events = await self._read_range(cp.at, to)
        else:
            events = await self._gather(cp.at)
            if not events:
                return None
            to = events[-1].cursor
            async with self.shard.connection("UPDATE relay_checkpoint") as conn:
                claimed = await relay_store.claim(conn, cp.at, to)
            if not claimed:
                self.checkpoint = None  # another relay moved it: start over from the row
                return None
        batch = await self._relay(cp, to, events, recovered)
        self.last_error = ""
        await self._sample_lag(force=False)
        return batch

    async def _relay(self, cp: Checkpoint, to: Cursor, events: list[StoredEvent],
                     recovered: bool) -> Batch:
        after = cp.at
        rows = rows_of(self.keyspace, self.shard.index, events)
        with tracer.start_as_current_span("relay batch", attributes={
                "datagw.keyspace": self.keyspace, "datagw.shard": self.shard.index,
                "datagw.relay.events": len(events), "datagw.relay.rows": rows.count(),
                "datagw.relay.from": _cursor_text(after), "datagw.relay.to": _cursor_text(to),
                "datagw.relay.recovered": recovered,
                "datagw.relay.target": self.store.kind}):
            await self._insert(cp, to, events, rows, recovered)
            await erasure.erase_users(
                self.store, {user_id: USER_STREAM + user_id for user_id in rows.erased_users})
            async with self.shard.connection("UPDATE relay_checkpoint") as conn:
                moved = await relay_store.advance(conn, after, to, len(events))
        if moved:
            self.checkpoint = self.known = Checkpoint(
                to, None, cp.events_relayed + len(events), datetime.now(UTC), cp.epoch)
            self.events_relayed += len(events)
            RELAY_EVENTS.labels(*self._labels).inc(len(events))
        else:
            self.checkpoint = None  # another relay finished it: read the row again
        return Batch(after, to, events, rows, recovered, time.time())

    async def _insert(self, cp: Checkpoint, to: Cursor, events: Sequence[StoredEvent],
                      rows: BatchRows, recovered: bool) -> None:
        for table in TABLES:
            table_rows = rows.by_table[table.name]
            if not table_rows:
                continue
            # A re-insert under the batch's token is dropped by ClickHouse
            # only while the token is within the table's deduplication window
            # (the last N inserts into that table, from every shard). A range
            # left pending longer (this shard down for a long time after its
            # insert landed) is found by its rows instead.
            if recovered and await relayed.landed(self.store, table, self.keyspace,
                                                  self.shard.index, table_rows):
                continue
            await self.store.insert(
                table.name, table.column_names, table_rows,
                dedup_token=dedup_token(self.keyspace, self.shard.index, cp.at, to, events,
                                        table.name, cp.epoch))

    async def _read_range(self, after: Cursor, to: Cursor) -> list[StoredEvent]:
        """Exactly the events in (after, to]: everything there is committed
        below the horizon, so the same read gives the same events."""
        out: list[StoredEvent] = []
        cursor = after
        while True:
            async with self.shard.connection("SELECT events relay") as conn:
                page = await event_log.read_after(conn, cursor, self.settings.batch_events)
            for e in page.events:
                if e.cursor > to:
                    return out
                out.append(e)
            if not page.events or page.events[-1].cursor >= to:
                return out
            cursor = page.events[-1].cursor

    async def _gather(self, after: Cursor) -> list[StoredEvent]:
        """The next batch: up to batch_events, or what came within window_s
        of the first event. Waits (woken by commits) while there is none."""
        s = self.settings
        loop = asyncio.get_running_loop()
        batch: list[StoredEvent] = []
        cursor = after
        deadline: float | None = None
        while True:
            ticket = self._waiter.ticket()
            async with self.shard.connection("SELECT events relay") as conn:
                page = await event_log.read_after(conn, cursor, s.batch_events - len(batch))
            batch += page.events
            if page.events:
                cursor = page.events[-1].cursor
            if len(batch) >= s.batch_events:
                return batch
            now = loop.time()
            window_left: float | None = None
            if batch:
                deadline = deadline if deadline is not None else now + s.window_s
                if now >= deadline:
                    return batch
                window_left = deadline - now
            else:
                self._caught_up()
            await self._waiter.wait(ticket, bool(page.events), window_left)

    def _caught_up(self) -> None:
        """Nothing readable is left: lag 0 (events above the horizon are
        not committed yet, so not late)."""
        self.lag_events, self.lag_s = 0, 0.0
        self._export_lag()

    async def _sample_lag(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._lag_sampled < self.settings.lag_every_s:
            return
        cp = self.known
        if cp is None:
            return
        async with self.shard.connection("SELECT events relay lag") as conn:
            n, oldest = await event_log.pending_after(conn, cp.at)
        self._lag_sampled = now
        self.lag_events = n
        self.lag_s = _age_s(oldest)
        self._export_lag()

    def _export_lag(self) -> None:
        RELAY_LAG_EVENTS.labels(*self._labels).set(self.lag_events)
        RELAY_LAG_SECONDS.labels(*self._labels).set(self.lag_s)

    async def rewind(self) -> dict[str, int]:
        """After this shard was restored to an earlier point, before its loop
        runs: remove its rows beyond the restored checkpoint from ClickHouse
        and start a new epoch, so the events still there are copied again
        and those gone stay gone. Rows removed, per table."""
        async with self.shard.connection("SELECT relay_checkpoint") as conn:
            cp = await relay_store.load(conn)
        removed = await rewind.drop_beyond(self.store, self.keyspace, self.shard.index, cp.at)
        async with self.shard.connection("UPDATE relay_checkpoint") as conn:
            self.known = await relay_store.new_epoch(conn, uuid.uuid4().hex[:12])
        self.checkpoint = None
        return removed

    async def progress(self) -> ShardProgress:
        """Where this shard's relay stands, read from the shard now (the
        checkpoint row is the truth, whichever gateway moved it)."""
        error = self.last_error
        try:
            async with self.shard.connection("SELECT relay_checkpoint") as conn:
                cp = await relay_store.load(conn)
                n, oldest = await event_log.pending_after(conn, cp.at)
            return ShardProgress(self.keyspace, self.shard.index, cp.at, n, _age_s(oldest),
                                 error, cp.last_batch_at)
        except Unavailable as exc:
            known = self.known
            return ShardProgress(
                self.keyspace, self.shard.index, known.at if known else Cursor(),
                self.lag_events, self.lag_s, error or _describe(exc),
                known.last_batch_at if known else None)


@dataclass
class Relay:
    """The relays of every source shard, run as background tasks."""

    shards: list[ShardRelay]
    store: AnalyticsStore
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def over(cls, keyspaces: Sequence[Keyspace], notifiers: EventNotifiers,
             store: AnalyticsStore, settings: RelaySettings | None = None) -> Relay:
        settings = settings or RelaySettings()
        return cls([ShardRelay(ks.name, s, notifiers.of(ks.name, s.index), store, settings)
                    for ks in keyspaces for s in ks.shards], store)

    def of(self, keyspace: str, index: int) -> ShardRelay | None:
        return next((r for r in self.shards
                     if (r.keyspace, r.shard.index) == (keyspace, index)), None)

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def add(self, keyspace: str, shard: Shard, notifier: ShardNotifier,
            settings: RelaySettings | None = None) -> None:
        """Relay a shard server added while the gateway runs too."""
        relay = ShardRelay(keyspace, shard, notifier, self.store,
                           settings or (self.shards[0].settings if self.shards
                                        else RelaySettings()))
        self.shards.append(relay)
        if self._tasks:
            self._tasks.append(asyncio.create_task(relay.run(), name=f"relay {shard.name}"))

    def start(self) -> None:
        self._tasks = [asyncio.create_task(r.run(), name=f"relay {r.shard.name}")
                       for r in self.shards]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await stop_tasks(*tasks, what="relay")
        for r in self.shards:
            r.checkpoint = None  # whoever runs next reads the row

    @property
    def events_relayed(self) -> int:
        return sum(r.events_relayed for r in self.shards)

    async def progress(self) -> list[ShardProgress]:
        return list(await asyncio.gather(*(r.progress() for r in self.shards)))
