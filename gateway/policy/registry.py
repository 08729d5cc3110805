"""The policies in force, swapped atomically on a successful reload."""

from __future__ import annotations

from pathlib import Path

from gateway.policy.loader import load_policies
from gateway.policy.model import DomainPolicy, PolicySet

# The domains the running services read their settings from.
REQUIRED_DOMAINS = ("catalog", "sessions")


class PolicyRegistry:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._current: PolicySet = load_policies(directory, REQUIRED_DOMAINS)
        self.generation = 1

    @property
    def current(self) -> PolicySet:
        return self._current

    def get(self, domain: str) -> DomainPolicy:
        return self._current.get(domain)

    def reload(self) -> PolicySet:
        """Validate the directory first; PolicyError keeps the old set in force."""
        fresh = load_policies(self._directory, REQUIRED_DOMAINS)
        self._current = fresh
        self.generation += 1
        return fresh
