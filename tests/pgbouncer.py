"""PgBouncer in front of real PostgreSQL databases, for tests: in transaction
mode for the pooler tests, with a TLS certificate for the TLS tests (the
embedded PostgreSQL is built without OpenSSL; Debian's PgBouncer has it).

Started as our child process on a free port under a directory of the test's;
stopped by its pid. Clients authenticate with SCRAM (auth_type
scram-sha-256), and so does PgBouncer to the servers. The auth_file holds the
password itself: with a SCRAM verifier there instead, 1.18 logs in to a
server with the keys of the client's own exchange, which works only where
the server has that very verifier (same salt), and each embedded server
hashed the shared password with a salt of its own.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from gateway.runtime.embedded.postgres import PG_SYSTEM_USER

# PgBouncer's pool per (database, user): small, so that clients really share
# server connections and any session state would leak between them.
POOL_SIZE = 3
START_WITHIN_S = 10.0
UNNAMED_HOST = "127.0.0.2"
STOP_WITHIN_S = 10.0


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PgBouncer:
    """One pgbouncer process; `databases` maps its database names to real DSNs,
    and any other name is that database on the `fallback` DSN's server."""

    binary: str
    workdir: Path
    databases: dict[str, str]
    fallback: str | None = None
    pool_mode: str = "transaction"
    # Server connections per database (in session mode: clients at once).
    pool_size: int = POOL_SIZE
    # (certificate, key): clients must come over TLS and get this certificate.
    tls: tuple[Path, Path] | None = None
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None

    def dsn(self, name: str) -> str:
        """The DSN of database `name` through the pooler, the real one's credentials kept."""
        real = urlsplit(self.databases.get(name, self.fallback))
        return f"postgresql://{real.netloc.rpartition('@')[0]}@127.0.0.1:{self.port}/{name}"

    async def start(self) -> None:
        users: dict[str, str] = {}
        for dsn in (*self.databases.values(), *([self.fallback] if self.fallback else [])):
            real = urlsplit(dsn)
            assert real.username and real.password, "the DSNs carry user and password"
            role, password = unquote(real.username), unquote(real.password)
            assert users.setdefault(role, password) == password, \
                f"{role} has two passwords; one PgBouncer cannot log in as both"
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.tls is not None:
            # Copies: the key must be readable by PgBouncer's user, and only it.
            for source, name in zip(self.tls, ("server.crt", "server.key"), strict=True):
                shutil.copyfile(source, self.workdir / name)
            (self.workdir / "server.key").chmod(0o600)
        (self.workdir / "userlist.txt").write_text(
            "".join(f'"{role}" "{password}"\n' for role, password in users.items()))
        (self.workdir / "userlist.txt").chmod(0o600)
        self.port = _free_port()
        (self.workdir / "pgbouncer.ini").write_text(self._ini())
        await asyncio.to_thread(self._spawn)

    def _spawn(self) -> None:
        argv = [self.binary, str(self.workdir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # PgBouncer refuses to run as root; the embedded servers' user will do.
            argv[1:1] = ["-u", PG_SYSTEM_USER]
            user = pwd.getpwnam(PG_SYSTEM_USER)
            os.chmod(self.workdir, 0o700)
            for path in (self.workdir, *self.workdir.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)
            # The embedded servers' user must reach the directory.
            for parent in self.workdir.resolve().parents:
                os.chmod(parent, parent.stat().st_mode | 0o001)
        log = (self.workdir / "stdout.log").open("ab")
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self._await_listening()

    def _ini(self) -> str:
        databases = []
        for name, dsn in self.databases.items():
            real = urlsplit(dsn)
            databases.append(f"{name} = host={real.hostname} port={real.port} "
                             f"dbname={quote(real.path.lstrip('/'))}")
        if self.fallback:
            real = urlsplit(self.fallback)
            databases.append(f"* = host={real.hostname} port={real.port}")
        return "\n".join([
            "[databases]", *databases, "",
            "[pgbouncer]",
            # Also a loopback address that no test certificate names, on
            # which verify-full must fail.
            f"listen_addr = 127.0.0.1,{UNNAMED_HOST}",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {self.workdir / 'userlist.txt'}",
            f"pool_mode = {self.pool_mode}",
            f"default_pool_size = {self.pool_size}",
            "max_client_conn = 500",
            # asyncpg does not send it, but psql and JDBC clients do.
            "ignore_startup_parameters = extra_float_digits",
            *([] if self.tls is None else [
                "client_tls_sslmode = require",
                f"client_tls_cert_file = {self.workdir / 'server.crt'}",
                f"client_tls_key_file = {self.workdir / 'server.key'}",
            ]),
            "",
        ])

    def _await_listening(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + START_WITHIN_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self._proc.returncode}: "
                                   f"{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"pgbouncer not listening after {START_WITHIN_S}s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        path = self.workdir / "stdout.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGINT (PgBouncer's immediate shutdown), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_WITHIN_S)
