"""The ClickHouse side of the cross-store verification (domain/verify/):
what the relay put there for one source shard, counted and summed the way
storage/postgres/verify_store.py counts the shard's events."""

from __future__ import annotations

from gateway.records.events import Cursor
from gateway.records.verify import EventWindow
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore

# The first 60 bits of md5(event id as text), as PostgreSQL's EVENT_HASH
# (verify_store.py): the first 8 bytes of the digest read big-endian, less
# their last 4 bits. Summed as UInt128, so no sum can overflow.
EVENT_HASH = ("toUInt128(bitShiftRight(reinterpretAsUInt64(reverse(substring("
              "MD5(toString(event_id)), 1, 8))), 4))")
_SOURCE = "keyspace = {keyspace:String} AND shard = {shard:UInt16}"
_UPTO = "(commit, position) <= ({commit:UInt64}, {position:Int64})"
_IN_RANGE = "position BETWEEN {lo:Int64} AND {hi:Int64}"


def _params(keyspace: str, shard: int, upto: Cursor, lo: int, hi: int) -> dict[str, object]:
    return {"keyspace": keyspace, "shard": shard, "commit": upto.commit,
            "position": upto.position, "lo": lo, "hi": hi}


async def windows(store: AnalyticsStore, keyspace: str, shard: int, upto: Cursor, lo: int,
                  hi: int, width: int) -> list[EventWindow]:
    """Per bucket of `width` positions within [lo, hi]: the shard's
    domain_events rows at or below `upto` (count, checksum), and its orders
    and order_lines rows at those events' positions."""
    params = {**_params(keyspace, shard, upto, lo, hi), "width": width}
    events = f"{_SOURCE} AND {_UPTO} AND {_IN_RANGE}"
    facts_at = (f"{_SOURCE} AND {_IN_RANGE} AND position IN "
                f"(SELECT position FROM {DOMAIN_EVENTS.name} WHERE {events})")
    result = await store.query(
        f"""SELECT b, sum(n), sum(s), sum(o), sum(l) FROM (
                SELECT intDiv(position, {{width:Int64}}) AS b, count() AS n,
                       sum({EVENT_HASH}) AS s, toUInt64(0) AS o, toUInt64(0) AS l
                FROM {DOMAIN_EVENTS.name} WHERE {events} GROUP BY b
                UNION ALL
                SELECT intDiv(position, {{width:Int64}}) AS b, toUInt64(0), toUInt128(0),
                       count(), toUInt64(0)
                FROM {ORDERS.name} WHERE {facts_at} GROUP BY b
                UNION ALL
                SELECT intDiv(position, {{width:Int64}}) AS b, toUInt64(0), toUInt128(0),
                       toUInt64(0), count()
                FROM {ORDER_LINES.name} WHERE {facts_at} GROUP BY b)
            GROUP BY b ORDER BY b""", params)
    return [EventWindow(int(b), int(n), int(s), int(o), int(ln)) for b, n, s, o, ln in result.rows]


async def event_ids(store: AnalyticsStore, keyspace: str, shard: int, upto: Cursor, lo: int,
                    hi: int) -> dict[str, int]:
    """event id -> position of the shard's domain_events rows at or below
    `upto` in [lo, hi]."""
    result = await store.query(
        f"""SELECT toString(event_id), position FROM {DOMAIN_EVENTS.name}
            WHERE {_SOURCE} AND {_UPTO} AND {_IN_RANGE}""",
        _params(keyspace, shard, upto, lo, hi))
    return {str(i): int(p) for i, p in result.rows}


async def beyond(store: AnalyticsStore, keyspace: str, shard: int, after: Cursor, limit: int
                 ) -> list[Cursor]:
    """The cursors of the shard's domain_events rows after `after` (up to
    `limit`, lowest first)."""
    result = await store.query(
        f"""SELECT commit, position FROM {DOMAIN_EVENTS.name}
            WHERE {_SOURCE} AND (commit, position) > ({{commit:UInt64}}, {{position:Int64}})
            ORDER BY commit, position LIMIT {{limit:UInt32}}""",
        {"keyspace": keyspace, "shard": shard, "commit": after.commit,
         "position": after.position, "limit": limit})
    return [Cursor(int(c), int(p)) for c, p in result.rows]
