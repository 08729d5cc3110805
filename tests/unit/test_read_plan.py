"""The read plan's deciders, exhaustively: plan_read over every level, cache
setting and bound; plan_scatter; choose_replica over every level and replica
state. Pure functions, so every case is a plain call."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gateway.errors import FailedPrecondition, InvalidArgument
from gateway.policy.decisions import ReadPlan, ReplicaView, choose_replica, plan_read, plan_scatter
from gateway.policy.loader import parse_policy
from gateway.policy.model import CACHE_OFF, Consistency, DomainPolicy
from gateway.runtime.services import POLICY_DOMAINS

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CATALOG = (POLICIES / "catalog.yaml").read_text("utf-8")
ALL_LEVELS = tuple(Consistency)


# -- plan_read --------------------------------------------------------------

def catalog_policy(**changes: object) -> DomainPolicy:
    policy, problems = parse_policy("catalog.yaml", CATALOG, POLICY_DOMAINS)
    assert policy is not None, problems
    return DomainPolicy(**{**policy.__dict__, **changes})


def violation(err: pytest.ExceptionInfo[InvalidArgument]) -> tuple[str, str]:
    (v,) = err.value.field_violations
    return v.field, v.description


def test_the_default_level_is_used_when_none_is_requested() -> None:
    plan = plan_read(catalog_policy(), None)
    assert plan.level is Consistency.EVENTUAL and plan.use_cache
    plan = plan_read(catalog_policy(default_consistency=Consistency.STRONG), None)
    assert plan.level is Consistency.STRONG and not plan.use_cache


def test_a_disallowed_level_names_the_allowed_ones() -> None:
    with pytest.raises(InvalidArgument) as err:
        plan_read(catalog_policy(), Consistency.READ_YOUR_WRITES)
    field, description = violation(err)
    assert field == "read_options.consistency"
    assert "'read_your_writes'" in description
    assert "allowed: strong, bounded_staleness, eventual" in description


def test_strong_never_uses_the_cache() -> None:
    plan = plan_read(catalog_policy(), Consistency.STRONG)
    assert (plan.level, plan.use_cache, plan.replica_allowed) == (
        Consistency.STRONG, False, False)


def test_read_your_writes_never_uses_the_cache() -> None:
    policy = catalog_policy(allowed_consistency=tuple(Consistency))
    assert not plan_read(policy, Consistency.READ_YOUR_WRITES).use_cache


def test_eventual_uses_the_cache_only_when_it_is_on() -> None:
    assert plan_read(catalog_policy(), Consistency.EVENTUAL).use_cache
    plan = plan_read(catalog_policy(cache=CACHE_OFF), Consistency.EVENTUAL)
    assert not plan.use_cache


def test_bounded_staleness_defaults_to_the_policy_bound() -> None:
    plan = plan_read(catalog_policy(), Consistency.BOUNDED_STALENESS)
    assert plan.use_cache and plan.max_cache_age_s == 5
    tighter = plan_read(catalog_policy(), Consistency.BOUNDED_STALENESS, 2)
    assert tighter.max_cache_age_s == 2
    assert plan_read(catalog_policy(), Consistency.BOUNDED_STALENESS, 5).max_cache_age_s == 5


@pytest.mark.parametrize(("level", "bound", "says"), [
    (Consistency.BOUNDED_STALENESS, 6, "at most the policy's 5s"),
    (Consistency.BOUNDED_STALENESS, 0, "greater than 0s"),
    (Consistency.BOUNDED_STALENESS, -1, "greater than 0s"),
    (Consistency.EVENTUAL, 1, "only meaningful with CONSISTENCY_LEVEL_BOUNDED_STALENESS"),
    (None, 1, "only meaningful with CONSISTENCY_LEVEL_BOUNDED_STALENESS"),
])
def test_bounded_staleness_bound_validation(
    level: Consistency | None, bound: float, says: str
) -> None:
    with pytest.raises(InvalidArgument) as err:
        plan_read(catalog_policy(), level, bound)
    field, description = violation(err)
    assert field == "read_options.max_staleness"
    assert says in description


@pytest.mark.parametrize(("level", "cache_on"), list(itertools.product(ALL_LEVELS, (True, False))))
def test_every_level_and_cache_setting(level: Consistency, cache_on: bool) -> None:
    policy = catalog_policy(allowed_consistency=ALL_LEVELS,
                            **({} if cache_on else {"cache": CACHE_OFF}))
    plan = plan_read(policy, level, shard=3)
    assert plan.domain == "catalog" and plan.level is level
    assert plan.shards == (3,) and not plan.scatter
    cacheable = level in (Consistency.EVENTUAL, Consistency.BOUNDED_STALENESS)
    assert plan.use_cache is (cacheable and cache_on)
    assert plan.replica_allowed is (level is not Consistency.STRONG)
    assert plan.max_cache_age_s == (5 if level is Consistency.BOUNDED_STALENESS else None)
    # An entry filled from a replica never outlives the staleness bound.
    assert plan.replica_fill_ttl_s == (5 if cacheable else 0)


def test_scatter_reads_every_primary_and_the_policy_can_forbid_it() -> None:
    plan = plan_scatter(catalog_policy(), 4)
    assert plan.scatter and plan.shards == (0, 1, 2, 3)
    assert not plan.replica_allowed and not plan.use_cache
    with pytest.raises(FailedPrecondition) as err:
        plan_scatter(catalog_policy(scatter_allowed=False), 4)
    assert err.value.reason == "SCATTER_FORBIDDEN"


# -- choose_replica ------------------------------------------------------------

FRESH = ReplicaView(healthy=True, replay_lsn=200, staleness_s=0.5)
BEHIND = ReplicaView(healthy=True, replay_lsn=100, staleness_s=8.0)
DOWN = ReplicaView(healthy=False, replay_lsn=300, staleness_s=0.0)
UNTRACKED = ReplicaView(healthy=True, replay_lsn=0, staleness_s=0.0)
STATES = {"fresh": FRESH, "behind": BEHIND, "down": DOWN, "untracked": UNTRACKED}


def _plan(level: Consistency) -> ReadPlan:
    return plan_read(catalog_policy(allowed_consistency=ALL_LEVELS), level)


def _expected(level: Consistency, replicas: list[ReplicaView], token: int | None) -> int | None:
    """The rule, written out: strong never; read_your_writes past the token
    (any with none); bounded within 5 s; eventual any; healthy, tracked ones
    only, the freshest winning."""
    if level is Consistency.STRONG:
        return None
    ok = [i for i, r in enumerate(replicas) if r.healthy and r.replay_lsn > 0
          and (level is not Consistency.READ_YOUR_WRITES or token is None
               or r.replay_lsn >= token)
          and (level is not Consistency.BOUNDED_STALENESS or r.staleness_s <= 5)]
    return max(ok, key=lambda i: replicas[i].replay_lsn) if ok else None


@pytest.mark.parametrize("level", ALL_LEVELS)
@pytest.mark.parametrize("names", [
    (), *((n,) for n in STATES), *itertools.combinations(STATES, 2), tuple(STATES)])
@pytest.mark.parametrize("token", [None, 50, 150, 250])
def test_choose_replica_every_level_and_replica_state(
    level: Consistency, names: tuple[str, ...], token: int | None
) -> None:
    replicas = [STATES[n] for n in names]
    assert choose_replica(_plan(level), replicas, token) == _expected(level, replicas, token)


def test_choose_replica_cases_named() -> None:
    both = [BEHIND, FRESH]
    assert choose_replica(_plan(Consistency.STRONG), both, None) is None
    assert choose_replica(_plan(Consistency.EVENTUAL), both, None) == 1  # the freshest
    assert choose_replica(_plan(Consistency.BOUNDED_STALENESS), [BEHIND], None) is None
    assert choose_replica(_plan(Consistency.READ_YOUR_WRITES), both, 150) == 1
    assert choose_replica(_plan(Consistency.READ_YOUR_WRITES), [BEHIND], 150) is None
    assert choose_replica(_plan(Consistency.EVENTUAL), [DOWN, UNTRACKED], None) is None
