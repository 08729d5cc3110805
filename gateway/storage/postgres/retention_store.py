"""SQL of the retention job, on one shard (docs/erasure.md, docs/policies.md).

Every delete of events is bounded by a floor cursor: only events at or below
it in the shard's commit order (tx_id, position) go, so an event the relay
has not copied to ClickHouse (or a live projection has not applied) is never
removed. The other rows with a retention (request ids, finished sagas,
orphaned email lookup rows) go by age alone. Each statement deletes at most
`limit` rows, so its locks are short.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from gateway.records.events import Cursor
from gateway.storage.postgres.keyspace_id import KeyRange
from gateway.storage.postgres.range_map import served

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


# The rows past an age, by table: what makes a row old and which rows may go
# at all (a running or compensating saga never does). Keys are the tables a
# policy's retention names (besides events).
_AGED = {
    "idempotency_keys": "created_at < now() - make_interval(secs => $1)",
    "sagas": "state IN ('completed', 'compensated') AND updated_at < now() - make_interval(secs "
             "=> $1)",
}
_PRIMARY_KEY = {"idempotency_keys": "request_id", "sagas": "saga_id"}
AGED_TABLES = tuple(_AGED)


def _owned(table: str, ranges: list[KeyRange] | None, first_arg: int
           ) -> tuple[str, list[bytes | None]]:
    """The rows of `ranges` (None: every row, a keyspace without ranges). A
    shard holds copies of rows it does not serve during a move (range_map.
    served): the copy on the target is the move's to keep equal to the
    source, so only the shard serving a row removes it (and a move captures
    that like any delete). Request ids recorded before ranges existed have
    no keyspace id and stay on their shard."""
    if ranges is None:
        return "TRUE", []
    condition, bounds = served(ranges, first_arg)
    if table == "idempotency_keys":
        condition = f"({condition} OR keyspace_id IS NULL)"
    return condition, bounds


async def delete_aged(conn: asyncpg.Connection, table: str, max_age_s: float, limit: int,
                      ranges: list[KeyRange] | None) -> int:
    """One batch of `table`'s rows past `max_age_s` (AGED_TABLES) in `ranges`
    (the ones the shard serves; None: a keyspace without ranges); how many
    went."""
    key = _PRIMARY_KEY[table]
    owned, bounds = _owned(table, ranges, 3)
    return _count(await conn.execute(
        f"DELETE FROM {table} WHERE {key} IN "
        f"(SELECT {key} FROM {table} WHERE {_AGED[table]} AND {owned} LIMIT $2)",
        max_age_s, limit, *bounds))


async def count_past_retention(conn: asyncpg.Connection, table: str, age_s: float,
                               ranges: list[KeyRange] | None = None) -> int:
    """How many rows of `table` (AGED_TABLES) are past `age_s`: what the
    retention job has still to remove (a check of it: a count that stays
    above zero for longer than the job's interval means the job is not
    running). Unfinished sagas never count. `ranges`: only rows of these
    (the shard's, so a move's copies are not counted twice); None: every
    row. A table the shard does not have counts 0."""
    owned, bounds = _owned(table, ranges, 2)
    try:
        return int(await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE {_AGED[table]} AND {owned}", age_s, *bounds))
    except asyncpg.UndefinedTableError:
        return 0


async def lock_email_claims(conn: asyncpg.Connection, max_age_s: float, after: str,
                            limit: int, ranges: list[KeyRange]) -> list[tuple[str, str]]:
    """In the caller's transaction: up to `limit` (email, user_id) lookup rows
    of `ranges` (the shard's) after `after` (in email order) claimed longer
    than `max_age_s` ago, locked. A row a claim holds is skipped (a claim
    that takes a row over restarts its age)."""
    owned, bounds = _owned("user_emails", ranges, 4)
    rows = await conn.fetch(
        f"""SELECT email, user_id FROM user_emails
            WHERE email > $2 AND created_at < now() - make_interval(secs => $1) AND {owned}
            ORDER BY email LIMIT $3 FOR UPDATE SKIP LOCKED""", max_age_s, after, limit, *bounds)
    return [(str(r["email"]), str(r["user_id"])) for r in rows]


async def held_emails(conn: asyncpg.Connection, user_ids: Sequence[str]) -> dict[str, str]:
    """The email of each of `user_ids` that exists here and is not erased."""
    rows = await conn.fetch(
        "SELECT user_id, email FROM users WHERE user_id = ANY($1::text[]) AND erased_at IS NULL",
        list(user_ids))
    return {str(r["user_id"]): str(r["email"]) for r in rows}


async def delete_emails(conn: asyncpg.Connection, claims: Sequence[tuple[str, str]]) -> int:
    """Delete the lookup rows (email, user_id) that still point at that user."""
    return _count(await conn.execute(
        """DELETE FROM user_emails AS e USING unnest($1::text[], $2::text[]) AS d(email, user_id)
           WHERE e.email = d.email AND e.user_id = d.user_id""",
        [c[0] for c in claims], [c[1] for c in claims]))
