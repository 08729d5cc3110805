"""Decisions the policy makes for one read: which level, cache or not, which
shard or shards, primary or replica.

The policy decides the whole plan; the domain executes it (domain/reads.py)
and storage runs the statements. Nothing here performs I/O, so every decider
is a pure function with unit tests, and `datagw explain` shows the same plan
a call would get.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from gateway.policy.model import Consistency, DomainPolicy


@dataclass(frozen=True)
class ReadPlan:
    domain: str
    level: Consistency
    # May the answer come from the cache at all?
    use_cache: bool
    # Oldest cache entry (or replica state) acceptable, in seconds; None
    # means any live entry.
    max_cache_age_s: float | None
    # May a replica serve the database read? Which one (if any qualifies when
    # the read runs) is choose_replica's decision on the replicas' state then.
    replica_allowed: bool
    # The shard(s) the read touches, by index in the keyspace.
    shards: tuple[int, ...] = (0,)
    # Every shard, merged (an admin list across users).
    scatter: bool = False
    # Seconds a cache entry filled from a replica may live: such an entry may
    # predate a write that invalidated the key, so it must not outlive the
    # policy's staleness bound (entries from the primary live the full TTL).
    replica_fill_ttl_s: float = 0.0


def plan_read(
    policy: DomainPolicy,
    requested: Consistency | None,
    max_staleness_s: float | None = None,
    shard: int = 0,
) -> ReadPlan:
    """The plan for a read of `shard` asking for `requested` (None: the domain
    default)."""
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
    shards = (shard,)
    if level is Consistency.EVENTUAL:
        return ReadPlan(policy.domain, level, use_cache=cache_on, max_cache_age_s=None,
                        replica_allowed=True, shards=shards,
                        replica_fill_ttl_s=policy.max_staleness_s)
    if level is Consistency.BOUNDED_STALENESS:
        return ReadPlan(policy.domain, level, use_cache=cache_on, max_cache_age_s=bound,
                        replica_allowed=True, shards=shards, replica_fill_ttl_s=bound)
    # strong and read_your_writes: a cache entry can predate the caller's write.
    # read_your_writes may still read a replica that replayed past the token.
    return ReadPlan(policy.domain, level, use_cache=False, max_cache_age_s=None,
                    replica_allowed=level is Consistency.READ_YOUR_WRITES, shards=shards)


def plan_scatter(policy: DomainPolicy, shard_count: int) -> ReadPlan:
    """A read of every shard, merged: refused where the policy forbids scatter.
    It reads each primary (a merged page across shards must not mix replica
    states), so it is planned as strong and never cached."""
    if not policy.scatter_allowed:
        raise FailedPrecondition(
            f"the {policy.domain} policy forbids reads across all shards (scatter: forbidden)",
            reason="SCATTER_FORBIDDEN", metadata={"domain": policy.domain},
            precondition_violations=(PreconditionViolation(
                "POLICY", f"{policy.domain}.scatter", "forbidden"),))
    return ReadPlan(policy.domain, Consistency.STRONG, use_cache=False, max_cache_age_s=None,
                    replica_allowed=False, shards=tuple(range(shard_count)), scatter=True)


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
    if not plan.replica_allowed:
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
