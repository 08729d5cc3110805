"""The failover benchmark: python -m bench.run --scenario failover [--quick].

One PostgreSQL primary with one synchronous streaming standby holds every
keyspace; an in-process gateway reaches the primary through a multi-host DSN
(target_session_attrs=read-write) and serves CreateOrder and GetOrder
(read_your_writes, with the order's own token) from Python clients at fixed
concurrency. Two faults, each after a steady phase:

- promotion: kill -9 of the primary, then pg_promote() of the standby;
- hang: SIGSTOP of the (new) primary and all its processes for a few
  seconds, then SIGCONT.

For each: time to detect (fault to the OrderService health NOT_SERVING,
polled every 20 ms), the error window (first to last failed call, and how
many, by status code), time to recover (fault, or SIGCONT, to the first
successful CreateOrder), and p50/p99 of both methods in the steady phase
and across the fault. Baseline, in the same run and on the same servers: a
direct asyncpg pool on the same multi-host DSN doing the same primary-key
read as GetOrder, with the same deadline: what an application without the
gateway sees through the same faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from datagw.v1 import common_pb2, order_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.report import machine_info, machine_section, percentile
from gateway.runtime.config import Config, KeyspaceConfig
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.runtime.server import Gateway
from gateway.runtime.startup import create_database
from tests.commerce import Shop, order_request
from tests.helpers import frozen

ROOT = Path(__file__).resolve().parent.parent
ORDERS_SERVICE = "datagw.v1.OrderService"
SERVING = int(health_pb2.HealthCheckResponse.SERVING)
NOT_SERVING = int(health_pb2.HealthCheckResponse.NOT_SERVING)
SKU = "BENCH-FAILOVER"
# Every keyspace the default policies name, all on the one primary.
KEYSPACES = ("catalog", "commerce", "inventory")


@dataclass(frozen=True)
class FailoverPlan:
    steady_s: float
    after_s: float
    freeze_s: float
    writers: int
    readers: int
    deadline_s: float


FULL = FailoverPlan(steady_s=10.0, after_s=10.0, freeze_s=5.0, writers=8, readers=8,
                    deadline_s=5.0)
QUICK = FailoverPlan(steady_s=3.0, after_s=4.0, freeze_s=3.0, writers=4, readers=4,
                     deadline_s=5.0)


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


@dataclass
class Calls:
    """Every call of one kind: (start, end, status code name) in loop time."""

    calls: list[tuple[float, float, str]] = field(default_factory=list)

    def add(self, started: float, ended: float, code: str) -> None:
        self.calls.append((started, ended, code))

    def ended(self, start: float, end: float) -> list[tuple[float, float, str]]:
        return [c for c in self.calls if start <= c[1] < end]

    def summary(self, start: float, end: float, fault_at: float) -> dict[str, Any]:
        """The calls that ended in [start, end): a call caught by the fault
        counts in the fault's window."""
        window = self.ended(start, end)
        ok = sorted(int((e - s) * 1e9) for s, e, code in window if code == "OK")
        failed = [(s, e, code) for s, e, code in window if code != "OK"]
        after = [e for s, e, code in window if code == "OK" and s >= fault_at]
        return {
            "calls": len(window), "errors": dict(Counter(code for _, _, code in failed)),
            "p50_ms": round(percentile(ok, 50), 2), "p99_ms": round(percentile(ok, 99), 2),
            "max_ms": round(ok[-1] / 1e6, 1) if ok else None,
            "error_window_s": round(max(e for _, e, _ in failed) - min(s for s, _, _ in failed), 3)
            if failed else 0.0,
            "longest_failed_call_s": round(max((e - s for s, e, _ in failed), default=0.0), 3),
            "first_success_after_fault_s": round(min(after) - fault_at, 3) if after else None,
        }


@dataclass
class Stack:
    primary: EmbeddedPostgres
    standby: EmbeddedPostgres
    valkey: EmbeddedValkey

    def dsn(self, database: str) -> str:
        """Both servers, libpq style: whichever is read-write is the primary."""
        return self.primary.cluster_dsn(database)


