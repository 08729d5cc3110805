"""`datagw serve --workers N`: the same calls with 1 and with 2 workers.

For each worker count, one `datagw serve --ephemeral --shards 2 --workers N`
subprocess with a stocked shop (bench/commerce_data.py), then at concurrency
32 over CONNECTIONS connections (the kernel spreads connections, not calls,
over the workers): GetProduct cache hits, GetOrder strong and CreateOrder
(3 items). Each phase reports throughput, p50/p99 and the CPU per call of
every worker process together (not the backends). The baseline of each
phase is the same phase with one worker, in the same run; GetOrder also
runs the same SQL on asyncpg from this process (one Python process, as
one worker is).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datagw.v1 import catalog_pb2, common_pb2, order_pb2

from bench.commerce import (
    CREATE,
    GET,
    STRONG,
    Bench,
    Gateway,
    OrdersRow,
    log,
    place_orders,
    table,
)
from bench.commerce_data import order_inputs, stock_shop
from bench.commerce_direct import DirectShop, drive
from bench.load import LoadClient
from bench.report import machine_info, machine_section

GET_PRODUCT = "datagw.v1.CatalogService/GetProduct"
CONNECTIONS = 8
CONCURRENCY = 32
EVENTUAL = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)


@dataclass(frozen=True)
class WorkersPlan:
    workers: tuple[int, ...]
    users: int
    products: int
    orders: int
    reads: int
    creates: int
    warmup: int


FULL = WorkersPlan(workers=(1, 2), users=2000, products=500, orders=1000, reads=20_000,
                   creates=4000, warmup=500)
QUICK = WorkersPlan(workers=(1, 2), users=60, products=40, orders=60, reads=400, creates=100,
                    warmup=40)


async def one_count(plan: WorkersPlan, workers: int, client: LoadClient) -> list[OrdersRow]:
    async with Gateway(shards=2, replicas=0, workers=workers) as gw:
        shop = await stock_shop(gw.channel, plan.users, plan.products)
        placed = await place_orders(gw.channel, shop, plan.orders)
        bench = Bench(client, gw.process)
        target = f"gateway, {workers} worker{'s' if workers > 1 else ''}"
        hits = [catalog_pb2.GetProductRequest(sku=sku, read_options=EVENTUAL)
                for sku in shop.skus[:50]]
        strong = [order_pb2.GetOrderRequest(order_id=o, read_options=STRONG) for o, _ in placed]
        creates = [o.request() for o in order_inputs(shop, plan.warmup + plan.creates,
                                                     f"w{workers}", 4)]
        rows = []
        log(f"{workers} worker(s): warm-up, then {plan.reads} reads of each kind and "
            f"{plan.creates} orders at concurrency {CONCURRENCY} over {CONNECTIONS} connections")
        phases: list[tuple[str, str, list[Any], int]] = [
            ("GetProduct cache hit", GET_PRODUCT, hits, plan.reads),
            ("GetOrder strong", GET, strong, plan.reads),
            ("CreateOrder, 3 items", CREATE, creates[plan.warmup:], plan.creates)]
        for _, method, requests, _ in phases[:2]:
            bench.client.run(gw.process.address, method, requests, CONCURRENCY, plan.warmup,
                             connections=CONNECTIONS)
        bench.client.run(gw.process.address, CREATE, creates[:plan.warmup], CONCURRENCY,
                         plan.warmup, connections=CONNECTIONS)
        for scenario, method, requests, total in phases:
            rows.append(bench.gateway_phase(scenario, method, requests, CONCURRENCY, total,
                                            target, CONNECTIONS))
        if workers == plan.workers[0]:
            direct = await DirectShop.open(gw.backends)
            ids = [o for o, _ in placed]
            try:
                async def primary(i: int) -> Any:
                    return await direct.get_order(ids[i % len(ids)])

                await drive(primary, plan.warmup, CONCURRENCY)
                rows.append(await bench.direct_phase("GetOrder strong", primary, CONCURRENCY,
                                                     plan.reads, "direct asyncpg, primary"))
            finally:
                await direct.close()
    return rows


async def run(plan: WorkersPlan, client: LoadClient, source: Callable[[], str]
              ) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "workers", "source_at_start": source(), "client": client.name,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "plan": vars(plan), "connections": CONNECTIONS}
    started = time.perf_counter()
    by_count = {n: await one_count(plan, n, client) for n in plan.workers}
    first = by_count[plan.workers[0]]
    rows: list[OrdersRow] = []
    for n, measured in by_count.items():
        for row in measured:
            base = next((b for b in first if b.scenario == row.scenario
                         and b.target.startswith("gateway")), None)
            if n != plan.workers[0] and base is not None:
                row.vs(base)
            rows.append(row)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["phases"] = rows
    result["scaling"] = [
        {"scenario": r.scenario, "workers": n,
         "rps_vs_one_worker": round(r.rps / b.rps, 2) if b.rps else None}
        for n, measured in by_count.items() for r in measured
        for b in first if b.scenario == r.scenario and b.target.startswith("gateway")
        and r.target.startswith("gateway")]
    result["machine"] = machine_info({"load_client": client.name})
    result["source_at_end"] = source()
    return result


def render(result: dict[str, Any]) -> str:
    scaling = ["| scenario | workers | req/s vs 1 worker |", "|---|---:|---:|"]
    scaling += [f"| {s['scenario']} | {s['workers']} | {s['rps_vs_one_worker']} |"
                for s in result["scaling"]]
    return "\n".join([
        *machine_section(result, f"load client: {result['machine']['load_client']}, "
                         f"{result['connections']} connections; baseline: the same phase "
                         "with one worker", f"; wall {result['wall_s']} s"),
        "## Results", "", table(result["phases"]), "", *scaling])
