"""CatalogService against the real embedded stack: writes, reads, search, import."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from datagw.v1 import catalog_pb2

from gateway.domain.catalog import service as catalog_service
from gateway.storage.postgres.search_relevance import RANK_ALL_UP_TO
from tests.helpers import EVENTUAL, STRONG, fails, get, money, product, same_answer, upsert

pytestmark = pytest.mark.integration

ABORTED = grpc.StatusCode.ABORTED
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def _full(sku: str, word: str = "") -> catalog_pb2.Product:
    return product(
        sku, title=f"Trail runner {word}".strip(), description="Light shoe for rocky paths",
        category="shoes", brand="Peakline", price=money(12995, "USD"),
        attributes={"colour": "red", "size": "42", "ünï": "cödé"}, active=True,
    )


def _same_content(a: catalog_pb2.Product, b: catalog_pb2.Product) -> None:
    for name in ("sku", "title", "description", "category", "brand", "active"):
        assert getattr(a, name) == getattr(b, name), name
    assert (a.price.amount_minor, a.price.currency_code) == (
        b.price.amount_minor, b.price.currency_code)
    assert dict(a.attributes) == dict(b.attributes)


# -- upsert / get ------------------------------------------------------------


async def test_upsert_creates_then_updates(catalog: Any, uid: str) -> None:
    sku = f"U-{uid}"
    first = await upsert(catalog, _full(sku))
    assert first.created and first.product.version == 1
    assert first.product.create_time.seconds > 0
    assert first.product.update_time == first.product.create_time
    assert first.consistency_token

    second = await upsert(catalog, _full(sku))
    assert not second.created and second.product.version == 2
    assert second.product.create_time == first.product.create_time
    assert second.product.update_time.ToDatetime() > first.product.update_time.ToDatetime()


@pytest.mark.parametrize("options", [STRONG, None], ids=["strong", "default"])
async def test_get_round_trips_every_field(catalog: Any, uid: str, options: Any) -> None:
    sent = _full(f"G-{uid}")
    stored = (await upsert(catalog, sent)).product
    got = await get(catalog, sent.sku, options) if options else (
        await catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sent.sku))).product
    _same_content(got, sent)
    assert got == stored


async def test_inactive_product_round_trips(catalog: Any, uid: str) -> None:
    sent = product(f"I-{uid}", active=False, attributes={})
    await upsert(catalog, sent)
    got = await get(catalog, sent.sku, STRONG)
    assert not got.active and dict(got.attributes) == {}


# -- optimistic concurrency --------------------------------------------------


async def test_wrong_expected_version_is_aborted_and_changes_nothing(
    catalog: Any, uid: str
) -> None:
    sku = f"EV-{uid}"
    await upsert(catalog, product(sku, title="v1"))
    await upsert(catalog, product(sku, title="v2"))

    failure = await fails(upsert(catalog, product(sku, title="lost"), expected_version=1), ABORTED)
    assert failure.error_info is not None
    assert failure.error_info.reason == "VERSION_MISMATCH"
    assert failure.error_info.metadata["current_version"] == "2"
    assert failure.error_info.metadata["expected_version"] == "1"
    got = await get(catalog, sku, STRONG)
    assert (got.title, got.version) == ("v2", 2)

    ok = await upsert(catalog, product(sku, title="v3"), expected_version=2)
    assert ok.product.version == 3


async def test_expected_version_zero_means_must_not_exist(catalog: Any, uid: str) -> None:
    sku = f"EZ-{uid}"
    created = await upsert(catalog, product(sku, title="first"), expected_version=0)
    assert created.created and created.product.version == 1

    failure = await fails(upsert(catalog, product(sku, title="second"), expected_version=0),
                          ABORTED)
    assert failure.error_info is not None
    assert failure.error_info.reason == "VERSION_MISMATCH"
    assert failure.error_info.metadata["current_version"] == "1"
    got = await get(catalog, sku, STRONG)
    assert (got.title, got.version) == ("first", 1)


async def test_concurrent_creates_with_expected_version_zero_have_one_winner(
    catalog: Any, uid: str
) -> None:
    sku = f"EC-{uid}"
    results = await asyncio.gather(
        *(upsert(catalog, product(sku, title=f"writer {i}"), expected_version=0)
          for i in range(6)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, catalog_pb2.UpsertProductResponse)]
    losers = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1, results
    assert len(losers) == 5 and all(e.code() == ABORTED for e in losers)
    got = await get(catalog, sku, STRONG)
    assert got.version == 1 and got.title == winners[0].product.title


# -- batch get / delete ------------------------------------------------------


async def test_batch_get_keeps_request_order_and_lists_missing(catalog: Any, uid: str) -> None:
    skus = [f"B{i}-{uid}" for i in range(4)]
    for sku in skus:
        await upsert(catalog, product(sku))
    wanted = [skus[2], f"none1-{uid}", skus[0], skus[3], skus[2], f"none2-{uid}", skus[1]]
    response = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(skus=wanted))
    assert [p.sku for p in response.products] == [skus[2], skus[0], skus[3], skus[1]]
    assert list(response.missing_skus) == [f"none1-{uid}", f"none2-{uid}"]
    assert all(p.version == 1 and p.title == f"Product {p.sku}" for p in response.products)


async def test_delete_then_get_is_not_found(catalog: Any, uid: str) -> None:
    sku = f"D-{uid}"
    await upsert(catalog, product(sku))
    await get(catalog, sku)  # cached, so the delete must invalidate it
    response = await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku))
    assert response.consistency_token

    for options in (STRONG, None):
        request = catalog_pb2.GetProductRequest(sku=sku, read_options=options)
        failure = await fails(catalog.GetProduct(request), NOT_FOUND)
        assert failure.resource_info is not None
        assert (failure.resource_info.resource_type, failure.resource_info.resource_name) == (
            "product", sku)
        assert failure.error_info is not None
        assert failure.error_info.reason == "PRODUCT_NOT_FOUND"

    again = await fails(catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku)),
                        NOT_FOUND)
    assert again.resource_info is not None and again.resource_info.resource_name == sku


async def test_delete_with_wrong_expected_version_keeps_the_product(
    catalog: Any, uid: str
) -> None:
    sku = f"DV-{uid}"
    await upsert(catalog, product(sku))
    failure = await fails(catalog.DeleteProduct(
        catalog_pb2.DeleteProductRequest(sku=sku, expected_version=7)), ABORTED)
    assert failure.error_info is not None
    assert failure.error_info.metadata["current_version"] == "1"
    assert (await get(catalog, sku, STRONG)).version == 1
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=sku, expected_version=1))
    await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(sku=sku, read_options=STRONG)),
                NOT_FOUND)


# -- idempotency ---------------------------------------------------------------


async def test_retry_with_same_request_id_returns_the_first_answer(
    catalog: Any, uid: str
) -> None:
    sku = f"R-{uid}"
    await upsert(catalog, product(sku, title="v1"))
    first = await upsert(catalog, product(sku, title="v2"), request_id=f"req-{uid}")
    retry = await upsert(catalog, product(sku, title="v2"), request_id=f"req-{uid}")
    assert first.product.version == 2
    same_answer(first, retry, "catalog")
    got = await get(catalog, sku, STRONG)
    assert (got.title, got.version) == ("v2", 2)


async def test_request_id_reused_with_other_payload_is_rejected(catalog: Any, uid: str) -> None:
    sku = f"RR-{uid}"
    await upsert(catalog, product(sku, title="original"), request_id=f"req-{uid}")
    failure = await fails(
        upsert(catalog, product(sku, title="changed"), request_id=f"req-{uid}"),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert failure.error_info is not None
    assert failure.error_info.reason == "REQUEST_ID_REUSED"
    assert failure.error_info.metadata["request_id"] == f"req-{uid}"
    # Another method may not reuse it either.
    await fails(catalog.DeleteProduct(
        catalog_pb2.DeleteProductRequest(sku=sku, request_id=f"req-{uid}")),
        grpc.StatusCode.ALREADY_EXISTS)
    got = await get(catalog, sku, STRONG)
    assert (got.title, got.version) == ("original", 1)


async def test_concurrent_retries_of_one_request_write_once(catalog: Any, uid: str) -> None:
    sku = f"RC-{uid}"
    await upsert(catalog, product(sku, title="v1"))
    answers = await asyncio.gather(*(
        upsert(catalog, product(sku, title="v2"), request_id=f"req-{uid}") for _ in range(5)))
    assert {a.product.version for a in answers} == {2}
    for answer in answers[1:]:
        same_answer(answers[0], answer, "catalog", ordered=False)
    assert (await get(catalog, sku, STRONG)).version == 2


async def test_delete_retry_with_same_request_id_succeeds_once(catalog: Any, uid: str) -> None:
    sku = f"RD-{uid}"
    await upsert(catalog, product(sku))
    request = catalog_pb2.DeleteProductRequest(sku=sku, request_id=f"del-{uid}")
    first = await catalog.DeleteProduct(request)
    retry = await catalog.DeleteProduct(request)
    same_answer(first, retry, "catalog")


# -- search ------------------------------------------------------------------


async def _search(catalog: Any, **fields: Any) -> catalog_pb2.SearchProductsResponse:
    response: catalog_pb2.SearchProductsResponse = await catalog.SearchProducts(
        catalog_pb2.SearchProductsRequest(**fields))
    return response


async def _skus(catalog: Any, **fields: Any) -> list[str]:
    return [p.sku for p in (await _search(catalog, **fields)).products]


async def test_search_matches_title_description_and_brand(catalog: Any, uid: str) -> None:
    word, cat = f"zq{uid}", f"cat{uid}"
    await upsert(catalog, product(f"T-{uid}", title=f"Kettle {word}", category=cat))
    await upsert(catalog, product(f"D-{uid}", title="Kettle", description=f"with {word} inside",
                                  category=cat))
    await upsert(catalog, product(f"B-{uid}", title="Kettle", brand=word, category=cat))
    await upsert(catalog, product(f"N-{uid}", title="Kettle", category=cat))
    assert sorted(await _skus(catalog, query=word)) == sorted(
        [f"T-{uid}", f"D-{uid}", f"B-{uid}"])
    # Web-search syntax: an excluded word removes the rows that have it.
    assert await _skus(catalog, query=f"kettles -{word}", category=cat) == [f"N-{uid}"]
    assert len(await _skus(catalog, query=f"kettle or {word}", category=cat)) == 4


async def test_search_filters(catalog: Any, uid: str) -> None:
    word = f"zq{uid}"
    rows = {
        f"a-{uid}": dict(category="tea", brand="Oolo", price=money(500)),
        f"b-{uid}": dict(category="tea", brand="Brewco", price=money(1500)),
        f"c-{uid}": dict(category="coffee", brand="Brewco", price=money(2500)),
        f"d-{uid}": dict(category="tea", brand="Oolo", price=money(900), active=False),
    }
    for sku, fields in rows.items():
        await upsert(catalog, product(sku, title=f"Cup {word}", **fields))

    async def found(**filters: Any) -> set[str]:
        return set(await _skus(catalog, query=word, **filters))

    assert await found() == {f"a-{uid}", f"b-{uid}", f"c-{uid}"}
    assert await found(include_inactive=True) == set(rows)
    assert await found(category="tea") == {f"a-{uid}", f"b-{uid}"}
    assert await found(brand="Brewco") == {f"b-{uid}", f"c-{uid}"}
    assert await found(min_price_minor=1500) == {f"b-{uid}", f"c-{uid}"}
    assert await found(max_price_minor=1500) == {f"a-{uid}", f"b-{uid}"}
    assert await found(min_price_minor=600, max_price_minor=1000, include_inactive=True) == {
        f"d-{uid}"}
    assert await found(category="tea", brand="Oolo", include_inactive=True) == {
        f"a-{uid}", f"d-{uid}"}
    assert await found(category="juice") == set()


async def test_search_sorts(catalog: Any, uid: str) -> None:
    word = f"zq{uid}"
    # Created in this order, so "newest" is the reverse.
    await upsert(catalog, product(f"desc-{uid}", title="Plain mug", description=f"a {word} mug",
                                  price=money(300)))
    await upsert(catalog, product(f"title-{uid}", title=f"Mug {word}", price=money(900)))
    await upsert(catalog, product(f"brand-{uid}", title="Mug", brand=word, price=money(100)))

    relevance = await _skus(catalog, query=word, sort=catalog_pb2.PRODUCT_SORT_RELEVANCE)
    assert relevance[0] == f"title-{uid}"
    assert relevance.index(f"brand-{uid}") < relevance.index(f"desc-{uid}")
    assert await _skus(catalog, query=word) == relevance  # relevance is the default with a query
    assert await _skus(catalog, query=word, sort=catalog_pb2.PRODUCT_SORT_PRICE_ASC) == [
        f"brand-{uid}", f"desc-{uid}", f"title-{uid}"]
    assert await _skus(catalog, query=word, sort=catalog_pb2.PRODUCT_SORT_PRICE_DESC) == [
        f"title-{uid}", f"desc-{uid}", f"brand-{uid}"]
    assert await _skus(catalog, query=word, sort=catalog_pb2.PRODUCT_SORT_NEWEST) == [
        f"brand-{uid}", f"title-{uid}", f"desc-{uid}"]


@pytest.mark.parametrize("sort", [
    catalog_pb2.PRODUCT_SORT_RELEVANCE, catalog_pb2.PRODUCT_SORT_PRICE_ASC,
    catalog_pb2.PRODUCT_SORT_PRICE_DESC, catalog_pb2.PRODUCT_SORT_NEWEST,
])
async def test_keyset_paging_walks_every_row_once_in_order(
    catalog: Any, uid: str, sort: int
) -> None:
    word = f"zq{uid}"
    # Equal prices and equal ranks force the SKU tie-break across page edges.
    prices = [700, 300, 300, 500, 300, 900, 100]
    for i, price in enumerate(prices):
        text = f"{word} {word}" if i % 3 == 0 else word
        await upsert(catalog, product(f"p{i}-{uid}", title=f"Bowl {text}", price=money(price)))
    everything = await _skus(catalog, query=word, sort=sort, page_size=100)
    assert sorted(everything) == sorted(f"p{i}-{uid}" for i in range(len(prices)))

    walked: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await _search(catalog, query=word, sort=sort, page_size=2, page_token=token)
        pages += 1
        assert len(page.products) <= 2
        walked += [p.sku for p in page.products]
        token = page.next_page_token
        if not token:
            break
        assert pages < 10, "paging does not end"
    assert walked == everything
    assert pages == 4


async def test_page_token_is_bound_to_its_query(catalog: Any, uid: str) -> None:
    word = f"zq{uid}"
    for i in range(3):
        await upsert(catalog, product(f"k{i}-{uid}", title=f"Lamp {word}", category="light"))
    first = await _search(catalog, query=word, page_size=2)
    assert first.next_page_token

    for changed in ({"category": "light"}, {"query": f"lamp {word}"},
                    {"sort": catalog_pb2.PRODUCT_SORT_PRICE_ASC}, {"include_inactive": True}):
        request = {"query": word, "page_size": 2, "page_token": first.next_page_token, **changed}
        failure = await fails(_search(catalog, **request), grpc.StatusCode.INVALID_ARGUMENT)
        assert failure.fields == ["page_token"], changed

    for garbage in ("garbage!!", "eyJub3QiOiJ0aGlzIn0", "e30", base64.urlsafe_b64encode(
            b"\xff\xfe").decode()):
        failure = await fails(_search(catalog, query=word, page_size=2, page_token=garbage),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert failure.fields == ["page_token"], garbage


async def test_tampered_page_token_is_invalid_argument(catalog: Any, uid: str) -> None:
    word = f"zq{uid}"
    for i in range(3):
        await upsert(catalog, product(f"t{i}-{uid}", title=f"Vase {word}", price=money(i)))
    first = await _search(catalog, query=word, page_size=2,
                          sort=catalog_pb2.PRODUCT_SORT_PRICE_ASC)
    token = first.next_page_token
    body = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for key in (["cheap", "x"], [1, 2], [1], "k"):
        forged = base64.urlsafe_b64encode(
            json.dumps({**body, "k": key}).encode()).decode().rstrip("=")
        failure = await fails(_search(catalog, query=word, page_size=2, page_token=forged,
                                      sort=catalog_pb2.PRODUCT_SORT_PRICE_ASC),
                              grpc.StatusCode.INVALID_ARGUMENT)
        assert failure.fields == ["page_token"], key


# -- import ------------------------------------------------------------------


async def _stream(products: list[catalog_pb2.Product]
                  ) -> AsyncIterator[catalog_pb2.ImportProductsRequest]:
    for p in products:
        yield catalog_pb2.ImportProductsRequest(product=p)


async def test_import_reports_bad_rows_and_stores_good_ones(catalog: Any, uid: str) -> None:
    rows = [
        product(f"i0-{uid}", title="good zero"),
        product(f"i1-{uid}", title=""),
        product(f"i2-{uid}", title="good two", attributes={"k": "v"}),
        product(f"i3-{uid}", price=money(100, "usd")),
        product("bad sku!"),
        product(f"i5-{uid}", title="no price", price=None),
        product(f"i6-{uid}", title="good six", price=money(0, "JPY")),
    ]
    report = await catalog.ImportProducts(_stream(rows))
    assert (report.received_count, report.imported_count, report.failed_count) == (7, 3, 4)
    assert [(e.index, e.sku, e.field) for e in report.errors] == [
        (1, f"i1-{uid}", "product.title"),
        (3, f"i3-{uid}", "product.price.currency_code"),
        (4, "bad sku!", "product.sku"),
        (5, f"i5-{uid}", "product.price"),
    ]
    assert all(e.description for e in report.errors)

    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[r.sku for r in rows if r.sku != "bad sku!"], read_options=STRONG))
    assert [p.sku for p in batch.products] == [f"i0-{uid}", f"i2-{uid}", f"i6-{uid}"]
    for stored in batch.products:
        _same_content(stored, next(r for r in rows if r.sku == stored.sku))
        assert stored.version == 1
    assert list(batch.missing_skus) == [f"i1-{uid}", f"i3-{uid}", f"i5-{uid}"]


async def test_import_takes_many_products_per_message(catalog: Any, uid: str) -> None:
    """`products` carries rows after `product`; rows are numbered across
    messages; a message with neither is one rejected row, as before."""
    rows = [
        product(f"m0-{uid}", title="good zero"),
        product(f"m1-{uid}", title=""),
        product(f"m2-{uid}", title="good two"),
        product(f"m3-{uid}", price=money(100, "usd")),
        product(f"m4-{uid}", title="good four"),
        product(f"m5-{uid}", title="good five"),
    ]

    async def stream() -> AsyncIterator[catalog_pb2.ImportProductsRequest]:
        yield catalog_pb2.ImportProductsRequest(product=rows[0], products=rows[1:3])
        yield catalog_pb2.ImportProductsRequest(products=rows[3:5])
        yield catalog_pb2.ImportProductsRequest()
        yield catalog_pb2.ImportProductsRequest(product=rows[5])

    report = await catalog.ImportProducts(stream())
    assert (report.received_count, report.imported_count, report.failed_count) == (7, 4, 3)
    assert [(e.index, e.sku, e.field) for e in report.errors] == [
        (1, f"m1-{uid}", "product.title"),
        (3, f"m3-{uid}", "product.price.currency_code"),
        (5, "", "product.sku"),
    ]
    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[r.sku for r in rows], read_options=STRONG))
    assert [p.sku for p in batch.products] == [rows[i].sku for i in (0, 2, 4, 5)]


async def test_import_of_several_batches_reports_rows_in_order(
        catalog: Any, uid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches are written while the next is checked: every row still lands
    or is reported, errors in row order, and cached products of every batch
    are invalidated by the time the call returns."""
    monkeypatch.setattr(catalog_service, "IMPORT_BATCH", 3)
    skus = [f"b{i}-{uid}" for i in range(11)]
    await upsert(catalog, product(skus[1], title="old one"))
    await upsert(catalog, product(skus[9], title="old nine"))
    for sku in (skus[1], skus[9]):
        await get(catalog, sku)  # cached: the import must invalidate it
    rows = [product(sku, title=f"new {i}") for i, sku in enumerate(skus)]
    rows[4] = product(skus[4], title="")
    rows[7] = product(skus[7], price=None)
    report = await catalog.ImportProducts(_stream(rows))
    assert (report.received_count, report.imported_count, report.failed_count) == (11, 9, 2)
    assert [(e.index, e.field) for e in report.errors] == [
        (4, "product.title"), (7, "product.price")]
    for i in (1, 9):
        for options in (STRONG, EVENTUAL):
            assert (await get(catalog, skus[i], options)).title == f"new {i}"


