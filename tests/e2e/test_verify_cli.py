"""`datagw verify` against a running `datagw serve`: the report, its JSON,
and the exit status for a clean run, a finding and an unreachable gateway."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from datagw.v1 import user_pb2, user_pb2_grpc

from tests.e2e.gateway_process import free_port, gateway_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def verify(address: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.runtime.cli", "verify", "--target", address, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_verify_reports_clean_then_a_table_past_its_retention(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Request ids kept 1s by the orders policy, and a retention job that
    # does not run: the housekeeping check reports the table growing past it.
    policies = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", policies)
    orders = policies / "orders.yaml"
    orders.write_text(re.sub(r"idempotency_keys: \S+", "idempotency_keys: 1s",
                             orders.read_text()))
    monkeypatch.setenv("DATAGW_RETENTION__INTERVAL", "24h")
    with gateway_process(tmp_path / "data", "--shards", "2", "--policies", str(policies)) as gw:
        clean = verify(gw.address, "--exhaustive")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert clean.stdout.startswith("clean (exhaustive, ")
        for check in ("events_vs_analytics", "projections", "inventory", "housekeeping",
                      "range_maps"):
            assert f"\n{check} " in clean.stdout
        with grpc.insecure_channel(gw.address) as channel:
            user_pb2_grpc.UserServiceStub(channel).CreateUser(user_pb2.CreateUserRequest(
                user_id="verify-e2e", email="verify-e2e@example.com", request_id="verify-e2e"))
        time.sleep(1.5)
        found = verify(gw.address, "--check", "housekeeping", "--json")
        assert found.returncode == 1, found.stdout + found.stderr
        report = json.loads(found.stdout)
        assert report["clean"] is False
        [finding] = report["findings"]
        assert (finding["kind"], finding["table"], finding["severity"]) == (
            "past_retention", "idempotency_keys", "VERIFY_SEVERITY_WARNING")
        assert [c["name"] for c in report["checks"]] == ["housekeeping"]


def test_an_unreachable_gateway_is_exit_3() -> None:
    done = verify(f"127.0.0.1:{free_port()}", "--sample", "0.5")
    assert done.returncode == 3
    assert done.stderr.startswith("datagw verify: UNAVAILABLE")


def test_bad_arguments_are_exit_2() -> None:
    assert verify("127.0.0.1:1", "--check", "nope").returncode == 2
