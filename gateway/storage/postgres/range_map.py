"""A sharded keyspace's range map: which shard serves each range of keyspace ids.

The map is a list of (range, shard) entries that, in order, tile the whole
space; a shard may serve several ranges, or none (a shard server that waits
for a range to be moved onto it). Its version grows by one with every
change. The authoritative copy lives in the control table (`range_maps`, in
the catalog keyspace: control_store.py); each gateway keeps the newest it
has seen (map_watch in the domain) and routes by it. A gateway routing by an
old map cannot write to the wrong shard: every shard knows the ranges it
owns and refuses writes to others (fence.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gateway.storage.postgres.keyspace_id import SPACE, KeyRange, RangeError, check_cover

# The handoffs a map keeps (the newest): enough for any reader that is not
# days behind; an older one only loses the ordering help, never an event.
KEEP_HANDOFFS = 32


@dataclass(frozen=True)
class Handoff:
    """A cutover, as readers of the whole log need it: the range's last event
    on the shard it left (`from_last`, a (commit, position) there), and where
    the shard it went to began to take its writes (`to_after`: every event
    of the range there lies after it). A reader delivers the new shard's
    events past `to_after` only once it has passed `from_last` on the old
    one, so each stream's events arrive in order across the move."""

    source: int
    target: int
    from_last: tuple[int, int]
    to_after: tuple[int, int]


@dataclass(frozen=True)
class RangeMap:
    version: int
    entries: tuple[tuple[KeyRange, int], ...]
    handoffs: tuple[Handoff, ...] = ()

    @classmethod
    def of(cls, version: int, ranges: list[KeyRange]) -> RangeMap:
        """Shard i serves ranges[i] (a configured or an even map)."""
        check_cover(ranges)
        return cls(version, tuple((r, i) for i, r in enumerate(ranges)))

    def shard_for(self, ksid: int) -> int:
        for rng, shard in self.entries:
            if rng.contains(ksid):
                return shard
        raise AssertionError(f"range map version {self.version} does not cover {ksid:016x}")

    def ranges_of(self, shard: int) -> list[KeyRange]:
        return [rng for rng, owner in self.entries if owner == shard]

    def owner_of(self, rng: KeyRange) -> int | None:
        """The one shard serving all of `rng`, or None if it spans several."""
        owners = {s for r, s in self.entries if r.start < rng.end and rng.start < r.end}
        return owners.pop() if len(owners) == 1 else None

    def shards(self) -> set[int]:
        return {s for _, s in self.entries}

    def moved(self, rng: KeyRange, target: int) -> RangeMap:
        """The next version, with `rng` served by `target`: the entry holding
        it is cut around it, and neighbours of one shard are joined."""
        if self.owner_of(rng) is None:
            raise RangeError(f"range {rng} spans more than one shard in map version "
                             f"{self.version}; move one shard's part at a time")
        cut: list[tuple[KeyRange, int]] = []
        for r, s in self.entries:
            if r.end <= rng.start or rng.end <= r.start:
                cut.append((r, s))
                continue
            if r.start < rng.start:
                cut.append((KeyRange(r.start, rng.start), s))
            cut.append((KeyRange(max(r.start, rng.start), min(r.end, rng.end)), target))
            if rng.end < r.end:
                cut.append((KeyRange(rng.end, r.end), s))
        joined: list[tuple[KeyRange, int]] = []
        for r, s in cut:
            if joined and joined[-1][1] == s:
                joined[-1] = (KeyRange(joined[-1][0].start, r.end), s)
            else:
                joined.append((r, s))
        return RangeMap(self.version + 1, tuple(joined), self.handoffs)

    def with_handoff(self, handoff: Handoff) -> RangeMap:
        return RangeMap(self.version, self.entries,
                        (*self.handoffs, handoff)[-KEEP_HANDOFFS:])

    def to_json(self) -> str:
        ranges = [{"range": str(r), "shard": s} for r, s in self.entries]
        if not self.handoffs:
            return json.dumps(ranges)
        return json.dumps({"ranges": ranges, "handoffs": [
            {"from": h.source, "to": h.target, "from_last": list(h.from_last),
             "to_after": list(h.to_after)} for h in self.handoffs]})

    @classmethod
    def from_json(cls, version: int, text: str) -> RangeMap:
        """A map as stored: a list of entries, or with handoffs an object."""
        raw = json.loads(text)
        listed = raw if isinstance(raw, list) else raw["ranges"]
        entries = tuple((KeyRange.parse(e["range"]), int(e["shard"])) for e in listed)
        check_cover([r for r, _ in entries])
        handoffs = () if isinstance(raw, list) else tuple(
            Handoff(int(h["from"]), int(h["to"]), (int(h["from_last"][0]), int(h["from_last"][1])),
                    (int(h["to_after"][0]), int(h["to_after"][1]))) for h in raw["handoffs"])
        return cls(version, entries, handoffs)

    def describe(self) -> str:
        return ", ".join(f"{r}->{s}" for r, s in self.entries)


def served(ranges: list[KeyRange], first_arg: int) -> tuple[str, list[bytes | None]]:
    """A WHERE condition on `keyspace_id` for rows of `ranges` (what the map
    gives one shard), with its arguments numbered from `first_arg`. During a
    move a shard holds copies of rows it does not serve (the target before
    the switch, the source until cleanup): a query that visits every shard
    counts each row on the shard that serves it."""
    if not ranges:
        return "FALSE", []
    terms, args = [], []
    for rng in ranges:
        args.append(bound_bytes(rng.start))
        term = f"keyspace_id >= ${first_arg + len(args) - 1}"
        if rng.end < SPACE:
            args.append(bound_bytes(rng.end))
            term += f" AND keyspace_id < ${first_arg + len(args) - 1}"
        terms.append(f"({term})")
    return "(" + " OR ".join(terms) + ")", args


def bound_bytes(value: int) -> bytes | None:
    """A range bound as stored next to rows (8 big-endian bytes); None for
    the end of the space, which 8 bytes cannot hold."""
    return None if value >= SPACE else value.to_bytes(8, "big")
