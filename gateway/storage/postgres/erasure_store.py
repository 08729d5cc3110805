"""SQL of erasing a user's personal data on the commerce shards (docs/erasure.md).

Everything but the email lookup runs on the user's shard inside the
erasure's transaction. An address keeps only its country: enough for tax
and reporting, identifying no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

# The anonymised form of a shipping address held in `column`.
_ADDRESS = "jsonb_strip_nulls(jsonb_build_object('country_code', {col} -> 'country_code'))"


def _anonymised(column: str) -> str:
    return _ADDRESS.format(col=column)


@dataclass(frozen=True)
class UserState:
    erased_at: datetime | None


async def lock_user(conn: asyncpg.Connection, user_id: str) -> UserState | None:
    """The user's row, locked against writers (None: no such user).

    Writers of a user's personal data lock the same row first (UpdateUser for
    update, an order's pivot for key share), so each runs wholly before or after
    the erasure and never writes in clear behind it.

    The one lock order for a user's rows on their shard, which every
    transaction taking more than one of them follows so none can deadlock
    another: the user's row first, then orders, then sagas (a payment's row
    before its order's). The erasure locks the user here and then updates the
    orders and sagas; the pivot (saga_store.get_locked_with_user) locks the
    user before its saga; CancelOrder locks the order before inserting its
    saga; a capture locks the payment, then its order.
    """
    row = await conn.fetchrow("SELECT erased_at FROM users WHERE user_id = $1 FOR UPDATE",
                              user_id)
    return UserState(row["erased_at"]) if row else None


async def erased_at(conn: asyncpg.Connection, user_id: str) -> datetime | None:
    value = await conn.fetchval("SELECT erased_at FROM users WHERE user_id = $1", user_id)
    return value if isinstance(value, datetime) else None


async def anonymise_user(conn: asyncpg.Connection, user_id: str, email: str) -> datetime:
    """Replace the email (by `email`, unique per user) and name; stamp erased_at."""
    value = await conn.fetchval(
        """UPDATE users SET email = $2, display_name = '', erased_at = now(),
                            version = version + 1, updated_at = now()
           WHERE user_id = $1 RETURNING erased_at""", user_id, email)
    assert isinstance(value, datetime)
    return value


async def anonymise_orders(conn: asyncpg.Connection, user_id: str) -> int:
    """Reduce the address of each of the user's orders to its country; how
    many orders changed (0 when done before)."""
    status = await conn.execute(
        f"""UPDATE orders SET shipping = {_anonymised('shipping')}, version = version + 1,
                              updated_at = now()
            WHERE user_id = $1 AND shipping - 'country_code' <> '{{}}'::jsonb""", user_id)
    return int(status.split()[-1])


async def scrub_sagas(conn: asyncpg.Connection, user_id: str, ksid: bytes) -> None:
    """The user's saga logs keep the order's draft: drop its address and card token.

    A saga past its pivot or compensated never reads them again; one still
    before its pivot is refused there, as the user is erased.
    """
    await conn.execute(
        f"""UPDATE sagas SET data = data || jsonb_build_object(
                'shipping', {_anonymised("data -> 'shipping'")}, 'card_token', '')
            WHERE keyspace_id = $2 AND user_id = $1 AND data ? 'shipping'
              AND ((data -> 'shipping') - 'country_code' <> '{{}}'::jsonb
                   OR data ->> 'card_token' <> '')""", user_id, ksid)


async def scrub_responses(conn: asyncpg.Connection, user_id: str, email: str) -> None:
    """Stored responses of idempotent requests that repeat the user's email
    and name (users) or an order's address: a replay returns them anonymised."""
    await conn.execute(
        f"""UPDATE idempotency_keys SET response = CASE
                WHEN response ? 'email'
                    THEN response || jsonb_build_object('email', $2::text, 'display_name', '')
                ELSE response || jsonb_build_object(
                    'shipping', {_anonymised("response -> 'shipping'")}) END
            WHERE response ->> 'user_id' = $1 AND (response ? 'email' OR response ? 'shipping')
              AND (response ->> 'email' <> $2::text OR response ->> 'display_name' <> ''
                   OR (response -> 'shipping') - 'country_code' <> '{{}}'::jsonb)""",
        user_id, email)


async def scrub_clear_events(conn: asyncpg.Connection, user_id: str) -> None:
    """Events written before personal data went into the envelope carry it in
    clear: drop those fields from the user's and the user's orders' streams."""
    await conn.execute(
        """UPDATE events SET payload = payload - 'email' - 'display_name'
           WHERE stream_id = 'user-' || $1 AND payload ?| array['email', 'display_name']""",
        user_id)
    await conn.execute(
        """UPDATE events SET payload = payload - 'shipping'
           WHERE stream_id IN (SELECT 'order-' || order_id FROM orders WHERE user_id = $1)
             AND payload ? 'shipping'""", user_id)


async def drop_email_lookups(conn: asyncpg.Connection, user_id: str) -> None:
    """Every email lookup row of the user on this shard."""
    await conn.execute("DELETE FROM user_emails WHERE user_id = $1", user_id)
