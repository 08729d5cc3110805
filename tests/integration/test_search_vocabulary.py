"""The search vocabulary (the search_words migration): what writes teach it,
what the background recount sets, and the corrections it offers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from datagw.v1 import catalog_pb2, common_pb2

from gateway.runtime.server import Gateway
from gateway.storage.postgres import search_words
from tests.helpers import keyspace_dsn, product, upsert

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(gateway: Gateway) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
    try:
        yield conn
    finally:
        await conn.close()


async def _count(db: asyncpg.Connection, word: str) -> int | None:
    value = await db.fetchval("SELECT products FROM search_words WHERE word = $1", word)
    return None if value is None else int(value)


async def test_writes_teach_their_new_words_lower_cased_with_accents(
    catalog: Any, db: asyncpg.Connection, uid: str
) -> None:
    word = f"zorbl{uid}"
    await upsert(catalog, product(f"a-{uid}", title=f"Crème {word.upper()} Lamp",
                                  brand=f"brand{uid}", category=f"cat{uid}"))
    for expected in (word, f"brand{uid}", f"cat{uid}", "crème"):
        assert await _count(db, expected) is not None, expected
    # A second product with the word leaves the known word's count alone
    # (no hot row); the recount sets it.
    await upsert(catalog, product(f"b-{uid}", title=f"{word} shade"))
    assert await _count(db, word) == 1


async def test_an_import_teaches_its_words_with_their_counts(
    catalog: Any, db: asyncpg.Connection, uid: str
) -> None:
    word = f"quib{uid}"

    def rows() -> Any:
        for i in range(3):
            yield catalog_pb2.ImportProductsRequest(
                product=product(f"imp{i}-{uid}", title=f"{word} kettle {i}"))

    response = await catalog.ImportProducts(rows())
    assert response.imported_count == 3
    assert await _count(db, word) == 3


async def test_the_recount_sets_counts_and_drops_unused_words(
    gateway: Gateway, catalog: Any, db: asyncpg.Connection, uid: str
) -> None:
    word, gone = f"plonk{uid}", f"vanish{uid}"
    await upsert(catalog, product(f"c-{uid}", title=f"{word} {gone}"))
    await upsert(catalog, product(f"d-{uid}", title=word))
    await catalog.DeleteProduct(catalog_pb2.DeleteProductRequest(sku=f"c-{uid}"))
    assert (await _count(db, word), await _count(db, gone)) == (1, 1)

    await gateway.wiring.search_maintenance.recount()
    assert (await _count(db, word), await _count(db, gone)) == (1, None)
    await upsert(catalog, product(f"e-{uid}", title=word))
    await gateway.wiring.search_maintenance.recount()
    assert await _count(db, word) == 2


async def test_a_price_change_brings_no_words(
    gateway: Gateway, catalog: Any, db: asyncpg.Connection, uid: str
) -> None:
    word = f"glim{uid}"
    await upsert(catalog, product(f"f-{uid}", title=word))
    await db.execute("DELETE FROM search_words WHERE word = $1", word)
    await upsert(catalog, product(f"f-{uid}", title=word, price=common_pb2.Money(
        amount_minor=2000, currency_code="EUR")))
    assert await _count(db, word) is None
    await upsert(catalog, product(f"f-{uid}", title=f"{word} lamp"))
    assert await _count(db, word) == 1


async def test_near_words_are_the_nearest_vocabulary_words_folded(
    catalog: Any, db: asyncpg.Connection, uid: str
) -> None:
    # A letter first: a uid starting like "5e688" would be read as a number.
    await upsert(catalog, product(f"g-{uid}", title=f"Café q{uid}blender"))
    async with db.transaction():
        await db.execute(
            f"SET LOCAL pg_trgm.similarity_threshold = {search_words.CORRECTION_THRESHOLD}")
        terms = await search_words.query_terms(db, f"cafe q{uid}blendr xyzzyq ab", True)
    near = {w.word: w.near for w in terms.words}
    assert "café" in near["cafe"]
    assert near[f"q{uid}blendr"][0] == f"q{uid}blender"
    assert near["xyzzyq"] == ()
    assert near["ab"] == ()  # too short to judge


async def test_one_gateway_recounts_per_interval(db: asyncpg.Connection) -> None:
    """Every gateway runs the maintenance job; the first to claim a recount
    does it, the others skip theirs until the interval has passed again."""
    await db.execute("UPDATE search_settings SET recounted_at = NULL")
    assert await search_words.claim_recount(db, 600)
    assert not await search_words.claim_recount(db, 600)
    assert await search_words.claim_recount(db, 0)
