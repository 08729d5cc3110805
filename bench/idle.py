"""What a sidecar costs when nothing calls it, and its memory: `--scenario idle`.

Two gateways, each `datagw serve` in its own process, one after the other:

- embedded: `--ephemeral`, its PostgreSQL, Valkey and chdb started by the
  gateway itself;
- external: its backends (PostgreSQL main + 2 shard servers, Valkey) started
  by this process and handed to the gateway through DATAGW_* variables, as a
  sidecar in front of real servers gets them; no analytics store (that needs
  a ClickHouse server).

Each is left to settle, then its CPU (/proc/<pid>/stat utime + stime) is read
over a window with no calls, per thread too (the thread names say which
loop burns it), and the CPU of its backends' processes over the same window
(with embedded mode they run on the pod; external ones are what the
gateway's polls cost the servers). RSS (VmRSS) idle, then under load: a
grpc.aio loop of GetProduct (cache hits and misses) and AppendToStream for
`load_s` (`--duration`), RSS sampled every `sample_s`; the growth is the mean
of the last minute's samples (the last third for a run under 3 minutes) less
the first one's. VmHWM is the peak.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import grpc
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2, eventstore_pb2_grpc
from datagw.v1 import eventstore_pb2 as es_pb2

from bench import data, procs
from bench.report import machine_info, machine_section
from gateway.policy.loader import load_policies
from gateway.policy.model import Store
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.services import POLICY_CATALOG
from gateway.runtime.startup import create_database

ROOT = Path(__file__).resolve().parent.parent
TICK_S = os.sysconf("SC_CLK_TCK")
# The goal for an idle embedded gateway: a fifth of a percent of a core.
IDLE_GOAL_PCT = 0.2
PRODUCTS = 500


@dataclass(frozen=True)
class IdlePlan:
    settle_s: float   # after "datagw serving", before the idle window
    window_s: float   # the idle window
    load_s: float     # the load phase (--duration)
    sample_s: float   # RSS sampling period under load
    concurrency: int = 8


FULL = IdlePlan(settle_s=20, window_s=60, load_s=60, sample_s=10)
QUICK = IdlePlan(settle_s=2, window_s=6, load_s=3, sample_s=1)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- /proc --------------------------------------------------------------------


def _stat(path: Path) -> list[str] | None:
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(entry / "stat")
            if fields is not None:
                out.setdefault(int(fields[1]), []).append(int(entry.name))
    return out


def _tree_ticks(roots: list[int]) -> tuple[int, frozenset[int]]:
    children, total, todo, seen = _children(), 0, list(roots), set()
    while todo:
        pid = todo.pop()
        fields = _stat(Path(f"/proc/{pid}/stat"))
        if fields is not None:
            seen.add(pid)
            total += sum(int(f) for f in fields[11:15])
        todo += children.get(pid, [])
    return total, frozenset(seen)


def tree_cpu_s(roots: list[int]) -> float:
    """CPU of `roots` and every descendant, reaped children included (their
    time moved to the parent's cutime/cstime), so none is counted twice.
    A child that ends while the tree is read (PostgreSQL's autovacuum
    workers come and go) can be missed: read after its parent, before it
    was reaped, it is in neither. So the tree is read until two reads in a
    row see the same processes."""
    total, seen = _tree_ticks(roots)
    for _ in range(10):
        again, now = _tree_ticks(roots)
        if now == seen:
            return again / TICK_S
        total, seen = again, now
    return total / TICK_S


def process_cpu_s(pid: int) -> float:
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICK_S


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU per thread name (threads of one name summed)."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = _stat(task / "stat")
        try:
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        if fields is not None:
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK_S
    return out


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (the peak) in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


# -- the gateways -------------------------------------------------------------


def _serve(name: str, data_dir: Path, *extra: str,
           env: dict[str, str] | None = None) -> procs.ServerProcess:
    return procs.start(
        name,
        [sys.executable, "-m", "gateway.runtime.cli", "serve", *extra,
         "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir", str(data_dir)],
        ready="datagw serving", port_pattern=r"grpc plaintext on [\d.]+:(\d+)",
        env={"DATAGW_LOGGING__LEVEL": "warning", **(env or {})},
    )


async def external_env(stack: EmbeddedBackends) -> dict[str, str]:
    """DATAGW_* variables pointing a gateway at `stack`: every keyspace the
    policies name, the sharded ones on the shard servers."""
    policies = load_policies(ROOT / "policies", POLICY_CATALOG)
    keyspaces: dict[str, Any] = {}
    for p in policies.domains.values():
        if p.store is not Store.POSTGRES or not p.keyspace or p.keyspace in keyspaces:
            continue
        servers = stack.shards if p.shard_key else [stack.postgres]
        for server in servers:
            await create_database(server.dsn, p.keyspace)
        keyspaces[p.keyspace] = {"shards": [{"primary": s.cluster_dsn(p.keyspace)}
                                            for s in servers]}
    # JSON is YAML: the variables are read as YAML.
    return {"DATAGW_POSTGRES__KEYSPACES": json.dumps(keyspaces),
            "DATAGW_REDIS__URL": stack.valkey.url}


async def idle_window(gw: procs.ServerProcess, backends: Callable[[], float],
                      window_s: float) -> dict[str, Any]:
    per_min = 60.0 / window_s
    threads0, cpu0, back0 = thread_cpu_s(gw.pid), process_cpu_s(gw.pid), backends()
    await asyncio.sleep(window_s)
    threads1, cpu1, back1 = thread_cpu_s(gw.pid), process_cpu_s(gw.pid), backends()
    cpu_min = (cpu1 - cpu0) * per_min
    threads = {name: round((t - threads0.get(name, 0.0)) * per_min, 3)
               for name, t in threads1.items() if t - threads0.get(name, 0.0) > 0}
    return {"window_s": window_s, "cpu_s_per_min": round(cpu_min, 3),
            "core_pct": round(cpu_min / 60 * 100, 3),
            "backends_cpu_s_per_min": round((back1 - back0) * per_min, 3),
            "threads_cpu_s_per_min": dict(sorted(threads.items(), key=lambda kv: -kv[1])),
            **{f"idle_{k}": v for k, v in memory_mb(gw.pid).items()}}


async def load(gw: procs.ServerProcess, plan: IdlePlan) -> dict[str, Any]:
    """GetProduct (3 in 4) and AppendToStream (1 in 4) at plan.concurrency for
    plan.load_s, RSS sampled every plan.sample_s."""
    async with grpc.aio.insecure_channel(gw.address) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        events = eventstore_pb2_grpc.EventStoreServiceStub(channel)
        payloads = data.generate_chunk((data.SEED, 0, PRODUCTS))
        imported = await channel.stream_unary(
            "/datagw.v1.CatalogService/ImportProducts",
            response_deserializer=catalog_pb2.ImportProductsResponse.FromString,
        )(iter(payloads), timeout=120)
        if imported.failed_count:
            raise RuntimeError(f"import failed: {imported.errors[:3]}")
        eventual = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL)
        run = uuid.uuid4().hex[:8]
        calls, errors = 0, 0
        stop_at = time.monotonic() + plan.load_s

        async def worker(w: int) -> None:
            nonlocal calls, errors
            for n in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                try:
                    if n % 4 == 3:
                        await events.AppendToStream(es_pb2.AppendToStreamRequest(
                            stream=es_pb2.StreamRef(stream=f"idle-{run}-{w}"),
                            events=[es_pb2.EventData(event_id=str(uuid.uuid4()),
                                                     event_type="CartItemAdded")]), timeout=10)
                    else:
                        await catalog.GetProduct(catalog_pb2.GetProductRequest(
                            sku=data.sku((w * 7919 + n) % PRODUCTS), read_options=eventual),
                            timeout=10)
                    calls += 1
                except grpc.aio.AioRpcError:
                    errors += 1

        async def sampler() -> list[dict[str, float]]:
            samples = []
            began = time.monotonic()
            while time.monotonic() < stop_at:
                await asyncio.sleep(plan.sample_s)
                samples.append({"t_s": round(time.monotonic() - began, 1),
                                **memory_mb(gw.pid)})
            return samples

        cpu0 = process_cpu_s(gw.pid)
        began = time.monotonic()
        sampled, *_ = await asyncio.gather(sampler(),
                                           *(worker(w) for w in range(plan.concurrency)))
        took, cpu = time.monotonic() - began, process_cpu_s(gw.pid) - cpu0
    rss = [s["VmRSS"] for s in sampled] or [memory_mb(gw.pid)["VmRSS"]]
    # First and last minute; in a shorter run, its first and last thirds.
    edge = max(1, min(int(60 / plan.sample_s), len(rss) // 3))
    return {"seconds": round(took, 1), "calls": calls, "errors": errors,
            "calls_per_s": round(calls / took), "cpu_us_per_call": round(cpu / max(calls, 1) * 1e6),
            "rss_mb_under_load": round(statistics.mean(rss), 1),
            "rss_growth_mb": round(statistics.mean(rss[-edge:]) - statistics.mean(rss[:edge]), 1),
            "after_load": memory_mb(gw.pid), "samples": sampled}


async def measure_embedded(plan: IdlePlan, tmp: Path) -> dict[str, Any]:
    log("embedded: starting datagw serve --ephemeral")
    gw = _serve("gateway (embedded)", tmp / "embedded", "--ephemeral")
    try:
        await asyncio.sleep(plan.settle_s)
        log(f"embedded: idle window of {plan.window_s:g} s")
        result = await idle_window(gw, lambda: tree_cpu_s([gw.pid]) - process_cpu_s(gw.pid),
                             plan.window_s)
    finally:
        gw.stop()
    return {"mode": "embedded", **result}


async def measure_external(plan: IdlePlan, tmp: Path) -> dict[str, Any]:
    log("external: starting PostgreSQL (main + 2 shards) and Valkey in this process")
    stack = EmbeddedBackends(tmp / "stack", ephemeral=True, shards=2, supervise=False)
    await asyncio.to_thread(stack.start)
    try:
        env = await external_env(stack)
        mine = os.getpid()
        log("external: starting datagw serve on them")
        gw = _serve("gateway (external)", tmp / "external", env=env)
        try:
            await asyncio.sleep(plan.settle_s)
            log(f"external: idle window of {plan.window_s:g} s")

            def backends() -> float:
                return tree_cpu_s([mine]) - tree_cpu_s([gw.pid]) - process_cpu_s(mine)

            result = await idle_window(gw, backends, plan.window_s)
            log(f"external: load for {plan.load_s:g} s")
            result["load"] = await load(gw, plan)
        finally:
            gw.stop()
    finally:
        await asyncio.to_thread(stack.stop)
    return {"mode": "external", **result}


async def run(plan: IdlePlan, source: Callable[[], str]) -> dict[str, Any]:
    at_start, load_at_start = source(), [round(x, 2) for x in os.getloadavg()]
    # Not under /tmp/pytest-*: PostgreSQL runs as its own user when we are root.
    tmp = Path(tempfile.mkdtemp(prefix="datagw-bench-idle-"))
    try:
        modes = [await measure_embedded(plan, tmp), await measure_external(plan, tmp)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"plan": asdict(plan), "modes": modes,
            "machine": machine_info({"load_client": f"grpc.aio, {plan.concurrency} workers"}),
            "source_at_start": at_start, "source_at_end": source(),
            "load_average_at_start": load_at_start}


def sized(plan: IdlePlan, window_s: float | None, load_s: float | None) -> IdlePlan:
    """`plan` with the idle window and the load phase given on the command line."""
    return replace(plan, window_s=window_s or plan.window_s, load_s=load_s or plan.load_s)


def render(result: dict[str, Any]) -> str:
    plan = result["plan"]
    out = [*machine_section(result, "grpc.aio load loop in this process"),
           "## Idle cost and memory", "",
           f"Idle window {plan['window_s']:g} s after {plan['settle_s']:g} s settled; "
           f"load {plan['load_s']:g} s at concurrency {plan['concurrency']} (GetProduct 3 in 4, "
           f"AppendToStream 1 in 4), RSS sampled every {plan['sample_s']:g} s.", "",
           "| mode | idle CPU s/min | % of a core | backends CPU s/min | RSS idle MB "
           "| RSS under load MB | RSS growth MB | VmHWM MB |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m in result["modes"]:
        loaded = m.get("load")
        under = f"{loaded['rss_mb_under_load']:.1f}" if loaded else "-"
        growth = f"{loaded['rss_growth_mb']:+.1f}" if loaded else "-"
        peak = loaded["after_load"]["VmHWM"] if loaded else m["idle_VmHWM"]
        out.append(f"| {m['mode']} | {m['cpu_s_per_min']:.3f} | {m['core_pct']:.2f} "
                   f"| {m['backends_cpu_s_per_min']:.3f} | {m['idle_VmRSS']:.1f} | {under} "
                   f"| {growth} | {peak:.1f} |")
    out += ["", f"goal: an idle embedded gateway at most {IDLE_GOAL_PCT}% of a core", ""]
    for m in result["modes"]:
        top = ", ".join(f"{name} {s:.3f}" for name, s in
                        list(m["threads_cpu_s_per_min"].items())[:6])
        out.append(f"- {m['mode']}: idle CPU s/min by thread: {top or 'none'}")
        if m.get("load"):
            ld = m["load"]
            out.append(f"- {m['mode']}: under load {ld['calls']} calls ({ld['calls_per_s']}/s, "
                       f"{ld['errors']} errors), {ld['cpu_us_per_call']} us CPU per call")
    out.append("")
    return "\n".join(out)
