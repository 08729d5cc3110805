"""Rows the relay wrote, found again: what identifies one, and whether a
batch's rows are all in their table already."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.storage.clickhouse.schema import DOMAIN_EVENTS, ORDER_LINES, ORDERS, Table
from gateway.storage.clickhouse.store import AnalyticsStore

# What tells one relayed row from every other row of the same (keyspace,
# shard): the event's position with the event's or order's own id. Position
# alone is not enough: rows of other writers (data loaded directly, a
# database re-created or restored from a backup, whose positions repeat) may
# carry the same (keyspace, shard, position). user_id is left out: erasure
# may have blanked it since the row landed.
IDENTITY: dict[str, tuple[str, ...]] = {
    DOMAIN_EVENTS.name: ("position", "event_id"),
    ORDERS.name: ("position", "order_id", "sign"),
    ORDER_LINES.name: ("position", "order_id", "line", "sign"),
}


async def landed(store: AnalyticsStore, table: Table, keyspace: str, shard: int,
                 rows: Sequence[tuple[Any, ...]]) -> bool:
    """Whether every one of `rows` (in the table's column order, all from
    `keyspace` and `shard`) is in `table`, by its IDENTITY. Counting the
    rows at their positions is not enough: rows another writer put at the
    same (keyspace, shard, position) would pass for them, and a relay
    trusting that would never insert its own."""
    keys = IDENTITY[table.name]
    at = [table.column_names.index(k) for k in keys]
    wanted = {tuple(str(r[i]) for i in at) for r in rows}
    position = table.column_names.index("position")
    positions = sorted({int(r[position]) for r in rows})
    result = await store.query(
        f"""SELECT DISTINCT {", ".join(keys)} FROM {table.name}
            WHERE keyspace = {{keyspace:String}} AND shard = {{shard:UInt16}}
              AND has({{positions:Array(Int64)}}, position)""",
        {"keyspace": keyspace, "shard": shard, "positions": positions})
    return wanted <= {tuple(str(v) for v in row) for row in result.rows}
