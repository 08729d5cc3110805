"""Who may call what: the access policy (policies/access.yaml) and its decisions.

A caller is named by its principal, "<kind>:<name>" (for example
"mtls:spiffe://shop.example/ns/shop/sa/orders", "jwt:svc-web", "local:unix",
or "anonymous"). Rules are tried in file order; the first whose callers match
the principal and whose methods include the method decides. No rule: a
sensitive method is denied ("default-sensitive"); any other method gets the
policy's default. A wildcard never grants a sensitive method: those are
granted by their full name only, so a new sensitive method is never opened
by an old `Service/*` rule.

A rule may scope its grant to the caller's own data: `where: {user_id:
claim:sub}` lets the call through only when the request's user_id equals the
caller's `sub` claim. Nothing here performs I/O or knows gRPC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from gateway.policy.methods import MethodFacts

DEFAULT_RULE = "default"
DEFAULT_SENSITIVE_RULE = "default-sensitive"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class MethodEntry:
    """One RPC as the access policy sees it."""

    # "datagw.v1.CatalogService/GetProduct"
    name: str
    facts: MethodFacts
    # Top-level string fields of the request: what a `where` scope may compare.
    scope_fields: frozenset[str]
    # A client stream has no one request to scope.
    unary_request: bool = True


class Effect(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Scope:
    """A request field that must equal a value of the caller's identity."""

    field: str
    # "claim:<name>" (a claim of the caller's token) or "identity" (its name).
    source: str

    @property
    def claim(self) -> str | None:
        return self.source.partition(":")[2] if self.source.startswith("claim:") else None


@dataclass(frozen=True)
class Rule:
    name: str
    callers: tuple[str, ...]
    effect: Effect
    # The full method names the rule covers, wildcards already expanded.
    methods: frozenset[str]
    where: tuple[Scope, ...] = ()

    def matches(self, principal: str, method: str) -> bool:
        return method in self.methods and any(fnmatchcase(principal, p) for p in self.callers)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    # The rule that decided: a rule's name, DEFAULT_RULE or DEFAULT_SENSITIVE_RULE.
    rule: str
    # Checked against each request (only on an allowing rule).
    where: tuple[Scope, ...] = ()


@dataclass(frozen=True)
class CallerLimit:
    """How much one caller may use; 0 means no limit."""

    concurrency: int = 0
    # Calls per second, refilled continuously, with bursts of up to `burst`.
    rate: float = 0.0
    burst: int = 0


@dataclass(frozen=True)
class LimitRule:
    callers: tuple[str, ...]
    limit: CallerLimit


@dataclass(frozen=True)
class AccessPolicy:
    source_file: str = "(none: every sensitive method is denied)"
    rules: tuple[Rule, ...] = ()
    # What a non-sensitive method no rule names gets.
    default_allow: bool = True
    default_limit: CallerLimit = CallerLimit()
    limit_rules: tuple[LimitRule, ...] = field(default=())

    def decide(self, principal: str, method: str, facts: MethodFacts) -> Decision:
        for rule in self.rules:
            if rule.matches(principal, method):
                return Decision(rule.effect is Effect.ALLOW, rule.name,
                                rule.where if rule.effect is Effect.ALLOW else ())
        if facts.sensitive:
            return Decision(False, DEFAULT_SENSITIVE_RULE)
        return Decision(self.default_allow, DEFAULT_RULE)

    def limit_for(self, principal: str) -> CallerLimit:
        for rule in self.limit_rules:
            if any(fnmatchcase(principal, p) for p in rule.callers):
                return rule.limit
        return self.default_limit
