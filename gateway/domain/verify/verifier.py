"""The verification run: the chosen checks, a report, the findings gauge,
and (optionally) a sampled run every `interval`."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace

from gateway.domain.verify import (
    events_check,
    housekeeping_check,
    inventory_check,
    projections_check,
    range_maps_check,
)
from gateway.domain.verify.context import Ages, Run, Stores
from gateway.errors import Violations
from gateway.policy.registry import PolicyRegistry
from gateway.records.verify import (
    CHECKS,
    ERROR,
    EVENTS_VS_ANALYTICS,
    HOUSEKEEPING,
    INVENTORY,
    PROJECTIONS,
    RANGE_MAPS,
    WARNING,
    CheckResult,
    VerifyReport,
)
from gateway.tasks import stop_tasks
from gateway.telemetry import VERIFY_FINDINGS

log = logging.getLogger(__name__)

_RUNNERS: dict[str, Callable[[Run], Awaitable[CheckResult]]] = {
    EVENTS_VS_ANALYTICS: events_check.check,
    PROJECTIONS: projections_check.check,
    INVENTORY: inventory_check.check,
    HOUSEKEEPING: housekeeping_check.check,
    RANGE_MAPS: range_maps_check.check,
}


@dataclass(frozen=True)
class VerifySettings:
    # A sampled run this often in the background; None: never (on demand only).
    interval_s: float | None = None
    # The fraction the background run samples.
    sample: float = 0.05
    ages: Ages = field(default_factory=Ages)


class Verifier:
    def __init__(self, policies: PolicyRegistry, stores: Stores, settings: VerifySettings
                 ) -> None:
        self._policies = policies
        self._stores = stores
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        # One run at a time per gateway: callers queue rather than multiply
        # the load a verification puts on the stores.
        self._one_at_a_time = asyncio.Lock()

    async def run(self, sample: float | None = None, checks: Collection[str] | None = None
                  ) -> VerifyReport:
        """Run `checks` (None or empty: all), over a `sample` fraction of keys
        and cursor ranges (None: exhaustively). Checks run one after another
        and each shard in turn: a verification must not crowd out the
        traffic it verifies."""
        v = Violations()
        if sample is not None and not 0.0 < sample <= 1.0:
            v.add("sample", "must be above 0 and at most 1 (a fraction of keys and ranges)")
        unknown = sorted(set(checks or ()) - set(CHECKS))
        if unknown:
            v.add("checks", f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECKS)}")
        v.raise_if_any()
        chosen = [c for c in CHECKS if not checks or c in checks]
        seed = secrets.token_hex(8)
        run = Run(self._stores, self._ages(), 1.0 if sample is None else sample, seed,
                  random.Random(seed))
        async with self._one_at_a_time:
            started = time.monotonic()
            results = [await _RUNNERS[c](run) for c in chosen]
        report = VerifyReport(sample, tuple(results), time.monotonic() - started)
        for r in results:
            VERIFY_FINDINGS.labels(r.check).set(
                sum(f.severity in (ERROR, WARNING) for f in r.findings))
        return report

    def _ages(self) -> Ages:
        """The retention the policies hold tables to now (a reload applies to
        the next run)."""
        by_keyspace = {}
        for domain in ("orders", "inventory", "catalog"):
            policy = self._policies.get(domain)
            if policy.keyspace:
                by_keyspace[policy.keyspace] = policy.retention_s("idempotency_keys")
        return replace(self.settings.ages, idempotency_keys_s=by_keyspace,
                       finished_sagas_s=self._policies.get("orders").retention_s(
                           "finished_sagas"))

    def start(self) -> None:
        if self.settings.interval_s:
            self._task = asyncio.create_task(self._every(self.settings.interval_s),
                                             name="verify")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="verify")

    async def _every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                report = await self.run(self.settings.sample)
            except Exception:
                log.exception("the periodic verification failed")
                continue
            if not report.clean:
                log.warning("the periodic verification (sample %g) found %d finding(s) and %d "
                            "error(s); run `datagw verify` for the report",
                            self.settings.sample, len(report.findings),
                            sum(len(r.errors) for r in report.results))
