"""Keyspace ids and the range map that assigns them to shards.

A shard key (a user id) hashes once to a 64-bit keyspace id: the first 8
bytes of BLAKE2b-64 over the key's UTF-8 bytes, read big-endian. The
function is stable across versions and languages and spreads similar ids
evenly. Rows store the id as 8 big-endian bytes (bytea), whose byte order is
the numeric order, so a range of the space is a cheap index range scan when
a shard is split later.

Each shard owns one contiguous, half-open range written Vitess-style in hex:
"-80" is [0, 0x80..), "80-" is [0x80.., 2^64), "40-80" is [0x40.., 0x80..).
A range map is valid when its ranges, in order, cover the whole space
without a gap or an overlap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

SPACE = 1 << 64


def keyspace_id(shard_key: str) -> int:
    return int.from_bytes(hashlib.blake2b(shard_key.encode(), digest_size=8).digest(), "big")


def ksid_bytes(ksid: int) -> bytes:
    return ksid.to_bytes(8, "big")


def ksid_hex(ksid: int) -> str:
    return f"{ksid:016x}"


class RangeError(ValueError):
    pass


def _bound(text: str, *, start: bool) -> int:
    if not text:
        return 0 if start else SPACE
    if len(text) > 16 or any(c not in "0123456789abcdef" for c in text.lower()):
        raise RangeError(f"{text!r} is not up to 16 hex digits")
    # "80" means 0x8000000000000000: the digits are the high-order end.
    return int(text.ljust(16, "0"), 16)


@dataclass(frozen=True)
class KeyRange:
    start: int  # inclusive
    end: int  # exclusive

    @classmethod
    def parse(cls, text: str) -> KeyRange:
        low, sep, high = text.partition("-")
        if not sep:
            raise RangeError(f"{text!r} is not a range like '-80', '40-80' or '80-'")
        rng = cls(_bound(low, start=True), _bound(high, start=False))
        if rng.start >= rng.end:
            raise RangeError(f"{text!r} is empty: its start is not below its end")
        return rng

    def contains(self, ksid: int) -> bool:
        return self.start <= ksid < self.end

    def __str__(self) -> str:
        def fmt(v: int, edge: int) -> str:
            return "" if v == edge else f"{v:016x}".rstrip("0").ljust(2, "0")

        return f"{fmt(self.start, 0)}-{fmt(self.end, SPACE)}"


def even_ranges(count: int) -> list[KeyRange]:
    """`count` equal ranges; what a keyspace gets when its config names none."""
    step = SPACE // count
    bounds = [i * step for i in range(count)] + [SPACE]
    return [KeyRange(bounds[i], bounds[i + 1]) for i in range(count)]


def check_cover(ranges: list[KeyRange]) -> None:
    """RangeError unless the ranges, in the given order, tile the whole space."""
    position = 0
    for i, rng in enumerate(ranges):
        if rng.start != position:
            kind = "a gap" if rng.start > position else "an overlap"
            raise RangeError(
                f"shard {i} range {rng} leaves {kind} at {position:016x}; ranges must be "
                "listed in order and cover the space without gaps or overlaps")
        position = rng.end
    if position != SPACE:
        raise RangeError(f"the ranges end at {position:016x}; the last must end the space ('x-')")
