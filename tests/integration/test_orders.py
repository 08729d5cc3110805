"""OrderService: the placing saga, ACID on the user's shard, idempotency, no oversell,
the status machine, cancellation, and listing on one shard and across all."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import grpc
from datagw.v1 import admin_pb2, order_pb2, payment_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.runtime.server import Gateway
from tests.commerce import Shop, order_request, shard_index, shard_rows, user_on_shard
from tests.helpers import explain_request, fails, invalid, sql
from tests.policy_fixtures import copy_policies, edit, running_gateway


async def test_an_order_is_priced_and_written_with_payment_and_events_on_the_users_shard(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user = f"{uid}-buyer"
    await shop.user(user)
    await shop.stocked(f"{uid}-mug", 10, price_minor=1299)
    await shop.stocked(f"{uid}-pot", 10, price_minor=4500)
    placed = await shop.place(user, {f"{uid}-mug": 2, f"{uid}-pot": 1}, f"{uid}-o1")
    order = placed.order
    assert order.status == order_pb2.ORDER_STATUS_PLACED and order.user_id == user
    assert [(i.sku, i.quantity, i.unit_price.amount_minor, i.line_total.amount_minor)
            for i in order.items] == [(f"{uid}-mug", 2, 1299, 2598), (f"{uid}-pot", 1, 4500, 4500)]
    assert order.total.amount_minor == 7098 and order.total.currency_code == "EUR"
    assert placed.payment.status == payment_pb2.PAYMENT_STATUS_AUTHORIZED
    assert placed.payment.amount.amount_minor == 7098
    assert order.payment_id == placed.payment.payment_id
    index = shard_index(gateway, user)
    for table, key in (("orders", "order_id"), ("payments", "order_id"),
                       ("order_items", "order_id")):
        here = await shard_rows(gateway, index, f"SELECT 1 FROM {table} WHERE {key} = $1",
                                order.order_id)
        there = await shard_rows(gateway, 1 - index, f"SELECT 1 FROM {table} WHERE {key} = $1",
                                 order.order_id)
        assert here and not there, table
    events = await shard_rows(
        gateway, index, "SELECT event_type, metadata FROM events WHERE stream_id = ANY($1) "
        "ORDER BY position", [f"order-{order.order_id}", f"payment-{order.payment_id}"])
    assert [e["event_type"] for e in events] == ["OrderPlaced", "PaymentAuthorized"]
    meta = json.loads(events[0]["metadata"])
    assert meta["request_id"] == f"{uid}-o1" and meta["saga_id"].startswith("s")
    # The stock was sold: reserved, then committed.
    mug = await shop.stock(f"{uid}-mug")
    assert (mug.on_hand, mug.reserved) == (8, 0)
    saga = await shop.admin.GetSaga(admin_pb2.GetSagaRequest(saga_id=meta["saga_id"]))
    assert saga.saga.state == admin_pb2.SAGA_STATE_COMPLETED
    assert [s.name for s in saga.saga.steps] == [
        "reserve_stock", "authorize_payment", "write_order", "commit_stock"]


async def test_concurrent_duplicates_create_one_order(gateway: Gateway, shop: Shop, uid: str
                                                      ) -> None:
    user = f"{uid}-dup"
    await shop.user(user)
    await shop.stocked(f"{uid}-d", 10)
    request = order_request(user, {f"{uid}-d": 3}, f"{uid}-same")
    responses = await asyncio.gather(*(shop.orders.CreateOrder(request) for _ in range(8)))
    assert len({r.order.order_id for r in responses}) == 1
    rows = await shard_rows(gateway, shard_index(gateway, user),
                            "SELECT count(*) AS n FROM orders WHERE user_id = $1", user)
    assert rows[0]["n"] == 1
    assert (await shop.stock(f"{uid}-d")).on_hand == 7
    other = order_request(user, {f"{uid}-d": 4}, f"{uid}-same")
    failure = await fails(shop.orders.CreateOrder(other), grpc.StatusCode.ALREADY_EXISTS)
    assert failure.error_info is not None and failure.error_info.reason == "REQUEST_ID_REUSED"
    assert (await shop.stock(f"{uid}-d")).on_hand == 7


async def test_out_of_stock_and_declines_leave_nothing_reserved(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user = f"{uid}-short"
    await shop.user(user)
    await shop.stocked(f"{uid}-few", 2)
    await shop.stocked(f"{uid}-many", 50)
    failure = await fails(shop.place(user, {f"{uid}-many": 1, f"{uid}-few": 3}, f"{uid}-a"),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "OUT_OF_STOCK"
    failure = await fails(shop.place(user, {f"{uid}-many": 5}, f"{uid}-b", card="tok_decline"),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "PAYMENT_DECLINED"
    # The retry of a declined request gives the same answer and does nothing.
    again = await fails(shop.place(user, {f"{uid}-many": 5}, f"{uid}-b", card="tok_decline"),
                        grpc.StatusCode.FAILED_PRECONDITION)
    assert again.error_info is not None and again.error_info.reason == "PAYMENT_DECLINED"
    for sku, on_hand in ((f"{uid}-few", 2), (f"{uid}-many", 50)):
        stock = await shop.stock(sku)
        assert (stock.on_hand, stock.reserved) == (on_hand, 0), sku
    index = shard_index(gateway, user)
    assert await shard_rows(gateway, index, "SELECT 1 FROM orders WHERE user_id = $1", user) == []
    rejected = await shard_rows(
        gateway, index, "SELECT state FROM sagas WHERE user_id = $1 ORDER BY created_at", user)
    assert [r["state"] for r in rejected] == ["compensated", "compensated"]
    released = await sql(gateway, "inventory", "SELECT count(*) FROM reservations WHERE "
                         "state = 'released' AND saga_shard_key = $1", user)
    assert released == 1  # the out-of-stock attempt never held anything


async def test_no_oversell_under_concurrent_orders(gateway: Gateway, shop: Shop, uid: str
                                                   ) -> None:
    sku = f"{uid}-last"
    await shop.stocked(sku, 5)
    buyers = [f"{uid}-b{n}" for n in range(24)]
    for b in buyers:
        await shop.user(b)

    async def buy(b: str) -> bool:
        try:
            await shop.place(b, {sku: 1}, f"{b}-order")
            return True
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.FAILED_PRECONDITION, exc.details()
            return False

    results = await asyncio.gather(*(buy(b) for b in buyers))
    assert sum(results) == 5
    stock = await shop.stock(sku)
    assert (stock.on_hand, stock.reserved, stock.available) == (0, 0, 0)
    held = await sql(gateway, "inventory", "SELECT count(*) FROM reservations WHERE state = "
                     "'held' AND items @> $1::jsonb", json.dumps([{"sku": sku}]))
    assert held == 0
    orders = 0
    for index in (0, 1):
        rows = await shard_rows(gateway, index, "SELECT count(*) AS n FROM order_items "
                                "WHERE sku = $1", sku)
        orders += rows[0]["n"]
    assert orders == 5


async def test_a_failure_inside_the_order_transaction_leaves_nothing_behind(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    user = user_on_shard(gateway, f"{uid}-acid", 0)
    await shop.user(user)
    await shop.stocked(f"{uid}-x", 5, price_minor=4242)
    # Fault injection: the payment insert, the last write of the order's
    # transaction (after the order and its items), fails for this amount.
    await shard_rows(gateway, 0, f"""
        CREATE FUNCTION fail_{uid}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.amount_minor = 4242 THEN RAISE EXCEPTION 'injected'; END IF;
              RETURN NEW; END $$;
        CREATE TRIGGER fail_{uid} BEFORE INSERT ON payments FOR EACH ROW
            EXECUTE FUNCTION fail_{uid}();""")
    try:
        await fails(shop.place(user, {f"{uid}-x": 1}, f"{uid}-boom"), grpc.StatusCode.INTERNAL)
    finally:
        await shard_rows(gateway, 0, f"DROP TRIGGER fail_{uid} ON payments; "
                         f"DROP FUNCTION fail_{uid}()")
    for query in ("SELECT 1 FROM orders WHERE user_id = $1",
                  "SELECT 1 FROM order_items i JOIN orders o USING (order_id) WHERE o.user_id = $1",
                  "SELECT 1 FROM payments WHERE user_id = $1",
                  "SELECT 1 FROM events WHERE event_type IN ('OrderPlaced', 'PaymentAuthorized') "
                  "AND payload->>'user_id' = $1"):
        assert await shard_rows(gateway, 0, query, user) == [], query
    stock = await shop.stock(f"{uid}-x")
    assert (stock.on_hand, stock.reserved) == (5, 0)
    saga = await shard_rows(gateway, 0, "SELECT state FROM sagas WHERE user_id = $1", user)
    assert [r["state"] for r in saga] == ["compensated"]
    # The cause has passed: the same request now places the order.
    placed = await shop.place(user, {f"{uid}-x": 1}, f"{uid}-boom")
    assert placed.order.status == order_pb2.ORDER_STATUS_PLACED


async def test_the_status_machine(shop: Shop, uid: str) -> None:
    user = f"{uid}-sm"
    await shop.user(user)
    await shop.stocked(f"{uid}-s", 5)
    placed = await shop.place(user, {f"{uid}-s": 1}, f"{uid}-sm1")
    order_id = placed.order.order_id

    async def move(status: int, rid: str, **kw: int) -> order_pb2.UpdateOrderStatusResponse:
        response: order_pb2.UpdateOrderStatusResponse = await shop.orders.UpdateOrderStatus(
            order_pb2.UpdateOrderStatusRequest(order_id=order_id, status=status,
                                               request_id=rid, **kw))
        return response

    failure = await fails(move(order_pb2.ORDER_STATUS_SHIPPED, f"{uid}-x1"),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None
    assert failure.error_info.reason == "ILLEGAL_STATUS_TRANSITION"
    await invalid(move(order_pb2.ORDER_STATUS_PAID, f"{uid}-x2"), "status")
    await shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id=placed.payment.payment_id, request_id=f"{uid}-cap"))
    paid = await shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id))
    assert paid.order.status == order_pb2.ORDER_STATUS_PAID and paid.order.version == 2
    await fails(move(order_pb2.ORDER_STATUS_SHIPPED, f"{uid}-x3", expected_version=1),
                grpc.StatusCode.ABORTED)
    shipped = await move(order_pb2.ORDER_STATUS_SHIPPED, f"{uid}-x4", expected_version=2)
    assert shipped.order.status == order_pb2.ORDER_STATUS_SHIPPED
    delivered = await move(order_pb2.ORDER_STATUS_DELIVERED, f"{uid}-x5")
    assert delivered.order.status == order_pb2.ORDER_STATUS_DELIVERED
    failure = await fails(shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=order_id, request_id=f"{uid}-x6")), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "ORDER_STATUS"


async def test_cancel_voids_or_refunds_and_returns_the_stock(shop: Shop, uid: str) -> None:
    user = f"{uid}-cx"
    await shop.user(user)
    await shop.stocked(f"{uid}-c", 10, price_minor=700)
    first = await shop.place(user, {f"{uid}-c": 2}, f"{uid}-c1")
    second = await shop.place(user, {f"{uid}-c": 3}, f"{uid}-c2")
    await shop.payments.CapturePayment(payment_pb2.CapturePaymentRequest(
        payment_id=second.payment.payment_id, request_id=f"{uid}-cap"))
    assert (await shop.stock(f"{uid}-c")).on_hand == 5
    for placed, rid in ((first, f"{uid}-k1"), (second, f"{uid}-k2")):
        cancelled = await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
            order_id=placed.order.order_id, reason="changed my mind", request_id=rid))
        assert cancelled.order.status == order_pb2.ORDER_STATUS_CANCELLED
    voided = await shop.payments.GetPayment(
        payment_pb2.GetPaymentRequest(payment_id=first.payment.payment_id))
    assert voided.payment.status == payment_pb2.PAYMENT_STATUS_VOIDED
    refunded = await shop.payments.GetPayment(
        payment_pb2.GetPaymentRequest(payment_id=second.payment.payment_id))
    assert refunded.payment.status == payment_pb2.PAYMENT_STATUS_REFUNDED
    assert refunded.payment.refunded.amount_minor == 2100
    stock = await shop.stock(f"{uid}-c")
    assert (stock.on_hand, stock.reserved) == (10, 0)
    # Cancelling again with a new request is refused; the same request is replayed.
    await fails(shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=first.order.order_id, request_id=f"{uid}-k3")),
        grpc.StatusCode.FAILED_PRECONDITION)
    replay = await shop.orders.CancelOrder(order_pb2.CancelOrderRequest(
        order_id=first.order.order_id, reason="changed my mind", request_id=f"{uid}-k1"))
    assert replay.order.status == order_pb2.ORDER_STATUS_CANCELLED
    assert (await shop.stock(f"{uid}-c")).on_hand == 10


async def test_a_users_orders_newest_first_in_pages(shop: Shop, uid: str) -> None:
    user = f"{uid}-lister"
    await shop.user(user)
    await shop.stocked(f"{uid}-l", 100)
    placed = [(await shop.place(user, {f"{uid}-l": 1}, f"{uid}-l{n}")).order.order_id
              for n in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        page = await shop.orders.ListOrders(order_pb2.ListOrdersRequest(
            user_id=user, page_size=2, page_token=token))
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(placed))
    await invalid(shop.orders.ListOrders(order_pb2.ListOrdersRequest(
        user_id=f"{uid}-other", page_token=token or "garbage")), "page_token")


async def test_admin_lists_orders_across_shards_in_one_order(
    gateway: Gateway, shop: Shop, uid: str
) -> None:
    started = Timestamp()
    started.FromDatetime(datetime.now(UTC))
    users = [user_on_shard(gateway, f"{uid}-adm", i) for i in (0, 1)]
    await shop.stocked(f"{uid}-adm", 100)
    ids = []
    for n in range(7):
        user = users[n % 2]
        if n < 2:
            await shop.user(user)
        ids.append((await shop.place(user, {f"{uid}-adm": 1}, f"{uid}-adm{n}")).order.order_id)
    # Other tests place orders meanwhile: keep only ours, but page through all.
    seen: list[str] = []
    token = ""
    while True:
        page = await shop.admin.ListOrders(admin_pb2.AdminServiceListOrdersRequest(
            status=order_pb2.ORDER_STATUS_PLACED, start_time=started, page_size=3,
            page_token=token))
        assert page.shards_queried == 2
        times = [(o.create_time.ToDatetime(), o.order_id) for o in page.orders]
        assert times == sorted(times, reverse=True)
        ours = [o for o in page.orders if o.order_id in ids]
        # Items are read after the merge, for the kept orders only.
        assert all([(i.sku, i.quantity) for i in o.items] == [(f"{uid}-adm", 1)] for o in ours)
        seen += [o.order_id for o in ours]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))


async def test_scatter_can_be_forbidden_by_policy(tmp_path: object, gateway: Gateway) -> None:
    from pathlib import Path

    tmp = Path(str(tmp_path))
    policies = copy_policies(tmp)
    edit(policies / "orders.yaml", "scatter: allowed", "scatter: forbidden")
    async with running_gateway(tmp, policies, gateway) as (_, channel, _valkey):
        admin = Shop.on(channel).admin
        failure = await fails(admin.ListOrders(
            admin_pb2.AdminServiceListOrdersRequest()), grpc.StatusCode.FAILED_PRECONDITION)
        # ExplainCall explains it as the refusal it is.
        explained = await fails(admin.ExplainCall(explain_request(
            "datagw.v1.AdminService/ListOrders", admin_pb2.AdminServiceListOrdersRequest())),
            grpc.StatusCode.FAILED_PRECONDITION)
    for refused in (failure, explained):
        assert refused.error_info is not None
        assert refused.error_info.reason == "SCATTER_FORBIDDEN"


async def test_invalid_order_requests_name_their_fields(shop: Shop, uid: str) -> None:
    await invalid(shop.orders.CreateOrder(order_pb2.CreateOrderRequest(
        user_id="", items=[order_pb2.OrderItemInput(sku="bad sku", quantity=0)])),
        "user_id", "items[0].sku", "items[0].quantity", "shipping", "payment_method",
        "request_id")
    await invalid(shop.orders.CreateOrder(order_pb2.CreateOrderRequest(
        user_id=f"{uid}-u", shipping=order_pb2.Address(line2="x" * 201),
        payment_method=payment_pb2.PaymentMethod(card_token=" "), request_id="r")),
        "items", "shipping.name", "shipping.line1", "shipping.line2", "shipping.city",
        "shipping.country_code", "payment_method.card_token")
    await invalid(shop.orders.CreateOrder(order_request(
        f"{uid}-u", {f"{uid}-a": 1}, "r", shipping=order_pb2.Address(
            name="A", line1="B", city="C", country_code="Germany"))), "shipping.country_code")
    await invalid(shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id="o123")), "order_id")
    await fails(shop.orders.GetOrder(order_pb2.GetOrderRequest(order_id="o" + "0" * 32)),
                grpc.StatusCode.NOT_FOUND)
    failure = await fails(shop.place(f"{uid}-nobody", {f"{uid}-a": 1}, f"{uid}-n"),
                          grpc.StatusCode.NOT_FOUND)
    assert failure.error_info is not None and failure.error_info.reason == "USER_NOT_FOUND"
    await shop.user(f"{uid}-u2")
    failure = await fails(shop.place(f"{uid}-u2", {f"{uid}-ghost": 1}, f"{uid}-g"),
                          grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.error_info is not None and failure.error_info.reason == "ORDER_NOT_PRICEABLE"
