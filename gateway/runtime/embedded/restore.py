"""Point-in-time restore of stopped embedded PostgreSQL servers (`datagw
restore`): ``plan`` checks everything and chooses a base backup per server
without changing anything; ``restore`` carries the plan out.

Per server: its data dir is moved aside (``<name>.before-restore-<stamp>``,
never deleted), the base backup copied in, the WAL segments of the old
pg_wal the archive lacks copied into the new one (the last, unarchived WAL:
without it a recent target is out of reach), and PostgreSQL replays the
archive up to the target (``recovery_target_time``), promotes (a new
timeline: what the gateway notices), is checkpointed and stopped. The
shard's replicas are moved aside too: the next start clones them afresh.
A failure puts every data dir back as it was.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from gateway.runtime.embedded import base_backups
from gateway.runtime.embedded.backends import running_servers, shard_count, shard_primaries
from gateway.runtime.embedded.base_backups import BaseBackup
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import EmbeddedBackendError, file_size, log_tail
from gateway.runtime.embedded.secrets import EmbeddedSecrets
from gateway.runtime.embedded.wal_archive import (
    archive_dir,
    archived_names,
    backups_root,
    history,
    is_wal_file,
    newest_timeline,
    restore_command,
    server_name,
)
from gateway.storage.postgres.pool import parse_lsn

__all__ = ["ServerRestore", "parse_target", "plan", "restore"]

log = logging.getLogger(__name__)

MAIN_KEYSPACES = ("catalog", "inventory")
"""The keyspaces of the main server (a restore of one is a restore of both)."""
# Replaying a day of WAL takes a while: start and stop may take this long.
_RECOVERY_TIMEOUT_S = 3600.0
_EXIT_WAIT_S = 10.0
"""How long a server whose query failed may take to exit before the failure
is taken for the cause."""
_RECOVERY_SETTINGS = ("restore_command", "recovery_target_time", "recovery_target_action",
                      "recovery_target_timeline")
_STOPPED_AT = re.compile(r"recovery stopping (?:before|after) .*", re.MULTILINE)
_NOT_REACHED = "recovery ended before configured recovery target was reached"


def parse_target(text: str) -> datetime:
    """An RFC 3339 timestamp with its zone (Z or ±hh:mm), in UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise EmbeddedBackendError(
            f"{text!r} is not an RFC 3339 timestamp (e.g. 2026-12-06T21:30:00Z)") from None
    if parsed.tzinfo is None:
        raise EmbeddedBackendError(
            f"{text!r} has no zone: say which time it is (2026-12-06T21:30:00Z or +01:00)")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class ServerRestore:
    """What one server's restore will do."""

    name: str
    """Its archive name: ``postgres``, ``shard-<i>``."""
    data_dir: Path
    """The data dir restored (a shard's primary now)."""
    standbys: list[Path]
    backup: BaseBackup
    timeline: int
    """The data dir's timeline: recovery follows its history."""


@dataclass
class _Undo:
    """The renames done so far, reverted in reverse on failure."""

    moves: list[tuple[Path, Path | None]] = field(default_factory=list)

    def move(self, source: Path, target: Path) -> None:
        source.rename(target)
        self.moves.append((source, target))

    def made(self, path: Path) -> None:
        """`path` did not exist: a revert removes what is there."""
        self.moves.append((path, None))

    def revert(self) -> None:
        for source, target in reversed(self.moves):
            if source.exists():
                shutil.rmtree(source)  # a half-made restore, a copy of a backup
            if target is not None:
                target.rename(source)


def _selected(data_dir: Path, shard: int | None, keyspace: str | None) -> list[int | None]:
    """The shards to restore, None for the main server."""
    shards = shard_count(data_dir)
    if shard is not None:
        if not 0 <= shard < shards:
            raise EmbeddedBackendError(
                f"there is no shard {shard}: {data_dir} holds {shards} commerce shard(s), "
                "numbered from 0")
        return [shard]
    if keyspace in MAIN_KEYSPACES:
        return [None]
    if keyspace is not None:
        raise EmbeddedBackendError(
            f"unknown keyspace {keyspace!r}: --keyspace takes {' or '.join(MAIN_KEYSPACES)} "
            "(the main server); a commerce shard is chosen with --shard")
    return [None, *range(shards)]


