"""The relay benchmark: python -m bench.run --scenario relay [--quick].

Runs in this process on the embedded stack (2 commerce shards, the inventory
database, the chdb engine's process), with the gateway's backends opened but no gRPC server: the
relay is a background loop and gRPC plays no part in it.

- catch-up: a backlog of OrderPlaced events (the gateway's payload: three
  lines with categories, a sealed PII envelope) is COPYed straight into the
  two commerce shards' events tables, 1,000 events per transaction; then the
  relay (Relay.over, default settings: 5,000-event batches) copies it to
  ClickHouse, timed from start to both checkpoints at the end. Baseline:
  the same ClickHouse inserts (same rows, same batches, same tokens) into a
  second database of the same engine, done directly, so the difference is
  what the relay adds (reading PostgreSQL, building rows, two checkpoint
  commits per batch).
- steady: orders written straight into PostgreSQL at a fixed rate (each
  order one transaction with OrderPlaced and PaymentAuthorized, spread over
  both shards; the gateway itself cannot place that many orders per second
  on this machine) while the relay runs; lag per event = when the batch
  holding it was checkpointed minus the event's created_at (its
  transaction's start).

Both phases end by comparing ClickHouse with PostgreSQL (count and sum of
positions per shard): a run that lost or doubled an event fails.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from bench.report import machine_info, machine_section, percentile
from gateway.domain.analytics.relay import Relay, RelaySettings, ShardRelay, dedup_token
from gateway.domain.analytics.relay_rows import TABLES, rows_of
from gateway.records.events import Cursor, StoredEvent
from gateway.runtime.config import Config
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.schema import ensure_schema
from gateway.storage.clickhouse.store import AnalyticsStore
from gateway.storage.eventstore import log as event_log
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes, ksid_hex
from gateway.storage.postgres.pool import Keyspace, Shard

ROOT = Path(__file__).resolve().parent.parent
COPY_TX_EVENTS = 1000
CATEGORIES = ("books", "games", "garden", "kitchen", "music", "outdoor", "toys", "tools")


@dataclass(frozen=True)
class RelayPlan:
    backlog: int
    steady_orders_per_s: int
    steady_s: float


FULL = RelayPlan(backlog=200_000, steady_orders_per_s=1000, steady_s=30.0)
QUICK = RelayPlan(backlog=4_000, steady_orders_per_s=200, steady_s=3.0)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- events --------------------------------------------------------------------


def _order_placed(rng: random.Random, n: int, now: datetime) -> tuple[str, str, dict[str, Any]]:
    """(user, order id, payload) as the gateway writes an OrderPlaced."""
    user = f"bench-user-{n % 50_000:06d}"
    ksid = ksid_hex(keyspace_id(user))
    order_id = f"o{ksid}{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"
    items: list[dict[str, Any]] = [
        {"sku": f"CB{rng.randrange(100_000):06d}", "title": f"Bench product {i}",
         "quantity": rng.randint(1, 3), "unit_price_minor": rng.randrange(199, 9999),
         "category": rng.choice(CATEGORIES)} for i in range(3)]
    sealed = base64.b64encode(rng.randbytes(140)).decode()
    payload = {
        "order_id": order_id, "user_id": user, "status": "placed", "currency": "EUR",
        "total_minor": sum(i["quantity"] * i["unit_price_minor"] for i in items),
        "payment_id": f"p{order_id[1:]}", "saga_id": f"s{ksid}{rng.getrandbits(64):016x}",
        "version": 1, "created_at": now.isoformat(), "updated_at": now.isoformat(),
        "items": items,
        "_pii": {"user_id": user, "v": 1, "nonce": base64.b64encode(rng.randbytes(12)).decode(),
                 "ciphertext": sealed},
    }
    return user, order_id, payload


_META = json.dumps({"request_id": "bench", "actor": "bench"})


async def copy_backlog(keyspace: Keyspace, n: int) -> float:
    """COPY n OrderPlaced events into the shards owning their users; seconds."""
    shards = keyspace.shards
    rng = random.Random(20261125)
    now = datetime.now(UTC)
    per_shard: dict[int, list[tuple[Any, ...]]] = {s.index: [] for s in shards}
    for i in range(n):
        user, order_id, payload = _order_placed(rng, i, now)
        ksid = keyspace_id(user)
        shard = keyspace.shard_for(ksid)
        per_shard[shard.index].append((uuid.UUID(int=rng.getrandbits(128)), f"order-{order_id}",
                                       0, "OrderPlaced", json.dumps(payload), _META,
                                       ksid_bytes(ksid)))
    started = time.perf_counter()
    for shard in shards:
        conn = await asyncpg.connect(shard.dsn)
        try:
            rows = per_shard[shard.index]
            for start in range(0, len(rows), COPY_TX_EVENTS):
                await conn.copy_records_to_table(
                    "events", records=rows[start:start + COPY_TX_EVENTS],
                    columns=["event_id", "stream_id", "stream_revision", "event_type",
                             "payload", "metadata", "keyspace_id"])
            await conn.execute("ANALYZE events")
        finally:
            await conn.close()
    return time.perf_counter() - started


async def _last_cursor(shard: Shard) -> Cursor:
    async with shard.connection("bench") as conn:
        row = await conn.fetchrow("SELECT tx_id::text::bigint AS c, position FROM events "
                                  "ORDER BY tx_id DESC, position DESC LIMIT 1")
    return Cursor(row["c"], row["position"]) if row else Cursor()


async def _checkpoint(shard: Shard) -> Cursor:
    async with shard.connection("bench") as conn:
        row = await conn.fetchrow("SELECT commit, position FROM relay_checkpoint")
    assert row is not None
    return Cursor(row["commit"], row["position"])


async def _until_checkpointed(shards: list[Shard], ends: dict[int, Cursor],
                              within_s: float = 900.0) -> None:
    """Until every shard's checkpoint reached its end (a stuck relay fails the run)."""
    give_up = time.monotonic() + within_s
    for shard in shards:
        while await _checkpoint(shard) < ends[shard.index]:
            if time.monotonic() > give_up:
                raise RuntimeError(f"{shard.name}: the relay did not reach {ends[shard.index]}")
            await asyncio.sleep(0.02)


