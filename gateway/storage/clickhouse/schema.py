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

The database itself is created by the store when it connects (client.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.policy.model import DomainPolicy
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

    def ttl(self, seconds: float | None) -> str:
        """The TTL expression as ClickHouse prints it back (so a stored TTL
        compares equal to the one the policy asks for); "" for no TTL."""
        return "" if seconds is None else f"occurred_at + toIntervalSecond({int(seconds)})"

    def create(self, seconds: float | None) -> str:
        ttl = self.ttl(seconds)
        settings = f"non_replicated_deduplication_window = {DEDUP_WINDOW}"
        if self.settings:
            settings += ", " + self.settings
        return (f"CREATE TABLE IF NOT EXISTS {self.name} ({self.columns}) ENGINE = MergeTree "
                f"PARTITION BY {self.partition_by} ORDER BY ({self.order_by})"
                + (f" TTL {ttl}" if ttl else "")
                + f" SETTINGS {settings}")


_EVENT_TIME = "occurred_at DateTime64(3, 'UTC')"

TABLES = (
    Table(
        "domain_events",
        "keyspace LowCardinality(String), shard UInt16, commit UInt64, position Int64, "
        "event_id UUID, stream_id String, stream_revision Int64, "
        f"event_type LowCardinality(String), {_EVENT_TIME}, user_id String, "
        "payload String",  # JSON, never personal data (that stays sealed in PostgreSQL)
        "toYYYYMM(occurred_at)", "event_type, occurred_at, keyspace, shard, position",
        "domain_events"),
    Table(
        "orders",
        f"order_id String, user_id String, {_EVENT_TIME}, currency LowCardinality(String), "
        "total_minor Int64, items UInt32, "
        # +1 OrderPlaced, -1 OrderCancelled with the placement's time and
        # amounts, so a day's sum(sign * total_minor) nets out.
        "sign Int8, keyspace LowCardinality(String), shard UInt16, position Int64",
        "toYYYYMM(occurred_at)", "currency, occurred_at, order_id", "domain_events"),
    Table(
        "order_lines",
        f"order_id String, line UInt16, user_id String, {_EVENT_TIME}, "
        "currency LowCardinality(String), sku String, title String, "
        "category LowCardinality(String), quantity Int64, "
        "revenue_minor Int64, "  # quantity * unit price
        "sign Int8, keyspace LowCardinality(String), shard UInt16, position Int64",
        "toYYYYMM(occurred_at)", "currency, occurred_at, sku", "domain_events"),
    Table(
        "clickstream",
        "event_id UUID, event_type LowCardinality(String), "
        f"{_EVENT_TIME}, user_id String, session_id String, sku String, query String, "
        "page String, quantity Int64, properties Map(String, String), "
        "ingested_at DateTime64(3, 'UTC')",
        "toYYYYMMDD(occurred_at)", "event_type, occurred_at", "clickstream",
        settings="ttl_only_drop_parts = 1"),
)

_TTL_IN_ENGINE = re.compile(r" TTL (.+?)(?: SETTINGS |$)")


async def ensure_schema(store: AnalyticsStore, policy: DomainPolicy) -> list[str]:
    """Create missing tables; move a table's TTL to the policy's retention.
    Returns what changed, for the startup log."""
    changes: list[str] = []
    for table in TABLES:
        seconds = policy.retention_s(table.retention)
        await store.command(table.create(seconds))
        found = await store.query(
            "SELECT engine_full FROM system.tables "
            "WHERE database = currentDatabase() AND name = {name:String}",
            {"name": table.name})
        match = _TTL_IN_ENGINE.search(str(found.rows[0][0]))
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