class Load:
    """Writers placing orders and readers reading placed ones back with their
    tokens through the gateway; direct readers doing the same read with asyncpg."""

    def __init__(self, shop: Shop, pool: asyncpg.Pool, users: list[str], deadline_s: float
                 ) -> None:
        self.shop, self.pool, self.users, self.deadline_s = shop, pool, users, deadline_s
        self.creates, self.gets, self.direct = Calls(), Calls(), Calls()
        self.placed: list[tuple[str, str]] = []
        self.stop = asyncio.Event()
        self.serial = itertools.count()

    async def writer(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            i = next(self.serial)
            started = loop.time()
            try:
                placed = await self.shop.orders.CreateOrder(
                    order_request(self.users[n], {SKU: 1}, f"fo-{n}-{i}"),
                    timeout=self.deadline_s)
                self.placed.append((placed.order.order_id, placed.consistency_token))
                self.creates.add(started, loop.time(), "OK")
            except grpc.aio.AioRpcError as exc:
                self.creates.add(started, loop.time(), exc.code().name)
                await asyncio.sleep(0.02)

    async def reader(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if not self.placed:
                await asyncio.sleep(0.01)
                continue
            order_id, token = self.placed[(n * 7919 + len(self.placed)) % len(self.placed)]
            started = loop.time()
            try:
                await self.shop.orders.GetOrder(order_pb2.GetOrderRequest(
                    order_id=order_id, read_options=common_pb2.ReadOptions(
                        consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
                        consistency_token=token)), timeout=self.deadline_s)
                self.gets.add(started, loop.time(), "OK")
            except grpc.aio.AioRpcError as exc:
                self.gets.add(started, loop.time(), exc.code().name)
                await asyncio.sleep(0.02)

    async def direct_reader(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        while not self.stop.is_set():
            if not self.placed:
                await asyncio.sleep(0.01)
                continue
            order_id, _ = self.placed[(n * 104729 + len(self.placed)) % len(self.placed)]
            started = loop.time()
            try:
                async with asyncio.timeout(self.deadline_s):
                    async with self.pool.acquire() as conn:
                        await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1", order_id)
                self.direct.add(started, loop.time(), "OK")
            except TimeoutError:
                self.direct.add(started, loop.time(), "DEADLINE_EXCEEDED")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                    asyncpg.exceptions.InternalClientError) as exc:
                self.direct.add(started, loop.time(), type(exc).__name__)
                await asyncio.sleep(0.02)


async def _watch_health(channel: grpc.aio.Channel, stop: asyncio.Event,
                        changes: list[tuple[float, int]]) -> None:
    """(loop time, status) at every change of the OrderService health."""
    stub = health_pb2_grpc.HealthStub(channel)
    loop = asyncio.get_running_loop()
    last = None
    while not stop.is_set():
        with contextlib.suppress(grpc.aio.AioRpcError):
            got = await stub.Check(health_pb2.HealthCheckRequest(service=ORDERS_SERVICE),
                                   timeout=1)
            if got.status != last:
                last = got.status
                changes.append((loop.time(), int(got.status)))
        await asyncio.sleep(0.02)


def _first(changes: list[tuple[float, int]], after: float, status: int) -> float | None:
    """Seconds from `after` to the first change to `status` at or after it."""
    return next((round(t - after, 3) for t, s in changes if t >= after and s == status), None)


async def _promote(server: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(server.dsn)
    try:
        await conn.fetchval("SELECT pg_promote(true, 60)")
    finally:
        await conn.close()


async def _start_stack(tmp: Path) -> Stack:
    primary = EmbeddedPostgres(tmp / "primary")
    await asyncio.to_thread(primary.start)
    standby = await asyncio.to_thread(primary.add_replica, tmp / "standby")
    conn = await asyncpg.connect(primary.dsn)
    try:
        await conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        await conn.execute("SELECT pg_reload_conf()")
    finally:
        await conn.close()
    valkey = EmbeddedValkey(tmp / "valkey")
    await asyncio.to_thread(valkey.start)
    return Stack(primary, standby, valkey)


async def run(plan: FailoverPlan, source: Callable[[], str]) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="datagw-bench-failover-"))
    result: dict[str, Any] = {
        "source_at_start": source(), "client": "python (grpc.aio), in-process gateway",
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "plan": plan.__dict__, "machine": machine_info({})}
    stack = await _start_stack(tmp)
    try:
        for name in KEYSPACES:
            await create_database(stack.primary.dsn, name)
        gateway = Gateway(Config(
            listen="127.0.0.1:0", metrics_listen=None, policies_dir=ROOT / "policies",
            data_dir=tmp / "gateway",
            keyspaces={n: KeyspaceConfig(n, (stack.dsn(n),)) for n in KEYSPACES},
            redis_url=stack.valkey.url))
        await gateway.start()
        try:
            result["phases"] = await _measure(plan, gateway, stack)
        finally:
            await gateway.stop()
    finally:
        for server in (stack.standby, stack.primary):
            await asyncio.to_thread(server.stop)
        await asyncio.to_thread(stack.valkey.stop)
        shutil.rmtree(tmp, ignore_errors=True)
    result["source_at_end"] = source()
    return result


async def _measure(plan: FailoverPlan, gateway: Gateway, stack: Stack) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        shop = Shop.on(channel)
        await shop.stocked(SKU, 10_000_000, price_minor=300)
        users = [f"fo-user-{n}" for n in range(plan.writers)]
        for user in users:
            await shop.user(user)
        pool = await asyncpg.create_pool(stack.dsn("commerce"), min_size=2, max_size=8)
        load = Load(shop, pool, users, plan.deadline_s)
        changes: list[tuple[float, int]] = []
        health_stop = asyncio.Event()
        tasks = [asyncio.create_task(load.writer(n)) for n in range(plan.writers)]
        tasks += [asyncio.create_task(load.reader(n)) for n in range(plan.readers)]
        tasks += [asyncio.create_task(load.direct_reader(n)) for n in range(plan.readers)]
        watcher = asyncio.create_task(_watch_health(channel, health_stop, changes))
        phases: dict[str, Any] = {}
        try:
            start = loop.time()
            log(f"steady load for {plan.steady_s:g}s, then kill -9 of the primary")
            await asyncio.sleep(plan.steady_s)
            killed = loop.time()
            await asyncio.to_thread(stack.primary.kill)
            promoting = loop.time()
            await _promote(stack.standby)
            promoted = loop.time()
            log(f"promoted in {promoted - promoting:.2f}s; load for {plan.after_s:g}s")
            await asyncio.sleep(plan.after_s)
            end = loop.time()
            phases["promotion"] = _phase(load, changes, start, killed, end,
                                         extra={"promote_s": round(promoted - promoting, 3)})
            log(f"SIGSTOP of the new primary for {plan.freeze_s:g}s")
            start = loop.time()
            await asyncio.sleep(plan.steady_s / 2)
            stopped = loop.time()
            pid = stack.standby.pid
            assert pid is not None
            with frozen(pid):
                await asyncio.sleep(plan.freeze_s)
            resumed = loop.time()
            await asyncio.sleep(plan.after_s)
            end = loop.time()
            phases["hang"] = _phase(load, changes, start, stopped, end, extra={
                "frozen_s": round(resumed - stopped, 3),
                "serving_after_sigcont_s": _first(changes, resumed, SERVING)})
        finally:
            load.stop.set()
            health_stop.set()
            await asyncio.gather(*tasks, watcher)
            await pool.close()
    return phases


def _phase(load: Load, changes: list[tuple[float, int]], start: float, fault: float,
           end: float, extra: dict[str, Any]) -> dict[str, Any]:
    detected = _first(changes, fault, NOT_SERVING)
    return {
        "health_changes": [(round(t - fault, 3), status) for t, status in changes
                           if start <= t < end],
        "detected_s": detected,
        # From the fault, to SERVING again after the detection.
        "serving_again_s": None if detected is None else round(
            detected + (_first(changes, fault + detected, SERVING) or math.nan), 3),
        **extra,
        "steady": {"CreateOrder": load.creates.summary(start, fault, fault),
                   "GetOrder": load.gets.summary(start, fault, fault),
                   "direct read": load.direct.summary(start, fault, fault)},
        "fault": {"CreateOrder": load.creates.summary(fault, end, fault),
                  "GetOrder": load.gets.summary(fault, end, fault),
                  "direct read": load.direct.summary(fault, end, fault)},
    }


def render(result: dict[str, Any]) -> str:
    out = [*machine_section(result, f"load client: {result['client']}"), "## Results", ""]
    for name, phase in result["phases"].items():
        out += [f"### {name}", "",
                f"- detected (health NOT_SERVING) after: {phase['detected_s']} s",
                f"- serving again after the fault: {phase['serving_again_s']} s"]
        out += [f"- {k.replace('_', ' ')}: {v}" for k, v in phase.items()
                if k not in ("detected_s", "serving_again_s", "steady", "fault",
                             "health_changes")]
        out += ["", "| window | call | calls | errors | error window s | longest failed s "
                "| first success after fault s | p50 ms | p99 ms | max ms |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for window in ("steady", "fault"):
            for call, s in phase[window].items():
                out.append(f"| {window} | {call} | {s['calls']} | {s['errors'] or 0} | "
                           f"{s['error_window_s']} | {s['longest_failed_call_s']} | "
                           f"{s['first_success_after_fault_s']} | {s['p50_ms']} | "
                           f"{s['p99_ms']} | {s['max_ms']} |")
        out.append("")
    return "\n".join(out) + "\n"
