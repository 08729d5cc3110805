"""Operator operations: topology, policies, reload and cache flushes."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain.analytics.relay import Relay, ShardProgress
from gateway.domain.backups import BackupMonitor
from gateway.domain.orders.service import OrdersDomain
from gateway.domain.projections.runner import ProjectionRunner, ProjectionStatus
from gateway.domain.resharding.workflow import Resharding
from gateway.errors import (
    DatagwError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
    Violations,
)
from gateway.policy.loader import PolicyError
from gateway.policy.model import PolicySet
from gateway.policy.registry import PolicyRegistry
from gateway.records.backup import BackupStatus
from gateway.records.commerce import SagaRecord
from gateway.records.resharding import FINISHED, Workflow
from gateway.storage.redis.cache import Cache
from gateway.storage.topology import Backends, BackendStatus

# ListStuckSagas looks back at most this far; further would take the cut-off
# below the earliest time PostgreSQL can hold.
MAX_OLDER_THAN_S = 100 * 365 * 86_400


@dataclass(frozen=True)
class KeyspaceMap:
    """A sharded keyspace's range map as the gateway routes by it now."""

    keyspace: str
    version: int
    # (range as text, e.g. "40-80", serving shard), in keyspace id order.
    entries: tuple[tuple[str, int], ...]
    # The keyspace's unfinished resharding workflow (at most one at a time).
    active: Workflow | None
    # Why `active` could not be read; "" when it was.
    active_error: str


@dataclass(frozen=True)
class Topology:
    backends: list[BackendStatus]
    embedded: bool
    maps: list[KeyspaceMap]
    # Per (keyspace, shard index) of each PostgreSQL primary.
    backups: dict[tuple[str, int], BackupStatus]


class AdminDomain:
    def __init__(
        self, policies: PolicyRegistry, backends: Backends, caches: dict[str, Cache],
        orders: OrdersDomain, resharding: Resharding, backups: BackupMonitor,
        relay: Relay | None = None, projections: ProjectionRunner | None = None,
    ) -> None:
        self._policies = policies
        self._backends = backends
        self._caches = caches
        self.orders = orders
        self.sagas = orders.sagas
        self._relay = relay
        self._projections = projections
        self._resharding = resharding
        self._backups = backups

    async def topology(self) -> Topology:
        maps = []
        for ks in self._backends.keyspaces.values():
            if not ks.sharded:
                continue
            active, error = await self._active_workflow(ks.name)
            maps.append(KeyspaceMap(
                ks.name, ks.map.version, tuple((str(rng), shard) for rng, shard in ks.map.entries),
                active, error))
        return Topology(self._backends.statuses(), self._backends.embedded, maps,
                        await self._backups.statuses())

    async def _active_workflow(self, keyspace: str) -> tuple[Workflow | None, str]:
        """The keyspace's unfinished workflow, or why it could not be read.

        The topology is what an operator looks at when backends are down, so
        an unreachable control table (the catalog primary) is reported
        beside the rest rather than failing the whole call."""
        try:
            found = await self._resharding.workflows(keyspace)
        except DatagwError as exc:
            return None, exc.message
        # Newest first, and a keyspace admits one unfinished workflow at a
        # time: only the newest can be unfinished.
        return (found[0] if found and found[0].phase not in FINISHED else None), ""

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

    async def stuck_sagas(self, older_than_s: float, limit: int
                          ) -> tuple[list[SagaRecord], list[int]]:
        v = Violations()
        if not 0 <= older_than_s <= MAX_OLDER_THAN_S:
            v.add("older_than", "must not be negative nor more than 100 years")
        # limit (0-1000): ListStuckSagasRequest's rules in proto/.
        v.raise_if_any()
        return await self.sagas.stuck(older_than_s, limit or 100)

    async def relay_status(self) -> tuple[list[ShardProgress], str, int]:
        """Per source shard, then the target's kind and the events relayed
        since start."""
        if self._relay is None:
            raise FailedPrecondition(
                "no analytics store is configured, so nothing is relayed",
                reason="RELAY_NOT_CONFIGURED")
        return await self._relay.progress(), self._relay.store.kind, self._relay.events_relayed

    def _runner(self) -> ProjectionRunner:
        if self._projections is None:
            raise FailedPrecondition("this gateway runs no projections",
                                     reason="PROJECTIONS_NOT_RUNNING")
        return self._projections

    async def projections(self) -> list[ProjectionStatus]:
        return await self._runner().statuses()

    async def rebuild_projection(self, name: str) -> tuple[ProjectionStatus, int]:
        """Rebuild from the first event and swap; waits for the swap. The name
        is required: RebuildProjectionRequest's rules in proto/."""
        return await self._runner().rebuild(name)
