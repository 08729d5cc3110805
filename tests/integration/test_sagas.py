"""Saga recovery: abandoned sagas are compensated or finished; expired holds released.

A crash is simulated at the saga's two interesting points: after stock was
reserved (before the pivot), and after the order was written (before the
reservation was committed). The recovery loop of the session gateway, which
runs every half second with a 5s lease, must settle both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from datagw.v1 import admin_pb2, inventory_pb2, order_pb2
from google.protobuf.duration_pb2 import Duration

from gateway.domain.orders.saga import OrderSagas, saga_id_for
from gateway.records.commerce import CREATE_ORDER
from gateway.runtime.server import Gateway
from gateway.storage.postgres import saga_store
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import Shop, shard_index, shard_rows
from tests.helpers import eventually, fails, metric, sql


def _sagas(gateway: Gateway) -> OrderSagas:
    return gateway.wiring.sagas


async def _saga_state(gateway: Gateway, user: str, saga_id: str) -> str:
    rows = await shard_rows(gateway, shard_index(gateway, user),
                            "SELECT state FROM sagas WHERE saga_id = $1", saga_id)
    return str(rows[0]["state"]) if rows else ""


async def test_a_saga_abandoned_after_reserving_is_compensated(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user, sku = f"{uid}-crash1", f"{uid}-c1"
    await shop.user(user)
    await shop.stocked(sku, 4)
    sagas = _sagas(gateway)
    saga_id = saga_id_for(user, CREATE_ORDER, f"{uid}-r")
    shard = gateway.backends.keyspaces["commerce"].shard_for(keyspace_id(user))
    data = {"hash": "x", "attempt": 1, "order_id": f"o{'0' * 32}", "payment_id": f"p{'0' * 32}",
            "reservation_id": f"{saga_id}.1", "currency": "EUR", "total_minor": 1000,
            "items": [{"sku": sku, "quantity": 3, "title": "t", "unit_price_minor": 1000}],
            "shipping": {}, "card_token": "tok_visa"}
    # What a gateway killed right after reserving leaves behind: the saga log
    # (lease already run out) and a held reservation. The row's data is JSON
    # as gateways have always written it (its item without the category kept
    # since), not the typed state's output: the recovery must load such rows.
    async with shard.connection("test") as conn:
        await conn.execute(
            """INSERT INTO sagas (saga_id, keyspace_id, kind, state, user_id, order_id,
                                  request_id, data, lease_until)
               VALUES ($1, $2, $3, 'running', $4, $5, $6, $7::jsonb, now() - interval '1s')""",
            saga_id, ksid_bytes(keyspace_id(user)), CREATE_ORDER, user, data["order_id"],
            f"{uid}-r", json.dumps(data))
        await saga_store.log_step(conn, saga_id, "reserve_stock", "done")
    await sagas._inventory.reserve(f"{saga_id}.1", [(sku, 3)], 900.0, saga_id=saga_id,
                                   saga_shard_key=user)
    assert (await shop.stock(sku)).reserved == 3

    async def compensated() -> bool:
        return await _saga_state(gateway, user, saga_id) == "compensated"

    await eventually(compensated, "the abandoned saga is compensated")
    stock = await shop.stock(sku)
    assert (stock.on_hand, stock.reserved) == (4, 0)
    saga = await shop.admin.GetSaga(admin_pb2.GetSagaRequest(saga_id=saga_id))
    assert saga.saga.recovery_attempts >= 1
    assert saga.saga.failure_reason.startswith("SAGA_ABANDONED")
    assert [s.name for s in saga.saga.steps][-2:] == ["compensate", "compensate"]


@contextmanager
def _crash_before_commit(sagas: OrderSagas) -> Iterator[None]:
    """Make the next placement stop right after its pivot, as a crash would."""
    original = sagas._finish_create

    async def skip(*args: Any) -> None:
        return None

    sagas._finish_create = skip  # type: ignore[method-assign]
    try:
        yield
    finally:
        sagas._finish_create = original  # type: ignore[method-assign]


async def test_a_saga_abandoned_after_its_pivot_is_finished(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user, sku = f"{uid}-crash2", f"{uid}-c2"
    await shop.user(user)
    await shop.stocked(sku, 4)
    with _crash_before_commit(_sagas(gateway)):
        placed = await shop.place(user, {sku: 2}, f"{uid}-p")
    saga_id = saga_id_for(user, CREATE_ORDER, f"{uid}-p")
    assert await _saga_state(gateway, user, saga_id) == "running"
    assert (await shop.stock(sku)).reserved == 2
    stuck = await shop.admin.ListStuckSagas(
        admin_pb2.ListStuckSagasRequest(older_than=Duration(seconds=0)))
    assert saga_id in [s.saga_id for s in stuck.sagas]

    async def completed() -> bool:
        return await _saga_state(gateway, user, saga_id) == "completed"

    await eventually(completed, "the pivoted saga is finished forward", within_s=15)
    stock = await shop.stock(sku)
    assert (stock.on_hand, stock.reserved) == (2, 0)
    order = await shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id=placed.order.order_id))
    assert order.order.status == order_pb2.ORDER_STATUS_PLACED


async def test_an_expired_reservation_is_released(gateway: Gateway, shop: Shop, uid: str
                                                  ) -> None:
    sku = f"{uid}-exp"
    await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=3, request_id=f"{uid}-s"))
    await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=f"{uid}-hold", items=[inventory_pb2.ReservationItem(sku=sku, quantity=2)],
        ttl=Duration(seconds=1)))
    assert (await shop.stock(sku)).available == 1

    async def released() -> bool:
        state = await sql(gateway, "inventory",
                          "SELECT state FROM reservations WHERE reservation_id = $1",
                          f"{uid}-hold")
        return bool(state == "released")

    await eventually(released, "the expired reservation is released")
    assert (await shop.stock(sku)).available == 3


async def test_a_finished_saga_keeps_no_card_token(gateway: Gateway, shop: Shop, uid: str
                                                   ) -> None:
    """The card is the customer's: the saga log holds it only while a step may
    still charge it (up to the pivot, or until compensation ends)."""
    user = f"{uid}-card"
    await shop.user(user)
    await shop.stocked(f"{uid}-sku", 10)
    await shop.place(user, {f"{uid}-sku": 1}, f"{uid}-ok", card="tok_visa")
    await fails(shop.place(user, {f"{uid}-sku": 1}, f"{uid}-no", card="tok_decline"),
                grpc.StatusCode.FAILED_PRECONDITION)
    rows = await shard_rows(gateway, shard_index(gateway, user),
                            "SELECT state, data::text || failure_reason AS data FROM sagas "
                            "WHERE saga_id = ANY($1)",
                            [saga_id_for(user, CREATE_ORDER, f"{uid}-ok"),
                             saga_id_for(user, CREATE_ORDER, f"{uid}-no")])
    assert sorted(r["state"] for r in rows) == ["compensated", "completed"]
    for row in rows:
        assert "tok_" not in row["data"], row["data"]


async def test_the_oldest_unfinished_saga_is_a_gauge(gateway: Gateway, shop: Shop,
                                                     uid: str) -> None:
    """What the stuck-saga alert watches: a saga still running a month after
    it started (its lease kept the recovery away) shows on its shard's gauge
    until it is gone."""
    user = f"{uid}-stuck"
    await shop.user(user)
    index = shard_index(gateway, user)
    saga_id = saga_id_for(user, CREATE_ORDER, f"{uid}-s")
    month = 30 * 86400

    def oldest() -> float:
        return metric("datagw_saga_oldest_unfinished_seconds", keyspace="commerce",
                      shard=str(index))

    await shard_rows(
        gateway, index,
        """INSERT INTO sagas (saga_id, keyspace_id, kind, state, user_id, order_id, request_id,
                              data, lease_until, created_at)
           VALUES ($1, $2, $3, 'running', $4, 'o', 'r', '{}', now() + interval '1 day',
                   now() - interval '30 days')""",
        saga_id, ksid_bytes(keyspace_id(user)), CREATE_ORDER, user)
    try:
        async def shown() -> bool:
            return oldest() >= month

        await eventually(shown, "the stuck saga's age is reported")
    finally:
        await shard_rows(gateway, index, "DELETE FROM sagas WHERE saga_id = $1", saga_id)

    async def gone() -> bool:
        return oldest() < month

    await eventually(gone, "the gauge forgets the saga")
