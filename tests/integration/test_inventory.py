"""InventoryService: stock never negative, reservations all-or-nothing and idempotent."""

from __future__ import annotations

import asyncio

import asyncpg
import grpc
from datagw.v1 import inventory_pb2

from gateway.runtime.server import Gateway
from tests.commerce import Shop
from tests.helpers import fails, invalid


async def test_set_adjust_and_read_stock(shop: Shop, uid: str) -> None:
    sku = f"{uid}-s"
    written = await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=10, request_id=f"{uid}-1"))
    assert (written.stock.on_hand, written.stock.available, written.stock.version) == (10, 10, 1)
    adjusted = await shop.inventory.AdjustStock(inventory_pb2.AdjustStockRequest(
        sku=sku, delta=-4, reason="damaged", request_id=f"{uid}-2"))
    assert adjusted.stock.on_hand == 6
    failure = await fails(shop.inventory.AdjustStock(inventory_pb2.AdjustStockRequest(
        sku=sku, delta=-7, request_id=f"{uid}-3")), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "INSUFFICIENT_STOCK"
    assert (await shop.stock(sku)).on_hand == 6
    await fails(shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=1, expected_version=1, request_id=f"{uid}-4")),
        grpc.StatusCode.ABORTED)


async def test_reservations_hold_commit_and_release(shop: Shop, uid: str) -> None:
    a, b = f"{uid}-a", f"{uid}-b"
    for sku in (a, b):
        await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
            sku=sku, on_hand=5, request_id=f"set-{sku}"))
    items = [inventory_pb2.ReservationItem(sku=a, quantity=2),
             inventory_pb2.ReservationItem(sku=b, quantity=5)]
    held = await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=f"{uid}-r1", items=items))
    assert held.reservation.state == inventory_pb2.RESERVATION_STATE_HELD
    again = await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=f"{uid}-r1", items=items))
    assert again.reservation.create_time == held.reservation.create_time
    assert (await shop.stock(a)).reserved == 2 and (await shop.stock(b)).available == 0
    # All or nothing: b has nothing left, so a is not touched either.
    failure = await fails(shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=f"{uid}-r2", items=[inventory_pb2.ReservationItem(sku=a, quantity=1),
                                           inventory_pb2.ReservationItem(sku=b, quantity=1)])),
        grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "OUT_OF_STOCK"
    assert failure.error_info.metadata["sku"] == b
    assert (await shop.stock(a)).reserved == 2
    await shop.inventory.CommitReservation(
        inventory_pb2.CommitReservationRequest(reservation_id=f"{uid}-r1"))
    stock_a = await shop.stock(a)
    assert (stock_a.on_hand, stock_a.reserved) == (3, 0)
    # Committed units cannot be released any more.
    await fails(shop.inventory.ReleaseReservation(
        inventory_pb2.ReleaseReservationRequest(reservation_id=f"{uid}-r1")),
        grpc.StatusCode.FAILED_PRECONDITION)
    await fails(shop.inventory.ReleaseReservation(
        inventory_pb2.ReleaseReservationRequest(reservation_id=f"{uid}-none")),
        grpc.StatusCode.NOT_FOUND)


async def test_concurrent_reservations_never_oversell(shop: Shop, uid: str) -> None:
    sku = f"{uid}-hot"
    await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=7, request_id=f"{uid}-hot"))

    async def one(n: int) -> bool:
        try:
            await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
                reservation_id=f"{uid}-c{n}",
                items=[inventory_pb2.ReservationItem(sku=sku, quantity=1)]))
            return True
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION
            return False

    results = await asyncio.gather(*(one(n) for n in range(30)))
    assert sum(results) == 7
    stock = await shop.stock(sku)
    assert (stock.on_hand, stock.reserved, stock.available) == (7, 7, 0)


async def test_invalid_inventory_requests(shop: Shop, uid: str) -> None:
    await invalid(shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku="bad sku", on_hand=-1)), "sku", "on_hand", "request_id")
    await invalid(shop.inventory.AdjustStock(inventory_pb2.AdjustStockRequest(
        sku=f"{uid}-z", delta=0, request_id="r")), "delta")
    await invalid(shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id="", items=[inventory_pb2.ReservationItem(sku=f"{uid}-z", quantity=0),
                                  inventory_pb2.ReservationItem(sku=f"{uid}-z", quantity=1)])),
        "reservation_id", "items[0].quantity", "items[1].sku")
    await fails(shop.inventory.GetStock(inventory_pb2.GetStockRequest(sku=f"{uid}-z")),
                grpc.StatusCode.NOT_FOUND)


async def test_a_tombstoned_stream_refuses_the_step_it_would_record(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """A reservation's step and its event are one statement without a
    transaction around it: when the event's stream is tombstoned, the step
    must not happen either (no reservation, no units held, no state moved)."""
    sku = f"{uid}-t"
    await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=5, request_id=f"set-{sku}"))
    items = [inventory_pb2.ReservationItem(sku=sku, quantity=2)]
    conn = await asyncpg.connect(gateway.backends.keyspaces["inventory"].single.dsn,
                                 statement_cache_size=0)
    try:
        async def tombstone(reservation_id: str) -> None:
            await conn.execute(
                """INSERT INTO streams (stream_id, revision, metadata)
                   VALUES ($1, -1, '{"tombstoned": true}')
                   ON CONFLICT (stream_id) DO UPDATE SET metadata = EXCLUDED.metadata""",
                f"reservation-{reservation_id}")

        await tombstone(f"{uid}-r1")
        refused = await fails(shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
            reservation_id=f"{uid}-r1", items=items)), grpc.StatusCode.FAILED_PRECONDITION)
        assert refused.error_info is not None
        assert refused.error_info.reason == "STREAM_TOMBSTONED"
        assert (await shop.stock(sku)).reserved == 0
        assert await conn.fetchval("SELECT count(*) FROM reservations WHERE reservation_id = $1",
                                   f"{uid}-r1") == 0

        await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
            reservation_id=f"{uid}-r2", items=items))
        await tombstone(f"{uid}-r2")
        refused = await fails(shop.inventory.CommitReservation(
            inventory_pb2.CommitReservationRequest(reservation_id=f"{uid}-r2")),
            grpc.StatusCode.FAILED_PRECONDITION)
        assert refused.error_info is not None
        assert refused.error_info.reason == "STREAM_TOMBSTONED"
        stock = await shop.stock(sku)
        assert (stock.on_hand, stock.reserved) == (5, 2)
        assert await conn.fetchval("SELECT state FROM reservations WHERE reservation_id = $1",
                                   f"{uid}-r2") == "held"
    finally:
        await conn.close()