async def test_reimport_updates_existing_products(catalog: Any, uid: str) -> None:
    sku = f"re-{uid}"
    await upsert(catalog, product(sku, title="before"))
    await get(catalog, sku)  # cached: the import must invalidate it
    report = await catalog.ImportProducts(_stream([product(sku, title="after"),
                                                   product(f"new-{uid}")]))
    assert (report.received_count, report.imported_count, report.failed_count) == (2, 2, 0)
    for options in (STRONG, EVENTUAL):
        got = await get(catalog, sku, options)
        assert (got.title, got.version) == ("after", 2)


async def test_a_new_product_was_last_updated_when_it_was_created(
    catalog: Any, uid: str
) -> None:
    # Many rows: two separate clock readings differ only now and then.
    imported = [product(f"n{i}-{uid}") for i in range(100)]
    assert (await catalog.ImportProducts(_stream(imported))).imported_count == 100
    batch = await catalog.BatchGetProducts(catalog_pb2.BatchGetProductsRequest(
        skus=[p.sku for p in imported], read_options=STRONG))
    upserted = await asyncio.gather(*(upsert(catalog, product(f"u{i}-{uid}"))
                                      for i in range(50)))
    created = list(batch.products) + [u.product for u in upserted]
    assert len(created) == 150
    assert [p.sku for p in created if p.update_time != p.create_time] == []


