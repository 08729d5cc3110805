"""docs/events.md's grpcurl section, run as the shell script it is against the test gateway."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

from gateway.runtime.server import Gateway
from tests.conftest import ROOT, need_tool

pytestmark = pytest.mark.integration

DOC = ROOT / "docs" / "events.md"
_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


async def test_every_events_grpcurl_example_runs(gateway: Gateway) -> None:
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    body = "\n".join(_BLOCK.findall(DOC.read_text("utf-8")))
    expected = [line.split("# expect:", 1)[1].strip() for line in body.splitlines()
                if line.startswith("# expect:")]
    assert len(expected) >= 8
    # The session's gateway has seen other tests' streams, never these names.
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", "set -euo pipefail\n" + body.replace(
            "localhost:50051", f"127.0.0.1:{gateway.port}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, PATH=f"{Path(grpcurl).parent}:{os.environ['PATH']}"))
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    output = out.decode()
    assert proc.returncode == 0, output[-3000:]
    for text in expected:
        assert text in output, f"{text!r} not in the output:\n{output[-3000:]}"
    # The ciphertext never shows; the failing examples failed for their reason.
    assert "ciphertext" not in output and "_pii" not in output
    assert output.count("Code: Aborted") == 1 and output.count("Code: NotFound") == 1
