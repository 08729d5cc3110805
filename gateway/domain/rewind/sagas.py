"""Stock and sagas after one side went back in time.

Sagas live on the user's commerce shard, their reservations in the
inventory keyspace. A restore of either loses one side of some pairs:

- a commerce shard restored: sagas (and their orders) made after its
  restored point are gone, their reservations are not. Held ones are
  released, committed ones given back: no order stands for them. A payment
  such an order took cannot be found from here (its saga is gone) and is
  reported for a refund by hand.
- the inventory restored: reservations made after its restored point are
  gone, the orders they were for are not. A completed order takes its units
  again (reserved and committed under the same id); a completed
  cancellation gives back the units its reservation holds again. What the
  stock cannot cover is reported.

Only what changed after the restored point can be affected, so each side is
searched from there (less a margin for clocks), not in full.
"""

from __future__ import annotations

from datetime import datetime

from gateway.domain.inventory import InventoryDomain
from gateway.errors import FailedPrecondition, NotFound
from gateway.records.commerce import CANCEL_ORDER, CREATE_ORDER
from gateway.storage.eventstore.recorder import EventMeta
from gateway.storage.postgres import saga_store
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Keyspace, Shard

ACTOR = "restore-reconciliation"
# Reservations live this long at most, so a saga restarted later uses a new one.
_TTL_S = 900.0


async def settle_lost_sagas(commerce: Keyspace, inventory: InventoryDomain, shard: Shard,
                            since: datetime) -> tuple[list[str], list[str]]:
    """The reservations of sagas `shard` no longer has, made since `since`:
    (what was done, what is left for an operator)."""
    done: list[str] = []
    left: list[str] = []
    ours = [r for r in await inventory.saga_reservations_since(since)
            if commerce.shard_for(keyspace_id(r.saga_shard_key)).index == shard.index]
    if not ours:
        return done, left
    async with shard.connection("SELECT sagas") as conn:
        present = await saga_store.existing(conn, sorted({r.saga_id for r in ours}))
    for r in ours:
        if r.saga_id in present:
            continue
        meta = EventMeta(actor=ACTOR, saga_id=r.saga_id)
        if r.state == "held":
            await inventory.release(r.reservation_id, meta)
            done.append(f"reservation {r.reservation_id} released: its saga {r.saga_id} "
                        "went with the restore")
        else:
            await inventory.give_back(r.reservation_id, meta)
            done.append(f"reservation {r.reservation_id} given back: its order (saga "
                        f"{r.saga_id}) went with the restore")
            left.append(f"saga {r.saga_id}: its order went with the restore after it was "
                        "placed; a payment it took must be refunded at the provider by hand")
    return done, left


async def restore_lost_reservations(commerce: Keyspace, inventory: InventoryDomain,
                                    since: datetime) -> tuple[list[str], list[str]]:
    """The completed sagas since `since` whose reservation the inventory lost
    or has in the state before their last step: (done, left)."""
    done: list[str] = []
    left: list[str] = []
    routing = commerce.map
    for shard in commerce.shards:
        async with shard.connection("SELECT sagas") as conn:
            finished = await saga_store.completed_since(conn, since,
                                                        routing.ranges_of(shard.index))
        # One look at the inventory for the shard's placements, not one each.
        held = await inventory.existing_reservations(
            [s.placing.reservation_id for s in finished if s.kind == CREATE_ORDER])
        for saga in finished:
            meta = EventMeta(actor=ACTOR, saga_id=saga.saga_id)
            try:
                if saga.kind == CREATE_ORDER:
                    d = saga.placing
                    if d.reservation_id in held:
                        continue
                    await inventory.reserve(
                        d.reservation_id, [(i.sku, i.quantity) for i in d.items], _TTL_S,
                        saga_id=saga.saga_id, saga_shard_key=saga.user_id, meta=meta)
                    await inventory.commit(d.reservation_id, meta)
                    done.append(f"order {saga.order_id}: its stock taken again (reservation "
                                f"{d.reservation_id} lost with the restore)")
                elif saga.kind == CANCEL_ORDER:
                    rid = saga.cancelling.reservation_id
                    reservation = await inventory.get_reservation(rid)
                    if reservation is None or reservation.state != "committed":
                        continue
                    await inventory.give_back(rid, meta)
                    done.append(f"cancelled order {saga.order_id}: its stock given back again")
            except (FailedPrecondition, NotFound) as exc:
                left.append(f"order {saga.order_id} (saga {saga.saga_id}): {exc.message}")
    return done, left
