"""Search quality against the real server: a small judged query set.

Each judgment names the products that must come first, tier by tier (any
order within a tier): exact words, misspelt words (typo tolerance, ranked
below every full-text match) and folded accents. Every product of a test
lives in the test's own category, so other tests' products never compete.
"""

from __future__ import annotations

from typing import Any

import pytest
from datagw.v1 import catalog_pb2

from gateway.storage.postgres.catalog_store import FUZZY_BELOW
from tests.helpers import STRONG, invalid, product, upsert

pytestmark = pytest.mark.integration

# sku -> (title, brand, description)
CATALOG = {
    "hp-wireless": ("Wireless Headphones Pro", "Acme", "Over-ear bluetooth headphones"),
    "hp-anc": ("Noise Cancelling Headphones", "Bose", "Quiet flights"),
    "mug": ("Ceramic Coffee Mug", "Crème Co", "Holds 350 ml"),
    "espresso": ("Café Espresso Machine", "Bialetti", "Stovetop moka pot"),
    "expresso-cup": ("Expresso Travel Cup", "Thermos", "Keeps drinks hot"),
    "chair": ("Leather Office Chair", "Herman Miller", "Adjustable armrests"),
    "speaker": ("Bluetooth Speaker Mini", "Sony", "Pocket sized"),
    "lamp": ("Desk Lamp LED", "Ikea", "Warm white light"),
    "kettle": ("Stainless Steel Kettle", "Smeg", "1.7 litres"),
    "shoes": ("Running Shoes", "Asics", "Lightweight trainers"),
}

# query -> the tiers that must open the results, in order.
JUDGED: dict[str, list[set[str]]] = {
    # Exact words: full-text search as before.
    "headphones": [{"hp-wireless", "hp-anc"}],
    "wireless headphones": [{"hp-wireless"}],
    "coffee mug": [{"mug"}],
    "bose": [{"hp-anc"}],
    "trainers": [{"shoes"}],
    # One wrong, missing or extra letter.
    "hedphones": [{"hp-wireless", "hp-anc"}],
    "wireles hedphones": [{"hp-wireless"}],
    "cofee mug": [{"mug"}],
    "leathr chair": [{"chair"}],
    "blutooth speaker": [{"speaker"}],
    "stainles kettle": [{"kettle"}],
    "herman miler": [{"chair"}],
    # An exact match of the typed word outranks the product probably meant.
    "expresso": [{"expresso-cup"}, {"espresso"}],
    # Accents folded.
    "cafe": [{"espresso"}],
    "creme": [{"mug"}],
}

# Queries that must find nothing: no word near, words too short to judge by
# trigrams, and web-search syntax, which only full-text search honours.
NOTHING = ["xyzzy", "lmp", "-mug coffee", '"cofee mug"']


async def _walk(catalog: Any, **request: Any) -> list[str]:
    skus: list[str] = []
    token = ""
    while True:
        page = await catalog.SearchProducts(catalog_pb2.SearchProductsRequest(
            read_options=STRONG, page_token=token, **request))
        skus.extend(p.sku for p in page.products)
        token = page.next_page_token
        if not token:
            return skus


@pytest.fixture
async def judged_category(catalog: Any, uid: str) -> str:
    category = f"judged-{uid}"
    for sku, (title, brand, description) in CATALOG.items():
        await upsert(catalog, product(f"{sku}-{uid}", title=title, brand=brand,
                                      description=description, category=category))
    return category


async def test_judged_queries_put_the_right_products_first(
    catalog: Any, uid: str, judged_category: str
) -> None:
    failures = []
    for query, tiers in JUDGED.items():
        found = [s.removesuffix(f"-{uid}")
                 for s in await _walk(catalog, query=query, category=judged_category)]
        assert len(found) == len(set(found)), query
        start = 0
        for tier in tiers:
            if set(found[start:start + len(tier)]) != tier:
                failures.append(f"{query!r}: {found} does not open with {tiers}")
                break
            start += len(tier)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("query", NOTHING)
async def test_queries_without_a_near_word_find_nothing(
    catalog: Any, judged_category: str, query: str
) -> None:
    assert await _walk(catalog, query=query, category=judged_category) == []


