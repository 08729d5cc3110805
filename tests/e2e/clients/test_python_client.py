"""The Python client as users get it: the wheel of dist/ installed into a fresh
venv, where the example (clients/python/examples/quickstart.py) runs with
nothing of the checkout on its path: plaintext, and with a client certificate
and a token against the gateway of conftest.py. A call through the package's
channel waits for a gateway that restarts. And what the secured gateway does
with callers who lack a certificate or a token.

The refusals are checked here once for every language: the other examples
send the same two credentials through the same variables.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc

from tests.auth_fixtures import Issuer, bearer, credentials
from tests.conftest import ROOT
from tests.e2e.clients.conftest import (
    TOKEN_SUBJECT,
    SecuredGateway,
    StoppedGateway,
    client_env,
    dist_artifact,
)
from tests.e2e.gateway_process import free_port, gateway_process
from tests.helpers import decode

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "clients" / "python" / "examples" / "quickstart.py"
VERSION = (ROOT / "clients" / "VERSION").read_text().strip()
STEPS = ["upsert product", "get product", "create order", "retry create order",
         "get order", "decode error"]

# Run in the scratch venv during a gateway restart: one read through the
# package's channel, with a deadline long enough for the gateway to come back.
WAIT_FOR_GATEWAY = """
import sys
from datagw.channel import insecure_channel
from datagw.v1 import catalog_pb2, catalog_pb2_grpc

address, sku = sys.argv[1:]
with insecure_channel(address) as channel:
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
    print("calling", flush=True)
    reply = catalog.GetProduct(catalog_pb2.GetProductRequest(
        sku=sku, read_options={"consistency": "CONSISTENCY_LEVEL_STRONG"}), timeout=60)
    print(reply.product.title, flush=True)
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new venv with the wheel of dist/ (and its dependencies
    from the registry) installed; nothing of the checkout."""
    wheel = dist_artifact(f"datagw_client-{VERSION}-py3-none-any.whl")
    root = tmp_path_factory.mktemp("py-client") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(wheel)], capture_output=True, text=True, timeout=600, env=client_env())
    assert install.returncode == 0, install.stdout + install.stderr
    return python


def run(python: Path, script: Path, env: dict[str, str], *args: str,
        ) -> subprocess.CompletedProcess[str]:
    # cwd: a temp dir, so not even the current directory is the checkout.
    return subprocess.run([str(python), str(script), *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=python.parent)


def test_the_package_comes_from_the_venv_with_its_service_config(venv: Path) -> None:
    probe = subprocess.run(
        [str(venv), "-c", "import datagw, datagw.channel as c, importlib.metadata as m; "
         "print(datagw.__file__); print(m.version('datagw-client')); print(len(c.SERVICE_CONFIG))"],
        capture_output=True, text=True, timeout=60, env=client_env(), cwd=venv.parent)
    assert probe.returncode == 0, probe.stderr
    location, version, config_size = probe.stdout.split()
    assert Path(location).is_relative_to(venv.parent.parent), location
    assert version == VERSION
    assert int(config_size) == len((ROOT / "clients" / "service_config.json").read_text())


def check_every_step(result: subprocess.CompletedProcess[str], address: str) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"datagw quickstart against {address}"
    assert [line[5:].split(":")[0] for line in lines[1:]] == STEPS, result.stdout
    sku = lines[1].split()[3]
    assert sku.startswith("PY-QS-"), result.stdout
    order_id = lines[3].split()[3]
    assert lines[1:] == [
        f"ok   upsert product: {sku} version=1",
        f"ok   get product: {sku} 'Stoneware bowl' 1850 EUR",
        f"ok   create order: {order_id} total=3700 EUR",
        f"ok   retry create order: same order {order_id}",
        f"ok   get order: {order_id} ORDER_STATUS_PLACED (read your writes)",
        "ok   decode error: INVALID_ARGUMENT reason=INVALID_ARGUMENT fields=sku",
    ]


def test_the_example_passes_every_step_in_plaintext(venv: Path, tmp_path: Path) -> None:
    with gateway_process(tmp_path) as gw:
        check_every_step(run(venv, EXAMPLE, client_env(DGW_ADDR=gw.address)), gw.address)


def test_the_example_passes_with_a_client_certificate_and_a_token(
    venv: Path, secured_gateway: SecuredGateway
) -> None:
    check_every_step(run(venv, EXAMPLE, secured_gateway.env()), secured_gateway.address)


def test_the_example_fails_at_its_deadline_when_nothing_listens(venv: Path) -> None:
    # waitForReady: the first call waits for a gateway until its deadline.
    result = run(venv, EXAMPLE, client_env(), f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith("FAIL DEADLINE_EXCEEDED: "), result.stdout


def test_a_call_waits_for_the_gateway_through_a_restart(
    venv: Path, tmp_path: Path, stopped_gateway: StoppedGateway
) -> None:
    script = tmp_path / "wait_for_gateway.py"
    script.write_text(WAIT_FOR_GATEWAY)
    result = stopped_gateway.restart_during(
        [str(venv), str(script), stopped_gateway.address, stopped_gateway.sku], tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"{stopped_gateway.title}\n"


def _get(channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> None:
    catalog_pb2_grpc.CatalogServiceStub(channel).GetProduct(
        catalog_pb2.GetProductRequest(sku="NO-SUCH-SKU"), metadata=metadata, timeout=10)


def test_the_gateway_refuses_a_caller_without_a_certificate_or_with_a_bad_token(
    secured_gateway: SecuredGateway
) -> None:
    certs, address = secured_gateway.certs, secured_gateway.address
    token = secured_gateway.issuer.token(TOKEN_SUBJECT)

    # No client certificate: the TLS handshake fails, whatever token comes along.
    with grpc.secure_channel(address, credentials(certs, with_client_cert=False)) as channel, \
            pytest.raises(grpc.RpcError) as caught:
        _get(channel, bearer(token))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    with grpc.secure_channel(address, credentials(certs)) as channel:
        # A certificate does not excuse a bad token: not a JWT, or signed by
        # a key the gateway's JWKS does not hold.
        for bad, reason in (("not-a-jwt", "TOKEN_INVALID"),
                            (Issuer().token(TOKEN_SUBJECT), "TOKEN_KEY_UNKNOWN")):
            with pytest.raises(grpc.RpcError) as caught:
                _get(channel, bearer(bad))
            failure = decode(caught.value)  # type: ignore[arg-type]
            assert failure.code == grpc.StatusCode.UNAUTHENTICATED, failure
            assert failure.error_info is not None and failure.error_info.reason == reason

        # The certificate alone is an identity (mtls:<SAN URI>), but this
        # gateway's access policy grants the token's subject only.
        with pytest.raises(grpc.RpcError) as caught:
            _get(channel)
        failure = decode(caught.value)  # type: ignore[arg-type]
        assert failure.code == grpc.StatusCode.PERMISSION_DENIED, failure

        # Certificate and token: the call goes through (the SKU does not exist).
        with pytest.raises(grpc.RpcError) as caught:
            _get(channel, bearer(token))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
