"""buf breaking guards the API clients rely on: a breaking edit fails against the baseline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.e2e

BUF = ROOT / "node_modules" / ".bin" / "buf"


def _breaking(proto: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUF), "breaking", str(proto), "--against", str(ROOT / "proto" /
                                                          "breaking-baseline.binpb")],
        capture_output=True, text=True, timeout=120)


def test_the_current_api_is_compatible_with_the_baseline() -> None:
    need_tool("buf", str(BUF))
    result = _breaking(ROOT / "proto")
    assert result.returncode == 0, result.stdout + result.stderr


def test_removing_a_field_clients_use_is_caught(tmp_path: Path) -> None:
    need_tool("buf", str(BUF))
    # The whole buf workspace: buf.yaml and the imported protos beside proto/.
    proto = tmp_path / "proto"
    shutil.copytree(ROOT / "proto", proto)
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    shutil.copytree(ROOT / ".tools" / "proto", tmp_path / ".tools" / "proto")
    order = proto / "datagw" / "v1" / "order.proto"
    text = order.read_text()
    assert "  string payment_id = 7;\n" in text
    order.write_text(text.replace("  string payment_id = 7;\n", ""))
    result = _breaking(proto)
    assert result.returncode != 0
    assert "payment_id" in result.stdout + result.stderr
