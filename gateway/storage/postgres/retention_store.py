"""SQL of the event retention job, on one shard (docs/erasure.md).

Every delete is bounded by a floor cursor: only events at or below it in the
shard's commit order (tx_id, position) go, so an event the relay has not
copied to ClickHouse (or a live projection has not applied) is never
removed. Each statement deletes at most `limit` rows, so its locks are short.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from gateway.records.events import Cursor

# The events the metadata of their stream (see gateway/storage/eventstore/
# streams.py) no longer keeps: below truncate_before (soft delete and
# tombstone set it), beyond the newest max_count, older than max_age_s. An
# absent key (NULL) matches nothing.
_BY_STREAM = """
WITH doomed AS (
    SELECT e.position FROM streams s JOIN events e ON e.stream_id = s.stream_id
    WHERE s.metadata <> '{}'::jsonb
      AND (e.tx_id, e.position) <= ($1::text::xid8, $2)
      AND (e.stream_revision < (s.metadata ->> 'truncate_before')::bigint
           OR e.stream_revision <= s.revision - nullif((s.metadata ->> 'max_count')::bigint, 0)
           OR e.created_at < now() - make_interval(secs => (s.metadata ->> 'max_age_s')::float8))
    LIMIT $3)
DELETE FROM events WHERE position IN (SELECT position FROM doomed)"""

# The events of a domain older than its policy keeps them: streams named
# with one of the prefixes, or (`others`) with none of them.
_BY_AGE = """
WITH doomed AS (
    SELECT position FROM events
    WHERE created_at < now() - make_interval(secs => $4)
      AND (tx_id, position) <= ($1::text::xid8, $2)
      AND (stream_id ^@ ANY($5::text[])) = NOT $6
    LIMIT $3)
DELETE FROM events WHERE position IN (SELECT position FROM doomed)"""


def _count(status: str) -> int:
    return int(status.split()[-1])


async def relayed_through(conn: asyncpg.Connection) -> Cursor | None:
    """The last event the relay copied to ClickHouse (None: nothing yet,
    including a shard without the relay's table)."""
    try:
        row = await conn.fetchrow("SELECT commit, position FROM relay_checkpoint")
    except asyncpg.UndefinedTableError:
        return None
    return Cursor(int(row["commit"]), int(row["position"])) if row else None


async def projected_through(conn: asyncpg.Connection) -> dict[tuple[str, int], Cursor]:
    """Per source shard (keyspace, index): the least position of the live
    generations of the projections kept in this database (none: no
    projection here reads that shard)."""
    try:
        rows = await conn.fetch(
            """SELECT DISTINCT ON (c.source_keyspace, c.shard)
                      c.source_keyspace, c.shard, c.commit, c.position
               FROM projection_checkpoints c
               JOIN projection_generations g
                 ON g.projection = c.projection AND g.generation = c.generation
               ORDER BY c.source_keyspace, c.shard, c.commit, c.position""")
    except asyncpg.UndefinedTableError:
        return {}
    return {(r["source_keyspace"], int(r["shard"])): Cursor(int(r["commit"]), int(r["position"]))
            for r in rows}


async def delete_by_stream(conn: asyncpg.Connection, floor: Cursor, limit: int) -> int:
    """One batch of events their stream's metadata drops; how many went."""
    return _count(await conn.execute(_BY_STREAM, str(floor.commit), floor.position, limit))


async def delete_older(conn: asyncpg.Connection, floor: Cursor, limit: int, max_age_s: float,
                       prefixes: Sequence[str], others: bool = False) -> int:
    """One batch of events older than `max_age_s` in streams starting with one
    of `prefixes` (with `others`: with none of them); how many went."""
    return _count(await conn.execute(
        _BY_AGE, str(floor.commit), floor.position, limit, max_age_s,
        list(prefixes), others))