async def test_empty_import_reports_zero(catalog: Any) -> None:
    report = await catalog.ImportProducts(_stream([]))
    assert (report.received_count, report.imported_count, report.failed_count) == (0, 0, 0)


async def test_a_repeated_sku_in_one_import_keeps_the_last_row(catalog: Any, uid: str) -> None:
    sku = f"dup-{uid}"
    report = await catalog.ImportProducts(_stream([product(sku, title="first"),
                                                   product(sku, title="second")]))
    # Every row is accounted for: received = imported + failed.
    assert (report.received_count, report.imported_count, report.failed_count) == (2, 2, 0)
    assert (await get(catalog, sku, STRONG)).title == "second"


async def test_a_product_written_without_active_is_active(catalog: Any, uid: str) -> None:
    word = f"zqact{uid}"
    unset = catalog_pb2.Product(sku=f"a-{uid}", title=f"{word} lamp", price=money(100))
    stored = (await upsert(catalog, unset)).product
    assert stored.HasField("active") and stored.active
    inactive = product(f"b-{uid}", title=f"{word} desk", active=False)
    assert not (await upsert(catalog, inactive)).product.active
    found = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        query=word, read_options=STRONG))
    assert [p.sku for p in found.products] == [f"a-{uid}"]


async def _walk(catalog: Any, **request: Any) -> list[str]:
    skus: list[str] = []
    token = ""
    while True:
        page = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
            page_size=100, page_token=token, read_options=STRONG, **request))
        skus.extend(p.sku for p in page.products)
        token = page.next_page_token
        if not token:
            return skus


