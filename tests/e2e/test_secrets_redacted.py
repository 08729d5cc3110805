"""`datagw serve` and `datagw migrate` never print a DSN's password: not when a
backend is unreachable, not when the config refuses a DSN, not the passwords
of the embedded servers it generates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gateway.runtime.embedded.secrets import EmbeddedSecrets
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


def test_the_embedded_servers_passwords_are_never_printed() -> None:
    # Not under pytest's basetemp, which a concurrent pytest run may make
    # private again (0700) and so lock out postgres running as its own user.
    with tempfile.TemporaryDirectory(prefix="datagw-e2e-") as tmp:
        data_dir, out, err = Path(tmp) / "data", Path(tmp) / "stdout", Path(tmp) / "stderr"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("DATAGW_")}
        with out.open("w") as stdout, err.open("w") as stderr:
            # Debug logging: the most the gateway ever says about its backends.
            process = subprocess.Popen(
                [sys.executable, "-m", "gateway.runtime.cli", "serve", "--data-dir",
                 str(data_dir), "--policies", str(POLICIES), "--listen", "127.0.0.1:0",
                 "--metrics-listen", "", "--replicas", "1"],
                stdout=stdout, stderr=stderr, text=True, cwd=ROOT,
                env=clean | {"DATAGW_LOGGING__LEVEL": "debug"})
            try:
                deadline = time.monotonic() + TIMEOUT_S
                while "datagw serving" not in out.read_text() and process.poll() is None:
                    assert time.monotonic() < deadline, out.read_text() + err.read_text()
                    time.sleep(0.2)
                time.sleep(1)  # a moment of serving: probes, the replica tracker, jobs
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        output = out.read_text() + err.read_text()
        assert process.returncode == 0, output
        assert "datagw: stopped" in output
        secrets = EmbeddedSecrets(data_dir)
        assert f"passwords (0600) in {secrets.directory}" in output
        passwords = [secrets.postgres_password(), secrets.valkey_password()]
        assert all(len(p) >= 40 for p in passwords)
        for password in passwords:
            assert password not in output
