"""Every commerce RPC refuses bad input precisely and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from datagw.v1 import (
    admin_pb2,
    common_pb2,
    inventory_pb2,
    order_pb2,
    payment_pb2,
    user_pb2,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.runtime.server import Gateway
from tests.commerce import Shop, shard_rows
from tests.helpers import invalid, sql

BAD_ORDER = "o123"
BAD_PAYMENT = "pay-1"
LATER, EARLIER = Timestamp(seconds=2_000_000_000), Timestamp(seconds=1_000_000_000)

# (call on the shop, request, the fields its BadRequest must name)
CASES: list[tuple[str, Callable[[Shop], Any], Any, tuple[str, ...]]] = [
    ("CreateUser", lambda s: s.users.CreateUser, user_pb2.CreateUserRequest(
        email="x@", request_id="r"), ("email",)),
    ("GetUserByEmail", lambda s: s.users.GetUserByEmail, user_pb2.GetUserByEmailRequest(
        email="no-at-sign"), ("email",)),
    ("UpdateUser", lambda s: s.users.UpdateUser, user_pb2.UpdateUserRequest(
        user_id="u", email="bad", request_id="r" * 129), ("request_id",)),
    ("SetStock", lambda s: s.inventory.SetStock, inventory_pb2.SetStockRequest(
        sku="S", on_hand=-5, request_id="r"), ("on_hand",)),
    ("AdjustStock", lambda s: s.inventory.AdjustStock, inventory_pb2.AdjustStockRequest(
        sku="", delta=1), ("sku", "request_id")),
    ("GetStock", lambda s: s.inventory.GetStock, inventory_pb2.GetStockRequest(
        sku="a b"), ("sku",)),
    ("ReserveStock", lambda s: s.inventory.ReserveStock, inventory_pb2.ReserveStockRequest(
        reservation_id="r", items=[inventory_pb2.ReservationItem(sku="S", quantity=1)],
        ttl=Duration(seconds=100_000)), ("ttl",)),
    ("CommitReservation", lambda s: s.inventory.CommitReservation,
     inventory_pb2.CommitReservationRequest(), ("reservation_id",)),
    ("ReleaseReservation", lambda s: s.inventory.ReleaseReservation,
     inventory_pb2.ReleaseReservationRequest(reservation_id="x" * 200), ("reservation_id",)),
    ("CreateOrder", lambda s: s.orders.CreateOrder, order_pb2.CreateOrderRequest(
        user_id="u", items=[order_pb2.OrderItemInput(sku="S", quantity=1001)] * 2,
        shipping=order_pb2.Address(name="A", line1="B", city="C", country_code="DE"),
        payment_method=payment_pb2.PaymentMethod(card_token="tok"), request_id="r"),
     ("items[0].quantity", "items[1].quantity")),
    # Each sku at most once: checked by the gateway once the fields keep their rules.
    ("CreateOrderTwice", lambda s: s.orders.CreateOrder, order_pb2.CreateOrderRequest(
        user_id="u", items=[order_pb2.OrderItemInput(sku="S", quantity=1)] * 2,
        shipping=order_pb2.Address(name="A", line1="B", city="C", country_code="DE"),
        payment_method=payment_pb2.PaymentMethod(card_token="tok"), request_id="r"),
     ("items[1].sku",)),
    ("GetOrder", lambda s: s.orders.GetOrder, order_pb2.GetOrderRequest(
        order_id=BAD_ORDER), ("order_id",)),
    ("ListOrders", lambda s: s.orders.ListOrders, order_pb2.ListOrdersRequest(
        user_id="u", page_size=101), ("page_size",)),
    ("UpdateOrderStatus", lambda s: s.orders.UpdateOrderStatus,
     order_pb2.UpdateOrderStatusRequest(order_id=BAD_ORDER, status=order_pb2.ORDER_STATUS_SHIPPED,
                                        request_id="r"), ("order_id",)),
    ("CancelOrder", lambda s: s.orders.CancelOrder, order_pb2.CancelOrderRequest(
        order_id=BAD_ORDER, reason="x" * 501), ("reason", "request_id")),
    ("CancelOrderId", lambda s: s.orders.CancelOrder, order_pb2.CancelOrderRequest(
        order_id=BAD_ORDER, request_id="r"), ("order_id",)),
    ("AuthorizePayment", lambda s: s.payments.AuthorizePayment,
     payment_pb2.AuthorizePaymentRequest(order_id=BAD_ORDER, request_id="r"),
     ("payment_method",)),
    ("AuthorizePaymentOrder", lambda s: s.payments.AuthorizePayment,
     payment_pb2.AuthorizePaymentRequest(
         order_id=BAD_ORDER, payment_method=payment_pb2.PaymentMethod(card_token="tok"),
         request_id="r"), ("order_id",)),
    ("CapturePayment", lambda s: s.payments.CapturePayment, payment_pb2.CapturePaymentRequest(
        payment_id=BAD_PAYMENT, request_id="r"), ("payment_id",)),
    ("RefundPayment", lambda s: s.payments.RefundPayment, payment_pb2.RefundPaymentRequest(
        payment_id=BAD_PAYMENT, amount_minor=0, request_id="r"), ("amount_minor",)),
    ("VoidPayment", lambda s: s.payments.VoidPayment, payment_pb2.VoidPaymentRequest(
        payment_id=BAD_PAYMENT, request_id="r"), ("payment_id",)),
    ("GetPayment", lambda s: s.payments.GetPayment, payment_pb2.GetPaymentRequest(
        payment_id="p" + "0" * 32, read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)), ("read_options.consistency",)),
    ("ListPayments", lambda s: s.payments.ListPayments, payment_pb2.ListPaymentsRequest(
        order_id="o" + "0" * 32, read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
            consistency_token="not-a-token")), ("read_options.consistency_token",)),
    ("AdminListOrders", lambda s: s.admin.ListOrders, admin_pb2.AdminServiceListOrdersRequest(
        start_time=LATER, end_time=EARLIER, page_size=1001), ("page_size",)),
    ("AdminListOrdersTimes", lambda s: s.admin.ListOrders,
     admin_pb2.AdminServiceListOrdersRequest(start_time=LATER, end_time=EARLIER),
     ("end_time",)),
    ("ListStuckSagas", lambda s: s.admin.ListStuckSagas, admin_pb2.ListStuckSagasRequest(
        limit=5000), ("limit",)),
]


async def _writes(gateway: Gateway) -> tuple[int, ...]:
    counts = [int((await shard_rows(gateway, i, "SELECT count(*) AS n FROM events"))[0]["n"])
              for i in (0, 1)]
    counts.append(int(await sql(gateway, "inventory", "SELECT count(*) FROM events")))
    return tuple(counts)


@pytest.mark.parametrize(("rpc", "stub", "request_", "fields"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_invalid_argument_naming_fields(
    gateway: Gateway, shop: Shop, rpc: str, stub: Callable[[Shop], Any], request_: Any,
    fields: tuple[str, ...],
) -> None:
    before = await _writes(gateway)
    await invalid(stub(shop)(request_), *fields)
    assert await _writes(gateway) == before, f"{rpc} wrote something"
