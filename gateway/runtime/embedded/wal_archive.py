"""Where embedded PostgreSQL servers archive their WAL, and the commands that
put segments there and fetch them back.

Each server archives into ``<data>/backups/wal/<server>/``, `<server>` being
the name of what it serves, not of its data dir: ``postgres`` for the main
server, ``shard-<i>`` for whichever data dir is shard i's primary now (a
promoted replica goes on archiving where its old primary did, on its new
timeline, whose segment names differ). Standbys run with archive_mode=on,
which archives nothing until they are promoted.
"""

from __future__ import annotations

import gzip
import re
import shlex
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from gateway.runtime.embedded.process import EmbeddedBackendError
from gateway.storage.postgres.timelines import parse_history

__all__ = [
    "ARCHIVE_TIMEOUT_S",
    "COMPRESSED",
    "archive_command",
    "archive_dir",
    "archived_names",
    "backups_root",
    "history",
    "is_wal_file",
    "newest_timeline",
    "restore_command",
    "server_name",
    "utc_stamp",
]

ARCHIVE_TIMEOUT_S = 60
"""Default archive_timeout: a written segment is closed and archived at
least this often (by the running gateway, backup.py), so the RPO stays
bounded."""

# A segment (timeline, log, seg), a timeline history file, a segment the
# previous timeline left half-written at a promotion, or a backup history file.
_WAL_FILE = re.compile(r"^[0-9A-F]{24}(\.partial|\.[0-9A-F]{8}\.backup)?$|^[0-9A-F]{8}\.history$")


COMPRESSED = ".gz"
"""What an archived WAL file's name has beyond its name in pg_wal."""


def utc_stamp(moment: datetime) -> str:
    """A backup's name: its UTC time, to the microsecond (two never share
    one; names sort as times do)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def backups_root(data_dir: Path) -> Path:
    return data_dir / "backups"


def server_name(shard: int | None) -> str:
    """The archive's and base backups' name for the main server (None) or a shard."""
    return "postgres" if shard is None else f"shard-{shard}"


def archive_dir(data_dir: Path, server: str) -> Path:
    return backups_root(data_dir) / "wal" / server


def is_wal_file(name: str) -> bool:
    return _WAL_FILE.match(name) is not None


def archived_names(directory: Path) -> set[str]:
    """The WAL files archived in `directory`, by their names in pg_wal (none
    when it does not exist)."""
    if not directory.is_dir():
        return set()
    names = (p.name.removesuffix(COMPRESSED) for p in directory.iterdir())
    return {name for name in names if is_wal_file(name)}


def newest_timeline(directory: Path) -> int:
    """The newest timeline with a history file in `directory` (1: none)."""
    names = [name for name in archived_names(directory) if name.endswith(".history")]
    return max((int(name[:8], 16) for name in names), default=1)


def history(directories: Iterable[Path], timeline: int) -> dict[int, int]:
    """Where each ancestor of `timeline` ended, from its history file in the
    first of `directories` that has it (timeline 1 has none)."""
    if timeline == 1:
        return {}
    name = f"{timeline:08X}.history"
    for directory in directories:
        if (directory / name).is_file():  # in a pg_wal
            return parse_history((directory / name).read_text())
        if (directory / f"{name}{COMPRESSED}").is_file():  # in the archive
            return parse_history(gzip.decompress(
                (directory / f"{name}{COMPRESSED}").read_bytes()).decode())
    raise EmbeddedBackendError(
        f"the history file of timeline {timeline} ({name}) is in none of "
        f"{', '.join(str(d) for d in directories)}: which WAL is this server's cannot be told")


def _quoted(directory: Path) -> str:
    # % is archive_command's escape character: a literal one is doubled.
    return shlex.quote(str(directory)).replace("%", "%%")


def archive_command(directory: Path) -> str:
    """Compress segment %p into `directory` as %f.gz (gzip -1: a segment closed
    early by archive_timeout is mostly zeros, 16 MiB to about 72 KiB), via a hidden temporary name
    and a rename (a half-written segment must never look archived), synced.
    A segment already there with the same bytes counts as archived (a retry
    after a crash between the copy and PostgreSQL's note of it); different
    bytes fail, so the server keeps the segment and retries, never
    overwrites."""
    d, gz = _quoted(directory), COMPRESSED
    return (f"if test -f {d}/%f{gz}; then gzip -dc {d}/%f{gz} | cmp -s %p -; "
            f"else gzip -1 -c %p > {d}/.%f.tmp && sync {d}/.%f.tmp "
            f"&& mv {d}/.%f.tmp {d}/%f{gz}; fi")


def restore_command(directory: Path) -> str:
    # A missing file fails gzip, which tells PostgreSQL there is no such segment.
    return f"gzip -dc {_quoted(directory)}/%f{COMPRESSED} > %p"
