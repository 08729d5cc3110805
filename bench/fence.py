"""What the resharding fence costs an ordinary write: `--scenario fence`.

Every commerce table whose rows belong to a range has the fence trigger
(commerce migration 0009): per written row a lookup in `shard_ranges`, a
shared advisory lock, and nothing else unless the range is being moved. This
scenario measures it on one embedded commerce shard, the way an order's
pivot writes: one transaction of 7 rows (an order, 3 items, a payment, an
event and its stream row), 8 writers at once, straight from asyncpg (no
gateway, so the database's own cost is what shows).

The baseline is the same transactions with the fence triggers disabled
(`ALTER TABLE ... DISABLE TRIGGER <table>_fence`), in the same run,
alternating rounds so that the machine's drift hits both alike. The ratio
is fenced / unfenced throughput and latency.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.report import machine_info, machine_section
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.startup import create_database, database_on
from gateway.storage.postgres import fence
from gateway.storage.postgres.keyspace_id import SPACE, KeyRange, keyspace_id, ksid_bytes
from gateway.storage.postgres.migrations import migrate

FENCED_TABLES = ("orders", "order_items", "payments", "events", "streams")


@dataclass(frozen=True)
class FencePlan:
    transactions: int  # per round and mode
    rounds: int
    writers: int = 8


FULL = FencePlan(transactions=4000, rounds=3)
QUICK = FencePlan(transactions=300, rounds=2)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _order(conn: asyncpg.Connection, n: int) -> None:
    user = f"fence-{secrets.token_hex(6)}"
    ksid = ksid_bytes(keyspace_id(user))
    order_id = f"o{n:016x}{secrets.token_hex(8)}"
    async with conn.transaction():
        await conn.execute(
            """INSERT INTO orders (order_id, keyspace_id, user_id, status, currency,
                   total_minor, shipping, payment_id, saga_id)
               VALUES ($1, $2, $3, 'placed', 'EUR', 3000, '{}', $4, $5)""",
            order_id, ksid, user, f"p{order_id[1:]}", f"s{order_id[1:]}")
        await conn.executemany(
            """INSERT INTO order_items (order_id, line, keyspace_id, sku, title, quantity,
                   unit_price_minor) VALUES ($1, $2, $3, 'SKU', 'Thing', 1, 1000)""",
            [(order_id, line, ksid) for line in range(3)])
        await conn.execute(
            """INSERT INTO payments (payment_id, keyspace_id, order_id, user_id, status,
                   currency, amount_minor, provider_ref)
               VALUES ($1, $2, $3, $4, 'authorized', 'EUR', 3000, 'ref')""",
            f"p{order_id[1:]}", ksid, order_id, user)
        await conn.execute(
            "INSERT INTO streams (stream_id, revision, keyspace_id) VALUES ($1, 0, $2)",
            f"order-{order_id}", ksid)
        await conn.execute(
            """INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload,
                   metadata, keyspace_id)
               VALUES (gen_random_uuid(), $1, 0, 'OrderPlaced', '{}', '{}', $2)""",
            f"order-{order_id}", ksid)


async def _round(pool: asyncpg.Pool, plan: FencePlan, start: int) -> dict[str, float]:
    latencies: list[float] = []
    next_n = iter(range(start, start + plan.transactions))

    async def writer() -> None:
        for n in next_n:
            async with pool.acquire() as conn:
                began = time.perf_counter()
                await _order(conn, n)
                latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(plan.writers)))
    took = time.perf_counter() - began
    latencies.sort()
    return {"tx_per_s": plan.transactions / took,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}


async def _set_fence(conn: asyncpg.Connection, on: bool) -> None:
    verb = "ENABLE" if on else "DISABLE"
    for table in FENCED_TABLES:
        await conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {table}_fence")


async def run(plan: FencePlan, source: Callable[[], str]) -> dict[str, Any]:
    at_start, load_at_start = source(), [round(x, 2) for x in os.getloadavg()]
    root = Path(tempfile.mkdtemp(prefix="datagw-bench-fence-"))
    stack = EmbeddedBackends(root, ephemeral=True, shards=1, supervise=False, analytics=False)
    await asyncio.to_thread(stack.start)
    try:
        server = stack.shards[0]
        await create_database(server.dsn, "commerce")
        dsn = database_on(server.dsn, "commerce")
        admin = await asyncpg.connect(dsn)
        try:
            await migrate(admin, "commerce")
            await fence.identify(admin, "commerce", 0, [KeyRange(0, SPACE)], 1)
            pool = await asyncpg.create_pool(dsn, min_size=plan.writers,
                                             max_size=plan.writers)
            rounds: dict[str, list[dict[str, float]]] = {"fenced": [], "unfenced": []}
            n = 0
            # A warm-up round, not counted: caches, plans, the table's first pages.
            await _round(pool, FencePlan(plan.transactions // 4, 1, plan.writers), n)
            n += plan.transactions
            for r in range(plan.rounds):
                for mode in ("unfenced", "fenced") if r % 2 else ("fenced", "unfenced"):
                    await _set_fence(admin, mode == "fenced")
                    result = await _round(pool, plan, n)
                    n += plan.transactions
                    rounds[mode].append(result)
                    log(f"round {r + 1} {mode}: {result['tx_per_s']:.0f} tx/s, "
                        f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
            await _set_fence(admin, True)
            await pool.close()
        finally:
            await admin.close()
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(root, ignore_errors=True)

    def mean(mode: str, key: str) -> float:
        return statistics.mean(r[key] for r in rounds[mode])

    summary = {mode: {key: round(mean(mode, key), 2) for key in ("tx_per_s", "p50_ms",
                                                                  "p99_ms")}
               for mode in rounds}
    return {"plan": plan.__dict__, "rounds": rounds, "summary": summary,
            "ratio": {"throughput": round(summary["fenced"]["tx_per_s"]
                                          / summary["unfenced"]["tx_per_s"], 3),
                      "p50": round(summary["fenced"]["p50_ms"]
                                   / summary["unfenced"]["p50_ms"], 3)},
            "machine": machine_info({"load_client": "asyncpg, 8 writers"}),
            "source_at_start": at_start, "source_at_end": source(),
            "load_average_at_start": load_at_start}


def render(result: dict[str, Any]) -> str:
    s, plan = result["summary"], result["plan"]
    out = [*machine_section(result, "asyncpg in this process"),
           "## The fence on an ordinary write", "",
           f"{plan['rounds']} rounds of {plan['transactions']} transactions per mode, "
           f"{plan['writers']} writers; each transaction writes 7 rows (an order, 3 items, "
           "a payment, a stream row and an event).", "",
           "| mode | tx/s | p50 ms | p99 ms |", "|---|---:|---:|---:|"]
    for mode in ("unfenced", "fenced"):
        out.append(f"| {mode} | {s[mode]['tx_per_s']:.0f} | {s[mode]['p50_ms']:.2f} | "
                   f"{s[mode]['p99_ms']:.2f} |")
    out += ["", f"fenced / unfenced: throughput {result['ratio']['throughput']:.3f}, "
                f"p50 {result['ratio']['p50']:.3f}", ""]
    return "\n".join(out)
