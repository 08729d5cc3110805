"""The policies in force, swapped atomically on a successful reload."""

from __future__ import annotations

from pathlib import Path

from gateway.policy.access import AccessPolicy
from gateway.policy.loader import PolicyError, PolicyProblem, load_policies
from gateway.policy.model import DomainPolicy, PolicyCatalog, PolicySet


class PolicyRegistry:
    def __init__(self, directory: Path, catalog: PolicyCatalog) -> None:
        """`catalog`: every domain the running services follow (each needing
        its file; no other is accepted) and every method access rules may name."""
        self._directory = directory
        self._catalog = catalog
        self._current: PolicySet = load_policies(directory, catalog)
        self.generation = 1

    @property
    def current(self) -> PolicySet:
        return self._current

    def get(self, domain: str) -> DomainPolicy:
        return self._current.get(domain)

    @property
    def access(self) -> AccessPolicy:
        return self._current.access

    def reload(self) -> PolicySet:
        """Validate the directory first; PolicyError keeps the old set in force."""
        fresh = load_policies(self._directory, self._catalog)
        # Connections and stores are wired at start: accepting a move would
        # show a policy that the running gateway does not follow.
        problems = [
            PolicyProblem(new.source_file, key,
                          f"{was!r} -> {now!r} takes a restart; {was!r} stays in force")
            for name, new in fresh.domains.items()
            if (old := self._current.domains.get(name)) is not None
            for key, was, now in (("store", old.store.value, new.store.value),
                                  ("keyspace", old.keyspace, new.keyspace))
            if was != now
        ]
        if problems:
            raise PolicyError(problems)
        self._current = fresh
        self.generation += 1
        return fresh
