"""The laptop rehearsal of docs/resharding.md: a running `datagw serve` gets a
shard server, a range moves onto it with `datagw reshard`, and the move
survives a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from datagw.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    payment_pb2,
    user_pb2,
    user_pb2_grpc,
)

from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id
from tests.e2e.gateway_process import gateway_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
MOVING = KeyRange.parse("40-80")


def reshard(address: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.runtime.cli", "reshard", *args, "--target", address,
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def _users(count: int) -> list[str]:
    found, n = [], 0
    while len(found) < count:
        if MOVING.contains(keyspace_id(f"rehearsal-{n}")):
            found.append(f"rehearsal-{n}")
        n += 1
    return found


def _orders(channel: grpc.Channel, users: list[str]) -> list[str]:
    catalog_pb2_grpc.CatalogServiceStub(channel).UpsertProduct(catalog_pb2.UpsertProductRequest(
        product=catalog_pb2.Product(sku="REH-1", title="Rehearsal", active=True,
                                    price=common_pb2.Money(amount_minor=100,
                                                           currency_code="EUR"))))
    inventory_pb2_grpc.InventoryServiceStub(channel).SetStock(inventory_pb2.SetStockRequest(
        sku="REH-1", on_hand=100, request_id="reh-stock"))
    ids = []
    for u in users:
        user_pb2_grpc.UserServiceStub(channel).CreateUser(user_pb2.CreateUserRequest(
            user_id=u, email=f"{u}@example.com", request_id=f"reh-{u}"))
        placed = order_pb2_grpc.OrderServiceStub(channel).CreateOrder(
            order_pb2.CreateOrderRequest(
                user_id=u, items=[order_pb2.OrderItemInput(sku="REH-1", quantity=1)],
                shipping=order_pb2.Address(name="Ada", line1="1 Main St", city="Berlin",
                                           country_code="DE"),
                payment_method=payment_pb2.PaymentMethod(card_token="tok_visa"),
                request_id=f"reh-order-{u}"))
        ids.append(placed.order.order_id)
    return ids


def _map(channel: grpc.Channel) -> admin_pb2.KeyspaceRangeMap:
    topology = admin_pb2_grpc.AdminServiceStub(channel).GetTopology(
        admin_pb2.GetTopologyRequest())
    (commerce,) = [m for m in topology.range_maps if m.keyspace == "commerce"]
    return commerce


def test_a_running_gateway_grows_a_shard_and_moves_a_range_onto_it(tmp_path: Path) -> None:
    users = _users(3)
    with gateway_process(tmp_path, "--shards", "2", ephemeral=False) as gw, \
            grpc.insecure_channel(gw.address) as channel:
        orders = _orders(channel, users)
        added = reshard(gw.address, "add-server")
        assert added["shard"] == 2
        created = reshard(gw.address, "create", "--range", "40-80", "--to", "2", "--wait")
        name = str(created["workflow"])
        assert created["phase"] == "RESHARD_PHASE_CATCHING_UP", created
        assert created["last_verify"]["clean"] is True  # type: ignore[index]
        switched = reshard(gw.address, "switch", name, "--wait")
        assert switched["phase"] == "RESHARD_PHASE_SWITCHED", switched
        done = reshard(gw.address, "cleanup", name, "--wait")
        assert done["phase"] == "RESHARD_PHASE_DONE", done
        commerce = _map(channel)
        assert commerce.version == 2
        assert [(e.key_range, e.shard) for e in commerce.entries] == [
            ("-40", 0), ("40-80", 2), ("80-", 1)]
    # The next start has three servers, the map from the control table, the orders.
    with gateway_process(tmp_path, "--shards", "3", ephemeral=False) as gw, \
            grpc.insecure_channel(gw.address) as channel:
        assert _map(channel).version == 2
        stub = order_pb2_grpc.OrderServiceStub(channel)
        for order_id in orders:
            assert stub.GetOrder(order_pb2.GetOrderRequest(order_id=order_id)).order.order_id \
                == order_id