async def verify(store: AnalyticsStore, shards: list[Shard]) -> dict[str, Any]:
    """ClickHouse against PostgreSQL per shard: count and sum of positions."""
    out = {}
    for shard in shards:
        async with shard.connection("bench") as conn:
            row = await conn.fetchrow("SELECT count(*), coalesce(sum(position), 0) FROM events")
        assert row is not None
        pg = (int(row[0]), int(row[1]))
        ch = (await store.query(
            "SELECT count(), sum(position), uniqExact(event_id) FROM domain_events "
            "WHERE keyspace = {k:String} AND shard = {s:UInt16}",
            {"k": shard.keyspace, "s": shard.index})).rows[0]
        if (int(ch[0]), int(ch[1])) != pg or ch[2] != ch[0]:
            raise RuntimeError(f"{shard.name}: clickhouse {ch} != postgres {pg}")
        out[shard.name] = pg[0]
    return out


# -- phases ----------------------------------------------------------------------


async def catch_up(gw: Gateway, store: AnalyticsStore, shards: list[Shard],
                   backlog: int) -> dict[str, Any]:
    log(f"catch-up: COPY {backlog} OrderPlaced events into {len(shards)} shards")
    copy_s = await copy_backlog(gw.backends.keyspaces["commerce"], backlog)
    ends = {s.index: await _last_cursor(s) for s in shards}
    relay = Relay.over([gw.backends.keyspaces["commerce"]], gw.notifiers,
                       store)
    log("catch-up: relay")
    # CPU seconds of this process (the relay and clickhouse-connect; the
    # engine works in its own process): they survive a loaded machine better
    # than wall time; PostgreSQL's own work is in its processes, not counted.
    started, cpu_started = time.perf_counter(), time.process_time()
    relay.start()
    await _until_checkpointed(shards, ends)
    relay_s = time.perf_counter() - started
    relay_cpu_s = time.process_time() - cpu_started
    await relay.stop()
    relayed = await verify(store, shards)

    log("catch-up: baseline (the same inserts, directly)")
    # Through the same engine process as the relay's inserts.
    baseline = gw.embedded.analytics.store("bench_relay_baseline")  # type: ignore[union-attr]
    await ensure_schema(baseline, dict(gw.policies.get("analytics").retention))
    batches: list[tuple[Shard, Cursor, Cursor, list[StoredEvent]]] = []
    for shard in shards:
        after = Cursor()
        while True:
            async with shard.connection("bench") as conn:
                page = await event_log.read_after(conn, after, RelaySettings().batch_events)
            if not page.events:
                break
            batches.append((shard, after, page.events[-1].cursor, page.events))
            after = page.events[-1].cursor
    rows = [(s, a, t, ev, rows_of(s.keyspace, s.index, ev)) for s, a, t, ev in batches]
    started, cpu_started = time.perf_counter(), time.process_time()
    for shard, after, to, ev, r in rows:
        for table in TABLES:
            if r.by_table[table.name]:
                await baseline.insert(table.name, table.column_names, r.by_table[table.name],
                                      dedup_token(shard.keyspace, shard.index, after, to, ev,
                                                  table.name))
    baseline_s = time.perf_counter() - started
    baseline_cpu_s = time.process_time() - cpu_started
    baseline.close()
    events = sum(relayed.values())
    return {"backlog": backlog, "events_in_shards": events, "copy_s": round(copy_s, 1),
            "relay_s": round(relay_s, 2), "relay_events_per_s": round(events / relay_s),
            "relay_cpu_us_per_event": round(relay_cpu_s / events * 1e6, 1),
            "baseline_s": round(baseline_s, 2),
            "baseline_events_per_s": round(events / baseline_s),
            "ratio": round(relay_s / baseline_s, 2), "batches": len(batches),
            "relay_cpu_s": round(relay_cpu_s, 2), "baseline_cpu_s": round(baseline_cpu_s, 2),
            "cpu_ratio": round(relay_cpu_s / baseline_cpu_s, 2)}


