"""The backup and restore benchmark: python -m bench.run --scenario restore [--quick] [--orders N].

An embedded gateway in this process on a kept data dir (2 commerce shards):

1. N orders are bulk-loaded into shards 0 and 1 (bench/reshard.py's
   `bulk_load`), then a base backup of every server is taken and timed
   (what the schedule and `datagw backup` run: pg_basebackup per server,
   then Valkey's snapshot).
2. WAL after the backup, for the restore to replay: a table of as many rows
   as orders is written on each shard. Then a marker row A, the target time
   T (the shard's clock), a marker row B.
3. The gateway stops; `datagw restore`'s code restores shard 1 to T (timed:
   the restore part of the RTO); the gateway starts on the data dir again
   (timed until it serves: the rest of the RTO); A is there, B is not.
4. The same for every PostgreSQL server at once.
   After each start: the time until the relay and every projection have
   settled (the reconciliation's aftermath: rows relayed again, read models
   rebuilt).
5. `datagw verify`, sampled (5%) and exhaustive, is timed against the
   gateway on the data dir restored whole, once it has settled.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.report import machine_info, machine_section
from bench.reshard import bulk_load, commerce_dsn
from gateway.domain.projections.runner import ProjectionState
from gateway.runtime import cli
from gateway.runtime.config import Config
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.embedded.backup import BackupSettings
from gateway.runtime.embedded.restore import parse_target, plan, restore
from gateway.runtime.server import Gateway

ROOT = Path(__file__).resolve().parent.parent
CHURN_TABLE = "bench_restore_churn"
MARKS_TABLE = "bench_restore_marks"


@dataclass(frozen=True)
class RestorePlan:
    orders: int
    churn_rows: int   # rows written per shard after the base backup (WAL to replay)


FULL = RestorePlan(orders=1_000_000, churn_rows=1_000_000)
QUICK = RestorePlan(orders=20_000, churn_rows=20_000)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _gateway(root: Path) -> Gateway:
    return Gateway(Config(
        listen="127.0.0.1:0", metrics_listen=None, policies_dir=ROOT / "policies",
        data_dir=root, ephemeral=False, embedded_shards=2,
        # Backups only when the benchmark takes them.
        backup=BackupSettings(base_interval_s=0)))


def _embedded(gateway: Gateway) -> EmbeddedBackends:
    embedded = gateway.opened.embedded
    assert embedded is not None
    return embedded


async def _start(root: Path) -> tuple[Gateway, float]:
    gateway = _gateway(root)
    started = time.perf_counter()
    await gateway.start()
    return gateway, round(time.perf_counter() - started, 2)


async def _settle(gateway: Gateway, limit_s: float = 3600.0) -> float:
    """Seconds until the relay has copied every event and every projection
    serves a generation that has applied them all: after a restore, the
    reconciliation's aftermath (rows relayed again, read models rebuilt)."""
    wiring = gateway.wiring
    started = time.perf_counter()
    while True:
        relayed = [await r.progress() for r in wiring.relay.shards] if wiring.relay else []
        projected = await wiring.projections.statuses()
        if all(p.lag_events == 0 and not p.last_error for p in relayed) and all(
                s.state is ProjectionState.RUNNING and all(x.lag_events == 0 for x in s.shards)
                for s in projected):
            return round(time.perf_counter() - started, 2)
        if time.perf_counter() - started > limit_s:
            raise RuntimeError(f"relay and projections not settled within {limit_s:g}s")
        await asyncio.sleep(0.5)


