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

from gateway.storage.clickhouse.schema import CLICKSTREAM, DOMAIN_EVENTS, ORDER_LINES, ORDERS
from gateway.storage.clickhouse.store import AnalyticsStore

# Wait for the mutation on every replica before returning.
_SYNC = {"mutations_sync": 2}


async def erase_user(store: AnalyticsStore, user_id: str, user_stream: str) -> None:
    """Anonymise `user_id`'s facts and delete their behaviour events;
    `user_stream` is the id of the user's stream, blanked where it is
    domain_events' stream_id."""
    if not user_id:
        # "" is what anonymised rows hold; erasing it would touch all of them.
        return
    user = {"user": user_id}
    await store.command(
        f"""ALTER TABLE {DOMAIN_EVENTS.name} UPDATE user_id = '',
                stream_id = if(stream_id = {{stream:String}}, '', stream_id)
            WHERE user_id = {{user:String}}""", {**user, "stream": user_stream}, _SYNC)
    for table in (ORDERS, ORDER_LINES):
        await store.command(
            f"ALTER TABLE {table.name} UPDATE user_id = '' WHERE user_id = {{user:String}}",
            user, _SYNC)
    await store.command(f"ALTER TABLE {CLICKSTREAM.name} DELETE WHERE user_id = {{user:String}}",
                        user, _SYNC)
