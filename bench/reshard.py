"""The resharding benchmark: python -m bench.run --scenario reshard [--quick] [--orders N].

The stack of tests/reshard_stack.py: four commerce shard servers, shards 0
and 1 serving "-80" and "80-", 2 and 3 spare; an in-process gateway on it.

1. N orders are written straight into shards 0 and 1 (users by COPY, the
   rest generated in SQL from them; see `bulk_load`), and the gateway's
   projections are left to catch up with the loaded events before anything
   is measured.
2. Writers place orders through gRPC (CreateOrder) for users of every range,
   the moving one included, for the whole run. After a steady phase (the
   latency baseline), a plain binary COPY of range "40-80" from shard 0 to
   scratch tables on shard 2 (the direct driver: what the hardware does with
   the same rows between the same servers), then the workflow moving
   "40-80" to shard 2: copy, verify, catch-up under load, then the load
   stops until the captured changes are applied (the drain), and starts
   again for the cutovers: switch, reverse, switch, ... each with its
   server-side write pause and the longest gap between successful
   CreateOrder completions of the moving range's users seen by the client.
3. Cleanup deletes the range from shard 0, and the run checks that every
   order a writer was told about is on the shard serving its user.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc

from bench.commerce_data import ITEMS_SQL, SHIPPING_JSON
from bench.report import machine_info, machine_section, percentile
from gateway.records.resharding import Action, Phase, Workflow
from gateway.runtime.config import Config
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from gateway.storage.postgres import range_copy
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id, ksid_bytes
from tests.commerce import Shop, order_request
from tests.reshard_stack import SERVING, reshard_keyspaces, start_stack

ROOT = Path(__file__).resolve().parent.parent
MOVING = KeyRange.parse("40-80")
SOURCE, TARGET = 0, 2
SKU = "BENCH-RESHARD"
ORDERS_PER_USER = 4
# Scratch tables of the plain COPY baseline, on the target's commerce database.
PLAIN_SCHEMA = "bench_plain_copy"


@dataclass(frozen=True)
class ReshardPlan:
    orders: int
    writers: int
    steady_s: float      # load before anything moves: the latency baseline
    catch_up_s: float    # load while the workflow catches up, before the drain
    cutovers: int        # switch, reverse, switch, ...
    between_s: float     # load between two cutovers
    timeout_s: float     # for any one phase of the workflow


FULL = ReshardPlan(orders=1_000_000, writers=8, steady_s=20.0, catch_up_s=15.0, cutovers=5,
                   between_s=3.0, timeout_s=1800.0)
QUICK = ReshardPlan(orders=20_000, writers=4, steady_s=3.0, catch_up_s=3.0, cutovers=3,
                    between_s=1.0, timeout_s=300.0)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# -- the bulk load ----------------------------------------------------------------

# Each user's orders, generated where they are stored: ids carry the user's
# keyspace id as the gateway's do ("o"/"p"/"s", its 16 hex digits, 16 more),
# a status mix of mostly delivered old orders, created over the last year.
ORDERS_SQL = """
INSERT INTO orders (order_id, keyspace_id, user_id, status, currency, total_minor, shipping,
                    payment_id, saga_id, created_at, updated_at)
SELECT 'o' || k.hex || lpad(to_hex(r.a), 16, '0'), u.keyspace_id, u.user_id,
       CASE WHEN r.pick < 70 THEN 'delivered' WHEN r.pick < 80 THEN 'shipped'
            WHEN r.pick < 88 THEN 'paid' WHEN r.pick < 95 THEN 'placed' ELSE 'cancelled' END,
       'EUR', 3 * (100 + r.price), $2::jsonb,
       'p' || k.hex || lpad(to_hex(r.b), 16, '0'), 's' || k.hex || lpad(to_hex(r.c), 16, '0'),
       r.created, r.created
