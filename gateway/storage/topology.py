"""Every backend the gateway talks to, for health checks and the topology view."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gateway.storage.clickhouse.embedded import EmbeddedClickHouse
from gateway.storage.postgres.pool import Keyspace, redact
from gateway.storage.redis.client import RedisBackend
from gateway.telemetry import BACKEND_UP


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


@dataclass
class Backends:
    keyspaces: dict[str, Keyspace]
    redis: RedisBackend
    clickhouse: EmbeddedClickHouse | None = None
    embedded: bool = False
    _statuses: list[BackendStatus] = field(default_factory=list)

    async def check(self) -> None:
        """Probe every backend concurrently; results feed health and metrics."""
        shards = [s for ks in self.keyspaces.values() for s in ks.shards]
        probes = [s.check() for s in shards] + [self.redis.check()]
        if self.clickhouse is not None:
            probes.append(self.clickhouse.check())
        await asyncio.gather(*probes)
        for status in self.statuses():
            BACKEND_UP.labels(status.name).set(1 if status.healthy else 0)

    def statuses(self) -> list[BackendStatus]:
        out: list[BackendStatus] = []
        for ks in self.keyspaces.values():
            for s in ks.shards:
                max_size, size, in_use = s.pool_stats()
                out.append(BackendStatus(
                    s.name, "postgres", redact(s.dsn), "primary", ks.name, s.index,
                    s.healthy, s.last_error, max_size, size, in_use,
                ))
        max_size, size, in_use = self.redis.pool_stats()
        out.append(BackendStatus(
            "redis", "redis", self.redis.address, "cache+sessions", healthy=self.redis.healthy,
            last_error=self.redis.last_error, pool_max_size=max_size, pool_size=size,
            pool_in_use=in_use,
        ))
        if self.clickhouse is not None:
            out.append(BackendStatus(
                "clickhouse/embedded", "clickhouse", f"chdb:{self.clickhouse.path}", "analytics",
                healthy=self.clickhouse.healthy, last_error=self.clickhouse.last_error,
            ))
        return out

    async def close(self) -> None:
        for ks in self.keyspaces.values():
            await ks.close()
        await self.redis.close()
        if self.clickhouse is not None:
            self.clickhouse.close()
