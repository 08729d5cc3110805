"""The reconciler: notices a database that went back in time and brings the
other stores in line with it before the gateway serves (docs/backup.md).

Every few seconds, and when the gateway stops, it records where each
PostgreSQL database stands (system identifier, timeline, WAL position) in
the control table and in Redis. At start it compares what the databases say
now with both copies (the control table's own database may be the one
restored; Redis is not rolled back with it): a database behind is
reconciled, once, by the first gateway to start (a lock in the control
database):

- analytics: its relayed rows beyond its restored relay checkpoint leave
  ClickHouse, and the relay copies again from there under a new epoch;
- projections that read it or live in it are rebuilt (after the start, in
  the background; the old generation serves meanwhile);
- caches of the keyspaces it holds are flushed;
- sagas and reservations across the commerce and inventory keyspaces are
  settled (domain/rewind/sagas.py);
- what cannot be reconciled (a payment of a lost order) is logged, counted
  and kept in the control table `reconciliations`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.domain.analytics.relay import Relay
from gateway.domain.inventory import InventoryDomain
from gateway.domain.projections.runner import ProjectionRunner
from gateway.domain.rewind.detect import went_back
from gateway.domain.rewind.sagas import restore_lost_reservations, settle_lost_sagas
from gateway.domain.verify import Verifier
from gateway.errors import Unavailable
from gateway.records.rewind import WalPosition
from gateway.records.verify import ERROR, RANGE_MAPS
from gateway.storage.eventstore.log import newest_event_at
from gateway.storage.postgres import watermarks as table
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.redis import watermarks as mirror
from gateway.storage.redis.cache import Cache
from gateway.storage.redis.client import RedisBackend, RedisDown
from gateway.tasks import Activity, stop_tasks
from gateway.telemetry import RECONCILIATIONS, STORE_REWOUND

log = logging.getLogger(__name__)

Key = tuple[str, int]
# How often the watermarks are recorded: a restore to a point less than this
# before the gateway last ran may go unnoticed by them (verify finds its
# traces; docs/backup.md).
RECORD_EVERY_S = 5.0
# The same while the gateway takes no calls: what is written then (its own
# background jobs', other clients') is recorded this late at most.
RECORD_IDLE_S = 60.0
# Clocks of gateways and databases differ: what changed after a restored
# point is searched from this much before it.
CLOCK_MARGIN = timedelta(minutes=5)
# One gateway at a time reconciles (a transaction-level lock: works through
# a transaction pooler too).
_LOCK_ID = 0x64617461677702


@dataclass(frozen=True)
class Reconciliation:
    keyspace: str
    shard: int
    reason: str
    actions: list[str]
    unreconciled: list[str]


@dataclass
class Reach:
    """What a reconciliation reaches, by keyspace name where it matters."""

    control: Shard
    keyspaces: Mapping[str, Keyspace]
    redis: RedisBackend
    relay: Relay | None
    projections: ProjectionRunner
    caches: Mapping[str, Sequence[Cache]]
    commerce: Keyspace
    inventory: InventoryDomain
    inventory_keyspace: str
    event_keyspaces: frozenset[str] = field(default_factory=frozenset)
    # Checks what a restore of the control database may leave: range maps
    # behind the shards' own record of what they own.
    verifier: Verifier | None = None


class Reconciler:
    def __init__(self, stores: Reach) -> None:
        self._s = stores
        # What this gateway last recorded (the loop compares with it).
        self._seen: dict[Key, WalPosition] = {}
        self._task: asyncio.Task[None] | None = None
        # Projections to rebuild once every restored database is reconciled.
        self._rebuild: set[str] = set()
        # Databases found behind while serving, logged once each.
        self._flagged: set[Key] = set()
        # The Redis copy's name (storage/redis/watermarks.py), read once.
        self._scope = ""
        # Per database, its server's transaction snapshot as of the last
        # record (after it, for the control server's databases: the record
        # itself wrote there): while it stays the same nothing was written,
        # and the loop writes nothing either.
        self._quiet: dict[Key, str] = {}

    def _databases(self) -> list[tuple[Key, Shard]]:
        return [((ks.name, s.index), s) for ks in self._s.keyspaces.values() for s in ks.shards]

    async def _positions(self) -> tuple[dict[Key, WalPosition], dict[Key, str]]:
        """Where each database stands, and its server's snapshot."""
        out: dict[Key, WalPosition] = {}
        snapshots: dict[Key, str] = {}
        for key, shard in self._databases():
            try:
                async with shard.connection("SELECT WAL position") as conn:
                    out[key], snapshots[key] = await table.position(conn)
            except Unavailable as exc:
                log.warning("%s: cannot tell where it stands (%s); checked at the next start",
                            shard.name, exc.message)
        return out, snapshots

    async def _recorded(self) -> list[dict[Key, WalPosition]]:
        async with self._s.control.connection("SELECT store_watermarks") as conn:
            copies = [await table.load(conn)]
            self._scope = await table.scope(conn)
        try:
            copies.append(await mirror.load(self._s.redis, self._scope))
        except RedisDown as exc:
            log.warning("redis unreachable, the watermarks' copy there is not compared: %s", exc)
        return copies

    async def _behind(self, key: Key, now: WalPosition, seen: WalPosition) -> str | None:
        history = None
        if now.timeline > seen.timeline and now.system_identifier == seen.system_identifier:
            shard = self._s.keyspaces[key[0]].shards[key[1]]
            async with shard.connection("READ timeline history") as conn:
                history = await table.timeline_history(conn, now.timeline)
        return went_back(seen, now, history)

    async def reconcile(self) -> list[Reconciliation]:
        """At start, before the background jobs and before serving."""
        async with self._s.control.connection("LOCK reconciliation") as conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_ID)
                now, _ = await self._positions()
                copies = await self._recorded()
                done: list[Reconciliation] = []
                for key, position in sorted(now.items()):
                    for copy in copies:
                        seen = copy.get(key)
                        why = None if seen is None else await self._behind(key, position, seen)
                        if why is not None:
                            done.append(await self._reconcile(key, why))
                            break
                await self._record(now)
        for name in sorted(self._rebuild):
            self._s.projections.start_rebuild(name)
        return done

    async def _reconcile(self, key: Key, reason: str) -> Reconciliation:
        keyspace, index = key
        shard = self._s.keyspaces[keyspace].shards[index]
        log.warning("%s went back in time: %s; reconciling the other stores with it",
                    shard.name, reason)
        actions: list[str] = []
        left: list[str] = []
        relay = self._s.relay.of(keyspace, index) if self._s.relay is not None else None
        if relay is not None:
            removed = await relay.rewind()
            actions.append(
                "analytics: removed the rows beyond the restored relay checkpoint ("
                + ", ".join(f"{t} {n}" for t, n in sorted(removed.items()))
                + "); the relay copies its events again from there")
        for name in await self._s.projections.reread_source(keyspace, index):
            self._rebuild.add(name)
            actions.append(f"projection {name}: rebuilding")
        for cache in self._s.caches.get(keyspace, ()):
            try:
                actions.append(f"cache {cache.domain}: {await cache.flush()} entries dropped")
            except Unavailable as exc:
                left.append(f"cache {cache.domain}: not flushed ({exc.message}); flush it "
                            "with AdminService.FlushCache")
        if keyspace in self._s.event_keyspaces:
            since = await self._since(shard)
            if keyspace == self._s.commerce.name:
                done, rest = await settle_lost_sagas(self._s.commerce, self._s.inventory,
                                                     shard, since)
            elif keyspace == self._s.inventory_keyspace:
                done, rest = await restore_lost_reservations(self._s.commerce,
                                                             self._s.inventory, since)
            else:
                done, rest = [], []
            actions += done
            left += rest
        if shard is self._s.control and self._s.verifier is not None:
            left += await self._maps_behind()
        async with self._s.control.connection("INSERT reconciliations") as conn:
            await table.record_reconciliation(conn, keyspace, index, reason, actions, left)
        RECONCILIATIONS.labels(keyspace, str(index), "reported" if left else "clean").inc()
        for line in actions:
            log.warning("%s reconciled: %s", shard.name, line)
        for line in left:
            log.error("%s NOT reconciled: %s", shard.name, line)
        return Reconciliation(keyspace, index, reason, actions, left)

    async def _maps_behind(self) -> list[str]:
        """The control database went back: a range move's cutover after its
        restored point is in the shards' fences but not in its range map
        (nor its workflow). Not repaired here: which is right is an
        operator's call (docs/backup.md)."""
        assert self._s.verifier is not None
        report = await self._s.verifier.run(None, {RANGE_MAPS})
        return [f"range map of {f.keyspace} {f.key}: the control table gives {f.expected}, "
                f"the shard's fence owns {f.found}; see docs/backup.md"
                for r in report.results for f in r.findings if f.severity == ERROR] + \
               [f"range maps not checked: {e}" for r in report.results for e in r.errors]

    async def _since(self, shard: Shard) -> datetime:
        """From when changes on the restored database may be missing elsewhere."""
        async with shard.connection("SELECT newest event") as conn:
            newest = await newest_event_at(conn)
        if newest is None:
            return datetime(1970, 1, 1, tzinfo=UTC)
        return newest - CLOCK_MARGIN

    async def _record(self, now: Mapping[Key, WalPosition]) -> tuple[str, str] | None:
        """Record `now`; the control server's system identifier and snapshot
        right after, or None when the Redis copy missed it (record again)."""
        if not now:
            return None
        async with self._s.control.connection("UPDATE store_watermarks") as conn:
            after = await table.save(conn, now.items())
            if not self._scope:
                self._scope = await table.scope(conn)
        self._seen.update(now)
        try:
            await mirror.save(self._s.redis, self._scope, now.items())
        except RedisDown as exc:
            log.warning("redis unreachable, the watermarks' copy there is behind: %s", exc)
            return None
        return after

    # -- while serving ---------------------------------------------------------

    def start(self, activity: Activity) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(activity), name="store watermarks")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="store watermarks")
        if task is not None:
            with contextlib.suppress(Unavailable):
                await self.record_once()

    async def _run(self, activity: Activity) -> None:
        seen = activity.calls
        while True:
            seen = await activity.pause(seen, RECORD_EVERY_S, RECORD_IDLE_S)
            try:
                await self.record_once()
            except Unavailable as exc:
                log.warning("store watermarks not recorded: %s", exc.message)
            except Exception:
                log.exception("store watermarks not recorded")

    async def record_once(self) -> None:
        """Record where every database stands; one found behind what this
        gateway saw is flagged (metric, log) and not recorded, so the next
        start reconciles it."""
        now, snapshots = await self._positions()
        ahead: dict[Key, WalPosition] = {}
        for key, position in now.items():
            seen = self._seen.get(key)
            why = None if seen is None else await self._behind(key, position, seen)
            STORE_REWOUND.labels(key[0], str(key[1])).set(0 if why is None else 1)
            if why is None:
                self._flagged.discard(key)
                if not self._quiet_since(key, seen, position, snapshots[key]):
                    ahead[key] = position
            elif key not in self._flagged:
                self._flagged.add(key)
                log.error("keyspace %s shard %d went back in time while this gateway runs: "
                          "%s; restart the gateway to reconcile the other stores with it",
                          key[0], key[1], why)
        if not ahead:
            return
        recorded = await self._record(ahead)
        for key in ahead:
            self._quiet.pop(key, None)
        if recorded is None:
            return
        control, after = recorded
        for key, position in now.items():
            # On the control server the record moved the snapshot: what it
            # is after the record counts as quiet. (A write by another
            # client between this round's read and the record counts as
            # quiet too: unrecorded until the next write there, as a write
            # within RECORD_EVERY_S of a stop is.)
            if position.system_identifier == control:
                self._quiet[key] = after
            elif key in ahead:
                self._quiet[key] = snapshots[key]

    def _quiet_since(self, key: Key, seen: WalPosition | None, now: WalPosition,
                     snapshot: str) -> bool:
        """Nothing written to `key`'s server since its last record."""
        return (seen is not None and self._quiet.get(key) == snapshot
                and (seen.system_identifier, seen.timeline)
                == (now.system_identifier, now.timeline))