FROM users u
CROSS JOIN LATERAL (SELECT encode(u.keyspace_id, 'hex') AS hex) AS k
CROSS JOIN generate_series(1, $1::integer) AS g(n)
CROSS JOIN LATERAL (
    SELECT hashtextextended(u.user_id || '/' || g.n, 1) AS a,
           hashtextextended(u.user_id || '/' || g.n, 2) AS b,
           hashtextextended(u.user_id || '/' || g.n, 3) AS c,
           abs(hashtextextended(u.user_id || '/' || g.n, 4) % 100) AS pick,
           abs(hashtextextended(u.user_id || '/' || g.n, 5) % 19900) AS price,
           now() - abs(hashtextextended(u.user_id || '/' || g.n, 6) % 31536000)
                   * interval '1 second' AS created
) AS r
"""

# One payment per order, in the state its order's status implies.
PAYMENTS_SQL = """
INSERT INTO payments (payment_id, keyspace_id, order_id, user_id, status, currency,
                      amount_minor, captured_minor, provider_ref, created_at, updated_at)
SELECT payment_id, keyspace_id, order_id, user_id,
       CASE status WHEN 'placed' THEN 'authorized' WHEN 'cancelled' THEN 'voided'
                   ELSE 'captured' END,
       currency, total_minor,
       CASE WHEN status IN ('placed', 'cancelled') THEN 0 ELSE total_minor END,
       'sim_' || substr(md5(payment_id), 1, 24), created_at, updated_at
FROM orders
"""

# One OrderPlaced per order, shaped as the gateway writes it (the lines, and
# a sealed envelope of the size the gateway's has), in creation order, and
# its stream.
EVENTS_SQL = """
INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload, metadata,
                    keyspace_id, created_at)
SELECT md5(o.order_id)::uuid, 'order-' || o.order_id, 0, 'OrderPlaced',
       jsonb_build_object(
           'order_id', o.order_id, 'user_id', o.user_id, 'status', 'placed',
           'currency', o.currency, 'total_minor', o.total_minor, 'payment_id', o.payment_id,
           'saga_id', o.saga_id, 'version', 1, 'created_at', o.created_at,
           'updated_at', o.created_at,
           'items', (SELECT jsonb_agg(jsonb_build_object(
                         'sku', i.sku, 'title', i.title, 'quantity', i.quantity,
                         'unit_price_minor', i.unit_price_minor, 'category', i.category)
                         ORDER BY i.line)
                     FROM order_items i WHERE i.order_id = o.order_id),
           '_pii', jsonb_build_object(
               'user_id', o.user_id, 'v', 1,
               'nonce', encode(substr(sha256(convert_to(o.order_id, 'UTF8')), 1, 12), 'base64'),
               'ciphertext', encode(sha512(convert_to(o.order_id, 'UTF8'))
                                    || sha512(convert_to(o.payment_id, 'UTF8'))
                                    || substr(sha256(convert_to(o.saga_id, 'UTF8')), 1, 12),
                                    'base64'))),
       '{"request_id": "bench", "actor": "bench"}'::jsonb, o.keyspace_id, o.created_at
FROM orders o ORDER BY o.created_at
"""

# A cancelled order's stream has its OrderCancelled after the OrderPlaced, as
# CancelOrder writes it: the read models (and verify's recomputation of them
# from the orders table) then agree with the orders loaded.
CANCELLED_SQL = """
INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload, metadata,
                    keyspace_id, created_at)
SELECT md5('cancel/' || o.order_id)::uuid, 'order-' || o.order_id, 1, 'OrderCancelled',
       jsonb_build_object(
           'order_id', o.order_id, 'reason', 'bench', 'user_id', o.user_id,
           'currency', o.currency, 'total_minor', o.total_minor, 'placed_at', o.created_at,
           'items', (SELECT jsonb_agg(jsonb_build_object(
                         'sku', i.sku, 'title', i.title, 'quantity', i.quantity,
                         'unit_price_minor', i.unit_price_minor, 'category', i.category)
                         ORDER BY i.line)
                     FROM order_items i WHERE i.order_id = o.order_id)),
       '{"request_id": "bench", "actor": "bench"}'::jsonb, o.keyspace_id, o.updated_at
