"""One gateway for the client examples' authenticated runs: TLS that requires a
client certificate, and bearer tokens (JWT) checked against a JWKS file. And
the client packages as users get them: the artifacts of `make dist` in dist/.

Every language's example connects to it with a client certificate and a token
given in the DGW_* variables the examples share; the plaintext runs keep their
own `datagw serve --ephemeral` each. Its access policy allows the token's
subject only, so an example that passes has sent both: the certificate gets
it through the TLS handshake, the token through the access policy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from datagw.channel import insecure_channel
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

from tests.auth_fixtures import AUDIENCE, ISSUER, Certs, Issuer
from tests.conftest import IN_CI, ROOT
from tests.e2e.gateway_process import gateway_process

# The subject of the token the examples send: the call's principal is jwt:<it>.
TOKEN_SUBJECT = "quickstart-client"
# Any method for the token's subject, nothing for anyone else (not even the
# client certificate's mtls: principal, whose calls then prove nothing).
ACCESS = {"default": "deny",
          "rules": [{"name": "quickstart-token", "callers": [f"jwt:{TOKEN_SUBJECT}"],
                     "allow": ["*"]}]}


DIST = ROOT / "dist"


def dist_artifact(pattern: str) -> Path:
    """The one file of dist/ that `pattern` matches: skip without it on a
    laptop (run `make dist`), fail under CI, where `make test` builds it."""
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        message = f"dist/{pattern}: found {[f.name for f in found]}, want one (run make dist)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found[0]


def client_env(**variables: str) -> dict[str, str]:
    """This environment without DGW_* (a developer's own) and without the
    checkout's PYTHONPATH or NODE_PATH (the examples run as a user's code, on
    the packages installed from dist/), plus `variables`."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("DGW_") and k not in ("PYTHONPATH", "NODE_PATH")} | variables


@dataclass(frozen=True)
class SecuredGateway:
    address: str
    certs: Certs
    issuer: Issuer

    def env(self) -> dict[str, str]:
        """A client certificate and a token, as the examples read them."""
        return client_env(
            DGW_ADDR=self.address,
            DGW_TLS_CA=str(self.certs.ca),
            DGW_TLS_CERT=str(self.certs.client_cert),
            DGW_TLS_KEY=str(self.certs.client_key),
            DGW_TOKEN=self.issuer.token(TOKEN_SUBJECT, ttl_s=600),
        )


@pytest.fixture(scope="session")
def secured_gateway(
    certs: Certs, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecuredGateway]:
    d = tmp_path_factory.mktemp("secured-gateway")
    issuer = Issuer()
    policies = shutil.copytree(ROOT / "policies", d / "policies")
    (policies / "access.yaml").write_text(yaml.safe_dump(ACCESS))
    config = d / "datagw.yaml"
    config.write_text(yaml.safe_dump({"server": {
        "tls": {"cert_file": str(certs.server_cert), "key_file": str(certs.server_key),
                "client_ca_file": str(certs.ca)},
        "auth": {"tcp": ["mtls", "jwt"],
                 "jwt": {"issuer": ISSUER, "audience": AUDIENCE,
                         "jwks_file": str(issuer.write_jwks(d / "jwks.json"))}},
    }}))
    with gateway_process(d / "data", "--config", str(config),
                         "--policies", str(policies)) as gw:
        assert any("tls" in line for line in gw.banner[:3]), "".join(gw.banner)
        yield SecuredGateway(gw.address, certs, issuer)



@dataclass(frozen=True)
class StoppedGateway:
    """A gateway with a data dir that served on `port`, stored a product
    (`sku`, `title`) and stopped: a client's call to it now has to wait."""

    port: int
    data_dir: Path
    sku: str
    title: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restart_during(self, client: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        """Run `client`, which prints "calling" and then calls the gateway;
        restart the gateway on its port once the client is calling. The
        client's exit status and output (stdout and stderr)."""
        process = subprocess.Popen(client, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, env=client_env(), cwd=cwd)
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first == "calling\n", first + process.stdout.read()
            # The call goes out with nothing listening; the gateway comes back.
            with gateway_process(self.data_dir, ephemeral=False, port=self.port):
                out, _ = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        return subprocess.CompletedProcess(client, process.returncode, out)


@pytest.fixture
def stopped_gateway(tmp_path: Path) -> StoppedGateway:
    data_dir, sku, title = tmp_path / "gateway-data", "RESTART-1", "Restart mug"
    with gateway_process(data_dir, ephemeral=False) as gw, \
            insecure_channel(gw.address) as channel:
        catalog_pb2_grpc.CatalogServiceStub(channel).UpsertProduct(
            catalog_pb2.UpsertProductRequest(product=catalog_pb2.Product(
                sku=sku, title=title, brand="Acme", category="kitchen", active=True,
                price=common_pb2.Money(amount_minor=100, currency_code="EUR"))),
            timeout=30)
    return StoppedGateway(gw.port, data_dir, sku, title)
