"""Transport security and the unix socket, with certificates made for the test.

A throw-away CA signs a server certificate for 127.0.0.1/localhost and a
client certificate; each gateway here runs on the session stack's servers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.runtime.config import TLSConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.server import Gateway
from tests.auth_fixtures import Certs, credentials
from tests.integration.test_server_limits import running_gateway

pytestmark = pytest.mark.integration

SERVING = health_pb2.HealthCheckResponse.SERVING
# Bounds the calls expected to fail, so a hang shows as a failure rather than a stall.
CALL_LIMIT_S = 10.0


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
