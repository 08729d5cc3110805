"""What authorization costs: GetProduct cache hits with and without the access gate.

One gateway (`datagw serve --ephemeral` through bench/authz_server.py)
configured with TLS, client certificates and JWT bearer tokens. Each phase
calls GetProduct for one cached product with ghz over mutual TLS, once
identified by the client certificate (mTLS identity) and once by a bearer
token (JWT identity, the certificate still presented), with the access gate
on (as shipped) and off (a signal makes it admit every call unseen), in the
same process, alternating the order over several rounds so drift on the
machine hits both alike. The ratio is with / without; the goal is at most
1.05 at p50.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

from bench import procs
from bench.load import ClientTls, GhzClient, PhaseRun, find_or_install_ghz
from bench.report import PhaseResult, machine_info, machine_section, markdown_table
from tests.auth_fixtures import AUDIENCE, ISSUER, Issuer, credentials, make_certs

GET = "datagw.v1.CatalogService/GetProduct"
SKU = "authz-bench-1"
GOAL_P50_RATIO = 1.05
KINDS = ("mTLS identity", "JWT identity")
WITH, WITHOUT = "with authorization", "without authorization"


@dataclass(frozen=True)
class AuthzPlan:
    # Requests per phase, by concurrency.
    # Short phases, many rounds: on two cores the load client and the gateway
    # share the CPUs, and drift between two long phases is larger than the
    # gate's cost.
    requests: dict[int, int] = field(default_factory=lambda: {1: 2000, 32: 8000})
    rounds: int = 8


FULL = AuthzPlan()
QUICK = AuthzPlan(requests={1: 200, 32: 800}, rounds=1)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _config(d: Path, certs: Any, jwks: Path) -> Path:
    path = d / "datagw.yaml"
    path.write_text(f"""
server:
  tls:
    cert_file: {certs.server_cert}
    key_file: {certs.server_key}
    client_ca_file: {certs.ca}
  auth:
    tcp: [mtls, jwt]
    jwt:
      issuer: {ISSUER}
      audience: {AUDIENCE}
      jwks_file: {jwks}
logging:
  level: warning
""")
    return path


def _start(name: str, config: Path, data_dir: Path, *extra: str) -> procs.ServerProcess:
    return procs.start(
        name,
        [sys.executable, "-m", "bench.authz_server", "--config", str(config), "--ephemeral",
         "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir", str(data_dir),
         *extra],
        ready="datagw serving", port_pattern=r"grpc tls on [\d.]+:(\d+)")


def _gate(server: procs.ServerProcess, *, on: bool) -> None:
    """Switch the gateway's access gate (bench/authz_server.py) and wait until it says so."""
    said = f"authz gate {'on' if on else 'off'}"
    seen = server.output().count(said)
    os.kill(server.pid, signal.SIGUSR2 if on else signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while server.output().count(said) == seen:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway did not switch: {said}")
        time.sleep(0.01)


async def _seed(server: procs.ServerProcess, creds: grpc.ChannelCredentials) -> None:
    """One product, read until it is cached."""
    async with grpc.aio.secure_channel(server.address, creds) as channel:
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        await catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(
            product=catalog_pb2.Product(
                sku=SKU, title="Benchmark product", brand="bench", category="bench",
                price=common_pb2.Money(currency_code="EUR", amount_minor=1999)),
            request_id="authz-bench-seed"), timeout=30)
        request = catalog_pb2.GetProductRequest(sku=SKU, read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL))
        for _ in range(20):
            await catalog.GetProduct(request, timeout=10)


async def run(plan: AuthzPlan, source: Callable[[], str]) -> dict[str, Any]:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise SystemExit("the authz benchmark needs openssl for its certificates")
    binary = find_or_install_ghz(install=True)
    if binary is None:
        raise SystemExit("the authz benchmark needs ghz (TLS and metadata per call)")
    ghz = GhzClient(binary)
    tmp = Path(tempfile.mkdtemp(prefix="datagw-bench-authz-"))
    result: dict[str, Any] = {"source_at_start": source(), "client": ghz.name,
                              "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                              "plan": {"requests": plan.requests, "rounds": plan.rounds}}
    servers: list[procs.ServerProcess] = []
    try:
        certs = make_certs(openssl, tmp)
        issuer = Issuer()
        config = _config(tmp, certs, issuer.write_jwks(tmp / "jwks.json"))
        log("starting the gateway")
        server = _start("gateway", config, tmp / "gateway")
        servers.append(server)
        await _seed(server, credentials(certs))
        tls = ClientTls(certs.ca, certs.client_cert, certs.client_key)
        token = {"authorization": f"Bearer {issuer.token('bench-client', ttl_s=7200)}"}
        request = catalog_pb2.GetProductRequest(sku=SKU, read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL))
        runs: dict[tuple[str, int, str], list[PhaseRun]] = defaultdict(list)
        cpu: dict[tuple[str, int, str], float] = defaultdict(float)
        for c, n in plan.requests.items():
            for kind in KINDS:
                metadata = token if kind == "JWT identity" else None
                log(f"GetProduct cache hit, {kind}, concurrency {c}: {plan.rounds} rounds")
                for round_ in range(plan.rounds):
                    order = (WITHOUT, WITH) if round_ % 2 == 0 else (WITH, WITHOUT)
                    for target in order:
                        _gate(server, on=target == WITH)
                        before = server.cpu_seconds() or 0.0
                        phase = ghz.run(server.address, GET, [request], c, n, tls=tls,
                                        metadata=metadata)
                        if phase.errors:
                            raise RuntimeError(f"{target}: {phase.errors}")
                        cpu[(kind, c, target)] += (server.cpu_seconds() or 0.0) - before
                        runs[(kind, c, target)].append(phase)
        rows: list[PhaseResult] = []
        for c in plan.requests:
            for kind in KINDS:
                phases = {}
                for target in (WITHOUT, WITH):
                    key = (kind, c, target)
                    pooled = PhaseRun([ns for r in runs[key] for ns in r.latencies_ns],
                                      sum(r.wall_s for r in runs[key]))
                    phases[target] = PhaseResult.of(
                        f"GetProduct cache hit, {kind}", target, c, pooled, cpu[key])
                rows += [phases[WITHOUT], phases[WITH].against(phases[WITHOUT])]
        result["phases"] = rows
        result["goals"] = [{
            "goal": f"{r.scenario} p50 <= {GOAL_P50_RATIO}x without authorization "
                    f"(concurrency {r.concurrency})",
            "measured": r.ratio_p50, "met": r.ratio_p50 is not None
            and r.ratio_p50 <= GOAL_P50_RATIO} for r in rows if r.ratio_p50 is not None]
        result["machine"] = machine_info({"load_client": ghz.name})
        result["source_at_end"] = source()
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def render(result: dict[str, Any]) -> str:
    out = [*machine_section(result, f"load client: {result['client']}"), "## Results", "",
           "Ratios: with authorization / without, same phase.", "",
           markdown_table(result["phases"]), "", "## Goals", ""]
    for g in result["goals"]:
        out.append(f"- {'met' if g['met'] else 'MISSED'}: {g['goal']}: {g['measured']}")
    return "\n".join(out) + "\n"
