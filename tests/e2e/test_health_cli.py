"""`datagw health` against a running `datagw serve`: its status and exit code
over TCP with TLS and over the unix socket, an unknown service, a stopped
gateway, and the usage errors. Run as the console script runs it
(runtime/command.py), without the gateway's imports."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth_fixtures import Certs
from tests.e2e.gateway_process import GatewayProcess, free_port, gateway_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def health(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.runtime.command", "health", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=env if env is not None else dict(os.environ))


@pytest.fixture(scope="module")
def socket_dir() -> Iterator[Path]:
    # Short: a unix socket's path must fit in about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="dgw-") as directory:
        yield Path(directory)


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory: pytest.TempPathFactory, certs: Certs,
                socket_dir: Path) -> Iterator[GatewayProcess]:
    """mTLS on the TCP port (server certificate for 127.0.0.1, client
    certificates required), plaintext on the unix socket: the chart's
    standalone-with-mTLS layout."""
    env = {"DATAGW_SERVER__TLS__CERT_FILE": str(certs.server_cert),
           "DATAGW_SERVER__TLS__KEY_FILE": str(certs.server_key),
           "DATAGW_SERVER__TLS__CLIENT_CA_FILE": str(certs.ca),
           "DATAGW_SERVER__UNIX_SOCKET": str(socket_dir / "datagw.sock")}
    # Only the gateway's environment: the other tests' gateways and commands
    # start without them.
    patch = pytest.MonkeyPatch()
    try:
        for name, value in env.items():
            patch.setenv(name, value)
        with gateway_process(tmp_path_factory.mktemp("health-data")) as gw:
            patch.undo()
            yield gw
    finally:
        patch.undo()


def test_serving_over_mtls_is_exit_0(tls_gateway: GatewayProcess, certs: Certs) -> None:
    tls = ["--tls-ca", str(certs.ca), "--tls-cert", str(certs.client_cert),
           "--tls-key", str(certs.client_key)]
    done = health("--target", tls_gateway.address, *tls)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"server at {tls_gateway.address}: SERVING\n"
    service = health("--target", tls_gateway.address, *tls,
                     "--service", "datagw.v1.OrderService")
    assert service.returncode == 0, service.stdout + service.stderr
    assert service.stdout.endswith(": SERVING\n")
    # The name in the certificate, when the target's host is not it.
    named = health("--target", f"127.0.0.1:{tls_gateway.port}", *tls,
                   "--tls-server-name", "localhost")
    assert named.returncode == 0, named.stdout + named.stderr
    wrong = health("--target", tls_gateway.address, *tls, "--tls-server-name", "other.test",
                   "--timeout", "3")
    assert wrong.returncode == 3, wrong.stdout + wrong.stderr


def test_without_a_client_certificate_the_handshake_fails(
        tls_gateway: GatewayProcess, certs: Certs) -> None:
    done = health("--target", tls_gateway.address, "--tls-ca", str(certs.ca),
                  "--timeout", "3")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.startswith(f"datagw health: server at {tls_gateway.address}: ")


def test_the_default_target_is_the_configured_unix_socket(
        tls_gateway: GatewayProcess, socket_dir: Path) -> None:
    """As in the chart's pods: DATAGW_SERVER__UNIX_SOCKET set, no options."""
    socket = socket_dir / "datagw.sock"
    env = dict(os.environ, DATAGW_SERVER__UNIX_SOCKET=str(socket),
               DATAGW_SERVER__LISTEN=f"0.0.0.0:{tls_gateway.port}")
    done = health(env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == f"server at unix:{socket}: SERVING\n"


def test_an_unknown_service_is_exit_1(tls_gateway: GatewayProcess, socket_dir: Path) -> None:
    done = health("--target", f"unix:{socket_dir / 'datagw.sock'}",
                  "--service", "datagw.v1.NoSuchService")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.endswith("datagw.v1.NoSuchService at "
                                f"unix:{socket_dir / 'datagw.sock'}: SERVICE_UNKNOWN\n")


def test_plaintext_to_the_tls_port_is_no_answer(tls_gateway: GatewayProcess) -> None:
    done = health("--target", tls_gateway.address, "--timeout", "3")
    assert done.returncode == 3, done.stdout + done.stderr
    assert done.stderr.startswith(f"datagw health: server at {tls_gateway.address}: ")


def test_a_stopped_gateway_is_exit_3(tmp_path: Path) -> None:
    with gateway_process(tmp_path / "data") as gw:
        up = health("--target", gw.address)
        assert up.returncode == 0, up.stdout + up.stderr
        gw.process.terminate()
        gw.process.wait(timeout=60)
        down = health("--target", gw.address)
    assert down.returncode == 3, down.stdout + down.stderr
    assert down.stderr.startswith(f"datagw health: server at {gw.address}: UNAVAILABLE")


def test_the_default_target_follows_the_listen_address() -> None:
    """The image's DATAGW_SERVER__LISTEN=0.0.0.0:PORT is dialled on loopback."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATAGW_SERVER__UNIX_SOCKET"}
    done = health("--timeout", "2", env=dict(env, DATAGW_SERVER__LISTEN=f"0.0.0.0:{port}"))
    assert done.returncode == 3
    assert done.stderr.startswith(f"datagw health: server at 127.0.0.1:{port}: UNAVAILABLE")


def test_health_does_not_import_the_gateway() -> None:
    """What keeps a probe cheap: the console script answers `health` without
    importing cli.py (the server, the domains, the backends' drivers)."""
    code = ("import sys\n"
            "from gateway.runtime import command\n"
            "status = command.main(['health', '--target', 'unix:/nonexistent.sock'])\n"
            "print(status, sorted(m for m in sys.modules if m.startswith('gateway')))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.split(" ", 1) == [
        "3", "['gateway', 'gateway.runtime', 'gateway.runtime.command', "
             "'gateway.runtime.health_cli']\n"], done.stdout + done.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--timeout", "0"], "--timeout"),
    (["--tls-cert", "client.crt"], "--tls-cert and --tls-key go together"),
    (["--target", "unix:/tmp/x.sock", "--tls"], "the unix socket is plaintext"),
    (["--tls-ca", "/nonexistent/ca.crt"], "cannot read /nonexistent/ca.crt"),
])
def test_usage_errors_are_exit_2(args: list[str], message: str) -> None:
    done = health(*args)
    assert done.returncode == 2
    assert message in done.stderr
