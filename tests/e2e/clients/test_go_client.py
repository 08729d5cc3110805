"""The Go quickstart (clients/go/examples/quickstart) against `datagw serve --ephemeral`,
plaintext, and against a gateway that wants a client certificate and takes a
token (conftest.py), with both.

It is built once with -mod=readonly, so a go.sum missing an entry fails here
instead of on a client author's machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.e2e.clients.conftest import SecuredGateway, client_env
from tests.e2e.gateway_process import free_port, gateway_process

pytestmark = pytest.mark.e2e

MODULE = ROOT / "clients" / "go"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = need_tool("go", shutil.which("go") or "/usr/local/go/bin/go")
    binary = tmp_path_factory.mktemp("go") / "quickstart"
    build = subprocess.run(
        [go, "build", "-mod=readonly", "-o", str(binary), "./examples/quickstart"],
        cwd=MODULE, capture_output=True, text=True, timeout=480,
    )
    assert build.returncode == 0, build.stderr
    return binary


def run(binary: Path, address: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "-addr", address, "-timeout", "20s"],
                          capture_output=True, text=True, timeout=120, env=env or client_env())


def test_quickstart_passes_every_step_against_the_gateway(
    quickstart: Path, tmp_path: Path
) -> None:
    with gateway_process(tmp_path) as gw:
        result = run(quickstart, gw.address)
    check_every_step(result)


def test_quickstart_passes_with_a_client_certificate_and_a_token(
    quickstart: Path, secured_gateway: SecuredGateway
) -> None:
    # DGW_ADDR names the gateway; the flag is left out.
    result = subprocess.run([str(quickstart), "-timeout", "20s"], capture_output=True,
                            text=True, timeout=120, env=secured_gateway.env())
    check_every_step(result)


def check_every_step(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    sku = lines[1].split()[3]
    assert sku.startswith("GO-QS-")
    run_id = sku.removeprefix("GO-QS-")
    order_id = lines[8].split()[3]
    assert order_id.startswith("o"), result.stdout
    expected = [  # one line per step, in order; the variable parts are left off
        f"ok   upsert product: {sku} version=1 created=true",
        f'ok   get product: {sku} "Enamel teapot" 2499 EUR',
        f'ok   search products: "teapot" found {sku} among ',
        "ok   create session: user go-quickstart, expires ",
        f"ok   get session: user go-quickstart cart={sku}",
        f"ok   set stock: {sku} on_hand=10 available=10",
        f"ok   create user: user-{run_id} <user-{run_id}@example.com> version=1",
        f"ok   create order: {order_id} ORDER_STATUS_PLACED total=4998 EUR "
        "payment PAYMENT_STATUS_AUTHORIZED",
        f"ok   get order: {order_id} ORDER_STATUS_PLACED (read your writes)",
        f"ok   get stock: {sku} on_hand=8 available=8",
        "ok   invalid sku: InvalidArgument; ErrorInfo datagw/INVALID_ARGUMENT; "
        "BadRequest sku: must be 1-64 characters of A-Z a-z 0-9 . _ -",
        "all 11 steps passed",
    ]
    assert len(lines) == 1 + len(expected), result.stdout
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(start), result.stdout


def test_quickstart_exits_non_zero_when_a_step_fails(quickstart: Path) -> None:
    # Nothing listens on the port: the first call fails and the run stops there.
    result = run(quickstart, f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith("FAIL upsert product: ")
    assert "ok   " not in result.stdout
