"""Base backups of embedded PostgreSQL servers: taking one (``take``),
listing them (``listed``), choosing the one a restore starts from
(``choose``) and keeping the newest few (``prune``).

A base backup is ``pg_basebackup --format=plain --wal-method=stream`` into
``<data>/backups/base/<server>/<UTC stamp>/pgdata``: a data directory that a
restore copies in as it is (no archive to unpack, the same tool a replica
is cloned with), consistent on its own (the WAL it needs is inside), with
PostgreSQL's own backup_manifest (``pg_verifybackup`` checks it). Beside it,
``backup.json`` (``BaseBackup``) says when it started and ended, where in
the WAL, on which timeline, of which cluster, how big.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.runtime.embedded.postgres import SUPERUSER, EmbeddedPostgres, pg_binary
from gateway.runtime.embedded.process import LOCALHOST, EmbeddedBackendError, run
from gateway.runtime.embedded.wal_archive import (
    COMPRESSED,
    archive_dir,
    backups_root,
    utc_stamp,
)
from gateway.storage.postgres.pool import parse_lsn

__all__ = ["MANIFEST", "BaseBackup", "base_dir", "choose", "listed", "on_history", "prune",
           "take"]

log = logging.getLogger(__name__)

MANIFEST = "backup.json"
_LABEL_START = re.compile(r"^START WAL LOCATION: (?P<lsn>\S+) \(file (?P<file>[0-9A-F]{24})\)$",
                          re.MULTILINE)
_LABEL_TIMELINE = re.compile(r"^START TIMELINE: (\d+)$", re.MULTILINE)


@dataclass(frozen=True)
class BaseBackup:
    """One base backup, as its backup.json says."""

    server: str
    path: str
    """The backup's directory (``pgdata`` and backup.json inside)."""
    started_at: datetime
    ended_at: datetime
    """When pg_basebackup returned: the backup is consistent from before then,
    so a restore may target any time after it."""
    start_lsn: str
    end_lsn: str
    start_wal_file: str
    """The first WAL segment a restore from it needs: older ones may go."""
    timeline: int
    system_identifier: str
    size_bytes: int
    duration_s: float

    @property
    def pgdata(self) -> Path:
        return Path(self.path) / "pgdata"

    def to_json(self) -> str:
        raw = asdict(self)
        raw["started_at"] = self.started_at.isoformat()
        raw["ended_at"] = self.ended_at.isoformat()
        del raw["path"]
        return json.dumps(raw, indent=2) + "\n"

    @classmethod
    def read(cls, directory: Path) -> BaseBackup:
        raw = json.loads((directory / MANIFEST).read_text())
        return cls(
            server=str(raw["server"]), path=str(directory),
            started_at=datetime.fromisoformat(raw["started_at"]),
            ended_at=datetime.fromisoformat(raw["ended_at"]),
            start_lsn=str(raw["start_lsn"]), end_lsn=str(raw["end_lsn"]),
            start_wal_file=str(raw["start_wal_file"]), timeline=int(raw["timeline"]),
            system_identifier=str(raw["system_identifier"]),
            size_bytes=int(raw["size_bytes"]), duration_s=float(raw["duration_s"]))


