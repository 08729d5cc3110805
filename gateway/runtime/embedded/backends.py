"""All embedded backends together: ``EmbeddedBackends`` starts PostgreSQL
(plus commerce shards and their replicas), Valkey and the analytics engine
(chdb in its own process, analytics.py) under one data dir, supervises them
(``supervisor``), fails a shard over to its standby on request, and stops
them again.

Which data dir of a shard is its primary is recorded in ROLES_FILE under the
data dir once a failover has changed it (``shard-<i>`` until then); its
other data dirs are its standbys. A start converges on the record: a
recorded primary that is still a standby is promoted, a standby that is
still a primary is rewound (a failover interrupted half-way).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.runtime.embedded.analytics import EmbeddedAnalytics
from gateway.runtime.embedded.analytics_server import NICE
from gateway.runtime.embedded.backup import BackupReport, BackupScheduler, BackupSettings, back_up
from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.embedded.process import (
    LOCALHOST,
    ChildServer,
    EmbeddedBackendError,
    StartStop,
    wait_until,
)
from gateway.runtime.embedded.requests import answer, take
from gateway.runtime.embedded.secrets import EmbeddedSecrets
from gateway.runtime.embedded.supervisor import Supervisor
from gateway.runtime.embedded.valkey import EmbeddedValkey
from gateway.runtime.embedded.wal_archive import archive_dir, server_name

__all__ = ["ROLES_FILE", "EmbeddedBackends", "running_servers", "shard_count",
           "shard_primaries"]

log = logging.getLogger(__name__)

_STOP_ERRORS = (EmbeddedBackendError, OSError, subprocess.SubprocessError)
ROLES_FILE = "roles.json"
# Commerce shard servers at most (embedded.shards allows as many).
MAX_SHARDS = 16
# How long a failover waits for its replica to stream, and to receive the
# stopped primary's last WAL record.
STREAMING_WAIT_S = 30.0


def shard_primaries(data_dir: Path) -> dict[int, str]:
    """The data dir name of each shard's primary, where a failover moved it."""
    try:
        recorded = json.loads((data_dir / ROLES_FILE).read_text())["primaries"]
        return {int(shard): str(name) for shard, name in recorded.items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EmbeddedBackendError(
            f"{data_dir / ROLES_FILE} is unreadable ({exc}): it says which server of each "
            "shard is the primary; restore it or remove it if no failover ever ran") from exc


def running_servers(data_dir: Path) -> list[str]:
    """The PostgreSQL data dirs under `data_dir` with a live server on them."""
    return sorted(d.name for d in Path(data_dir).glob("*")
                  if (d / "postmaster.pid").exists() and EmbeddedPostgres(d).is_running())


def shard_count(data_dir: Path) -> int:
    """How many commerce shard servers the data dir holds (0: none, or new)."""
    marker = data_dir / "shards.txt"
    return int(marker.read_text().split()[-1]) if marker.is_file() else 0


def _shard_dirs(index: int, replicas: int) -> list[str]:
    return [f"shard-{index}", *(f"shard-{index}-replica-{r}" for r in range(replicas))]


class EmbeddedBackends(StartStop):
    """Postgres + Valkey servers and the analytics engine under one data dir.

    With ``ephemeral=True`` each ``start()`` uses a fresh temporary directory
    (created inside ``data_dir`` when given, else in the system temp dir)
    that ``stop()`` deletes.  Otherwise ``data_dir`` holds the data for good
    and a later ``start()`` on it sees everything written before.

    The servers' passwords are generated into ``secrets/`` under the data
    dir on first start and reused afterwards (``secrets``; the servers'
    ``dsn`` and ``url`` carry them, the analytics engine's is its
    ``password``).
    """

    def __init__(self, data_dir: Path | None = None, *, ephemeral: bool, shards: int = 0,
                 replicas: int = 0, synchronous: bool = False, supervise: bool = True,
                 backup: BackupSettings | None = None, analytics: bool = True) -> None:
        """`synchronous`: each shard primary's commits wait for one of its
        replicas (needs `replicas`); `supervise`: crashed servers are restarted;
        `backup`: its archive_timeout and keep, and (supervised, a kept data
        dir) base backups on its schedule and on request, WAL segments closed
        every archive_timeout (backup.py). Every PostgreSQL server archives
        its WAL (wal_archive.py). `analytics`: start the analytics engine
        (False: its directory stays closed, for a gateway configured with a
        ClickHouse server, or to copy the directory)."""
        if data_dir is None and not ephemeral:
            raise ValueError("a persistent EmbeddedBackends needs a data_dir")
        if synchronous and shards and not replicas:
            raise EmbeddedBackendError(
                "embedded.synchronous needs embedded.replicas of 1 or more: a synchronous "
                "primary without a standby would wait for ever on every commit")
        self._synchronous = synchronous
        self._backup = backup or BackupSettings()
        # Only where they outlive the servers, and in a process that stays up.
        self._scheduler = (BackupScheduler(Path(data_dir).absolute(), backup, self.back_up,
                                           self.archive_names, self.switch_wal)
                           if backup is not None and supervise and data_dir is not None
                           and not ephemeral else None)
        self._supervisor = (Supervisor(self._members, also=self._take_failover_request)
                            if supervise else None)
        self._root = Path(data_dir).absolute() if data_dir is not None else None
        self._ephemeral = ephemeral
        self._shard_count = shards
        # How many shards the data directory started with: they share the
        # keyspace ids evenly at first; servers added later are spares that
        # serve what a resharding workflow moves onto them.
        self.first_shard_count = shards
        self._replica_count = replicas
        self._active_dir: Path | None = None
        self._postgres: EmbeddedPostgres | None = None
        self._shards: list[EmbeddedPostgres] = []
        self._valkey: EmbeddedValkey | None = None
        self._with_analytics = analytics
        self._analytics: EmbeddedAnalytics | None = None
        self.startup_seconds: float | None = None
        """Wall time of the last successful start()."""

    @property
    def ephemeral(self) -> bool:
        return self._ephemeral

    @property
    def data_dir(self) -> Path:
        if self._active_dir is not None:
            return self._active_dir
        if self._root is None or self._ephemeral:
            raise EmbeddedBackendError("ephemeral backends have no data dir until start()")
        return self._root

    @property
    def secrets(self) -> EmbeddedSecrets:
        return EmbeddedSecrets(self.data_dir)

    @property
    def clickhouse_path(self) -> Path:
        return self.data_dir / "clickhouse"

    @property
    def analytics(self) -> EmbeddedAnalytics:
        """The analytics engine's process (started unless `analytics=False`)."""
        if self._analytics is None:
            raise EmbeddedBackendError("the embedded analytics engine is not started")
        return self._analytics

    @property
    def postgres(self) -> EmbeddedPostgres:
        if self._postgres is None:
            raise EmbeddedBackendError("embedded backends are not started")
        return self._postgres

    @property
    def shards(self) -> list[EmbeddedPostgres]:
        """The servers of the sharded keyspace, one per shard (replicas hang off each)."""
        return list(self._shards)

    @property
    def valkey(self) -> EmbeddedValkey:
        if self._valkey is None:
            raise EmbeddedBackendError("embedded backends are not started")
        return self._valkey

    def is_running(self) -> bool:
        return (
            self._postgres is not None
            and self._valkey is not None
            and self._postgres.is_running()
            and self._valkey.is_running()
        )

    def start(self) -> None:
        if (self._postgres is not None or self._valkey is not None or self._shards
                or self._analytics is not None):
            raise EmbeddedBackendError("embedded backends are already started")
        began = time.monotonic()
        if self._ephemeral:
            parent = self._root
            if parent is not None:
                parent.mkdir(parents=True, exist_ok=True)
            self._active_dir = Path(
                tempfile.mkdtemp(prefix="datagw-", dir=str(parent) if parent else None)
            )
        else:
            assert self._root is not None
            self._root.mkdir(parents=True, exist_ok=True)
            self._active_dir = self._root
        try:
            # Only the engine reads its tables.
            self.clickhouse_path.mkdir(mode=0o700, exist_ok=True)
            self.clickhouse_path.chmod(0o700)
            # The engine starts side by side with the servers (mostly waiting).
            with ThreadPoolExecutor(max_workers=1) as beside:
                analytics = beside.submit(self._start_analytics)
                self._start_servers()
                analytics.result()
        except BaseException:
            self._shutdown(raise_errors=False)
            raise
        if self._supervisor is not None:
            self._supervisor.start()
        if self._scheduler is not None:
            self._scheduler.start()
        self.startup_seconds = time.monotonic() - began
        log.info("embedded backends up in %.2fs", self.startup_seconds)

    def stop(self) -> None:
        self._shutdown(raise_errors=True)

    def _start_servers(self) -> None:
        secrets = self.secrets
        postgres = EmbeddedPostgres(self.data_dir / "postgres",
                                    password_file=secrets.postgres_file)
        self._archive(postgres, None)
        self._postgres = postgres
        # The first start makes the password file; the shards find it.
        postgres.start()
        self._check_shard_count(self.data_dir / "shards.txt")
        primaries = shard_primaries(self.data_dir)
        self._shards = [self._server(primaries.get(i, f"shard-{i}"), i)
                        for i in range(self._shard_count)]
        # initdb and start-up are mostly waiting: shards start side by side.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for done in [pool.submit(self._start_shard, i) for i in range(self._shard_count)]:
                done.result()
        valkey = EmbeddedValkey(self.data_dir / "valkey", password_file=secrets.valkey_file)
        self._valkey = valkey
        valkey.start()

    def _start_analytics(self) -> None:
        if not self._with_analytics:
            return
        analytics = EmbeddedAnalytics(self.clickhouse_path,
                                      password_file=self.secrets.clickhouse_file)
        self._analytics = analytics
        analytics.start()

    def _server(self, name: str, index: int) -> EmbeddedPostgres:
        server = EmbeddedPostgres(self.data_dir / name, password_file=self.secrets.postgres_file)
        server.rewindable = self._replica_count > 0
        if self._synchronous:
            server.synchronous_peers = tuple(_shard_dirs(index, self._replica_count))
        self._archive(server, index)
        return server

    def _archive(self, server: EmbeddedPostgres, shard: int | None) -> None:
        server.archive_dir = archive_dir(self.data_dir, server_name(shard))
        server.archive_timeout_s = self._backup.archive_timeout_s

    def archive_names(self) -> list[str]:
        """The archive name of every PostgreSQL server (main, then shards)."""
        return [server_name(None), *(server_name(i) for i in range(self._shard_count))]

    def back_up(self, *, clickhouse: bool = False) -> BackupReport:
        """Back up every server (backup.py); `clickhouse`: copy the chdb dir too
        (only when no process has it open: started with `analytics=False`)."""
        if clickhouse and self._analytics is not None:
            raise EmbeddedBackendError(
                "the analytics engine holds the chdb directory open: a copy of it would not "
                "be consistent (start the backends with analytics=False to copy it)")
        servers = [(server_name(None), self.postgres),
                   *((server_name(i), shard) for i, shard in enumerate(self.shards))]
        return back_up(self.data_dir, servers, self.valkey, keep=self._backup.keep,
                       clickhouse=self.clickhouse_path if clickhouse else None)

    def switch_wal(self) -> None:
        """Close each primary's current WAL segment if anything was written to
        it (pg_switch_wal does nothing otherwise), for it to be archived."""
        for server in [self._postgres, *self._shards]:
            if server is None or not server.is_running():
                continue
            try:
                server.sql("SELECT pg_switch_wal()")
            except EmbeddedBackendError as exc:
                # Down, or failing over: the next round tries again.
                log.debug("pg_switch_wal on %s: %s", server.data_dir.name, exc)

    def _start_shard(self, index: int) -> None:
        shard = self._shards[index]
        shard.start()
        # A failover that stopped before its promotion is finished here.
        shard.promote()
        standbys = [name for name in _shard_dirs(index, self._replica_count)
                    if name != shard.data_dir.name]
        for name in standbys[:self._replica_count]:
            shard.add_replica(self.data_dir / name)

    def failover(self, index: int) -> EmbeddedPostgres:
        """Fail shard `index` over to its first replica, on purpose: the primary
        is stopped (fenced: it takes no write from here on), the replica
        promoted and recorded as the primary, and the old primary rewound
        into a standby of it, so the shard has its replicas again. Other
        replicas follow the new primary. Returns the new primary.

        Only a replica that streams is promoted, and only once it has the
        stopped primary's last WAL record (a clean stop sends it to the
        connected standbys): it has every commit, synchronous or not. Else
        the primary is started again and nothing changes.
        """
        if not 0 <= index < len(self._shards):
            raise EmbeddedBackendError(
                f"there is no shard {index}: the embedded commerce keyspace has "
                f"{len(self._shards)} shard(s), numbered from 0")
        lock = self._supervisor.lock if self._supervisor is not None else contextlib.nullcontext()
        with lock:
            old = self._shards[index]
            replicas = old.replicas
            if not replicas:
                raise EmbeddedBackendError(
                    f"shard {index} has no replica to promote (start with embedded.replicas "
                    "of 1 or more)")
            new, others = replicas[0], replicas[1:]
            if not new.is_running() or not wait_until(new.streams, STREAMING_WAIT_S,
                                                      interval=0.2):
                raise EmbeddedBackendError(
                    f"shard {index}'s replica {new.data_dir.name} does not stream from its "
                    "primary: promoting a standby that may be behind would lose writes; "
                    "nothing was changed")
            log.warning("failover of shard %d: stopping its primary %s", index, old.data_dir.name)
            old.stop(replicas=False)
            # Its shutdown checkpoint is the last record it wrote: the replica
            # must have it, or the promotion would drop acknowledged writes.
            last = old.checkpoint_lsn()
            if not wait_until(lambda: new.streams(past=last), STREAMING_WAIT_S, interval=0.2):
                old.start()
                raise EmbeddedBackendError(
                    f"shard {index}'s replica {new.data_dir.name} did not receive the WAL of "
                    f"its primary up to {last}; the primary was started again, nothing was "
                    "changed")
            self._record_primary(index, new.data_dir.name)
            new.promote()
            log.warning("failover of shard %d: %s promoted (port %d)", index,
                        new.data_dir.name, new.port)
            self._shards[index] = new
            old.follow(new)
            new.adopt(old)
            for replica in others:
                replica.stop()
                new.adopt(replica)
            log.warning("failover of shard %d: done, %s is the primary and %s follow(s) it",
                        index, new.data_dir.name,
                        ", ".join(r.data_dir.name for r in new.replicas))
            return new

    def roles(self, index: int) -> str:
        """Shard `index`'s servers by role, in words."""
        primary = self._shards[index]
        standbys = ", ".join(r.data_dir.name for r in primary.replicas) or "none"
        return f"shard {index}: {primary.data_dir.name} is the primary, standby(s): {standbys}"

    def _take_failover_request(self) -> None:
        """Run a failover `datagw failover` asked for (requests.py)."""
        request = take(self.data_dir, "failover")
        if request is None or request.shard is None:
            return
        log.warning("failover of shard %d requested by datagw failover", request.shard)
        try:
            self.failover(request.shard)
        except _STOP_ERRORS as exc:
            log.error("failover of shard %d failed: %s", request.shard, exc)
            answer(self.data_dir, request, ok=False, message=str(exc))
            return
        answer(self.data_dir, request, ok=True, message=self.roles(request.shard))

    def _record_primary(self, index: int, name: str) -> None:
        primaries = shard_primaries(self.data_dir)
        primaries[index] = name
        path = self.data_dir / ROLES_FILE
        tmp = path.with_name(f".{ROLES_FILE}.tmp")
        tmp.write_text(json.dumps({"primaries": {str(k): v for k, v in sorted(primaries.items())}},
                                  indent=2) + "\n")
        # Durable before the promotion it announces: a crash in between is
        # finished by the next start, never undone.
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(path)

    def _members(self) -> list[tuple[str, ChildServer]]:
        """Every server started (running, or crashed) by the name the log gives it."""
        members: list[tuple[str, ChildServer]] = []
        if self._postgres is not None:
            members.append(("postgres", self._postgres))
        for i, shard in enumerate(self._shards):
            members.append((f"postgres shard {i}", shard))
            members.extend((f"postgres shard {i} replica {j}", replica)
                           for j, replica in enumerate(shard.replicas))
        if self._valkey is not None:
            members.append(("valkey", self._valkey))
        if self._analytics is not None:
            members.append(("analytics engine", self._analytics))
        return members

    def add_shard(self) -> EmbeddedPostgres:
        """Start one more commerce shard server while the others serve (with
        as many replicas as the others): a spare, serving nothing until a
        range is moved onto it. The data directory records it, so the next
        start has it too."""
        if len(self._shards) >= MAX_SHARDS:
            raise EmbeddedBackendError(f"at most {MAX_SHARDS} shard servers")
        index = len(self._shards)
        self._shards.append(self._server(shard_primaries(self.data_dir).get(
            index, f"shard-{index}"), index))
        try:
            self._start_shard(index)
        except BaseException:
            self._shards.pop().stop()
            raise
        self._shard_count = len(self._shards)
        self._write_shard_count(self.data_dir / "shards.txt")
        log.info("embedded shard %d started (a spare)", index)
        return self._shards[index]

    def _write_shard_count(self, marker: Path) -> None:
        marker.write_text(f"{self.first_shard_count}\n{self._shard_count}\n")

    def _check_shard_count(self, marker: Path) -> None:
        """Refuse to reopen kept data with fewer shard servers (their rows would
        be lost); more are added as spares. The marker keeps the count the data
        started with (its first line) and the servers there are now."""
        if marker.exists():
            counts = [int(x) for x in marker.read_text().split()]
            self.first_shard_count, before = counts[0], counts[-1]
            if self._shard_count < before:
                raise EmbeddedBackendError(
                    f"{marker.parent} holds {before} commerce shard server(s); starting it "
                    f"with {self._shard_count} would leave rows behind (use --shards {before}; "
                    "to use fewer servers, move their ranges away first: docs/resharding.md)")
        self._write_shard_count(marker)

    def describe(self) -> list[str]:
        if self._postgres is None or self._valkey is None:
            return ["embedded backends: not started"]
        pg, vk = self._postgres, self._valkey
        lines = [
            (
                f"postgres {pg.version} at {LOCALHOST}:{pg.port} "
                f"(data: {pg.data_dir}, log: {pg.log_path})"
            ),
            (
                f"valkey {vk.version} at {LOCALHOST}:{vk.port} "
                f"(data: {vk.data_dir}, log: {vk.log_path})"
            ),
        ]
        for i, shard in enumerate(self._shards):
            lines.append(f"postgres shard {i} at {LOCALHOST}:{shard.port} "
                         f"(data: {shard.data_dir})")
            lines.extend(f"postgres shard {i} replica at {LOCALHOST}:{replica.port} "
                         f"(data: {replica.data_dir})" for replica in shard.replicas)
        if self._synchronous and self._shards:
            lines.append("postgres shards: synchronous replication (a commit waits for a "
                         "replica)")
        # Where the passwords are, never what they are.
        lines.append(f"passwords (0600) in {self.secrets.directory}: postgres.password "
                     f"(user postgres, every PostgreSQL server), valkey.password, "
                     f"clickhouse.password")
        if self._analytics is not None:
            ch = self._analytics
            lines.append(f"clickhouse (chdb engine, its own process, niceness {NICE}) at "
                         f"{ch.url} (data: {ch.data_dir}, log: {ch.log_path})")
        else:
            lines.append(f"clickhouse (chdb engine): not started (data: {self.clickhouse_path})")
        if self._ephemeral:
            lines.append(f"ephemeral: {self.data_dir} is deleted on stop")
        return lines

    def _shutdown(self, *, raise_errors: bool) -> None:
        # Keep going after a failure so one stuck server does not leak the other.
        errors: list[Exception] = []
        if self._scheduler is not None:
            # A backup under way is cut short by the stop below (its partial
            # copy removed), not waited for: it may take hours.
            self._scheduler.stop_soon()
        if self._supervisor is not None:
            # First: what is stopped from here on must stay down.
            self._supervisor.stop()
        for child in (self._analytics, self._valkey):
            if child is None:
                continue
            try:
                child.stop()
            except _STOP_ERRORS as exc:
                errors.append(exc)
        for server in [*reversed(self._shards), self._postgres]:
            if server is None:
                continue
            try:
                server.stop()
            except _STOP_ERRORS as exc:
                errors.append(exc)
        if self._scheduler is not None:
            self._scheduler.stop()
        self._valkey = None
        self._analytics = None
        self._postgres = None
        self._shards = []
        if self._ephemeral and self._active_dir is not None:
            shutil.rmtree(self._active_dir, ignore_errors=True)
        self._active_dir = None
        if errors and raise_errors:
            raise EmbeddedBackendError(
                f"stopping embedded backends failed: {errors[0]}"
            ) from errors[0]

    def __repr__(self) -> str:
        where = self._active_dir or self._root
        return f"EmbeddedBackends(data_dir={str(where)!r}, ephemeral={self._ephemeral})"
