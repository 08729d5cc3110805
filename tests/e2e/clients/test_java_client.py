"""The Java quickstart (clients/java, io.datagw.examples.Quickstart) against
`datagw serve --ephemeral`, plaintext, and against a gateway that wants a client
certificate and takes a token (conftest.py), with both.

Maven compiles the committed stubs and the example once per module and writes
the runtime class path to target/classpath.txt, so the example runs with plain
`java -cp` as a client author would run it.
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

PROJECT = ROOT / "clients" / "java"
MAIN = "io.datagw.examples.Quickstart"


@pytest.fixture(scope="module")
def java_command() -> list[str]:
    mvn = need_tool("mvn", shutil.which("mvn"))
    java = need_tool("java", shutil.which("java"))
    build = subprocess.run(
        [mvn, "-q", "-B", "-Dstyle.color=never", "package"],
        cwd=PROJECT, capture_output=True, text=True, timeout=480,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    target = PROJECT / "target"
    classpath = f"{target / 'classes'}:{(target / 'classpath.txt').read_text().strip()}"
    return [java, "-cp", classpath, MAIN]


def run(java_command: list[str], *address: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*java_command, *address], capture_output=True, text=True,
                          timeout=120, env=env or client_env())


def test_quickstart_passes_every_step_against_the_gateway(
    java_command: list[str], tmp_path: Path
) -> None:
    with gateway_process(tmp_path) as gw:
        result = run(java_command, gw.address)
    check_every_step(result, gw.address)


def test_quickstart_passes_with_a_client_certificate_and_a_token(
    java_command: list[str], secured_gateway: SecuredGateway
) -> None:
    # DGW_ADDR names the gateway; the argument is left out.
    result = run(java_command, env=secured_gateway.env())
    check_every_step(result, secured_gateway.address)


def check_every_step(result: subprocess.CompletedProcess[str], address: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"datagw at {address}"
    sku = lines[2].split()[1].rstrip(":")
    assert sku.startswith("JAVA-")
    user_id = "user-" + sku.removeprefix("JAVA-")
    placed = [line for line in lines if line.startswith("placed order ")]
    assert len(placed) == 1, result.stdout
    order_id = placed[0].split()[2].rstrip(":")
    expected = [  # the step headers and what each step saw, in order
        "==> upsert product",
        f"upserted {sku}: version 1, created true",
        "==> get product",
        f"got {sku}: Speckled enamel mug, 1450 EUR",
        "==> search products",
        f"search enamel: found [{sku}]",
        "==> create session",
        "created session for java-quickstart-",
        "==> get session",
        "got session of java-quickstart-",
        "==> set stock",
        f"stock of {sku}: 10 on hand, 10 available",
        "==> create user",
        f"created user {user_id} ({user_id}@example.com), version 1",
        "==> create order",
        f"placed order {order_id}: ORDER_STATUS_PLACED, total 2900 EUR, "
        "payment PAYMENT_STATUS_AUTHORIZED",
        "==> get order",
        f"got order {order_id} (read your writes): ORDER_STATUS_PLACED",
        "==> get stock",
        f"stock of {sku}: 8 available after the order",
        "==> invalid sku is rejected with details",
        "rejected: INVALID_ARGUMENT ",
        "ErrorInfo: domain=datagw reason=INVALID_ARGUMENT",
        "BadRequest: sku: must be 1-64 characters of A-Z a-z 0-9 . _ -",
        "all 11 steps passed",
    ]
    assert len(lines) == 1 + len(expected), result.stdout
    for line, start in zip(lines[1:], expected, strict=True):
        assert line.startswith(start), result.stdout


def test_quickstart_exits_non_zero_when_a_step_fails(java_command: list[str]) -> None:
    # Nothing listens on the port: the first call fails and the run stops there.
    result = run(java_command, f"127.0.0.1:{free_port()}")
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.startswith("FAILED upsert product: UNAVAILABLE: "), last
    assert "==> get product" not in result.stdout
