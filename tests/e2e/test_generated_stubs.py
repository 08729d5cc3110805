"""The committed stubs (and the package's copy of the service config) must be
exactly what `make generate` produces from proto/ and clients/."""

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
    """What the script writes: datagw/v1 (the stubs and the descriptor set with
    comments that reflection serves), buf/validate and the service config, not
    the hand-written modules beside them."""
    generated = {
        str(p.relative_to(root))
        for p in (*(root / "datagw" / "v1").rglob("*"), *(root / "buf").rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    return generated | {"datagw/service_config.json"}


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
