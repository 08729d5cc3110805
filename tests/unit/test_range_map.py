"""The range map: moving a range cuts and joins entries; it round-trips as stored."""

from __future__ import annotations

import pytest

from gateway.storage.postgres.keyspace_id import KeyRange, RangeError, even_ranges
from gateway.storage.postgres.range_map import KEEP_HANDOFFS, Handoff, RangeMap


def _map(text: str, version: int = 1) -> RangeMap:
    return RangeMap.of(version, [KeyRange.parse(r) for r in text.split()])


def test_a_split_cuts_the_entry_around_the_moved_range() -> None:
    moved = _map("-80 80-").moved(KeyRange.parse("40-80"), 2)
    assert moved.version == 2
    assert moved.describe() == "-40->0, 40-80->2, 80-->1"
    assert moved.ranges_of(0) == [KeyRange.parse("-40")]
    assert moved.shard_for(0x4000_0000_0000_0000) == 2
    assert moved.shard_for(0x3FFF_FFFF_FFFF_FFFF) == 0


def test_a_merge_back_joins_neighbours_of_one_shard() -> None:
    split = _map("-80 80-").moved(KeyRange.parse("40-80"), 2).moved(KeyRange.parse("c0-"), 3)
    merged = split.moved(KeyRange.parse("40-80"), 0).moved(KeyRange.parse("c0-"), 1)
    assert merged.describe() == "-80->0, 80-->1"
    assert merged.version == 5


def test_a_range_across_two_shards_cannot_move_at_once() -> None:
    m = _map("-80 80-")
    assert m.owner_of(KeyRange.parse("40-c0")) is None
    with pytest.raises(RangeError, match="more than one shard"):
        m.moved(KeyRange.parse("40-c0"), 2)


def test_the_map_round_trips_with_and_without_handoffs() -> None:
    m = RangeMap.of(3, even_ranges(4))
    assert RangeMap.from_json(3, m.to_json()) == m
    h = m.moved(KeyRange.parse("-40"), 1).with_handoff(Handoff(0, 1, (10, 4), (99, 2**31)))
    assert RangeMap.from_json(h.version, h.to_json()) == h
    many = m
    for n in range(KEEP_HANDOFFS + 5):
        many = many.with_handoff(Handoff(0, 1, (n, 0), (n, 0)))
    assert len(many.handoffs) == KEEP_HANDOFFS and many.handoffs[-1].from_last == (
        KEEP_HANDOFFS + 4, 0)


def test_a_stored_map_with_a_gap_is_refused() -> None:
    with pytest.raises(RangeError):
        RangeMap.from_json(1, '[{"range": "-40", "shard": 0}, {"range": "80-", "shard": 1}]')
