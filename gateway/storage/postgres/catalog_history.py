"""What a product was before a write, read back from its event stream.

A ProductUpdated event carries the product as the write stored it, not the
row it replaced; the cache's invalidation follower needs the category it
replaced (the search pages of that category may list it). That is the
payload of the stream's previous ProductCreated or ProductUpdated event.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def previous_categories(
    conn: asyncpg.Connection, events: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], str | None]:
    """For each (stream, revision): the category in the stream's latest
    ProductCreated or ProductUpdated event before that revision. An event
    without one (its history truncated or deleted) is left out."""
    if not events:
        return {}
    rows = await conn.fetch(
        """SELECT w.stream_id, w.revision, before.category
           FROM unnest($1::text[], $2::bigint[]) AS w(stream_id, revision)
           CROSS JOIN LATERAL (
               SELECT e.payload->>'category' AS category FROM events e
               WHERE e.stream_id = w.stream_id AND e.stream_revision < w.revision
                 AND e.event_type IN ('ProductCreated', 'ProductUpdated')
               ORDER BY e.stream_revision DESC LIMIT 1) AS before""",
        [s for s, _ in events], [r for _, r in events])
    return {(r["stream_id"], r["revision"]): r["category"] for r in rows}