async def test_relevance_ranks_every_match_of_a_medium_word(catalog: Any, uid: str) -> None:
    word = f"zqall{uid}"
    # The newest 1,000 matches (the window relevance once ranked) miss it.
    # The best match is the oldest: the word in its title and description.
    # Every other has it once: in the title (weight A) or the description.
    best = product(f"w-best-{uid}", title=word, description=f"the {word} itself")
    rows = [product(f"w{i:05d}-{uid}", title=f"{word} title", description="other words")
            if i % 3 == 0 else product(f"w{i:05d}-{uid}", title="plain",
                                       description=f"about {word}")
            for i in range(1200)]
    await upsert(catalog, best)
    assert (await catalog.ImportProducts(_stream(rows))).imported_count == len(rows)
    newest = await _walk(catalog, query=word, sort=catalog_pb2.PRODUCT_SORT_NEWEST)
    assert best.sku not in newest[:1000]
    ranked = await _walk(catalog, query=word)
    assert ranked[0] == best.sku
    assert sorted(ranked) == sorted([best.sku, *(r.sku for r in rows)])
    # Title matches (weight A) outrank description-only ones.
    titled = {r.sku for r in rows if r.title.startswith(word)} | {best.sku}
    first = [s in titled for s in ranked]
    assert first == sorted(first, reverse=True)


async def test_relevance_of_a_common_word_ranks_title_matches_from_all_the_catalog(
        catalog: Any, uid: str) -> None:
    word = f"zqcom{uid}"
    best = product(f"c-best-{uid}", title=word, description=f"the {word} itself")
    rows = [product(f"c{i:05d}-{uid}", title=f"{word} title", description="other words")
            if i % 500 == 0 else product(f"c{i:05d}-{uid}", title="plain",
                                         description=f"about {word}")
            for i in range(2 * RANK_ALL_UP_TO)]
    assert (await catalog.ImportProducts(_stream(rows))).imported_count == len(rows)
    await upsert(catalog, best)
    ranked = await _walk(catalog, query=word)
    # Too common to rank all: the first matches read (2,001 of 4,001) and
    # every title match, though half of them and the best come after those.
    titled = {r.sku for r in rows if r.title.startswith(word)} | {best.sku}
    assert RANK_ALL_UP_TO < len(ranked) <= RANK_ALL_UP_TO + 1 + len(titled) < len(rows)
    assert len(set(ranked)) == len(ranked)
    assert ranked[0] == best.sku
    assert set(ranked[:len(titled)]) == titled
