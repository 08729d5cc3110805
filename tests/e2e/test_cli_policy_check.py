"""`datagw policy check` and `datagw serve` on a bad policy directory, as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.policy_fixtures import POLICIES, copy_policies, edit

pytestmark = pytest.mark.e2e

# Generous: a refused start does no I/O beyond reading the policies.
TIMEOUT_S = 30


def datagw(*args: str) -> subprocess.CompletedProcess[str]:
    # The module, not .venv/bin/datagw, so the test runs from any virtualenv.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAGW_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway.runtime.cli", *args],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT, env=env,
    )


def test_the_default_policies_pass() -> None:
    result = datagw("policy", "check", "policies")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "ok  analytics.yaml: domain analytics (clickhouse)",
        "ok  catalog.yaml: domain catalog (postgres)",
        "ok  events.yaml: domain events (postgres)",
        "ok  inventory.yaml: domain inventory (postgres)",
        "ok  orders.yaml: domain orders (postgres)",
        "ok  payments.yaml: domain payments (postgres)",
        "ok  sessions.yaml: domain sessions (redis)",
        "ok  users.yaml: domain users (postgres)",
        "ok  access.yaml: access, 1 rule(s), default allow (sensitive methods: deny)",
    ]
    assert result.stderr == ""


def test_a_bad_access_policy_fails_naming_the_rule_and_key(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "access.yaml", "AdminService/FlushCache", "AdminService/FlushCaches")
    result = datagw("policy", "check", str(policies))
    assert result.returncode == 1
    assert result.stderr.splitlines()[1:] == [
        "  access.yaml: rules[0].allow[3]: 'AdminService/FlushCaches' matches no method "
        "of datagw"]


def test_a_bad_directory_fails_naming_file_and_key(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "catalog.yaml", "jitter: 10%", "jitter: 150%")
    edit(policies / "sessions.yaml", "ttl: 30m", "ttl: 30 minutes")
    result = datagw("policy", "check", str(policies))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"invalid policies in {policies}:"
    assert "  catalog.yaml: cache.jitter: '150%' is not a percentage from 0% to 100%" in lines
    assert any(line.startswith("  sessions.yaml: session.ttl: '30 minutes' is not a duration")
               for line in lines), lines
    assert len(lines) == 3


def test_a_missing_directory_fails(tmp_path: Path) -> None:
    result = datagw("policy", "check", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "not a directory" in result.stderr


def test_a_missing_domain_fails(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    (policies / "sessions.yaml").unlink()
    result = datagw("policy", "check", str(policies))
    assert result.returncode == 1
    assert "no policy file for domain 'sessions'" in result.stderr


def test_serve_refuses_a_bad_policy_directory_before_starting_backends(tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    edit(policies / "catalog.yaml", "default: eventual", "default: sometimes")
    data_dir = tmp_path / "data"
    result = datagw("serve", "--policies", str(policies), "--ephemeral", "--data-dir",
                    str(data_dir), "--listen", "127.0.0.1:0", "--metrics-listen", "")
    assert result.returncode == 2, result.stderr
    assert "refusing to start" in result.stderr
    assert "catalog.yaml: consistency.default: 'sometimes' is not one of" in result.stderr
    assert "Traceback" not in result.stderr
    assert "datagw serving" not in result.stdout
    # Nothing was started: the embedded backends would have created their data dir.
    assert not data_dir.exists()


def test_serve_refuses_a_bad_config_with_exit_code_2(tmp_path: Path) -> None:
    config = tmp_path / "datagw.yaml"
    config.write_text("server: {default_deadline: forever}\n")
    result = datagw("serve", "--config", str(config), "--policies", str(POLICIES),
                    "--ephemeral", "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert f"{config}: server.default_deadline: 'forever' is not a duration" in result.stderr
    assert not (tmp_path / "data").exists()
