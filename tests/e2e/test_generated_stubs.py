"""The committed stubs must be exactly what `make generate` produces from proto/."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.e2e


def _files(root: Path) -> set[str]:
    """The generated files: the stubs, the descriptor set with comments that
    reflection serves (datagw/v1/descriptor_set.binpb) and buf/validate."""
    return {
        str(p.relative_to(root)) for top in ("datagw", "buf") for p in (root / top).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_python_stubs_are_current(tmp_path: Path) -> None:
    # The imported buf.validate rules file (make tools: scripts/install_proto_deps.sh).
    need_tool("buf/validate/validate.proto",
              str(ROOT / ".tools" / "proto" / "buf" / "validate" / "validate.proto"))
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run([str(ROOT / "scripts" / "generate_python.sh"), str(tmp_path)],
                   check=True, env=env, capture_output=True, timeout=120)
    committed = ROOT / "clients" / "python"
    assert _files(tmp_path) == _files(committed), "run `make generate` and commit the result"
    stale = [f for f in sorted(_files(tmp_path))
             if not filecmp.cmp(tmp_path / f, committed / f, shallow=False)]
    assert not stale, f"stale generated stubs {stale}: run `make generate` and commit"
