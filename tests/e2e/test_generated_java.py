"""The committed Java stubs must be exactly what scripts/generate_java.sh produces from proto/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.e2e

TOOLS = ROOT / ".tools" / "java"
STUBS = Path("io") / "datagw" / "v1"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_java_stubs_are_current(tmp_path: Path) -> None:
    # The imported buf.validate rules file (make tools: scripts/install_proto_deps.sh).
    need_tool("buf/validate/validate.proto",
              str(ROOT / ".tools" / "proto" / "buf" / "validate" / "validate.proto"))
    for tool in ("protoc", "protoc-gen-grpc-java"):
        need_tool(tool, str(TOOLS / tool))
    subprocess.run([str(ROOT / "scripts" / "generate_java.sh"), str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    generated = _tree(tmp_path / STUBS)
    committed = _tree(ROOT / "clients" / "java" / "src" / "main" / "java" / STUBS)
    assert "CatalogServiceGrpc.java" in generated, "generate_java.sh produced no gRPC stubs"
    assert sorted(generated) == sorted(committed), "run `make generate` and commit the result"
    stale = sorted(f for f in generated if generated[f] != committed[f])
    assert not stale, f"stale generated Java stubs {stale}: run `make generate` and commit"
