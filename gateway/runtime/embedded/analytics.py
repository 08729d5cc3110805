"""Embedded ClickHouse: ``EmbeddedAnalytics``, the chdb engine in a child
process (analytics_server.py) on 127.0.0.1, reached over ClickHouse's HTTP
interface with the password generated into secrets/clickhouse.password.

The engine's data is the chdb directory embedded mode always used
(``EmbeddedBackends.clickhouse_path``); the child is its only user while it
runs. Like Valkey it is supervised: killed, it is started again on its port,
so the gateways' store URL stays right.
"""

from __future__ import annotations

import atexit
import base64
import http.client
import logging
import os
import subprocess
import sys
from pathlib import Path

from gateway.runtime.embedded.process import (
    LOCALHOST,
    ChildServer,
    EmbeddedBackendError,
    file_size,
)
from gateway.runtime.embedded.secrets import EmbeddedSecrets, PasswordProtected, ensure_secret
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore

__all__ = ["USER", "EmbeddedAnalytics"]

log = logging.getLogger(__name__)

# The user name the engine's clients send (it checks the password only).
USER = "default"
_MODULE = "gateway.runtime.embedded.analytics_server"


def _answers(port: int, password: str, timeout: float = 1.0) -> bool:
    """The engine is open and takes the password (a SELECT 1, authenticated)."""
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    conn = http.client.HTTPConnection(LOCALHOST, port, timeout=timeout)
    try:
        conn.request("POST", "/", body=b"SELECT 1", headers={"Authorization": f"Basic {token}"})
        response = conn.getresponse()
        return response.status == 200 and response.read().strip() == b"1"
    except OSError:
        return False
    finally:
        conn.close()


def _child_env() -> dict[str, str]:
    """This environment, with the directory this gateway package is imported
    from first on the path (a source checkout run with PYTHONPATH, or a
    test's working copy, starts its own engine code)."""
    root = str(Path(__file__).resolve().parents[3])
    path = os.environ.get("PYTHONPATH")
    return os.environ | {"PYTHONPATH": f"{root}{os.pathsep}{path}" if path else root}


class EmbeddedAnalytics(ChildServer, PasswordProtected):
    """The chdb engine's process (see the module doc)."""

    name = "clickhouse"

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None, password_file: Path | None = None) -> None:
        """`data_dir`: the chdb directory; `password_file`: default
        secrets/clickhouse.password beside it, generated on first start."""
        super().__init__(data_dir, port, timeout=timeout)
        self._protect(password_file, EmbeddedSecrets(self._data_dir.parent).clickhouse_file)

    @property
    def pidfile(self) -> Path:
        # Beside the chdb directory, which holds the engine's files only.
        return self._data_dir.with_name(self._data_dir.name + ".pid")

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def store(self, database: str = "datagw", *,
              statement_timeout_s: float = 30.0) -> ClickHouseServerStore:
        """An analytics store on this engine, as embedded mode opens it (the
        topology entry "clickhouse/embedded", the relay's target "chdb");
        `statement_timeout_s`: how long a statement may take, queueing
        behind others included (the engine runs one at a time)."""
        return ClickHouseServerStore(self.url, database, USER, self.password,
                                     send_receive_timeout_s=statement_timeout_s,
                                     name="clickhouse/embedded", kind="chdb")

    def start(self) -> None:
        """Start the engine's process and wait until it answers; idempotent."""
        if self.is_running():
            return
        password = ensure_secret(self._password_file)
        # Only the engine reads its tables.
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._data_dir.chmod(0o700)
        # An engine left running by a gateway that died holds the chdb
        # directory (one engine per path).
        self._stop_stale(self.pidfile, _MODULE)
        self._spawn_on_a_port(lambda port: self._spawn(port, password))

    def stop(self) -> None:
        """SIGTERM (the engine closes its tables), SIGKILL after the timeout."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                log.warning("the analytics engine did not exit within %.0fs of SIGTERM; "
                            "killing it", self._timeout)
                proc.kill()
                proc.wait(timeout=10)
        self._forget()

    def kill(self) -> None:
        """SIGKILL the engine, simulating a crash."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self._forget()

    def _forget(self) -> None:
        self._proc = None
        self.pidfile.unlink(missing_ok=True)
        atexit.unregister(self._atexit_stop)

    def _spawn(self, port: int, password: str) -> None:
        offset = file_size(self.log_path)
        with self.open_log() as log_file:
            try:
                # Own session: Ctrl-C in the gateway's terminal must not stop
                # the engine before the gateway has drained its calls.
                proc = subprocess.Popen(
                    [sys.executable, "-m", _MODULE, str(self._data_dir), str(port),
                     str(self._password_file)],
                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                    cwd=self._data_dir, start_new_session=True,
                    env=_child_env(),
                )
            except OSError as exc:
                raise EmbeddedBackendError(f"cannot run the analytics engine: {exc}") from exc
        self.pidfile.write_text(f"{proc.pid}\n")
        self._await_answer(proc, port, offset, "the analytics engine",
                           lambda: _answers(port, password), 0.05)

