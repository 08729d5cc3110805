"""events_vs_analytics: every source shard's events against what the relay
put in ClickHouse.

Per shard, in the cursor range the relay's checkpoint covers (every event
at or below it is in ClickHouse), cut into position windows: the count and
an order-independent checksum of the event ids on both sides, and the
orders/order_lines rows the relay makes of the order events. A window that
differs is drilled into by event id: an event PostgreSQL has and ClickHouse
lacks is lost (ERROR); one ClickHouse has and PostgreSQL lacks was removed
by event retention (INFO: ClickHouse keeps facts longer), and its window's
order rows cannot be compared. Rows beyond the checkpoint that no pending
batch accounts for are drift (ERROR): what a PostgreSQL restored to an
earlier point leaves behind in ClickHouse.
"""

from __future__ import annotations

import math

from gateway.domain.verify.context import MAX_LISTED, Run, reading, where
from gateway.records.events import Cursor
from gateway.records.verify import (
    ERROR,
    EVENTS_VS_ANALYTICS,
    INFO,
    CheckResult,
    EventWindow,
    Finding,
)
from gateway.storage.clickhouse import verify as ch
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore
from gateway.storage.postgres import relay_store
from gateway.storage.postgres import verify_store as pg
from gateway.storage.postgres.pool import Shard

# A run compares at most this many windows per shard (more positions make
# wider windows).
MAX_WINDOWS = 256
MIN_WIDTH = 1000
# A window that retention thinned compares the order rows of what is left in
# at most this many runs between the events it took (else it is skipped).
MAX_SEGMENTS = 32
# Rows beyond the checkpoint read at most (the finding says "at least").
BEYOND_LIMIT = 10_000


def _range_text(lo: int, hi: int) -> str:
    return f"positions {lo}-{hi}"


def _bound(cp: relay_store.Checkpoint) -> Cursor:
    """Everything at or below this may be in ClickHouse: the checkpoint, or
    the pending batch being inserted."""
    return max(cp.at, cp.pending) if cp.pending is not None else cp.at


def _window(run: Run, lo: int, hi: int) -> tuple[int, int]:
    """The positions to compare: all of [lo, hi], or a random run of them
    covering the sample fraction."""
    if run.exhaustive:
        return lo, hi
    span = hi - lo + 1
    size = max(1, math.ceil(span * run.fraction))
    start = run.rng.randint(lo, hi - size + 1)
    return start, start + size - 1


async def check(run: Run) -> CheckResult:
    result = CheckResult(EVENTS_VS_ANALYTICS)
    store = run.stores.analytics
    if store is None:
        result.errors.append("no analytics store is configured: nothing is relayed to compare")
        return result
    for ks in run.stores.event_keyspaces:
        for shard in ks.shards:
            async with reading(result, where(shard)):
                await _shard(run, store, shard, result)
    return result


async def _shard(run: Run, store: AnalyticsStore, shard: Shard, result: CheckResult) -> None:
    async with shard.connection("SELECT verify events") as conn:
        cp = await relay_store.load(conn)
        span = await pg.position_span(conn, cp.at)
    result.count("shards")
    if span is not None:
        lo, hi = _window(run, *span)
        await _compare(run, store, shard, cp.at, lo, hi, result)
    await _beyond(store, shard, cp, result)


async def _compare(run: Run, store: AnalyticsStore, shard: Shard, upto: Cursor, lo: int,
                   hi: int, result: CheckResult) -> None:
    width = max(MIN_WIDTH, math.ceil((hi - lo + 1) / MAX_WINDOWS))
    async with shard.connection("SELECT verify events") as conn:
        ours = {w.bucket: w for w in await pg.event_windows(conn, upto, lo, hi, width)}
    theirs = {w.bucket: w for w in await ch.windows(store, shard.keyspace, shard.index, upto,
                                                       lo, hi, width)}
    for bucket in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(bucket), theirs.get(bucket)
        w_lo, w_hi = max(lo, bucket * width), min(hi, bucket * width + width - 1)
        result.count("windows")
        result.count("events", a.events if a else 0)
        if a is not None and b is not None and (a.events, a.checksum) == (b.events, b.checksum):
            _order_facts(shard, w_lo, w_hi, a, b, result)
            continue
        await _drill(store, shard, upto, w_lo, w_hi, result)


def _order_facts(shard: Shard, lo: int, hi: int, a: EventWindow, b: EventWindow,
                 result: CheckResult) -> None:
    result.count("order_rows", a.orders)
    for table, want, got in ((ORDERS.name, a.orders, b.orders),
                             (ORDER_LINES.name, a.lines, b.lines)):
        if want != got:
            result.add(Finding(
                EVENTS_VS_ANALYTICS, "order_rows_mismatch", ERROR, shard.keyspace, shard.index,
                table, _range_text(lo, hi), f"{want} rows (from the order events)",
                f"{got} rows", "rebuild these rows from the events (docs/operations.md)"))


