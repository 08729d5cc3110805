"""AdminService.ExplainCall: the plan a read would get, from the same
deciders and live state as the call itself, and precise refusals."""

from __future__ import annotations

import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    common_pb2,
    order_pb2,
    user_pb2,
)
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message

from gateway.runtime.server import Gateway
from gateway.storage.postgres.keyspace_id import keyspace_id
from tests.commerce import Shop, shard_index, user_on_shard
from tests.helpers import explain_request, invalid

pytestmark = pytest.mark.integration


async def explain(admin: admin_pb2_grpc.AdminServiceStub, method: str,
                  request: Message) -> admin_pb2.ExplainCallResponse:
    response: admin_pb2.ExplainCallResponse = await admin.ExplainCall(
        explain_request(method, request))
    return response


async def test_an_order_read_is_planned_strong_on_its_users_shard(
    admin: admin_pb2_grpc.AdminServiceStub, shop: Shop, gateway: Gateway, uid: str
) -> None:
    user = user_on_shard(gateway, f"explain-{uid}", 1)
    await shop.user(user)
    await shop.stocked(f"{uid}-x", 3)
    order = (await shop.place(user, {f"{uid}-x": 1}, f"{uid}-p")).order
    got = await explain(admin, "datagw.v1.OrderService/GetOrder",
                        order_pb2.GetOrderRequest(order_id=order.order_id))
    assert (got.domain, got.keyspace) == ("orders", "commerce")
    assert got.consistency == common_pb2.CONSISTENCY_LEVEL_STRONG
    assert not got.use_cache and not got.replica_allowed and not got.scatter
    (route,) = got.shards
    assert (route.shard, route.node) == (1, "primary")
    assert route.reason == "strong reads only the primary"
    assert route.key_range == gateway.backends.keyspaces["commerce"].ranges_text(1)
    assert got.steps[0] == "level: strong (the orders policy's default)"
    assert f"in shard 1's ranges {route.key_range} (range map version 1)" in got.steps[2]
    # A user's list routes by the user id's hash, to the same shard.
    listed = await explain(admin, "/datagw.v1.OrderService/ListOrders",
                           order_pb2.ListOrdersRequest(user_id=user))
    assert [r.shard for r in listed.shards] == [shard_index(gateway, user)] == [1]
    assert f"{keyspace_id(user):016x}" in listed.steps[2]


async def test_catalog_and_user_reads_follow_their_policies(
    admin: admin_pb2_grpc.AdminServiceStub, uid: str
) -> None:
    got = await explain(admin, "datagw.v1.CatalogService/GetProduct",
                        catalog_pb2.GetProductRequest(sku="MUG-1"))
    assert got.consistency == common_pb2.CONSISTENCY_LEVEL_EVENTUAL
    assert got.use_cache and not got.HasField("max_cache_age") and got.replica_allowed
    assert [(r.shard, r.node, r.reason) for r in got.shards] == [
        (0, "primary", "no replica configured")]
    assert got.steps[1] == "cache: may answer (any live entry); a miss reads the node below"
    bounded = await explain(admin, "datagw.v1.CatalogService/SearchProducts",
                            catalog_pb2.SearchProductsRequest(
                                query="mug", read_options=common_pb2.ReadOptions(
                                    consistency=common_pb2.CONSISTENCY_LEVEL_BOUNDED_STALENESS,
                                    max_staleness=Duration(seconds=2))))
    assert bounded.use_cache and bounded.max_cache_age.seconds == 2
    by_email = await explain(admin, "datagw.v1.UserService/GetUserByEmail",
                             user_pb2.GetUserByEmailRequest(email=f" {uid}@Example.com"))
    assert by_email.domain == "users" and by_email.steps[1] == "cache: off in the users policy"


async def test_admin_list_orders_is_a_scatter_over_every_primary(
    admin: admin_pb2_grpc.AdminServiceStub, gateway: Gateway
) -> None:
    got = await explain(admin, "datagw.v1.AdminService/ListOrders",
                        admin_pb2.AdminServiceListOrdersRequest())
    shards = gateway.backends.keyspaces["commerce"].shards
    assert got.scatter and got.domain == "orders"
    assert [(r.shard, r.node) for r in got.shards] == [(s.index, "primary") for s in shards]


async def test_what_explain_refuses(admin: admin_pb2_grpc.AdminServiceStub) -> None:
    get_order = order_pb2.GetOrderRequest(order_id="o" + "0" * 32)
    await invalid(admin.ExplainCall(explain_request("datagw.v1.OrderService/Nope", get_order)),
                  "method")
    await invalid(admin.ExplainCall(explain_request("GetOrder", get_order)), "method")
    # A write is not a planned read.
    refused = await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.OrderService/CreateOrder", order_pb2.CreateOrderRequest())), "method")
    assert "datagw.v1.OrderService/GetOrder" in refused.message
    # The request must be the method's own type.
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.OrderService/GetOrder", catalog_pb2.GetProductRequest(sku="X"))), "request")
    # What the read itself would refuse.
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.OrderService/GetOrder", order_pb2.GetOrderRequest(order_id="nope"))),
        "request.order_id")
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.OrderService/ListOrders", order_pb2.ListOrdersRequest())), "request.user_id")
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.OrderService/ListOrders", order_pb2.ListOrdersRequest(user_id="bad id!"))),
        "request.user_id")
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.UserService/GetUserByEmail", user_pb2.GetUserByEmailRequest(email="nope"))),
        "request.email")
    await invalid(admin.ExplainCall(explain_request(
        "datagw.v1.CatalogService/GetProduct", catalog_pb2.GetProductRequest(
            sku="X", read_options=common_pb2.ReadOptions(
                consistency=common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES)))),
        "read_options.consistency")
