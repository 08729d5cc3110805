"""range_maps: what each commerce shard owns (shard_ranges, which its write
fence enforces) against the control table's range map.

A mismatch outside a resharding cutover means writes can be refused (a
shard does not own what the map routes to it) or land on two shards (both
own a range). During a workflow's cutover the two differ for a moment; run
the check again when it has settled.
"""

from __future__ import annotations

from gateway.domain.verify.context import Run, reading, where
from gateway.records.verify import ERROR, INFO, RANGE_MAPS, CheckResult, Finding
from gateway.storage.postgres import control_store
from gateway.storage.postgres import verify_store as pg
from gateway.storage.postgres.keyspace_id import SPACE, KeyRange
from gateway.storage.postgres.pool import Keyspace
from gateway.storage.postgres.range_map import RangeMap


def joined(ranges: list[KeyRange]) -> list[KeyRange]:
    """Adjacent ranges as one, in order (a shard's rows are cut where a
    move's bounds were)."""
    out: list[KeyRange] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and out[-1].end == r.start:
            out[-1] = KeyRange(out[-1].start, r.end)
        else:
            out.append(r)
    return out


def _text(ranges: list[KeyRange]) -> str:
    return ", ".join(map(str, ranges)) or "nothing"


async def check(run: Run) -> CheckResult:
    result = CheckResult(RANGE_MAPS)
    commerce = run.stores.commerce
    if commerce.sharded:  # one shard owns everything: there is no map to disagree with
        async with reading(result, f"range map of {commerce.name}"):
            await _keyspace(run, commerce, result)
    return result


async def _keyspace(run: Run, ks: Keyspace, result: CheckResult) -> None:
    async with run.stores.catalog.single.connection("SELECT verify range_maps") as conn:
        stored = await control_store.load_map(conn, ks.name)
    if stored is None:
        result.errors.append(f"no range map of {ks.name} in the control table")
        return
    control = RangeMap.from_json(*stored)
    result.count("keyspaces")
    if control.version != ks.map.version:
        result.add(Finding(
            RANGE_MAPS, "gateway_map_behind", INFO, ks.name, None, "range_maps",
            f"keyspace {ks.name}", f"version {control.version} (control table)",
            f"version {ks.map.version} (this gateway)", "the gateway follows the control "
            "table within moments; a lasting difference means its watch is failing"))
    for shard in ks.shards:
        async with reading(result, where(shard)):
            async with shard.connection("SELECT verify shard_ranges") as conn:
                rows = await pg.owned_ranges(conn)
            owned = joined([KeyRange(int.from_bytes(start, "big"),
                                     int.from_bytes(end, "big") if end is not None else SPACE)
                            for start, end in rows])
            expected = joined(control.ranges_of(shard.index))
            result.count("shards")
            if owned != expected:
                result.add(Finding(
                    RANGE_MAPS, "range_map_mismatch", ERROR, ks.name, shard.index,
                    "shard_ranges", f"shard {shard.index}", _text(expected), _text(owned),
                    "the shard's fence disagrees with the control table's map (normal only "
                    "for a moment during a cutover)"))
