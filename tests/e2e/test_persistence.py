"""`datagw serve` without --ephemeral keeps its data between restarts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from datagw.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2, session_pb2, session_pb2_grpc

from tests.e2e.gateway_process import gateway_process

pytestmark = pytest.mark.e2e


def test_data_survives_a_restart(tmp_path: Path) -> None:
    product = catalog_pb2.Product(
        sku="KEEP-1", title="Kept", active=True,
        price=common_pb2.Money(amount_minor=500, currency_code="USD"),
    )
    with gateway_process(tmp_path, ephemeral=False) as gw:
        assert any("postgres" in line for line in gw.banner)
        with grpc.insecure_channel(gw.address) as ch:
            catalog_pb2_grpc.CatalogServiceStub(ch).UpsertProduct(
                catalog_pb2.UpsertProductRequest(product=product))
            session = session_pb2_grpc.SessionServiceStub(ch).CreateSession(
                session_pb2.CreateSessionRequest(user_id="u-keep")).session
    with gateway_process(tmp_path, ephemeral=False) as gw, grpc.insecure_channel(gw.address) as ch:
        strong = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)
        got = catalog_pb2_grpc.CatalogServiceStub(ch).GetProduct(
            catalog_pb2.GetProductRequest(sku="KEEP-1", read_options=strong))
        assert got.product.title == "Kept" and got.product.version == 1
        again = session_pb2_grpc.SessionServiceStub(ch).GetSession(
            session_pb2.GetSessionRequest(session_id=session.session_id))
        assert again.session.user_id == "u-keep"


def test_migrate_command_applies_and_exits(tmp_path: Path) -> None:
    # migrate must not listen: it runs beside a gateway that holds the port.
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = dict(os.environ, DATAGW_SERVER__LISTEN=f"127.0.0.1:{busy.getsockname()[1]}")
        result = subprocess.run(
            [sys.executable, "-m", "gateway.runtime.cli", "migrate", "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120, env=env,
        )
    assert result.returncode == 0, result.stderr
    assert "migrations are up to date" in result.stdout
    assert (tmp_path / "postgres" / "PG_VERSION").exists()
