"""Telling a restore (back in time) from a failover (forward) by the WAL."""

from __future__ import annotations

from gateway.domain.rewind.detect import went_back
from gateway.records.rewind import WalPosition

SEEN = WalPosition("7001", 2, 5000)


def test_ahead_on_the_same_timeline_is_not_behind() -> None:
    assert went_back(SEEN, WalPosition("7001", 2, 5000), None) is None
    assert went_back(SEEN, WalPosition("7001", 2, 9000), None) is None


def test_behind_on_the_same_timeline() -> None:
    why = went_back(SEEN, WalPosition("7001", 2, 4000), None)
    assert why is not None and "behind" in why


def test_a_restore_leaves_the_old_timeline_before_what_was_seen() -> None:
    # PITR: timeline 3 branched from timeline 2 at 4500, before 5000 seen.
    why = went_back(SEEN, WalPosition("7001", 3, 9999), {1: 100, 2: 4500})
    assert why is not None and "earlier point" in why


def test_a_failover_leaves_it_at_or_after_what_was_seen() -> None:
    assert went_back(SEEN, WalPosition("7001", 3, 5100), {1: 100, 2: 5000}) is None
    assert went_back(SEEN, WalPosition("7001", 4, 5100), {1: 100, 2: 6000, 3: 7000}) is None


def test_another_history_or_an_older_timeline_or_another_cluster() -> None:
    assert "not an ancestor" in (went_back(SEEN, WalPosition("7001", 3, 9000), {1: 100}) or "")
    assert "older" in (went_back(SEEN, WalPosition("7001", 1, 9000), {}) or "")
    assert "system identifier" in (went_back(SEEN, WalPosition("8002", 2, 9000), None) or "")


def test_without_a_readable_history_the_position_decides() -> None:
    assert went_back(SEEN, WalPosition("7001", 3, 4000), None) is not None
    assert went_back(SEEN, WalPosition("7001", 3, 6000), None) is None
