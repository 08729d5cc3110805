"""The README's grpcurl session, run verbatim against `datagw serve --ephemeral`."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_tool
from tests.e2e.gateway_process import gateway_process

pytestmark = pytest.mark.e2e

_BLOCK = re.compile(
    r"<!-- grpcurl-examples:start -->\s*```sh\n(.*?)```\s*<!-- grpcurl-examples:end -->", re.S
)


def readme_examples() -> list[str]:
    match = _BLOCK.search((ROOT / "README.md").read_text("utf-8"))
    assert match, "README.md lost its grpcurl examples block"
    return [line for line in match.group(1).splitlines() if line.startswith("grpcurl ")]


def run(grpcurl: str, command: str, address: str) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command.replace("localhost:50051", address))
    return subprocess.run([grpcurl, *args[1:]], capture_output=True, text=True, timeout=30)


def test_readme_grpcurl_session(tmp_path: Path) -> None:
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    examples = readme_examples()
    assert len(examples) >= 8
    with gateway_process(tmp_path) as gw:
        outputs = {}
        for command in examples:
            result = run(grpcurl, command, gw.address)
            assert result.returncode == 0, f"{command}\n{result.stderr}"
            outputs[command] = result.stdout
    by_method = {c.split()[-1]: out for c, out in outputs.items()}
    listed = outputs[examples[0]].split()
    for service in ("datagw.v1.CatalogService", "datagw.v1.SessionService",
                    "datagw.v1.AdminService", "grpc.health.v1.Health"):
        assert service in listed
    assert "rpc SearchProducts" in by_method["datagw.v1.CatalogService"]
    upserted = json.loads(by_method["datagw.v1.CatalogService/UpsertProduct"])
    assert upserted["created"] is True and upserted["product"]["version"] == "1"
    reads = [json.loads(out) for c, out in outputs.items() if c.endswith("/GetProduct")]
    assert [r["product"]["title"] for r in reads] == ["Blue ceramic mug"] * 2
    found = json.loads(by_method["datagw.v1.CatalogService/SearchProducts"])
    assert [p["sku"] for p in found["products"]] == ["MUG-1"]
    suggested = json.loads(by_method["datagw.v1.CatalogService/SuggestProducts"])
    assert suggested["suggestions"][0]["text"] == "blue ceramic"
    session = json.loads(by_method["datagw.v1.SessionService/CreateSession"])["session"]
    listed_sessions = json.loads(by_method["datagw.v1.SessionService/ListUserSessions"])
    assert [s["session_id"] for s in listed_sessions["sessions"]] == [session["session_id"]]
    topology = json.loads(by_method["datagw.v1.AdminService/GetTopology"])
    assert all(b["healthy"] for b in topology["backends"])
    assert json.loads(by_method["grpc.health.v1.Health/Check"]) == {"status": "SERVING"}


def test_readme_error_example_is_what_the_gateway_says(tmp_path: Path) -> None:
    grpcurl = need_tool("grpcurl", str(Path(sys.executable).parent / "grpcurl"))
    readme = (ROOT / "README.md").read_text("utf-8")
    shown = readme.split("$ grpcurl", 1)[1].split("```", 1)[0]
    command, expected = shown.split("\n", 1)
    with gateway_process(tmp_path) as gw:
        result = run(grpcurl, "grpcurl" + command, gw.address)
    assert result.returncode != 0
    assert result.stderr.strip() == expected.strip()
