"""Reading a PostgreSQL server's WAL archiver statistics (pg_stat_archiver):
the same on embedded servers, pgBackRest's or WAL-G's (docs/backup.md)."""

from __future__ import annotations

import asyncpg

from gateway.records.backup import ArchiveStatus
from gateway.storage.postgres.pool import CONNECTION_ERRORS, Shard

_ERRORS: tuple[type[BaseException], ...] = (asyncpg.PostgresError, *CONNECTION_ERRORS)
# The age by the server's own clock; never archived: since it started.
ARCHIVER_SQL = """
SELECT current_setting('archive_mode') <> 'off' AS archiving,
       archived_count, coalesce(last_archived_wal, '') AS last_archived_wal,
       last_archived_time,
       extract(epoch FROM now() - coalesce(last_archived_time, pg_postmaster_start_time()))
         ::float8 AS age_s,
       failed_count, coalesce(last_failed_wal, '') AS last_failed_wal, last_failed_time
  FROM pg_stat_archiver
"""


async def archive_status(shard: Shard) -> ArchiveStatus:
    try:
        async with shard.connection("archive_status") as conn:
            row = await conn.fetchrow(ARCHIVER_SQL)
    except _ERRORS as exc:
        # A status is what is asked for while things are wrong: why, not a crash.
        raise shard.unavailable(cause=f"pg_stat_archiver: {exc}") from exc
    assert row is not None  # pg_stat_archiver has exactly one row
    return ArchiveStatus(
        archiving=row["archiving"], archived_count=row["archived_count"],
        last_archived_wal=row["last_archived_wal"], last_archived_at=row["last_archived_time"],
        age_s=row["age_s"], failed_count=row["failed_count"],
        last_failed_wal=row["last_failed_wal"], last_failed_at=row["last_failed_time"])
