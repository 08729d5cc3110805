"""Retention of the rows that are not events (docs/policies.md `retention`),
on the session gateway's shards with the shipped policies: request ids 7
days (orders: the commerce keyspace; inventory), finished sagas 30 days,
orphaned email lookup rows 1 day. Rows are aged by backdating them."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from datagw.v1 import inventory_pb2, user_pb2

from gateway.domain.row_retention import RowRetention
from gateway.runtime.server import Gateway
from gateway.storage.postgres import retention_store
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import Shop, shard_index, shard_rows
from tests.helpers import keyspace_dsn, metric

ROWS = "datagw_retention_rows_deleted_total"
DAY = 86400.0


def rows(gateway: Gateway) -> RowRetention:
    return gateway.wiring.retention.rows


def deleted(keyspace: str, rule: str) -> float:
    return sum(metric(ROWS, keyspace=keyspace, shard=str(s), rule=rule) for s in range(4))


async def backdate(gateway: Gateway, user_id: str, query: str, key: str, days: float) -> None:
    """Age one row of the shard `user_id` lives on (`query`: $1 the key, $2 seconds)."""
    await shard_rows(gateway, shard_index(gateway, user_id), query, key, days * DAY)


async def exists(gateway: Gateway, user_id: str, query: str, key: str) -> bool:
    return bool(await shard_rows(gateway, shard_index(gateway, user_id), query, key))


async def on_inventory(gateway: Gateway, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(keyspace_dsn(gateway, "inventory"), statement_cache_size=0)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


KEY_AGE = ("UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $2) "
           "WHERE request_id = $1")
KEY = "SELECT 1 FROM idempotency_keys WHERE request_id = $1"


async def test_request_ids_past_the_policy_go_and_younger_ones_stay(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    old, young = f"{uid}-rk-old", f"{uid}-rk-young"
    await shop.user(old)
    await shop.user(young)
    before = deleted("commerce", "idempotency_keys")
    await backdate(gateway, old, KEY_AGE, f"create-{old}", days=8)
    await backdate(gateway, young, KEY_AGE, f"create-{young}", days=6)

    await rows(gateway).run_once()

    assert not await exists(gateway, old, KEY, f"create-{old}")
    assert await exists(gateway, young, KEY, f"create-{young}")
    assert deleted("commerce", "idempotency_keys") - before >= 1
    # A retry of the forgotten request runs again (here: finds the user exists).
    with_user = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=old))
    assert with_user.user.user_id == old


async def test_inventory_request_ids_follow_the_inventory_policy(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    sku = f"{uid}-rk"
    for n, age in enumerate((8, 6)):
        await shop.inventory.SetStock(inventory_pb2.SetStockRequest(
            sku=sku, on_hand=n + 1, request_id=f"{uid}-rk-{n}"))
        await on_inventory(gateway, KEY_AGE, f"{uid}-rk-{n}", age * DAY)

    await rows(gateway).run_once()

    kept = await on_inventory(gateway,
                              "SELECT request_id FROM idempotency_keys WHERE request_id ^@ $1",
                              f"{uid}-rk-")
    assert [r["request_id"] for r in kept] == [f"{uid}-rk-1"]


SAGA_AGE = ("UPDATE sagas SET updated_at = now() - make_interval(secs => $2) "
            "WHERE saga_id = $1")
SAGA = "SELECT state FROM sagas WHERE saga_id = $1"


async def test_finished_sagas_past_the_policy_go_and_unfinished_ones_stay(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user, sku = f"{uid}-sg", f"{uid}-sg-sku"
    await shop.user(user)
    await shop.stocked(sku, 10)
    placed = [await shop.place(user, {sku: 1}, f"{uid}-sg-{n}") for n in range(3)]
    sagas = [
        str((await shard_rows(gateway, shard_index(gateway, user),
                              "SELECT saga_id FROM sagas WHERE order_id = $1",
                              p.order.order_id))[0]["saga_id"]) for p in placed]
    # The third saga, as old, made to look unfinished: a running saga whose
    # lease keeps the recovery loop away.
    await shard_rows(gateway, shard_index(gateway, user),
                     "UPDATE sagas SET state = 'running', lease_until = now() + interval '1 day' "
                     "WHERE saga_id = $1", sagas[2])
    before = deleted("commerce", "finished_sagas")
    for saga, days in zip(sagas, (31, 29, 31), strict=True):
        await backdate(gateway, user, SAGA_AGE, saga, days)
    try:
        await rows(gateway).run_once()

        assert not await exists(gateway, user, SAGA, sagas[0])
        assert await exists(gateway, user, SAGA, sagas[1])
        assert await exists(gateway, user, SAGA, sagas[2])
        assert deleted("commerce", "finished_sagas") - before >= 1
    finally:
        await shard_rows(gateway, shard_index(gateway, user),
                         "UPDATE sagas SET state = 'completed', updated_at = now() "
                         "WHERE saga_id = $1", sagas[2])


async def test_the_verify_count_sees_what_retention_has_left(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user = f"{uid}-cnt"
    await shop.user(user)
    await backdate(gateway, user, KEY_AGE, f"create-{user}", days=400)
    shard = gateway.backends.keyspaces["commerce"].shards[shard_index(gateway, user)]
    async with shard.connection("test") as conn:
        assert await retention_store.count_past_retention(conn, "idempotency_keys",
                                                          399 * DAY) >= 1
    await rows(gateway).run_once()
    async with shard.connection("test") as conn:
        assert await retention_store.count_past_retention(conn, "idempotency_keys",
                                                          399 * DAY) == 0
        assert await retention_store.count_past_retention(conn, "sagas", 10_000 * DAY) == 0


EMAIL_AGE = ("UPDATE user_emails SET created_at = now() - make_interval(secs => $2) "
             "WHERE email = $1")
EMAIL = "SELECT user_id FROM user_emails WHERE email = $1"


async def email_row(gateway: Gateway, email: str) -> str | None:
    """The user the email's lookup row names (None: no row)."""
    found = await shard_rows(gateway, shard_index(gateway, f"email:{email}"), EMAIL, email)
    return str(found[0]["user_id"]) if found else None


