"""The committed TypeScript stubs must be exactly what scripts/generate_node.sh produces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.e2e

COMMITTED = ROOT / "clients" / "node" / "src" / "gen"


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_committed_node_stubs_are_current(tmp_path: Path) -> None:
    # The imported buf.validate rules file (make tools: scripts/install_proto_deps.sh).
    need_tool("buf/validate/validate.proto",
              str(ROOT / ".tools" / "proto" / "buf" / "validate" / "validate.proto"))
    need_tool("buf", str(ROOT / "node_modules" / ".bin" / "buf"))
    need_tool("protoc-gen-es",
              str(ROOT / "clients" / "node" / "node_modules" / ".bin" / "protoc-gen-es"))
    # The google/rpc sources come from the googleapis-common-protos this Python has.
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run([str(ROOT / "scripts" / "generate_node.sh"), str(tmp_path)],
                   check=True, env=env, capture_output=True, timeout=120)
    generated, committed = _tree(tmp_path), _tree(COMMITTED)
    # Every proto/ file and the two google/rpc files the error details need.
    assert {"datagw/v1/catalog_pb.ts", "google/rpc/status_pb.ts",
            "google/rpc/error_details_pb.ts"} <= set(generated)
    assert sorted(generated) == sorted(committed), "run `make generate` and commit the result"
    stale = sorted(f for f in generated if generated[f] != committed[f])
    assert not stale, f"stale generated TypeScript stubs {stale}: run `make generate` and commit"
