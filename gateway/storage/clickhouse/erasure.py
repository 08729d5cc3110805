"""The ClickHouse side of erasing a user (NFR6).

Facts stay, the person goes: the user's rows in domain_events, orders and
order_lines keep their amounts (revenue and counts survive the erasure) but
lose the user id, and the user's own stream id in domain_events is blanked
too (it names the user). Behaviour events (clickstream) are about the
person only, so they are deleted. The relay never writes personal data
(the PII envelope stays in PostgreSQL), so nothing else needs to go.

Every mutation runs with mutations_sync: when this returns, no row of the
user is left. Running it again changes nothing, so a retry is safe.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.storage.clickhouse.schema import CLICKSTREAM, DOMAIN_EVENTS, ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore

# Wait for the mutation on every replica before returning.
_SYNC = {"mutations_sync": 2}


async def erase_users(store: AnalyticsStore, users: Mapping[str, str]) -> None:
    """Anonymise the facts of every user of `users` (user id -> the id of the
    user's own stream, blanked where it is domain_events' stream_id) and
    delete their behaviour events. One mutation per table for all of them:
    a synchronous mutation rewrites every part that holds a matching row, so
    a batch with many erasures costs what one does, not one rewrite each."""
    # "" is what anonymised rows hold; erasing it would touch all of them.
    ids = sorted(u for u in users if u)
    if not ids:
        return
    params = {"users": ids, "streams": [users[u] for u in ids]}
    await store.command(
        f"""ALTER TABLE {DOMAIN_EVENTS.name} UPDATE user_id = '',
                stream_id = if(has({{streams:Array(String)}}, stream_id), '', stream_id)
            WHERE has({{users:Array(String)}}, user_id)""", params, _SYNC)
    only_users = {"users": ids}
    for table in (ORDERS, ORDER_LINES):
        await store.command(
            f"ALTER TABLE {table.name} UPDATE user_id = '' "
            "WHERE has({users:Array(String)}, user_id)", only_users, _SYNC)
    await store.command(
        f"ALTER TABLE {CLICKSTREAM.name} DELETE WHERE has({{users:Array(String)}}, user_id)",
        only_users, _SYNC)