async def _write_orders(keyspace: Keyspace, rate: int, seconds: float) -> int:
    """Orders at `rate` per second for `seconds`, each one transaction with
    two events, on the shard owning the order's user."""
    shards = keyspace.shards
    rng = random.Random(7)
    pools = {s.index: await asyncpg.create_pool(s.dsn, min_size=8, max_size=8) for s in shards}
    written = 0
    pending: set[asyncio.Task[None]] = set()

    async def one(n: int) -> None:
        user, order_id, payload = _order_placed(rng, 1_000_000 + n, datetime.now(UTC))
        ksid = keyspace_id(user)
        shard = keyspace.shard_for(ksid)
        authorized = {"payment_id": payload["payment_id"], "order_id": order_id,
                      "user_id": user, "amount_minor": payload["total_minor"],
                      "currency": "EUR"}
        async with pools[shard.index].acquire() as conn:
            await conn.execute(
                """INSERT INTO events (event_id, stream_id, stream_revision, event_type,
                                       payload, metadata, keyspace_id)
                   VALUES ($1, $2, 0, 'OrderPlaced', $3::jsonb, $6::jsonb, $7),
                          ($4, $5, 0, 'PaymentAuthorized', $8::jsonb, $6::jsonb, $7)""",
                uuid.uuid4(), f"order-{order_id}", json.dumps(payload), uuid.uuid4(),
                f"payment-{payload['payment_id']}", _META, ksid_bytes(ksid),
                json.dumps(authorized))

    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        while (now := loop.time()) - start < seconds:
            due = int((now - start) * rate)
            while written < due:
                task = asyncio.create_task(one(written))
                pending.add(task)
                task.add_done_callback(pending.discard)
                written += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*pending)
    finally:
        for pool in pools.values():
            await pool.close()
    return written


