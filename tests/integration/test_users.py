"""UserService on real shards: routing, the email lookup, versions, idempotency."""

from __future__ import annotations

import grpc
from datagw.v1 import common_pb2, user_pb2

from gateway.runtime.server import Gateway
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import Shop, shard_index, shard_rows, user_on_shard
from tests.helpers import STRONG, fails, invalid


async def test_users_spread_over_shards_and_live_on_theirs(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    ids = [f"{uid}-spread-{n}" for n in range(40)]
    for user_id in ids:
        await shop.user(user_id)
    per_shard = {0: 0, 1: 0}
    for user_id in ids:
        index = shard_index(gateway, user_id)
        per_shard[index] += 1
        rows = await shard_rows(gateway, index, "SELECT keyspace_id FROM users WHERE user_id = $1",
                                user_id)
        assert [bytes(r["keyspace_id"]) for r in rows] == [ksid_bytes(keyspace_id(user_id))]
        other = await shard_rows(gateway, 1 - index, "SELECT 1 FROM users WHERE user_id = $1",
                                 user_id)
        assert other == []
    assert per_shard[0] > 5 and per_shard[1] > 5, per_shard


async def test_create_get_and_find_by_email(shop: Shop, uid: str) -> None:
    created = await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-ada", email=f"Ada.{uid}@Example.COM", display_name="Ada",
        request_id=f"{uid}-c1"))
    assert created.user.email == f"ada.{uid}@example.com" and created.user.version == 1
    assert created.consistency_token.startswith("v2.commerce.")
    got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=f"{uid}-ada"))
    assert got.user == created.user
    found = await shop.users.GetUserByEmail(
        user_pb2.GetUserByEmailRequest(email=f"ADA.{uid}@example.com", read_options=STRONG))
    assert found.user.user_id == f"{uid}-ada"


async def test_a_generated_id_is_stable_across_retries(shop: Shop, uid: str) -> None:
    request = user_pb2.CreateUserRequest(email=f"gen.{uid}@example.com", request_id=f"{uid}-g")
    first = await shop.users.CreateUser(request)
    again = await shop.users.CreateUser(request)
    assert first.user.user_id.startswith("u") and again.user == first.user


async def test_an_email_belongs_to_one_user(shop: Shop, uid: str) -> None:
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-a", email=f"x.{uid}@example.com", request_id=f"{uid}-a"))
    failure = await fails(shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-b", email=f"x.{uid}@example.com", request_id=f"{uid}-b")),
        grpc.StatusCode.ALREADY_EXISTS)
    assert failure.error_info is not None and failure.error_info.reason == "EMAIL_TAKEN"
    await fails(shop.users.GetUser(user_pb2.GetUserRequest(user_id=f"{uid}-b")),
                grpc.StatusCode.NOT_FOUND)


async def test_changing_email_moves_the_lookup_and_frees_the_old_one(
    shop: Shop, uid: str
) -> None:
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-m", email=f"old.{uid}@example.com", request_id=f"{uid}-m"))
    updated = await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-m", email=f"new.{uid}@example.com", expected_version=1,
        request_id=f"{uid}-m2"))
    assert updated.user.version == 2 and updated.user.email == f"new.{uid}@example.com"
    found = await shop.users.GetUserByEmail(
        user_pb2.GetUserByEmailRequest(email=f"new.{uid}@example.com"))
    assert found.user.user_id == f"{uid}-m"
    await fails(shop.users.GetUserByEmail(
        user_pb2.GetUserByEmailRequest(email=f"old.{uid}@example.com")),
        grpc.StatusCode.NOT_FOUND)
    # The old address is free for someone else now.
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-n", email=f"old.{uid}@example.com", request_id=f"{uid}-n"))


async def test_an_orphan_lookup_row_is_taken_over(gateway: Gateway, shop: Shop, uid: str
                                                  ) -> None:
    # A crash between the lookup write and the user write leaves this behind.
    email = f"orphan.{uid}@example.com"
    index = shard_index(gateway, f"email:{email}")
    await shard_rows(gateway, index, "INSERT INTO user_emails (email, keyspace_id, user_id) "
                     "VALUES ($1, $2, $3)", email, ksid_bytes(keyspace_id(f"email:{email}")),
                     f"{uid}-ghost")
    await fails(shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(email=email)),
                grpc.StatusCode.NOT_FOUND)
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-real", email=email, request_id=f"{uid}-real"))
    found = await shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(email=email))
    assert found.user.user_id == f"{uid}-real"


