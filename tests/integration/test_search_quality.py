"""Search quality against the real server: a small judged query set.

Each judgment names the products that must come first, tier by tier (any
order within a tier): exact words, synonyms (the catalog policy's
search.synonyms, set for these tests), misspelt words (typo tolerance,
ranked below every full-text match) and folded accents. Every product of a
test lives in the test's own category, so other tests' products never
compete. Precision at 10 over the judged set is computed and held above the
floor measured when it was written (docs/BENCHMARKS.md, search quality).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from datagw.v1 import catalog_pb2

from gateway.runtime.server import Gateway
from gateway.storage.postgres.catalog_store import CORRECT_BELOW
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
    "laptop": ("Ultrabook Laptop 14", "Lenovo", "Thin and light"),
    "tv": ("Television 55 inch", "Samsung", "Wall mount included"),
    "sofa": ("Corner Sofa", "Ikea", "Seats five"),
}

# The catalog policy's synonyms while these tests run.
SYNONYMS = (("laptop", "notebook"), ("tv", "television"), ("sofa", "couch"))

# query -> the tiers that must open the results, in order.
JUDGED: dict[str, list[set[str]]] = {
    # Exact words: full-text search as before.
    "headphones": [{"hp-wireless", "hp-anc"}],
    "wireless headphones": [{"hp-wireless"}],
    "coffee mug": [{"mug"}],
    "bose": [{"hp-anc"}],
    "trainers": [{"shoes"}],
    # Synonyms: found as exact matches.
    "notebook": [{"laptop"}],
    "tv": [{"tv"}],
    "couch": [{"sofa"}],
    "ikea couch": [{"sofa"}],
    # One wrong, missing or extra letter.
    "hedphones": [{"hp-wireless", "hp-anc"}],
    "wireles hedphones": [{"hp-wireless"}],
    "cofee mug": [{"mug"}],
    "leathr chair": [{"chair"}],
    "blutooth speaker": [{"speaker"}],
    "stainles kettle": [{"kettle"}],
    "herman miler": [{"chair"}],
    "notebok": [{"laptop"}],
    "televison": [{"tv"}],
    # An exact match of the typed word outranks the product probably meant.
    "expresso": [{"expresso-cup"}, {"espresso"}],
    # Accents folded.
    "cafe": [{"espresso"}],
    "creme": [{"mug"}],
}
# The typo cases above (docs/BENCHMARKS.md lists them).
TYPOS = ["hedphones", "wireles hedphones", "cofee mug", "leathr chair", "blutooth speaker",
         "stainles kettle", "herman miler", "notebok", "televison", "expresso"]
# Precision at 10 over JUDGED as measured when this floor was set (1.000,
# docs/BENCHMARKS.md): of the first 10 results of each query, the share the
# judgment names.
PRECISION_AT_10_FLOOR = 1.0

# Queries that must find nothing: no word near, words too short to judge by
# trigrams, and web-search syntax, which only full-text search honours.
NOTHING = ["xyzzy", "lmp", "-mug coffee", '"cofee mug"']


def _with_search(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, **search: Any) -> None:
    """The catalog policy with `search` changed, as a reload would install it."""
    registry = gateway.policies
    current = registry.current
    catalog = current.get("catalog")
    monkeypatch.setattr(registry, "_current", replace(current, domains={
        **current.domains, "catalog": replace(catalog, search=replace(catalog.search, **search))}))


@pytest.fixture
def synonyms(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_search(gateway, monkeypatch, synonyms=SYNONYMS)


@pytest.fixture
async def search_language(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[[str], Awaitable[int]]]:
    """Sets the policy's search.language and follows it (the maintenance
    job's step, which returns once the re-index is over); the policy's own
    language afterwards."""
    maintenance = gateway.wiring.search_maintenance

    async def use(language: str) -> int:
        _with_search(gateway, monkeypatch, language=language)
        return await maintenance.follow_language()

    yield use
    monkeypatch.undo()
    await maintenance.follow_language()


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
async def judged_category(catalog: Any, uid: str, synonyms: None) -> str:
    category = f"judged-{uid}"
    for sku, (title, brand, description) in CATALOG.items():
        await upsert(catalog, product(f"{sku}-{uid}", title=title, brand=brand,
                                      description=description, category=category))
    return category


async def _judged_results(catalog: Any, uid: str, category: str) -> dict[str, list[str]]:
    return {query: [s.removesuffix(f"-{uid}")
                    for s in await _walk(catalog, query=query, category=category)]
            for query in JUDGED}


async def test_judged_queries_put_the_right_products_first(
    catalog: Any, uid: str, judged_category: str
) -> None:
    failures = []
    for query, found in (await _judged_results(catalog, uid, judged_category)).items():
        assert len(found) == len(set(found)), query
        start = 0
        for tier in JUDGED[query]:
            if set(found[start:start + len(tier)]) != tier:
                failures.append(f"{query!r}: {found} does not open with {JUDGED[query]}")
                break
            start += len(tier)
    assert not failures, "\n".join(failures)


def precision_at_10(found: list[str], relevant: set[str]) -> float:
    """The share of the first 10 results that are relevant; no result: 0."""
    top = found[:10]
    return sum(1 for sku in top if sku in relevant) / len(top) if top else 0.0


async def test_precision_at_10_over_the_judged_set_stays_above_its_floor(
    catalog: Any, uid: str, judged_category: str
) -> None:
    results = await _judged_results(catalog, uid, judged_category)
    scores = {query: precision_at_10(found, set().union(*JUDGED[query]))
              for query, found in results.items()}
    mean = sum(scores.values()) / len(scores)
    typos = sum(scores[q] for q in TYPOS) / len(TYPOS)
    print(f"precision@10: {mean:.3f} over {len(scores)} queries, {typos:.3f} over the "
          f"{len(TYPOS)} typo cases; below 1: "
          f"{ {q: round(v, 2) for q, v in scores.items() if v < 1} }")
    assert mean >= PRECISION_AT_10_FLOOR, scores


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
    for i in range(CORRECT_BELOW):
        await upsert(catalog, product(f"hose{i}-{uid}", title=f"Garden hose {i}",
                                      category=category))
    # A product whose title has the typo: found only as a near match.
    await upsert(catalog, product(f"typo-{uid}", title="Gardenn hose", category=category))
    exact = {f"hose{i}-{uid}" for i in range(CORRECT_BELOW)}
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


# -- the search language (search.language) -----------------------------------


async def test_a_language_change_reindexes_and_searches_in_that_language(
    catalog: Any, uid: str, search_language: Callable[[str], Awaitable[int]]
) -> None:
    category = f"lang-{uid}"
    sku = f"de-{uid}"
    await upsert(catalog, product(sku, title="Kaffeemaschinen und Zubehör", category=category))

    async def found(query: str) -> list[str]:
        # Sorted by price: full-text matches only, no corrections.
        return await _walk(catalog, query=query, category=category,
                           sort=catalog_pb2.PRODUCT_SORT_PRICE_ASC)

    # English stems neither plural nor singular to the other; "und" is a word.
    assert (await found("kaffeemaschine"), await found("und")) == ([], [sku])
    await search_language("german")
    # German does, and "und" is one of its stop words.
    assert (await found("kaffeemaschine"), await found("und")) == ([sku], [])
    # A new product is indexed in the language too.
    await upsert(catalog, product(f"de2-{uid}", title="Espressomaschinen", category=category))
    assert await found("espressomaschine") == [f"de2-{uid}"]
    # A name PostgreSQL lacks is logged and the current language kept.
    assert await search_language("klingon") == 0
    assert await found("kaffeemaschine") == [sku]


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
