"""A NUL character (U+0000) in a string the gateway would send to PostgreSQL,
which refuses NUL in text: INVALID_ARGUMENT naming the field, and nothing
written; never INTERNAL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from datagw.v1 import (
    catalog_pb2,
    eventstore_pb2,
    eventstore_pb2_grpc,
    inventory_pb2,
    order_pb2,
    payment_pb2,
    user_pb2,
)

from tests.commerce import Shop
from tests.eventstore import append, event
from tests.helpers import STRONG, fails, get, invalid, product, rewritten_token, upsert

pytestmark = pytest.mark.integration

NUL = "nul\x00byte"


@dataclass
class Case:
    """Prepare state, send the request with a NUL in `field`, then check that
    the state is as prepared."""

    field: str
    prepare: Callable[[Shop, eventstore_pb2_grpc.EventStoreServiceStub, str], Awaitable[None]]
    send: Callable[[Shop, eventstore_pb2_grpc.EventStoreServiceStub, str], Awaitable[Any]]
    unchanged: Callable[[Shop, eventstore_pb2_grpc.EventStoreServiceStub, str], Awaitable[None]]


async def _nothing(shop: Shop, es: Any, key: str) -> None:
    pass


async def _product_exists(shop: Shop, es: Any, key: str) -> None:
    assert (await get(shop.catalog, key, STRONG)).sku == key


async def _no_product(shop: Shop, es: Any, key: str) -> None:
    await fails(get(shop.catalog, key, STRONG), grpc.StatusCode.NOT_FOUND)


async def _stock_5(shop: Shop, es: Any, key: str) -> None:
    await shop.stocked(key, 5)


async def _still_5(shop: Shop, es: Any, key: str) -> None:
    assert await shop.available(key) == 5


async def _user(shop: Shop, es: Any, key: str) -> None:
    await shop.user(key)


async def _no_user(shop: Shop, es: Any, key: str) -> None:
    await fails(shop.users.GetUser(user_pb2.GetUserRequest(user_id=key)),
                grpc.StatusCode.NOT_FOUND)


async def _no_orders(shop: Shop, es: Any, key: str) -> None:
    listed = await shop.orders.ListOrders(order_pb2.ListOrdersRequest(user_id=key))
    assert list(listed.orders) == []


async def _no_stream(shop: Shop, es: Any, key: str) -> None:
    await fails(es.ReadStream(eventstore_pb2.ReadStreamRequest(
        stream=eventstore_pb2.StreamRef(stream=f"nul-{key}"))), grpc.StatusCode.NOT_FOUND)


def _order(key: str, request_id: str = "r", name: str = "A") -> order_pb2.CreateOrderRequest:
    return order_pb2.CreateOrderRequest(
        user_id=key, items=[order_pb2.OrderItemInput(sku=key, quantity=1)],
        shipping=order_pb2.Address(name=name, line1="B", city="C", country_code="DE"),
        payment_method=payment_pb2.PaymentMethod(card_token="tok"), request_id=request_id)


async def _user_and_stock(shop: Shop, es: Any, key: str) -> None:
    await shop.user(key)
    await shop.stocked(key, 5)


async def _no_order_and_still_5(shop: Shop, es: Any, key: str) -> None:
    await _no_orders(shop, es, key)
    await _still_5(shop, es, key)


def _tagged(value: str) -> eventstore_pb2.EventData:
    tagged = event()
    tagged.metadata["tag"] = value
    return tagged


CASES = {
    "DeleteProduct.request_id": Case(
        "request_id", lambda s, es, k: upsert(s.catalog, product(k)),
        lambda s, es, k: s.catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(
            sku=k, request_id=NUL)), _product_exists),
    "UpsertProduct.request_id": Case(
        "request_id", _nothing, lambda s, es, k: upsert(s.catalog, product(k), request_id=NUL),
        _no_product),
    "SearchProducts.query": Case(
        "query", _nothing, lambda s, es, k: s.catalog.SearchProducts(
            catalog_pb2.SearchProductsRequest(query=NUL)), _nothing),
    "SearchProducts.brand": Case(
        "brand", _nothing, lambda s, es, k: s.catalog.SearchProducts(
            catalog_pb2.SearchProductsRequest(query="x", brand=NUL)), _nothing),
    "SuggestProducts.prefix": Case(
        "prefix", _nothing, lambda s, es, k: s.catalog.SuggestProducts(
            catalog_pb2.SuggestProductsRequest(prefix=NUL)), _nothing),
    "SetStock.request_id": Case(
        "request_id", _stock_5, lambda s, es, k: s.inventory.SetStock(
            inventory_pb2.SetStockRequest(sku=k, on_hand=9, request_id=NUL)), _still_5),
    "AdjustStock.request_id": Case(
        "request_id", _stock_5, lambda s, es, k: s.inventory.AdjustStock(
            inventory_pb2.AdjustStockRequest(sku=k, delta=3, reason="count",
                                             request_id=NUL)), _still_5),
    "CreateUser.request_id": Case(
        "request_id", _nothing, lambda s, es, k: s.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=k, email=f"{k}@example.com", display_name=k, request_id=NUL)), _no_user),
    "CreateUser.display_name": Case(
        "display_name", _nothing, lambda s, es, k: s.users.CreateUser(
            user_pb2.CreateUserRequest(user_id=k, email=f"{k}@example.com", display_name=NUL,
                                       request_id="r")), _no_user),
    "CreateOrder.request_id": Case(
        "request_id", _user_and_stock,
        lambda s, es, k: s.orders.CreateOrder(_order(k, request_id=NUL)),
        _no_order_and_still_5),
    "CreateOrder.shipping.name": Case(
        "shipping.name", _user_and_stock, lambda s, es, k: s.orders.CreateOrder(
            _order(k, name=NUL)), _no_order_and_still_5),
    "AppendToStream.metadata": Case(
        "events[0].metadata", _nothing,
        lambda s, es, k: es.AppendToStream(append(f"nul-{k}", [_tagged(NUL)])), _no_stream),
    "AppendToStream.payload": Case(
        "events[0].payload", _nothing,
        lambda s, es, k: es.AppendToStream(append(f"nul-{k}", [event(note={"deep": [NUL]})])),
        _no_stream),
}


@pytest.fixture(scope="module")
def es(channel: grpc.aio.Channel) -> eventstore_pb2_grpc.EventStoreServiceStub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


@pytest.mark.parametrize("name", CASES)
async def test_a_nul_character_is_invalid_argument_and_writes_nothing(
        shop: Shop, es: eventstore_pb2_grpc.EventStoreServiceStub, uid: str, name: str) -> None:
    case = CASES[name]
    key = f"nul-{uid}"
    await case.prepare(shop, es, key)
    await invalid(case.send(shop, es, key), case.field)
    await case.unchanged(shop, es, key)


async def test_a_page_token_whose_key_holds_nul_is_invalid_argument(shop: Shop, uid: str) -> None:
    """Page tokens are not sealed: one rewritten by a caller to carry NUL in
    its key (which goes to SQL) is refused like any damaged token."""
    for n in (1, 2):
        await upsert(shop.catalog, product(f"nul-page-{uid}-{n}", brand=f"nul-{uid}"))
    search = catalog_pb2.SearchProductsRequest(brand=f"nul-{uid}", page_size=1,
                                               read_options=STRONG)
    first = await shop.catalog.SearchProducts(search)
    assert first.next_page_token
    search.page_token = rewritten_token(first.next_page_token, -1, NUL)
    await invalid(shop.catalog.SearchProducts(search), "page_token")
