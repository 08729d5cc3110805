"""The commerce benchmarks: python -m bench.run --scenario orders [--quick].

Three scenarios, each on its own `datagw serve --ephemeral` subprocess and each
next to a baseline measured in the same run against the same PostgreSQL servers
(bench/commerce_direct.py: the gateway's own storage functions on plain asyncpg
pools, from this process):

- create: OrderService/CreateOrder of 3 items, 2 shards, concurrency 32, one
  unique request_id per call; baseline the saga's SQL sequence.
- get: OrderService/GetOrder strong (primary) and read_your_writes with the
  order's consistency token (a caught-up replica), 2 shards with 1 replica
  each, concurrency 1 and 32; baseline the SELECT of the order and its items
  on the primary and on the replica; the gateway's /metrics read-route
  counter shows which node served.
- scatter: AdminService/ListOrders over 4 shards holding 1,000,000 bulk-loaded
  orders: first page, a page 50 pages down, a status filter; baseline the
  same per-shard SQL run in parallel and merged here.

The gateway phases use the run's load client (ghz or the Python client of
bench/load.py); the baselines run in this process with asyncio tasks.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import resource
import shutil
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import asyncpg
import grpc
from datagw.v1 import admin_pb2, admin_pb2_grpc, common_pb2, order_pb2, order_pb2_grpc

from bench import procs
from bench.commerce_data import (
    CARD,
    SHIPPING_JSON,
    Shop,
    bulk_load_orders,
    order_inputs,
    stock_shop,
)
from bench.commerce_direct import Backend, DirectShop, drive
from bench.load import LoadClient, PhaseRun
from bench.report import PhaseResult, machine_info, machine_section
from gateway.storage.postgres.pool import parse_lsn

CREATE = "datagw.v1.OrderService/CreateOrder"
GET = "datagw.v1.OrderService/GetOrder"
SCATTER = "datagw.v1.AdminService/ListOrders"
PARTS = ("create", "get", "scatter")
GOAL_ORDERS_PER_S = 400.0
GOAL_P99_MS = 100.0
GOAL_OVERHEAD = 1.5
STRONG = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)
SCATTER_PAGE = 100


@dataclass
class OrdersPlan:
    users: int
    products: int
    create_warmup: int
    create_orders: int
    get_orders: int
    get_requests: dict[int, int]
    get_warmup: int
    scatter_orders: int
    scatter_users: int
    scatter_requests: int
    deep_pages: int
    create_concurrency: int = 32
    # Read pg_stat_database around the CreateOrder phases (costs 3 x STATS_SETTLE_S).
    db_stats: bool = True
    parts: set[str] = field(default_factory=lambda: set(PARTS))


FULL = OrdersPlan(users=5000, products=2000, create_warmup=1000, create_orders=10_000,
                  get_orders=2000, get_requests={1: 2000, 32: 10_000}, get_warmup=300,
                  scatter_orders=1_000_000, scatter_users=100_000, scatter_requests=300,
                  deep_pages=50)
QUICK = OrdersPlan(users=100, products=60, create_warmup=40, create_orders=200,
                   get_orders=100, get_requests={1: 100, 32: 200}, get_warmup=20,
                   scatter_orders=3000, scatter_users=300, scatter_requests=20, deep_pages=5,
                   db_stats=False)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class OrdersRow(PhaseResult):
    """A phase's row; `server_cpu_us` is the CPU of the process that ran the logic:
    the gateway for gateway rows, this benchmark process (asyncpg) for direct rows."""

    baseline: str = ""
    postgres_cpu_us: float | None = None
    # CPU of the load client (ghz or the Python client's workers), gateway rows only.
    client_cpu_us: float | None = None
    # pg_stat_database counters per request, summed over every database involved.
    db_work: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def vs(self, base: OrdersRow) -> OrdersRow:
        self.against(base)
        self.baseline = base.target
        return self


# -- processes and measurements -----------------------------------------------


def start_gateway(data_dir: Path, shards: int, replicas: int, workers: int = 1
                  ) -> procs.ServerProcess:
    return procs.start(
        "gateway",
        [sys.executable, "-m", "gateway.runtime.cli", "serve", "--ephemeral",
         "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
         "--data-dir", str(data_dir), "--shards", str(shards), "--replicas", str(replicas),
         "--workers", str(workers)],
        ready="datagw serving", port_pattern=r"grpc plaintext on [\d.]+:(\d+)",
        env={"DATAGW_LOGGING__LEVEL": "warning"},
    )


def postgres_cpu_seconds(root: int) -> float:
    """User + system CPU of every `postgres` process below `root` (the gateway).

    The embedded servers and their backends are the gateway's descendants; the
    pooled backends live for the whole run, so their counters cover each phase.
    """
    parent: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = text[text.find("(") + 1:text.rfind(")")]
        fields = text[text.rfind(")") + 2:].split()
        parent[int(entry)] = int(fields[1])
        if name == "postgres":
            cpu[int(entry)] = int(fields[11]) + int(fields[12])
    children: dict[int, list[int]] = defaultdict(list)
    for pid, ppid in parent.items():
        children[ppid].append(pid)
    total, stack = 0, [root]
    while stack:
        for child in children[stack.pop()]:
            total += cpu.get(child, 0)
            stack.append(child)
    return total / os.sysconf("SC_CLK_TCK")


def scrape_routes(url: str) -> dict[tuple[str, str, str], float]:
    """datagw_read_routes_total by (domain, level, target) from the gateway's /metrics."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    out: dict[tuple[str, str, str], float] = {}
    for line in text.splitlines():
        if not line.startswith("datagw_read_routes_total{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        out[(labels["domain"], labels["level"], labels["target"])] = float(line.rsplit(" ", 1)[1])
    return out


@dataclass
class Bench:
    client: LoadClient
    gateway: procs.ServerProcess

    def _cpu(self) -> tuple[float | None, float, float, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self.gateway.cpu_seconds(), postgres_cpu_seconds(self.gateway.pid), \
            time.process_time(), children.ru_utime + children.ru_stime

    def _row(self, scenario: str, target: str, concurrency: int, run: PhaseRun,
             before: tuple[float | None, float, float, float], *, direct: bool) -> OrdersRow:
        after = self._cpu()
        n = max(1, len(run.latencies_ns))
        if direct:
            process_cpu: float | None = after[2] - before[2]
        else:
            process_cpu = None if after[0] is None or before[0] is None else after[0] - before[0]
        row = cast(OrdersRow, OrdersRow.of(scenario, target, concurrency, run, process_cpu))
        row.postgres_cpu_us = round((after[1] - before[1]) / n * 1e6)
        if not direct:
            # ghz and the Python client's workers are waited-for children of this process.
            row.client_cpu_us = round((after[3] - before[3]) / n * 1e6)
        if run.errors:
            log(f"  {scenario} ({target}): errors {run.errors}")
        return row

    def gateway_phase(self, scenario: str, method: str, requests: list[Any], concurrency: int,
                      total: int, target: str = "gateway", connections: int = 1) -> OrdersRow:
        before = self._cpu()
        run = self.client.run(self.gateway.address, method, requests, concurrency, total,
                              connections=connections)
        return self._row(scenario, target, concurrency, run, before, direct=False)

    async def direct_phase(self, scenario: str, op: Callable[[int], Awaitable[Any]],
                           concurrency: int, total: int, target: str = "direct asyncpg"
                           ) -> OrdersRow:
        before = self._cpu()
        run = await drive(op, total, concurrency)
        return self._row(scenario, target, concurrency, run, before, direct=True)


# Rows each order leaves behind, counted in the tables themselves (exact).
TABLES = {"commerce": ("orders", "order_items", "payments", "sagas", "events", "streams"),
          "inventory": ("reservations", "events", "streams")}
# pg_stat_database counters: transactions (an autocommit statement is one) and rows.
DB_COUNTERS = ("xact_commit", "tup_inserted", "tup_updated", "tup_fetched")
# A backend that flushed its statistics less than a second ago publishes the
# next ones only after 10 s idle (PGSTAT_IDLE_INTERVAL), so counters are read
# that long after a phase; a quick run skips them.
STATS_SETTLE_S = 11.0


async def db_work(backends: list[Backend], with_stats: bool) -> dict[str, int]:
    """Row counts of the order tables and (optionally) pg_stat_database counters,
    summed over every primary of the commerce and inventory keyspaces."""
    if with_stats:
        await asyncio.sleep(STATS_SETTLE_S)
    totals: dict[str, int] = defaultdict(int)
    for b in backends:
        if b.role != "primary" or b.keyspace not in TABLES:
            continue
        conn = await asyncpg.connect(b.dsn())
        try:
            for table in TABLES[b.keyspace]:
                totals[f"{b.keyspace}.{table} rows"] += int(
                    await conn.fetchval(f"SELECT count(*) FROM {table}"))
            if with_stats:
                row = await conn.fetchrow(
                    f"SELECT {', '.join(DB_COUNTERS)} FROM pg_stat_database "
                    "WHERE datname = current_database()")
                assert row is not None
                for c in DB_COUNTERS:
                    totals[c] += int(row[c])
        finally:
            await conn.close()
    return dict(totals)


def per_request(before: dict[str, int], after: dict[str, int], requests: int
                ) -> dict[str, float]:
    return {k: round((after[k] - before[k]) / max(1, requests), 1) for k in after}


async def topology(channel: grpc.aio.Channel, password: str) -> list[Backend]:
    """The gateway's PostgreSQL servers; `password`: its embedded superuser's."""
    response = await admin_pb2_grpc.AdminServiceStub(channel).GetTopology(
        admin_pb2.GetTopologyRequest())
    return [Backend(b.keyspace, b.shard, "primary" if b.role == "primary" else "replica",
                    b.address, b.key_range, password)
            for b in response.backends if b.kind == admin_pb2.BACKEND_KIND_POSTGRES]


async def shard_counts(backends: list[Backend], sql: str) -> list[int]:
    out = []
    for b in sorted((b for b in backends if b.keyspace == "commerce" and b.role == "primary"),
                    key=lambda b: b.shard):
        conn = await asyncpg.connect(b.dsn())
        try:
            out.append(int(await conn.fetchval(sql)))
        finally:
            await conn.close()
    return out


class Gateway:
    """A gateway subprocess with a channel to it, stopped and cleaned up on exit."""

    def __init__(self, shards: int, replicas: int, workers: int = 1) -> None:
        self.shards, self.replicas, self.workers = shards, replicas, workers
        self.tmp = Path(tempfile.mkdtemp(prefix="datagw-bench-orders-"))

    async def __aenter__(self) -> Gateway:
        log(f"starting datagw serve --ephemeral --shards {self.shards} "
            f"--replicas {self.replicas} --workers {self.workers}")
        self.process = start_gateway(self.tmp / "gateway", self.shards, self.replicas,
                                     self.workers)
        m = re.search(r"metrics \(Prometheus\) on (http://\S+/metrics)", self.process.output())
        self.metrics_url = m.group(1) if m else ""
        self.channel = grpc.aio.insecure_channel(
            self.process.address, options=[("grpc.max_receive_message_length", 64 << 20)])
        try:
            await self.channel.channel_ready()
            self.backends = await topology(
                self.channel, procs.embedded_secrets(self.process.banner).postgres_password())
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.channel.close(None)
        self.process.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


# -- 1. CreateOrder -------------------------------------------------------------


async def create_scenario(plan: OrdersPlan, client: LoadClient) -> dict[str, Any]:
    c = plan.create_concurrency
    async with Gateway(shards=2, replicas=0) as gw:
        log(f"CreateOrder: {plan.products} products with stock, {plan.users} users")
        shop = await stock_shop(gw.channel, plan.users, plan.products)
        direct = await DirectShop.open(gw.backends)
        bench = Bench(client, gw.process)
        try:
            n, w = plan.create_orders, plan.create_warmup
            gateway_orders = [o.request() for o in order_inputs(shop, w + n, "gw", 1)]
            direct_orders = order_inputs(shop, w + n, "direct", 2)

            async def place(i: int) -> str:
                o = direct_orders[i]
                return await direct.place_order(o.user_id, o.lines, SHIPPING_JSON, CARD,
                                                o.request_id)

            log(f"CreateOrder: warm-up ({w} orders each), then {n} orders at concurrency {c}")
            bench.client.run(gw.process.address, CREATE, gateway_orders[:w], c, w)
            await drive(place, w, c)

            async def place_measured(i: int) -> str:
                return await place(w + i)

            stats = plan.db_stats
            counters = [await db_work(gw.backends, stats)]
            base = await bench.direct_phase("CreateOrder, 3 items", place_measured, c, n)
            counters.append(await db_work(gw.backends, stats))
            row = bench.gateway_phase("CreateOrder, 3 items", CREATE, gateway_orders[w:], c, n)
            counters.append(await db_work(gw.backends, stats))
            row.vs(base)
            base.db_work = per_request(counters[0], counters[1], n)
            row.db_work = per_request(counters[1], counters[2], n)
            checks = await create_checks(gw.backends, shop)
        finally:
            await direct.close()
    return {"rows": [base, row], "checks": checks, "users": plan.users,
            "products": plan.products}


async def create_checks(backends: list[Backend], shop: Shop) -> dict[str, Any]:
    """Orders per shard, sagas not completed, stock left reserved: the runs were real."""
    orders = await shard_counts(backends, "SELECT count(*) FROM orders")
    unfinished = await shard_counts(backends, "SELECT count(*) FROM sagas "
                                              "WHERE state <> 'completed'")
    users = await shard_counts(backends, "SELECT count(*) FROM users")
    inventory = next(b for b in backends if b.keyspace == "inventory")
    conn = await asyncpg.connect(inventory.dsn())
    try:
        reserved = int(await conn.fetchval("SELECT coalesce(sum(reserved), 0) FROM stock"))
    finally:
        await conn.close()
    return {"orders_per_shard": orders, "users_per_shard": users,
            "sagas_not_completed": sum(unfinished), "units_left_reserved": reserved,
            "skus": len(shop.skus)}


# -- 2. GetOrder ----------------------------------------------------------------


async def wait_for_replicas(backends: list[Backend], channel: grpc.aio.Channel,
                            timeout_s: float = 30.0) -> None:
    """Until the gateway's tracker sees every replica past its primary's current WAL."""
    wanted: dict[int, int] = {}
    for b in backends:
        if b.keyspace == "commerce" and b.role == "primary":
            conn = await asyncpg.connect(b.dsn())
            try:
                wanted[b.shard] = parse_lsn(await conn.fetchval(
                    "SELECT pg_current_wal_insert_lsn()::text"))
            finally:
                await conn.close()
    deadline = time.monotonic() + timeout_s
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    while time.monotonic() < deadline:
        response = await admin.GetTopology(admin_pb2.GetTopologyRequest())
        replicas = [b for b in response.backends
                    if b.keyspace == "commerce" and b.role != "primary"]
        if replicas and all(b.replay_lsn and parse_lsn(b.replay_lsn) >= wanted[b.shard]
                            for b in replicas):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the replicas did not catch up with their primaries")


async def place_orders(channel: grpc.aio.Channel, shop: Shop, count: int
                       ) -> list[tuple[str, str]]:
    """(order_id, consistency_token) of `count` orders placed through the gateway."""
    stub = order_pb2_grpc.OrderServiceStub(channel)
    gate = asyncio.Semaphore(32)

    async def one(request: order_pb2.CreateOrderRequest) -> tuple[str, str]:
        async with gate:
            response = await stub.CreateOrder(request, timeout=60)
        return response.order.order_id, response.consistency_token

    inputs = order_inputs(shop, count, "get-setup", 3)
    return list(await asyncio.gather(*(one(o.request()) for o in inputs)))


async def get_scenario(plan: OrdersPlan, client: LoadClient) -> dict[str, Any]:
    async with Gateway(shards=2, replicas=1) as gw:
        log(f"GetOrder: shop of {plan.products} products and {plan.users} users, "
            f"{plan.get_orders} orders placed through the gateway")
        shop = await stock_shop(gw.channel, plan.users, plan.products)
        placed = await place_orders(gw.channel, shop, plan.get_orders)
        await wait_for_replicas(gw.backends, gw.channel)
        strong = [order_pb2.GetOrderRequest(order_id=o, read_options=STRONG) for o, _ in placed]
        ryw = [order_pb2.GetOrderRequest(order_id=o, read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES, consistency_token=t))
            for o, t in placed]
        ids = [o for o, _ in placed]
        direct = await DirectShop.open(gw.backends)
        bench = Bench(client, gw.process)
        rows: list[OrdersRow] = []
        routes: list[dict[str, Any]] = []
        try:
            async def primary(i: int) -> Any:
                return await direct.get_order(ids[i % len(ids)])

            async def replica(i: int) -> Any:
                return await direct.get_order(ids[i % len(ids)], replica=True)

            for c, n in sorted(plan.get_requests.items()):
                log(f"GetOrder at concurrency {c}: warm-up, then {n} requests per target")
                for requests in (strong, ryw):
                    bench.client.run(gw.process.address, GET, requests, c, plan.get_warmup)
                await drive(primary, plan.get_warmup, c)
                await drive(replica, plan.get_warmup, c)
                base_primary = await bench.direct_phase("GetOrder", primary, c, n,
                                                        "direct asyncpg, primary")
                before = scrape_routes(gw.metrics_url)
                row_strong = bench.gateway_phase("GetOrder", GET, strong, c, n,
                                                 "gateway, strong")
                middle = scrape_routes(gw.metrics_url)
                base_replica = await bench.direct_phase("GetOrder", replica, c, n,
                                                        "direct asyncpg, replica")
                row_ryw = bench.gateway_phase("GetOrder", GET, ryw, c, n,
                                              "gateway, read_your_writes")
                after = scrape_routes(gw.metrics_url)
                for row, start, end, level in ((row_strong, before, middle, "strong"),
                                               (row_ryw, middle, after, "read_your_writes")):
                    served = {target: end.get(("orders", level, target), 0.0)
                              - start.get(("orders", level, target), 0.0)
                              for target in ("primary", "replica")}
                    routes.append({"concurrency": c, "level": level, "requests": n,
                                   "primary": int(served["primary"]),
                                   "replica": int(served["replica"])})
                    row.note = (f"served by replica {int(served['replica'])}, "
                                f"primary {int(served['primary'])}")
                rows += [base_primary, row_strong.vs(base_primary), base_replica,
                         row_ryw.vs(base_replica)]
            totals = scrape_routes(gw.metrics_url)
        finally:
            await direct.close()
    counter = {f"{d}/{lv}/{t}": int(v) for (d, lv, t), v in sorted(totals.items())
               if d == "orders"}
    return {"rows": rows, "routes": routes, "route_counters_at_end": counter,
            "orders": plan.get_orders}


# -- 3. the admin scatter ---------------------------------------------------------


async def scatter_scenario(plan: OrdersPlan, client: LoadClient) -> dict[str, Any]:
    async with Gateway(shards=4, replicas=0) as gw:
        log(f"ListOrders scatter: COPY {plan.scatter_orders} orders of {plan.scatter_users} "
            "users into 4 shards")
        load = await bulk_load_orders(gw.backends, plan.scatter_orders, plan.scatter_users)
        log(f"  loaded: {load}")
        admin = admin_pb2_grpc.AdminServiceStub(gw.channel)
        direct = await DirectShop.open(gw.backends, max_size=4)
        bench = Bench(client, gw.process)
        rows: list[OrdersRow] = []
        checks: dict[str, bool] = {}
        try:
            first = admin_pb2.AdminServiceListOrdersRequest(page_size=SCATTER_PAGE)
            placed = admin_pb2.AdminServiceListOrdersRequest(
                page_size=SCATTER_PAGE, status=order_pb2.ORDER_STATUS_PLACED)
            deep = admin_pb2.AdminServiceListOrdersRequest()
            deep.CopyFrom(first)
            after = None
            for _ in range(plan.deep_pages):
                response = await admin.ListOrders(deep, timeout=60)
                deep.page_token = response.next_page_token
                _, after = await direct.scan(None, after, SCATTER_PAGE)
            deep_after = after
            cases: list[tuple[str, admin_pb2.AdminServiceListOrdersRequest,
                              Callable[[], Awaitable[Any]]]] = [
                ("first page", first, lambda: direct.scan(None, None, SCATTER_PAGE)),
                (f"page {plan.deep_pages + 1} (after {plan.deep_pages} pages)", deep,
                 lambda: direct.scan(None, deep_after, SCATTER_PAGE)),
                ("first page, status placed", placed,
                 lambda: direct.scan("placed", None, SCATTER_PAGE)),
            ]
            for name, request, scan in cases:
                response = await admin.ListOrders(request, timeout=60)
                page, _ = await scan()
                checks[name] = [o.order_id for o in response.orders] == \
                    [o.order_id for o in page] and len(page) == SCATTER_PAGE
                log(f"ListOrders {name}: warm-up, then {plan.scatter_requests} requests each")
                bench.client.run(gw.process.address, SCATTER, [request], 1, 10)

                async def op(_: int, scan: Callable[[], Awaitable[Any]] = scan) -> Any:
                    return await scan()

                await drive(op, 10, 1)
                base = await bench.direct_phase(f"ListOrders scatter, {name}", op, 1,
                                                plan.scatter_requests)
                row = bench.gateway_phase(f"ListOrders scatter, {name}", SCATTER, [request],
                                          1, plan.scatter_requests)
                rows += [base, row.vs(base)]
        finally:
            await direct.close()
    return {"rows": rows, "load": load, "same_page_as_baseline": checks}


# -- the run ----------------------------------------------------------------------


def goals(rows: list[OrdersRow]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in rows:
        if r.scenario.startswith("CreateOrder") and r.target == "gateway":
            out.append({"goal": f"CreateOrder >= {GOAL_ORDERS_PER_S:g} orders/s "
                                f"(concurrency {r.concurrency})",
                        "measured": f"{r.rps:.0f} orders/s", "met": r.rps >= GOAL_ORDERS_PER_S})
            out.append({"goal": f"CreateOrder p99 < {GOAL_P99_MS:g} ms",
                        "measured": f"{r.p99_ms:.1f} ms", "met": r.p99_ms < GOAL_P99_MS})
            if r.ratio_p50 is not None:
                out.append({"goal": f"CreateOrder gateway/direct overhead < {GOAL_OVERHEAD:g}x "
                                    "(p50 latency at the same concurrency)",
                            "measured": f"{r.ratio_p50:.2f}x (p99 {r.ratio_p99:.2f}x)",
                            "met": r.ratio_p50 < GOAL_OVERHEAD})
    return out


async def run(plan: OrdersPlan, client: LoadClient, source: Callable[[], str]
              ) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "orders", "source_at_start": source(), "client": client.name,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "plan": {k: v for k, v in vars(plan).items() if k != "parts"} | {
            "parts": sorted(plan.parts)}}
    rows: list[OrdersRow] = []
    started = time.perf_counter()
    if "create" in plan.parts:
        out = await create_scenario(plan, client)
        rows += out.pop("rows")
        result["create"] = out
    if "get" in plan.parts:
        out = await get_scenario(plan, client)
        rows += out.pop("rows")
        result["get"] = out
    if "scatter" in plan.parts:
        out = await scatter_scenario(plan, client)
        rows += out.pop("rows")
        result["scatter"] = out
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["phases"] = rows
    result["goals"] = goals(rows)
    result["machine"] = machine_info({"load_client": client.name})
    result["source_at_end"] = source()
    return result


# -- output -------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def table(rows: list[OrdersRow]) -> str:
    lines = [
        "| scenario | target | concurrency | requests | errors | req/s | p50 ms | p95 ms "
        "| p99 ms | p50 / baseline | p99 / baseline | process CPU us/req "
        "| postgres CPU us/req | load client CPU us/req | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.target} | {r.concurrency} | {r.requests} | {r.errors} "
            f"| {r.rps:.0f} | {r.p50_ms:.3f} | {r.p95_ms:.3f} | {r.p99_ms:.3f} "
            f"| {_num(r.ratio_p50)} | {_num(r.ratio_p99)} | {_num(r.server_cpu_us, 0)} "
            f"| {_num(r.postgres_cpu_us, 0)} | {_num(r.client_cpu_us, 0)} | {r.note} |")
    return "\n".join(lines)


def work_table(rows: list[OrdersRow]) -> str:
    worked = [r for r in rows if r.db_work]
    keys = sorted({k for r in worked for k in r.db_work})
    lines = ["| scenario | target | " + " | ".join(keys) + " |",
             "|---|---|" + "---:|" * len(keys)]
    lines += [f"| {r.scenario} | {r.target} | "
              + " | ".join(_num(r.db_work.get(k), 1) for k in keys) + " |" for r in worked]
    return "\n".join(lines)


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    out = [
        *machine_section(result, f"load client (gateway rows): {m['load_client']}; baselines: "
                         "asyncpg from the benchmark process", f"; wall {result['wall_s']} s"),
        "## Results",
        "",
        table(result["phases"]),
    ]
    if "create" in result:
        out += ["", "Database work per order (row counts of the tables; pg_stat_database "
                "counters, on full runs), summed over the commerce and inventory primaries:", "",
                work_table(result["phases"]), "",
                f"CreateOrder checks: {result['create']['checks']}"]
    if "get" in result:
        out += ["", "GetOrder read routes (datagw_read_routes_total deltas per phase): "
                f"{result['get']['routes']}",
                f"counters at the end: {result['get']['route_counters_at_end']}"]
    if "scatter" in result:
        out += ["", f"Scatter data: {result['scatter']['load']}",
                f"Same page as the baseline: {result['scatter']['same_page_as_baseline']}"]
    if result["goals"]:
        out += ["", "## Goals", "", "| goal | measured | met |", "|---|---|---|"]
        out += [f"| {g['goal']} | {g['measured']} | {'yes' if g['met'] else 'NO'} |"
                for g in result["goals"]]
    return "\n".join(out)
