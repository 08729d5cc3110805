"""The datagw API from Python, step by step: write a product and read it back,
place an order with idempotent writes, read it with the write's consistency
token, and decode an error's details. Connects over plaintext or TLS with a
client certificate and/or a bearer token, chosen by the environment.

    pip install datagw-client   # or dist/datagw_client-*.whl from this repository
    python quickstart.py [HOST:PORT]

The variables are the same in the Go, Node and Java examples:

    DGW_ADDR                   host:port of the gateway (the argument wins;
                               default localhost:50051)
    DGW_TLS_CA                 PEM file of the CA that signed the gateway's certificate
    DGW_TLS_CERT, DGW_TLS_KEY  this client's certificate and key (PEM), for a
                               gateway with server.tls.client_ca_file
    DGW_TOKEN                  a JWT, sent as "authorization: Bearer <token>"

None set: plaintext, as `datagw serve` listens by default. Any of DGW_TLS_CA,
DGW_TLS_CERT or DGW_TOKEN set: TLS, verified against DGW_TLS_CA (the system's
roots without it) for the host of the address; grpc never sends the token
over plaintext. (Not DATAGW_*: the gateway reads those as its own config
overrides and refuses to start on names it does not know.)

Prints "ok   <step>: ..." per step; exits 1 at the first failure.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import grpc
from datagw.channel import insecure_channel, secure_channel
from datagw.errors import decode
from datagw.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)

# Every call gets a deadline: with the service config's waitForReady, a call
# to a gateway that is down waits for it (and is retried) until then.
DEADLINE_S = 10.0
STRONG = common_pb2.ReadOptions(consistency=common_pb2.CONSISTENCY_LEVEL_STRONG)


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def _read(variable: str) -> bytes | None:
    path = os.environ.get(variable)
    return Path(path).read_bytes() if path else None


def channel_from_env(address: str) -> grpc.Channel:
    """A channel with the gateway's service config (retries, waitForReady)."""
    ca, cert, key = _read("DGW_TLS_CA"), _read("DGW_TLS_CERT"), _read("DGW_TLS_KEY")
    token = os.environ.get("DGW_TOKEN")
    if not (ca or cert or key or token):
        return insecure_channel(address)
    if (cert is None) != (key is None):
        sys.exit("DGW_TLS_CERT and DGW_TLS_KEY go together: set both or neither")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert)
    if token:
        # access_token_call_credentials sends "authorization: Bearer <token>" on
        # every call; composed with TLS, it cannot go out over plaintext.
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return secure_channel(address, credentials)


def run(channel: grpc.Channel) -> None:
    catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
    inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
    users = user_pb2_grpc.UserServiceStub(channel)
    orders = order_pb2_grpc.OrderServiceStub(channel)
    run_id = uuid.uuid4().hex[:10]  # new per run: the example can run again
    sku, buyer = f"PY-QS-{run_id}", f"py-buyer-{run_id}"

    written = catalog.UpsertProduct(catalog_pb2.UpsertProductRequest(product={
        "sku": sku, "title": "Stoneware bowl", "brand": "Acme", "category": "kitchen",
        "price": {"amount_minor": 1850, "currency_code": "EUR"}, "active": True,
    }), timeout=DEADLINE_S)
    print(f"ok   upsert product: {sku} version={written.product.version}")

    # STRONG: straight from the primary, so it sees the write just made.
    read = catalog.GetProduct(
        catalog_pb2.GetProductRequest(sku=sku, read_options=STRONG), timeout=DEADLINE_S)
    check(read.product.title == "Stoneware bowl", f"read back {read.product.title!r}")
    print(f"ok   get product: {sku} {read.product.title!r} "
          f"{read.product.price.amount_minor} {read.product.price.currency_code}")

    # Commerce writes carry a request_id, an idempotency key: one per logical
    # write, kept when the write is retried.
    inventory.SetStock(inventory_pb2.SetStockRequest(
        sku=sku, on_hand=10, request_id=f"py-qs-{run_id}-stock"), timeout=DEADLINE_S)
    users.CreateUser(user_pb2.CreateUserRequest(
        user_id=buyer, email=f"{buyer}@example.com", request_id=f"py-qs-{run_id}-user"),
        timeout=DEADLINE_S)
    order_request = order_pb2.CreateOrderRequest(
        user_id=buyer, items=[{"sku": sku, "quantity": 2}],
        shipping={"name": "Ada Lovelace", "line1": "Unter den Linden 1", "city": "Berlin",
                  "country_code": "DE"},
        payment_method={"card_token": "tok_visa"},  # a test token the built-in provider accepts
        request_id=f"py-qs-{run_id}-order")
    placed = orders.CreateOrder(order_request, timeout=DEADLINE_S)
    order_id = placed.order.order_id
    check(placed.order.status == order_pb2.ORDER_STATUS_PLACED, f"order {placed.order}")
    print(f"ok   create order: {order_id} total={placed.order.total.amount_minor} "
          f"{placed.order.total.currency_code}")

    # A retry of a write whose outcome you do not know (the deadline passed,
    # the connection dropped) sends the same request_id: the gateway answers
    # with the first result and writes nothing twice.
    again = orders.CreateOrder(order_request, timeout=DEADLINE_S)
    check(again.order.order_id == order_id, f"retry placed {again.order.order_id}")
    print(f"ok   retry create order: same order {order_id}")

    # READ_YOUR_WRITES with the write's token: any replica that has caught up
    # with the write may answer.
    got = orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id, read_options={
        "consistency": common_pb2.CONSISTENCY_LEVEL_READ_YOUR_WRITES,
        "consistency_token": placed.consistency_token,
    }), timeout=DEADLINE_S)
    check(got.order.order_id == order_id, f"read order {got.order.order_id}")
    print(f"ok   get order: {order_id} "
          f"{order_pb2.OrderStatus.Name(got.order.status)} (read your writes)")

    # Errors carry google.rpc details: branch on ErrorInfo.reason, not the text.
    try:
        catalog.GetProduct(catalog_pb2.GetProductRequest(sku="bad sku!"), timeout=DEADLINE_S)
    except grpc.RpcError as e:
        failure = decode(e)
    else:
        raise CheckFailed('GetProduct("bad sku!") succeeded')
    fields = [v.field for v in failure.field_violations]
    check(failure.reason == "INVALID_ARGUMENT" and "sku" in fields,
          f"{failure.code.name} {failure.reason} {fields}")
    print(f"ok   decode error: {failure.code.name} reason={failure.reason} "
          f"fields={','.join(fields)}")


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else \
        os.environ.get("DGW_ADDR", "localhost:50051")
    print(f"datagw quickstart against {address}")
    with channel_from_env(address) as channel:
        try:
            run(channel)
        except grpc.RpcError as e:
            print(f"FAIL {e.code().name}: {e.details()}")
            return 1
        except CheckFailed as e:
            print(f"FAIL {e}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
