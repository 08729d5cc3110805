"""The plan a read would get, in words, without running it (AdminService.ExplainCall).

The same deciders as a real call (policy/decisions.py, domain/reads.py) on
the same live state (replica health, replay and lag as last tracked), so
what it says is what the call would do now; like vtexplain, but for one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.domain import reads, tokens
from gateway.domain.commerce import rules
from gateway.domain.users.service import email_key, normalize_email
from gateway.errors import FieldViolation, InvalidArgument, Violations
from gateway.policy.decisions import ReadPlan, plan_read, plan_scatter
from gateway.policy.methods import ReadRoute, RouteKind
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Keyspace, Shard

# Per routing field: the check the read itself makes of it, and how its value
# becomes the shard key the domain hashes.
_SHARD_KEYS: dict[str, tuple[Callable[[Violations, str, str], None], Callable[[str], str]]] = {
    "user_id": (rules.check_user_id, str),
    "email": (lambda v, field, email: rules.check_email(v, field, normalize_email(email)),
              email_key),
}


@dataclass(frozen=True)
class PlannedRead:
    """A read the services table marks as planned: which policy domain plans
    it and how it is routed."""

    domain: str
    route: ReadRoute


@dataclass(frozen=True)
class ShardRoute:
    shard: int
    key_range: str
    node: str
    reason: str


@dataclass(frozen=True)
class Explanation:
    method: str
    keyspace: str
    plan: ReadPlan
    shards: list[ShardRoute]
    steps: list[str]


class Explainer:
    def __init__(self, policies: PolicyRegistry, keyspaces: Mapping[str, Keyspace],
                 reads_by_method: Mapping[str, PlannedRead]) -> None:
        self._policies = policies
        self._keyspaces = keyspaces
        self._reads = reads_by_method

    def explain(
        self, method: str, level: Consistency | None, max_staleness_s: float | None,
        token: str, fields: Mapping[str, str],
    ) -> Explanation:
        """`fields`: the request's string fields (the routing one among them)."""
        planned = self._reads.get(method)
        if planned is None:
            raise InvalidArgument([FieldViolation(
                "method", f"{method!r} is not a planned read; one of: "
                f"{', '.join(sorted(self._reads))}")])
        policy = self._policies.get(planned.domain)
        assert policy.keyspace is not None  # planned reads are postgres domains
        keyspace = self._keyspaces[policy.keyspace]
        steps: list[str] = []
        if planned.route.kind is RouteKind.SCATTER:
            plan = plan_scatter(policy, len(keyspace.shards))
            steps.append(f"scatter: every shard of {keyspace.name} in parallel, merged; "
                         f"the {policy.domain} policy allows it")
        else:
            shard = self._route(planned.route, keyspace, fields, steps)
            plan = plan_read(policy, level, max_staleness_s, shard)
        steps.insert(0, _level_step(plan, level, policy.default_consistency))
        steps.insert(1, _cache_step(plan, policy.cache.enabled))
        routes = [self._node(plan, keyspace.shards[i], keyspace.ranges_text(i), token)
                  for i in plan.shards]
        steps += [f"shard {r.shard}: {r.node} ({r.reason})" for r in routes]
        return Explanation(method, keyspace.name, plan, routes, steps)

    @staticmethod
    def _route(route: ReadRoute, keyspace: Keyspace, fields: Mapping[str, str],
               steps: list[str]) -> int:
        if route.kind is RouteKind.UNSHARDED:
            steps.append(f"unsharded: {keyspace.name} has one shard")
            return 0
        value = fields.get(route.field, "")
        v = Violations()
        if route.kind is RouteKind.ID:
            ksid = rules.id_keyspace_id(v, f"request.{route.field}", route.id_kind, value)
            v.raise_if_any()
            how = f"{route.field} carries keyspace id {ksid:016x}"
        else:
            check, shard_key = _SHARD_KEYS[route.field]
            check(v, f"request.{route.field}", value)
            v.raise_if_any()
            ksid = keyspace_id(shard_key(value))
            how = f"{route.field} {value!r} hashes to keyspace id {ksid:016x}"
        shard = keyspace.shard_for(ksid)
        steps.append(f"{how}, in shard {shard.index}'s ranges {keyspace.ranges_text(shard.index)} "
                     f"(range map version {keyspace.map.version})")
        return shard.index

    @staticmethod
    def _node(plan: ReadPlan, shard: Shard, ranges: str, token: str) -> ShardRoute:
        """The node the read would use now (reads.node_for, as the call
        itself picks it) and why."""
        position = tokens.position_for(token, shard.keyspace, shard.index)
        node = reads.node_for(plan, shard, position)
        if node.is_replica:
            why = f"replayed to {node.replay_lsn}, {node.staleness_s:.1f}s behind"
            return ShardRoute(shard.index, ranges, node.role, why)
        if not plan.replica_allowed:
            why = f"{plan.level.value} reads only the primary"
        elif not shard.replicas:
            why = "no replica configured"
        elif plan.level is Consistency.READ_YOUR_WRITES and position is not None:
            why = f"no healthy replica has replayed the token's position {position.lsn}"
        elif plan.level is Consistency.BOUNDED_STALENESS:
            why = f"no healthy replica within {plan.max_cache_age_s:g}s"
        else:
            why = "no healthy replica"
        return ShardRoute(shard.index, ranges, "primary", why)


def _level_step(plan: ReadPlan, requested: Consistency | None, default: Consistency) -> str:
    if requested is None:
        return f"level: {plan.level.value} (the {plan.domain} policy's default)"
    if plan.scatter:
        return f"level: {plan.level.value} (a merged page across shards reads every primary)"
    return f"level: {plan.level.value} (requested; the default is {default.value})"


def _cache_step(plan: ReadPlan, cache_on: bool) -> str:
    if plan.use_cache:
        age = ("any live entry" if plan.max_cache_age_s is None
               else f"entries at most {plan.max_cache_age_s:g}s old")
        return f"cache: may answer ({age}); a miss reads the node below"
    if not cache_on:
        return f"cache: off in the {plan.domain} policy"
    return f"cache: not used ({plan.level.value} must see the latest write)"
