"""Helpers for the commerce tests: stubs, a stocked product, a user, an order."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
from datagw.v1 import (
    admin_pb2_grpc,
    catalog_pb2_grpc,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
    payment_pb2,
    payment_pb2_grpc,
    user_pb2,
    user_pb2_grpc,
)

from gateway.storage.postgres.keyspace_id import keyspace_id
from tests.helpers import money, product, upsert


@dataclass
class Shop:
    users: user_pb2_grpc.UserServiceStub
    orders: order_pb2_grpc.OrderServiceStub
    payments: payment_pb2_grpc.PaymentServiceStub
    inventory: inventory_pb2_grpc.InventoryServiceStub
    catalog: catalog_pb2_grpc.CatalogServiceStub
    admin: admin_pb2_grpc.AdminServiceStub

    @classmethod
    def on(cls, channel: grpc.aio.Channel) -> Shop:
        return cls(user_pb2_grpc.UserServiceStub(channel), order_pb2_grpc.OrderServiceStub(channel),
                   payment_pb2_grpc.PaymentServiceStub(channel),
                   inventory_pb2_grpc.InventoryServiceStub(channel),
                   catalog_pb2_grpc.CatalogServiceStub(channel),
                   admin_pb2_grpc.AdminServiceStub(channel))

    async def user(self, user_id: str) -> user_pb2.User:
        response = await self.users.CreateUser(user_pb2.CreateUserRequest(
            user_id=user_id, email=f"{user_id}@example.com", display_name=user_id,
            request_id=f"create-{user_id}"))
        created: user_pb2.User = response.user
        return created

    async def stocked(self, sku: str, on_hand: int, price_minor: int = 1000) -> None:
        await upsert(self.catalog, product(sku, price=money(price_minor)))
        await self.inventory.SetStock(inventory_pb2.SetStockRequest(
            sku=sku, on_hand=on_hand, request_id=f"stock-{sku}-{on_hand}"))

    async def available(self, sku: str) -> int:
        response = await self.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku))
        return int(response.stock.available)

    async def stock(self, sku: str) -> inventory_pb2.Stock:
        response = await self.inventory.GetStock(inventory_pb2.GetStockRequest(sku=sku))
        found: inventory_pb2.Stock = response.stock
        return found

    async def place(self, user_id: str, items: dict[str, int], request_id: str,
                    card: str = "tok_visa") -> order_pb2.CreateOrderResponse:
        response: order_pb2.CreateOrderResponse = await self.orders.CreateOrder(
            order_request(user_id, items, request_id, card))
        return response


def order_request(user_id: str, items: dict[str, int], request_id: str,
                  card: str = "tok_visa", **overrides: Any) -> order_pb2.CreateOrderRequest:
    values: dict[str, Any] = {
        "user_id": user_id,
        "items": [order_pb2.OrderItemInput(sku=s, quantity=q) for s, q in items.items()],
        "shipping": order_pb2.Address(name="Ada", line1="1 Main St", city="Berlin",
                                      country_code="DE"),
        "payment_method": payment_pb2.PaymentMethod(card_token=card),
        "request_id": request_id,
    }
    values.update(overrides)
    return order_pb2.CreateOrderRequest(**values)


def shard_index(gateway: Any, user_id: str) -> int:
    return int(gateway.backends.keyspaces["commerce"].shard_for(keyspace_id(user_id)).index)


def user_on_shard(gateway: Any, prefix: str, index: int) -> str:
    """A user id (starting with `prefix`) that the range map puts on shard `index`."""
    for n in range(10_000):
        candidate = f"{prefix}-{n}"
        if shard_index(gateway, candidate) == index:
            return candidate
    raise AssertionError("no user id found for the shard")


async def shard_rows(gateway: Any, index: int, query: str, *args: Any) -> list[asyncpg.Record]:
    """Rows read straight from one commerce shard's primary, behind the gateway's back.

    Without arguments the query may be several statements (a script). No
    named prepared statements: the DSN may lead through a transaction pooler."""
    dsn = gateway.backends.keyspaces["commerce"].shards[index].dsn
    conn = await asyncpg.connect(dsn, statement_cache_size=0)
    try:
        if not args and ";" in query:
            await conn.execute(query)
            return []
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def reconciled(shards: list[asyncpg.Connection], inventory: asyncpg.Connection,
                     skus: dict[str, int]) -> tuple[set[str], int]:
    """Assert that orders, sagas, payments and stock agree after a fault, on
    connections straight to each commerce shard and the inventory database
    (closed here); `skus` maps each sku to its initial stock. Returns the
    order ids that exist and how many sagas the recovery loop had to resume."""
    sold: Counter[str] = Counter()
    order_ids: set[str] = set()
    recovered = 0
    for conn in shards:
        try:
            states = {r["state"] for r in await conn.fetch("SELECT DISTINCT state FROM sagas")}
            assert states <= {"completed", "compensated"}, states
            # A completed placing saga has its order; a compensated one has none.
            assert await conn.fetchval(
                "SELECT count(*) FROM sagas s LEFT JOIN orders o USING (order_id) "
                "WHERE s.kind = 'create_order' AND "
                "((s.state = 'completed') <> (o.order_id IS NOT NULL))") == 0
            # Every order has exactly its one authorized payment for its total.
            assert await conn.fetchval(
                "SELECT count(*) FROM orders o LEFT JOIN payments p USING (order_id) "
                "WHERE p.payment_id IS NULL OR p.amount_minor <> o.total_minor "
                "OR p.status <> 'authorized'") == 0
            for row in await conn.fetch(
                    "SELECT sku, sum(quantity) AS n FROM order_items GROUP BY sku"):
                sold[row["sku"]] += row["n"]
            order_ids |= {r["order_id"] for r in await conn.fetch("SELECT order_id FROM orders")}
            recovered += await conn.fetchval("SELECT count(*) FROM sagas WHERE attempts > 0")
        finally:
            await conn.close()
    try:
        held = await inventory.fetch("SELECT * FROM reservations WHERE state = 'held'")
        assert not held, [dict(r) for r in held]
        for sku, initial in skus.items():
            row = await inventory.fetchrow(
                "SELECT on_hand, reserved FROM stock WHERE sku = $1", sku)
            assert (row["on_hand"], row["reserved"]) == (initial - sold[sku], 0), sku
    finally:
        await inventory.close()
    return order_ids, recovered
