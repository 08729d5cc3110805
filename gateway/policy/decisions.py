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
    # Oldest cache entry (or replica state) acceptable, in seconds; None
    # means any live entry.
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


@dataclass(frozen=True)
class ReplicaView:
    """What routing needs to know of one replica, as last tracked."""

    healthy: bool
    replay_lsn: int
    staleness_s: float


def choose_replica(
    plan: ReadPlan, replicas: list[ReplicaView], token_lsn: int | None
) -> int | None:
    """Index of the replica a database read may use, or None for the primary.

    strong: never a replica. read_your_writes: one that has replayed past the
    caller's token (no token: nothing to wait for, any healthy replica).
    bounded_staleness: one no staler than the bound. eventual: any healthy
    one. Among candidates the freshest wins, so a lagging replica is skipped.
    """
    if plan.level is Consistency.STRONG:
        return None
    candidates = [(i, r) for i, r in enumerate(replicas) if r.healthy and r.replay_lsn > 0]
    if plan.level is Consistency.READ_YOUR_WRITES and token_lsn is not None:
        candidates = [(i, r) for i, r in candidates if r.replay_lsn >= token_lsn]
    elif plan.level is Consistency.BOUNDED_STALENESS:
        bound = plan.max_cache_age_s if plan.max_cache_age_s is not None else 0.0
        candidates = [(i, r) for i, r in candidates if r.staleness_s <= bound]
    if not candidates:
        return None
    return max(candidates, key=lambda c: c[1].replay_lsn)[0]
