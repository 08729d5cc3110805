"""Bad input to any catalog RPC: INVALID_ARGUMENT naming the field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from datagw.v1 import catalog_pb2
from google.protobuf.message import Message

from tests.helpers import (
    STRONG,
    fails,
    get,
    invalid,
    money,
    product,
    rewritten_token,
    sql,
    upsert,
)

pytestmark = pytest.mark.integration

Mutation = Callable[[catalog_pb2.Product], None]


def _set(**fields: Any) -> Mutation:
    def apply(p: catalog_pb2.Product) -> None:
        for name, value in fields.items():
            if name == "price" and value is None:
                p.ClearField("price")
            elif name == "attributes":
                p.attributes.clear()
                p.attributes.update(value)
            elif isinstance(value, Message):
                getattr(p, name).CopyFrom(value)
            else:
                setattr(p, name, value)
    return apply


@pytest.mark.parametrize(("mutation", "fields"), [
    (_set(title=""), ["product.title"]),
    (_set(title="   "), ["product.title"]),
    (_set(title="t" * 201), ["product.title"]),
    (_set(title="nul\x00byte"), ["product.title"]),
    (_set(description="d" * 10_001), ["product.description"]),
    (_set(category="c" * 101), ["product.category"]),
    (_set(brand="b" * 101), ["product.brand"]),
    (_set(price=money(-1)), ["product.price.amount_minor"]),
    (_set(price=money(10**15 + 1)), ["product.price.amount_minor"]),
    (_set(price=money(100, "usd")), ["product.price.currency_code"]),
    (_set(price=money(100, "EURO")), ["product.price.currency_code"]),
    (_set(price=money(100, "")), ["product.price.currency_code"]),
    (_set(price=None), ["product.price"]),
    (_set(attributes={f"k{i}": "v" for i in range(51)}), ["product.attributes"]),
    (_set(attributes={"": "v"}), ["product.attributes"]),
    (_set(attributes={"k" * 65: "v"}), ["product.attributes"]),
    (_set(attributes={"nul\x00key": "v"}), ["product.attributes"]),
    (_set(attributes={"colour": "x" * 1001}), ["product.attributes[colour]"]),
    (_set(title="", price=money(5, "usd")), ["product.title", "product.price.currency_code"]),
], ids=lambda v: None if callable(v) else "+".join(v))
async def test_upsert_rejects_bad_product_and_keeps_the_row(
    catalog: Any, uid: str, mutation: Mutation, fields: list[str]
) -> None:
    sku = f"V-{uid}"
    before = (await upsert(catalog, product(sku, title="kept"))).product
    bad = product(sku, title="changed")
    mutation(bad)
    await invalid(upsert(catalog, bad), *fields)
    assert await get(catalog, sku, STRONG) == before


@pytest.mark.parametrize(("request_fields", "fields"), [
    ({"request_id": "r" * 129}, ["request_id"]),
    ({"expected_version": -1}, ["expected_version"]),
    ({"request_id": "r" * 129, "expected_version": -3}, ["request_id", "expected_version"]),
])
async def test_upsert_rejects_bad_request_fields(
    catalog: Any, uid: str, request_fields: dict[str, Any], fields: list[str]
) -> None:
    sku = f"VR-{uid}"
    before = (await upsert(catalog, product(sku, title="kept"))).product
    await invalid(upsert(catalog, product(sku, title="changed"), **request_fields), *fields)
    assert await get(catalog, sku, STRONG) == before


async def test_request_id_of_128_characters_is_accepted(catalog: Any, uid: str) -> None:
    response = await upsert(catalog, product(f"VL-{uid}"), request_id=("r" * 118) + uid)
    assert response.created


@pytest.mark.parametrize("sku", ["", "s" * 65, "bad sku", "slash/no", "ümlaut", "a{b}"])
async def test_upsert_rejects_bad_sku_and_stores_nothing(
    catalog: Any, gateway: Any, sku: str
) -> None:
    await invalid(upsert(catalog, product(sku)), "product.sku")
    assert await sql(gateway, "catalog", "SELECT count(*) FROM products WHERE sku = $1", sku) == 0


@pytest.mark.parametrize("sku", ["", "s" * 65, "bad sku", "tab\tsku", "newline\n"])
async def test_get_and_delete_reject_bad_sku(catalog: Any, sku: str) -> None:
    await invalid(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku)), "sku")
    await invalid(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku, read_options=STRONG)),
                  "sku")
    await invalid(catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku)), "sku")


async def test_a_proto_rule_fails_in_the_shape_of_every_field_error(catalog: Any) -> None:
    """The buf.validate rules of proto/ (checked on entry, before any handler)
    answer as the hand-written checks do: ErrorInfo INVALID_ARGUMENT, one
    BadRequest violation per broken rule, its description the rule's message."""
    failure = await invalid(catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=["ok", "bad sku"])), "skus[1]")
    assert failure.error_info is not None
    assert (failure.error_info.domain, failure.error_info.reason) == ("datagw", "INVALID_ARGUMENT")
    assert failure.bad_request is not None
    (violation,) = failure.bad_request.field_violations
    # datagw.v1.sku, the API's own rule (proto/datagw/v1/rules.proto).
    assert violation.description == "must be 1-64 characters of A-Z a-z 0-9 . _ -"
    assert failure.message == f"invalid request: skus[1]: {violation.description}"
    # A standard rule: protovalidate's message.
    search = await invalid(catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        page_size=101)), "page_size")
    assert search.bad_request is not None
    assert search.bad_request.field_violations[0].description == (
        "must be greater than or equal to 0 and less than or equal to 100")


async def test_sku_of_64_characters_is_accepted(catalog: Any, uid: str) -> None:
    sku = (f"A.b_c-{uid}" * 7)[:64]
    await upsert(catalog, product(sku))
    assert (await get(catalog, sku, STRONG)).sku == sku


