"""policies/access.yaml: what the loader refuses, and what a policy decides."""

from __future__ import annotations

import pytest

from gateway.policy.access import DEFAULT_RULE, DEFAULT_SENSITIVE_RULE, AccessPolicy
from gateway.policy.access_loader import parse_access
from gateway.runtime.services import POLICY_CATALOG
from tests.policy_fixtures import POLICIES

METHODS = POLICY_CATALOG.methods
FACTS = {m.name: m.facts for m in METHODS}


def load(text: str) -> AccessPolicy:
    policy, problems = parse_access("access.yaml", text, METHODS)
    assert problems == [] and policy is not None
    return policy


def problems(text: str) -> list[str]:
    policy, found = parse_access("access.yaml", text, METHODS)
    assert policy is None
    return [f"{p.key}: {p.message}" for p in found]


def decide(policy: AccessPolicy, principal: str, method: str) -> tuple[bool, str]:
    d = policy.decide(principal, f"datagw.v1.{method}", FACTS[f"datagw.v1.{method}"])
    return d.allowed, d.rule


def test_the_shipped_policy_grants_local_callers_every_sensitive_method() -> None:
    policy = load((POLICIES / "access.yaml").read_text())
    for m in METHODS:
        assert policy.decide("local:unix", m.name, m.facts).allowed, m.name
        if m.facts.sensitive:
            assert policy.decide("jwt:svc", m.name, m.facts).rule == DEFAULT_SENSITIVE_RULE


def test_without_rules_sensitive_methods_are_denied_and_the_rest_follow_the_default() -> None:
    assert decide(AccessPolicy(), "jwt:a", "AdminService/GetTopology") == (
        False, DEFAULT_SENSITIVE_RULE)
    assert decide(AccessPolicy(), "jwt:a", "CatalogService/GetProduct") == (True, DEFAULT_RULE)
    assert decide(load("default: deny"), "jwt:a", "CatalogService/GetProduct") == (
        False, DEFAULT_RULE)


def test_the_first_matching_rule_decides_and_wildcards_never_grant_sensitive_methods() -> None:
    policy = load("""
rules:
  - {name: no-web-admin, callers: ["jwt:web-*"], deny: ["AdminService/*"]}
  - {name: everything, callers: ["*"], allow: ["*"]}
  - {name: ops, callers: ["jwt:*"], allow: [AdminService/FlushCache]}
""")
    assert decide(policy, "jwt:web-1", "AdminService/FlushCache") == (False, "no-web-admin")
    # "*" covers GetProduct for everyone, but FlushCache only by its name (rule ops).
    assert decide(policy, "jwt:ops-1", "CatalogService/GetProduct") == (True, "everything")
    assert decide(policy, "jwt:ops-1", "AdminService/FlushCache") == (True, "ops")
    assert decide(policy, "mtls:x", "AdminService/FlushCache") == (False,
                                                                   DEFAULT_SENSITIVE_RULE)


def test_scopes_and_limits_are_read() -> None:
    policy = load("""
rules:
  - name: own
    callers: ["jwt:*"]
    allow: [UserService/GetUser]
    where: {user_id: "claim:uid"}
limits:
  default: {concurrency: 10}
  callers:
    - {match: ["jwt:batch-*"], rate: 5, burst: 10}
""")
    decision = policy.decide("jwt:a", "datagw.v1.UserService/GetUser",
                             FACTS["datagw.v1.UserService/GetUser"])
    assert [(s.field, s.claim) for s in decision.where] == [("user_id", "uid")]
    assert policy.limit_for("jwt:a").concurrency == 10
    assert (policy.limit_for("jwt:batch-1").rate, policy.limit_for("jwt:batch-1").burst) == (
        5.0, 10)


@pytest.mark.parametrize(("text", "expected"), [
    ("rules: [{name: a, callers: ['*'], allow: [CatalogService/GetProdct]}]",
     "rules[0].allow[0]: 'CatalogService/GetProdct' matches no method of datagw"),
    ("rules: [{name: a, callers: ['*'], allow: [GetProduct]}]",
     "rules[0].allow[0]: 'GetProduct' is not Service/Method (use * for every method)"),
    ("rules: [{name: a, callers: ['*'], allow: ['*'], deny: ['*']}]",
     "rules[0]: give exactly one of allow or deny (a list of methods)"),
    ("rules: [{name: a, callers: ['*'], allow: ['*']}, {name: a, callers: ['*'], deny: ['*']}]",
     "rules[1].name: 'a' is already the name of another rule"),
    ("rules: [{name: a, callers: ['svc-web'], allow: ['*']}]",
     "rules[0].callers[0]: 'svc-web' names no identity kind: start it with mtls:, jwt:, "
     "local:, or write anonymous or *"),
    ("rules: [{name: a, callers: ['*'], allow: [OrderService/GetOrder], "
     "where: {user_id: 'claim:uid'}}]",
     "rules[0].where.user_id: datagw.v1.OrderService/GetOrder has no request field 'user_id' "
     "to scope by; move it to a rule without `where`"),
    ("rules: [{name: a, callers: ['*'], allow: [UserService/GetUser], "
     "where: {user_id: 'uid'}}]",
     "rules[0].where.user_id: 'uid' is not identity or claim:<name> (a claim of the token)"),
    ("limits: {default: {rate: -1}}",
     "limits.default.rate: -1 is not calls per second from 0 (no limit) to 1000000"),
    ("default: maybe", "default: 'maybe' is not one of: allow, deny"),
    ("rules: [{name: default-sensitive, callers: ['*'], allow: ['*']}]",
     "rules[0].name: 'default-sensitive' names the decision no rule makes; choose another"),
])
def test_problems_are_named_by_their_key(text: str, expected: str) -> None:
    assert expected in problems(text)
