"""PaymentService: the state machine, refund limits, re-authorization, events."""

from __future__ import annotations

import grpc
from datagw.v1 import order_pb2, payment_pb2

from gateway.runtime.server import Gateway
from tests.commerce import Shop, shard_index, shard_rows
from tests.helpers import fails, invalid


async def _order(shop: Shop, uid: str, price: int = 2500) -> order_pb2.CreateOrderResponse:
    await shop.user(f"{uid}-payer")
    await shop.stocked(f"{uid}-p", 10, price_minor=price)
    return await shop.place(f"{uid}-payer", {f"{uid}-p": 2}, f"{uid}-order")


async def test_capture_then_refunds_never_exceed_the_capture(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    placed = await _order(shop, uid)
    pid = placed.payment.payment_id
    captured = await shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id=pid, amount_minor=4000, request_id=f"{uid}-cap"))
    assert captured.payment.status == payment_pb2.PAYMENT_STATUS_CAPTURED
    assert captured.payment.captured.amount_minor == 4000
    partial = await shop.payments.RefundPayment(payment_pb2.RefundPaymentRequest(
        payment_id=pid, amount_minor=1500, reason="broken", request_id=f"{uid}-r1"))
    assert partial.payment.status == payment_pb2.PAYMENT_STATUS_PARTIALLY_REFUNDED
    failure = await fails(shop.payments.RefundPayment(payment_pb2.RefundPaymentRequest(
        payment_id=pid, amount_minor=2501, request_id=f"{uid}-r2")),
        grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None
    assert failure.error_info.reason == "REFUND_EXCEEDS_CAPTURE"
    assert failure.error_info.metadata["refundable_minor"] == "2500"
    full = await shop.payments.RefundPayment(payment_pb2.RefundPaymentRequest(
        payment_id=pid, amount_minor=2500, request_id=f"{uid}-r3"))
    assert full.payment.status == payment_pb2.PAYMENT_STATUS_REFUNDED
    assert full.payment.refunded.amount_minor == 4000
    # A retried refund is not refunded twice.
    again = await shop.payments.RefundPayment(payment_pb2.RefundPaymentRequest(
        payment_id=pid, amount_minor=2500, request_id=f"{uid}-r3"))
    assert again.payment.refunded.amount_minor == 4000
    events = await shard_rows(
        gateway, shard_index(gateway, f"{uid}-payer"),
        "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_revision",
        f"payment-{pid}")
    assert [e["event_type"] for e in events] == [
        "PaymentAuthorized", "PaymentCaptured", "PaymentRefunded", "PaymentRefunded"]


async def test_capture_beyond_the_authorization_is_refused(shop: Shop, uid: str) -> None:
    placed = await _order(shop, uid)
    failure = await fails(shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id=placed.payment.payment_id, amount_minor=5001, request_id=f"{uid}-c")),
        grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None
    assert failure.error_info.reason == "CAPTURE_EXCEEDS_AUTHORIZATION"
    got = await shop.payments.GetPayment(payment_pb2.GetPaymentRequest(
        payment_id=placed.payment.payment_id))
    assert got.payment.status == payment_pb2.PAYMENT_STATUS_AUTHORIZED


async def test_void_then_authorize_again(shop: Shop, uid: str) -> None:
    placed = await _order(shop, uid)
    order_id, pid = placed.order.order_id, placed.payment.payment_id
    failure = await fails(shop.payments.AuthorizePayment(payment_pb2.AuthorizePaymentRequest(
        order_id=order_id, payment_method=payment_pb2.PaymentMethod(card_token="tok_visa"),
        request_id=f"{uid}-a0")), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "PAYMENT_EXISTS"
    voided = await shop.payments.VoidPayment(payment_pb2.VoidPaymentRequest(
        payment_id=pid, request_id=f"{uid}-v"))
    assert voided.payment.status == payment_pb2.PAYMENT_STATUS_VOIDED
    await fails(shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id=pid, request_id=f"{uid}-c")), grpc.StatusCode.FAILED_PRECONDITION)
    declined = await fails(shop.payments.AuthorizePayment(payment_pb2.AuthorizePaymentRequest(
        order_id=order_id, payment_method=payment_pb2.PaymentMethod(card_token="tok_decline"),
        request_id=f"{uid}-a1")), grpc.StatusCode.FAILED_PRECONDITION)
    assert declined.error_info is not None and declined.error_info.reason == "PAYMENT_DECLINED"
    fresh = await shop.payments.AuthorizePayment(payment_pb2.AuthorizePaymentRequest(
        order_id=order_id, payment_method=payment_pb2.PaymentMethod(card_token="tok_visa"),
        request_id=f"{uid}-a2"))
    assert fresh.payment.status == payment_pb2.PAYMENT_STATUS_AUTHORIZED
    assert fresh.payment.amount.amount_minor == 5000
    listed = await shop.payments.ListPayments(payment_pb2.ListPaymentsRequest(order_id=order_id))
    assert [p.payment_id for p in listed.payments] == [pid, fresh.payment.payment_id]
    order = await shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id))
    assert order.order.payment_id == fresh.payment.payment_id


async def test_the_provider_timing_out_places_no_order(shop: Shop, uid: str) -> None:
    await shop.user(f"{uid}-t")
    await shop.stocked(f"{uid}-t", 3)
    failure = await fails(shop.place(f"{uid}-t", {f"{uid}-t": 1}, f"{uid}-t", card="tok_timeout"),
                          grpc.StatusCode.UNAVAILABLE)
    assert failure.error_info is not None
    assert failure.error_info.reason == "PAYMENT_PROVIDER_UNAVAILABLE"
    stock = await shop.stock(f"{uid}-t")
    assert (stock.on_hand, stock.reserved) == (3, 0)


async def test_invalid_payment_requests(shop: Shop, uid: str) -> None:
    # The proto's rules, checked on entry...
    await invalid(shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id="x", amount_minor=0)), "amount_minor", "request_id")
    # ...then the payment id, whose shape routes the call.
    await invalid(shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id="x", request_id="r")), "payment_id")
    await invalid(shop.payments.RefundPayment(payment_pb2.RefundPaymentRequest(
        payment_id="p" + "0" * 32, amount_minor=-5, request_id="r")), "amount_minor")
    await fails(shop.payments.VoidPayment(payment_pb2.VoidPaymentRequest(
        payment_id="p" + "0" * 32, request_id="r")), grpc.StatusCode.NOT_FOUND)
    await invalid(shop.payments.ListPayments(payment_pb2.ListPaymentsRequest(order_id="")),
                  "order_id")
