"""The Python example (clients/python/examples/quickstart.py) with a client
certificate and a token against the gateway of conftest.py, and what that
gateway does with callers who lack either.

The refusals are checked here once for every language: the other examples
send the same two credentials through the same variables.
"""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc

from tests.auth_fixtures import Issuer, bearer, credentials
from tests.conftest import ROOT
from tests.e2e.clients.conftest import TOKEN_SUBJECT, SecuredGateway, client_env
from tests.e2e.gateway_process import free_port
from tests.helpers import decode

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "clients" / "python" / "examples" / "quickstart.py"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(EXAMPLE), *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_the_example_passes_with_a_client_certificate_and_a_token(
    secured_gateway: SecuredGateway
) -> None:
    result = run(secured_gateway.env())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"datagw quickstart against {secured_gateway.address}"
    sku = lines[1].split()[3]
    assert sku.startswith("PY-QS-"), result.stdout
    assert lines[1:] == [f"ok   upsert product: {sku} version=1",
                         f"ok   get product: {sku} 'Stoneware bowl' 1850 EUR"]


def test_the_example_runs_plaintext_without_the_variables() -> None:
    # Nothing listens on the port: it dials plaintext and fails at the first call.
    result = run(client_env(), f"127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith("FAIL UNAVAILABLE: "), result.stdout


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
