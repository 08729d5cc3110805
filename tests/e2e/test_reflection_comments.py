"""Server reflection describes the API with its comments and field rules:
grpcurl, knowing nothing but the address, prints what proto/ says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tests.e2e.gateway_process import gateway_process

pytestmark = pytest.mark.e2e


def test_grpcurl_describe_prints_the_protos_comments(tmp_path: Path) -> None:
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    with gateway_process(tmp_path) as gw:
        def run(*args: str) -> str:
            result = subprocess.run([grpcurl, "-plaintext", gw.address, *args],
                                    capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout

        services = run("list").split()
        method = run("describe", "datagw.v1.CatalogService.GetProduct")
        request = run("describe", "datagw.v1.GetProductRequest")
        # Every service resolves, with the files it imports (google.rpc,
        # buf.validate, google.protobuf) found through reflection too.
        described = {name: run("describe", name) for name in services}

    assert "grpc.health.v1.Health" in services
    assert "grpc.reflection.v1alpha.ServerReflection" in services
    assert "datagw.v1.CatalogService" in services
    # The method's comment, and a message field's comment with its rule.
    assert "// Reads one product. NOT_FOUND if there is none." in method
    assert "// The product's SKU." in request
    assert "(.buf.validate.field)" in request
    assert "[datagw.v1.sku]:true" in request
    assert "The product catalog: keyed by SKU" in described["datagw.v1.CatalogService"]
    for name, text in described.items():
        assert f"{name} is a service" in text, text
