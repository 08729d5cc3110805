"""The Node quickstart (clients/node/examples/quickstart.ts) against `datagw serve --ephemeral`,
plaintext, and against a gateway that wants a client certificate and takes a
token (conftest.py), with both.

The package is installed from its lock file (npm ci) and built once with the
strict tsc of tsconfig.json, so a type error in the stubs, the helpers or the
example fails here, before anything runs.
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

PACKAGE = ROOT / "clients" / "node"
STEPS = ["upsert-product", "get-product", "search-products",
         "create-session", "get-session",
         "set-stock", "create-user", "create-order", "get-order", "get-stock",
         "invalid-argument-details"]


@pytest.fixture(scope="module")
def quickstart() -> Path:
    need_tool("npm", shutil.which("npm"))
    subprocess.run([str(ROOT / "scripts" / "install_node_tools.sh")],
                   check=True, capture_output=True, timeout=300)
    # noEmitOnError: a failed type check leaves no fresh JavaScript behind.
    build = subprocess.run(["npm", "run", "--silent", "build"], cwd=PACKAGE,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    return PACKAGE / "dist" / "examples" / "quickstart.js"


def run(script: Path, *address: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(script), *address],
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
    # DGW_ADDR names the gateway; the argument is left out.
    check_every_step(run(quickstart, env=secured_gateway.env()))


def check_every_step(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line[4:] for line in lines if line.startswith("ok  ")] == STEPS, result.stdout
    details = [line.strip() for line in lines if line.startswith("    ")]
    sku = details[0].split()[1]
    assert sku.startswith("NODE-QS-")
    user_id = "user-" + sku.removeprefix("NODE-QS-")
    placed = [d for d in details if d.startswith("order ") and ", total " in d]
    assert len(placed) == 1, result.stdout
    order_id = placed[0].split()[1]
    for expected in (
        f"product {sku} stored, version 1",
        "session read back: cart = 3 items",
        f"stock of {sku}: 10 on hand, 10 available",
        f"user {user_id} created ({user_id}@example.com)",
        f"order {order_id} PLACED, total 2598 EUR, payment AUTHORIZED",
        f"order {order_id} read back with READ_YOUR_WRITES: PLACED",
        f"stock of {sku}: 8 available after the order",
        "ErrorInfo: domain=datagw reason=INVALID_ARGUMENT",
        "BadRequest: field violations on [sku]",
    ):
        assert expected in details, result.stdout
    assert any(d.startswith("search ") and d.endswith(f" found {sku}") for d in details)
    assert lines[-1] == f"quickstart: {len(STEPS)} steps passed"


def test_quickstart_exits_non_zero_when_a_step_fails(quickstart: Path) -> None:
    # Nothing listens on the port: the first call fails and the run stops there.
    result = run(quickstart, f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED upsert-product: "), result.stderr
    assert "ok  " not in result.stdout
