"""`datagw serve` drains on SIGTERM and SIGINT the way an orchestrator expects:
health turns NOT_SERVING, new calls are refused with UNAVAILABLE, the call in
flight finishes with its answer, and the process exits 0 taking its embedded
servers with it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import tempfile
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.gateway_process import GatewayProcess, free_port, gateway_process
from tests.helpers import fails, product

pytestmark = pytest.mark.e2e

# Bounds that only turn a hang into a failure: the grace period (the CLI's
# default) plus stopping the embedded servers, and any single wait.
EXIT_LIMIT_S = 10.0 + 20.0
WAIT_LIMIT_S = 10.0


def accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def read_until(gw: GatewayProcess, marker: str) -> list[str]:
    """Lines of the gateway's output up to and including the one with `marker`."""
    assert gw.process.stdout is not None
    lines: list[str] = []
    while not lines or marker not in lines[-1]:
        line = await asyncio.to_thread(gw.process.stdout.readline)
        if not line:
            pytest.fail(f"datagw exited before printing {marker!r}:\n" + "".join(lines))
        lines.append(line)
    return lines


async def in_flight(metrics_port: int) -> float:
    def fetch() -> float:
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            body: bytes = response.read()
        found = re.search(rb"^datagw_rpc_in_flight (\S+)$", body, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    return await asyncio.to_thread(fetch)


async def serving_status(channel: grpc.aio.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    answer = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    return int(answer.status)


def backend_ports(banner: list[str]) -> dict[str, int]:
    text = "".join(banner)
    ports = {}
    for backend in ("postgres", "valkey"):
        found = re.search(rf"{backend} \S+ at 127\.0\.0\.1:(\d+)", text)
        assert found, text
        ports[backend] = int(found.group(1))
    return ports


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_drains_in_flight_call_and_exits_cleanly(sig: signal.Signals) -> None:
    rows = [product(f"GS-{uuid.uuid4().hex[:10]}-{i}") for i in range(5)]
    metrics_port = free_port()
    loop = asyncio.get_running_loop()
    # Not under pytest's basetemp, which a concurrent pytest run may make private
    # again (0700) and so lock out postgres running as its own user.
    with tempfile.TemporaryDirectory(prefix="datagw-e2e-") as tmp, gateway_process(
            Path(tmp), "--metrics-listen", f"127.0.0.1:{metrics_port}") as gw:
        ports = {**backend_ports(gw.banner), "grpc": gw.port, "metrics": metrics_port}
        async with grpc.aio.insecure_channel(gw.address) as channel:
            catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
            stream = catalog.ImportProducts()
            for row in rows[:2]:
                await stream.write(catalog_pb2.ImportProductsRequest(product=row))
            give_up = loop.time() + WAIT_LIMIT_S
            while await in_flight(metrics_port) != 1:
                assert loop.time() < give_up, "the import never counted as in flight"
                await asyncio.sleep(0.05)

            gw.process.send_signal(sig)
            await read_until(gw, "datagw: draining")
            # Draining: probes answer NOT_SERVING, new calls get a retryable refusal.
            give_up = loop.time() + WAIT_LIMIT_S
            while await serving_status(channel) != health_pb2.HealthCheckResponse.NOT_SERVING:
                assert loop.time() < give_up, "health still SERVING while draining"
                await asyncio.sleep(0.05)
            refused = await fails(catalog.GetProduct(catalog_pb2.GetProductRequest(
                sku=rows[0].sku)), grpc.StatusCode.UNAVAILABLE)
            assert refused.error_info is not None
            assert refused.error_info.reason == "SHUTTING_DOWN"

            # The call in flight keeps going: more rows, then its answer.
            for row in rows[2:]:
                await stream.write(catalog_pb2.ImportProductsRequest(product=row))
            await stream.done_writing()
            report = await stream
            assert (report.received_count, report.imported_count, report.failed_count) == (
                len(rows), len(rows), 0)

        async with asyncio.timeout(EXIT_LIMIT_S):
            await read_until(gw, "datagw: stopped")
            assert await asyncio.to_thread(gw.process.wait) == 0
        for name, port in ports.items():
            assert not accepts(port), f"{name} still listening on {port} after exit"
        # Ephemeral data goes with the process.
        assert os.listdir(tmp) == []
