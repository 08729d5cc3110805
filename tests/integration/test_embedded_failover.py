"""A failover on purpose in embedded mode: `EmbeddedBackends.failover` and
`datagw failover`, on a dedicated stack of 2 shards with 1 synchronous replica
each (not the session's: the failover changes which server is the primary).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc
import pytest
from datagw.v1 import user_pb2

from gateway.runtime.cli import main
from gateway.runtime.embedded.backends import ROLES_FILE, EmbeddedBackends
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import EmbeddedBackendError
from tests.commerce import Shop, user_on_shard
from tests.embedded_stack import gateway_on
from tests.helpers import eventually, query_sync

pytestmark = pytest.mark.integration

ROWS = 50


def _db(server: EmbeddedPostgres) -> str:
    return server.cluster_dsn("postgres") if server.replicas else server.dsn


def _in_recovery(server: EmbeddedPostgres) -> bool:
    return bool(query_sync(server.dsn, "SELECT pg_is_in_recovery() AS r")[0]["r"])


def _ids(dsn: str) -> list[int]:
    return [r["id"] for r in query_sync(dsn, "SELECT id FROM t ORDER BY id")]


def _until(check: Any, what: str, within_s: float = 30.0) -> None:
    give_up = time.monotonic() + within_s
    while not check():
        if time.monotonic() > give_up:
            pytest.fail(f"still not true after {within_s:g}s: {what}")
        time.sleep(0.1)


def _standbys(primary: EmbeddedPostgres) -> dict[str, str]:
    """application_name -> sync_state of the standbys streaming from `primary`."""
    rows = query_sync(primary.dsn, "SELECT application_name, sync_state FROM pg_stat_replication")
    return {r["application_name"]: r["sync_state"] for r in rows}


def _stack(root: Path) -> EmbeddedBackends:
    return EmbeddedBackends(root, ephemeral=False, shards=2, replicas=1, synchronous=True)


@pytest.fixture
def root() -> Iterator[Path]:
    # Not under pytest's tmp dir: PostgreSQL runs as its own user (see conftest).
    where = Path(tempfile.mkdtemp(prefix="datagw-failover-"))
    yield where / "data"
    shutil.rmtree(where, ignore_errors=True)


def test_a_failover_promotes_the_replica_keeps_every_row_and_survives_a_restart(
    root: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    stack = _stack(root)
    with stack:
        old = stack.shards[1]
        # Synchronous: the replica is a quorum standby, under its data dir's name.
        assert _standbys(old) == {"shard-1-replica-0": "quorum"}
        before = old.cluster_dsn("postgres")
        assert "target_session_attrs=read-write" in before
        query_sync(before, "CREATE TABLE t (id int PRIMARY KEY)")
        for i in range(1, ROWS + 1):
            # Each acknowledged commit is on the replica's disk too.
            query_sync(before, "INSERT INTO t VALUES ($1)", i)
        untouched = stack.shards[0]

        new = stack.failover(1)

        assert new.data_dir.name == "shard-1-replica-0"
        assert stack.shards[1] is new and stack.shards[0] is untouched
        assert not _in_recovery(new)
        assert _ids(new.dsn) == list(range(1, ROWS + 1))
        query_sync(new.dsn, "INSERT INTO t VALUES ($1)", ROWS + 1)
        # The old primary is a synchronous standby of the new one and replays it.
        [follower] = new.replicas
        assert follower.data_dir == old.data_dir and follower.port == old.port
        assert _in_recovery(follower)
        assert _standbys(new) == {"shard-1": "quorum"}
        _until(lambda: ROWS + 1 in _ids(follower.dsn), "the old primary replays the new one")
        # The DSN the gateway got before the failover finds the new primary.
        assert query_sync(before, "SELECT inet_server_port() AS p")[0]["p"] == new.port
        query_sync(before, "INSERT INTO t VALUES ($1)", ROWS + 2)
        assert json.loads((root / ROLES_FILE).read_text()) == {
            "primaries": {"1": "shard-1-replica-0"}}

    again = _stack(root)
    with again:
        primary, [standby] = again.shards[1], again.shards[1].replicas
        assert (primary.data_dir.name, standby.data_dir.name) == ("shard-1-replica-0", "shard-1")
        assert not _in_recovery(primary) and _in_recovery(standby)
        assert _ids(primary.dsn) == list(range(1, ROWS + 3))
        assert again.shards[0].data_dir.name == "shard-0"
        assert not _in_recovery(again.shards[0])
        # And back: the pair is complete, so it can fail over again.
        back = again.failover(1)
        assert back.data_dir.name == "shard-1"
        query_sync(back.dsn, "INSERT INTO t VALUES ($1)", ROWS + 3)
        assert _ids(back.dsn)[-1] == ROWS + 3
        _until(lambda: ROWS + 3 in _ids(back.replicas[0].dsn), "the pair streams again")
    # pg_rewind made each old primary a standby, no fresh copy was needed.
    assert "cloning it again" not in caplog.text


def test_a_failover_interrupted_after_its_record_is_finished_by_the_next_start(
    root: Path,
) -> None:
    with _stack(root) as stack:
        query_sync(_db(stack.shards[0]), "CREATE TABLE t (id int PRIMARY KEY)")
        query_sync(_db(stack.shards[0]), "INSERT INTO t VALUES (1)")
    # As a crash right after the record would leave it: neither promoted nor rewound.
    (root / ROLES_FILE).write_text(json.dumps({"primaries": {"0": "shard-0-replica-0"}}))
    with _stack(root) as stack:
        primary = stack.shards[0]
        assert primary.data_dir.name == "shard-0-replica-0" and not _in_recovery(primary)
        [standby] = primary.replicas
        assert standby.data_dir.name == "shard-0" and _in_recovery(standby)
        query_sync(primary.dsn, "INSERT INTO t VALUES (2)")
        assert _ids(primary.dsn) == [1, 2]


def test_an_old_primary_that_cannot_be_rewound_is_cloned_again_and_kept_aside(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with _stack(root) as stack:
        query_sync(_db(stack.shards[0]), "CREATE TABLE t (id int PRIMARY KEY)")
        query_sync(_db(stack.shards[0]), "INSERT INTO t VALUES (1)")
    (root / ROLES_FILE).write_text(json.dumps({"primaries": {"0": "shard-0-replica-0"}}))
    # pg_rewind cannot read a data dir without its control file.
    (root / "shard-0" / "global" / "pg_control").unlink()
    with _stack(root) as stack:
        [standby] = stack.shards[0].replicas
        assert standby.data_dir.name == "shard-0" and _in_recovery(standby)
        assert _ids(standby.dsn) == [1]
        assert "pg_rewind of" in caplog.text and "cloning it again" in caplog.text
    assert (root / "shard-0.rewind-failed" / "PG_VERSION").exists()


def test_the_other_replicas_follow_the_promoted_one(root: Path) -> None:
    with EmbeddedBackends(root, ephemeral=False, shards=1, replicas=2) as stack:
        query_sync(stack.shards[0].dsn, "CREATE TABLE t (id int PRIMARY KEY)")
        new = stack.failover(0)
        assert [r.data_dir.name for r in new.replicas] == ["shard-0", "shard-0-replica-1"]
        query_sync(new.dsn, "INSERT INTO t VALUES (1)")
        for replica in new.replicas:
            _until(lambda r=replica: _ids(r.dsn) == [1], f"{replica.data_dir.name} replays")

        def both_stream() -> bool:
            return set(_standbys(new)) == {"shard-0", "shard-0-replica-1"}

        _until(both_stream, "both standbys stream from the new primary")


def test_a_replica_that_does_not_stream_is_not_promoted(root: Path) -> None:
    with _stack(root) as stack:
        primary = stack.shards[0]
        query_sync(_db(primary), "CREATE TABLE t (id int PRIMARY KEY)")
        primary.replicas[0].stop()
        with pytest.raises(EmbeddedBackendError, match="does not stream from its primary"):
            stack.failover(0)
        # Nothing changed: the primary still takes writes, nothing is recorded.
        assert stack.shards[0] is primary and not _in_recovery(primary)
        assert not (root / ROLES_FILE).exists()


def test_the_failover_command_on_a_stopped_stack(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _stack(root):
        pass
    config = root.parent / "datagw.yaml"
    config.write_text("embedded:\n  shards: 2\n  replicas: 1\n  synchronous: true\n")
    assert main(["failover", "--config", str(config), "--data-dir", str(root),
                 "--shard", "0"]) == 0
    out = capsys.readouterr().out
    assert "commerce shard 0: shard-0-replica-0 is the primary, standby(s): shard-0" in out
    assert json.loads((root / ROLES_FILE).read_text()) == {
        "primaries": {"0": "shard-0-replica-0"}}
    # A shard that does not exist: refused, nothing changed.
    assert main(["failover", "--config", str(config), "--data-dir", str(root),
                 "--shard", "2"]) == 2
    assert "there is no shard 2" in capsys.readouterr().err


def test_the_failover_command_asks_the_owner_of_a_running_stack(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = root.parent / "datagw.yaml"
    config.write_text("embedded:\n  shards: 2\n  replicas: 1\n")
    args = ["failover", "--config", str(config), "--data-dir", str(root)]
    with _stack(root) as stack:
        old = stack.shards[1]
        # The stack's own supervisor thread takes the request and fails over.
        assert main([*args, "--shard", "1"]) == 0
        assert "commerce shard 1: shard-1-replica-0 is the primary, standby(s): shard-1" \
            in capsys.readouterr().out
        new = stack.shards[1]
        assert new.data_dir.name == "shard-1-replica-0" and not _in_recovery(new)
        assert [r.data_dir for r in new.replicas] == [old.data_dir]
        assert _in_recovery(new.replicas[0])
        # Its refusal comes back to the command.
        assert main([*args, "--shard", "2"]) == 2
        assert "there is no shard 2" in capsys.readouterr().err
        assert not list(root.glob("failover.*"))


async def test_a_gateway_on_the_multi_host_dsn_follows_the_failover(root: Path, uid: str) -> None:
    stack = _stack(root)
    await asyncio.to_thread(stack.start)
    try:
        async with gateway_on(stack, root.parent) as (gw, channel):
            shop = Shop.on(channel)
            before = user_on_shard(gw, f"{uid}-before", 1)
            await shop.user(before)
            await asyncio.to_thread(stack.failover, 1)

            async def written() -> bool:
                try:
                    await shop.user(user_on_shard(gw, f"{uid}-after", 1))
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
                    return False
                return True

            await eventually(written, "a write on shard 1 after the failover", within_s=30)
            got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=before))
            assert got.user.user_id == before
    finally:
        await asyncio.to_thread(stack.stop)
    # Written through the promoted server: it is the primary of the restarted stack.
    again = _stack(root)
    await asyncio.to_thread(again.start)
    try:
        primary = again.shards[1]
        assert primary.data_dir.name == "shard-1-replica-0"
        conn = await asyncpg.connect(primary.cluster_dsn("commerce"))
        try:
            users = await conn.fetch("SELECT user_id FROM users WHERE user_id LIKE $1",
                                     f"{uid}-%")
        finally:
            await conn.close()
        assert len(users) == 2
    finally:
        await asyncio.to_thread(again.stop)
