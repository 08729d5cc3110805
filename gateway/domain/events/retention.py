"""The event retention job (NFR6): removes the events nothing keeps any more.

Every `interval`, on every shard holding events, it deletes

  - the events their stream's metadata drops (AppendToStream's streams:
    max_age, max_count, soft delete; see gateway/storage/eventstore/streams.py),
  - the events older than their domain's policy keeps them
    (`retention.events`; the domain comes from the stream's name: user-,
    order-, payment-, stock-/reservation-, any other stream is "events"),

but only events at or below the shard's floor: the relay's checkpoint (an
event not yet in ClickHouse stays; a shard whose relay has copied nothing
keeps everything) and the checkpoint of every live projection reading the
shard. A projection rebuilt later replays what retention left.

Deletes go in batches (`batch_size` rows per statement, each its own short
transaction). ClickHouse keeps its own retention as table TTLs.

The same pass then removes the other rows a policy keeps only for a while
(request ids, finished sagas, orphaned email lookup rows:
gateway/domain/row_retention.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from gateway.domain.retention_batches import drain
from gateway.domain.row_retention import RowRetention
from gateway.errors import Unavailable
from gateway.policy.model import EVENT_STREAM_PREFIXES
from gateway.policy.registry import PolicyRegistry
from gateway.records.events import Cursor
from gateway.storage.postgres import retention_store as store
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.tasks import stop_tasks
from gateway.telemetry import RETENTION_DELETED, record_work

log = logging.getLogger(__name__)

BY_STREAM = "stream"


@dataclass(frozen=True)
class RetentionSettings:
    interval_s: float = 60.0
    batch_size: int = 10_000


@dataclass(frozen=True)
class AgeRule:
    """Events of `domain` older than `max_age_s` go."""

    domain: str
    max_age_s: float
    prefixes: tuple[str, ...]
    # True: the streams matching none of `prefixes`.
    others: bool = False


class RetentionJob:
    def __init__(self, policies: PolicyRegistry, event_keyspaces: list[Keyspace],
                 databases: list[Shard], settings: RetentionSettings,
                 rows: RowRetention) -> None:
        """`databases`: the primaries that may hold projection checkpoints;
        `rows`: the retention of the rows that are not events, run after them."""
        self._policies = policies
        self.rows = rows
        self._keyspaces = event_keyspaces
        self._databases = databases
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def rules(self) -> list[AgeRule]:
        """The age rules of the policies as they are now (a reload applies
        from the next run)."""
        known = tuple(p for prefixes in EVENT_STREAM_PREFIXES.values() for p in prefixes)
        rules = []
        for domain, prefixes in EVENT_STREAM_PREFIXES.items():
            age = self._policies.get(domain).retention_s("events")
            if age is not None:
                # A domain without prefixes of its own has the other streams.
                rules.append(AgeRule(domain, age, prefixes or known, others=not prefixes))
        return rules

    async def run_once(self) -> int:
        """One pass over every shard: events, then the other rows; how many
        went."""
        return await self._events_once() + await self.rows.run_once()

    async def _events_once(self) -> int:
        """One pass of the events over every shard; how many went. A shard
        that is down is left for the next pass; so is every shard while a
        database that may hold projection checkpoints cannot be read."""
        try:
            projected = await self.projection_floors()
        except Unavailable as exc:
            log.warning("retention skipped: projection checkpoints unreadable (%s)", exc.message)
            return 0
        rules = self.rules()
        deleted = 0
        for ks in self._keyspaces:
            for shard in ks.shards:
                try:
                    deleted += await self._shard(shard, projected.get((ks.name, shard.index)),
                                                 rules)
                except Unavailable as exc:
                    log.warning("retention skipped %s: %s", shard.name, exc.message)
        return deleted

    async def projection_floors(self) -> dict[tuple[str, int], Cursor]:
        """Per source shard: how far every live projection reading it has got."""
        floors: dict[tuple[str, int], Cursor] = {}
        for db in self._databases:
            async with db.connection("SELECT projection_checkpoints") as conn:
                found = await store.projected_through(conn)
            for source, cursor in found.items():
                floors[source] = min(cursor, floors.get(source, cursor))
        return floors

    async def _shard(self, shard: Shard, projected: Cursor | None, rules: list[AgeRule]) -> int:
        batch = self.settings.batch_size
        async with shard.connection("RETENTION events") as conn:
            relayed = await store.relayed_through(conn)
            if relayed is None:
                return 0
            floor = min(relayed, projected) if projected is not None else relayed
            deleted = await self._drain(shard, BY_STREAM, partial(
                store.delete_by_stream, conn, floor, batch))
            for r in rules:
                deleted += await self._drain(shard, r.domain, partial(
                    store.delete_older, conn, floor, batch, r.max_age_s, r.prefixes, r.others))
        return deleted

    async def _drain(self, shard: Shard, rule: str, delete: Callable[[], Awaitable[int]]) -> int:
        started = time.time_ns()
        total = await drain(self.settings.batch_size, delete)
        if total:
            RETENTION_DELETED.labels(shard.keyspace, str(shard.index), rule).inc(total)
            # A span only for a pass that deleted something (an empty one is a poll).
            record_work("retention", started, {
                "datagw.keyspace": shard.keyspace, "datagw.shard": shard.index,
                "datagw.retention.rule": rule, "datagw.retention.deleted": total})
        return total

    # -- the loop --------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="retention")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval_s)
            try:
                await self.run_once()
            except Exception:
                log.exception("retention pass failed")
