"""One Redis (Valkey) client, traced, with a short circuit breaker.

After a connection failure the backend reports itself down for a moment
instead of making every request wait for a connect timeout; callers decide
what "down" means for them (the cache is bypassed, sessions are UNAVAILABLE).

The client is a single node's connection pool, or with `cluster` a Redis
Cluster client (storage.redis.cluster) that routes by slot; callers send the
same commands to both, keeping each command's keys in one slot and naming one
of them (`key`), so that a cluster's breaker skips only the primary that
failed (storage.redis.cluster.NodeBreaker).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.errors import Unavailable
from gateway.secrets import redact_url
from gateway.storage.redis import cluster as rc
from gateway.telemetry import db_attributes, export_pool, start_span

log = logging.getLogger(__name__)
T = TypeVar("T")
Client: TypeAlias = aioredis.Redis | RedisCluster

_DOWN_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError,
                *rc.DOWN_ERRORS)


class RedisDown(Exception):
    """Redis could not be reached (or was skipped while the breaker is open)."""


class RedisBackend:
    def __init__(
        self, url: str, *, timeout_s: float = 0.25, retry_after_s: float = 1.0,
        max_connections: int = 64, cluster: bool = False, seeds: Sequence[str] = (),
    ) -> None:
        """`cluster`: `url` names one node of a Redis Cluster, `seeds` (host:port)
        more nodes to discover it from if that one is down at start."""
        self.url = url
        parts = urlsplit(url)
        self.address = ",".join([f"{parts.hostname or 'localhost'}:{parts.port or 6379}",
                                 *seeds])
        self.cluster = cluster
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self.healthy = True
        self.last_error = ""
        self.max_connections = max_connections
        self._nodes: rc.NodeBreaker | None = None
        timeouts: dict[str, Any] = {
            "socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
            "max_connections": max_connections, "health_check_interval": 0,
        }
        self.client: Client = rc.cluster_client(url, seeds, **timeouts) if cluster else \
            aioredis.Redis.from_url(
                url,
                retry_on_timeout=False,
                # After a Redis restart the first command on a pooled connection
                # fails with "connection closed"; one immediate retry on a fresh
                # connection tells a restart from an outage.
                retry=Retry(NoBackoff(), 1),
                retry_on_error=[redis.exceptions.ConnectionError],
                **timeouts,
            )
        if isinstance(self.client, RedisCluster):
            self._nodes = rc.NodeBreaker(self.client, retry_after_s)
        # Each operation's span attributes, worked out once.
        self._attributes: dict[str, dict[str, AttributeValue]] = {}
        # The database index (db.namespace); a cluster has only 0.
        self._database = parts.path.lstrip("/") or "0"
        # Called once after Redis answers again, e.g. to replay invalidations.
        self.on_recovery: list[Callable[[], Awaitable[None]]] = []

    async def call(
        self, operation: str, fn: Callable[[Client], Awaitable[T]], *, key: str | None = None,
    ) -> T:
        """Run `fn` in a client span; RedisDown if Redis is unreachable.

        `key`: one of the keys `fn` uses (all in one slot), for a cluster's
        per-primary breaker; None for calls over several slots."""
        nodes = self._nodes
        if time.monotonic() < self._down_until or (nodes is not None and nodes.is_open(key)):
            raise RedisDown(self.last_error or "circuit open")
        with start_span(operation, kind=SpanKind.CLIENT,
                        attributes=self._span_attributes(operation)):
            try:
                if isinstance(self.client, RedisCluster):
                    result = await rc.call(self.client, fn)
                else:
                    result = await fn(self.client)
            except _DOWN_ERRORS as exc:
                self._mark_down(exc, key)
                raise RedisDown(redact_url(str(exc))) from exc
        if not self.healthy and (nodes is None or nodes.answered(key)):
            await self._recovered()
        return result

    def _span_attributes(self, operation: str) -> dict[str, AttributeValue]:
        attributes = self._attributes.get(operation)
        if attributes is None:
            attributes = db_attributes("redis", operation, self.address, self._database)
            self._attributes[operation] = attributes
        return attributes

    def _mark_down(self, exc: BaseException, key: str | None) -> None:
        if self.healthy:
            log.warning("redis at %s unreachable: %s", self.address, redact_url(str(exc)))
        self.healthy = False
        self.last_error = type(exc).__name__
        if self._nodes is not None:
            self._nodes.failed(exc, key)
        else:
            self._down_until = time.monotonic() + self._retry_after_s

    async def _recovered(self) -> None:
        log.info("redis at %s reachable again", self.address)
        self.healthy, self.last_error = True, ""
        for hook in self.on_recovery:
            await hook()

    def unavailable(self, exc: RedisDown) -> Unavailable:
        return Unavailable(
            "the session store (redis) is unavailable",
            reason="BACKEND_UNAVAILABLE",
            metadata={"backend": "redis", "address": self.address, "cause": str(exc)[:200]},
        )

    async def check(self) -> bool:
        # The health loop probes even while the breaker is open.
        self._down_until = 0.0
        if self._nodes is not None:
            self._nodes.clear()
        try:
            if isinstance(self.client, RedisCluster):
                # Every primary: a cluster missing one cannot serve its slots.
                await self.call("PING", lambda r: r.ping(target_nodes=RedisCluster.PRIMARIES))
            else:
                await self.call("PING", lambda r: r.ping())
        except RedisDown:
            return False
        finally:
            # Each health round, as the PostgreSQL pools' (Shard.check).
            export_pool("redis", self.pool_stats())
        return True

    async def primaries(self) -> list[str]:
        """The nodes whose writes a near cache must hear about (host:port)."""
        if isinstance(self.client, RedisCluster):
            return await rc.primaries(self.client)
        return [self.address]

    def tracking_connection(self, node: str) -> Any:
        """A new, unpooled RESP2 connection to `node` (one of `primaries()`)."""
        if isinstance(self.client, RedisCluster):
            return rc.node_connection(self.client, node)
        pool = self.client.connection_pool
        # The pool's settings (auth, TLS, timeouts) with RESP2, whose pub/sub
        # messages are plain arrays of bytes whatever push handling or
        # decoding the client has.
        kwargs = {**pool.connection_kwargs, "protocol": 2, "decode_responses": False}
        return pool.connection_class(**kwargs)

    def pool_stats(self) -> tuple[int, int, int]:
        if isinstance(self.client, RedisCluster):
            return rc.pool_stats(self.client, self.max_connections)
        pool = self.client.connection_pool
        in_use = len(getattr(pool, "_in_use_connections", ()))
        idle = len(getattr(pool, "_available_connections", ()))
        return self.max_connections, in_use + idle, in_use

    async def close(self) -> None:
        await self.client.aclose()
