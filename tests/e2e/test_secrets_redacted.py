"""`datagw serve` and `datagw migrate` never print a DSN's password: not when a
backend is unreachable, not when the config refuses a DSN."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.gateway_process import free_port
from tests.policy_fixtures import POLICIES

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret-Pa55"
# Each shard's connect attempt gives up after the pool's connect timeout.
TIMEOUT_S = 120


def datagw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATAGW_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway.runtime.cli", *args],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT,
        env=clean | (env or {}),
    )


def unreachable_config(tmp_path: Path, port: int) -> Path:
    dsn = f"postgresql://gw:{PASSWORD}@127.0.0.1:{port}"
    config = tmp_path / "datagw.yaml"
    config.write_text("postgres:\n  keyspaces:\n" + "".join(
        f"    {name}: {{shards: [{{primary: '{dsn}/{name}'}}]}}\n"
        for name in ("catalog", "commerce", "inventory")))
    return config


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_an_unreachable_backend_is_named_without_its_password(
        tmp_path: Path, command: str) -> None:
    port = free_port()  # closed again: nothing listens there
    extra = ["--listen", "127.0.0.1:0", "--metrics-listen", ""] if command == "serve" else []
    result = datagw(command, "--config", str(unreachable_config(tmp_path, port)),
                    "--policies", str(POLICIES), *extra,
                    env={"DATAGW_REDIS__URL": f"redis://:{PASSWORD}@127.0.0.1:{port}/0"})
    output = result.stdout + result.stderr
    # Its own status and one plain line: no traceback.
    assert result.returncode == 3, output
    assert "datagw: cannot start, a backend is unreachable" in result.stderr
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert f"127.0.0.1:{port}" in output, output
    assert "datagw serving" not in output


def test_a_refused_dsn_is_named_without_its_password(tmp_path: Path) -> None:
    result = datagw("serve", "--policies", str(POLICIES), "--listen", "127.0.0.1:0",
                    "--metrics-listen", "", env={
        "DATAGW_POSTGRES__KEYSPACES__CATALOG__SHARDS":
            f"[{{primary: 'mysql://gw:{PASSWORD}@db0.example:3306/catalog'}}]",
        "DATAGW_REDIS__URL": f"redis://:{PASSWORD}@cache.example:6379/0",
    })
    assert result.returncode == 2, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "refusing to start" in result.stderr
    assert "'mysql://gw:***@db0.example:3306/catalog' is not a postgresql:// DSN" in result.stderr
