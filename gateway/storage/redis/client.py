"""One Redis (Valkey) connection pool, traced, with a short circuit breaker.

After a connection failure the backend reports itself down for a moment
instead of making every request wait for a connect timeout; callers decide
what "down" means for them (the cache is bypassed, sessions are UNAVAILABLE).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
import redis.exceptions
from opentelemetry.trace import SpanKind
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.errors import Unavailable
from gateway.secrets import redact_url
from gateway.telemetry import tracer

log = logging.getLogger(__name__)
T = TypeVar("T")

_DOWN_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisDown(Exception):
    """Redis could not be reached (or was skipped while the breaker is open)."""


class RedisBackend:
    def __init__(
        self, url: str, *, timeout_s: float = 0.25, retry_after_s: float = 1.0,
        max_connections: int = 64,
    ) -> None:
        self.url = url
        parts = urlsplit(url)
        self.address = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
        self._retry_after_s = retry_after_s
        self._down_until = 0.0
        self.healthy = True
        self.last_error = ""
        self.max_connections = max_connections
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            max_connections=max_connections,
            retry_on_timeout=False,
            # After a Redis restart the first command on a pooled connection
            # fails with "connection closed"; one immediate retry on a fresh
            # connection tells a restart from an outage.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[redis.exceptions.ConnectionError],
            health_check_interval=0,
        )
        # Called once after Redis answers again, e.g. to replay invalidations.
        self.on_recovery: list[Callable[[], Awaitable[None]]] = []

    async def call(self, operation: str, fn: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run `fn` in a client span; RedisDown if Redis is unreachable."""
        if time.monotonic() < self._down_until:
            raise RedisDown(self.last_error or "circuit open")
        with tracer.start_as_current_span(
            f"redis {operation}",
            kind=SpanKind.CLIENT,
            attributes={"db.system": "redis", "db.operation.name": operation,
                        "server.address": self.address},
        ):
            try:
                result = await fn(self.client)
            except _DOWN_ERRORS as exc:
                self._mark_down(exc)
                raise RedisDown(redact_url(str(exc))) from exc
        if not self.healthy:
            await self._recovered()
        return result

    def _mark_down(self, exc: BaseException) -> None:
        if self.healthy:
            log.warning("redis at %s unreachable: %s", self.address, redact_url(str(exc)))
        self.healthy = False
        self.last_error = type(exc).__name__
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
        try:
            await self.call("PING", lambda r: r.ping())
        except RedisDown:
            return False
        return True

    def pool_stats(self) -> tuple[int, int, int]:
        pool = self.client.connection_pool
        in_use = len(getattr(pool, "_in_use_connections", ()))
        idle = len(getattr(pool, "_available_connections", ()))
        return self.max_connections, in_use + idle, in_use

    async def close(self) -> None:
        await self.client.aclose()
