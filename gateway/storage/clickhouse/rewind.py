"""The relayed rows of a source shard beyond a point, removed: what a
restore of that shard to an earlier point leaves in ClickHouse (events the
shard no longer has, or has again below positions it will hand out anew).

The relay copies the shard's events again from its restored checkpoint
under a new epoch (relay_store.new_epoch), so what still exists comes back
and what is gone stays gone.
"""

from __future__ import annotations

from gateway.records.events import Cursor
from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore

_SYNC = {"mutations_sync": 2}
_SHARD = "keyspace = {keyspace:String} AND shard = {shard:UInt16}"
# Positions per mutation: a long list is one large IN set per part.
_CHUNK = 50_000


async def drop_beyond(store: AnalyticsStore, keyspace: str, shard: int, at: Cursor
                      ) -> dict[str, int]:
    """Delete the rows of (keyspace, shard) after `at` in the relay's commit
    order; rows deleted per table. Order facts carry their event's position
    only, so they go by the positions of the events beyond."""
    params: dict[str, object] = {"keyspace": keyspace, "shard": shard, "commit": at.commit,
                                 "position": at.position}
    beyond = f"{_SHARD} AND (commit, position) > ({{commit:UInt64}}, {{position:Int64}})"
    found = await store.query(f"SELECT position FROM {DOMAIN_EVENTS.name} WHERE {beyond}",
                              params)
    positions = sorted({int(row[0]) for row in found.rows})
    counts = {DOMAIN_EVENTS.name: len(found.rows)}
    for table in (ORDERS, ORDER_LINES):
        counts[table.name] = 0
        for i in range(0, len(positions), _CHUNK):
            chunk = {"keyspace": keyspace, "shard": shard, "positions": positions[i:i + _CHUNK]}
            where = f"{_SHARD} AND has({{positions:Array(Int64)}}, position)"
            n = await store.query(f"SELECT count() FROM {table.name} WHERE {where}", chunk)
            counts[table.name] += int(n.rows[0][0])
            await store.command(f"ALTER TABLE {table.name} DELETE WHERE {where}", chunk, _SYNC)
    if positions:
        await store.command(f"ALTER TABLE {DOMAIN_EVENTS.name} DELETE WHERE {beyond}", params,
                            _SYNC)
    return counts
