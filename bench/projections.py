"""The projections benchmark: python -m bench.run --scenario projections [--quick].

Runs in this process on the embedded stack (2 commerce shards, the catalog
database), with the gateway's backends opened but no gRPC server and no live
feeds: a rebuild is background work and gRPC plays no part in it.

A backlog of OrderPlaced events (the gateway's payload: three lines, a sealed
PII envelope; bench/relay.py's generator) is COPYed into the two commerce
shards' events tables. Then each projection is rebuilt from the first event
(ProjectionRunner.rebuild: replay into a fresh generation, swap), timed from
start to swap. Baseline: the same commit-safe reads alone (log.read_after,
the same batch size and event filter, every shard), so the difference is
what applying adds (the ledger, the counters, one checkpoint commit per
batch). The run ends by checking the read models against the backlog: every
order counted once, every unit once.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.relay import copy_backlog, log
from bench.report import machine_info, machine_section
from gateway.domain.projections import all_projections
from gateway.domain.projections.runner import BATCH_SIZE, ProjectionRunner
from gateway.records.events import Cursor, EventFilter
from gateway.runtime.config import Config
from gateway.runtime.server import Gateway
from gateway.storage.eventstore.log import read_after
from gateway.storage.postgres.pool import Shard

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ProjectionsPlan:
    backlog: int


FULL = ProjectionsPlan(backlog=200_000)
QUICK = ProjectionsPlan(backlog=4_000)


async def read_only(shards: list[Shard], event_types: tuple[str, ...]) -> int:
    """Every event of the shards, read as a rebuild reads them; the count."""
    seen = 0
    for shard in shards:
        cursor = Cursor()
        async with shard.connection("bench") as conn:
            while True:
                page = await read_after(conn, cursor, BATCH_SIZE, EventFilter(event_types))
                seen += len(page.events)
                cursor = page.next
                if page.reached_horizon:
                    break
    return seen


async def _totals(gw: Gateway) -> dict[str, int]:
    """What the read models and the backlog hold, to compare."""
    out = {"summary_orders": 0, "backlog_units": 0}
    for shard in gw.backends.keyspaces["commerce"].shards:
        async with shard.connection("bench") as conn:
            out["summary_orders"] += await conn.fetchval(
                "SELECT coalesce(sum(order_count), 0) FROM user_order_summary")
            out["backlog_units"] += await conn.fetchval(
                """SELECT coalesce(sum((line->>'quantity')::bigint), 0) FROM events,
                   jsonb_array_elements(payload->'items') AS line
                   WHERE event_type = 'OrderPlaced'""")
    async with gw.backends.keyspaces["catalog"].single.connection("bench") as conn:
        out["sales_units"] = await conn.fetchval(
            "SELECT coalesce(sum(units), 0) FROM product_sales")
    return out


async def run(plan: ProjectionsPlan, source: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "family": "projections", "source_at_start": source(), "plan": vars(plan),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    data_dir = Path(tempfile.mkdtemp(prefix="datagw-bench-projections-"))
    gw = Gateway(Config(listen="127.0.0.1:0", metrics_listen=None,
                        policies_dir=ROOT / "policies", data_dir=data_dir, ephemeral=True))
    try:
        await gw.open_backends()
        commerce = gw.backends.keyspaces["commerce"]
        log(f"copying {plan.backlog} OrderPlaced events into the commerce shards")
        result["copy_s"] = round(await copy_backlog(commerce.shards, plan.backlog), 2)
        keyspaces = gw.backends.keyspaces
        # The backlog is order events: the projections of the commerce shards.
        projections = [p for p in all_projections(commerce, keyspaces["inventory"],
                                                  keyspaces["catalog"])
                       if all(s in commerce.shards for s in p.sources())]
        runner = ProjectionRunner(projections, gw.notifiers)
        rows = []
        for projection in projections:
            log(f"baseline: reading the backlog as {projection.name} does")
            started = time.perf_counter()
            read = await read_only(commerce.shards, projection.event_types)
            baseline_s = time.perf_counter() - started
            log(f"rebuilding {projection.name}")
            started = time.perf_counter()
            _, replayed = await runner.rebuild(projection.name)
            rebuild_s = time.perf_counter() - started
            assert replayed == read == plan.backlog, (replayed, read)
            rows.append({
                "projection": projection.name, "events": replayed,
                "rebuild_s": round(rebuild_s, 2),
                "rebuild_events_per_s": round(replayed / rebuild_s),
                "baseline_s": round(baseline_s, 2),
                "baseline_events_per_s": round(read / baseline_s),
                "ratio": round(rebuild_s / baseline_s, 1)})
        totals = await _totals(gw)
        assert totals["summary_orders"] == plan.backlog, totals
        assert totals["sales_units"] == totals["backlog_units"], totals
        result["rebuilds"] = rows
        result["totals"] = totals
    finally:
        await gw.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    result["machine"] = machine_info({"target": "postgres"})
    result["source_at_end"] = source()
    return result


def render(result: dict[str, Any]) -> str:
    return "\n".join([
        *machine_section(result, "in-process: embedded PostgreSQL shards"),
        "## Projection rebuild",
        "",
        "| projection | events | rebuild s | rebuild events/s | read-only baseline s "
        "| baseline events/s | rebuild / baseline time |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(f"| {r['projection']} | {r['events']} | {r['rebuild_s']} "
          f"| {r['rebuild_events_per_s']} | {r['baseline_s']} | {r['baseline_events_per_s']} "
          f"| {r['ratio']} |" for r in result["rebuilds"]),
        "",
        f"(COPY of the backlog into PostgreSQL took {result['copy_s']} s, not included; "
        f"checked: {result['totals']['summary_orders']} orders and "
        f"{result['totals']['sales_units']} units counted once each.)",
    ])
