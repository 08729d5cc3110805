"""Each gateway's copy of the range maps, kept current from the control table.

At start the control table gets each sharded keyspace's map from the config
if it has none yet (after that the table is in force and the config's
ranges only seed a fresh deployment), and every shard server records which
keyspace and shard it is and the ranges it owns (fence.identify): a config
that names a server as another shard is refused.

Afterwards a new version reaches every gateway within a second: the
control table notifies on change (channel datagw_range_map). Without a
listening connection (a catalog behind a transaction pooler where nothing
can LISTEN, or while it reconnects) and while a shard server is still to be
identified, the watcher polls every POLL_S; while listening, every
LISTENING_FALLBACK_S only (a notification is lost only with its connection,
and a new one reads the table at once).
A write that a shard's fence refused as moved reads the table at once
(Keyspace.refresh_map).
"""

from __future__ import annotations

import asyncio
import functools
import logging

from gateway.errors import DatagwError
from gateway.storage.eventstore.notify import LISTENING_FALLBACK_S, ShardNotifier
from gateway.storage.postgres import control_store, fence
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.storage.postgres.range_map import RangeMap
from gateway.tasks import stop_tasks
from gateway.telemetry import RANGE_MAP_VERSION

log = logging.getLogger(__name__)

CHANNEL = "datagw_range_map"
POLL_S = 0.5


class MapMismatch(Exception):
    """The config and the servers (or the control table) disagree."""


class MapWatch:
    def __init__(self, control: Shard, keyspaces: list[Keyspace], listen_dsn: str | None) -> None:
        self._control = control
        self._keyspaces = {ks.name: ks for ks in keyspaces}
        self._notifier = ShardNotifier(control, listen_dsn, CHANNEL)
        self._task: asyncio.Task[None] | None = None
        # The newest map version refused per keyspace (logged once).
        self._refused: dict[str, int] = {}
        # Shard servers down when the gateway started: identified once back.
        self._unidentified: list[tuple[Keyspace, Shard]] = []
        for ks in keyspaces:
            ks.refresh_map = functools.partial(self.refresh, ks.name)

    async def open(self, initial: dict[str, RangeMap]) -> None:
        """Seed and read every map, and identify every shard server."""
        for name, ks in self._keyspaces.items():
            async with self._control.connection("SEED range_maps") as conn:
                version, ranges = await control_store.seed_map(
                    conn, name, initial[name].version, initial[name].to_json())
            current = RangeMap.from_json(version, ranges)
            missing = sorted(s for s in current.shards() if s >= len(ks.shards))
            if missing:
                raise MapMismatch(
                    f"keyspace {name!r}: range map version {version} routes to shard(s) "
                    f"{missing}, but the config lists {len(ks.shards)} shard server(s)")
            self._install(ks, current)
            for shard in ks.shards:
                if not await self.identify(ks, shard):
                    self._unidentified.append((ks, shard))

    async def identify(self, ks: Keyspace, shard: Shard) -> bool:
        """Record (once) which shard the server is and what it owns; False
        when it is down (its writes fail meanwhile, as for any shard down)."""
        try:
            async with shard.connection("IDENTIFY shard") as conn:
                recorded = await fence.identify(conn, ks.name, shard.index,
                                                ks.map.ranges_of(shard.index), ks.map.version)
        except DatagwError as exc:
            log.warning("keyspace %s shard %d not identified yet: %s", ks.name,
                        shard.index, exc.message)
            return False
        if recorded != (ks.name, shard.index):
            raise MapMismatch(
                f"the server configured as keyspace {ks.name!r} shard {shard.index} is "
                f"keyspace {recorded[0]!r} shard {recorded[1]}: fix the order of the shards "
                "in the config")
        return True

    def _install(self, ks: Keyspace, new: RangeMap) -> bool:
        old, ks.map = ks.map, new
        RANGE_MAP_VERSION.labels(ks.name).set(new.version)
        if old.version != new.version:
            log.info("keyspace %s: range map version %d (was %d): %s", ks.name, new.version,
                     old.version, new.describe())
        return True

    async def refresh(self, name: str) -> bool:
        """Read `name`'s map now; True when it changed."""
        ks = self._keyspaces[name]
        async with self._control.connection("SELECT range_maps") as conn:
            found = await control_store.load_map(conn, name)
        if found is None or found[0] <= ks.map.version:
            return False
        new = RangeMap.from_json(*found)
        unknown = sorted(s for s in new.shards() if s >= len(ks.shards))
        if unknown:
            # A server this gateway was not configured with (or has not
            # added): routing there is impossible, so it keeps the old map;
            # the fences refuse what that map sends to the wrong shard.
            if self._refused.get(name) != new.version:
                self._refused[name] = new.version
                log.error("keyspace %s: range map version %d routes to shard(s) %s that this "
                          "gateway does not know; list them in its config and restart it",
                          name, new.version, unknown)
            return False
        return self._install(ks, new)

    def start(self) -> None:
        self._notifier.start()
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        await stop_tasks(self._task, what="range map watch")
        await self._notifier.stop()

    async def _watch(self) -> None:
        while True:
            ticket = self._notifier.ticket()
            for name in self._keyspaces:
                try:
                    await self.refresh(name)
                except DatagwError as exc:
                    log.debug("range map of %s not read: %s", name, exc.message)
            for ks, shard in list(self._unidentified):
                try:
                    if await self.identify(ks, shard):
                        self._unidentified.remove((ks, shard))
                except MapMismatch as exc:
                    # Found late, this cannot stop the start any more: the
                    # server stays unused, loudly.
                    log.error("%s", exc)
                    self._unidentified.remove((ks, shard))
            listening = self._notifier.listening and not self._unidentified
            await self._notifier.wait(ticket, LISTENING_FALLBACK_S if listening else POLL_S)