def base_dir(data_dir: Path, server: str) -> Path:
    return backups_root(data_dir) / "base" / server


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def take(server: EmbeddedPostgres, data_dir: Path, name: str) -> BaseBackup:
    """A base backup of the running `server` under `data_dir`'s backups, as `name`."""
    began, started_at = time.monotonic(), datetime.now(UTC)
    target = base_dir(data_dir, name) / utc_stamp(started_at)
    pgdata = target / "pgdata"
    # The server's user writes the copy (it owns the data it copies).
    server.prepare_owned_dir(base_dir(data_dir, name))
    target.mkdir()
    server.prepare_owned_dir(target)
    try:
        system_identifier = server.sql("SELECT system_identifier FROM pg_control_system()")
        run([pg_binary("pg_basebackup"), "-D", pgdata, "--format=plain", "--wal-method=stream",
             "--checkpoint=fast", "--no-password",
             "-d", f"postgresql://{SUPERUSER}@{LOCALHOST}:{server.port}/postgres"],
            what=f"pg_basebackup of {name}", timeout=3600, run_as=server.run_as,
            env={"PGPASSWORD": server.password})
        ended_at = datetime.now(UTC)
        label = (pgdata / "backup_label").read_text()
        wal_ranges = json.loads((pgdata / "backup_manifest").read_text())["WAL-Ranges"]
        start, timeline = _LABEL_START.search(label), _LABEL_TIMELINE.search(label)
        if start is None or timeline is None or not wal_ranges:
            raise EmbeddedBackendError(f"pg_basebackup of {name} left no readable backup_label "
                                       f"or WAL range in {pgdata}")
        backup = BaseBackup(
            server=name, path=str(target), started_at=started_at, ended_at=ended_at,
            start_lsn=start["lsn"], end_lsn=str(wal_ranges[-1]["End-LSN"]),
            start_wal_file=start["file"], timeline=int(timeline[1]),
            system_identifier=system_identifier, size_bytes=_tree_size(pgdata),
            duration_s=round(time.monotonic() - began, 3))
        # Written last: a directory without it is an unfinished backup, never listed.
        (target / MANIFEST).write_text(backup.to_json())
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    log.info("base backup of %s: %s (%d bytes, %.1fs)", name, target, backup.size_bytes,
             backup.duration_s)
    return backup


def listed(data_dir: Path, server: str) -> list[BaseBackup]:
    """The finished base backups of `server`, oldest first."""
    root = base_dir(data_dir, server)
    if not root.is_dir():
        return []
    found = [BaseBackup.read(d) for d in root.iterdir() if (d / MANIFEST).is_file()]
    return sorted(found, key=lambda b: b.ended_at)


def on_history(backups: list[BaseBackup], timeline: int,
               ends: dict[int, int]) -> list[BaseBackup]:
    """The backups a recovery along `timeline` (whose ancestors ended at
    `ends`) can start from: taken on it, or on an ancestor and consistent
    before that one ended. A backup of a history an earlier restore left
    behind is not: its WAL leads elsewhere."""
    return [b for b in backups if b.timeline == timeline
            or (b.timeline in ends and parse_lsn(b.end_lsn) <= ends[b.timeline])]


def choose(backups: list[BaseBackup], target: datetime, server: str,
           abandoned: int = 0) -> BaseBackup:
    """The newest of `backups` that ended before `target`; else an error that
    says the oldest point a restore can reach. `abandoned`: how many base
    backups were left out as not on the server's history (on_history)."""
    usable = [b for b in backups if b.ended_at < target]
    if usable:
        return max(usable, key=lambda b: b.ended_at)
    left_out = (f" ({abandoned} base backup(s) of a history an earlier restore left behind "
                "do not count)" if abandoned else "")
    if not backups:
        raise EmbeddedBackendError(f"{server} has no base backup to restore from "
                                   f"(take one with datagw backup){left_out}")
    oldest = min(b.ended_at for b in backups)
    raise EmbeddedBackendError(
        f"{server} cannot be restored to {target.isoformat()}: its oldest base backup ended at "
        f"{oldest.isoformat()}, the oldest point it can be restored to{left_out}")


def prune(data_dir: Path, server: str, keep: int) -> list[BaseBackup]:
    """Delete all but the newest `keep` base backups of `server`, and the
    archived WAL older than the oldest one kept; what was deleted."""
    backups = listed(data_dir, server)
    gone = backups[:-keep] if keep > 0 else []
    for backup in gone:
        shutil.rmtree(backup.path)
        log.info("base backup %s of %s removed (keeping %d)", backup.path, server, keep)
    kept = backups[len(gone):]
    archive = archive_dir(data_dir, server)
    if kept and archive.is_dir():
        # pg_archivecleanup compares segment numbers across timelines and
        # leaves timeline history files; -b also removes .backup files.
        run([pg_binary("pg_archivecleanup"), "-b", "-x", COMPRESSED, archive,
             kept[0].start_wal_file],
            what=f"pg_archivecleanup of {server}", timeout=120, run_as=None)
    return gone
