"""WAL archiving, base backups and point-in-time restore in embedded mode, on
a dedicated stack of 2 shards with a kept data dir (a restore replaces data
dirs, and needs the servers stopped)."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.runtime.cli import main
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.runtime.embedded.backup import BackupSettings
from gateway.runtime.embedded.base_backups import listed
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.wal_archive import archive_dir, archived_names

pytestmark = pytest.mark.integration


def _rows(server: EmbeddedPostgres) -> list[str]:
    out = server.sql("SELECT tag FROM t ORDER BY id")
    return out.splitlines() if out else []


def _write(server: EmbeddedPostgres, tag: str) -> None:
    server.sql(f"INSERT INTO t (tag) VALUES ('{tag}')")


def _dirs(data: Path) -> list[str]:
    return sorted(p.name for p in data.iterdir())


def _archived(stack: EmbeddedBackends, segment: str) -> None:
    give_up = time.monotonic() + 30
    while segment not in archived_names(archive_dir(stack.data_dir, "shard-0")):
        assert time.monotonic() < give_up, f"{segment} was never archived"
        time.sleep(0.1)


def test_archive_status_shows_a_switched_segment(tmp_path: Path) -> None:
    # Supervised, the scheduler closes a segment with a write in it every
    # archive_timeout (here no base backups on its own).
    settings = BackupSettings(base_interval_s=0, archive_timeout_s=1)
    with EmbeddedBackends(tmp_path / "data", ephemeral=False, shards=1,
                          backup=settings) as stack:
        shard = stack.shards[0]
        assert shard.sql("SHOW archive_timeout") == "1s"
        segment = shard.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        shard.sql("CREATE TABLE t (id int)")
        _archived(stack, segment)
        segment = shard.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        shard.sql("INSERT INTO t VALUES (1); SELECT pg_switch_wal()")
        _archived(stack, segment)
        count, last, failed = shard.sql(
            "SELECT archived_count, last_archived_wal, failed_count FROM pg_stat_archiver"
        ).split("|")
        assert int(count) >= 2 and last >= segment and failed == "0"


def test_restore_one_shard_to_a_point_in_time(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    stack = EmbeddedBackends(data, ephemeral=False, shards=2, replicas=1, supervise=False)
    stack.start()
    try:
        for shard in stack.shards:
            shard.sql("CREATE TABLE t (id serial PRIMARY KEY, tag text)")
        report = stack.back_up()
        assert {b.server for b in report.base} == {"postgres", "shard-0", "shard-1"}
        assert report.valkey is not None and report.valkey.stat().st_size > 0
        for shard in stack.shards:
            _write(shard, "A")
        # The target by the server's own clock: after A's commit, before B's.
        target = stack.shards[1].sql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                                     "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        time.sleep(0.01)
        for shard in stack.shards:
            _write(shard, "B")
        # While the servers run, a restore is refused.
        assert main(["restore", "--to", target, "--shard", "1", "--data-dir", str(data)]) == 2
        assert "stop the gateway first" in capsys.readouterr().err
    finally:
        stack.stop()

    before = _dirs(data)
    oldest = listed(data, "shard-1")[0].ended_at
    assert main(["restore", "--to", "2000-01-01T00:00:00Z", "--shard", "1",
                 "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert "oldest point it can be restored to" in err and oldest.isoformat() in err
    assert main(["restore", "--to", "2026-01-01T00:00:00", "--data-dir", str(data)]) == 2
    assert "has no zone" in capsys.readouterr().err
    assert _dirs(data) == before

    assert main(["restore", "--to", target, "--shard", "1", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "shard-1 (shard-1): from base backup" in out
    assert "recovery stopping before commit" in out
    aside = [d for d in _dirs(data) if ".before-restore-" in d]
    assert sorted(d.split(".")[0] for d in aside) == ["shard-1", "shard-1-replica-0"]
    assert all((data / d / "PG_VERSION").is_file() for d in aside)
    assert not (data / "shard-1-replica-0").exists()

    with EmbeddedBackends(data, ephemeral=False, shards=2, replicas=1,
                          supervise=False) as again:
        assert _rows(again.shards[1]) == ["A"]
        assert _rows(again.shards[0]) == ["A", "B"]
        # A new timeline: what the gateway notices.
        assert again.shards[1].sql("SELECT timeline_id FROM pg_control_checkpoint()") != "1"
        assert again.shards[1].sql("SELECT pg_is_in_recovery()") == "f"
        # The replica was cloned afresh from the restored primary.
        (replica,) = again.shards[1].replicas
        assert replica.is_replica and _rows(replica) == ["A"]

    # Everything to now: no transaction committed since, so each server
    # recovers to the end of its WAL (the restored shard along its new timeline).
    now = datetime.now(UTC).isoformat()
    assert main(["restore", "--to", now, "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "restoring postgres, shard-0, shard-1" in out
    assert out.count("no transaction committed after the target") == 3
    with EmbeddedBackends(data, ephemeral=False, shards=2, supervise=False) as last:
        assert _rows(last.shards[1]) == ["A"]
        assert _rows(last.shards[0]) == ["A", "B"]

    # A data dir lost with its disk: the archive has what it had archived
    # (the stop above archived its last segments).
    shutil.rmtree(data / "shard-0")
    assert main(["restore", "--to", datetime.now(UTC).isoformat(), "--shard", "0",
                 "--data-dir", str(data)]) == 0
    assert "there was no data dir" in capsys.readouterr().out
    with EmbeddedBackends(data, ephemeral=False, shards=2, supervise=False) as lost:
        assert _rows(lost.shards[0]) == ["A", "B"]


def _newest(data: Path) -> dict[str, str]:
    return {name: listed(data, name)[-1].path for name in ("postgres", "shard-0")
            if listed(data, name)}


def test_backups_on_schedule_on_request_and_offline(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    settings = BackupSettings(base_interval_s=3600.0, keep=1)
    with EmbeddedBackends(data, ephemeral=False, shards=1, backup=settings):
        # None yet: the schedule takes one at start.
        give_up = time.monotonic() + 60
        while len(_newest(data)) < 2:
            assert time.monotonic() < give_up, "no scheduled base backup"
            time.sleep(0.2)
        first = _newest(data)
        # The running owner takes `datagw backup`'s request; keep=1 prunes the first.
        assert main(["backup", "--data-dir", str(data)]) == 0
        out = capsys.readouterr().out
        assert "asking the running datagw" in out and "removed (retention)" in out
        second = _newest(data)
        assert set(second.values()).isdisjoint(first.values())
        assert all(len(listed(data, name)) == 1 for name in second)
        # The WAL before the one base backup kept went with the first one.
        kept = listed(data, "shard-0")[0]
        segments = [n for n in archived_names(archive_dir(data, "shard-0")) if len(n) == 24]
        assert segments and min(s[8:] for s in segments) >= kept.start_wal_file[8:]
    # Nothing runs: the command starts the servers, backs up, stops them.
    assert main(["backup", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "valkey: RDB snapshot" in out and "analytics (chdb): copied to" in out
    assert set(_newest(data).values()).isdisjoint(second.values())


def test_a_gap_in_the_archive_is_refused_not_restored_around(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with EmbeddedBackends(data, ephemeral=False, shards=1, supervise=False) as stack:
        shard = stack.shards[0]
        shard.sql("CREATE TABLE t (id serial PRIMARY KEY, tag text)")
        stack.back_up()
        _write(shard, "A")
        gap = shard.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        shard.sql("SELECT pg_switch_wal()")
        _write(shard, "B")
        shard.sql("SELECT pg_switch_wal()")
        _archived(stack, gap)
    # The segment with A is gone from the archive and from pg_wal: the WAL
    # replayed would end there, before B, without noticing.
    (archive_dir(data, "shard-0") / f"{gap}.gz").unlink()
    (data / "shard-0" / "pg_wal" / gap).unlink(missing_ok=True)
    before = _dirs(data)
    assert main(["restore", "--to", datetime.now(UTC).isoformat(), "--shard", "0",
                 "--data-dir", str(data)]) == 2
    assert "missing from the archive" in capsys.readouterr().err
    assert _dirs(data) == before
