"""The backup status of every PostgreSQL primary: its WAL archiver (the RPO)
and, in embedded mode, its newest base backup. ``BackupMonitor`` reads it
for AdminService.GetTopology and keeps the backup metrics current."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from gateway.errors import DatagwError
from gateway.records.backup import ArchiveStatus, BackupStatus, BaseBackupInfo
from gateway.storage.postgres.archiver import archive_status
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.tasks import stop_tasks
from gateway.telemetry import BACKUP_WAL_ARCHIVE_AGE, BACKUP_WAL_ARCHIVE_FAILURES

__all__ = ["BackupMonitor", "NewestBaseBackup"]

log = logging.getLogger(__name__)

# How often the metrics are refreshed: well inside archive_timeout (60 s).
REFRESH_S = 15.0

NewestBaseBackup = Callable[[str, int], BaseBackupInfo | None]
"""The newest base backup of a keyspace's shard, where the gateway keeps them."""


class BackupMonitor:
    def __init__(self, keyspaces: list[Keyspace],
                 newest_base_backup: NewestBaseBackup | None = None) -> None:
        self._keyspaces = keyspaces
        self._newest = newest_base_backup
        # The server's failed_count last seen, per (keyspace, shard): the
        # failures metric counts what it grew by.
        self._failed: dict[tuple[str, int], int] = {}
        self._task: asyncio.Task[None] | None = None

    async def statuses(self) -> dict[tuple[str, int], BackupStatus]:
        """Per (keyspace, shard index) of each primary; metrics updated."""
        pairs = [(ks.name, shard) for ks in self._keyspaces for shard in ks.shards]
        found = await asyncio.gather(*(self._status(name, shard) for name, shard in pairs))
        return {(name, shard.index): status for (name, shard), status in zip(pairs, found,
                                                                                strict=True)}

    async def _status(self, keyspace: str, shard: Shard) -> BackupStatus:
        newest = self._newest(keyspace, shard.index) if self._newest is not None else None
        try:
            archive = await archive_status(shard)
        except DatagwError as exc:
            return BackupStatus(None, exc.message, newest)
        self._export(keyspace, shard.index, archive)
        return BackupStatus(archive, "", newest)

    def _export(self, keyspace: str, index: int, archive: ArchiveStatus) -> None:
        labels = (keyspace, str(index))
        if archive.archiving:
            BACKUP_WAL_ARCHIVE_AGE.labels(*labels).set(archive.age_s)
        seen, now = self._failed.get((keyspace, index)), archive.failed_count
        # A restarted server counts from 0 again: then all its failures are new.
        grew = 0 if seen is None else now - seen if now >= seen else now
        # inc(0) too: the series exists from the first look on.
        BACKUP_WAL_ARCHIVE_FAILURES.labels(*labels).inc(grew)
        self._failed[(keyspace, index)] = archive.failed_count

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="backup-monitor")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="backup monitor")

    async def _loop(self) -> None:
        while True:
            try:
                await self.statuses()
            except Exception:
                log.exception("reading the WAL archivers' status failed")
            await asyncio.sleep(REFRESH_S)
