"""Backing up every embedded server at once (``back_up``), and doing so on a
schedule or on request in a running gateway (``BackupScheduler``).

What a backup holds (docs/backup.md): a base backup of each PostgreSQL
server (base_backups.py; with the WAL archive, a restore reaches any time
after it), an RDB snapshot of Valkey, and, only when no gateway holds it
open, a copy of the chdb directory.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.runtime.embedded import base_backups
from gateway.runtime.embedded.base_backups import BaseBackup
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.runtime.embedded.requests import answer, take
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.runtime.embedded.wal_archive import ARCHIVE_TIMEOUT_S, backups_root, utc_stamp
from gateway.telemetry import BACKUP_LAST_BASE_BACKUP

__all__ = ["BackupReport", "BackupScheduler", "BackupSettings", "back_up", "newest_base_backup"]

log = logging.getLogger(__name__)

# How often the scheduler looks for a request or a backup that is due.
_ROUND_S = 1.0


@dataclass(frozen=True)
class BackupSettings:
    """The ``backup:`` config keys (docs/configuration.md)."""

    base_interval_s: float = 24 * 3600.0
    """A running embedded gateway takes base backups this often (0: never on its own)."""
    keep: int = 3
    """Base backups kept per server; archived WAL older than the oldest goes too."""
    archive_timeout_s: int = ARCHIVE_TIMEOUT_S


@dataclass(frozen=True)
class BackupReport:
    base: list[BaseBackup]
    removed: list[BaseBackup]
    valkey: Path | None
    analytics: str
    seconds: float

    def lines(self) -> list[str]:
        out = [f"{b.server}: base backup {b.path} ({b.size_bytes / 2**20:.1f} MiB, "
               f"{b.duration_s:.1f}s; restores reach any time after {b.ended_at.isoformat()})"
               for b in self.base]
        out += [f"{b.server}: base backup {b.path} removed (retention)" for b in self.removed]
        out.append(f"valkey: RDB snapshot {self.valkey}" if self.valkey else
                   "valkey: not running, no snapshot")
        out.append(f"analytics (chdb): {self.analytics}")
        out.append(f"took {self.seconds:.1f}s")
        return out


def _valkey_snapshot(valkey: EmbeddedValkey, data_dir: Path, keep: int) -> Path:
    target_dir = backups_root(data_dir) / "valkey"
    target_dir.mkdir(parents=True, exist_ok=True)
    target_dir.chmod(0o700)  # the data itself, like the server's own dir
    target = target_dir / f"dump-{utc_stamp(datetime.now(UTC))}.rdb"
    shutil.copy2(valkey.snapshot(), target)
    _keep_newest(target_dir.glob("dump-*.rdb"), keep)
    return target


def _keep_newest(found: Iterable[Path], keep: int) -> None:
    """Delete all but the newest `keep` of `found` (named by UTC stamp)."""
    for old in sorted(found)[:-keep]:
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()


def _analytics_copy(clickhouse: Path | None, data_dir: Path, keep: int) -> str:
    if clickhouse is None:
        return ("not copied: the running engine process holds the chdb directory (chdb cannot "
                "BACKUP without a server config); docs/backup.md says what a restore does")
    if not clickhouse.is_dir():
        return "no chdb directory yet"
    target = backups_root(data_dir) / "analytics" / utc_stamp(datetime.now(UTC))
    shutil.copytree(clickhouse, target)
    _keep_newest(target.parent.iterdir(), keep)
    return f"copied to {target}"


def back_up(data_dir: Path, servers: list[tuple[str, EmbeddedPostgres]],
            valkey: EmbeddedValkey | None, *, keep: int,
            clickhouse: Path | None = None) -> BackupReport:
    """A base backup of each running `servers` (archive name, primary), a
    Valkey snapshot, the chdb dir when `clickhouse` is given (nothing has it
    open), then all but the newest `keep` backups of each removed."""
    began = time.monotonic()
    base = [base_backups.take(server, data_dir, name) for name, server in servers]
    removed = [b for name, _ in servers for b in base_backups.prune(data_dir, name, keep)]
    snapshot = _valkey_snapshot(valkey, data_dir, keep) if valkey is not None else None
    analytics = _analytics_copy(clickhouse, data_dir, keep)
    return BackupReport(base, removed, snapshot, analytics, time.monotonic() - began)


def newest_base_backup(data_dir: Path, server: str) -> BaseBackup | None:
    backups = base_backups.listed(data_dir, server)
    return backups[-1] if backups else None


class BackupScheduler:
    """A thread that backs up every `base_interval_s` (counted from the
    oldest of each server's newest base backup, so a restarted gateway does
    not back up again at once, and a data dir with none gets one at start)
    and whenever `datagw backup` asks (requests.py); and that closes each
    server's WAL segment every `archive_timeout_s` (`switch_wal`), for it to
    be archived: the servers' own archive_timeout was seen not to (PostgreSQL
    18 here, with writes going on)."""

    def __init__(self, data_dir: Path, settings: BackupSettings,
                 run: Callable[[], BackupReport], servers: Callable[[], list[str]],
                 switch_wal: Callable[[], None]) -> None:
        self._data_dir = data_dir
        self._settings = settings
        self._run = run
        self._servers = servers
        self._switch_wal = switch_wal
        self._switched_at = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # After a failed scheduled backup: not again at once (a full disk
        # would be hit every round), requests still are taken.
        self._not_before = 0.0
        # When the next scheduled backup is due (monotonic), for the servers
        # it was worked out for: read from the backups' manifests once, not
        # every round; None after each backup (there are new manifests).
        self._due_at: tuple[tuple[str, ...], float] | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="embedded-backups",
                                            daemon=True)
            self._thread.start()

    def stop_soon(self) -> None:
        """No more backups; one under way fails once its servers stop."""
        self._stop.set()

    def stop(self) -> None:
        """Stop, and wait for the thread (for a backup under way to end)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()

    def due(self) -> bool:
        now = time.monotonic()
        if self._settings.base_interval_s <= 0 or now < self._not_before:
            return False
        servers = tuple(self._servers())
        if self._due_at is None or self._due_at[0] != servers:
            newest = [newest_base_backup(self._data_dir, name) for name in servers]
            if not newest or any(b is None for b in newest):
                return True
            oldest = min(b.ended_at for b in newest if b is not None)
            age = (datetime.now(UTC) - oldest).total_seconds()
            self._due_at = (servers, now + self._settings.base_interval_s - age)
        return now >= self._due_at[1]

    def export(self) -> None:
        """Each server's newest base backup as the metric says it."""
        for name in self._servers():
            newest = newest_base_backup(self._data_dir, name)
            if newest is not None:
                BACKUP_LAST_BASE_BACKUP.labels(name).set(newest.ended_at.timestamp())

    def _loop(self) -> None:
        self.export()
        while not self._stop.wait(_ROUND_S):
            if time.monotonic() - self._switched_at >= self._settings.archive_timeout_s:
                self._switched_at = time.monotonic()
                self._switch_wal()
            request = take(self._data_dir, "backup")
            if request is None and not self.due():
                continue
            self._due_at = None
            try:
                report = self._run()
            except (EmbeddedBackendError, OSError) as exc:
                if self._stop.is_set():
                    exc = EmbeddedBackendError(f"cut short: the servers stopped ({exc})")
                log.error("backup failed: %s", exc)
                if request is not None:
                    answer(self._data_dir, request, ok=False, message=str(exc))
                else:
                    self._not_before = time.monotonic() + min(self._settings.base_interval_s,
                                                              600.0)
                continue
            self.export()
            for line in report.lines():
                log.info("backup: %s", line)
            if request is not None:
                answer(self._data_dir, request, ok=True, message="\n".join(report.lines()))
