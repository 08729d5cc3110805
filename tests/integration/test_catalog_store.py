"""Storage-level properties of the catalog SQL that the API cannot show."""

from __future__ import annotations

import asyncpg
import pytest

from gateway.records.catalog import SearchQuery
from gateway.runtime.server import Gateway
from gateway.storage.postgres.catalog_store import search_products
from tests.helpers import keyspace_dsn

pytestmark = pytest.mark.integration


async def test_searches_are_planned_for_their_own_words(gateway: Gateway) -> None:
    # A generic plan guesses one selectivity for every word; searches must
    # keep getting custom plans however often a statement is reused.
    conn = await asyncpg.connect(keyspace_dsn(gateway, "catalog"))
    try:
        for word in ["mug", "lamp", "zzzrare", "desk", "chair", "cup", "mug", "lamp", "pen"]:
            await search_products(conn, SearchQuery(text=word, category="kitchen"))
        plans = await conn.fetch(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT sku%websearch_to_tsquery%'")
        # One statement per shape: a word with near words in the vocabulary
        # (typo tolerance) adds its corrections' parameters.
        assert plans
        assert [p["generic_plans"] for p in plans] == [0] * len(plans)
        assert sum(p["custom_plans"] for p in plans) == 9
    finally:
        await conn.close()