FROM orders o WHERE o.status = 'cancelled' ORDER BY o.created_at
"""
STREAMS_SQL = """
INSERT INTO streams (stream_id, revision, keyspace_id, created_at, updated_at)
SELECT stream_id, max(stream_revision), min(keyspace_id), min(created_at), max(created_at)
FROM events GROUP BY stream_id
"""


def commerce_dsn(stack: EmbeddedBackends, shard: int) -> str:
    return stack.shards[shard].dsn.rsplit("/", 1)[0] + "/commerce"


async def bulk_load(stack: EmbeddedBackends, orders: int) -> dict[str, Any]:
    """`orders` orders (with their users, items, payments, events) on shards
    0 and 1, each row on the shard owning its keyspace id."""
    users = [f"rs-bulk-{i:07d}" for i in range(-(-orders // ORDERS_PER_USER))]
    serving = [(i, r) for i, r in enumerate(SERVING) if r is not None]

    def shard_of(key: str) -> int:
        ksid = keyspace_id(key)
        return next(i for i, r in serving if r.contains(ksid))

    user_rows: dict[int, list[tuple[Any, ...]]] = {i: [] for i, _ in serving}
    email_rows: dict[int, list[tuple[Any, ...]]] = {i: [] for i, _ in serving}
    for u in users:
        email = f"{u}@bench.example"
        user_rows[shard_of(u)].append((u, ksid_bytes(keyspace_id(u)), email, u))
        email_rows[shard_of(email)].append((email, ksid_bytes(keyspace_id(email)), u))
    timings: dict[str, float] = {}

    async def load(shard: int) -> dict[str, int]:
        conn = await asyncpg.connect(commerce_dsn(stack, shard))
        try:
            # As a restore does: no triggers (the fence, the event NOTIFY) and
            # no foreign key checks; the rows are valid by construction.
            await conn.execute("SET session_replication_role = replica")
            started = time.perf_counter()
            await conn.copy_records_to_table(
                "users", columns=("user_id", "keyspace_id", "email", "display_name"),
                records=user_rows[shard])
            await conn.copy_records_to_table(
                "user_emails", columns=("email", "keyspace_id", "user_id"),
                records=email_rows[shard])
            await conn.execute(ORDERS_SQL, ORDERS_PER_USER, json.dumps(SHIPPING_JSON))
            await conn.execute(ITEMS_SQL)
            await conn.execute(PAYMENTS_SQL)
            await conn.execute(EVENTS_SQL)
            await conn.execute(CANCELLED_SQL)
            await conn.execute(STREAMS_SQL)
            timings[f"shard {shard} load"] = time.perf_counter() - started
            started = time.perf_counter()
            # What autovacuum would do within minutes of a load this size.
            await conn.execute("VACUUM (ANALYZE)")
            await conn.execute("CHECKPOINT")
            timings[f"shard {shard} vacuum, analyze, checkpoint"] = time.perf_counter() - started
            return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}"))
                    for t in ("users", "user_emails", "orders", "order_items", "payments",
                              "events", "streams")}
        finally:
            await conn.close()

    started = time.perf_counter()
    counts = await asyncio.gather(*(load(i) for i, _ in serving))
    took = time.perf_counter() - started
    total = sum((Counter(c) for c in counts), Counter())
    return {"rows": dict(total), "rows_per_shard": counts, "took_s": round(took, 1),
            "orders_per_s": round(total["orders"] / took),
            "phases_s": {k: round(v, 1) for k, v in sorted(timings.items())}}


async def projections_caught_up(stack: EmbeddedBackends, timeout_s: float) -> float:
    """Seconds until every projection's checkpoint on shards 0 and 1 is at
    the shard's last event: the loaded events are behind every reader before
    anything is measured, as on a system that has been running."""
    started = time.perf_counter()
    catalog = await asyncpg.connect(stack.postgres.dsn.rsplit("/", 1)[0] + "/catalog")
    shards = [await asyncpg.connect(commerce_dsn(stack, i)) for i in (0, 1)]
    try:
        while True:
            ends = [await c.fetchrow("SELECT tx_id::text::bigint AS c, position FROM events "
                                     "ORDER BY tx_id DESC, position DESC LIMIT 1")
                    for c in shards]
            rows = await catalog.fetch(
                """SELECT shard, min(ROW(commit, position)) AS at FROM projection_checkpoints
                   JOIN projection_generations USING (projection, generation)
                   WHERE source_keyspace = 'commerce' GROUP BY shard""")
            at = {r["shard"]: tuple(r["at"]) for r in rows}
            if all(end is None or at.get(i, (0, 0)) >= (end["c"], end["position"])
                   for i, end in enumerate(ends)):
                return round(time.perf_counter() - started, 1)
            if time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"projections not caught up after {timeout_s:g}s: {at}")
            await asyncio.sleep(0.5)
    finally:
        await catalog.close()
        for c in shards:
            await c.close()


# -- the plain COPY baseline ---------------------------------------------------


async def _pipe(src: asyncpg.Connection, dst: asyncpg.Connection, table: str,
                rng: KeyRange) -> int:
    """The range's rows of `table`, binary COPY out of `src` into `dst`'s scratch copy."""
    start, end = range_copy.bounds(rng)
    chunks: asyncio.Queue[bytes | None] = asyncio.Queue(8)

    async def produce() -> None:
        try:
            await src.copy_from_query(
                f"SELECT * FROM {table} WHERE keyspace_id >= $1 "
                "AND ($2::bytea IS NULL OR keyspace_id < $2)", start, end,
                output=chunks.put, format="binary")
        finally:
            await chunks.put(None)

    async def consume() -> AsyncIterator[bytes]:
        while (chunk := await chunks.get()) is not None:
            yield chunk

    _, status = await asyncio.gather(produce(), dst.copy_to_table(
        table, schema_name=PLAIN_SCHEMA, source=consume(), format="binary"))
    return int(str(status).rsplit(" ", 1)[-1])


async def plain_copy(stack: EmbeddedBackends, rng: KeyRange) -> dict[str, Any]:
    """The rows the workflow copies, copied by hand between the same two
    servers: one snapshot, binary COPY, into tables with the same columns and
    indexes (no fence trigger, no foreign keys)."""
    src = await asyncpg.connect(commerce_dsn(stack, SOURCE))
    dst = await asyncpg.connect(commerce_dsn(stack, TARGET))
    try:
        await dst.execute(f"DROP SCHEMA IF EXISTS {PLAIN_SCHEMA} CASCADE; "
                          f"CREATE SCHEMA {PLAIN_SCHEMA}")
        for t in range_copy.TABLES:
            await dst.execute(f"CREATE TABLE {PLAIN_SCHEMA}.{t.name} "
                              f"(LIKE public.{t.name} INCLUDING ALL)")
        started = time.perf_counter()
        copied: dict[str, int] = {}
        async with src.transaction(isolation="repeatable_read"), dst.transaction():
            for t in range_copy.TABLES:
                copied[t.name] = await _pipe(src, dst, t.name, rng)
        took = time.perf_counter() - started
        await dst.execute(f"DROP SCHEMA {PLAIN_SCHEMA} CASCADE")
    finally:
        await src.close()
        await dst.close()
    rows = sum(copied.values())
    return {"copied": copied, "rows": rows, "copy_s": round(took, 3),
            "rows_per_s": round(rows / took)}


# -- the load --------------------------------------------------------------------


@dataclass
class Load:
    """Writers placing orders round-robin over users of every range."""

    shop: Shop
    users: list[str]
    moving: set[str]
    # (start, end, code, user, order id) in loop time, every call
    calls: list[tuple[float, float, str, str, str]] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=itertools.count)
    # What the failed calls said, by code and message.
    failures: Counter[str] = field(default_factory=Counter)

    async def writer(self, n: int, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            i = next(self.serial)
            user = self.users[i % len(self.users)]
            started = loop.time()
            try:
                placed = await self.shop.orders.CreateOrder(
                    order_request(user, {SKU: 1}, f"rs-{n}-{i}"), timeout=30)
                self.calls.append((started, loop.time(), "OK", user, placed.order.order_id))
            except grpc.aio.AioRpcError as exc:
                self.calls.append((started, loop.time(), exc.code().name, user, ""))
                self.failures[f"{exc.code().name}: {exc.details()}"] += 1
                await asyncio.sleep(0.02)

    def window(self, start: float, end: float) -> dict[str, Any]:
        """CreateOrder in calls that ended in [start, end)."""
        calls = [c for c in self.calls if start <= c[1] < end]
        ok = sorted(int((e - s) * 1e9) for s, e, code, _, _ in calls if code == "OK")
        return {"calls": len(calls), "ok": len(ok),
                "errors": dict(Counter(c[2] for c in calls if c[2] != "OK")),
                "per_s": round(len(ok) / (end - start), 1) if end > start else None,
                "p50_ms": round(percentile(ok, 50), 1), "p99_ms": round(percentile(ok, 99), 1),
                "max_ms": round(ok[-1] / 1e6, 1) if ok else None}

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time (ms) in [start, end] without a successful
        CreateOrder of a moving-range user completing."""
        done = sorted(e for _, e, code, user, _ in self.calls
                      if code == "OK" and user in self.moving and start <= e <= end)
        marks = [start, *done, end]
        return round(max(b - a for a, b in itertools.pairwise(marks)) * 1000, 1)


