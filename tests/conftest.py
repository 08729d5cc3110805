"""Shared fixtures: one real embedded stack and one in-process gateway per session.

The gateway runs in embedded mode on a throw-away data dir, so tests exercise
exactly what `datagw serve --ephemeral` runs; fault tests reach the backend
processes through gateway.embedded to kill and restart them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from datagw.v1 import admin_pb2_grpc, catalog_pb2_grpc, session_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.domain.orders.saga import SagaSettings
from gateway.runtime.config import Config
from gateway.runtime.server import Gateway
from tests.auth_fixtures import Certs, make_certs
from tests.commerce import Shop

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

# One provider for the whole run, installed before any span is started, so the
# span-tree tests can read what the gateway records.
SPANS = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(SPANS))
trace.set_tracer_provider(_provider)


def need_tool(name: str, path: str | None) -> str:
    """The tool's path; skip on a laptop without it, fail under CI."""
    if path and (os.path.exists(path) or shutil.which(path)):
        return path
    message = f"{name} is not installed (run make test, which installs it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


TEST_SAGAS = SagaSettings(lease_s=5.0, recovery_interval_s=0.5, reservation_ttl_s=900.0)


def make_config(tmp: Path, **overrides: object) -> Config:
    cfg = Config(
        listen="127.0.0.1:0",
        metrics_listen=None,
        policies_dir=ROOT / "policies",
        data_dir=tmp,
        ephemeral=True,
    )
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


@pytest.fixture(scope="session")
async def gateway() -> AsyncIterator[Gateway]:
    # Not under pytest's tmp dir: PostgreSQL runs as its own user when we are
    # root and needs to traverse the path, and a concurrent pytest run resets
    # pytest's base dir to 0700.
    data_dir = Path(tempfile.mkdtemp(prefix="datagw-test-"))
    # A short saga lease so the recovery tests need not wait 30s; still far
    # above what placing one order takes.
    gw = Gateway(make_config(data_dir, sagas=TEST_SAGAS))
    watch = SecretsInLogs()
    try:
        await gw.start()
        assert gw.embedded is not None
        watch.secrets = [gw.embedded.postgres.password, gw.embedded.valkey.password]
        watch.install()
        yield gw
    finally:
        await gw.stop()
        watch.uninstall()
        shutil.rmtree(data_dir, ignore_errors=True)
    assert not watch.leaks, f"secrets in the gateway's logs: {watch.leaks[:5]}"


# A compact JWT (header.payload.signature, base64url of JSON that starts "{").
_JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}")


class SecretsInLogs(logging.Handler):
    """Every log record the gateway writes during the session, checked for
    the embedded servers' passwords and for bearer tokens: none may appear
    (docs/security.md). INFO and up, as a deployment logs by default."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.secrets: list[str] = []
        self.leaks: list[str] = []
        self._level = logging.NOTSET

    def install(self) -> None:
        gateway_log = logging.getLogger("gateway")
        self._level = gateway_log.level
        gateway_log.setLevel(logging.INFO)
        gateway_log.addHandler(self)

    def uninstall(self) -> None:
        gateway_log = logging.getLogger("gateway")
        gateway_log.removeHandler(self)
        gateway_log.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        if any(secret in text for secret in self.secrets) or _JWT.search(text):
            for secret in self.secrets:  # the report names the record, not the secret
                text = text.replace(secret, "<password>")
            self.leaks.append(f"{record.name}: {_JWT.sub('<token>', text)[:200]}")


@pytest.fixture(scope="session")
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        yield ch


@pytest.fixture(scope="session")
def catalog(channel: grpc.aio.Channel) -> catalog_pb2_grpc.CatalogServiceStub:
    return catalog_pb2_grpc.CatalogServiceStub(channel)


@pytest.fixture(scope="session")
def sessions(channel: grpc.aio.Channel) -> session_pb2_grpc.SessionServiceStub:
    return session_pb2_grpc.SessionServiceStub(channel)


@pytest.fixture(scope="session")
def admin(channel: grpc.aio.Channel) -> admin_pb2_grpc.AdminServiceStub:
    return admin_pb2_grpc.AdminServiceStub(channel)


@pytest.fixture(scope="session")
def shop(channel: grpc.aio.Channel) -> Shop:
    return Shop.on(channel)


@pytest.fixture
def uid() -> str:
    """A fresh prefix so tests sharing the stack never see each other's rows."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throw-away CA, a server certificate and two client certificates."""
    openssl = need_tool("openssl", shutil.which("openssl"))
    return make_certs(openssl, tmp_path_factory.mktemp("certs"))
