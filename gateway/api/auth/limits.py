"""Per-caller limits: calls at once and calls per second, per principal.

A token bucket per caller (refilled continuously at `rate`, holding up to
`burst`) and a count of its calls in flight, streams included until they
end. A refusal is RESOURCE_EXHAUSTED with RetryInfo: when the bucket will
hold a token again, or a short pause for the concurrency cap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from gateway.errors import ResourceExhausted
from gateway.policy.access import CallerLimit
from gateway.telemetry import CALLER_LIMITED

# A caller over its concurrency cap retries after this long (a call's typical span).
CONCURRENCY_RETRY_S = 0.05
# Past this many callers tracked, those with nothing in flight are forgotten
# (their bucket refills to full anyway once idle long enough).
MAX_TRACKED = 50_000


@dataclass
class _Usage:
    in_flight: int = 0
    tokens: float = 0.0
    stamp: float = 0.0


class CallerLimiter:
    def __init__(self) -> None:
        self._usage: dict[str, _Usage] = {}

    def acquire(self, principal: str, limit: CallerLimit) -> bool:
        """Take one call for `principal`; True when it must be released.
        Raises ResourceExhausted when the caller is over a limit."""
        if not limit.concurrency and not limit.rate:
            return False
        usage = self._usage.get(principal)
        now = time.monotonic()
        if usage is None:
            if len(self._usage) >= MAX_TRACKED:
                self._usage = {k: u for k, u in self._usage.items() if u.in_flight}
            usage = self._usage[principal] = _Usage(tokens=float(limit.burst), stamp=now)
        if limit.concurrency and usage.in_flight >= limit.concurrency:
            CALLER_LIMITED.labels("concurrency").inc()
            raise ResourceExhausted(
                f"{principal} has {limit.concurrency} calls in flight, its limit; retry with "
                "backoff", reason="CALLER_CONCURRENCY_LIMIT",
                metadata={"caller": principal, "limit": str(limit.concurrency)},
                retry_after_s=CONCURRENCY_RETRY_S)
        if limit.rate:
            usage.tokens = min(float(limit.burst),
                               usage.tokens + (now - usage.stamp) * limit.rate)
            usage.stamp = now
            if usage.tokens < 1.0:
                CALLER_LIMITED.labels("rate").inc()
                raise ResourceExhausted(
                    f"{principal} is over its rate of {limit.rate:g} calls per second",
                    reason="CALLER_RATE_LIMIT",
                    metadata={"caller": principal, "rate": f"{limit.rate:g}"},
                    retry_after_s=(1.0 - usage.tokens) / limit.rate)
            usage.tokens -= 1.0
        usage.in_flight += 1
        return True

    def release(self, principal: str) -> None:
        usage = self._usage.get(principal)
        if usage is not None:
            usage.in_flight -= 1
