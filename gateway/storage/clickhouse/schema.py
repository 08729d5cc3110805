"""The analytics tables, created at start and kept on the policy's retention.

Partitioning: the relayed facts (domain_events, orders, order_lines) are kept
for years (retention.domain_events), so they are partitioned by month: a
month holds few, large parts, queries over a range prune whole months, and
TTL deletes expire rows month by month. The clickstream is large and short
lived (retention.clickstream, 90 days), so it is partitioned by day with
`ttl_only_drop_parts`: an expired day goes as whole parts, without rewriting
anything. Sorting keys start with what reports filter or group on and never
contain user_id, which erasure rewrites with ALTER TABLE ... UPDATE (a key
column cannot be updated).

Every table keeps a deduplication window without replication
(non_replicated_deduplication_window), so an insert retried with the same
insert_deduplication_token counts once.

Strings with few distinct values (currencies, categories, event types, and
in order_lines the products' sku and title) are LowCardinality: stored as a
dictionary and small integer keys, so reading and grouping by them (which
TopProducts does over every line of its range) works on integers.

order_lines carries a projection, PRODUCT_DAYS: its lines summed per
currency, UTC day, category and product, stored inside every part and kept
by ClickHouse itself through inserts, merges, mutations and TTL (so unlike a
materialized view's table it cannot miss or double a batch: it is the same
part). TopProducts reads whole days of its range from it (a few thousand
rows a day instead of every line) and the partial days at the edges from
the lines.

The database itself is created by the store when it connects (client.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from gateway.storage.clickhouse.store import AnalyticsStore

DEDUP_WINDOW = 10000


@dataclass(frozen=True)
class Table:
    name: str
    columns: str
    partition_by: str
    order_by: str
    retention: str  # the key under the analytics policy's `retention`
    settings: str = ""
    projections: tuple[tuple[str, str], ...] = ()  # (name, SELECT ...)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        """The columns in table order: the order of every row inserted."""
        return tuple(column_types(self.columns))

    def ttl(self, seconds: float | None) -> str:
        """The TTL expression as ClickHouse prints it back (so a stored TTL
        compares equal to the one the policy asks for); "" for no TTL."""
        return "" if seconds is None else f"occurred_at + toIntervalSecond({int(seconds)})"

    def create(self, seconds: float | None) -> str:
        ttl = self.ttl(seconds)
        settings = f"non_replicated_deduplication_window = {DEDUP_WINDOW}"
        if self.settings:
            settings += ", " + self.settings
        projections = "".join(f", PROJECTION {name} ({query})"
                              for name, query in self.projections)
        return (f"CREATE TABLE IF NOT EXISTS {self.name} ({self.columns}{projections}) "
                "ENGINE = MergeTree "
                f"PARTITION BY {self.partition_by} ORDER BY ({self.order_by})"
                + (f" TTL {ttl}" if ttl else "")
                + f" SETTINGS {settings}")


_EVENT_TIME = "occurred_at DateTime64(3, 'UTC')"

# A product's net units, revenue and lines (= orders: an order holds a sku
# once) and its last sale per UTC day. A query uses it when it filters and
# groups on these keys only and aggregates these same expressions.
PRODUCT_DAYS = "product_days"
_PRODUCT_DAYS_QUERY = (
    "SELECT currency, toStartOfDay(occurred_at), category, sku, sum(sign * quantity), "
    "sum(sign * revenue_minor), sum(sign), max(occurred_at) "
    "GROUP BY currency, toStartOfDay(occurred_at), category, sku")

DOMAIN_EVENTS = Table(
    "domain_events",
    "keyspace LowCardinality(String), shard UInt16, commit UInt64, position Int64, "
    "event_id UUID, stream_id String, stream_revision Int64, "
    f"event_type LowCardinality(String), {_EVENT_TIME}, user_id String, "
    "payload String",  # JSON, never personal data (that stays sealed in PostgreSQL)
    "toYYYYMM(occurred_at)", "event_type, occurred_at, keyspace, shard, position",
    "domain_events")
ORDERS = Table(
    "orders",
    f"order_id String, user_id String, {_EVENT_TIME}, currency LowCardinality(String), "
    "total_minor Int64, items UInt32, "
    # +1 OrderPlaced, -1 OrderCancelled with the placement's time and
    # amounts, so a day's sum(sign * total_minor) nets out.
    "sign Int8, keyspace LowCardinality(String), shard UInt16, position Int64",
    "toYYYYMM(occurred_at)", "currency, occurred_at, order_id", "domain_events")
ORDER_LINES = Table(
    "order_lines",
    f"order_id String, line UInt16, user_id String, {_EVENT_TIME}, "
    "currency LowCardinality(String), sku LowCardinality(String), "
    "title LowCardinality(String), "
    "category LowCardinality(String), quantity Int64, "
    "revenue_minor Int64, "  # quantity * unit price
    "sign Int8, keyspace LowCardinality(String), shard UInt16, position Int64",
    "toYYYYMM(occurred_at)", "currency, occurred_at, sku", "domain_events",
    projections=((PRODUCT_DAYS, _PRODUCT_DAYS_QUERY),))
CLICKSTREAM = Table(
    "clickstream",
    "event_id UUID, event_type LowCardinality(String), "
    f"{_EVENT_TIME}, user_id String, session_id String, sku String, query String, "
    "page String, quantity Int64, properties Map(String, String), "
    "ingested_at DateTime64(3, 'UTC')",
    "toYYYYMMDD(occurred_at)", "event_type, occurred_at", "clickstream",
    settings="ttl_only_drop_parts = 1")
TABLES = (DOMAIN_EVENTS, ORDERS, ORDER_LINES, CLICKSTREAM)

_TTL_IN_ENGINE = re.compile(r" TTL (.+?)(?: SETTINGS |$)")


def column_types(columns: str) -> dict[str, str]:
    """`a String, b Map(String, String)` -> {"a": "String", "b": "Map(String, String)"}:
    split on the commas outside parentheses."""
    out: dict[str, str] = {}
    depth, start = 0, 0
    for i, char in enumerate(columns + ","):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            name, _, kind = columns[start:i].strip().partition(" ")
            out[name] = kind.strip()
            start = i + 1
    return out


async def _migrate(store: AnalyticsStore, table: Table, created_as: str) -> list[str]:
    """Bring a table an earlier build of this release created up to the one
    above: columns it typed otherwise (order_lines.sku and title were
    String), then projections it lacks. Both run as mutations rewriting the
    existing parts in the background, so a start is not held up; queries
    give the same answers meanwhile (a part without a projection is read
    from its rows). Types go first: ClickHouse refuses to change the type
    of a column a projection uses."""
    found = await store.query(
        "SELECT name, type FROM system.columns "
        "WHERE database = currentDatabase() AND table = {name:String}", {"name": table.name})
    current = {str(name): str(kind) for name, kind in found.rows}
    changes = []
    for column, wanted in column_types(table.columns).items():
        if current.get(column, wanted) != wanted:
            await store.command(f"ALTER TABLE {table.name} MODIFY COLUMN {column} {wanted}")
            changes.append(f"{table.name}.{column}: {current[column]} -> {wanted}")
    for name, query in table.projections:
        if f"PROJECTION {name} (" not in created_as:
            await store.command(f"ALTER TABLE {table.name} ADD PROJECTION {name} ({query})")
            await store.command(f"ALTER TABLE {table.name} MATERIALIZE PROJECTION {name}")
            changes.append(f"{table.name}: projection {name} added")
    return changes


async def ensure_schema(store: AnalyticsStore, retention: Mapping[str, float]) -> list[str]:
    """Create missing tables; bring an earlier build's tables up to these
    (_migrate) and a table's TTL to `retention` (seconds to keep, by each
    table's retention key; a missing key keeps rows for ever: the analytics
    policy's retention). Returns what changed, for the startup log."""
    changes: list[str] = []
    for table in TABLES:
        seconds = retention.get(table.retention)
        await store.command(table.create(seconds))
        found = await store.query(
            "SELECT engine_full, create_table_query FROM system.tables "
            "WHERE database = currentDatabase() AND name = {name:String}",
            {"name": table.name})
        engine, created_as = (str(v) for v in found.rows[0])
        changes += await _migrate(store, table, created_as)
        match = _TTL_IN_ENGINE.search(engine)
        current = match.group(1) if match else ""
        wanted = table.ttl(seconds)
        if current == wanted:
            continue
        if wanted:
            # Existing parts are re-evaluated in the background (the
            # default materialize_ttl_after_modify); start is not held up.
            await store.command(f"ALTER TABLE {table.name} MODIFY TTL {wanted}")
        else:
            await store.command(f"ALTER TABLE {table.name} REMOVE TTL")
        changes.append(f"{table.name}: TTL {current or 'none'} -> {wanted or 'none'}")
    return changes
