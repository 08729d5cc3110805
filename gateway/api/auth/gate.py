"""The access gate every call passes: identify, authorize, count against limits.

Decisions are cached per (caller, method) until the access policy changes
(ReloadPolicies), so a call pays for a dictionary lookup, not for walking
the rules; a scoped grant (`where`) is still checked against each request.
Every denial is logged with the caller, the method and the rule; a grant is
logged once per caller, method and policy.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.api.auth.identity import Authenticator, Identity
from gateway.api.auth.limits import CallerLimiter
from gateway.api.auth.settings import AuthSettings
from gateway.errors import PermissionDenied, Unauthenticated
from gateway.policy.access import DEFAULT_SENSITIVE_RULE, AccessPolicy, Decision, MethodEntry
from gateway.telemetry import AUTHN_FAILURES, AUTHZ_DECISIONS

log = logging.getLogger(__name__)

MAX_CACHED_DECISIONS = 100_000


@functools.cache
def _decision_counter(allowed: bool, rule: str) -> Any:
    return AUTHZ_DECISIONS.labels("allow" if allowed else "deny", rule)


@dataclass(frozen=True)
class Admitted:
    identity: Identity
    # True: the caller's limiter holds a slot that `leave` gives back.
    holds_slot: bool


class AccessGate:
    def __init__(
        self, settings: AuthSettings, methods: Sequence[MethodEntry],
        policy: Callable[[], AccessPolicy],
    ) -> None:
        self.authenticator = Authenticator(settings)
        # By the method path gRPC hands the interceptor: "/pkg.Service/Method".
        self._methods: Mapping[str, MethodEntry] = {f"/{m.name}": m for m in methods}
        self._policy = policy
        self._decided_with: AccessPolicy | None = None
        self._decisions: dict[tuple[str, str], Decision] = {}
        self.limiter = CallerLimiter()

    def start(self) -> None:
        if self.authenticator.tokens is not None:
            self.authenticator.tokens.start()

    async def stop(self) -> None:
        if self.authenticator.tokens is not None:
            await self.authenticator.tokens.stop()

    def enter(
        self, method: str, context: Any, metadata: Sequence[tuple[str, Any]], request: Any
    ) -> Admitted:
        """Identify the caller of `method` and let it in, or raise
        UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED."""
        try:
            identity = self.authenticator.identify(context, metadata)
        except Unauthenticated as exc:
            AUTHN_FAILURES.labels(exc.reason).inc()
            log.warning("unauthenticated call to %s from %s: %s (%s)", method, context.peer(),
                        exc.reason, exc.message)
            raise
        entry = self._methods.get(method)
        if entry is None:  # not a datagw method: gRPC answers UNIMPLEMENTED
            return Admitted(identity, False)
        policy = self._policy()
        decision = self._decide(policy, identity.principal, entry)
        if not decision.allowed:
            raise self._denied(identity, entry, decision.rule)
        for scope in decision.where:
            want = identity.claims.get(scope.claim) if scope.claim is not None \
                else identity.name
            got = getattr(request, scope.field, None)
            if want is None or got != want:
                _decision_counter(False, decision.rule).inc()
                log.warning("denied %s to %s: request %s outside the caller's scope "
                            "(rule %s)", entry.name, identity.principal, scope.field,
                            decision.rule)
                raise PermissionDenied(
                    f"{identity.principal} may call {entry.name} only with {scope.field} "
                    f"equal to its {scope.source} (rule {decision.rule!r})",
                    reason="OUT_OF_SCOPE",
                    metadata={"rule": decision.rule, "method": entry.name,
                              "caller": identity.principal, "field": scope.field})
        _decision_counter(True, decision.rule).inc()
        holds = self.limiter.acquire(identity.principal, policy.limit_for(identity.principal))
        return Admitted(identity, holds)

    def leave(self, admitted: Admitted) -> None:
        if admitted.holds_slot:
            self.limiter.release(admitted.identity.principal)

    def _decide(self, policy: AccessPolicy, principal: str, entry: MethodEntry) -> Decision:
        if policy is not self._decided_with:
            self._decisions = {}
            self._decided_with = policy
        key = (principal, entry.name)
        decision = self._decisions.get(key)
        if decision is None:
            decision = policy.decide(principal, entry.name, entry.facts)
            if len(self._decisions) >= MAX_CACHED_DECISIONS:
                self._decisions = {}
            self._decisions[key] = decision
            if decision.allowed:
                log.info("granted %s to %s (rule %s, %s)", entry.name, principal,
                         decision.rule, policy.source_file)
        return decision

    @staticmethod
    def _denied(identity: Identity, entry: MethodEntry, rule: str) -> PermissionDenied:
        _decision_counter(False, rule).inc()
        log.warning("denied %s to %s (rule %s)", entry.name, identity.principal, rule)
        why = ("a sensitive method, granted to no rule matching the caller"
               if rule == DEFAULT_SENSITIVE_RULE else f"rule {rule!r}")
        return PermissionDenied(
            f"{identity.principal} may not call {entry.name}: {why}",
            reason="ACCESS_DENIED",
            metadata={"rule": rule, "method": entry.name, "caller": identity.principal})
