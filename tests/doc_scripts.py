"""Runs a doc page's ```sh blocks, in order, as one bash script against the
session's gateway: the examples users copy are the ones the tests ran."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from tests.conftest import ROOT, need_tool

_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


async def run_doc_examples(doc: str, port: int, min_expected: int) -> str:
    """The script's output; fails unless it exits 0 and every `# expect:`
    line (at least `min_expected` of them) appears in the output."""
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    body = "\n".join(_BLOCK.findall((ROOT / "docs" / doc).read_text("utf-8")))
    expected = [line.split("# expect:", 1)[1].strip() for line in body.splitlines()
                if line.startswith("# expect:")]
    assert len(expected) >= min_expected
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", "set -euo pipefail\n" + body.replace("localhost:50051", f"127.0.0.1:{port}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env=dict(os.environ, PATH=f"{Path(grpcurl).parent}:{os.environ['PATH']}"))
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    output = out.decode()
    assert proc.returncode == 0, output[-3000:]
    for text in expected:
        assert text in output, f"{text!r} not in the output:\n{output[-3000:]}"
    return output
