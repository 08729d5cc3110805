"""The verification's pure parts: ranges joined for comparison, the sampled
cursor window, and what makes a report clean."""

from __future__ import annotations

import random

from gateway.domain.verify.context import Ages, Run, Stores
from gateway.domain.verify.events_check import _window
from gateway.domain.verify.range_maps_check import joined
from gateway.records.verify import ERROR, INFO, WARNING, CheckResult, Finding, VerifyReport
from gateway.storage.postgres.keyspace_id import KeyRange


def _run(fraction: float) -> Run:
    stores = Stores(None, None, None, (), None)  # type: ignore[arg-type]
    return Run(stores, Ages(), fraction, "seed", random.Random(7))


def test_adjacent_ranges_join_and_gaps_stay() -> None:
    parts = [KeyRange.parse("40-80"), KeyRange.parse("-40"), KeyRange.parse("c0-")]
    assert [str(r) for r in joined(parts)] == ["-80", "c0-"]
    assert joined([]) == []


def test_an_exhaustive_window_is_everything_a_sample_a_part_inside_it() -> None:
    assert _window(_run(1.0), 10, 1009) == (10, 1009)
    for _ in range(50):
        lo, hi = _window(_run(0.1), 10, 1009)
        assert 10 <= lo <= hi <= 1009
        assert hi - lo + 1 == 100
    assert _window(_run(0.001), 5, 5) == (5, 5)


def _finding(severity: str) -> Finding:
    return Finding("inventory", "k", severity, "inventory", 0, "stock", "sku a", "1", "2")


def test_clean_means_no_error_or_warning_and_every_part_checked() -> None:
    def report(*results: CheckResult) -> VerifyReport:
        return VerifyReport(None, results, 0.1)

    assert report(CheckResult("inventory", {"skus": 3})).clean
    assert report(CheckResult("inventory", findings=[_finding(INFO)])).clean
    assert not report(CheckResult("inventory", findings=[_finding(WARNING)])).clean
    assert not report(CheckResult("inventory", findings=[_finding(ERROR)])).clean
    assert not report(CheckResult("inventory", errors=["inventory shard 0: down"])).clean
