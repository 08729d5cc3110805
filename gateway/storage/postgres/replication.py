"""Tracks how far each replica has replayed, for consistency-aware routing.

Every `interval` the tracker samples each primary's WAL position and each
replica's replay position. A replica that has replayed past the primary's
position sampled at time t holds every commit made before t, so `now - t`
(for the latest such sample) is an upper bound of its staleness. That bound
is what bounded_staleness compares against; read_your_writes compares the
replay position with the caller's token. Both values only ever understate
the replica's progress, so routing on them is safe, never optimistic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from gateway import request_context
from gateway.errors import Unavailable
from gateway.storage.postgres.pool import Keyspace, Shard, parse_lsn
from gateway.tasks import stop_tasks
from gateway.telemetry import REPLICA_LAG

log = logging.getLogger(__name__)

# Samples older than this are dropped: a replica further behind counts as
# infinitely stale, which routes every bounded read to the primary.
HISTORY_S = 60.0

# One position read may take this long before the server counts as silent.
SAMPLE_TIMEOUT_S = 0.5


class _ShardHistory:
    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, at: float, lsn: int) -> None:
        self.samples.append((at, lsn))
        while self.samples and self.samples[0][0] < at - HISTORY_S:
            self.samples.popleft()

    def staleness(self, replay_lsn: int, now: float) -> float:
        best: float | None = None
        for at, lsn in self.samples:
            if lsn <= replay_lsn:
                best = at
            else:
                break
        return float("inf") if best is None else max(0.0, now - best)


class ReplicationTracker:
    def __init__(self, keyspaces: list[Keyspace], interval_s: float = 0.2) -> None:
        self._shards = [s for ks in keyspaces for s in ks.shards if s.replicas]
        self._history = {id(s): _ShardHistory() for s in self._shards}
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def track(self, shard: Shard) -> None:
        """Follow the replicas of a shard server added while the gateway runs."""
        if shard.replicas:
            self._history[id(shard)] = _ShardHistory()
            self._shards.append(shard)
            self.start()

    def start(self) -> None:
        if self._shards and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="replication lag tracker")

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.gather(*(self.sample(s) for s in self._shards))
            except Exception:
                # Never let one odd answer stop tracking: routing would then
                # trust positions that only age.
                log.exception("replication sampling failed")
            await asyncio.sleep(self._interval_s)

    async def sample(self, shard: Shard) -> None:
        """One round for one shard: the primary first, so its sample can vouch
        for the replicas read right after it. Each read is bounded by
        SAMPLE_TIMEOUT_S: a server that hangs must not stop the tracking."""
        history = self._history[id(shard)]
        try:
            primary_lsn = await _fetch_lsn(shard, "SELECT pg_current_wal_lsn()::text")
            history.add(time.monotonic(), primary_lsn)
        except Unavailable:
            pass  # replicas keep their last known positions; they only age
        for replica in shard.replicas:
            try:
                replica.replay_lsn = await _fetch_lsn(
                    replica, "SELECT pg_last_wal_replay_lsn()::text")
                replica.staleness_s = history.staleness(replica.replay_lsn, time.monotonic())
            except Unavailable:
                # No answer is no evidence of freshness: bounded reads leave
                # it until a sample succeeds (its probe decides its health).
                replica.staleness_s = float("inf")
            REPLICA_LAG.labels(replica.name).set(
                replica.staleness_s if replica.staleness_s != float("inf") else HISTORY_S)


async def _fetch_lsn(node: Shard, sql: str) -> int:
    with request_context.within(asyncio.get_running_loop().time(), SAMPLE_TIMEOUT_S):
        async with node.connection("replication lsn") as conn:
            value = await conn.fetchval(sql)
    return parse_lsn(str(value)) if value else 0
