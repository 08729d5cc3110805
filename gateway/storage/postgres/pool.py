"""Connection pools for PostgreSQL keyspaces, with a span around every call.

A keyspace is a list of shards, each owning a range of keyspace ids; an
unsharded keyspace has exactly one shard owning the whole space. A shard is
its primary's pool plus optional streaming replicas, each a pool of its own
whose replay position and staleness the replication tracker keeps current.
Connection failures become UNAVAILABLE naming the keyspace and shard, so a
caller and an operator both see which backend is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import asyncpg
from opentelemetry.trace import SpanKind

from gateway.errors import Unavailable
from gateway.secrets import redact_url
from gateway.storage.postgres.keyspace_id import SPACE, KeyRange
from gateway.telemetry import POOL_SIZE, tracer

log = logging.getLogger(__name__)

# How long closing a pool waits for connections in use to be released.
CLOSE_WAIT_S = 5.0

# Errors that mean "the server is not there", as opposed to a bad statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


@dataclass(frozen=True)
class PoolSettings:
    min_size: int = 2
    max_size: int = 20
    # Seconds a connection attempt may take before the shard counts as down.
    connect_timeout_s: float = 3.0
    # The DSNs lead to a transaction-mode pooler (PgBouncer): a server
    # connection is ours for one transaction only, so a named prepared
    # statement would be missing (or another client's) on the next one.
    transaction_pooler: bool = False

    @property
    def statement_cache_size(self) -> int:
        """asyncpg's prepared statement cache: 0 makes every statement unnamed,
        parsed again with each execution (PgBouncer 1.18 does not track named
        ones; 1.21+ could with max_prepared_statements)."""
        return 0 if self.transaction_pooler else 100


async def skip_session_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own rollback of an
    open transaction. The gateway leaves no session state behind (only SET
    LOCAL, transaction advisory locks, no LISTEN, no cursors; which is also
    what lets it run behind a transaction-mode pooler), so asyncpg's default
    reset query (RESET ALL, UNLISTEN *, ...) would be one wasted round trip
    per checkout, about a quarter of the statements an order sends."""


def redact(dsn: str) -> str:
    """host:port of a DSN, without credentials, for topology and logs."""
    parts = urlsplit(dsn)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


