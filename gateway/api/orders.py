"""OrderService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import order_pb2, order_pb2_grpc

from gateway.api.commerce_convert import (
    ORDER_STATUS_IN,
    address_in,
    lines_in,
    order_out,
    payment_out,
)
from gateway.api.convert import read_args
from gateway.domain.orders.service import OrdersDomain

Context = grpc.aio.ServicerContext[Any, Any]


class OrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(self, domain: OrdersDomain) -> None:
        self._domain = domain

    async def CreateOrder(
        self, request: order_pb2.CreateOrderRequest, context: Context
    ) -> order_pb2.CreateOrderResponse:
        placed = await self._domain.create(
            request.user_id, lines_in(list(request.items)), address_in(request.shipping),
            request.payment_method.card_token, request.request_id)
        return order_pb2.CreateOrderResponse(
            order=order_out(placed.order), payment=payment_out(placed.payment),
            consistency_token=placed.consistency_token)

    async def GetOrder(
        self, request: order_pb2.GetOrderRequest, context: Context
    ) -> order_pb2.GetOrderResponse:
        order = await self._domain.get(
            request.order_id, *read_args(request.read_options, request.HasField("read_options")))
        return order_pb2.GetOrderResponse(order=order_out(order))

    async def ListOrders(
        self, request: order_pb2.ListOrdersRequest, context: Context
    ) -> order_pb2.ListOrdersResponse:
        page = await self._domain.list_for_user(
            request.user_id, request.page_size, request.page_token,
            *read_args(request.read_options, request.HasField("read_options")))
        return order_pb2.ListOrdersResponse(orders=[order_out(o) for o in page.orders],
                                            next_page_token=page.next_page_token)

    async def UpdateOrderStatus(
        self, request: order_pb2.UpdateOrderStatusRequest, context: Context
    ) -> order_pb2.UpdateOrderStatusResponse:
        written = await self._domain.update_status(
            request.order_id, ORDER_STATUS_IN.get(request.status, "unspecified"),
            request.expected_version if request.HasField("expected_version") else None,
            request.request_id)
        return order_pb2.UpdateOrderStatusResponse(
            order=order_out(written.order), consistency_token=written.consistency_token)

    async def CancelOrder(
        self, request: order_pb2.CancelOrderRequest, context: Context
    ) -> order_pb2.CancelOrderResponse:
        written = await self._domain.cancel(request.order_id, request.reason, request.request_id)
        return order_pb2.CancelOrderResponse(
            order=order_out(written.order), consistency_token=written.consistency_token)