class Running:
    """The writers, started and stopped as the plan says."""

    def __init__(self, load: Load, writers: int) -> None:
        self.load, self.writers = load, writers
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.stop = asyncio.Event()
        self.tasks = [asyncio.create_task(self.load.writer(n, self.stop))
                      for n in range(self.writers)]

    async def halt(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)


def users_for_load(count: int) -> tuple[list[str], set[str]]:
    """`count` users: a quarter in the moving range, the rest outside it."""
    inside: list[str] = []
    outside: list[str] = []
    for n in itertools.count():
        user = f"rs-load-{n}"
        (inside if MOVING.contains(keyspace_id(user)) else outside).append(user)
        if len(inside) >= count // 4 and len(outside) >= 3 * (count // 4):
            break
    # Interleaved: one call in four is for the moving range.
    chosen = [u for i in range(count // 4) for u in (inside[i], *outside[3 * i:3 * i + 3])]
    return chosen, set(inside[:count // 4])


# -- the run ---------------------------------------------------------------------


class Sampler:
    """The workflow, read every 0.1 s: (loop time, phase, detail["pending"],
    and the captured changes waiting on the source and on the target, counted
    directly: the detail's count is only refreshed by a catch-up turn)."""

    def __init__(self, gateway: Gateway, stack: EmbeddedBackends, workflow: str) -> None:
        self.gateway, self.stack, self.workflow = gateway, stack, workflow
        self.samples: list[tuple[float, str, int | None, dict[int, int]]] = []
        self.stop = asyncio.Event()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        conns = {i: await asyncpg.connect(commerce_dsn(self.stack, i)) for i in (SOURCE, TARGET)}
        try:
            while not self.stop.is_set():
                wf = await self.gateway.wiring.resharding.get(self.workflow)
                waiting = {i: int(await c.fetchval(
                    "SELECT count(*) FROM reshard_changes WHERE workflow = $1", self.workflow))
                    for i, c in conns.items()}
                self.samples.append((loop.time(), wf.phase.value, wf.detail.get("pending"),
                                     waiting))
                await asyncio.sleep(0.1)
        finally:
            for c in conns.values():
                await c.close()

    def cutover_window(self, before: Phase, landed: Phase, after: float) -> tuple[float, float]:
        """From the last sample still in `before` (the phase the cutover
        starts from) to the first in `landed`, after loop time `after`:
        the cutover is inside, the verify that precedes it is not."""
        seen = [(t, phase) for t, phase, _, _ in self.samples if t >= after]
        moved = next(i for i, (_, phase) in enumerate(seen) if phase != before.value)
        end = next(t for t, phase in seen[moved:] if phase == landed.value)
        return seen[max(moved - 1, 0)][0], end

    def most_waiting(self, shard: int, start: float, end: float) -> int:
        """The most changes captured on `shard` and not yet applied in [start, end]."""
        return max((w[shard] for t, _, _, w in self.samples if start <= t <= end), default=0)


async def run(plan: ReshardPlan, source: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "reshard", "source_at_start": source(), "plan": vars(plan),
        "client": "python (grpc.aio) in the gateway's process",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
}
    root = Path(tempfile.mkdtemp(prefix="datagw-bench-reshard-"))
    stack = await asyncio.to_thread(start_stack, root)
    try:
        gateway = Gateway(Config(
            listen="127.0.0.1:0", metrics_listen=None, policies_dir=ROOT / "policies",
            data_dir=root / "gateway", ephemeral=True,
            keyspaces=await reshard_keyspaces(stack), redis_url=stack.valkey.url))
        await gateway.start()
        try:
            log(f"loading {plan.orders} orders into shards 0 and 1")
            result["load"] = await bulk_load(stack, plan.orders)
            log(f"loaded in {result['load']['took_s']} s; waiting for the projections")
            result["load"]["projections_caught_up_s"] = await projections_caught_up(
                stack, plan.timeout_s)
            result.update(await _measure(plan, gateway, stack))
        finally:
            await gateway.stop()
    finally:
        await asyncio.to_thread(stack.stop)
        shutil.rmtree(root, ignore_errors=True)
    result["machine"] = machine_info({})
    result["source_at_end"] = source()
    return result


async def _landed(gateway: Gateway, wf: Workflow, phases: tuple[Phase, ...],
                  timeout_s: float) -> Workflow:
    got = await gateway.wiring.resharding.wait(wf.workflow, phases, timeout_s)
    if got.phase not in phases:
        raise RuntimeError(f"workflow is {got.phase.value}, not {phases} after "
                           f"{timeout_s:g}s: {got.error}")
    return got


async def _measure(plan: ReshardPlan, gateway: Gateway, stack: EmbeddedBackends
                   ) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    resharding = gateway.wiring.resharding
    out: dict[str, Any] = {}
    windows: dict[str, tuple[float, float]] = {}
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        shop = Shop.on(channel)
        await shop.stocked(SKU, 1_000_000_000, price_minor=300)
        users, moving = users_for_load(4 * plan.writers)
        for u in users:
            await shop.user(u)
        load = Load(shop, users, moving)
        writers = Running(load, plan.writers)
        writers.start()
        t0 = loop.time()
        log(f"steady load for {plan.steady_s:g}s")
        await asyncio.sleep(plan.steady_s)
        windows["before the move"] = (t0, loop.time())

        log("baseline: plain COPY of the range's rows to scratch tables on shard 2")
        t0 = loop.time()
        out["plain_copy"] = await plain_copy(stack, MOVING)
        windows["during the plain COPY"] = (t0, loop.time())

        log("the workflow: copy, verify")
        t0 = loop.time()
        wf = await resharding.create("commerce", str(MOVING), TARGET, name="bench-reshard")
        sampler = Sampler(gateway, stack, wf.workflow)
        sampling = asyncio.create_task(sampler.run())
        wf = await _landed(gateway, wf, (Phase.CATCHING_UP,), plan.timeout_s)
        windows["copy and first verify"] = (t0, loop.time())
        out["copy"] = {"copied": wf.detail["copied"], "rows": sum(wf.detail["copied"].values()),
                       "copy_s": wf.detail["copy_s"],
                       "rows_per_s": round(sum(wf.detail["copied"].values())
                                           / wf.detail["copy_s"]),
                       "first_verify": _verify(wf)}
        log(f"catching up under load for {plan.catch_up_s:g}s")
        t0 = loop.time()
        await asyncio.sleep(plan.catch_up_s)
        windows["catching up"] = (t0, loop.time())
        await writers.halt()
        stopped = loop.time()
        while (await resharding.get(wf.workflow)).detail.get("pending") != 0:
            if loop.time() - stopped > plan.timeout_s:
                raise RuntimeError("the captured changes were not applied")
            await asyncio.sleep(0.05)
        drained = loop.time()
        pending = [(t, p) for t, phase, p, _ in sampler.samples
                   if phase == Phase.CATCHING_UP.value and p is not None]
        during = sorted(p for t, p in pending if t < stopped)
        out["catch_up"] = {
            "pending_at_start": pending[0][1] if pending else None,
            "pending_p50": during[len(during) // 2] if during else None,
            "pending_max": during[-1] if during else None,
            "pending_at_load_stop": next((p for t, p in reversed(pending) if t < stopped),
                                         None),
            "samples": len(during),
            "applied": (await resharding.get(wf.workflow)).detail.get("applied", 0),
            "drain_after_load_stop_s": round(drained - stopped, 3)}

        log(f"{plan.cutovers} cutovers under load")
        writers.start()
        await asyncio.sleep(plan.between_s)
        cutovers = []
        t_all = loop.time()
        for k in range(plan.cutovers):
            action, starts, lands = (
                (Action.SWITCH, Phase.CATCHING_UP, Phase.SWITCHED) if k % 2 == 0
                else (Action.REVERSE, Phase.SWITCHED, Phase.CATCHING_UP))
            asked = loop.time()
            await resharding.ask(wf.workflow, action)
            wf = await _landed(gateway, wf, (lands,), plan.timeout_s)
            landed = loop.time()
            await asyncio.sleep(plan.between_s)
            server = wf.detail["cutovers"][-1]
            cut_from, cut_to = sampler.cutover_window(starts, lands, asked)
            cutovers.append({
                "action": action.value, "from": server["from"], "to": server["to"],
                "pause_ms": server["pause_ms"], "verify_s": wf.detail["verify"]["took_s"],
                "verify_clean": wf.detail["verify"]["clean"],
                "ask_to_landed_s": round(landed - asked, 3),
                # Captured during the verify before the cutover and applied
                # by the cutover itself, with the range frozen.
                "most_waiting_changes": sampler.most_waiting(server["from"], asked, landed),
                # Around the cutover (its phase as sampled, a quarter second
                # either side); the verify before it is not in this window.
                "client_longest_gap_ms": load.longest_gap(cut_from - 0.25, cut_to + 0.25),
                # From the ask (the verify, then the cutover) to `between_s` after it.
                "client_longest_gap_from_ask_ms": load.longest_gap(asked, loop.time()),
                "calls": load.window(asked, loop.time())})
            log(f"{action.value}: paused {server['pause_ms']} ms (server), longest client gap "
                f"{cutovers[-1]['client_longest_gap_ms']} ms")
        windows["cutovers"] = (t_all, loop.time())
        await writers.halt()
        sampler.stop.set()
        await sampling
        # None: a cutover another driver finished (no pause measured), never in a bench run.
        pauses = sorted(c["pause_ms"] for c in cutovers if c["pause_ms"] is not None)
        gaps = sorted(c["client_longest_gap_ms"] for c in cutovers)
        out["cutovers"] = cutovers
        out["pause"] = {"server_p50_ms": pauses[len(pauses) // 2], "server_max_ms": pauses[-1],
                        "client_gap_p50_ms": gaps[len(gaps) // 2],
                        "client_gap_max_ms": gaps[-1],
                        "typical_gap_before_ms": _typical_gap(load, windows["before the move"])}

        log("cleanup")
        t0 = loop.time()
        await resharding.ask(wf.workflow, Action.CLEANUP)
        wf = await _landed(gateway, wf, (Phase.DONE,), plan.timeout_s)
        out["cleanup"] = {"deleted": wf.detail["deleted"], "took_s": round(loop.time() - t0, 3)}
        out["latency"] = {name: load.window(*w) for name, w in windows.items()}
        out["errors"] = dict(load.failures)
        out["check"] = await _check(stack, gateway, load)
    return out


def _verify(wf: Workflow) -> dict[str, Any]:
    v = wf.detail["verify"]
    return {"clean": v["clean"], "took_s": v["took_s"],
            "rows": {t["table"]: t["source_rows"] for t in v["tables"]}}


def _typical_gap(load: Load, window: tuple[float, float]) -> float:
    """The median gap (ms) between successful moving-range completions in `window`."""
    done = sorted(e for _, e, code, user, _ in load.calls
                  if code == "OK" and user in load.moving and window[0] <= e <= window[1])
    gaps = sorted(b - a for a, b in itertools.pairwise(done))
    return round(gaps[len(gaps) // 2] * 1000, 1) if gaps else float("nan")


async def _check(stack: EmbeddedBackends, gateway: Gateway, load: Load) -> dict[str, Any]:
    """Every order a writer was told about is on the shard the map sends its user to."""
    commerce = gateway.backends.keyspaces["commerce"]
    told: dict[int, set[str]] = {}
    for _, _, code, user, order_id in load.calls:
        if code == "OK":
            told.setdefault(commerce.shard_for(keyspace_id(user)).index, set()).add(order_id)
    missing = 0
    for shard, ids in told.items():
        conn = await asyncpg.connect(commerce_dsn(stack, shard))
        try:
            found = await conn.fetchval("SELECT count(*) FROM orders WHERE order_id = ANY($1)",
                                        list(ids))
        finally:
            await conn.close()
        missing += len(ids) - int(found)
    source = await asyncpg.connect(commerce_dsn(stack, SOURCE))
    try:
        start, end = range_copy.bounds(MOVING)
        left = await source.fetchval("SELECT count(*) FROM orders WHERE keyspace_id >= $1 "
                                     "AND keyspace_id < $2", start, end)
    finally:
        await source.close()
    result = {"orders_confirmed": sum(len(i) for i in told.values()),
              "confirmed_orders_missing": missing, "range_rows_left_on_source": int(left)}
    if missing or left:
        raise RuntimeError(f"the move lost or left rows: {result}")
    return result


def render(result: dict[str, Any]) -> str:
    load, plain, copy = result["load"], result["plain_copy"], result["copy"]
    catch, pause = result["catch_up"], result["pause"]
    out = [*machine_section(result, f"load client: {result['client']}"),
           "## Resharding: move 40-80 from shard 0 to spare shard 2", "",
           f"- loaded: {load['rows']} in {load['took_s']} s ({load['orders_per_s']} orders/s; "
           f"{load['phases_s']}); projections caught up {load['projections_caught_up_s']} s "
           "later",
           f"- range 40-80 on shard 0: {copy['first_verify']['rows']}", "",
           "| copy | rows | s | rows/s |", "|---|---:|---:|---:|",
           f"| plain binary COPY, asyncpg (baseline) | {plain['rows']} | {plain['copy_s']} "
           f"| {plain['rows_per_s']} |",
           f"| workflow copy (detail copied / copy_s) | {copy['rows']} | {copy['copy_s']} "
           f"| {copy['rows_per_s']} |", "",
           f"- first verify: clean={copy['first_verify']['clean']}, "
           f"{copy['first_verify']['took_s']} s",
           f"- catch-up under load: pending at start {catch['pending_at_start']}, p50 "
           f"{catch['pending_p50']}, max {catch['pending_max']} over {catch['samples']} "
           f"samples; {catch['pending_at_load_stop']} at load stop, applied "
           f"{catch['drain_after_load_stop_s']} s later (changes applied in all: "
           f"{catch['applied']})", "",
           "| # | action | from | to | server pause ms | client longest gap ms (around "
           "the cutover / from the ask) | verify s | changes waiting (max) | ask to landed s "
           "| CreateOrder p50 / p99 ms | errors |",
           "|---:|---|---:|---:|---:|---|---:|---:|---:|---|---|"]
    out += [f"| {i + 1} | {c['action']} | {c['from']} | {c['to']} | {c['pause_ms']} "
            f"| {c['client_longest_gap_ms']} / {c['client_longest_gap_from_ask_ms']} "
            f"| {c['verify_s']} | {c['most_waiting_changes']} "
            f"| {c['ask_to_landed_s']} "
            f"| {c['calls']['p50_ms']} / {c['calls']['p99_ms']} | {c['calls']['errors'] or 0} |"
            for i, c in enumerate(result["cutovers"])]
    out += ["", f"- write pause: server p50 {pause['server_p50_ms']} ms, max "
            f"{pause['server_max_ms']} ms; client longest gap p50 {pause['client_gap_p50_ms']} "
            f"ms, max {pause['client_gap_max_ms']} ms (median gap before the move: "
            f"{pause['typical_gap_before_ms']} ms)",
            f"- cleanup: {result['cleanup']['took_s']} s, deleted {result['cleanup']['deleted']}",
            f"- check: {result['check']}",
            f"- failed CreateOrder calls: {result['errors'] or 'none'}", "",
            "| CreateOrder window | calls | ok | per s | p50 ms | p99 ms | max ms | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    out += [f"| {name} | {w['calls']} | {w['ok']} | {w['per_s']} | {w['p50_ms']} "
            f"| {w['p99_ms']} | {w['max_ms']} | {w['errors'] or 0} |"
            for name, w in result["latency"].items()]
    return "\n".join(out) + "\n"
