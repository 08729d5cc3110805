"""The analytics benchmark: python -m bench.run --scenario analytics [--quick].

Two phases on one embedded data directory:

1. direct (a child process that runs the chdb engine's process, as embedded
   mode does, and stops it before phase 2): the
   analytics schema, ORDERS order events (OrderPlaced, and OrderCancelled
   for one order in ten, with their lines: 1-3 per order, 5,000 products in
   20 categories, two currencies, spread over the last 365 days) generated
   inside ClickHouse with INSERT ... SELECT FROM numbers(); then the
   baselines: the reports' own SQL (gateway.storage.clickhouse.reports) run on the
   engine directly, and the clickstream rows IngestEvents would write,
   inserted with AnalyticsStore.insert in the gateway's batches (10,000 rows,
   one dedup token each) into a second database of the same engine.
2. gateway (`datagw serve --data-dir` on the same directory, a subprocess):
   IngestEvents streams from this process (messages of 10,000 events,
   serialised before the clock starts, so client-side protobuf work is not
   counted), at 1 and 4 concurrent streams; then SalesSummary and
   TopProducts over the whole year, one call at a time.

Where an ingested event's time goes is measured here too, per event: the
protobuf decoding of a 10,000-event message, the conversion to the domain's
tuples and the checks.

`--reports-only` (REPORTS_ONLY) leaves out everything about IngestEvents
(the events, the insert baseline, both ingest runs): the same order events
and the same report calls, direct and through the gateway, for working on
the reports; its results say so and have no ingest rows or goal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import grpc
from datagw.v1 import analytics_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from bench import procs
from bench.report import machine_info, machine_section, percentile
from gateway.api.analytics import _events
from gateway.domain.analytics.ingest import BATCH_ROWS, check_event, dedup_token
from gateway.policy.registry import PolicyRegistry
from gateway.runtime.embedded.analytics import EmbeddedAnalytics
from gateway.runtime.services import POLICY_CATALOG
from gateway.storage.clickhouse import reports
from gateway.storage.clickhouse.schema import CLICKSTREAM
from gateway.storage.clickhouse.store import AnalyticsStore

ROOT = Path(__file__).resolve().parent.parent
INGEST = "/datagw.v1.AnalyticsService/IngestEvents"
GOAL_ROWS_PER_S = 100_000
GOAL_P95_MS = 200.0
MESSAGE_EVENTS = 10_000
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
PRODUCTS = 5_000
CATEGORIES = 20


@dataclass(frozen=True)
class AnalyticsPlan:
    orders: int  # order events (placed + cancelled)
    ingest_events: int  # per ingest phase; 0: no ingest phases (reports only)
    report_calls: int
    warmup_calls: int


FULL = AnalyticsPlan(orders=10_000_000, ingest_events=1_000_000, report_calls=60,
                     warmup_calls=5)
QUICK = AnalyticsPlan(orders=110_000, ingest_events=40_000, report_calls=10, warmup_calls=2)
REPORTS_ONLY = dataclasses.replace(FULL, ingest_events=0)
# The full IngestEvents phases over the quick order data (reports take seconds).
INGEST_ONLY = dataclasses.replace(QUICK, ingest_events=FULL.ingest_events)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the order events, generated inside ClickHouse ------------------------------

# Per order n: 1-3 lines; line l sells product p(n, l) (5,000 products in 20
# categories, fixed prices) in quantity 1-4. The order's total is its lines
# plus 499 shipping. Orders with n % 10 = 0 are cancelled (a -1 copy). The
# keyspace column says 'bench': no relay checkpoint ever points at them.
_PRODUCT = "cityHash64(n, l) % {products:UInt32}"
_LINES = """
    arrayMap(l -> tuple(
        toUInt16(l),
        {product} AS p,
        toInt64(1 + cityHash64(n, l, 7) % 4) AS q,
        q * toInt64(100 + p * 37 % 9900)), range(toUInt8(1 + n % 3)))""".replace(
    "{product}", _PRODUCT)
_ORDER = """
    SELECT number AS n, concat('o', toString(n)) AS order_id,
           concat('u', toString(n % 200000)) AS user_id,
           fromUnixTimestamp64Milli(toInt64({start_ms:Int64}
               + cityHash64(n, 1) % {span_ms:UInt64}), 'UTC') AS occurred_at,
           if(n % 2 = 0, 'EUR', 'USD') AS currency, {lines} AS lines
    FROM numbers({placed:UInt64})""".replace("{lines}", _LINES)


def _order_inserts(sign: int) -> tuple[str, str]:
    where = "" if sign > 0 else "WHERE n % 10 = 0"
    orders = f"""
        INSERT INTO orders SELECT order_id, user_id, occurred_at, currency,
            arraySum(arrayMap(x -> x.4, lines)) + 499, length(lines), {sign}, 'bench',
            toUInt16(n % 2), toInt64(n)
        FROM ({_ORDER}) {where}"""
    lines = f"""
        INSERT INTO order_lines SELECT order_id, line.1, user_id, occurred_at, currency,
            concat('sku-', toString(line.2)), concat('Product ', toString(line.2)),
            concat('category-', toString(line.2 % {CATEGORIES})), line.3, line.4, {sign},
            'bench', toUInt16(n % 2), toInt64(n)
        FROM ({_ORDER}) ARRAY JOIN lines AS line {where}"""
    return orders, lines


def direct_reports(store: AnalyticsStore, start_ms: int, end_ms: int
                   ) -> dict[str, Callable[[], Awaitable[Any]]]:
    """The measured reports as the gateway runs them (the same SQL and
    parameters, TopProducts' two statements), straight on the store."""

    async def sales() -> None:
        await reports.sales(store, start_ms, end_ms, False, "EUR", "", False)

    async def top() -> None:
        ranked = await reports.top_products(store, start_ms, end_ms, False, "EUR", "", 10)
        await reports.latest_names(store, "EUR", "", ranked)

    return {"SalesSummary": sales, "TopProducts": top}


# -- the clickstream rows --------------------------------------------------------


def ingest_messages(count: int, now_ms: int, tag: str) -> list[bytes]:
    """Serialised IngestEventsRequest messages of MESSAGE_EVENTS events: the
    mix of a shop's behaviour events, all valid."""
    kinds: list[dict[str, Any]] = [
        {"type": pb.BEHAVIOUR_EVENT_TYPE_PAGE_VIEW, "page": "/catalog/kitchen"},
        {"type": pb.BEHAVIOUR_EVENT_TYPE_PRODUCT_VIEW, "sku": "sku-42"},
        {"type": pb.BEHAVIOUR_EVENT_TYPE_SEARCH, "query": "blue mug"},
        {"type": pb.BEHAVIOUR_EVENT_TYPE_ADD_TO_CART, "sku": "sku-42", "quantity": 2}]
    out = []
    for start in range(0, count, MESSAGE_EVENTS):
        msg = pb.IngestEventsRequest()
        for n in range(start, min(start + MESSAGE_EVENTS, count)):
            t = Timestamp()
            t.FromMilliseconds(now_ms - n % 60_000)
            msg.events.append(pb.BehaviourEvent(
                event_id=str(uuid.uuid4()), occur_time=t,
                user_id=f"u{n % 5000}" if n % 3 else "", session_id=f"{tag}-s{n % 20000}",
                properties={"ab": "b"} if n % 5 == 0 else {}, **kinds[n % len(kinds)]))
        out.append(msg.SerializeToString())
    return out


def _rows(messages: list[bytes]) -> list[tuple[Any, ...]]:
    """What the gateway would insert for these messages."""
    now_ms = time.time_ns() // 1_000_000
    return [(e.event_id, e.event_type, e.occurred_ms, e.user_id, e.session_id, e.sku, e.query,
             e.page, e.quantity, e.properties, now_ms)
            for blob in messages for e in _events(pb.IngestEventsRequest.FromString(blob))]


def per_event_costs(messages: list[bytes]) -> dict[str, float]:
    """Microseconds per event of decoding, converting and checking, here."""
    now_ms = time.time_ns() // 1_000_000
    events = 0
    t0 = time.perf_counter()
    decoded = [pb.IngestEventsRequest.FromString(blob) for blob in messages]
    t1 = time.perf_counter()
    converted = [_events(msg) for msg in decoded]
    t2 = time.perf_counter()
    for batch in converted:
        for e in batch:
            check_event(e, now_ms, 0)
            events += 1
    t3 = time.perf_counter()
    return {"decode_us": round((t1 - t0) / events * 1e6, 2),
            "convert_us": round((t2 - t1) / events * 1e6, 2),
            "check_us": round((t3 - t2) / events * 1e6, 2)}


def timings(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    return {"calls": len(ordered), "p50_ms": round(percentile(ordered, 50), 1),
            "p95_ms": round(percentile(ordered, 95), 1),
            "p99_ms": round(percentile(ordered, 99), 1)}


async def timed(call: Callable[[], Awaitable[Any]], calls: int, warmup: int) -> list[int]:
    for _ in range(warmup):
        await call()
    out = []
    for _ in range(calls):
        began = time.perf_counter_ns()
        await call()
        out.append(time.perf_counter_ns() - began)
    return out


# -- phase 1: direct, in a child process owning the engine ----------------------


async def _direct(data_dir: str, plan: AnalyticsPlan, messages: list[bytes],
                  now_ms: int) -> dict[str, Any]:
    # The engine process the gateway starts next on this data dir (stopped
    # before it does: one engine per chdb directory).
    with EmbeddedAnalytics(Path(data_dir) / "clickhouse") as engine:
        return await _direct_on(engine, plan, messages, now_ms)


async def _direct_on(engine: EmbeddedAnalytics, plan: AnalyticsPlan, messages: list[bytes],
                     now_ms: int) -> dict[str, Any]:
    from gateway.storage.clickhouse.schema import ensure_schema

    policy = PolicyRegistry(ROOT / "policies", POLICY_CATALOG).get("analytics")
    # Generating and merging 10 million orders takes minutes at full size.
    store = engine.store(statement_timeout_s=3600)
    await ensure_schema(store, dict(policy.retention))
    placed = plan.orders * 10 // 11
    params = {"start_ms": now_ms - YEAR_MS, "span_ms": YEAR_MS - DAY_MS, "placed": placed,
              "products": PRODUCTS}
    out: dict[str, Any] = {}
    began = time.perf_counter()
    for sign in (1, -1):
        for sql in _order_inserts(sign):
            await store.command(sql, params)
    counts = await store.query("SELECT (SELECT count() FROM orders), "
                               "(SELECT count() FROM order_lines)")
    out["order_events"], out["order_lines"] = counts.rows[0]
    out["generate_s"] = round(time.perf_counter() - began, 1)
    log(f"direct: {out['order_events']:,} order events, {out['order_lines']:,} lines generated "
        f"in {out['generate_s']}s")
    await store.command("OPTIMIZE TABLE orders FINAL")
    await store.command("OPTIMIZE TABLE order_lines FINAL")

    reports = {}
    for name, run in direct_reports(store, now_ms - YEAR_MS, now_ms).items():
        reports[name] = timings(await timed(run, plan.report_calls, plan.warmup_calls))
        log(f"direct {name}: {reports[name]}")
    out["reports"] = reports
    store.close()
    if not messages:
        return out

    # The insert baseline in a database of its own on the same engine.
    direct = engine.store("bench_direct")
    await ensure_schema(direct, dict(policy.retention))
    rows = _rows(messages)
    began, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(rows), BATCH_ROWS):
        batch = rows[i:i + BATCH_ROWS]
        await direct.insert(CLICKSTREAM.name, CLICKSTREAM.column_names, batch,
                            dedup_token=dedup_token([r[0] for r in batch]))
    wall = time.perf_counter() - began
    # CPU of this process (clickhouse-connect and the engine's threads): next
    # to the gateway's CPU it is a ratio a loaded machine bends less than wall.
    out["insert"] = {"rows": len(rows), "wall_s": round(wall, 2),
                     "rows_per_s": round(len(rows) / wall),
                     "cpu_s": round(time.process_time() - cpu, 2)}
    log(f"direct insert: {out['insert']}")
    direct.close()
    return out


def _direct_child(data_dir: str, plan: dict[str, Any], messages: list[bytes], now_ms: int,
                  results: Any) -> None:
    try:
        results.put(asyncio.run(_direct(data_dir, AnalyticsPlan(**plan), messages, now_ms)))
    except BaseException:
        results.put({"error": traceback.format_exc()})
        raise


def direct_phase(data_dir: Path, plan: AnalyticsPlan, messages: list[bytes],
                 now_ms: int) -> dict[str, Any]:
    """In a child process, as it always was (the engine used to be in-process)."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    child = ctx.Process(target=_direct_child,
                        args=(str(data_dir), asdict(plan), messages, now_ms, results))
    child.start()
    out: dict[str, Any] = results.get()
    child.join()
    if "error" in out:
        raise RuntimeError(f"the direct phase failed:\n{out['error']}")
    return out


# -- phase 2: through the gateway ------------------------------------------------


async def _ingest(channel: grpc.aio.Channel, messages: list[bytes], streams: int
                  ) -> dict[str, Any]:
    call = channel.stream_unary(INGEST, request_serializer=None,
                                response_deserializer=pb.IngestEventsResponse.FromString)
    share = [messages[i::streams] for i in range(streams)]

    async def one(part: list[bytes]) -> int:
        # Well beyond the 30 s default deadline: a loaded machine takes longer.
        response = await call(iter(part), timeout=900)
        assert response.rejected == 0, response.rejections[:3]
        return int(response.accepted)

    began = time.perf_counter()
    accepted = sum(await asyncio.gather(*(one(part) for part in share)))
    wall = time.perf_counter() - began
    return {"streams": streams, "rows": accepted, "wall_s": round(wall, 2),
            "rows_per_s": round(accepted / wall)}


async def gateway_phase(data_dir: Path, plan: AnalyticsPlan, messages: dict[int, list[bytes]],
                        now_ms: int) -> dict[str, Any]:
    log("starting datagw serve on the generated data")
    server = procs.start(
        "gateway", [sys.executable, "-m", "gateway.runtime.cli", "serve", "--listen",
                    "127.0.0.1:0", "--metrics-listen", "", "--data-dir", str(data_dir)],
        ready="datagw serving", port_pattern=r"grpc plaintext on [\d.]+:(\d+)",
        env={"DATAGW_LOGGING__LEVEL": "warning"})
    out: dict[str, Any] = {"ingest": []}
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            for streams, batch in messages.items():
                cpu = server.cpu_seconds()
                row = await _ingest(channel, batch, streams)
                after = server.cpu_seconds()
                row["gateway_cpu_s"] = round(after - cpu, 2) if cpu and after else None
                out["ingest"].append(row)
                log(f"gateway IngestEvents: {row}")
            reports = {}
            requests = {
                "SalesSummary": (channel.unary_unary(
                    "/datagw.v1.AnalyticsService/SalesSummary",
                    request_serializer=pb.SalesSummaryRequest.SerializeToString,
                    response_deserializer=pb.SalesSummaryResponse.FromString),
                    pb.SalesSummaryRequest(range=_range(now_ms), currency_code="EUR")),
                "TopProducts": (channel.unary_unary(
                    "/datagw.v1.AnalyticsService/TopProducts",
                    request_serializer=pb.TopProductsRequest.SerializeToString,
                    response_deserializer=pb.TopProductsResponse.FromString),
                    pb.TopProductsRequest(range=_range(now_ms), currency_code="EUR", limit=10)),
            }
            for name, (stub, request) in requests.items():
                async def run(stub: Any = stub, request: Any = request) -> None:
                    await stub(request, timeout=60)
                reports[name] = timings(await timed(run, plan.report_calls, plan.warmup_calls))
                log(f"gateway {name}: {reports[name]}")
            out["reports"] = reports
    finally:
        server.stop()
    return out


def _range(now_ms: int) -> pb.TimeRange:
    start, end = Timestamp(), Timestamp()
    start.FromMilliseconds(now_ms - YEAR_MS)
    end.FromMilliseconds(now_ms)
    return pb.TimeRange(start_time=start, end_time=end)


async def run(plan: AnalyticsPlan, source: Callable[[], str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "analytics", "source_at_start": source(), "plan": asdict(plan),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    tmp = Path(tempfile.mkdtemp(prefix="datagw-bench-analytics-"))
    try:
        now_ms = time.time_ns() // 1_000_000
        baseline_messages: list[bytes] = []
        messages: dict[int, list[bytes]] = {}
        if plan.ingest_events:
            log(f"building {plan.ingest_events:,} behaviour events per phase")
            baseline_messages = ingest_messages(plan.ingest_events, now_ms, "direct")
            result["per_event"] = per_event_costs(baseline_messages)
            log(f"per event in this process: {result['per_event']}")
        result["direct"] = direct_phase(tmp, plan, baseline_messages, now_ms)
        if plan.ingest_events:
            messages = {streams: ingest_messages(plan.ingest_events, now_ms, f"gw{streams}")
                        for streams in (1, 4)}
        result["gateway"] = await gateway_phase(tmp, plan, messages, now_ms)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["machine"] = machine_info({"target": "gateway subprocess, chdb embedded"})
    result["source_at_end"] = source()
    result["goals"] = goals(result)
    return result


def goals(result: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    if result["gateway"]["ingest"]:
        best = max(r["rows_per_s"] for r in result["gateway"]["ingest"])
        out.append({"goal": f"IngestEvents >= {GOAL_ROWS_PER_S:,} rows/s",
                    "measured": f"{best:,}", "met": best >= GOAL_ROWS_PER_S})
    for name, t in result["gateway"]["reports"].items():
        out.append({"goal": f"{name} p95 < {GOAL_P95_MS:g} ms", "measured": f"{t['p95_ms']} ms",
                    "met": t["p95_ms"] < GOAL_P95_MS})
    return out


def render(result: dict[str, Any]) -> str:
    d, g = result["direct"], result["gateway"]
    out = machine_section(result, "client: this process (grpc.aio, messages serialised "
                                  "before the clock); baseline: AnalyticsStore on the chdb engine "
                                  "process, as embedded mode runs it")
    if g["ingest"]:
        cost = result["per_event"]
        out += ["## IngestEvents (rows/s into chdb)", "",
                "| target | streams | rows | wall s | rows/s | / direct rows/s | CPU s "
                "| / direct CPU |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
                f"| direct AnalyticsStore.insert | 1 | {d['insert']['rows']:,} "
                f"| {d['insert']['wall_s']} | {d['insert']['rows_per_s']:,} | | "
                f"{d['insert']['cpu_s']} | |"]
        out += [f"| gateway | {r['streams']} | {r['rows']:,} | {r['wall_s']} "
                f"| {r['rows_per_s']:,} | {r['rows_per_s'] / d['insert']['rows_per_s']:.2f} "
                f"| {r['gateway_cpu_s']} | "
                f"{r['gateway_cpu_s'] / d['insert']['cpu_s']:.2f} |" for r in g["ingest"]]
        out += ["", f"Per event, in one Python process: protobuf decoding {cost['decode_us']} "
                    f"us, conversion to the domain's tuples {cost['convert_us']} us, checks "
                    f"{cost['check_us']} us.", ""]
    else:
        out += ["Reports only (--reports-only): no IngestEvents phases.", ""]
    out += [f"## Reports over {d['order_events']:,} order events ({d['order_lines']:,} lines), "
            "one year, EUR", "",
            "| report | target | calls | p50 ms | p95 ms | p99 ms |",
            "|---|---|---:|---:|---:|---:|"]
    for name in g["reports"]:
        for target, t in (("direct SQL", d["reports"][name]), ("gateway", g["reports"][name])):
            out.append(f"| {name} | {target} | {t['calls']} | {t['p50_ms']} | {t['p95_ms']} "
                       f"| {t['p99_ms']} |")
    out += ["", "## Goals", "", "| goal | measured | met |", "|---|---|---|"]
    out += [f"| {x['goal']} | {x['measured']} | {'yes' if x['met'] else 'NO'} |"
            for x in result["goals"]]
    return "\n".join(out)
