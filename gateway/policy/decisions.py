"""Decisions the policy makes for one request: which level, cache or not, where.

The policy decides; storage executes. Nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import FieldViolation, InvalidArgument
from gateway.policy.model import Consistency, DomainPolicy


@dataclass(frozen=True)
class ReadPlan:
    level: Consistency
    # May the answer come from the cache at all?
    use_cache: bool
    # Oldest cache entry acceptable (seconds); None means any live entry.
    max_cache_age_s: float | None
    # Where a database read goes. Keyspaces without replicas always read the
    # primary, which satisfies every level.
    target: str = "primary"


def plan_read(
    policy: DomainPolicy,
    requested: Consistency | None,
    max_staleness_s: float | None = None,
) -> ReadPlan:
    """The plan for a read asking for `requested` (None: the domain default)."""
    level = requested or policy.default_consistency
    if level not in policy.allowed_consistency:
        allowed = ", ".join(c.value for c in policy.allowed_consistency)
        raise InvalidArgument(
            [
                FieldViolation(
                    "read_options.consistency",
                    f"{level.value!r} is not allowed for domain {policy.domain!r}; "
                    f"allowed: {allowed}",
                )
            ]
        )
    bound = policy.max_staleness_s
    if max_staleness_s is not None:
        if level is not Consistency.BOUNDED_STALENESS:
            raise InvalidArgument(
                [
                    FieldViolation(
                        "read_options.max_staleness",
                        "only meaningful with CONSISTENCY_LEVEL_BOUNDED_STALENESS",
                    )
                ]
            )
        if max_staleness_s <= 0 or max_staleness_s > policy.max_staleness_s:
            raise InvalidArgument(
                [
                    FieldViolation(
                        "read_options.max_staleness",
                        f"must be greater than 0s and at most the policy's "
                        f"{policy.max_staleness_s:g}s",
                    )
                ]
            )
        bound = max_staleness_s
    cache_on = policy.cache.enabled
    if level is Consistency.EVENTUAL:
        return ReadPlan(level, use_cache=cache_on, max_cache_age_s=None)
    if level is Consistency.BOUNDED_STALENESS:
        return ReadPlan(level, use_cache=cache_on, max_cache_age_s=bound)
    # strong and read_your_writes: a cache entry can predate the caller's write.
    return ReadPlan(level, use_cache=False, max_cache_age_s=None)