@pytest.mark.parametrize(("request_fields", "fields"), [
    ({"request_id": "r" * 129}, ["request_id"]),
    ({"expected_version": -1}, ["expected_version"]),
])
async def test_delete_rejects_bad_request_and_keeps_the_row(
    catalog: Any, uid: str, request_fields: dict[str, Any], fields: list[str]
) -> None:
    sku = f"VD-{uid}"
    before = (await upsert(catalog, product(sku))).product
    await invalid(catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(
        sku=sku, **request_fields)), *fields)
    assert await get(catalog, sku, STRONG) == before


@pytest.mark.parametrize(("skus", "fields"), [
    ([], ["skus"]),
    ([f"s{i}" for i in range(101)], ["skus"]),
    (["ok1", "ok2", "ok3", "bad sku"], ["skus[3]"]),
    (["", "ok", "x" * 65], ["skus[0]", "skus[2]"]),
], ids=["none", "101", "pattern", "two-bad"])
async def test_batch_get_rejects_bad_skus(catalog: Any, skus: list[str], fields: list[str]
                                          ) -> None:
    await invalid(catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(skus=skus)),
                  *fields)


async def test_batch_get_of_100_skus_is_accepted(catalog: Any, uid: str) -> None:
    skus = [f"m{i}-{uid}" for i in range(100)]
    response = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(skus=skus))
    assert list(response.missing_skus) == skus


@pytest.mark.parametrize(("request_fields", "fields"), [
    ({"page_size": 101}, ["page_size"]),
    ({"page_size": -1}, ["page_size"]),
    ({"min_price_minor": 500, "max_price_minor": 499}, ["max_price_minor"]),
    ({"min_price_minor": -1}, ["min_price_minor"]),
    ({"max_price_minor": -1}, ["max_price_minor"]),
    ({"query": "q" * 501}, ["query"]),
    ({"category": "c" * 101}, ["category"]),
    ({"brand": "b" * 101}, ["brand"]),
    ({"page_size": 0, "category": "c" * 101, "page_token": "junk"}, ["category"]),
])
async def test_search_rejects_bad_request(
    catalog: Any, request_fields: dict[str, Any], fields: list[str]
) -> None:
    await invalid(catalog.SearchProducts(catalog_pb2.SearchProductsRequest(**request_fields)),
                  *fields)


async def test_a_forged_price_page_token_is_invalid_argument(catalog: Any, uid: str) -> None:
    for n in (1, 2):
        await upsert(catalog, product(f"pt{n}-{uid}", brand=f"pt-{uid}"))
    search = catalog_pb2.SearchProductsRequest(
        brand=f"pt-{uid}", page_size=1, sort=catalog_pb2.PRODUCT_SORT_PRICE_ASC,
        read_options=STRONG)
    token = (await catalog.SearchProducts(search)).next_page_token
    for price in (10**30, -1):
        search.page_token = rewritten_token(token, 0, price)
        await invalid(catalog.SearchProducts(search), "page_token")


async def test_page_size_zero_means_the_default_of_20(catalog: Any, uid: str) -> None:
    word = f"zq{uid}"
    rows = [catalog_pb2.ImportProductsRequest(product=product(f"ps{i}-{uid}", title=word))
            for i in range(21)]

    async def stream() -> Any:
        for row in rows:
            yield row

    assert (await catalog.ImportProducts(stream())).imported_count == 21
    page = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(query=word))
    assert len(page.products) == 20 and page.next_page_token
    rest = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        query=word, page_size=0, page_token=page.next_page_token))
    assert len(rest.products) == 1 and not rest.next_page_token
    page100 = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        query=word, page_size=100))
    assert len(page100.products) == 21


async def test_import_rejects_each_kind_of_bad_row_by_field(catalog: Any, uid: str) -> None:
    cases: list[tuple[catalog_pb2.Product, str]] = [
        (product(f"x0-{uid}", title="t" * 201), "product.title"),
        (product(f"x1-{uid}", price=money(-5)), "product.price.amount_minor"),
        (product(f"x2-{uid}", price=money(5, "EURO")), "product.price.currency_code"),
        (product(f"x3-{uid}", attributes={f"k{i}": "v" for i in range(51)}),
         "product.attributes"),
        (product("x" * 65), "product.sku"),
        (product(f"x5-{uid}", attributes={"nul\x00key": "v"}), "product.attributes"),
    ]

    async def stream() -> Any:
        for p, _ in cases:
            yield catalog_pb2.ImportProductsRequest(product=p)

    report = await catalog.ImportProducts(stream())
    assert (report.received_count, report.imported_count, report.failed_count) == (
        len(cases), 0, len(cases))
    assert [(e.index, e.field) for e in report.errors] == [
        (i, field) for i, (_, field) in enumerate(cases)]
    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[f"x{i}-{uid}" for i in range(len(cases)) if i != 4], read_options=STRONG))
    assert not batch.products


async def test_read_options_are_validated(catalog: Any, uid: str) -> None:
    sku = f"VO-{uid}"
    await upsert(catalog, product(sku))
    failure = await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(
        sku=sku, read_options={"consistency": "CONSISTENCY_LEVEL_EVENTUAL",
                               "max_staleness": {"seconds": 1}})),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert failure.fields == ["read_options.max_staleness"]
    for seconds, nanos in ((0, 0), (-1, 0)):
        await invalid(catalog.GetProduct(catalog_pb2.GetProductRequest(
            sku=sku, read_options={"consistency": "CONSISTENCY_LEVEL_BOUNDED_STALENESS",
                                   "max_staleness": {"seconds": seconds, "nanos": nanos}})),
            "read_options.max_staleness")