def plan(data_dir: Path, target: datetime, *, shard: int | None = None,
         keyspace: str | None = None) -> list[ServerRestore]:
    """What a restore to `target` would do; raises, changing nothing, if it cannot."""
    if not backups_root(data_dir).is_dir():
        raise EmbeddedBackendError(f"{data_dir} holds no embedded backups (--data-dir)")
    running = running_servers(data_dir)
    if running:
        raise EmbeddedBackendError(
            f"PostgreSQL runs on {', '.join(running)} under {data_dir}: stop the gateway "
            "first (a restore replaces data dirs)")
    if target > datetime.now(UTC):
        raise EmbeddedBackendError(f"{target.isoformat()} is in the future")
    primaries = shard_primaries(data_dir)
    out = []
    for index in _selected(data_dir, shard, keyspace):
        name = server_name(index)
        current = data_dir / (name if index is None else primaries.get(index, name))
        standbys = ([] if index is None else
                    sorted(d for d in data_dir.glob(f"shard-{index}*")
                           if d.is_dir() and d != current
                           and re.fullmatch(rf"shard-{index}(-replica-\d+)?", d.name)))
        # The history of the data dir replaced is the one replayed (not a
        # newer timeline of a restore that was undone, say); a data dir that
        # was lost: the archive's newest.
        timeline = (EmbeddedPostgres(current).timeline() if (current / "PG_VERSION").is_file()
                    else newest_timeline(archive_dir(data_dir, name)))
        every = base_backups.listed(data_dir, name)
        usable = base_backups.on_history(
            every, timeline, history([archive_dir(data_dir, name), current / "pg_wal"], timeline))
        backup = base_backups.choose(usable, target, name, abandoned=len(every) - len(usable))
        out.append(ServerRestore(name, current, standbys, backup, timeline))
    return out


def _copy_unarchived_wal(old_wal: Path, new_wal: Path, archived: set[str]) -> int:
    copied = 0
    for segment in old_wal.iterdir() if old_wal.is_dir() else []:
        if is_wal_file(segment.name) and segment.name not in archived:
            shutil.copy2(segment, new_wal / segment.name)
            copied += 1
    return copied


def _in_recovery(server: EmbeddedPostgres) -> bool:
    """Whether `server` still replays; raises with its log if it exited."""
    try:
        return server.sql("SELECT pg_is_in_recovery()") != "f"
    except EmbeddedBackendError:
        # A recovery that fails (a gap, a target not reached) ends the
        # postmaster; a query sent while it shuts down fails before it has
        # exited, so give the exit a moment before calling psql's error the cause.
        if server.crash_status(wait=_EXIT_WAIT_S) is None:
            raise
    raise EmbeddedBackendError(f"recovery of {server.data_dir.name} failed\n"
                               f"{log_tail(server.log_path, lines=20)}")


@dataclass(frozen=True)
class _Recovered:
    stopped: str
    """Where recovery stopped, in words (the log's line, when it has one)."""
    replay_lsn: str
    """The last WAL position replayed."""
    carried: int
    """Unarchived WAL files carried over from the old pg_wal."""


