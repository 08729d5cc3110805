"""Typo correction and suggestions over a large catalog, at the storage layer:
python -m bench.search_text --dsn DSN [--products N] [--requests N] [--mix].

Applies the catalog migrations to the database at DSN, loads the synthetic
catalog of bench/data.py by COPY (through the products triggers, which teach
the vocabulary) unless it holds as many products already, recounts the
vocabulary, then calls catalog_store.search_products and search_words.completions
one at a time (no gateway, no cache: the SQL's cost alone) for each kind of
query and prints their latencies. docs/BENCHMARKS.md (Search quality) has the
numbers. The misspelt words are catalog words with one letter dropped,
doubled or swapped with its neighbour (data.misspelt).

With --mix it runs bench.run's search mix instead (data.query_mix: every
kind of the end-to-end scenario, first pages, each query three times after
a first pass), the page and the facet counts on two connections at once as
the gateway does: the SQL's share of `bench.run --scenario search`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable

import asyncpg

from bench import data
from bench.data import misspelt
from bench.report import percentile
from bench.run import _copy_record, generate
from gateway.api.catalog import search_query_in
from gateway.domain.catalog import facets
from gateway.records.catalog import SearchQuery
from gateway.storage.postgres import search_words
from gateway.storage.postgres.catalog_store import search_facet_counts, search_products
from gateway.storage.postgres.migrations import migrate

COLUMNS = ["sku", "title", "description", "category", "brand", "price_minor", "currency",
           "attributes", "active"]
COPY_ROWS = 50_000


async def load(conn: asyncpg.Connection, n: int) -> None:
    have = await conn.fetchval("SELECT count(*) FROM products")
    if have >= n:
        print(f"products: {have} already loaded")
        return
    payloads, gen_s = generate(n)
    print(f"generated {n} products in {gen_s:.0f} s")
    records = [_copy_record(p) for p in payloads]
    started = time.perf_counter()
    for start in range(0, n, COPY_ROWS):
        await conn.copy_records_to_table("products", columns=COLUMNS,
                                         records=records[start:start + COPY_ROWS])
    print(f"COPY of {n} products (vocabulary triggers included): "
          f"{time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    await conn.execute("VACUUM (ANALYZE) products")
    await conn.execute("VACUUM (ANALYZE) search_words")
    print(f"vacuum analyze: {time.perf_counter() - started:.0f} s")


def queries(model: data.Catalog, requests: int) -> dict[str, list[str]]:
    rng = random.Random(data.SEED + 17)
    bands = data.WordBands(rng, [w for w in model.words if len(w) >= 5])
    common, medium, rare = bands.common, bands.medium, bands.rare

    kinds: dict[str, Callable[[], str]] = {
        "common word": common,
        "rare word": rare,
        "misspelt common word": lambda: misspelt(rng, common()),
        "misspelt rare word": lambda: misspelt(rng, rare()),
        "common + medium word": lambda: f"{common()} {medium()}",
        "common + misspelt medium word": lambda: f"{common()} {misspelt(rng, medium())}",
        "two misspelt words": lambda: f"{misspelt(rng, medium())} {misspelt(rng, rare())}",
        "unknown word": lambda: "".join(rng.choice("qxzjkv") for _ in range(7)),
    }
    return {kind: [make() for _ in range(requests)] for kind, make in kinds.items()}


def prefixes(model: data.Catalog, requests: int) -> dict[str, list[str]]:
    rng = random.Random(data.SEED + 19)
    return {f"suggest, {n} letters": [rng.choice(model.words)[:n] for _ in range(requests)]
            for n in (1, 2, 3, 5)}


async def timed(call: Callable[[], Awaitable[object]]) -> int:
    started = time.perf_counter_ns()
    await call()
    return time.perf_counter_ns() - started


def row(kind: str, lats: list[int]) -> str:
    lats.sort()
    return (f"| {kind} | {len(lats)} | {percentile(lats, 50):.1f} | {percentile(lats, 95):.1f}"
            f" | {percentile(lats, 99):.1f} | {lats[-1] / 1e6:.1f} |")


async def mix(dsn: str, model: data.Catalog) -> None:
    """Each kind of bench.run's search mix; every query once unmeasured."""
    page_conn, facet_conn = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    try:
        by_kind: dict[str, list[int]] = {}
        for rep in range(4):
            for session in data.query_mix(model):
                query, facet_size = search_query_in(session.request)

                async def both(q: SearchQuery = query, size: int = facet_size) -> None:
                    await asyncio.gather(search_products(page_conn, q), *(
                        [search_facet_counts(facet_conn, q, facets.PRICE_BAND_BOUNDS, size,
                                             facets.FACET_SAMPLE)] if size else []))

                took = await timed(both)
                if rep:
                    by_kind.setdefault(session.kind, []).append(took)
        for kind, lats in sorted(by_kind.items(), key=lambda kv: -percentile(sorted(kv[1]), 95)):
            print(row(kind, lats))
    finally:
        await page_conn.close()
        await facet_conn.close()


async def main(args: argparse.Namespace) -> None:
    conn = await asyncpg.connect(args.dsn)
    try:
        await migrate(conn, "catalog")
        await load(conn, args.products)
        started = time.perf_counter()
        updated, dropped = await search_words.recount(conn)
        words = await conn.fetchval("SELECT count(*) FROM search_words")
        print(f"recount: {time.perf_counter() - started:.1f} s ({updated} counts set, "
              f"{dropped} words dropped); vocabulary: {words} words")
        model = data.Catalog.build()
        print("| kind | requests | p50 ms | p95 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|---|")
        if args.mix:
            await mix(args.dsn, model)
            return
        for kind, texts in queries(model, args.requests).items():
            lats = [await timed(lambda t=t: search_products(conn, SearchQuery(text=t)))
                    for t in texts]
            print(row(kind, lats))
        for kind, typed in prefixes(model, args.requests).items():
            lats = [await timed(lambda p=p: search_words.completions(conn, p, 10)) for p in typed]
            print(row(kind, lats))
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.search_text", description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--mix", action="store_true",
                        help="bench.run's search mix, page and facets (see above)")
    asyncio.run(main(parser.parse_args()))