async def test_pages_walk_exact_then_near_matches_once(
    catalog: Any, uid: str, judged_category: str
) -> None:
    whole = await _walk(catalog, query="expresso", category=judged_category, page_size=100)
    assert whole[:2] == [f"expresso-cup-{uid}", f"espresso-{uid}"]
    assert await _walk(catalog, query="expresso", category=judged_category,
                       page_size=1) == whole


async def test_near_matches_only_when_full_text_finds_too_little(
    catalog: Any, uid: str
) -> None:
    category = f"hoses-{uid}"
    for i in range(FUZZY_BELOW):
        await upsert(catalog, product(f"hose{i}-{uid}", title=f"Garden hose {i}",
                                      category=category))
    # A product whose title has the typo: found only as a near match.
    await upsert(catalog, product(f"typo-{uid}", title="Gardenn hose", category=category))
    exact = {f"hose{i}-{uid}" for i in range(FUZZY_BELOW)}
    assert set(await _walk(catalog, query="garden hose", category=category)) == exact

    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=f"hose0-{uid}"))
    found = await _walk(catalog, query="garden hose", category=category)
    assert set(found[:-1]) == exact - {f"hose0-{uid}"}
    assert found[-1] == f"typo-{uid}"


async def test_near_matches_keep_the_filters(catalog: Any, uid: str) -> None:
    category = f"filters-{uid}"
    await upsert(catalog, product(f"on-{uid}", title="Headphones", category=category,
                                  brand="Acme"))
    await upsert(catalog, product(f"off-{uid}", title="Headphones", category=category,
                                  brand="Acme", active=False))
    await upsert(catalog, product(f"other-{uid}", title="Headphones", category=category,
                                  brand="Bose"))
    assert await _walk(catalog, query="hedphones", category=category, brand="Acme") == [
        f"on-{uid}"]
    assert sorted(await _walk(catalog, query="hedphones", category=category, brand="Acme",
                              include_inactive=True)) == sorted([f"off-{uid}", f"on-{uid}"])


# -- suggestions as you type (SuggestProducts) --------------------------------


async def _suggest(catalog: Any, prefix: str, limit: int = 0) -> list[tuple[str, str, int]]:
    response = await catalog.SuggestProducts(catalog_pb2.SuggestProductsRequest(
        prefix=prefix, limit=limit, read_options=STRONG))
    return [(s.text, s.word, s.product_count) for s in response.suggestions]


async def test_suggestions_complete_the_last_word_most_used_first(
    gateway: Any, catalog: Any, uid: str
) -> None:
    # Words unique to this test: its uid, in letters, starts each one.
    stem = "".join(chr(ord("a") + int(c, 16)) for c in uid)
    for i in range(3):
        await upsert(catalog, product(f"s{i}-{uid}", title=f"{stem}phones wireless {i}"))
    await upsert(catalog, product(f"t-{uid}", title=f"{stem}phonic Crème"))
    await upsert(catalog, product(f"u-{uid}", title=f"{stem}xyz"))
    await gateway.wiring.search_maintenance.recount()

    assert await _suggest(catalog, f"Wireless {stem.upper()}PHON") == [
        (f"Wireless {stem}phones", f"{stem}phones", 3),
        (f"Wireless {stem}phonic", f"{stem}phonic", 1)]
    assert [w for _, w, _ in await _suggest(catalog, stem)] == [
        f"{stem}phones", f"{stem}phonic", f"{stem}xyz"]
    assert len(await _suggest(catalog, stem, limit=2)) == 2
    assert await _suggest(catalog, f"{stem}phones ") == []
    assert await _suggest(catalog, f"{stem}q") == []


async def test_suggestions_ignore_accents_and_keep_them_in_the_word(
    catalog: Any, uid: str
) -> None:
    stem = "".join(chr(ord("a") + int(c, 16)) for c in uid)
    await upsert(catalog, product(f"acc-{uid}", title=f"{stem}é café"))
    assert [w for _, w, _ in await _suggest(catalog, f"{stem}e")] == [f"{stem}é"]


async def test_a_prefix_is_checked(catalog: Any) -> None:
    await invalid(catalog.SuggestProducts(catalog_pb2.SuggestProductsRequest(prefix="")),
                  "prefix")
    await invalid(catalog.SuggestProducts(catalog_pb2.SuggestProductsRequest(
        prefix="x" * 101)), "prefix")
    await invalid(catalog.SuggestProducts(catalog_pb2.SuggestProductsRequest(
        prefix="x", limit=21)), "limit")
