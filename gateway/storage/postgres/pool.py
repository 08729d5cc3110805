"""Connection pools for PostgreSQL keyspaces, with a span around every call.

A keyspace is a list of shards, each owning a range of keyspace ids; an
unsharded keyspace has exactly one shard owning the whole space. A shard is
its primary's pool plus optional streaming replicas, each a pool of its own
whose replay position and staleness the replication tracker keeps current.
Connection failures become UNAVAILABLE naming the keyspace and shard, so a
caller and an operator both see which backend is down.

Failing fast. Every connection is bounded by the call's backend deadline
(request_context), acquire and statements alike, so a server that stops
answering ends a call in UNAVAILABLE while its caller still listens. Each
server is probed on a dedicated connection with a short bound (`check`); a
probe that fails opens the shard's circuit: calls in flight on it are cut at
once and new ones fail without touching the pool. The circuit half-opens on
every later probe and closes when one answers. A call that meets a
connection error or runs out of time asks for a probe right away, so a hung
server is found within about a probe's bound, not the next round.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import asyncpg
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from gateway import request_context
from gateway.errors import DeadlineExceeded, Unavailable
from gateway.secrets import redact_url
from gateway.storage.postgres.fence import fenced_error
from gateway.storage.postgres.keyspace_id import SPACE, KeyRange
from gateway.storage.postgres.range_map import RangeMap
from gateway.tasks import stop_tasks
from gateway.telemetry import (
    CIRCUIT_TRIPS,
    PRIMARY_TIMELINE,
    db_attributes,
    export_pool,
    start_span,
)

log = logging.getLogger(__name__)

# How long closing a pool waits for connections in use to be released.
CLOSE_WAIT_S = 5.0

# A server that does not answer a probe (connect included) within this, and
# then a second one on a fresh connection within CONFIRM_TIMEOUT_S, is hung.
PROBE_TIMEOUT_S = 0.8
CONFIRM_TIMEOUT_S = 0.5
# A probe's timeout that fires this much late was the gateway's own stall.
STALL_S = 0.5
# With the circuit open on a server that refused its probe, a call probes
# again if the last probe is older than this (see Shard._half_open).
HALF_OPEN_AFTER_S = 0.1

# One round trip that says whether the server is alive, whether it still is
# a primary (a failover may have demoted it), and a primary's timeline (a
# promotion starts a new one).
PROBE_SQL = """
SELECT pg_is_in_recovery() AS standby,
       CASE WHEN pg_is_in_recovery() THEN 0
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
       END AS timeline
"""

# Errors that mean "the server is not there", as opposed to a bad statement.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)

# A connection whose server vanished mid-exchange (a crash during a
# failover) can be left waiting for a message that never comes; asyncpg then
# refuses the next statement with this.
BROKEN_CONNECTION = asyncpg.exceptions.InternalClientError

# A probe that fails with any of these finds the server down.
_PROBE_ERRORS: tuple[type[BaseException], ...] = (
    *CONNECTION_ERRORS, BROKEN_CONNECTION, asyncpg.PostgresError)


class NotPrimary(ConnectionError):
    """The server behind a primary's DSN is not (or no longer) the primary."""


