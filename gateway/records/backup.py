"""What the gateway knows of each PostgreSQL primary's backups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ArchiveStatus:
    """A server's WAL archiver, from pg_stat_archiver (any PostgreSQL)."""

    archiving: bool
    """archive_mode is on (or always)."""
    archived_count: int
    last_archived_wal: str
    last_archived_at: datetime | None
    age_s: float
    """Since the last segment was archived (since the server started when
    none was): what a loss of the server now would lose at most, its RPO."""
    failed_count: int
    last_failed_wal: str
    last_failed_at: datetime | None


@dataclass(frozen=True)
class BaseBackupInfo:
    """The newest base backup of a server (embedded mode keeps them)."""

    ended_at: datetime
    size_bytes: int


@dataclass(frozen=True)
class BackupStatus:
    archive: ArchiveStatus | None
    """None when the server could not be asked (`error` says why)."""
    error: str
    newest_base_backup: BaseBackupInfo | None
