"""The committed Go stubs must be exactly what scripts/generate_go.sh produces
from proto/, and the service config the Go client embeds a copy of
clients/service_config.json."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.e2e

TOOLS = ROOT / ".tools" / "go" / "bin"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_go_stubs_are_current(tmp_path: Path) -> None:
    # The imported buf.validate rules file (make tools: scripts/install_proto_deps.sh).
    need_tool("buf/validate/validate.proto",
              str(ROOT / ".tools" / "proto" / "buf" / "validate" / "validate.proto"))
    need_tool("buf", str(ROOT / "node_modules" / ".bin" / "buf"))
    for plugin in ("protoc-gen-go", "protoc-gen-go-grpc"):
        need_tool(plugin, str(TOOLS / plugin))
    subprocess.run([str(ROOT / "scripts" / "generate_go.sh"), str(tmp_path)],
                   check=True, capture_output=True, timeout=120)
    generated = _tree(tmp_path / "datagw")
    committed = _tree(ROOT / "clients" / "go" / "datagw")
    assert generated, "generate_go.sh produced no stubs"
    assert sorted(generated) == sorted(committed), "run `make generate` and commit the result"
    stale = sorted(f for f in generated if generated[f] != committed[f])
    assert not stale, f"stale generated Go stubs {stale}: run `make generate` and commit"
    config = Path("datagwclient") / "service_config.json"
    assert (tmp_path / config).read_bytes() == (ROOT / "clients" / "go" / config).read_bytes(), \
        "clients/go/datagwclient/service_config.json is stale: run `make generate` and commit"
