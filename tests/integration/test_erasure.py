"""EraseUser on real shards: after it no API, event or table holds the user's
personal data in clear, orders and their totals survive, and the erasure is
an audited event (docs/erasure.md)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import grpc
from datagw.v1 import eventstore_pb2, eventstore_pb2_grpc, order_pb2, user_pb2
from google.protobuf import json_format

from gateway.domain.commerce.codec import order_json
from gateway.domain.users.erasure import anonymised_email
from gateway.records.commerce import OrderRecord
from gateway.runtime.server import Gateway
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import commerce_store
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes
from tests.commerce import Shop, order_request, shard_index, shard_rows
from tests.doc_scripts import run_doc_examples
from tests.helpers import decode, eventually, fails, invalid

ACTOR = "privacy-desk"


@dataclass
class Subject:
    """A user with orders and every kind of personal data, before erasure."""

    user_id: str
    secrets: list[str]      # strings that must not survive anywhere in clear
    emails: list[str]
    sku: str
    orders: list[order_pb2.Order]


async def subject(gateway: Gateway, shop: Shop, uid: str, *, legacy: bool = True) -> Subject:
    """`legacy`: also an event of the user written before personal data went
    into the envelope, with the email and name in clear."""
    user_id = f"{uid}-gdpr"
    name, renamed = f"Quux{uid}Zed", f"Wibble{uid}Fnord"
    emails = [f"first.{uid}@example.com", f"second.{uid}@example.com"]
    street, postal = f"{uid} Hidden Lane", f"P{uid}X"
    sku = f"{uid}-er"
    await shop.stocked(sku, 20, 1250)
    await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=user_id, email=emails[0], display_name=name, request_id=f"{uid}-create"))
    await shop.users.UpdateUser(user_pb2.UpdateUserRequest(
        user_id=user_id, email=emails[1], display_name=renamed, request_id=f"{uid}-update"))
    orders = []
    for n in range(2):
        placed = await shop.orders.CreateOrder(order_request(
            user_id, {sku: n + 1}, f"{uid}-order-{n}",
            shipping=order_pb2.Address(name=renamed, line1=street, city="Berlin",
                                       postal_code=postal, country_code="DE")))
        orders.append(placed.order)
    # An order status change stores the order (address included) as the
    # idempotent response of its request.
    await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=orders[1].order_id, reason="changed my mind", request_id=f"{uid}-cancel"))
    if legacy:
        index = shard_index(gateway, user_id)
        conn = await asyncpg.connect(gateway.backends.keyspaces["commerce"].shards[index].dsn)
        try:
            async with conn.transaction():
                await recorder.append(conn, [NewEvent(f"user-{user_id}", "UserCreated", {
                    "user_id": user_id, "email": emails[0], "display_name": name})],
                    EventMeta("legacy"), ksid_bytes(keyspace_id(user_id)))
        finally:
            await conn.close()
    return Subject(user_id, [name, renamed, *emails, street, postal], emails, sku, orders)


async def erase(shop: Shop, user_id: str, request_id: str, reason: str = "gdpr-request-1"
                ) -> user_pb2.EraseUserResponse:
    response: user_pb2.EraseUserResponse = await shop.users.EraseUser(
        user_pb2.EraseUserRequest(user_id=user_id, reason=reason, request_id=request_id),
        metadata=(("datagw-actor", ACTOR),))
    return response


async def tables_holding(gateway: Gateway, needle: str) -> list[str]:
    """Every table, on every shard of every keyspace, with a row whose text
    contains `needle` (case-insensitive)."""
    found = []
    for ks in gateway.backends.keyspaces.values():
        for shard in ks.shards:
            conn = await asyncpg.connect(shard.dsn)
            try:
                tables = await conn.fetch(
                    """SELECT table_name FROM information_schema.tables
                       WHERE table_schema = 'public' AND table_type = 'BASE TABLE'""")
                for t in tables:
                    hits = await conn.fetchval(
                        f'SELECT count(*) FROM "{t["table_name"]}" AS r WHERE r::text ILIKE $1',
                        f"%{needle}%")
                    if hits:
                        found.append(f"{ks.name}/{shard.index}/{t['table_name']}")
            finally:
                await conn.close()
    return found


def event_store(channel: grpc.aio.Channel) -> eventstore_pb2_grpc.EventStoreServiceStub:
    return eventstore_pb2_grpc.EventStoreServiceStub(channel)


async def read_stream(channel: grpc.aio.Channel, stream: str) -> eventstore_pb2.ReadStreamResponse:
    response: eventstore_pb2.ReadStreamResponse = await event_store(channel).ReadStream(
        eventstore_pb2.ReadStreamRequest(stream=eventstore_pb2.StreamRef(stream=stream),
                                         limit=1000))
    return response


async def test_the_personal_data_is_gone_everywhere_and_the_orders_stay(
    gateway: Gateway, shop: Shop, channel: grpc.aio.Channel, uid: str
) -> None:
    s = await subject(gateway, shop, uid)
    for secret in s.secrets:
        assert await tables_holding(gateway, secret), f"{secret} was never stored"
    before = [(await shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id=o.order_id))).order
              for o in s.orders]

    erased = await erase(shop, s.user_id, f"{uid}-erase")
    assert erased.erase_time.seconds > 0 and erased.orders_anonymised == 2
    assert erased.consistency_token.startswith("v2.commerce.")

    # The user: gone by id, by either email, and no more lookups of it.
    gone = await fails(shop.users.GetUser(user_pb2.GetUserRequest(user_id=s.user_id)),
                       grpc.StatusCode.NOT_FOUND)
    assert gone.error_info is not None and gone.error_info.reason == "USER_ERASED"
    assert gone.error_info.metadata["erase_time"]
    for email in s.emails:
        missing = await fails(shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(
            email=email)), grpc.StatusCode.NOT_FOUND)
        assert missing.error_info is not None and missing.error_info.reason == "USER_NOT_FOUND"
    # Replaying the creation returns the stored response, anonymised, and
    # leaves no lookup row for the email behind.
    replayed = await shop.users.CreateUser(user_pb2.CreateUserRequest(
        user_id=s.user_id, email=s.emails[0], display_name=s.secrets[0],
        request_id=f"{uid}-create"))
    assert (replayed.user.email, replayed.user.display_name) == (anonymised_email(s.user_id), "")

    # The orders: same lines and totals, the address reduced to its country.
    for old in before:
        order = (await shop.orders.GetOrder(order_pb2.GetOrderRequest(
            order_id=old.order_id))).order
        assert order.shipping == order_pb2.Address(country_code="DE")
        assert (order.total, list(order.items), order.status, order.user_id) == (
            old.total, list(old.items), old.status, old.user_id)
    listed = await shop.orders.ListOrders(order_pb2.ListOrdersRequest(user_id=s.user_id))
    assert sorted(o.order_id for o in listed.orders) == sorted(o.order_id for o in s.orders)

    # The events: what was sealed reads as erased; nothing in clear.
    streams = [f"user-{s.user_id}", *(f"order-{o.order_id}" for o in s.orders)]
    sealed = 0
    for stream in streams:
        read = await read_stream(channel, stream)
        assert read.events
        for e in read.events:
            assert not e.HasField("pii")
            sealed += e.pii_erased
        text = json_format.MessageToJson(read)
        assert not [x for x in s.secrets if x.lower() in text.lower()], stream
    # UserCreated, UserUpdated and both OrderPlaced events had personal data.
    assert sealed == 4

    # And no table of any shard holds any of it in clear.
    for secret in s.secrets:
        assert await tables_holding(gateway, secret) == [], secret


async def test_the_erasure_is_audited_with_actor_and_reason(
    shop: Shop, channel: grpc.aio.Channel, gateway: Gateway, uid: str
) -> None:
    s = await subject(gateway, shop, uid)
    await erase(shop, s.user_id, f"{uid}-erase", reason=f"gdpr-ticket-{uid}")
    trail = await event_store(channel).GetAuditTrail(eventstore_pb2.GetAuditTrailRequest(
        entity_type=eventstore_pb2.AUDIT_ENTITY_TYPE_USER, entity_id=s.user_id))
    types = [e.event_type for e in trail.entries]
    assert types[-1] == "UserErased" and types.count("UserErased") == 1
    last = trail.entries[-1]
    # The actor is who called (the loopback caller); the header says for whom.
    assert (last.actor, last.on_behalf_of, last.request_id) == (
        "local:loopback", ACTOR, f"{uid}-erase")
    change = json_format.MessageToDict(last.change)
    assert change == {"user_id": s.user_id, "reason": f"gdpr-ticket-{uid}",
                      "erase_time": change["erase_time"]}
    text = json_format.MessageToJson(trail)
    assert not [x for x in s.secrets if x.lower() in text.lower()]


async def test_erasing_again_changes_nothing_and_answers_the_same(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    s = await subject(gateway, shop, uid)
    first = await erase(shop, s.user_id, f"{uid}-erase")
    # The same request: the same answer.
    again = await erase(shop, s.user_id, f"{uid}-erase")
    assert (again.erase_time, again.orders_anonymised) == (first.erase_time, 2)
    # Another request: the first erase time, nothing left to anonymise.
    other = await erase(shop, s.user_id, f"{uid}-erase-2", reason="second request")
    assert (other.erase_time, other.orders_anonymised) == (first.erase_time, 0)
    rows = await shard_rows(
        gateway, shard_index(gateway, s.user_id),
        "SELECT count(*) AS n FROM events WHERE stream_id = $1 AND event_type = 'UserErased'",
        f"user-{s.user_id}")
    assert rows[0]["n"] == 1
    # The same request id with another reason is another request.
    reused = await fails(erase(shop, s.user_id, f"{uid}-erase", reason="other"),
                         grpc.StatusCode.ALREADY_EXISTS)
    assert reused.error_info is not None and reused.error_info.reason == "REQUEST_ID_REUSED"


async def test_an_erased_user_takes_no_changes_or_orders_and_frees_its_email(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    s = await subject(gateway, shop, uid)
    await erase(shop, s.user_id, f"{uid}-erase")
    for request in (
        user_pb2.UpdateUserRequest(user_id=s.user_id, display_name="back", request_id=f"{uid}-u1"),
        user_pb2.UpdateUserRequest(user_id=s.user_id, email=f"new.{uid}@example.com",
                                   request_id=f"{uid}-u2"),
    ):
        refused = await fails(shop.users.UpdateUser(request), grpc.StatusCode.FAILED_PRECONDITION)
        assert refused.error_info is not None and refused.error_info.reason == "USER_ERASED"
    available = await shop.available(s.sku)
    refused = await fails(shop.orders.CreateOrder(order_request(s.user_id, {s.sku: 1},
                                                                f"{uid}-late-order")),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert refused.error_info is not None and refused.error_info.reason == "USER_ERASED"
    assert await shop.available(s.sku) == available
    # The refused email change claimed nothing: the address is free, as are
    # the erased user's own addresses.
    for n, email in enumerate([f"new.{uid}@example.com", *s.emails]):
        created = await shop.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=f"{uid}-next-{n}", email=email, request_id=f"{uid}-next-{n}"))
        found = await shop.users.GetUserByEmail(user_pb2.GetUserByEmailRequest(email=email))
        assert found.user.user_id == created.user.user_id


async def test_an_order_written_while_the_erasure_waits_is_anonymised_too(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """The order pivot key-share locks the user row; an erasure arriving
    meanwhile waits for it, then finds and anonymises what it wrote."""
    user_id = f"{uid}-racing"
    await shop.user(user_id)
    shard = gateway.backends.keyspaces["commerce"].shards[shard_index(gateway, user_id)]
    ksid = ksid_bytes(keyspace_id(user_id))
    pivot = await asyncpg.connect(shard.dsn)
    try:
        tx = pivot.transaction()
        await tx.start()
        # What the pivot holds while it writes the order.
        await pivot.execute("SELECT 1 FROM users WHERE user_id = $1 FOR KEY SHARE", user_id)
        erasure = asyncio.create_task(erase(shop, user_id, f"{uid}-erase"))

        async def erasure_waits() -> bool:
            rows = await shard_rows(
                gateway, shard_index(gateway, user_id),
                """SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                   AND query LIKE 'SELECT erased_at FROM users%'""")
            return bool(rows)

        await eventually(erasure_waits, "the erasure waiting for the pivot's lock")
        now = datetime.now(UTC)
        order = OrderRecord(
            f"o{ksid.hex()}{uid:0<16}"[:33], user_id, "placed", "EUR", 500,
            {"name": "Racer", "line1": f"{uid} Race Street", "city": "Berlin",
             "country_code": "DE"}, "p-none", "s-none", 1, now, now)
        # The event the projections read, without the address (the saga
        # seals it; here it would only be one more copy to anonymise).
        placed = {k: v for k, v in order_json(order).items() if k != "shipping"}
        await commerce_store.insert_order(
            pivot, order, ksid, NewEvent(f"order-{order.order_id}", "OrderPlaced", placed),
            EventMeta())
        await tx.commit()
        erased = await erasure
    finally:
        await pivot.close()
    assert erased.orders_anonymised == 1
    assert await tables_holding(gateway, f"{uid} Race Street") == []


RACE_ROUNDS = 20


async def test_erasure_racing_orders_never_deadlocks_or_leaves_data_behind(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    """EraseUser and CreateOrders of the same user at once, with the erasure
    started at different points of the orders' sagas: the erasure always
    succeeds, and each order either committed before it (and is anonymised)
    or is refused with USER_ERASED; nothing fails as INTERNAL (a deadlock
    used to), and no stock stays reserved."""
    sku = f"{uid}-race"
    street = f"{uid} Racing Lane"
    await shop.stocked(sku, 1000, 300)
    shipping = order_pb2.Address(name="Racer", line1=street, city="Berlin", country_code="DE")
    placed_units = 0
    outcomes = {"placed": 0, "refused": 0}
    for n in range(RACE_ROUNDS):
        user_id = f"{uid}-race-{n}"
        await shop.user(user_id)

        async def erase_after(delay_s: float, user_id: str = user_id, n: int = n
                              ) -> user_pb2.EraseUserResponse:
            await asyncio.sleep(delay_s)
            return await erase(shop, user_id, f"{uid}-race-erase-{n}")

        async with asyncio.timeout(10):
            *orders, erased = await asyncio.gather(
                *(shop.orders.CreateOrder(order_request(
                    user_id, {sku: k + 1}, f"{uid}-race-{n}-{k}", shipping=shipping))
                  for k in range(2)),
                # 0 to 40 ms: before, around and after the orders' pivots.
                erase_after((n % 5) * 0.01), return_exceptions=True)
        assert isinstance(erased, user_pb2.EraseUserResponse), f"round {n}: {erased!r}"
        for k, result in enumerate(orders):
            if isinstance(result, order_pb2.CreateOrderResponse):
                outcomes["placed"] += 1
                placed_units += k + 1
                order = (await shop.orders.GetOrder(order_pb2.GetOrderRequest(
                    order_id=result.order.order_id))).order
                assert order.shipping == order_pb2.Address(country_code="DE"), f"round {n}"
                continue
            assert isinstance(result, grpc.aio.AioRpcError), f"round {n}: {result!r}"
            failure = decode(result)
            assert (failure.code, failure.error_info and failure.error_info.reason) == (
                grpc.StatusCode.FAILED_PRECONDITION, "USER_ERASED"), \
                f"round {n}: {failure.code} {failure.message}"
            outcomes["refused"] += 1
    stock = await shop.stock(sku)
    assert (stock.on_hand, stock.reserved) == (1000 - placed_units, 0), outcomes
    assert await tables_holding(gateway, street) == []


async def test_erase_user_checks_its_request(shop: Shop, uid: str) -> None:
    await invalid(shop.users.EraseUser(user_pb2.EraseUserRequest()),
                  "user_id", "reason", "request_id")
    await invalid(shop.users.EraseUser(user_pb2.EraseUserRequest(
        user_id="no spaces", reason="x" * 501, request_id=uid)), "user_id", "reason")
    missing = await fails(erase(shop, f"{uid}-nobody", f"{uid}-erase"),
                          grpc.StatusCode.NOT_FOUND)
    assert missing.error_info is not None and missing.error_info.reason == "USER_NOT_FOUND"


async def test_clickhouse_rows_of_the_user_are_anonymised_by_the_relay(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    assert gateway.backends.clickhouse is not None
    store = gateway.backends.clickhouse
    # Without a legacy event: the relay copies payloads as they are, and
    # personal data only ever reaches them sealed (then it stays behind).
    s = await subject(gateway, shop, uid, legacy=False)
    order_ids = [o.order_id for o in s.orders]

    async def rows(sql: str) -> int:
        # The store binds a parameter only to its placeholder: give each
        # statement the one it uses.
        params = {"user": s.user_id} if "{user:" in sql else {"orders": order_ids}
        result = await store.query(sql, params)
        return int(result.rows[0][0])

    count_orders = "SELECT count() FROM orders WHERE has({orders:Array(String)}, order_id)"
    of_user = """SELECT (SELECT count() FROM domain_events WHERE user_id = {user:String})
                      + (SELECT count() FROM orders WHERE user_id = {user:String})
                      + (SELECT count() FROM order_lines WHERE user_id = {user:String})"""

    async def relayed() -> bool:
        # Two placements and one cancellation, under the user's id.
        return await rows(count_orders) == 3 and await rows(of_user) > 0

    async def anonymised() -> bool:
        return await rows(of_user) == 0

    await eventually(relayed, "the orders relayed", 30)
    await erase(shop, s.user_id, f"{uid}-erase")
    await eventually(anonymised, "the user's rows anonymised", 30)
    # The facts stay: the same order rows and totals, without the user.
    assert await rows(count_orders) == 3
    total = await store.query(
        "SELECT sum(sign * total_minor) FROM orders WHERE has({orders:Array(String)}, order_id)",
        {"orders": order_ids})
    assert int(total.rows[0][0]) == s.orders[0].total.amount_minor
    for secret in s.secrets:
        leaked = await store.query(
            "SELECT count() FROM domain_events WHERE positionCaseInsensitive(payload, {s:String})"
            " > 0", {"s": secret})
        assert int(leaked.rows[0][0]) == 0, secret



async def test_every_erasure_grpcurl_example_runs(gateway: Gateway) -> None:
    output = await run_doc_examples("erasure.md", gateway.port, 6)
    assert output.count("Code: NotFound") == 1
