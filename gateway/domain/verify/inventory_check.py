"""inventory: stock against its reservations, its events and the sagas
that hold them.

- stock.reserved equals the units of the held reservations, per sku (one
  statement, one snapshot: reserve and every transition move both in one
  transaction);
- stock.on_hand equals the last StockSet plus the StockAdjusted deltas,
  less the StockCommitted and plus the StockReturned units after it, for
  skus whose stock stream is complete from that StockSet on (retention may
  have removed older events; others are skipped and counted);
- a held reservation of an order saga whose saga is finished or missing on
  its shard is leaked: nothing will ever commit or release it but the
  expiry sweep (checked again after the saga was read, so a saga that just
  finished and committed its stock is not reported);
- a running saga past its pivot (its order exists) must still find its
  reservation, which it commits next.
"""

from __future__ import annotations

from collections import defaultdict

from gateway.domain.verify.context import MAX_LISTED, Run, reading, where
from gateway.records.verify import ERROR, INVENTORY, CheckResult, Finding
from gateway.storage.postgres import verify_store as pg
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Shard

FINISHED = ("completed", "compensated")


async def check(run: Run) -> CheckResult:
    result = CheckResult(INVENTORY)
    inventory = run.stores.inventory.single
    async with reading(result, f"stock on {where(inventory)}"):
        await _stock(run, inventory, result)
    async with reading(result, "reservations vs sagas"):
        await _leaked(run, inventory, result)
    for shard in run.stores.commerce.shards:
        async with reading(result, f"sagas on {where(shard)}"):
            await _saga_reservations(run, shard, inventory, result)
    return result


def _stock_finding(inventory: Shard, kind: str, sku: str, expected: str, found: str,
                   detail: str) -> Finding:
    return Finding(INVENTORY, kind, ERROR, inventory.keyspace, inventory.index, "stock",
                   f"sku {sku}", expected, found, detail)


async def _stock(run: Run, inventory: Shard, result: CheckResult) -> None:
    async with inventory.connection("SELECT verify stock") as conn:
        compared, reserved = await pg.reserved_mismatches(conn, run.fraction, run.seed)
        streams, on_hand = await pg.on_hand_mismatches(conn, run.fraction, run.seed)
    result.count("skus", compared)
    result.count("skus_with_complete_stream", streams)
    for sku, found, held in reserved[:MAX_LISTED]:
        result.add(_stock_finding(
            inventory, "reserved_mismatch", sku, f"reserved {held} (held reservations)",
            f"reserved {found}", "units are blocked (or oversold) for nothing that holds them"))
    for sku, expected, found in on_hand[:MAX_LISTED]:
        result.add(_stock_finding(
            inventory, "on_hand_mismatch", sku, f"on_hand {expected} (from the stock events)",
            f"on_hand {found}", "stock changed without its event, or an event without stock"))
    result.count("reserved_mismatches", len(reserved))
    result.count("on_hand_mismatches", len(on_hand))


async def _leaked(run: Run, inventory: Shard, result: CheckResult) -> None:
    commerce = run.stores.commerce
    async with inventory.connection("SELECT verify reservations") as conn:
        held = await pg.held_saga_reservations(conn, run.fraction, run.seed)
    result.count("held_reservations", len(held))
    shards: dict[int, Shard] = {}
    by_shard: dict[int, list[pg.HeldReservation]] = defaultdict(list)
    for r in held:
        shard = commerce.shard_for(keyspace_id(r.saga_shard_key))
        shards[shard.index] = shard
        by_shard[shard.index].append(r)
    suspects: dict[str, tuple[pg.HeldReservation, str]] = {}
    for index, reservations in sorted(by_shard.items()):
        shard = shards[index]
        async with shard.connection("SELECT verify sagas") as conn:
            states = await pg.saga_states(conn, [r.saga_id for r in reservations])
        for r in reservations:
            state = states.get(r.saga_id, "missing")
            if state == "missing" or state in FINISHED:
                suspects[r.reservation_id] = (r, state)
    if not suspects:
        return
    async with inventory.connection("SELECT verify reservations") as conn:
        now = await pg.reservation_states(conn, sorted(suspects))
    leaked = [suspects[i] for i in sorted(suspects) if now.get(i) == "held"]
    result.count("leaked_reservations", len(leaked))
    for r, state in leaked[:MAX_LISTED]:
        result.add(Finding(
            INVENTORY, "leaked_reservation", ERROR, inventory.keyspace, inventory.index,
            "reservations", f"reservation {r.reservation_id}",
            f"no held reservation for saga {r.saga_id} (saga {state})", "held",
            "its units stay reserved until the expiry sweep settles it; commit or release "
            "it as the saga's outcome says"))


async def _saga_reservations(run: Run, shard: Shard, inventory: Shard,
                             result: CheckResult) -> None:
    async with shard.connection("SELECT verify sagas") as conn:
        waiting = await pg.pivoted_reservations(conn, run.fraction, run.seed)
    result.count("pivoted_sagas", len(waiting))
    if not waiting:
        return
    async with inventory.connection("SELECT verify reservations") as conn:
        states = await pg.reservation_states(conn, sorted(set(waiting.values())))
    missing = [(s, r) for s, r in sorted(waiting.items()) if r not in states]
    for saga_id, reservation_id in missing[:MAX_LISTED]:
        result.add(Finding(
            INVENTORY, "saga_reservation_missing", ERROR, shard.keyspace, shard.index, "sagas",
            f"saga {saga_id}", f"reservation {reservation_id} exists", "no such reservation",
            "the saga cannot commit stock it never reserved; its order's stock is unaccounted"))
