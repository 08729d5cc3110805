"""InventoryService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import inventory_pb2, inventory_pb2_grpc

from gateway.api.commerce_convert import reservation_out, stock_out
from gateway.api.convert import duration_in, read_args
from gateway.domain.inventory import InventoryDomain

Context = grpc.aio.ServicerContext[Any, Any]


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, domain: InventoryDomain) -> None:
        self._domain = domain

    async def SetStock(
        self, request: inventory_pb2.SetStockRequest, context: Context
    ) -> inventory_pb2.SetStockResponse:
        written = await self._domain.set_stock(
            request.sku, request.on_hand,
            request.expected_version if request.HasField("expected_version") else None,
            request.request_id)
        return inventory_pb2.SetStockResponse(stock=stock_out(written.stock),
                                              consistency_token=written.consistency_token)

    async def AdjustStock(
        self, request: inventory_pb2.AdjustStockRequest, context: Context
    ) -> inventory_pb2.AdjustStockResponse:
        written = await self._domain.adjust_stock(
            request.sku, request.delta, request.reason, request.request_id)
        return inventory_pb2.AdjustStockResponse(stock=stock_out(written.stock),
                                                 consistency_token=written.consistency_token)

    async def GetStock(
        self, request: inventory_pb2.GetStockRequest, context: Context
    ) -> inventory_pb2.GetStockResponse:
        stock = await self._domain.get_stock(
            request.sku, *read_args(request.read_options, request.HasField("read_options")))
        return inventory_pb2.GetStockResponse(stock=stock_out(stock))

    async def ReserveStock(
        self, request: inventory_pb2.ReserveStockRequest, context: Context
    ) -> inventory_pb2.ReserveStockResponse:
        reservation = await self._domain.reserve(
            request.reservation_id, [(i.sku, i.quantity) for i in request.items],
            duration_in(request.ttl, "ttl") if request.HasField("ttl") else None)
        return inventory_pb2.ReserveStockResponse(reservation=reservation_out(reservation))

    async def CommitReservation(
        self, request: inventory_pb2.CommitReservationRequest, context: Context
    ) -> inventory_pb2.CommitReservationResponse:
        reservation = await self._domain.commit(request.reservation_id)
        return inventory_pb2.CommitReservationResponse(reservation=reservation_out(reservation))

    async def ReleaseReservation(
        self, request: inventory_pb2.ReleaseReservationRequest, context: Context
    ) -> inventory_pb2.ReleaseReservationResponse:
        reservation = await self._domain.release(request.reservation_id)
        return inventory_pb2.ReleaseReservationResponse(reservation=reservation_out(reservation))