class _Watch:
    """One call's hold on a connection, ended by its deadline (`expire`) or
    by a failed probe (`cut`).

    The deadline cancels the call, as a timeout does: asyncpg then asks the
    server to cancel the statement, so nothing keeps running there. A failed
    probe closes the connection under the call as well: a server that does
    not answer would leave asyncpg's ROLLBACK on the way out waiting for ever
    (a cancel alone cannot end that wait)."""

    def __init__(self, deadline: float | None) -> None:
        self._task = asyncio.current_task()
        self._cancelling = self._task.cancelling() if self._task is not None else 0
        self._conn: asyncpg.Connection | None = None
        self._cancelled = False
        self.fired = False
        self.phase = "acquire"
        self._timer = (asyncio.get_running_loop().call_at(deadline, self.expire)
                       if deadline is not None else None)

    def holding(self, conn: asyncpg.Connection) -> None:
        self._conn, self.phase = conn, "statement"

    def expire(self) -> None:
        if not self.fired:
            self.fired = True
            self._cancel()

    def cut(self) -> None:
        first, self.fired = not self.fired, True
        if self._conn is not None:
            self._conn.terminate()
        elif first:
            self._cancel()

    def _cancel(self) -> None:
        if self._task is not None:
            self._cancelled = True
            self._task.cancel()

    def absorb(self) -> bool:
        """Whether the call's cancellation was ours alone; then it is taken
        back from the task's count, to be raised as an error instead."""
        if not self._cancelled or self._task is None:
            return False
        self._cancelled = False
        return self._task.uncancel() <= self._cancelling

    def done(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


@dataclass(frozen=True)
class PoolSettings:
    min_size: int = 2
    max_size: int = 20
    # Seconds a connection attempt may take before the shard counts as down.
    connect_timeout_s: float = 3.0
    # The DSNs lead to a transaction-mode pooler (PgBouncer): a server
    # connection is ours for one transaction only, so a named prepared
    # statement would be missing (or another client's) on the next one.
    transaction_pooler: bool = False

    @property
    def statement_cache_size(self) -> int:
        """asyncpg's prepared statement cache: 0 makes every statement unnamed,
        parsed again with each execution (PgBouncer 1.18 does not track named
        ones; 1.21+ could with max_prepared_statements)."""
        return 0 if self.transaction_pooler else 100


async def skip_session_reset(conn: asyncpg.Connection) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own rollback of an
    open transaction. The gateway leaves no session state behind (only SET
    LOCAL, transaction advisory locks, no LISTEN, no cursors; which is also
    what lets it run behind a transaction-mode pooler), so asyncpg's default
    reset query (RESET ALL, UNLISTEN *, ...) would be one wasted round trip
    per checkout, about a quarter of the statements an order sends."""


def redact(dsn: str) -> str:
    """host:port of a DSN, without credentials, for topology and logs; every
    host of a multi-host DSN ("h1:5432,h2:5432"), as libpq lists them."""
    hosts = urlsplit(dsn).netloc.rpartition("@")[2]
    out = []
    for host in hosts.split(",") if hosts else ["localhost"]:
        name, colon, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not colon:
            name, port = host, ""
        out.append(f"{name or 'localhost'}:{port or 5432}")
    return ",".join(out)


def parse_lsn(text: str) -> int:
    """A WAL position "16/B374D848" as a number that orders like the WAL."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class Shard:
    """One PostgreSQL server of a shard: its primary, or one of its replicas."""

    keyspace: str
    index: int
    dsn: str
    settings: PoolSettings
    # "primary", or "replica<N>" for the N-th replica of the shard.
    role: str = "primary"
    replicas: list[Shard] = field(default_factory=list)
    pool: asyncpg.Pool | None = None
    # The circuit: closed (True) while the last probe answered. Open, calls
    # fail at once; only `check` and `trip` change it.
    healthy: bool = False
    last_error: str = ""
    # Primaries: the newest timeline any connection saw (0: not yet known),
    # and per timeline of ours, where each earlier one ended (timelines.py).
    timeline: int = 0
    timeline_ends: dict[int, dict[int, int]] = field(default_factory=dict)
    # Replicas only, kept by the replication tracker: the WAL position
    # replayed (0: unknown) and an upper bound of the staleness in seconds.
    replay_lsn: int = 0
    staleness_s: float = float("inf")
    _labels: str = field(init=False, default="")
    _attributes: dict[str, dict[str, AttributeValue]] = field(init=False, default_factory=dict)
    # The bounds of the calls in flight, so a failed probe can cut them.
    _watches: set[_Watch] = field(init=False, default_factory=set)
    _probe_conn: asyncpg.Connection | None = field(init=False, default=None)
    _probing: asyncio.Task[bool] | None = field(init=False, default=None)
    # When the last probe ended, and whether it failed by timing out.
    _probed_at: float = field(init=False, default=0.0)
    _probe_hung: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._labels = f"postgres/{self.keyspace}/{self.index}/{self.role}"

    @property
    def is_replica(self) -> bool:
        return self.role != "primary"

    @functools.cached_property
    def address(self) -> str:
        """redact(dsn), worked out once: every connection's span names it."""
        return redact(self.dsn)

    def _span_attributes(self, operation: str) -> dict[str, AttributeValue]:
        """A connection span's attributes, worked out once per operation."""
        attributes = self._attributes.get(operation)
        if attributes is None:
            attributes = {
                **db_attributes("postgresql", operation, self.address,
                                urlsplit(self.dsn).path.lstrip("/")),
                "datagw.keyspace": self.keyspace,
                "datagw.shard": self.index,
                "datagw.target": "replica" if self.is_replica else "primary",
            }
            self._attributes[operation] = attributes
        return attributes

    @property
    def name(self) -> str:
        return self._labels

    async def open(self) -> None:
        try:
            self.pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.settings.min_size,
                max_size=self.settings.max_size,
                timeout=self.settings.connect_timeout_s,
                command_timeout=None,
                reset=skip_session_reset,
                init=None if self.is_replica else self._vouch_for_primary,
                statement_cache_size=self.settings.statement_cache_size,
            )
            self.healthy = True
        except CONNECTION_ERRORS as exc:
            # Start anyway: the shard may come up later and the probes will
            # notice; requests routed here get UNAVAILABLE meanwhile.
            self.healthy = False
            self.last_error = type(exc).__name__
            log.warning("postgres shard %s at %s unreachable at start: %s", self.name,
                        redact(self.dsn), redact_url(str(exc)))

    async def close(self) -> None:
        """Close the pool; connections still held after CLOSE_WAIT_S are cut.

        asyncpg's close waits for every connection to be released, for ever:
        one held by a task nobody cancelled would hang the gateway's stop.
        """
        await stop_tasks(self._probing, what=f"{self.name} probe")
        self._drop_probe_connection()
        if self.pool is not None:
            pool, self.pool = self.pool, None
            try:
                await asyncio.wait_for(pool.close(), CLOSE_WAIT_S)
            except TimeoutError:
                log.warning("keyspace %s shard %s: connections still in use after %gs at "
                            "close; terminating them", self.keyspace, self.index, CLOSE_WAIT_S)
                pool.terminate()

    def unavailable(self, exc: BaseException | None = None, cause: str = "") -> Unavailable:
        return Unavailable(
            f"keyspace {self.keyspace!r} shard {self.index} is unavailable",
            reason="BACKEND_UNAVAILABLE",
            metadata={
                "backend": "postgres",
                "keyspace": self.keyspace,
                "shard": str(self.index),
                "target": self.role,
                "address": redact(self.dsn),
                # Without an exception: why the pool could not open, if it tried.
                "cause": cause or (type(exc).__name__ if exc else
                                   self.last_error or "not connected"),
            },
        )

    def out_of_time(self, phase: str) -> DeadlineExceeded:
        budget = request_context.call_budget_s.get()
        return DeadlineExceeded(
            f"deadline exceeded waiting on keyspace {self.keyspace!r} shard {self.index} "
            f"({phase}); the backend work was cancelled",
            reason="DEADLINE_EXCEEDED",
            metadata={
                **({"deadline_s": f"{budget:.3f}"} if budget is not None else {}),
                "backend": "postgres", "keyspace": self.keyspace, "shard": str(self.index),
                "target": self.role, "phase": phase,
            },
        )

    @asynccontextmanager
    async def connection(self, operation: str) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection inside a client span named after `operation`,
        bounded by the call's backend deadline."""
        pool = self.pool
        if not self.healthy or pool is None:
            if not await self._half_open():
                raise self.unavailable(cause=self.last_error or "not connected")
            pool = self.pool
            assert pool is not None
        with start_span(
            operation,
            kind=SpanKind.CLIENT,
            attributes=self._span_attributes(operation),
        ):
            watch = _Watch(request_context.backend_deadline.get())
            self._watches.add(watch)
            try:
                conn = await pool.acquire()
                try:
                    watch.holding(cast(asyncpg.Connection, conn))
                    # The pool hands out a proxy that behaves as a Connection.
                    yield cast(asyncpg.Connection, conn)
                except asyncpg.PostgresError as exc:
                    # The shard's fence refused a write of a range it does
                    # not own (or is cutting over): retryable, not a bug.
                    fenced = fenced_error(self.keyspace, self.index, exc)
                    if fenced is None:
                        raise
                    raise fenced from exc
                except (asyncio.CancelledError, BROKEN_CONNECTION):
                    # The caller gone mid-statement, or the server vanished
                    # mid-exchange and left the protocol stuck: the connection
                    # is closed, not handed back to wait for an answer.
                    conn.terminate()
                    raise
                finally:
                    try:
                        await pool.release(conn)
                    except BROKEN_CONNECTION:
                        # Closed under the call by a cut, the connection may
                        # be back in the pool already.
                        if not watch.fired:
                            raise
            except asyncio.CancelledError:
                # Our own cancel, of a call still waiting for a connection,
                # becomes the error; any other cancel stays a cancel.
                if not watch.absorb():
                    raise
                raise self._cut(watch) from None
            except CONNECTION_ERRORS as exc:
                # A bad query argument is an InterfaceError too, but a bug of
                # ours, not a shard that is down: let it become INTERNAL.
                if isinstance(exc, asyncpg.exceptions.DataError):
                    raise
                self.suspect()
                watch.absorb()  # a cut that ended a ROLLBACK our deadline's cancel began
                raise (self._cut(watch) if watch.fired else self.unavailable(exc)) from exc
            except BROKEN_CONNECTION as exc:
                log.warning("postgres %s: a connection in a broken protocol state was "
                            "closed: %s", self.name, exc)
                self.suspect()
                raise self.unavailable(exc) from exc
            finally:
                watch.done()
                self._watches.discard(watch)

    def _cut(self, watch: _Watch) -> Unavailable | DeadlineExceeded:
        """The error of a call its watch cut: by a failed probe, UNAVAILABLE;
        by its deadline on a server that still answers its probes, the work
        was slow (a lock, a long query, no free connection), not the server
        down: DEADLINE_EXCEEDED."""
        self.suspect()
        if not self.healthy:
            return self.unavailable(cause=self.last_error)
        return self.out_of_time(watch.phase)

    async def open_all(self) -> None:
        await self.open()
        for replica in self.replicas:
            await replica.open()

    async def close_all(self) -> None:
        for node in (self, *self.replicas):
            await node.close()

    def trip(self, cause: str, kind: str) -> None:
        """Open the circuit: new calls fail at once, calls in flight are cut.
        `kind` is the metric's label: hung, refused or not_primary."""
        if self.healthy:
            log.warning("postgres %s at %s is down (%s): its calls fail at once until a "
                        "probe answers", self.name, redact(self.dsn), cause)
            CIRCUIT_TRIPS.labels(self.name, kind).inc()
        self.healthy, self.last_error = False, cause
        for watch in list(self._watches):
            watch.cut()

    async def _half_open(self) -> bool:
        """With the circuit open, whether this call may go ahead after all.

        A server that refused the last probe outright (down, restarting) is
        probed again, at most every HALF_OPEN_AFTER_S, and the call waits for
        that quick answer: a server back up serves at once, not from the next
        round. One that let the last probe time out (hung) is not: its calls
        fail at once and the rounds probe it."""
        if self._probe_hung:
            return False
        under_way = self._probing is not None and not self._probing.done()
        if not under_way and (asyncio.get_running_loop().time() - self._probed_at
                              < HALF_OPEN_AFTER_S):
            return False
        return await asyncio.shield(self._probe_task()) and self.pool is not None

    def suspect(self) -> None:
        """Probe now rather than at the next round: a call just failed here."""
        self._probe_task()

    async def check(self) -> bool:
        """Probe the server (sharing a probe already under way); True if it answered."""
        # Shielded: a caller that stops waiting leaves the probe to finish,
        # and a probe is bounded by PROBE_TIMEOUT_S on its own.
        healthy = await asyncio.shield(self._probe_task())
        self.export_pool_metrics()
        return healthy

    def _probe_task(self) -> asyncio.Task[bool]:
        """The probe under way, or a new one: one at a time per server."""
        if self._probing is None or self._probing.done():
            self._probing = asyncio.get_running_loop().create_task(self._probe())
        return self._probing

    async def _probe(self) -> bool:
        try:
            return await self._probe_once()
        finally:
            self._probed_at = asyncio.get_running_loop().time()

    async def _ask(self, bound_s: float) -> asyncpg.Record | None:
        """The probe's one round trip, connect included, within `bound_s`."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(bound_s):
                if self._probe_conn is None or self._probe_conn.is_closed():
                    self._probe_conn = await asyncpg.connect(
                        self.dsn, timeout=bound_s, statement_cache_size=0)
                return await self._probe_conn.fetchrow(PROBE_SQL)
        except TimeoutError:
            self._drop_probe_connection()
            if loop.time() - started - bound_s > STALL_S:
                # The event loop itself stood still past the bound (a blocked
                # thread, a long pause): that says nothing about the server.
                return None
            raise
        except _PROBE_ERRORS:
            self._drop_probe_connection()
            raise

    async def _probe_once(self) -> bool:
        try:
            try:
                row = await self._ask(PROBE_TIMEOUT_S)
            except TimeoutError:
                # Once more on a fresh connection before calling the server
                # hung: the answer may have been waiting while the gateway
                # itself was busy (a stall that began after the probe did).
                row = await self._ask(CONFIRM_TIMEOUT_S)
        except TimeoutError:
            self._probe_hung = True
            self.trip(f"no answer to a probe within {PROBE_TIMEOUT_S:g}s", "hung")
            return False
        except _PROBE_ERRORS as exc:
            self._probe_hung = False
            self.trip(type(exc).__name__, "refused")
            return False
        if row is None:
            log.info("postgres %s: the gateway stalled during its probe; probing again "
                     "next round", self.name)
            return self.healthy
        self._probe_hung = False
        assert row is not None
        if not self.is_replica:
            try:
                if await self._note_primary(row) and self.pool is not None:
                    # Connections made before may reach the old primary still.
                    await self.pool.expire_connections()
            except NotPrimary as exc:
                # Drop every connection so the next ones look for the primary
                # again (a multi-host DSN with target_session_attrs).
                self._drop_probe_connection()
                if self.pool is not None:
                    await self.pool.expire_connections()
                self.trip(str(exc), "not_primary")
                return False
        if self.pool is None:
            await self.open()
            return self.healthy
        if not self.healthy:
            log.info("postgres %s at %s answers again", self.name, redact(self.dsn))
        self.healthy, self.last_error = True, ""
        return True

    async def _vouch_for_primary(self, conn: asyncpg.Connection) -> None:
        """Run on each new pooled connection of a primary, before any call
        uses it: a standby, or a server on an older timeline than one seen
        already (a demoted primary come back), is refused."""
        row = await conn.fetchrow(PROBE_SQL)
        assert row is not None
        await self._note_primary(row)

    async def _note_primary(self, row: asyncpg.Record) -> bool:
        """Check a primary's probe row; True if it shows a timeline newer
        than one seen before (a failover)."""
        if row["standby"]:
            raise NotPrimary("read-only: no longer the primary")
        timeline = int(row["timeline"])
        if timeline < self.timeline:
            raise NotPrimary(f"a primary on timeline {timeline}, older than {self.timeline}")
        previous, self.timeline = self.timeline, timeline
        PRIMARY_TIMELINE.labels(self.name).set(timeline)
        if previous in (0, timeline):
            return False
        log.warning("postgres %s: a new primary on timeline %d (was %d): a failover",
                    self.name, timeline, previous)
        return True

    def _drop_probe_connection(self) -> None:
        conn, self._probe_conn = self._probe_conn, None
        if conn is not None:
            conn.terminate()

    def pool_stats(self) -> tuple[int, int, int]:
        """(max, open, in use) connections."""
        if self.pool is None:
            return self.settings.max_size, 0, 0
        size = self.pool.get_size()
        return self.pool.get_max_size(), size, size - self.pool.get_idle_size()

    def export_pool_metrics(self) -> None:
        export_pool(self.name, self.pool_stats())


async def _no_refresh() -> None:
    return None


@dataclass
class Keyspace:
    name: str
    shards: list[Shard]
    # Which shard serves which range; replaced whenever the control table
    # has a newer version (domain/resharding/maps.py).
    map: RangeMap = field(default_factory=lambda: RangeMap(1, ((KeyRange(0, SPACE), 0),)))
    # Reads the control table now (set by the map watcher): a write the
    # fence refused as moved calls it before it retries.
    refresh_map: Callable[[], Awaitable[object]] = _no_refresh

    @property
    def single(self) -> Shard:
        """The shard of an unsharded keyspace."""
        return self.shards[0]

    @property
    def sharded(self) -> bool:
        return len(self.shards) > 1

    def shard_for(self, ksid: int) -> Shard:
        """The shard whose range holds `ksid` in the newest map seen."""
        return self.shards[self.map.shard_for(ksid)]

    def ranges_text(self, index: int) -> str:
        """The ranges shard `index` serves, as "-40,c0-" ("" when none)."""
        return ",".join(str(r) for r in self.map.ranges_of(index))

    def nodes(self) -> list[Shard]:
        """Every server of the keyspace: each primary, then its replicas."""
        return [node for shard in self.shards for node in (shard, *shard.replicas)]

    async def open(self) -> None:
        for shard in self.shards:
            await shard.open_all()

    async def close(self) -> None:
        for shard in self.shards:
            await shard.close_all()


def one(row: asyncpg.Record | None) -> asyncpg.Record:
    """The row of a statement that cannot miss (it updates a row we hold locked)."""
    if row is None:
        raise AssertionError("a statement on a locked row returned nothing")
    return row
