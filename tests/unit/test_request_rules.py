"""The buf.validate rules of proto/ as the interceptor applies them: our
InvalidArgument with one field violation per broken rule, paths in our
notation, and each message of a client stream checked as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from datagw.v1 import analytics_pb2, catalog_pb2, inventory_pb2, order_pb2, payment_pb2, user_pb2
from google.protobuf.message import Message

from gateway.api.interceptors import _checked
from gateway.api.validation import check_request
from gateway.errors import FieldViolation, InvalidArgument

SKU_RULE = "must be 1-64 characters of A-Z a-z 0-9 . _ -"


def violations(message: Message) -> tuple[FieldViolation, ...]:
    with pytest.raises(InvalidArgument) as caught:
        check_request(message)
    assert caught.value.reason == "INVALID_ARGUMENT"
    return tuple(caught.value.field_violations)


def test_a_valid_request_passes() -> None:
    check_request(catalog_pb2.GetProductRequest(sku="SKU-1"))
    check_request(inventory_pb2.AdjustStockRequest(sku="s", delta=-3, request_id="r"))


def test_every_broken_rule_is_one_violation_with_its_path() -> None:
    assert violations(catalog_pb2.BatchGetProductsRequest(skus=["ok", "bad sku", "x" * 65])) == (
        FieldViolation("skus[1]", SKU_RULE), FieldViolation("skus[2]", SKU_RULE))
    assert violations(inventory_pb2.AdjustStockRequest(sku="", delta=0)) == (
        FieldViolation("sku", SKU_RULE),
        FieldViolation("delta", "must not be in list [0]"),
        FieldViolation("request_id", "value is required"))


@pytest.mark.parametrize("text", ["nul\x00", "x" * 129])
def test_stored_text_keeps_its_limits(text: str) -> None:
    (violation,) = violations(catalog_pb2.DeleteProductRequest(sku="s", request_id=text))
    assert violation.field == "request_id"


def test_a_sku_with_a_trailing_newline_is_refused() -> None:
    # The pattern matches the whole text: "$" must not allow a final "\n".
    assert violations(catalog_pb2.GetProductRequest(sku="sku\n")) == (
        FieldViolation("sku", SKU_RULE),)


def test_commerce_writes_keep_their_messages() -> None:
    assert violations(user_pb2.EraseUserRequest(user_id="u", reason=" \t")) == (
        FieldViolation("reason", "required"),
        FieldViolation("request_id", "required: every write carries an idempotency key"))
    assert violations(order_pb2.UpdateOrderStatusRequest(
        order_id="o", status=order_pb2.ORDER_STATUS_PAID, request_id="r")) == (
        FieldViolation("status", "must be SHIPPED or DELIVERED; PAID comes from "
                                 "CapturePayment and CANCELLED from CancelOrder"),)


@pytest.mark.parametrize("country", ["Germany", "de", "DE\n"])
def test_a_country_code_is_two_capitals_and_nothing_more(country: str) -> None:
    address = order_pb2.Address(name="A", line1="B", city="C", country_code=country)
    assert violations(order_pb2.CreateOrderRequest(
        user_id="u", items=[order_pb2.OrderItemInput(sku="s", quantity=1)], shipping=address,
        payment_method=payment_pb2.PaymentMethod(card_token="tok"), request_id="r")) == (
        FieldViolation("shipping.country_code",
                       "must be an ISO 3166-1 alpha-2 code such as DE"),)


@pytest.mark.parametrize("currency", ["", "eur", "EURO", "EUR\n"])
def test_a_currency_code_is_three_capitals_and_nothing_more(currency: str) -> None:
    assert violations(analytics_pb2.TopProductsRequest(currency_code=currency)) == (
        FieldViolation("currency_code", "required: an ISO 4217 code, three upper-case letters"),)


async def test_a_client_streams_messages_are_checked_as_they_arrive() -> None:
    async def stream() -> AsyncIterator[catalog_pb2.GetProductRequest]:
        yield catalog_pb2.GetProductRequest(sku="good")
        yield catalog_pb2.GetProductRequest(sku="bad sku")

    seen = []
    with pytest.raises(InvalidArgument):
        async for message in _checked(stream()):
            seen.append(message.sku)
    assert seen == ["good"]
