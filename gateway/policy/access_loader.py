"""Reads and checks policies/access.yaml (format: docs/security.md).

Like the domain policies, every problem is reported at once with its key
path. A method pattern is "Service/Method" with `*` wildcards ("datagw.v1."
may be left out); one that matches no method is a problem, so a typo cannot
silently grant or deny nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

from gateway.policy.access import (
    DEFAULT_RULE,
    DEFAULT_SENSITIVE_RULE,
    AccessPolicy,
    CallerLimit,
    Effect,
    LimitRule,
    MethodEntry,
    Rule,
    Scope,
)
from gateway.yaml_fields import FieldReader, Problem

ACCESS_FILE = "access.yaml"
_PACKAGE = "datagw.v1."
_TOP_KEYS = ("default", "rules", "limits")
_RULE_KEYS = ("name", "callers", "allow", "deny", "where")
_LIMITS_KEYS = ("default", "callers")
_LIMIT_KEYS = ("concurrency", "rate", "burst")
_CALLER_LIMIT_KEYS = ("match", *_LIMIT_KEYS)
_RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}\Z")
# Principals are "<kind>:<name>" or "anonymous"; a caller pattern is a glob over them.
_CALLER_KINDS = ("mtls:", "jwt:", "local:", "anonymous", "*")


def _full(pattern: str) -> str:
    service = pattern.partition("/")[0]
    return pattern if "." in service or service == "*" else _PACKAGE + pattern


def _methods(
    c: FieldReader, key: str, raw: Any, effect: Effect, methods: Sequence[MethodEntry]
) -> frozenset[str]:
    names: set[str] = set()
    for i, pattern in enumerate(c.strings(key, raw, "method patterns such as "
                                          "CatalogService/GetProduct or AdminService/*",
                                          non_empty=True)):
        where = f"{key}[{i}]"
        if pattern != "*" and "/" not in pattern:
            c.problem(where, f"{pattern!r} is not Service/Method (use * for every method)")
            continue
        full = _full(pattern)
        wildcard = any(ch in pattern for ch in "*?[")
        found = [m for m in methods if fnmatchcase(m.name, full)]
        if not found:
            c.problem(where, f"{pattern!r} matches no method of datagw")
            continue
        # A wildcard never grants a sensitive method: a grant names it.
        names.update(m.name for m in found
                     if not (wildcard and effect is Effect.ALLOW and m.facts.sensitive))
    return frozenset(names)


def _where(
    c: FieldReader, key: str, raw: Any, covered: frozenset[str], methods: Sequence[MethodEntry]
) -> tuple[Scope, ...]:
    body = c.mapping(key, raw, tuple(sorted({f for m in methods for f in m.scope_fields})))
    scopes: list[Scope] = []
    by_name = {m.name: m for m in methods}
    for request_field, source in body.items():
        if not (source == "identity" or (isinstance(source, str) and source.startswith("claim:")
                                         and len(source) > len("claim:"))):
            c.problem(f"{key}.{request_field}",
                      f"{source!r} is not identity or claim:<name> (a claim of the token)")
            continue
        for name in sorted(covered):
            entry = by_name[name]
            if request_field not in entry.scope_fields or not entry.unary_request:
                c.problem(f"{key}.{request_field}",
                          f"{name} has no request field {request_field!r} to scope by; "
                          "move it to a rule without `where`")
        scopes.append(Scope(str(request_field), source))
    return tuple(scopes)


def _rule(
    c: FieldReader, key: str, raw: Any, methods: Sequence[MethodEntry], seen: set[str]
) -> Rule | None:
    body = c.mapping(key, raw, _RULE_KEYS)
    if not isinstance(raw, dict):
        return None
    name = body.get("name")
    if not isinstance(name, str) or not _RULE_NAME.match(name):
        c.problem(f"{key}.name", f"{name!r} is not a rule name (a-z 0-9 . _ -, at most 63)")
        name = None
    elif name in (DEFAULT_RULE, DEFAULT_SENSITIVE_RULE):
        c.problem(f"{key}.name", f"{name!r} names the decision no rule makes; choose another")
        name = None
    elif name in seen:
        c.problem(f"{key}.name", f"{name!r} is already the name of another rule")
    else:
        seen.add(name)
    callers = c.strings(f"{key}.callers", body.get("callers"),
                        "caller patterns such as mtls:spiffe://example.org/*, jwt:svc-*, "
                        "local:*", non_empty=True)
    for i, caller in enumerate(callers):
        if not caller.startswith(_CALLER_KINDS):
            c.problem(f"{key}.callers[{i}]",
                      f"{caller!r} names no identity kind: start it with mtls:, jwt:, local:, "
                      "or write anonymous or *")
    if ("allow" in body) == ("deny" in body):
        c.problem(key, "give exactly one of allow or deny (a list of methods)")
        return None
    effect = Effect.ALLOW if "allow" in body else Effect.DENY
    covered = _methods(c, f"{key}.{effect.value}", body[effect.value], effect, methods)
    where: tuple[Scope, ...] = ()
    if "where" in body:
        if effect is Effect.DENY:
            c.problem(f"{key}.where", "only an allow rule can be scoped")
        else:
            where = _where(c, f"{key}.where", body["where"], covered, methods)
    if name is None:
        return None
    return Rule(name, tuple(callers), effect, covered, where)


def _limit(c: FieldReader, key: str, body: dict[str, Any]) -> CallerLimit:
    concurrency = c.integer(f"{key}.concurrency", body.get("concurrency", 0), 0, 1_000_000)
    rate = body.get("rate", 0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 10**6:
        c.problem(f"{key}.rate", f"{rate!r} is not calls per second from 0 (no limit) to 1000000")
        rate = 0
    burst = c.integer(f"{key}.burst", body.get("burst", max(int(rate), 1) if rate else 0),
                      0, 10**7)
    if rate and burst < 1:
        c.problem(f"{key}.burst", "at least 1 when a rate is set")
    return CallerLimit(concurrency, float(rate), burst)


def _limits(c: FieldReader, raw: Any) -> tuple[CallerLimit, tuple[LimitRule, ...]]:
    body = c.mapping("limits", raw, _LIMITS_KEYS)
    default = _limit(c, "limits.default",
                     c.mapping("limits.default", body["default"], _LIMIT_KEYS)) \
        if "default" in body else CallerLimit()
    rules: list[LimitRule] = []
    entries = body.get("callers", [])
    if not isinstance(entries, list):
        c.problem("limits.callers", "expected a list of {match: [callers], concurrency, rate}")
        entries = []
    for i, entry in enumerate(entries):
        key = f"limits.callers[{i}]"
        fields = c.mapping(key, entry, _CALLER_LIMIT_KEYS)
        match = c.strings(f"{key}.match", fields.get("match"), "caller patterns",
                          non_empty=True)
        rules.append(LimitRule(tuple(match), _limit(c, key, fields)))
    return default, tuple(rules)


def parse_access(
    file: str, text: str, methods: Sequence[MethodEntry]
) -> tuple[AccessPolicy | None, list[Problem]]:
    """The access policy in `text`, and every problem found."""
    c = FieldReader(file)
    raw = c.parse(text)
    if c.problems:
        return None, c.problems
    if raw is None:
        raw = {}  # an empty file: the defaults
    body = c.mapping("", raw, _TOP_KEYS)
    default = c.choice("default", body.get("default", "allow"), ("allow", "deny"))
    rules_raw = body.get("rules", [])
    if not isinstance(rules_raw, list):
        c.problem("rules", "expected a list of rules (name, callers, allow or deny, where)")
        rules_raw = []
    seen: set[str] = set()
    rules = [_rule(c, f"rules[{i}]", r, methods, seen) for i, r in enumerate(rules_raw)]
    default_limit, limit_rules = _limits(c, body["limits"]) if "limits" in body \
        else (CallerLimit(), ())
    if c.problems:
        return None, c.problems
    return AccessPolicy(
        source_file=file,
        rules=tuple(r for r in rules if r is not None),
        default_allow=default == "allow",
        default_limit=default_limit,
        limit_rules=limit_rules,
    ), []
