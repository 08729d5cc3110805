"""The search facets and relevance benchmark: python -m bench.facets --products N.

Runs in this process on the embedded stack with the gateway's backends
opened but no gRPC server: it times the SQL of facet counts
(catalog_store.search_facet_counts) and of relevance's first page
(search_products) per kind of query, on bench/data.py's synthetic catalog
COPYed straight into `products` (half of the products marked in stock in the
product_stock projection's table). Each kind runs `--reps` times over
`--queries` different queries after one warm pass; the table gives the
latency percentiles in ms. "exact" rows count every match (no sample) for
comparison with the bounded counts the gateway runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from bench import data
from bench.relay import log
from bench.report import machine_info
from bench.run import _copy_record
from gateway.domain.catalog.facets import DEFAULT_FACET_SIZE, FACET_SAMPLE, PRICE_BAND_BOUNDS
from gateway.records.catalog import SearchQuery
from gateway.runtime.config import Config
from gateway.runtime.server import Gateway
from gateway.storage.postgres import catalog_store as store

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["sku", "title", "description", "category", "brand", "price_minor", "currency",
           "attributes", "active"]


def _records(args: tuple[int, int, int]) -> list[tuple[Any, ...]]:
    return [_copy_record(p) for p in data.generate_chunk(args)]


async def load(gw: Gateway, products: int) -> dict[str, Any]:
    """COPY the catalog in, mark every other product in stock, VACUUM ANALYZE."""
    chunks = [(data.SEED, start, min(start + data.CHUNK, products))
              for start in range(0, products, data.CHUNK)]
    started = time.perf_counter()
    async with gw.backends.keyspaces["catalog"].single.connection("bench") as conn:
        with Pool(2) as pool:
            for n, records in enumerate(pool.imap(_records, chunks)):
                await conn.copy_records_to_table("products", columns=COLUMNS, records=records)
                log(f"  loaded {min((n + 1) * data.CHUNK, products)} / {products}")
        await conn.execute(
            "INSERT INTO product_stock_g0 (sku, available, in_stock) SELECT sku, n % 2, n % 2 = 1"
            " FROM (SELECT sku, row_number() OVER (ORDER BY sku) AS n FROM products) AS s")
        load_s = time.perf_counter() - started
        await conn.execute("VACUUM (ANALYZE) products, product_stock_g0")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('products'))")
    return {"load_s": round(load_s, 1), "products_table_size": size}


def kinds(queries: int) -> dict[str, list[SearchQuery]]:
    """The kinds of search measured, `queries` of each."""
    model = data.Catalog.build()
    rng = random.Random(data.SEED + 11)
    words = model.words

    def pick(low: int, high: int) -> str:
        return words[rng.randint(low, high)]

    def many(make: Callable[[], SearchQuery]) -> list[SearchQuery]:
        return [make() for _ in range(queries)]

    return {
        "common word": many(lambda: SearchQuery(text=pick(3, 30))),
        "medium word": many(lambda: SearchQuery(text=pick(100, 600))),
        "rare word": many(lambda: SearchQuery(text=pick(3000, 15000))),
        "two words": many(lambda: SearchQuery(text=f"{pick(3, 30)} {pick(100, 600)}")),
        "common word + 2 brands": many(lambda: SearchQuery(
            text=pick(3, 30), brands=tuple(model.brands[rng.randint(0, 50)] for _ in range(2)))),
        "common word + brand + category + in stock": many(lambda: SearchQuery(
            text=pick(3, 30), brand=model.brands[rng.randint(0, 50)],
            category=rng.choice(model.categories[:20]), in_stock=True)),
        "category, no text": many(lambda: SearchQuery(
            category=rng.choice(model.categories[:30]), sort="newest")),
    }


async def timed(runs: list[Callable[[], Awaitable[Any]]], reps: int) -> dict[str, float]:
    for run in runs:  # warm pass
        await run()
    ms: list[float] = []
    for _ in range(reps):
        for run in runs:
            started = time.perf_counter()
            await run()
            ms.append((time.perf_counter() - started) * 1000)
    ms.sort()
    return {"p50": round(statistics.median(ms), 1),
            "p95": round(ms[int(0.95 * (len(ms) - 1))], 1), "max": round(ms[-1], 1)}


async def measure(gw: Gateway, queries: int, reps: int) -> list[dict[str, Any]]:
    shard = gw.backends.keyspaces["catalog"].single
    rows = []
    for kind, qs in kinds(queries).items():
        async with shard.connection("bench") as conn:
            def facets(q: SearchQuery, sample: int) -> Callable[[], Awaitable[Any]]:
                return lambda: store.search_facet_counts(
                    conn, q, PRICE_BAND_BOUNDS, DEFAULT_FACET_SIZE, sample)

            counted = [await facets(q, FACET_SAMPLE)() for q in qs]
            exact = [await facets(q, 10**9)() for q in qs]
            row = {"kind": kind,
                   "matches_median": int(statistics.median(c.total for c in exact)),
                   "approximate": sum(c.approximate for c in counted),
                   "facets": await timed([facets(q, FACET_SAMPLE) for q in qs], reps),
                   "facets_exact": await timed([facets(q, 10**9) for q in qs], max(1, reps // 3)),
                   "page": await timed([
                       (lambda q=q: store.search_products(conn, q)) for q in qs], reps)}
        log(json.dumps(row))
        rows.append(row)
    return rows


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['products']} products ({result['load']['products_table_size']}), "
             f"{result['queries']} queries x {result['reps']} reps per kind, sample "
             f"{result['sample']}; ms",
             "",
             "| kind | median matches | approximate | facets p50 | p95 | max "
             "| exact count p50 | p95 | page p50 | p95 | max |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["rows"]:
        f, e, p = r["facets"], r["facets_exact"], r["page"]
        lines.append(f"| {r['kind']} | {r['matches_median']} | {r['approximate']} "
                     f"| {f['p50']} | {f['p95']} | {f['max']} | {e['p50']} | {e['p95']} "
                     f"| {p['p50']} | {p['p95']} | {p['max']} |")
    return "\n".join(lines)


async def run(products: int, queries: int, reps: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="datagw-bench-facets-"))
    gw = Gateway(Config(listen="127.0.0.1:0", metrics_listen=None,
                        policies_dir=ROOT / "policies", data_dir=data_dir, ephemeral=True))
    try:
        await gw.open_backends()
        log(f"loading {products} products")
        loaded = await load(gw, products)
        rows = await measure(gw, queries, reps)
    finally:
        await gw.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {"products": products, "queries": queries, "reps": reps, "sample": FACET_SAMPLE,
            "load": loaded, "rows": rows, "machine": machine_info({"target": "postgres"})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    result = asyncio.run(run(args.products, args.queries, args.reps))
    print(render(result))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