async def _churn_and_mark(stack: EmbeddedBackends, rows: int) -> tuple[str, dict[str, Any]]:
    """WAL after the backup, then A, the target, B on every shard; the target."""
    timings: dict[str, Any] = {}
    conns = [await asyncpg.connect(commerce_dsn(stack, i)) for i in range(len(stack.shards))]
    try:
        lsn = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
        before = [int(await c.fetchval(lsn)) for c in conns]
        started = time.perf_counter()
        await asyncio.gather(*(c.execute(
            f"CREATE TABLE {CHURN_TABLE} AS SELECT g AS id, md5(g::text) AS filler "
            f"FROM generate_series(1, {rows}) g") for c in conns))
        timings["churn_s"] = round(time.perf_counter() - started, 2)
        timings["wal_mib_per_shard"] = [round((int(await c.fetchval(lsn)) - b) / 2**20, 1)
                                        for c, b in zip(conns, before, strict=True)]
        for c in conns:
            await c.execute(f"CREATE TABLE IF NOT EXISTS {MARKS_TABLE} (mark text)")
            await c.execute(f"INSERT INTO {MARKS_TABLE} VALUES ('A')")
        target = str(await conns[1].fetchval(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"))
        await asyncio.sleep(0.01)
        for c in conns:
            await c.execute(f"INSERT INTO {MARKS_TABLE} VALUES ('B')")
    finally:
        for c in conns:
            await c.close()
    return target, timings


async def _marks(stack: EmbeddedBackends) -> list[list[str]]:
    out = []
    for i in range(len(stack.shards)):
        conn = await asyncpg.connect(commerce_dsn(stack, i))
        try:
            out.append([r["mark"] for r in await conn.fetch(
                f"SELECT mark FROM {MARKS_TABLE} ORDER BY mark")])
        finally:
            await conn.close()
    return out


async def _restore_and_start(root: Path, target: str, shard: int | None,
                             verify: bool = False) -> dict[str, Any]:
    """Restore (the gateway stopped) and start the gateway: the RTO; then
    `datagw verify` against it when `verify`."""
    at = parse_target(target)
    said: list[str] = []
    took = await asyncio.to_thread(
        lambda: restore(root, at, plan(root, at, shard=shard), said.append))
    gateway, start_s = await _start(root)
    checked: dict[str, Any] = {}
    try:
        marks = await _marks(_embedded(gateway))
        settle_s = await _settle(gateway)
        if verify:
            for mode in ("--sample", "--exhaustive"):
                args = [mode, "0.05"] if mode == "--sample" else [mode]
                checked[mode.lstrip("-")] = await asyncio.to_thread(_verify, gateway.port, args)
    finally:
        await gateway.stop()
    expected = [["A"] if shard in (None, i) else ["A", "B"] for i in range(2)]
    if marks != expected:
        raise RuntimeError(f"restore to {target} left marks {marks}, expected {expected}")
    out = {"restore_s": round(took, 2), "gateway_start_s": start_s,
           "rto_s": round(took + start_s, 2), "settled_s": settle_s, "marks": marks,
           "output": said}
    if checked:
        out["verify"] = checked
    return out


def _verify(port: int, args: list[str]) -> dict[str, Any]:
    """`datagw verify` against the gateway on `port` (from a thread: the
    command's client blocks, the gateway's event loop must go on)."""
    out = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = cli.main(["verify", "--target", f"127.0.0.1:{port}", *args])
    return {"exit_code": code, "took_s": round(time.perf_counter() - started, 2),
            "output_tail": out.getvalue()[-2000:]}


async def run(sized: RestorePlan, source: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"family": "restore", "source_at_start": source(),
                              "plan": vars(sized),
                              "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    root = Path(tempfile.mkdtemp(prefix="datagw-bench-restore-"))
    try:
        gateway, first_start_s = await _start(root)
        try:
            stack = _embedded(gateway)
            log(f"loading {sized.orders} orders into shards 0 and 1")
            result["load"] = await bulk_load(stack, sized.orders)
            log("waiting for the relay and projections to take the load in")
            result["settled_after_load_s"] = await _settle(gateway)
            log("base backup of every server")
            started = time.perf_counter()
            report = await asyncio.to_thread(stack.back_up)
            result["backup"] = {
                "took_s": round(time.perf_counter() - started, 2),
                "servers": {b.server: {"s": b.duration_s, "mib": round(b.size_bytes / 2**20, 1)}
                            for b in report.base},
                "valkey": str(report.valkey)}
            log(f"backed up in {result['backup']['took_s']} s; writing WAL to replay")
            target, result["after_backup"] = await _churn_and_mark(stack, sized.churn_rows)
        finally:
            await gateway.stop()
        result["first_start_s"] = first_start_s
        result["target"] = target
        log(f"restoring shard 1 to {target}")
        result["one_shard"] = await _restore_and_start(root, target, 1)
        log(f"restoring every server to {target}")
        result["everything"] = await _restore_and_start(root, target, None, verify=True)
        result["verify"] = result["everything"].pop("verify")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result["machine"] = machine_info({})
    result["source_at_end"] = source()
    return result


def render(result: dict[str, Any]) -> str:
    load, backup = result["load"], result["backup"]
    churn = result["after_backup"]
    out = [*machine_section(result, "in-process embedded gateway, kept data dir"),
           "## Backup and point-in-time restore (embedded mode, 2 shards)", "",
           f"- loaded: {load['rows']} in {load['took_s']} s",
           f"- base backup of every server (pg_basebackup, then Valkey BGSAVE): "
           f"{backup['took_s']} s; " + ", ".join(
               f"{name} {s['mib']} MiB in {s['s']} s" for name, s in backup["servers"].items()),
           f"- after the backup: {result['plan']['churn_rows']} rows per shard in "
           f"{churn['churn_s']} s (WAL to replay per shard, MiB: "
           f"{churn['wal_mib_per_shard']}); target {result['target']}", "",
           "| restore | restore s | gateway start s | RTO s | relay and projections "
           "settled s |", "|---|---:|---:|---:|---:|"]
    for name, key in (("shard 1", "one_shard"), ("every server", "everything")):
        r = result[key]
        out.append(f"| {name} | {r['restore_s']} | {r['gateway_start_s']} | {r['rto_s']} | "
                   f"{r['settled_s']} |")
    out += ["", f"- gateway's first start on the new data dir: {result['first_start_s']} s",
            f"- relay and projections settled after the load: "
            f"{result['settled_after_load_s']} s"]
    out += [f"- datagw verify --{mode} after the whole restore: {v['took_s']} s "
            f"(exit {v['exit_code']})" for mode, v in result["verify"].items()]
    return "\n".join(out) + "\n"
