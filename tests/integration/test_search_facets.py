"""Search facets and facet filters against the real server.

Every product of a test carries a word of its own in its description and
its own brand and category names, so other tests' products never count.
Expected counts are computed here from the products the test wrote.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from datagw.v1 import catalog_pb2, inventory_pb2

from gateway.domain.catalog.facets import PRICE_BAND_BOUNDS
from gateway.records.catalog import SearchQuery
from gateway.runtime.server import Gateway
from gateway.storage.postgres import catalog_store
from tests.commerce import Shop
from tests.helpers import STRONG, eventually, invalid, keyspace_dsn, money, product, upsert

pytestmark = pytest.mark.integration

SORTS = [catalog_pb2.PRODUCT_SORT_NEWEST, catalog_pb2.PRODUCT_SORT_RELEVANCE,
         catalog_pb2.PRODUCT_SORT_PRICE_ASC, catalog_pb2.PRODUCT_SORT_POPULAR]
PRICES = [500, 999, 1000, 2400, 4999, 7500, 12_000, 30_000, 75_000, 250_000]


@dataclass(frozen=True)
class Item:
    sku: str
    brand: str
    category: str
    price: int
    stocked: bool


def _band(price: int) -> int:
    return max(i for i, low in enumerate(PRICE_BAND_BOUNDS) if price >= low)


def _expected(items: list[Item], brands: Collection[str] = (),
              categories: Collection[str] = (), bands: Collection[int] = (),
              in_stock: bool = False, size: int = 10) -> dict[str, Any]:
    """What SearchFacets must say: each facet over the items passing every
    filter but its own."""
    def passes(i: Item, skip: str) -> bool:
        return ((skip == "brand" or not brands or i.brand in brands)
                and (skip == "category" or not categories or i.category in categories)
                and (skip == "price" or not bands or _band(i.price) in bands)
                and (skip == "stock" or not in_stock or i.stocked))

    def top(counter: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:size]

    band_counts = Counter(_band(i.price) for i in items if passes(i, "price"))
    stock = Counter(i.stocked for i in items if passes(i, "stock"))
    return {
        "brands": top(Counter(i.brand for i in items if passes(i, "brand"))),
        "categories": top(Counter(i.category for i in items if passes(i, "category"))),
        "bands": [band_counts.get(b, 0) for b in range(len(PRICE_BAND_BOUNDS))],
        "stock": (stock.get(True, 0), stock.get(False, 0)),
        "total": sum(passes(i, "") for i in items),
    }


def _got(f: catalog_pb2.SearchFacets) -> dict[str, Any]:
    return {
        "brands": [(c.value, c.count) for c in f.brands],
        "categories": [(c.value, c.count) for c in f.categories],
        "bands": [b.count for b in f.price_bands],
        "stock": (f.in_stock_count, f.out_of_stock_count),
        "total": f.total_count,
    }


def _band_message(b: int) -> catalog_pb2.PriceBand:
    high = PRICE_BAND_BOUNDS[b + 1] if b + 1 < len(PRICE_BAND_BOUNDS) else None
    return catalog_pb2.PriceBand(min_price_minor=PRICE_BAND_BOUNDS[b], max_price_minor=high)


async def _all_skus(catalog: Any, sort: int = catalog_pb2.PRODUCT_SORT_NEWEST,
                   **request: Any) -> set[str]:
    """Every product the search finds, by default in newest order: full-text
    matches only (relevance adds near matches of a query matching few)."""
    skus: set[str] = set()
    token = ""
    while True:
        page = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
            read_options=STRONG, page_token=token, page_size=100, sort=sort, **request))
        skus |= {p.sku for p in page.products}
        token = page.next_page_token
        if not token:
            return skus


@pytest.fixture
async def faceted(shop: Shop, uid: str) -> tuple[str, list[Item]]:
    """60 products matching the word `w<uid>`, half of them in stock, and
    some that do not match it (in the same brands and categories)."""
    rng = random.Random(uid)
    word = f"w{uid}"
    items = [Item(f"{uid}-{n}", f"Brand{uid}-{rng.choice('ABCDEFGHIJKL')}",
                  f"cat{uid}-{rng.choice('xyz')}", rng.choice(PRICES), rng.random() < 0.5)
             for n in range(60)]
    for i in items:
        await upsert(shop.catalog, product(i.sku, brand=i.brand, category=i.category,
                                           price=money(i.price), description=f"{word} thing"))
        if i.stocked:
            await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
                sku=i.sku, on_hand=3, request_id=f"stock-{i.sku}"))
    for n in range(5):  # not matching the word
        await upsert(shop.catalog, product(f"{uid}-other{n}", brand=items[n].brand,
                                           category=items[n].category))
    return word, items


async def _facets(catalog: Any, word: str, **request: Any) -> catalog_pb2.SearchFacets:
    page = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        query=word, include_facets=True, read_options=STRONG, **request))
    assert page.HasField("facets")
    return page.facets


async def test_facet_counts_are_over_all_matches_and_disjunctive(
        shop: Shop, faceted: tuple[str, list[Item]]) -> None:
    word, items = faceted

    async def stock_projected() -> bool:
        f = await _facets(shop.catalog, word)
        return (f.in_stock_count, f.out_of_stock_count) == _expected(items)["stock"]

    await eventually(stock_projected, "the in-stock flags reached the catalog")
    f = await _facets(shop.catalog, word, page_size=1)  # counts do not depend on the page
    assert _got(f) == _expected(items)
    assert not f.approximate and f.counted == len(items)
    assert [(b.band.min_price_minor,
             b.band.max_price_minor if b.band.HasField("max_price_minor") else None)
            for b in f.price_bands] == [
        (low, PRICE_BAND_BOUNDS[i + 1] if i + 1 < len(PRICE_BAND_BOUNDS) else None)
        for i, low in enumerate(PRICE_BAND_BOUNDS)]
    assert len(f.brands) == 10
    assert len((await _facets(shop.catalog, word, facet_size=3)).brands) == 3

    brands = sorted({i.brand for i in items})[:2]
    categories = sorted({i.category for i in items})[:1]
    bands = {_band(items[0].price), _band(items[1].price)}
    cases: list[dict[str, Any]] = [
        {"brands": set(brands)},
        {"brands": set(brands), "categories": set(categories)},
        {"brands": set(brands[:1]), "categories": set(categories), "bands": bands},
        {"bands": bands, "in_stock": True},
        {"categories": set(categories), "in_stock": True, "brands": set(brands)},
    ]
    for case in cases:
        request = {"brands": sorted(case.get("brands", [])),
                   "categories": sorted(case.get("categories", [])),
                   "price_bands": [_band_message(b) for b in sorted(case.get("bands", []))],
                   "in_stock": case.get("in_stock", False)}
        assert _got(await _facets(shop.catalog, word, **request)) == _expected(items, **case), case
        # The filters select the products every facet filter passes.
        want = _expected(items, **case)
        assert len(await _all_skus(shop.catalog, query=word, **request)) == want["total"]
        wanted = {i.sku for i in items
                  if (not case.get("brands") or i.brand in case["brands"])
                  and (not case.get("categories") or i.category in case["categories"])
                  and (not case.get("bands") or _band(i.price) in case["bands"])
                  and (not case.get("in_stock") or i.stocked)}
        assert await _all_skus(shop.catalog, query=word, **request) == wanted, case


async def test_single_and_repeated_filters_add_up_and_facets_need_no_text(
        shop: Shop, faceted: tuple[str, list[Item]]) -> None:
    word, items = faceted
    a, b = sorted({i.brand for i in items})[:2]
    both = await _all_skus(shop.catalog, query=word, brand=a, brands=[b])
    assert both == {i.sku for i in items if i.brand in (a, b)}
    # Without a query: every product of the filters, the non-matching ones
    # too. The brand filter applies while the products are read, so its
    # total is exact however many other products the shared test catalog
    # holds (the brand facet's own counts, over every active product, may
    # be approximate there).
    page = await shop.catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        brands=[a], include_facets=True, read_options=STRONG))
    others = sum(1 for n in range(5) if items[n].brand == a)
    expected = sum(i.brand == a for i in items) + others
    assert page.facets.total_count == page.facets.counted == expected
    # Stock has no filter here: counted over the same read as the total.
    assert page.facets.in_stock_count + page.facets.out_of_stock_count == expected


async def test_in_stock_follows_stock_changes(shop: Shop, uid: str) -> None:
    sku = f"{uid}-s"
    word = f"w{uid}"
    await upsert(shop.catalog, product(sku, description=word))

    async def stocked(want: bool) -> bool:
        # Every sort applies the filter.
        return all([bool(await _all_skus(shop.catalog, sort, query=word, in_stock=True)) == want
                    for sort in SORTS])

    assert not await stocked(True)
    await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=1, request_id=f"set-{uid}"))
    await eventually(lambda: stocked(True), "in stock after SetStock")
    await shop.inventory.AdjustStock(inventory_pb2.AdjustStockRequest(
        sku=sku, delta=-1, reason="count", request_id=f"adj-{uid}"))
    await eventually(lambda: stocked(False), "out of stock after AdjustStock")
    await shop.inventory.AdjustStock(inventory_pb2.AdjustStockRequest(
        sku=sku, delta=2, reason="count", request_id=f"adj2-{uid}"))
    await eventually(lambda: stocked(True), "in stock again")
    # A reservation of every unit leaves none available.
    await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=f"r-{uid}", items=[inventory_pb2.ReservationItem(sku=sku, quantity=2)]))
    await eventually(lambda: stocked(False), "out of stock once all is reserved")


async def test_bad_price_bands_are_refused(shop: Shop) -> None:
    await invalid(shop.catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
        price_bands=[catalog_pb2.PriceBand(min_price_minor=500, max_price_minor=500)])),
        "price_bands[0].max_price_minor")


async def test_each_read_stops_at_the_sample_and_flags_the_counts_approximate(
        gateway: Gateway, faceted: tuple[str, list[Item]]) -> None:
    """The bound itself, at the storage layer with a sample of 10: the
    matches of every filter and each filtered facet's own read stop there."""
    word, items = faceted
    brand = Counter(i.brand for i in items).most_common()[-1][0]  # 1-5 of the 60
    chosen = [i for i in items if i.brand == brand]
    conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
    try:
        counts = await catalog_store.search_facet_counts(
            conn, SearchQuery(text=word), PRICE_BAND_BOUNDS, 10, sample=10)
        assert counts.approximate and counts.total == counts.counted == 10
        # Fewer than 10 of one brand: its total is exact; the brand facet,
        # counted without the brand filter, reads 10 of the 60 and says so.
        assert len(chosen) < 10
        counts = await catalog_store.search_facet_counts(
            conn, SearchQuery(text=word, brands=(brand,)), PRICE_BAND_BOUNDS, 10, sample=10)
        assert counts.total == counts.counted == len(chosen)
        assert counts.in_stock + counts.out_of_stock == len(chosen)
        assert counts.approximate and sum(n for _, n in counts.brands) == 10
    finally:
        await conn.close()
