"""The event store benchmarks: python -m bench.run --scenario eventstore [--quick].

One `datagw serve --ephemeral --shards 2` subprocess; the clients run in this
process (asyncio tasks on one grpc.aio channel), and so does the baseline.

- append: EventStoreService/AppendToStream at concurrency 32, one event per
  call and then 100 events per call, each worker appending to its own
  stream (routed by its name, so spread over both shards) with ANY. Baseline:
  the gateway's own SQL (gateway/storage/eventstore/streams.append in one
  transaction, then the WAL position for the consistency token) on plain
  asyncpg pools against the same shards, same workers, same events.
- subscription lag: a SubscribeToAll subscriber (filtered to the benchmark's
  streams) while a pacer appends ~1,000 events/s (batches of 10 every 10 ms,
  spread over both shards); the lag of an event is the time from just before
  its AppendToStream call to its arrival at the subscriber.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from datagw.v1 import eventstore_pb2 as pb
from datagw.v1 import eventstore_pb2_grpc
from google.protobuf.struct_pb2 import Struct

from bench.commerce import Gateway
from bench.report import machine_info, machine_section, percentile
from gateway.records.events import Expected, StreamEvent
from gateway.storage.eventstore import streams
from gateway.storage.postgres import idempotency
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id, ksid_bytes

CONCURRENCY = 32
LAG_GOAL_P99_MS = 100.0


@dataclass(frozen=True)
class EventStorePlan:
    single_calls: int
    batch_calls: int
    lag_events_per_s: int
    lag_s: float
    # The pipeline's capacity: append at each rate for capacity_s while
    # subscribed, until the lag stops being bounded.
    capacity_rates: tuple[int, ...] = ()
    capacity_s: float = 10.0


FULL = EventStorePlan(single_calls=20_000, batch_calls=1_000, lag_events_per_s=1000,
                      lag_s=30.0, capacity_rates=(1000, 2000, 4000, 8000, 16000),
                      capacity_s=15.0)
QUICK = EventStorePlan(single_calls=320, batch_calls=32, lag_events_per_s=200, lag_s=2.0,
                       capacity_rates=(200, 400), capacity_s=2.0)
# A rate's lag is bounded when the last quarter of its events (in the order
# they were appended) waited at most this much longer at the median than the
# first quarter, and the pacer kept the rate: a lag that grows for as long as
# the load lasts is not.
BOUNDED_GROWTH_MS = 100.0
# Each append call carries rate / CALLS_PER_S events (at least 10).
CALLS_PER_S = 100


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _payload(n: int) -> dict[str, Any]:
    # A small, typical domain event: a few ids, an amount, a status.
    return {"cart_id": f"c{n}", "sku": f"sku-{n % 997}", "quantity": n % 5 + 1,
            "amount_minor": 1999, "currency": "EUR", "status": "added"}


def _struct(value: dict[str, Any]) -> Struct:
    out = Struct()
    out.update(value)
    return out


async def drive(calls: int, events_per_call: int,
                op: Callable[[int, int], Awaitable[None]]) -> dict[str, Any]:
    """`calls` calls of op(worker, call) on CONCURRENCY workers: rates and latencies."""
    latencies: list[int] = []
    next_call = 0

    async def worker(w: int) -> None:
        nonlocal next_call
        while next_call < calls:
            n = next_call
            next_call += 1
            started = time.perf_counter_ns()
            await op(w, n)
            latencies.append(time.perf_counter_ns() - started)

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {"calls": calls, "events": calls * events_per_call, "seconds": round(seconds, 2),
            "calls_per_s": round(calls / seconds), "events_per_s": round(
                calls * events_per_call / seconds),
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "client_cpu_s": round(time.process_time() - cpu, 1)}


async def append_scenarios(gw: Gateway, plan: EventStorePlan) -> list[dict[str, Any]]:
    stub = eventstore_pb2_grpc.EventStoreServiceStub(gw.channel)
    primaries = sorted((b for b in gw.backends if b.keyspace == "commerce"
                        and b.role == "primary"), key=lambda b: b.shard)
    ranges = [KeyRange.parse(b.key_range) for b in primaries]
    pools = [await asyncpg.create_pool(b.dsn(), min_size=CONCURRENCY // len(primaries),
                                       max_size=CONCURRENCY) for b in primaries]
    run = uuid.uuid4().hex[:8]
    rows: list[dict[str, Any]] = []
    try:
        for size, calls in ((1, plan.single_calls), (100, plan.batch_calls)):
            def gateway_op(prefix: str, size: int = size) -> Callable[[int, int], Awaitable[None]]:
                async def op(w: int, n: int) -> None:
                    await stub.AppendToStream(pb.AppendToStreamRequest(
                        stream=pb.StreamRef(stream=f"{prefix}-{w}"),
                        events=[pb.EventData(event_id=str(uuid.uuid4()), event_type="CartItemAdded",
                                             payload=_struct(_payload(n * size + i)))
                                for i in range(size)]), timeout=60)
                return op

            def direct_op(prefix: str, size: int = size) -> Callable[[int, int], Awaitable[None]]:
                async def op(w: int, n: int) -> None:
                    stream = f"{prefix}-{w}"
                    ksid = keyspace_id(stream)
                    pool = pools[next(i for i, r in enumerate(ranges) if r.contains(ksid))]
                    batch = [StreamEvent(str(uuid.uuid4()), "CartItemAdded",
                                         _payload(n * size + i), {}) for i in range(size)]
                    async with pool.acquire() as conn:
                        async with conn.transaction():
                            await streams.append(conn, stream, ksid_bytes(ksid), Expected(),
                                                 batch)
                        await idempotency.wal_position(conn)
                return op

            label = "1 event per call" if size == 1 else f"{size} events per call"
            warm = max(CONCURRENCY, calls // 20)
            log(f"AppendToStream {label}: warm-up, gateway, direct asyncpg")
            await drive(warm, size, gateway_op(f"warm{run}-g{size}"))
            await drive(warm, size, direct_op(f"warm{run}-d{size}"))
            g = await drive(calls, size, gateway_op(f"bench{run}-g{size}"))
            d = await drive(calls, size, direct_op(f"bench{run}-d{size}"))
            rows.append({"scenario": f"AppendToStream, {label}", "gateway": g, "direct": d,
                         "ratio_events_per_s": round(g["events_per_s"] / d["events_per_s"], 2)})
    finally:
        for pool in pools:
            await pool.close()
    return rows


async def lag_scenario(gw: Gateway, events_per_s: int, seconds: float) -> dict[str, Any]:
    """One subscriber while a pacer appends `events_per_s` for `seconds`."""
    stub = eventstore_pb2_grpc.EventStoreServiceStub(gw.channel)
    prefix = f"lag{uuid.uuid4().hex[:8]}-"
    sent: dict[str, int] = {}
    # (appended at, lag) per delivered event.
    lags: list[tuple[int, int]] = []
    call = stub.SubscribeToAll(pb.SubscribeToAllRequest(
        filter=pb.EventFilter(stream_prefixes=[prefix])))
    caught_up = asyncio.Event()
    expected = int(events_per_s * seconds)
    done = asyncio.Event()

    async def receive() -> None:
        async for msg in call:
            kind = msg.WhichOneof("content")
            if kind == "caught_up":
                caught_up.set()
            elif kind == "event":
                arrived = time.perf_counter_ns()
                at = sent.pop(msg.event.event_id)
                lags.append((at, arrived - at))
                if len(lags) >= expected:
                    done.set()
                    return

    append_ns: list[int] = []

    async def append(request: pb.AppendToStreamRequest) -> None:
        started = time.perf_counter_ns()
        await stub.AppendToStream(request, timeout=60)
        append_ns.append(time.perf_counter_ns() - started)

    receiver = asyncio.create_task(receive())
    await caught_up.wait()
    batch = max(10, events_per_s // CALLS_PER_S)
    tick_s = batch / events_per_s
    ticks = expected // batch
    pending: set[asyncio.Task[Any]] = set()
    log(f"subscription lag: {events_per_s} events/s for {seconds} s "
        f"({batch} per call every {tick_s * 1000:.0f} ms)")
    loop = asyncio.get_running_loop()
    start = loop.time()
    for t in range(ticks):
        await asyncio.sleep(max(0.0, start + t * tick_s - loop.time()))
        events = [pb.EventData(event_id=str(uuid.uuid4()), event_type="CartItemAdded",
                               payload=_struct(_payload(t * batch + i))) for i in range(batch)]
        now = time.perf_counter_ns()
        for e in events:
            sent[e.event_id] = now
        task = asyncio.create_task(append(pb.AppendToStreamRequest(
            stream=pb.StreamRef(stream=f"{prefix}{t % 16}"), events=events)))
        pending.add(task)
        task.add_done_callback(pending.discard)
    appended_s = loop.time() - start
    await asyncio.gather(*pending)
    delivered = True
    try:
        await asyncio.wait_for(done.wait(), 120)
    except TimeoutError:
        delivered = False
    call.cancel()
    receiver.cancel()
    lags.sort()
    quarter = max(1, len(lags) // 4)
    early = sorted(lag for _, lag in lags[:quarter])
    late = sorted(lag for _, lag in lags[-quarter:])
    by_lag = sorted(lag for _, lag in lags)
    append_ns.sort()
    achieved = round(ticks * batch / appended_s)
    growth_ms = (percentile(late, 50) - percentile(early, 50)) if lags else float("inf")
    return {"events_per_s_asked": events_per_s, "events": len(lags),
            "events_per_s_achieved": achieved,
            # The append calls' own latency: the part of the lag before the commit.
            "append_p50_ms": round(percentile(append_ns, 50), 1),
            "append_p99_ms": round(percentile(append_ns, 99), 1),
            "p50_ms": round(percentile(by_lag, 50), 1), "p99_ms": round(percentile(by_lag, 99), 1),
            "max_ms": round(by_lag[-1] / 1e6, 1) if by_lag else None,
            "first_quarter_p50_ms": round(percentile(early, 50), 1),
            "last_quarter_p50_ms": round(percentile(late, 50), 1),
            "bounded": delivered and achieved >= 0.95 * events_per_s
            and growth_ms <= BOUNDED_GROWTH_MS,
            "goal_p99_ms": LAG_GOAL_P99_MS, "met": percentile(by_lag, 99) < LAG_GOAL_P99_MS}


async def capacity_scenario(gw: Gateway, plan: EventStorePlan) -> list[dict[str, Any]]:
    """The lag at rising rates, up to the first rate it does not stay bounded at."""
    rows = []
    for rate in plan.capacity_rates:
        rows.append(await lag_scenario(gw, rate, plan.capacity_s))
        if not rows[-1]["bounded"]:
            break
    return rows


async def run(plan: EventStorePlan, source: Callable[[], str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "eventstore", "source_at_start": source(), "plan": vars(plan),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    async with Gateway(shards=2, replicas=0) as gw:
        result["append"] = await append_scenarios(gw, plan)
        result["lag"] = await lag_scenario(gw, plan.lag_events_per_s, plan.lag_s)
        result["capacity"] = await capacity_scenario(gw, plan)
    result["machine"] = machine_info({"target": "gateway subprocess, 2 commerce shards"})
    result["source_at_end"] = source()
    return result


def render(result: dict[str, Any]) -> str:
    lag = result["lag"]
    out = [*machine_section(result, "clients and baseline: this process (grpc.aio, asyncpg), "
                                    f"concurrency {CONCURRENCY}"),
           "## AppendToStream", "",
           "| scenario | target | calls | events/s | p50 ms | p99 ms | client CPU s "
           "| gateway / direct events/s |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in result["append"]:
        for target in ("gateway", "direct"):
            r = row[target]
            ratio = row["ratio_events_per_s"] if target == "gateway" else ""
            out.append(f"| {row['scenario']} | {target} | {r['calls']} | {r['events_per_s']} "
                       f"| {r['p50_ms']} | {r['p99_ms']} | {r['client_cpu_s']} | {ratio} |")
    out += ["", "## Subscription lag (append -> SubscribeToAll delivery)", "",
            "| events/s asked | events/s achieved | events | p50 ms | p99 ms | max ms "
            "| goal p99 < 100 ms |",
            "|---:|---:|---:|---:|---:|---:|---|",
            f"| {lag['events_per_s_asked']} | {lag['events_per_s_achieved']} "
            f"| {lag['events']} | {lag['p50_ms']} | {lag['p99_ms']} | {lag['max_ms']} "
            f"| {'met' if lag['met'] else 'NOT met'} |", "",
            f"The append calls themselves (part of the lag): p50 {lag['append_p50_ms']} ms, "
            f"p99 {lag['append_p99_ms']} ms.", "",
            "## The pipeline's capacity (lag at rising rates)", "",
            f"Each rate for {result['plan']['capacity_s']} s; bounded: every event delivered, "
            f"the rate kept, and the last quarter's median lag at most {BOUNDED_GROWTH_MS:g} ms "
            "above the first quarter's.", "",
            "| events/s asked | achieved | events | lag p50 ms | lag p99 ms | first / last "
            "quarter p50 ms | append p99 ms | bounded |",
            "|---:|---:|---:|---:|---:|---:|---:|---|"]
    out += [f"| {r['events_per_s_asked']} | {r['events_per_s_achieved']} | {r['events']} "
            f"| {r['p50_ms']} | {r['p99_ms']} | {r['first_quarter_p50_ms']} / "
            f"{r['last_quarter_p50_ms']} | {r['append_p99_ms']} "
            f"| {'yes' if r['bounded'] else 'no'} |" for r in result["capacity"]]
    bounded = [r["events_per_s_asked"] for r in result["capacity"] if r["bounded"]]
    batches = [r for r in result["append"] if r["scenario"].endswith("100 events per call")]
    append_cap = batches[0]["gateway"]["events_per_s"] if batches else None
    out += ["", f"Capacity: lag bounded up to {max(bounded) if bounded else 'none'} events/s "
            f"of the rates tried; append capacity (100 events per call, concurrency "
            f"{CONCURRENCY}): {append_cap} events/s."]
    return "\n".join(out)
