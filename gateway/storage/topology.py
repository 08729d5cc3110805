"""Every backend the gateway talks to, for health checks and the topology view."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gateway.storage.clickhouse.store import AnalyticsStore
from gateway.storage.postgres.pool import CONFIRM_TIMEOUT_S, PROBE_TIMEOUT_S, Keyspace, redact
from gateway.storage.redis.client import RedisBackend
from gateway.telemetry import BACKEND_UP

# The whole health round's bound: a little more than a postgres probe's own
# (its first try and its confirmation), so that a round always ends.
CHECK_BOUND_S = PROBE_TIMEOUT_S + CONFIRM_TIMEOUT_S + 0.2


def _lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


@dataclass(frozen=True)
class BackendStatus:
    name: str
    kind: str  # postgres | redis | clickhouse
    address: str
    role: str
    keyspace: str = ""
    shard: int = 0
    healthy: bool = False
    last_error: str = ""
    pool_max_size: int = 0
    pool_size: int = 0
    pool_in_use: int = 0
    key_range: str = ""
    replay_lsn: str = ""
    # Replicas: upper bound of how far behind the primary (None: unknown).
    replication_lag_s: float | None = None
    # PostgreSQL primaries: the timeline reached (0: not known yet).
    timeline: int = 0


@dataclass
class Backends:
    keyspaces: dict[str, Keyspace]
    redis: RedisBackend
    # The analytics store; None when none is configured (not embedded and no
    # clickhouse.url): the analytics API then answers FAILED_PRECONDITION.
    clickhouse: AnalyticsStore | None = None
    embedded: bool = False
    _statuses: list[BackendStatus] = field(default_factory=list)

    async def check(self) -> None:
        """Probe every backend concurrently; results feed health and metrics.

        Bounded as a whole: a backend whose probe has not answered within
        CHECK_BOUND_S is reported down this round, whatever it is waiting on.
        """
        shards = [s for ks in self.keyspaces.values() for s in ks.nodes()]
        others: list[RedisBackend | AnalyticsStore] = [self.redis]
        if self.clickhouse is not None:
            others.append(self.clickhouse)
        probes = [asyncio.ensure_future(s.check()) for s in shards]
        late = {asyncio.ensure_future(b.check()): b for b in others}
        done, pending = await asyncio.wait([*probes, *late], timeout=CHECK_BOUND_S)
        for task in pending:
            task.cancel()
            backend = late.get(task)
            if backend is not None:
                backend.healthy = False
                backend.last_error = f"no answer to a probe within {CHECK_BOUND_S:g}s"
        for status in self.statuses():
            BACKEND_UP.labels(status.name).set(1 if status.healthy else 0)
        for task in done:
            task.result()  # a probe's own bug reaches the health loop's log

    def statuses(self) -> list[BackendStatus]:
        out: list[BackendStatus] = []
        for ks in self.keyspaces.values():
            for s in ks.nodes():
                max_size, size, in_use = s.pool_stats()
                out.append(BackendStatus(
                    s.name, "postgres", redact(s.dsn), "replica" if s.is_replica else "primary",
                    ks.name, s.index, s.healthy, s.last_error, max_size, size, in_use,
                    key_range=ks.ranges_text(s.index) if ks.sharded else "",
                    replay_lsn=_lsn_text(s.replay_lsn) if s.is_replica and s.replay_lsn else "",
                    replication_lag_s=s.staleness_s if s.is_replica and
                    s.staleness_s != float("inf") else None,
                    timeline=0 if s.is_replica else s.timeline,
                ))
        max_size, size, in_use = self.redis.pool_stats()
        out.append(BackendStatus(
            "redis", "redis", self.redis.address, "cache+sessions", healthy=self.redis.healthy,
            last_error=self.redis.last_error, pool_max_size=max_size, pool_size=size,
            pool_in_use=in_use,
        ))
        if self.clickhouse is not None:
            out.append(BackendStatus(
                self.clickhouse.name, "clickhouse", self.clickhouse.address, "analytics",
                healthy=self.clickhouse.healthy, last_error=self.clickhouse.last_error,
            ))
        return out

    async def close(self) -> None:
        for ks in self.keyspaces.values():
            await ks.close()
        await self.redis.close()
        if self.clickhouse is not None:
            self.clickhouse.close()