def parse_lsn(text: str) -> int:
    """A WAL position "16/B374D848" as a number that orders like the WAL."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Shard:
    """One PostgreSQL server of a shard: its primary, or one of its replicas."""

    keyspace: str
    index: int
    dsn: str
    settings: PoolSettings
    key_range: KeyRange = field(default_factory=lambda: KeyRange(0, SPACE))
    # "primary", or "replica<N>" for the N-th replica of the shard.
    role: str = "primary"
    replicas: list[Shard] = field(default_factory=list)
    pool: asyncpg.Pool | None = None
    healthy: bool = False
    last_error: str = ""
    # Replicas only, kept by the replication tracker: the WAL position
    # replayed (0: unknown) and an upper bound of the staleness in seconds.
    replay_lsn: int = 0
    staleness_s: float = float("inf")
    _labels: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self._labels = f"postgres/{self.keyspace}/{self.index}/{self.role}"

    @property
    def is_replica(self) -> bool:
        return self.role != "primary"

    @property
    def name(self) -> str:
        return self._labels

    async def open(self) -> None:
        try:
            self.pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.settings.min_size,
                max_size=self.settings.max_size,
                timeout=self.settings.connect_timeout_s,
                command_timeout=None,
                reset=skip_session_reset,
                statement_cache_size=self.settings.statement_cache_size,
            )
            self.healthy = True
        except CONNECTION_ERRORS as exc:
            # Start anyway: the shard may come up later and the health loop
            # will notice; requests routed here get UNAVAILABLE meanwhile.
            self.healthy = False
            self.last_error = type(exc).__name__
            log.warning("postgres shard %s at %s unreachable at start: %s", self.name,
                        redact(self.dsn), redact_url(str(exc)))

    async def close(self) -> None:
        """Close the pool; connections still held after CLOSE_WAIT_S are cut.

        asyncpg's close waits for every connection to be released, for ever:
        one held by a task nobody cancelled would hang the gateway's stop.
        """
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                await asyncio.wait_for(pool.close(), CLOSE_WAIT_S)
            except TimeoutError:
                log.warning("keyspace %s shard %s: connections still in use after %gs at "
                            "close; terminating them", self.keyspace, self.index, CLOSE_WAIT_S)
                pool.terminate()

    def unavailable(self, exc: BaseException | None = None) -> Unavailable:
        return Unavailable(
            f"keyspace {self.keyspace!r} shard {self.index} is unavailable",
            reason="BACKEND_UNAVAILABLE",
            metadata={
                "backend": "postgres",
                "keyspace": self.keyspace,
                "shard": str(self.index),
                "address": redact(self.dsn),
                # Without an exception: why the pool could not open, if it tried.
                "cause": type(exc).__name__ if exc else self.last_error or "not connected",
            },
        )

    @asynccontextmanager
    async def connection(self, operation: str) -> AsyncIterator[asyncpg.Connection]:
        """A pooled primary connection inside a client span named after `operation`."""
        if self.pool is None:
            await self.open()
        if self.pool is None:
            raise self.unavailable()
        with tracer.start_as_current_span(
            f"postgres {operation}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": "postgresql",
                "db.operation.name": operation,
                "server.address": redact(self.dsn),
                "datagw.keyspace": self.keyspace,
                "datagw.shard": self.index,
                "datagw.target": "replica" if self.is_replica else "primary",
            },
        ):
            try:
                async with self.pool.acquire() as conn:
                    # The pool hands out a proxy that behaves as a Connection.
                    yield cast(asyncpg.Connection, conn)
            except CONNECTION_ERRORS as exc:
                # A bad query argument is an InterfaceError too, but a bug of
                # ours, not a shard that is down: let it become INTERNAL.
                if isinstance(exc, asyncpg.exceptions.DataError):
                    raise
                self.healthy = False
                self.last_error = type(exc).__name__
                raise self.unavailable(exc) from exc

    async def open_all(self) -> None:
        await self.open()
        for replica in self.replicas:
            await replica.open()

    async def close_all(self) -> None:
        for node in (self, *self.replicas):
            await node.close()

    async def check(self) -> bool:
        try:
            async with self.connection("health") as conn:
                await conn.fetchval("SELECT 1", timeout=2)
            self.healthy, self.last_error = True, ""
        except Unavailable as exc:
            self.healthy = False
            self.last_error = exc.metadata.get("cause", "unavailable")
        except TimeoutError:
            self.healthy, self.last_error = False, "timeout"
        self.export_pool_metrics()
        return self.healthy

    def pool_stats(self) -> tuple[int, int, int]:
        """(max, open, in use) connections."""
        if self.pool is None:
            return self.settings.max_size, 0, 0
        size = self.pool.get_size()
        return self.pool.get_max_size(), size, size - self.pool.get_idle_size()

    def export_pool_metrics(self) -> None:
        max_size, size, in_use = self.pool_stats()
        POOL_SIZE.labels(self.name, "max").set(max_size)
        POOL_SIZE.labels(self.name, "open").set(size)
        POOL_SIZE.labels(self.name, "in_use").set(in_use)


@dataclass
class Keyspace:
    name: str
    shards: list[Shard]
    # Bumped by the operator whenever the ranges change; echoed in topology.
    range_map_version: int = 1

    @property
    def single(self) -> Shard:
        """The shard of an unsharded keyspace."""
        return self.shards[0]

    @property
    def sharded(self) -> bool:
        return len(self.shards) > 1

    def shard_for(self, ksid: int) -> Shard:
        """The shard whose range holds `ksid` (ranges are validated to cover all)."""
        for shard in self.shards:
            if shard.key_range.contains(ksid):
                return shard
        raise AssertionError(f"range map of {self.name!r} does not cover {ksid:016x}")

    def nodes(self) -> list[Shard]:
        """Every server of the keyspace: each primary, then its replicas."""
        return [node for shard in self.shards for node in (shard, *shard.replicas)]

    async def open(self) -> None:
        for shard in self.shards:
            await shard.open_all()

    async def close(self) -> None:
        for shard in self.shards:
            await shard.close_all()


def one(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row of a statement that cannot miss (it updates a row we hold locked)."""
    if row is None:
        raise AssertionError("a statement on a locked row returned nothing")
    return row