async def age_email(gateway: Gateway, email: str, days: float) -> None:
    await shard_rows(gateway, shard_index(gateway, f"email:{email}"), EMAIL_AGE, email,
                     days * DAY)


async def orphan(gateway: Gateway, email: str, user_id: str) -> None:
    """A lookup row a crash between the claim and the user's write leaves."""
    await shard_rows(gateway, shard_index(gateway, f"email:{email}"),
                     "INSERT INTO user_emails (email, keyspace_id, user_id) VALUES ($1, $2, $3)",
                     email, ksid_bytes(keyspace_id(f"email:{email}")), user_id)


async def test_orphaned_email_rows_go_and_live_or_young_ones_stay(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    live = f"{uid}-live"
    await shop.user(live)
    moved = f"{uid}-moved"
    await shop.user(moved)
    # The row of the email the user gave up, left behind as a failed release would.
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=moved, email=f"{moved}-new@example.com", request_id=f"{uid}-mv"))
    await orphan(gateway, f"{moved}@example.com", moved)
    await orphan(gateway, f"{uid}-never@example.com", f"{uid}-never")
    await orphan(gateway, f"{uid}-fresh@example.com", f"{uid}-fresh")
    before = deleted("commerce", "orphaned_emails")
    for email in (f"{live}@example.com", f"{moved}@example.com", f"{uid}-never@example.com"):
        await age_email(gateway, email, days=2)

    await rows(gateway).run_once()

    assert await email_row(gateway, f"{live}@example.com") == live
    assert await email_row(gateway, f"{moved}-new@example.com") == moved
    assert await email_row(gateway, f"{moved}@example.com") is None
    assert await email_row(gateway, f"{uid}-never@example.com") is None
    # Within the grace: maybe a claim whose user is still being written.
    assert await email_row(gateway, f"{uid}-fresh@example.com") == f"{uid}-fresh"
    assert deleted("commerce", "orphaned_emails") - before >= 2
    found = await shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(
        email=f"{live}@example.com"))
    assert found.user.user_id == live


async def test_a_row_removed_between_claim_and_write_is_put_back(
    gateway: Gateway, shop: Shop, uid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user taking back an email whose old row was never released: the
    claim finds the row naming the user and writes nothing, so a pass
    running before the write commits sees a user holding another email and
    removes the row. The write puts it back."""
    user = f"{uid}-back"
    await shop.user(user)
    email = f"{user}@example.com"
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=user, email=f"{user}-2@example.com", request_id=f"{uid}-away"))
    await orphan(gateway, email, user)
    await age_email(gateway, email, days=2)
    users = gateway.wiring.users
    claim = users._claim_email

    async def claim_then_retention(*args: Any) -> bool:
        claimed = await claim(*args)
        await rows(gateway).run_once()
        return claimed

    monkeypatch.setattr(users, "_claim_email", claim_then_retention)
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=user, email=email, request_id=f"{uid}-back"))

    assert await email_row(gateway, email) == user
    found = await shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(email=email))
    assert found.user.user_id == user


async def test_only_the_shard_serving_a_row_removes_it(gateway: Gateway, shop: Shop,
                                                       uid: str) -> None:
    """A copy of another shard's row (what a move leaves on its target
    before the switch) is the move's: retention leaves it, while a record
    from before ranges existed (no keyspace id) goes on its shard."""
    commerce = gateway.backends.keyspaces["commerce"]
    here = f"{uid}-here"
    index = shard_index(gateway, here)
    other = next(f"{uid}-there-{n}" for n in range(1000)
                 if commerce.shard_for(keyspace_id(f"{uid}-there-{n}")).index != index)
    copied, legacy = f"{uid}-copied", f"{uid}-legacy"
    await shard_rows(gateway, index, f"""
        BEGIN;
        SET LOCAL datagw.fence = 'off';
        INSERT INTO idempotency_keys (request_id, method, request_hash, response, keyspace_id,
                                      created_at)
        VALUES ('{copied}', 'CreateUser', '\\x00', '{{}}',
                '\\x{ksid_bytes(keyspace_id(other)).hex()}', now() - interval '30 days'),
               ('{legacy}', 'CreateUser', '\\x00', '{{}}', NULL, now() - interval '30 days');
        COMMIT;""")
    try:
        shard = commerce.shards[index]
        async with shard.connection("test") as conn:
            assert await retention_store.count_past_retention(
                conn, "idempotency_keys", 29 * DAY, commerce.map.ranges_of(index)) >= 1
        await rows(gateway).run_once()

        found = await shard_rows(gateway, index, "SELECT request_id FROM idempotency_keys "
                                 "WHERE request_id = ANY($1)", [copied, legacy])
        assert [r["request_id"] for r in found] == [copied]
        async with shard.connection("test") as conn:
            assert await retention_store.count_past_retention(
                conn, "idempotency_keys", 29 * DAY, commerce.map.ranges_of(index)) == 0
            assert await retention_store.count_past_retention(
                conn, "idempotency_keys", 29 * DAY) >= 1
    finally:
        await shard_rows(gateway, index, "DELETE FROM idempotency_keys WHERE request_id = $1",
                         copied)
