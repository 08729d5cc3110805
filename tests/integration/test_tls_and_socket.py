"""Transport security and the unix socket, with certificates made for the test.

A throw-away CA signs a server certificate for 127.0.0.1/localhost and a
client certificate; each gateway here runs on the session stack's servers.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.config import TLSConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from tests.conftest import need_tool
from tests.integration.test_server_limits import running_gateway

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
# Bounds the calls expected to fail, so a hang shows as a failure rather than a stall.
CALL_LIMIT_S = 10.0


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _openssl(openssl: str, *args: str | Path) -> None:
    subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=30)


def _issue(openssl: str, d: Path, name: str, extensions: str) -> tuple[Path, Path]:
    """A P-256 key and a certificate for it signed by the CA in `d`."""
    key, csr, cert, ext = (d / f"{name}.{s}" for s in ("key", "csr", "crt", "ext"))
    ext.write_text(extensions)
    _openssl(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN=datagw test {name}")
    _openssl(openssl, "x509", "-req", "-in", csr, "-CA", d / "ca.crt", "-CAkey", d / "ca.key",
             "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", cert)
    return cert, key


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    openssl = need_tool("openssl", shutil.which("openssl"))
    d = tmp_path_factory.mktemp("certs")
    _openssl(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", d / "ca.key", "-out", d / "ca.crt", "-days", "1",
             "-subj", "/CN=datagw test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server_cert, server_key = _issue(
        openssl, d, "server",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    client_cert, client_key = _issue(openssl, d, "client", "extendedKeyUsage=clientAuth\n")
    return Certs(d / "ca.crt", server_cert, server_key, client_cert, client_key)


def credentials(certs: Certs, *, with_client_cert: bool) -> grpc.ChannelCredentials:
    if not with_client_cert:
        return grpc.ssl_channel_credentials(root_certificates=certs.ca.read_bytes())
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(),
        private_key=certs.client_key.read_bytes(),
        certificate_chain=certs.client_cert.read_bytes(),
    )


async def health(channel: grpc.aio.Channel) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=CALL_LIMIT_S)
    return int(response.status)


async def refused(channel: grpc.aio.Channel) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health(channel)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE, caught.value


@pytest.fixture
def servers(gateway: Gateway) -> EmbeddedBackends:
    """The session stack's servers, which each gateway here is configured with."""
    assert gateway.embedded is not None
    return gateway.embedded


async def test_tls_serves_clients_that_trust_the_ca_only(
    servers: EmbeddedBackends, certs: Certs
) -> None:
    tls = TLSConfig(str(certs.server_cert), str(certs.server_key))
    async with running_gateway(servers, tls=tls) as gw:
        target = f"127.0.0.1:{gw.port}"
        async with grpc.aio.secure_channel(
                target, credentials(certs, with_client_cert=False)) as secure:
            assert await health(secure) == SERVING
        async with grpc.aio.insecure_channel(target) as plaintext:
            await refused(plaintext)
        # A client that does not trust our CA must not get through either.
        async with grpc.aio.secure_channel(
                target, grpc.ssl_channel_credentials(root_certificates=certs.client_cert
                                                     .read_bytes())) as untrusting:
            await refused(untrusting)


async def test_mtls_requires_a_client_certificate(
    servers: EmbeddedBackends, certs: Certs
) -> None:
    tls = TLSConfig(str(certs.server_cert), str(certs.server_key), str(certs.ca))
    async with running_gateway(servers, tls=tls) as gw:
        target = f"127.0.0.1:{gw.port}"
        async with grpc.aio.secure_channel(
                target, credentials(certs, with_client_cert=False)) as anonymous:
            await refused(anonymous)
        async with grpc.aio.secure_channel(
                target, credentials(certs, with_client_cert=True)) as known:
            assert await health(known) == SERVING


async def test_unix_socket_serves_alongside_tcp(servers: EmbeddedBackends) -> None:
    # A short path: unix socket paths are limited to about 107 bytes.
    with tempfile.TemporaryDirectory(prefix="dgw-") as d:
        path = Path(d) / "datagw.sock"
        async with running_gateway(servers, unix_socket=str(path)) as gw:
            assert path.is_socket()
            async with grpc.aio.insecure_channel(f"unix:{path}") as local:
                assert await health(local) == SERVING
            async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as tcp:
                assert await health(tcp) == SERVING