def _recover(step: ServerRestore, data_dir: Path, target: datetime | None,
             old_wal: Path) -> _Recovered:
    """Copy the base backup in, replay to `target` (None: the WAL's end),
    promote, checkpoint, stop."""
    shutil.copytree(step.backup.pgdata, step.data_dir, symlinks=True)
    for leftover in ("standby.signal", "postmaster.pid"):
        (step.data_dir / leftover).unlink(missing_ok=True)
    archive = archive_dir(data_dir, step.name)
    carried = _copy_unarchived_wal(old_wal, step.data_dir / "pg_wal", archived_names(archive))
    settings = {"restore_command": restore_command(archive),
                "recovery_target_action": "promote",
                "recovery_target_timeline": str(step.timeline)}
    if target is not None:
        settings["recovery_target_time"] = target.isoformat(sep=" ")
    with (step.data_dir / "postgresql.auto.conf").open("a") as conf:
        conf.write("# datagw restore (reset once it is done)\n")
        conf.writelines(f"{k} = '{v.replace(chr(39), chr(39) * 2)}'\n" for k, v in settings.items())
    (step.data_dir / "recovery.signal").touch()
    server = EmbeddedPostgres(step.data_dir, timeout=_RECOVERY_TIMEOUT_S,
                              password_file=EmbeddedSecrets(data_dir).postgres_file)
    server.archive_dir = archive
    offset = file_size(server.log_path)
    server.start()
    try:
        deadline = time.monotonic() + _RECOVERY_TIMEOUT_S
        while _in_recovery(server):
            if time.monotonic() > deadline:
                raise EmbeddedBackendError(f"recovery of {step.name} did not finish within "
                                           f"{_RECOVERY_TIMEOUT_S:.0f}s\n"
                                           f"{log_tail(server.log_path, offset)}")
            time.sleep(0.1)
        replayed, replay_lsn = server.sql(
            "SELECT coalesce(pg_last_xact_replay_timestamp()::text, 'none'), "
            "pg_last_wal_replay_lsn()").split("|")
        for setting in _RECOVERY_SETTINGS:  # one by one: not in a transaction block
            server.sql(f"ALTER SYSTEM RESET {setting}")
        server.sql("CHECKPOINT")
    except EmbeddedBackendError:
        server.kill()
        raise
    server.stop()
    # What this start logged (log_tail reads from the offset on).
    stopped = _STOPPED_AT.search(log_tail(server.log_path, offset, lines=1000))
    where = stopped[0] if stopped else "recovery reached the end of the WAL"
    return _Recovered(f"{where} (last transaction replayed: {replayed})", replay_lsn, carried)


def _check_whole(done: _Recovered, old: Path, name: str) -> None:
    """Refuse a replay that ended before the old data dir's last checkpoint
    (a lost data dir has none to compare with: its archive is all there is)."""
    if not (old / "PG_VERSION").is_file():
        return
    last = EmbeddedPostgres(old).checkpoint_lsn()
    if parse_lsn(done.replay_lsn) < parse_lsn(last):
        raise EmbeddedBackendError(
            f"{name}: the WAL replayed ends at {done.replay_lsn}, before {last}, where the "
            f"data dir's own WAL goes: a WAL file between them is missing from the archive; "
            "nothing was changed")


def _restore_one(step: ServerRestore, data_dir: Path, target: datetime, stamp: str,
                 undo: _Undo) -> str:
    aside = step.data_dir.with_name(f"{step.data_dir.name}.before-restore-{stamp}")
    if step.data_dir.exists():
        undo.move(step.data_dir, aside)
        kept = f"the old data dir is {aside.name}"
    else:
        # Lost (a disk gone): nothing to keep, no unarchived WAL to carry.
        undo.made(step.data_dir)
        kept = "there was no data dir"
    try:
        done = _recover(step, data_dir, target, aside / "pg_wal")
        stopped = done.stopped
    except EmbeddedBackendError as exc:
        if _NOT_REACHED not in str(exc):
            raise
        # The WAL ended before a commit after the target. If it is all the
        # WAL the server wrote, nothing was committed since the target and
        # its end is the state at the target; if the archive has a gap, the
        # end is only where the gap begins.
        shutil.rmtree(step.data_dir)
        done = _recover(step, data_dir, None, aside / "pg_wal")
        _check_whole(done, aside, step.name)
        stopped = f"{done.stopped}: no transaction committed after the target"
    for standby in step.standbys:
        undo.move(standby, standby.with_name(f"{standby.name}.before-restore-{stamp}"))
    moved = f"; standby(s) {', '.join(s.name for s in step.standbys)} moved aside, cloned " \
            "again on the next start" if step.standbys else ""
    return (f"{step.name} ({step.data_dir.name}): from base backup {step.backup.path} "
            f"(ended {step.backup.ended_at.isoformat()}), {done.carried} unarchived WAL file(s) "
            f"carried over; {stopped}; {kept}{moved}")


def restore(data_dir: Path, target: datetime, steps: list[ServerRestore],
            say: Callable[[str], None]) -> float:
    """Carry out `steps` (from ``plan``), telling `say` what each did; the
    seconds it took. On any failure every data dir is put back."""
    began = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    undo = _Undo()
    try:
        done = [_restore_one(step, data_dir, target, stamp, undo) for step in steps]
    except BaseException:
        undo.revert()
        raise
    for line in done:
        say(line)
    os.sync()
    return time.monotonic() - began
