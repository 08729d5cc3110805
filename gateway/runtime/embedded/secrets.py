"""The passwords of the embedded servers: generated once into the data dir,
reused on every restart, and the one place that turns them into DSNs and URLs.

Layout, under the data dir of ``EmbeddedBackends`` (the parent of each
server's own directory)::

    secrets/                 0700
      postgres.password      0600  superuser ``postgres`` of every embedded
                                   PostgreSQL server (catalog, inventory,
                                   commerce shards and their replicas)
      valkey.password        0600  Valkey's ``requirepass``
      clickhouse.password    0600  the analytics engine's (analytics_server.py),
                                   for any user name

One PostgreSQL password for all servers, not one each: a streaming replica is
a physical copy of its primary, pg_authid included, so it has the primary's
password whatever we do; the servers all run as one OS user and these files
sit side by side with one owner, so per-server passwords would isolate
nothing while making an operator look up a different one per port.

The files hold the password and nothing else (a trailing newline is allowed
when an operator writes one by hand). They are only ever read by this
process: initdb gets a private copy, replicas get theirs in
postgresql.auto.conf (readable by the server user only), Valkey in its
valkey.conf (0600); the analytics engine reads its file itself. Nothing here
ever puts a password on a command line, where any local user could read it
in ``ps``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import quote

from gateway.runtime.embedded.process import EmbeddedBackendError

__all__ = [
    "SECRETS_DIR",
    "EmbeddedSecrets",
    "ensure_secret",
    "postgres_dsn",
    "read_secret",
    "scram_verifier",
    "valkey_url",
]

SECRETS_DIR = "secrets"
_PASSWORD_BYTES = 32  # token_urlsafe(32): 43 characters, 256 bits
# PostgreSQL's own default for scram_iterations.
_SCRAM_ITERATIONS = 4096


def read_secret(path: Path) -> str:
    """The password in `path` (one trailing newline dropped); never its text in errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise EmbeddedBackendError(f"cannot read the password file {path}: {reason}") from None
    password = text[:-1] if text.endswith("\n") else text
    if not password or "\n" in password:
        raise EmbeddedBackendError(
            f"the password file {path} must hold one line: the password (delete it to have "
            "one generated, only on a data dir whose servers were never started)")
    return password


def ensure_secret(path: Path) -> str:
    """The password in `path`, generated first if the file does not exist.

    Created atomically (a complete temporary file linked into place, never
    overwriting), so servers starting side by side agree on one password; the
    directory is 0700 and the file 0600 from the moment they exist.
    """
    if path.exists():
        _tighten(path)
        return read_secret(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(_PASSWORD_BYTES) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        # Someone else may have won the race: theirs is the password.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return read_secret(path)


def _tighten(path: Path) -> None:
    """Group and others lose every bit (a file copied in with 0644, say)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        path.chmod(mode & 0o700)


def postgres_dsn(address: str, password: str, database: str = "postgres") -> str:
    """A DSN for the embedded superuser at `address` (host:port)."""
    return f"postgresql://postgres:{quote(password, safe='')}@{address}/{database}"


def valkey_url(address: str, password: str, db: int = 0) -> str:
    """A redis:// URL for the embedded Valkey's default user at `address` (host:port)."""
    return f"redis://:{quote(password, safe='')}@{address}/{db}"


def scram_verifier(password: str, *, salt: bytes | None = None,
                   iterations: int = _SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802/7677, as
    libpq's PQencryptPasswordConn makes it), so ALTER ROLE never sees the
    password itself. SASLprep is left out: our passwords are ASCII."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class EmbeddedSecrets:
    """The secrets of one embedded data dir, also for a process that did not
    start the servers (tests and benchmarks talking to a `datagw serve`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    @property
    def directory(self) -> Path:
        return self.root / SECRETS_DIR

    @property
    def postgres_file(self) -> Path:
        return self.directory / "postgres.password"

    @property
    def valkey_file(self) -> Path:
        return self.directory / "valkey.password"

    @property
    def clickhouse_file(self) -> Path:
        return self.directory / "clickhouse.password"

    def postgres_password(self) -> str:
        return read_secret(self.postgres_file)

    def valkey_password(self) -> str:
        return read_secret(self.valkey_file)

    def postgres_dsn(self, address: str, database: str = "postgres") -> str:
        return postgres_dsn(address, self.postgres_password(), database)

    def valkey_url(self, address: str, db: int = 0) -> str:
        return valkey_url(address, self.valkey_password(), db)

    def __repr__(self) -> str:
        return f"EmbeddedSecrets({str(self.root)!r})"


class PasswordProtected:
    """An embedded server whose clients need the password in its file."""

    _password_file: Path

    def _protect(self, password_file: Path | None, default: Path) -> None:
        self._password_file = (Path(password_file).absolute() if password_file is not None
                               else default)

    @property
    def password(self) -> str:
        return read_secret(self._password_file)

    @property
    def password_file(self) -> Path:
        return self._password_file
