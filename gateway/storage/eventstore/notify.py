"""Wake-ups when events commit on a shard (LISTEN/NOTIFY).

Each shard primary gets one dedicated listening connection (not from the
pool: a pooled connection would lose its LISTEN on release). Readers take a
ticket *before* they read, then wait on it: a commit that lands between the
read and the wait has already fired the ticket, so no wake-up is lost. A
wake-up is only a hint; readers still read below the transaction horizon
and wait with a timeout, so a lost listener connection delays, never skips.

A shard reached only through a transaction-mode pooler has nowhere to
LISTEN (the pooler would give the listening server connection to other
clients after the statement, and the notifications with it): its notifier
wakes readers every POLL_S instead, so they read again at that pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import asyncpg

from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

CHANNEL = "datagw_events"
RECONNECT_S = 1.0
# Longest wait without a wake-up: a lost notification delays, never skips.
FALLBACK_S = 1.0
# The same while the notifier is listening: a notification is lost only
# with its connection, and a new connection wakes every reader (`_listen`),
# so this is a safety net, not a pace; long, because every reader of every
# shard reads once per wait even when nothing happens.
LISTENING_FALLBACK_S = 30.0
# After a wake-up whose read found nothing new, read again this soon,
# doubling up to FALLBACK_S while reads stay empty.
REPOLL_MIN_S = 0.02
# Without a connection to LISTEN on: how often readers are woken to read
# again. Each wake-up is one read per reader, so this is the latency bought
# with that load.
POLL_S = 0.2


class Ticket(asyncio.Event):
    """Set by the next wake-up after it was taken; `by_commit`: that wake-up
    may be a commit (a notification, or a poll), not the listener's own
    (re)connection or loss."""

    by_commit = False


class ShardNotifier:
    def __init__(self, shard: Shard, listen_dsn: str | None, channel: str = CHANNEL) -> None:
        """`listen_dsn`: the shard's database reached directly; None: poll."""
        self.shard = shard
        self.listen_dsn = listen_dsn
        self.channel = channel
        self._fired = Ticket()
        self._task: asyncio.Task[None] | None = None
        self.listening = False

    def ticket(self) -> Ticket:
        """The event the next commit sets; take it before reading."""
        return self._fired

    @property
    def fallback_s(self) -> float:
        """How long a reader waits for a wake-up before it reads anyway."""
        return LISTENING_FALLBACK_S if self.listening else FALLBACK_S

    async def wait(self, ticket: Ticket, within_s: float) -> bool:
        """Until a wake-up after `ticket` was taken, or `within_s`; True when
        a commit (may have) woke it."""
        try:
            await asyncio.wait_for(ticket.wait(), within_s)
        except TimeoutError:
            return False
        return ticket.by_commit

    def _fire(self, by_commit: bool = False) -> None:
        fired, self._fired = self._fired, Ticket()
        fired.by_commit = by_commit
        fired.set()

    def _notified(self, *_: object) -> None:
        self._fire(by_commit=True)

    def start(self) -> None:
        self._task = asyncio.create_task(
            self._listen(self.listen_dsn) if self.listen_dsn else self._poll())

    async def stop(self) -> None:
        await stop_tasks(self._task, what="event notification listener")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            self._fire(by_commit=True)

    async def _listen(self, dsn: str) -> None:
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(self.channel, self._notified)
                self.listening = True
                # Anything committed while we were not listening.
                self._fire()
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.debug("%s listener on %s: %s", self.channel, self.shard.name, exc)
            finally:
                if self.listening:
                    # Readers in a long wait (fallback_s) read again and
                    # wait the short one until the listener is back.
                    self.listening = False
                    self._fire()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close())
            await asyncio.sleep(RECONNECT_S)


class HorizonWaiter:
    """How a reader that reached a shard's horizon waits for more; the one
    policy of every commit-safe reader (subscriptions, projections, relay).

    On a wake-up the reader reads again. If that read finds nothing new, the
    commit that woke it sits above the horizon behind an older transaction
    still open, which may never notify (it need not write events): re-poll
    soon, backing off while reads stay empty up to FALLBACK_S, instead of
    waiting for the fallback. Without wake-ups, read every
    LISTENING_FALLBACK_S anyway while listening (FALLBACK_S otherwise).
    The listener's own (re)connection wakes readers too, but not as a
    commit: it does not start the re-polls.
    """

    def __init__(self, notifier: ShardNotifier) -> None:
        self._notifier = notifier
        self._woken = False
        self._stuck = False
        self._repoll = REPOLL_MIN_S

    def ticket(self) -> Ticket:
        """Take it before reading (see ShardNotifier.ticket)."""
        return self._notifier.ticket()

    async def wait(self, ticket: Ticket, moved: bool,
                   at_most_s: float | None = None) -> None:
        """After a read that reached the horizon; `moved`: that read got
        further than the one before. `at_most_s` caps the wait (a caller's
        own deadline, e.g. a batch window)."""
        if moved:
            self._stuck, self._repoll = False, REPOLL_MIN_S
        elif self._woken:
            self._stuck = True
        if self._stuck:
            within = self._repoll
            self._repoll = min(self._repoll * 2, FALLBACK_S)
        else:
            within = self._notifier.fallback_s
        if at_most_s is not None:
            within = min(within, at_most_s)
        self._woken = await self._notifier.wait(ticket, within)


class EventNotifiers:
    """One notifier per shard primary of the event-bearing keyspaces."""

    def __init__(self, keyspaces: list[Keyspace],
                 listen_dsns: Mapping[tuple[str, int], str | None]) -> None:
        """`listen_dsns`: per (keyspace, shard), where to LISTEN (None: poll)."""
        self._by_shard = {
            (ks.name, s.index): ShardNotifier(s, listen_dsns[(ks.name, s.index)])
            for ks in keyspaces for s in ks.shards}

    def add(self, keyspace: str, shard: Shard, listen_dsn: str | None) -> ShardNotifier:
        """A notifier for a shard server added while the gateway runs, started."""
        notifier = ShardNotifier(shard, listen_dsn)
        self._by_shard[(keyspace, shard.index)] = notifier
        notifier.start()
        return notifier

    def of(self, keyspace: str, shard: int) -> ShardNotifier:
        return self._by_shard[(keyspace, shard)]

    def start(self) -> None:
        for n in self._by_shard.values():
            n.start()

    async def stop(self) -> None:
        for n in self._by_shard.values():
            await n.stop()
