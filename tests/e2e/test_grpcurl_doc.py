"""docs/grpcurl.md, run as the shell script it is against `datagw serve --ephemeral`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.e2e.gateway_process import gateway_process

pytestmark = pytest.mark.e2e

DOC = ROOT / "docs" / "grpcurl.md"
_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def script() -> str:
    return "\n".join(_BLOCK.findall(DOC.read_text("utf-8")))


def test_every_grpcurl_example_runs(tmp_path: Path) -> None:
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    body = script()
    expected = [line.split("# expect:", 1)[1].strip() for line in body.splitlines()
                if line.startswith("# expect:")]
    assert len(expected) >= 10
    with gateway_process(tmp_path) as gw:
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + body.replace("localhost:50051", gw.address)],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PATH=f"{Path(grpcurl).parent}:{os.environ['PATH']}"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for text in expected:
        assert text in output, f"{text!r} not in the output:\n{output[-3000:]}"
    # The failing examples failed for the reason shown, not for a typo, and
    # the declined order left the stock where the placed one put it.
    assert output.count("Code: FailedPrecondition") == 3
    assert result.stdout.count('"available": "8"') == 2