async def test_a_refused_write_leaves_no_lookup_row(gateway: Gateway, shop: Shop, uid: str
                                                   ) -> None:
    # Found by test_fuzz_rpcs: the email was claimed before the user write and
    # stayed claimed when that write was refused.
    async def lookup(email: str) -> list[str]:
        rows = await shard_rows(gateway, shard_index(gateway, f"email:{email}"),
                                "SELECT user_id FROM user_emails WHERE email = $1", email)
        return [r["user_id"] for r in rows]

    await shop.user(f"{uid}-held")
    again = f"again.{uid}@example.com"
    await fails(shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-held", email=again, request_id=f"{uid}-again")),
        grpc.StatusCode.ALREADY_EXISTS)
    nobody = f"nobody.{uid}@example.com"
    await fails(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-missing", email=nobody, request_id=f"{uid}-nobody")),
        grpc.StatusCode.NOT_FOUND)
    stale = f"stale.{uid}@example.com"
    await fails(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-held", email=stale, expected_version=7, request_id=f"{uid}-stale")),
        grpc.StatusCode.ABORTED)
    assert await lookup(again) == [] and await lookup(nobody) == [] and await lookup(stale) == []
    # The user's own row stays.
    assert await lookup(f"{uid}-held@example.com") == [f"{uid}-held"]


async def test_lost_update_is_aborted_and_changes_nothing(shop: Shop, uid: str) -> None:
    await shop.user(f"{uid}-v")
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-v", display_name="first", expected_version=1, request_id=f"{uid}-v1"))
    failure = await fails(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-v", display_name="second", expected_version=1,
        request_id=f"{uid}-v2")), grpc.StatusCode.ABORTED)
    assert failure.error_info is not None and failure.error_info.reason == "VERSION_MISMATCH"
    got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=f"{uid}-v"))
    assert got.user.display_name == "first" and got.user.version == 2


async def test_same_request_id_other_payload_is_refused(shop: Shop, uid: str) -> None:
    await shop.user(f"{uid}-r")
    request = user_pb2.UpdateUserRequest(user_id=f"{uid}-r", display_name="a",
                                         request_id=f"{uid}-same")
    first = await shop.users.UpdateUser(request)
    again = await shop.users.UpdateUser(request)
    assert again.user == first.user and again.user.version == 2
    failure = await fails(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-r", display_name="b", request_id=f"{uid}-same")),
        grpc.StatusCode.ALREADY_EXISTS)
    assert failure.error_info is not None and failure.error_info.reason == "REQUEST_ID_REUSED"
    got = await shop.users.GetUser(user_pb2.GetUserRequest(user_id=f"{uid}-r"))
    assert got.user.display_name == "a"


async def test_invalid_user_requests_name_their_fields(gateway: Gateway, shop: Shop,
                                                       uid: str) -> None:
    # The proto's rules, checked on entry, report together...
    await invalid(shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id="bad id!", email="nope", display_name="x" * 201)),
        "user_id", "display_name", "request_id")
    # ...then the gateway's own: the email as stored (normalized).
    await invalid(shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=f"{uid}-x", email="nope", request_id="r")), "email")
    await invalid(shop.users.GetUser(user_pb2.GetUserRequest(user_id="")), "user_id")
    await invalid(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-x", expected_version=0, request_id="r")), "expected_version")
    await invalid(shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=f"{uid}-x", request_id="r")), "email")
    failure = await invalid(shop.users.GetUser(user_pb2.GetUserRequest(
        user_id=f"{uid}-x", read_options=common_pb2.ReadOptions(
            consistency=common_pb2.CONSISTENCY_LEVEL_EVENTUAL))),
        "read_options.consistency")
    assert "allowed: strong, read_your_writes, bounded_staleness" in failure.message
    # Nothing was written by any of them.
    for index in (0, 1):
        rows = await shard_rows(gateway, index, "SELECT 1 FROM users WHERE user_id = $1",
                                f"{uid}-x")
        assert rows == []
    assert user_on_shard(gateway, uid, 0) != user_on_shard(gateway, uid, 1)