async def _drill(store: AnalyticsStore, shard: Shard, upto: Cursor, lo: int, hi: int,
                 result: CheckResult) -> None:
    """Which events of the window differ."""
    async with shard.connection("SELECT verify event ids") as conn:
        ours = await pg.event_ids(conn, upto, lo, hi)
    theirs = await ch.event_ids(store, shard.keyspace, shard.index, upto, lo, hi)
    rows = await ch.windows(store, shard.keyspace, shard.index, upto, lo, hi, hi - lo + 1)
    doubled = sum(w.events for w in rows) - len(theirs)
    missing = sorted(set(ours) - set(theirs), key=ours.__getitem__)
    kept = sorted(set(theirs) - set(ours), key=theirs.__getitem__)
    key = _range_text(lo, hi)
    if missing:
        listed = ", ".join(f"{i} at {ours[i]}" for i in missing[:MAX_LISTED])
        result.add(Finding(
            EVENTS_VS_ANALYTICS, "missing_in_analytics", ERROR, shard.keyspace, shard.index,
            DOMAIN_EVENTS.name, key, f"{len(ours)} events", f"{len(ours) - len(missing)} of them",
            f"{len(missing)} missing: {listed}"))
    if doubled > 0:
        result.add(Finding(
            EVENTS_VS_ANALYTICS, "duplicated_in_analytics", ERROR, shard.keyspace, shard.index,
            DOMAIN_EVENTS.name, key, f"{len(theirs)} rows (one per event)",
            f"{len(theirs) + doubled} rows", f"{doubled} rows repeat an event"))
    if kept:
        result.add(Finding(
            EVENTS_VS_ANALYTICS, "kept_by_analytics_only", INFO, shard.keyspace, shard.index,
            DOMAIN_EVENTS.name, key, f"{len(ours)} events in PostgreSQL",
            f"{len(theirs)} rows", f"{len(kept)} events no longer in PostgreSQL (event "
            "retention); the order rows of the others are compared"))
        if missing or doubled > 0:
            return
        # Retention took some of the window's events: the order rows of the
        # rest are compared between the positions it took.
        segments = _between(lo, hi, [theirs[i] for i in kept])
        if len(segments) > MAX_SEGMENTS:
            result.count("windows_retention_skipped")
            return
        for s_lo, s_hi in segments:
            async with shard.connection("SELECT verify events") as conn:
                a = _total(await pg.event_windows(conn, upto, s_lo, s_hi, s_hi - s_lo + 1))
            b = _total(await ch.windows(store, shard.keyspace, shard.index, upto, s_lo, s_hi,
                                        s_hi - s_lo + 1))
            if a is not None and b is not None and (a.events, a.checksum) == (
                    b.events, b.checksum):
                _order_facts(shard, s_lo, s_hi, a, b, result)


def _between(lo: int, hi: int, holes: list[int]) -> list[tuple[int, int]]:
    """The runs of [lo, hi] between the positions `holes`."""
    out, start = [], lo
    for hole in sorted(set(holes)):
        if hole > start:
            out.append((start, hole - 1))
        start = max(start, hole + 1)
    if start <= hi:
        out.append((start, hi))
    return out


def _total(windows: list[EventWindow]) -> EventWindow | None:
    """Windows summed into one (a run may straddle two buckets)."""
    if not windows:
        return None
    return EventWindow(windows[0].bucket, sum(w.events for w in windows),
                       sum(w.checksum for w in windows), sum(w.orders for w in windows),
                       sum(w.lines for w in windows))


async def _beyond(store: AnalyticsStore, shard: Shard, cp: relay_store.Checkpoint,
                  result: CheckResult) -> None:
    """ClickHouse rows past the checkpoint that no batch claimed. Read the
    rows first, then the checkpoint again: a batch claimed meanwhile moved
    the bound past its own rows, so only unclaimed rows remain beyond it."""
    rows = await ch.beyond(store, shard.keyspace, shard.index, _bound(cp), BEYOND_LIMIT)
    if not rows:
        return
    async with shard.connection("SELECT relay_checkpoint") as conn:
        bound = _bound(await relay_store.load(conn))
    drift = [c for c in rows if c > bound]
    if drift:
        more = "at least " if len(rows) == BEYOND_LIMIT else ""
        result.add(Finding(
            EVENTS_VS_ANALYTICS, "beyond_checkpoint", ERROR, shard.keyspace, shard.index,
            DOMAIN_EVENTS.name,
            f"cursors {drift[0].commit}-{drift[0].position} .. {drift[-1].commit}-"
            f"{drift[-1].position}", f"no rows after the relay checkpoint "
            f"{bound.commit}-{bound.position}", f"{more}{len(drift)} rows",
            "rows of events PostgreSQL does not have (yet): a restore to an earlier point? "
            "see docs/operations.md"))
