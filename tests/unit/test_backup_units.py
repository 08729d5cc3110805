"""The pure parts of embedded backups and restore: the restore's timestamp,
which base backup a restore starts from, which servers it selects, the
manifest, the archive command and the `backup:` config keys."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.runtime.config import ConfigError, load_config
from gateway.runtime.embedded.base_backups import BaseBackup, choose, on_history
from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.restore import parse_target, plan
from gateway.runtime.embedded.wal_archive import (
    archive_command,
    archived_names,
    history,
    is_wal_file,
    newest_timeline,
    restore_command,
)

T0 = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
BACKUP = BaseBackup(
    server="shard-1", path="/data/backups/base/shard-1/x", started_at=T0,
    ended_at=T0 + timedelta(seconds=5), start_lsn="0/2000028", end_lsn="0/2000100",
    start_wal_file="000000010000000000000002", timeline=1,
    system_identifier="7451234567890123456", size_bytes=1234, duration_s=5.0)


def _ended(minutes: int) -> BaseBackup:
    return replace(BACKUP, ended_at=T0 + timedelta(minutes=minutes), path=f"/b/{minutes}")


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-06T21:30:00Z", datetime(2026, 12, 6, 21, 30, tzinfo=UTC)),
    ("2026-12-06T22:30:00.25+01:00", datetime(2026, 12, 6, 21, 30, 0, 250000, tzinfo=UTC)),
    ("2026-12-06 21:30:00+00:00", datetime(2026, 12, 6, 21, 30, tzinfo=UTC)),
])
def test_a_target_is_rfc3339_read_as_utc(text: str, expected: datetime) -> None:
    parsed = parse_target(text)
    assert parsed == expected and parsed.tzinfo is UTC


@pytest.mark.parametrize(("text", "says"), [
    ("2026-12-06T21:30:00", "has no zone"),
    ("yesterday", "not an RFC 3339 timestamp"),
    ("2026-13-06T21:30:00Z", "not an RFC 3339 timestamp"),
])
def test_a_target_without_zone_or_not_a_time_is_refused(text: str, says: str) -> None:
    with pytest.raises(EmbeddedBackendError, match=says):
        parse_target(text)


def test_the_newest_backup_that_ended_before_the_target_is_chosen() -> None:
    backups = [_ended(0), _ended(60), _ended(120)]
    assert choose(backups, T0 + timedelta(minutes=90), "shard-1").path == "/b/60"
    assert choose(backups, T0 + timedelta(days=1), "shard-1").path == "/b/120"
    # Ended exactly at the target: not before it.
    assert choose(backups, T0 + timedelta(minutes=60), "shard-1").path == "/b/0"


def test_a_target_before_every_backup_names_the_oldest_point() -> None:
    with pytest.raises(EmbeddedBackendError, match="oldest point it can be restored to") as exc:
        choose([_ended(60), _ended(0)], T0, "shard-1")
    assert (T0).isoformat() in str(exc.value)
    with pytest.raises(EmbeddedBackendError, match="shard-1 has no base backup"):
        choose([], T0, "shard-1")


def test_a_backup_of_a_history_a_restore_left_behind_does_not_count(tmp_path: Path) -> None:
    archive, pg_wal = tmp_path / "archive", tmp_path / "pg_wal"
    archive.mkdir()
    pg_wal.mkdir()
    # Timeline 2 branched off 1 at 0/3000000 (a restore); 3 off 2 at 0/5000000,
    # its history file not archived yet (in the old pg_wal only).
    (archive / "00000002.history.gz").write_bytes(
        gzip.compress(b"1\t0/3000000\tbefore 2026-12-06\n"))
    (pg_wal / "00000003.history").write_text("1\t0/3000000\tx\n2\t0/5000000\ty\n")
    (archive / "000000010000000000000002.gz").write_text("")
    assert archived_names(archive) == {"00000002.history", "000000010000000000000002"}
    assert newest_timeline(archive) == 2 and newest_timeline(pg_wal) == 3
    timeline = 3
    ends = history([tmp_path / "missing", archive, pg_wal], timeline)
    assert ends == {1: 0x3000000, 2: 0x5000000}
    assert history([archive], 2) == {1: 0x3000000} and history([], 1) == {}
    with pytest.raises(EmbeddedBackendError, match=r"timeline 4 \(00000004\.history\) is in none"):
        history([archive, pg_wal], 4)
    before_branch = replace(BACKUP, end_lsn="0/2000100")
    after_branch = replace(BACKUP, end_lsn="0/4000000", path="/abandoned")
    on_two = replace(BACKUP, timeline=2, end_lsn="0/4000000", path="/two")
    on_three = replace(BACKUP, timeline=3, end_lsn="0/9000000", path="/three")
    assert on_history([before_branch, after_branch, on_two, on_three], timeline, ends) == [
        before_branch, on_two, on_three]
    assert newest_timeline(tmp_path / "none") == 1
    with pytest.raises(EmbeddedBackendError, match=r"1 base backup.* left behind do not count"):
        choose([], T0, "shard-1", abandoned=1)


def test_the_manifest_reads_back_what_was_written(tmp_path: Path) -> None:
    (tmp_path / "backup.json").write_text(BACKUP.to_json())
    assert BaseBackup.read(tmp_path) == replace(BACKUP, path=str(tmp_path))
    assert BaseBackup.read(tmp_path).pgdata == tmp_path / "pgdata"


def test_the_archive_command_quotes_its_directory_and_escapes_percent() -> None:
    command = archive_command(Path("/var/lib/a b/100%"))
    assert "'/var/lib/a b/100%%'/%f.gz" in command
    assert command.startswith("if test -f ") and "mv " in command and "cmp -s %p -" in command
    assert restore_command(Path("/x")) == "gzip -dc /x/%f.gz > %p"


@pytest.mark.parametrize(("name", "wal"), [
    ("000000010000000000000002", True), ("00000002.history", True),
    ("000000010000000000000005.partial", True),
    ("000000010000000000000002.00000028.backup", True),
    (".000000010000000000000002.tmp", False), ("archive_status", False), ("x.history", False),
])
def test_wal_file_names(name: str, wal: bool) -> None:
    assert is_wal_file(name) is wal


def _data_dir(tmp_path: Path, shards: int) -> Path:
    (tmp_path / "backups").mkdir()
    (tmp_path / "shards.txt").write_text(f"{shards}\n{shards}\n")
    return tmp_path


@pytest.mark.parametrize(("selector", "says"), [
    ({"shard": 2}, "there is no shard 2"),
    ({"keyspace": "commerce"}, "unknown keyspace 'commerce'"),
])
def test_a_restore_of_what_is_not_there_is_refused(tmp_path: Path, selector: dict[str, object],
                                                   says: str) -> None:
    with pytest.raises(EmbeddedBackendError, match=says):
        plan(_data_dir(tmp_path, 2), T0, **selector)  # type: ignore[arg-type]


def test_a_restore_to_the_future_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedBackendError, match="in the future"):
        plan(_data_dir(tmp_path, 2), datetime.now(UTC) + timedelta(hours=1))


def test_backup_keys_load(tmp_path: Path) -> None:
    path = tmp_path / "datagw.yaml"
    path.write_text("backup:\n  base_interval: 6h\n  keep: 7\n  archive_timeout: 30s\n")
    cfg = load_config(path, env={})
    assert (cfg.backup.base_interval_s, cfg.backup.keep, cfg.backup.archive_timeout_s) == (
        6 * 3600, 7, 30)
    defaults = load_config(None, env={}).backup
    assert (defaults.base_interval_s, defaults.keep, defaults.archive_timeout_s) == (
        86400, 3, 60)
    path.write_text("backup:\n  keep: 0\n  every: 1h\n")
    with pytest.raises(ConfigError, match=r"backup\.keep") as exc:
        load_config(path, env={})
    assert "every" in str(exc.value)