async def steady(gw: Gateway, store: AnalyticsStore, shards: list[Shard], rate: int,
                 seconds: float) -> dict[str, Any]:
    log(f"steady: {rate} orders/s for {seconds:g} s while the relay runs")
    relays = [ShardRelay("commerce", s, gw.notifiers.of("commerce", s.index), store,
                         RelaySettings()) for s in shards]
    lags_ms: list[float] = []
    sizes: list[int] = []
    stop = asyncio.Event()

    async def drive(relay: ShardRelay) -> None:
        while not stop.is_set():
            batch = await relay.step()
            if batch is None:
                continue
            sizes.append(len(batch.events))
            lags_ms.extend((batch.done_at - e.created_at.timestamp()) * 1000
                           for e in batch.events)

    tasks = [asyncio.create_task(drive(r)) for r in relays]
    started = time.perf_counter()
    written = await _write_orders(gw.backends.keyspaces["commerce"], rate, seconds)
    wall = time.perf_counter() - started
    ends = {s.index: await _last_cursor(s) for s in shards}
    await _until_checkpointed(shards, ends)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await verify(store, shards)
    lags_ns = sorted(int(x * 1_000_000) for x in lags_ms)
    return {"orders": written, "events": len(lags_ns),
            "orders_per_s_achieved": round(written / wall),
            "lag_p50_ms": round(percentile(lags_ns, 50), 1),
            "lag_p99_ms": round(percentile(lags_ns, 99), 1),
            "lag_max_ms": round(lags_ns[-1] / 1e6, 1) if lags_ns else None,
            "batches": len(sizes),
            "mean_batch_events": round(sum(sizes) / len(sizes), 1) if sizes else 0}


async def run(plan: RelayPlan, source: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "relay", "source_at_start": source(), "plan": vars(plan),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    data_dir = Path(tempfile.mkdtemp(prefix="datagw-bench-relay-"))
    gw = Gateway(Config(listen="127.0.0.1:0", metrics_listen=None,
                        policies_dir=ROOT / "policies", data_dir=data_dir, ephemeral=True))
    try:
        await gw.open_backends()
        assert gw.backends.clickhouse is not None
        store = gw.backends.clickhouse
        shards = gw.backends.keyspaces["commerce"].shards
        result["catch_up"] = await catch_up(gw, store, shards, plan.backlog)
        result["steady"] = await steady(gw, store, shards, plan.steady_orders_per_s,
                                        plan.steady_s)
    finally:
        await gw.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    result["machine"] = machine_info({"target": "chdb"})
    result["source_at_end"] = source()
    return result


def render(result: dict[str, Any]) -> str:
    c, s = result["catch_up"], result["steady"]
    return "\n".join([
        *machine_section(result, "in-process: the gateway's backends on embedded PostgreSQL "
                                 "shards and the chdb engine process"),
        "## Relay catch-up",
        "",
        "| backlog events | relay s | relay events/s | baseline s | baseline events/s "
        "| relay / baseline time | batches | relay CPU s | baseline CPU s "
        "| relay / baseline CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c['events_in_shards']} | {c['relay_s']} | {c['relay_events_per_s']} "
        f"| {c['baseline_s']} | {c['baseline_events_per_s']} | {c['ratio']} | {c['batches']} "
        f"| {c['relay_cpu_s']} | {c['baseline_cpu_s']} | {c['cpu_ratio']} |",
        "",
        f"(COPY of the backlog into PostgreSQL took {c['copy_s']} s, not included.) "
        f"The gateway's CPU while relaying: {c['relay_cpu_s']} s, "
        f"{c['relay_cpu_us_per_event']} us per event.",
        "",
        "## Relay steady state",
        "",
        "| orders/s asked | orders/s written | events | lag p50 ms | lag p99 ms | lag max ms "
        "| batches | mean events per batch |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['plan']['steady_orders_per_s']} | {s['orders_per_s_achieved']} "
        f"| {s['events']} | {s['lag_p50_ms']} | {s['lag_p99_ms']} | {s['lag_max_ms']} "
        f"| {s['batches']} | {s['mean_batch_events']} |",
    ])
