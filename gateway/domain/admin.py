"""Operator operations: topology, policies, reload and cache flushes."""

from __future__ import annotations

from gateway.errors import (
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
)
from gateway.policy.loader import PolicyError
from gateway.policy.model import PolicySet
from gateway.policy.registry import PolicyRegistry
from gateway.storage.redis.cache import Cache
from gateway.storage.topology import Backends, BackendStatus


class AdminDomain:
    def __init__(
        self, policies: PolicyRegistry, backends: Backends, caches: dict[str, Cache]
    ) -> None:
        self._policies = policies
        self._backends = backends
        self._caches = caches

    def topology(self) -> tuple[list[BackendStatus], bool]:
        return self._backends.statuses(), self._backends.embedded

    def policies(self) -> tuple[PolicySet, int]:
        return self._policies.current, self._policies.generation

    def reload(self) -> tuple[PolicySet, int]:
        try:
            fresh = self._policies.reload()
        except PolicyError as exc:
            raise FailedPrecondition(
                f"policies not reloaded, the old ones stay in force: {len(exc.problems)} "
                f"problem(s), first: {exc.problems[0]}",
                reason="INVALID_POLICY",
                metadata={"directory": self._policies.current.directory},
                precondition_violations=tuple(
                    PreconditionViolation("POLICY", f"{p.file}:{p.key}", p.message)
                    for p in exc.problems
                ),
            ) from exc
        return fresh, self._policies.generation

    async def flush_cache(self, domain: str) -> int:
        cache = self._caches.get(domain)
        if cache is None:
            known = ", ".join(sorted(self._caches)) or "none"
            raise InvalidArgument([
                FieldViolation("domain", f"{domain!r} has no cache; domains with one: {known}")
            ])
        return await cache.flush()
