"""PaymentService: proto in, domain call, proto out."""

from __future__ import annotations

from typing import Any

import grpc
from datagw.v1 import payment_pb2, payment_pb2_grpc

from gateway.api.commerce_convert import payment_out
from gateway.api.convert import read_args
from gateway.domain.payments import PaymentsDomain

Context = grpc.aio.ServicerContext[Any, Any]


class PaymentServicer(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, domain: PaymentsDomain) -> None:
        self._domain = domain

    async def AuthorizePayment(
        self, request: payment_pb2.AuthorizePaymentRequest, context: Context
    ) -> payment_pb2.AuthorizePaymentResponse:
        payment, token = await self._domain.authorize(
            request.order_id, request.payment_method.card_token, request.request_id)
        return payment_pb2.AuthorizePaymentResponse(payment=payment_out(payment),
                                                    consistency_token=token)

    async def CapturePayment(
        self, request: payment_pb2.CapturePaymentRequest, context: Context
    ) -> payment_pb2.CapturePaymentResponse:
        payment, token = await self._domain.capture(
            request.payment_id,
            request.amount_minor if request.HasField("amount_minor") else None,
            request.request_id)
        return payment_pb2.CapturePaymentResponse(payment=payment_out(payment),
                                                  consistency_token=token)

    async def RefundPayment(
        self, request: payment_pb2.RefundPaymentRequest, context: Context
    ) -> payment_pb2.RefundPaymentResponse:
        payment, token = await self._domain.refund(
            request.payment_id, request.amount_minor, request.reason, request.request_id)
        return payment_pb2.RefundPaymentResponse(payment=payment_out(payment),
                                                 consistency_token=token)

    async def VoidPayment(
        self, request: payment_pb2.VoidPaymentRequest, context: Context
    ) -> payment_pb2.VoidPaymentResponse:
        payment, token = await self._domain.void(request.payment_id, request.request_id)
        return payment_pb2.VoidPaymentResponse(payment=payment_out(payment),
                                               consistency_token=token)

    async def GetPayment(
        self, request: payment_pb2.GetPaymentRequest, context: Context
    ) -> payment_pb2.GetPaymentResponse:
        payment = await self._domain.get(
            request.payment_id,
            *read_args(request.read_options, request.HasField("read_options")))
        return payment_pb2.GetPaymentResponse(payment=payment_out(payment))

    async def ListPayments(
        self, request: payment_pb2.ListPaymentsRequest, context: Context
    ) -> payment_pb2.ListPaymentsResponse:
        payments = await self._domain.list_for_order(
            request.order_id,
            *read_args(request.read_options, request.HasField("read_options")))
        return payment_pb2.ListPaymentsResponse(payments=[payment_out(p) for p in payments])
