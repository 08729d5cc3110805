"""Load clients: ghz when it can be had, else a multi-process grpc.aio client.

Whichever is chosen measures every target of a run (the gateway and the echo
baseline), so ratios compare like with like. Both take a list of requests and
send them round-robin, a fixed count at a fixed concurrency, and return one
latency per request (in request order when the concurrency is 1).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from google.protobuf import json_format
from google.protobuf.message import Message

ROOT = Path(__file__).resolve().parent.parent
GHZ_VERSION = "v0.120.0"
GHZ_MODULE = f"github.com/bojand/ghz/cmd/ghz@{GHZ_VERSION}"
GHZ_BIN = ROOT / "bench" / ".bin" / "ghz"
CALL_TIMEOUT_S = 60.0


@dataclass
class PhaseRun:
    latencies_ns: list[int]
    wall_s: float
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientTls:
    """A CA to trust and the client certificate to present (mutual TLS)."""

    ca: Path
    cert: Path
    key: Path


class LoadClient(Protocol):
    name: str

    def run(self, address: str, method: str, requests: Sequence[Message],
            concurrency: int, total: int, *, connections: int = 1) -> PhaseRun:
        """`connections`: HTTP/2 connections to spread the calls over (a
        gateway with several workers serves each connection in one)."""
        ...


# -- ghz ----------------------------------------------------------------------


class GhzClient:
    def __init__(self, binary: Path) -> None:
        self.binary = binary
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             check=False)
        version = (out.stdout or out.stderr).strip()
        # A `go install` build reports "dev"; the pinned version is what was built.
        self.name = f"ghz {GHZ_VERSION if version in ('', 'dev') else version}"

    def run(self, address: str, method: str, requests: Sequence[Message],
            concurrency: int, total: int, *, connections: int = 1,
            tls: ClientTls | None = None, metadata: dict[str, str] | None = None) -> PhaseRun:
        """`tls`: connect with TLS and this client certificate (else
        plaintext); `metadata`: headers sent with every call."""
        service, name = method.rsplit("/", 1)
        transport = ["--insecure"] if tls is None else [
            "--cacert", str(tls.ca), "--cert", str(tls.cert), "--key", str(tls.key)]
        with tempfile.TemporaryDirectory(prefix="bench-ghz-") as tmp:
            data = Path(tmp) / "data.json"
            data.write_text(json.dumps([json_format.MessageToDict(r) for r in requests]))
            report = Path(tmp) / "report.json"
            argv = [
                str(self.binary), *transport,
                *(["--metadata", json.dumps(metadata)] if metadata else []),
                "--proto", str(ROOT / "proto" / "datagw" / "v1" / f"{_proto_of(service)}.proto"),
                # .tools/proto holds buf/validate/validate.proto, which the API's
                # files import for their field rules (scripts/install_proto_deps.sh).
                "--import-paths", f"{ROOT / 'proto'},{ROOT / '.tools' / 'proto'}",
                "--call", f"{service}.{name}",
                "--data-file", str(data),
                "--disable-template-functions", "--disable-template-data",
                "--total", str(max(total, concurrency)), "--concurrency", str(concurrency),
                "--connections", str(connections), "--timeout", f"{CALL_TIMEOUT_S:g}s",
                "--format", "json", "--output", str(report), address,
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            if proc.returncode != 0 or not report.exists():
                raise RuntimeError(f"ghz failed ({proc.returncode}): {proc.stderr.strip()}")
            body = json.loads(report.read_text())
        errors = {k: v for k, v in (body.get("statusCodeDistribution") or {}).items()
                  if k != "OK"}
        details = body.get("details") or []
        return PhaseRun([int(d["latency"]) for d in details if d.get("status") == "OK"],
                        body["total"] / 1e9, errors)


def _proto_of(service: str) -> str:
    """proto/datagw/v1/<name>.proto of "datagw.v1.<Name>Service" (catalog, admin, order, ...)."""
    return service.rsplit(".", 1)[1].removesuffix("Service").lower()


def find_or_install_ghz(install: bool) -> Path | None:
    """bench/.bin/ghz; with `install`, `go install` it there first (pinned version)."""
    if GHZ_BIN.exists():
        return GHZ_BIN
    if not install or not _which("go"):
        return None
    GHZ_BIN.parent.mkdir(parents=True, exist_ok=True)
    print(f"installing {GHZ_MODULE} into {GHZ_BIN.parent} ...", flush=True)
    proc = subprocess.run(["go", "install", GHZ_MODULE], capture_output=True, text=True,
                          env=dict(os.environ, GOBIN=str(GHZ_BIN.parent)), check=False)
    if proc.returncode != 0:
        print(f"ghz could not be installed; using the Python client:\n{proc.stderr[-2000:]}",
              flush=True)
        return None
    return GHZ_BIN if GHZ_BIN.exists() else None


def _which(tool: str) -> bool:
    return any((Path(d) / tool).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


# -- the Python client --------------------------------------------------------


class PythonClient:
    """N worker processes, each one channel with M concurrent callers.

    Requests are pre-serialized and responses are not parsed, to keep the
    client's own CPU per call as small as Python allows; on a 2-core machine it
    still competes with the server for the CPUs.
    """

    def __init__(self, max_workers: int = 2) -> None:
        import grpc

        self.max_workers = max_workers
        self.name = f"python grpc.aio {grpc.__version__} (up to {max_workers} processes)"

    def run(self, address: str, method: str, requests: Sequence[Message],
            concurrency: int, total: int, *, connections: int = 1) -> PhaseRun:
        total = max(total, concurrency)
        payloads = [r.SerializeToString() for r in requests]
        workers = max(1, min(self.max_workers, concurrency))
        channels = max(1, -(-connections // workers))
        ctx = multiprocessing.get_context("spawn")  # grpc does not survive fork
        start = ctx.Event()
        ready = ctx.Queue()
        results = ctx.Queue()
        procs = []
        for w in range(workers):
            mine = [(i, payloads[i % len(payloads)]) for i in range(w, total, workers)]
            callers = concurrency // workers + (1 if w < concurrency % workers else 0)
            p = ctx.Process(target=_worker_main,
                            args=(address, "/" + method, mine, callers, channels, start, ready,
                                  results))
            p.start()
            procs.append(p)
        try:
            for _ in procs:
                ready.get(timeout=60)
            start.set()
            parts = [results.get(timeout=CALL_TIMEOUT_S * (total // concurrency + 2))
                     for _ in procs]
        finally:
            for p in procs:
                p.join(timeout=10)
                if p.is_alive():
                    p.kill()
        pairs = sorted(pair for part in parts for pair in part[0])
        errors: Counter[str] = Counter()
        for part in parts:
            errors.update(part[1])
        wall = (max(p[3] for p in parts) - min(p[2] for p in parts)) / 1e9
        return PhaseRun([lat for _, lat in pairs], wall, dict(errors))


def _worker_main(address: str, method: str, items: list[tuple[int, bytes]], callers: int,
                 channels: int, start: Any, ready: Any, results: Any) -> None:
    results.put(asyncio.run(_worker(address, method, items, callers, channels, start, ready)))


async def _worker(address: str, method: str, items: list[tuple[int, bytes]], callers: int,
                  channels: int, start: Any, ready: Any
                  ) -> tuple[list[tuple[int, int]], dict[str, int], int, int]:
    import grpc

    latencies: list[tuple[int, int]] = []
    errors: Counter[str] = Counter()
    # Each channel its own connection (grpc would otherwise share one).
    opened = [grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
              for _ in range(channels)]
    try:
        for channel in opened:
            await channel.channel_ready()
        # bytes in, bytes out: no client-side parsing
        calls = [channel.unary_unary(method) for channel in opened]
        ready.put(os.getpid())
        await asyncio.to_thread(start.wait)
        position = 0

        async def caller(call: Any) -> None:
            nonlocal position
            while position < len(items):
                index, payload = items[position]
                position += 1
                t0 = time.perf_counter_ns()
                try:
                    await call(payload, timeout=CALL_TIMEOUT_S)
                except grpc.aio.AioRpcError as exc:
                    errors[exc.code().name] += 1
                    continue
                latencies.append((index, time.perf_counter_ns() - t0))

        began = time.monotonic_ns()
        await asyncio.gather(*(caller(calls[i % len(calls)]) for i in range(callers)))
        ended = time.monotonic_ns()
    finally:
        for channel in opened:
            await channel.close(None)
    return latencies, dict(errors), began, ended
