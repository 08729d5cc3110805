"""Data of the commerce benchmarks: a stocked shop through the API, and a bulk order load.

The shop (products, stock, users) is created through the gateway's own API, as
a client would. The million orders of the scatter benchmark are loaded by COPY
straight into each shard, because placing them one saga at a time would take
most of an hour; each row is what the gateway itself would have written on
that shard: the order's user hashes (keyspace_id) into the shard's range, its
ids carry that keyspace id, and its three items add up to its total.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import asyncpg
import grpc
from datagw.v1 import (
    catalog_pb2,
    common_pb2,
    inventory_pb2,
    inventory_pb2_grpc,
    order_pb2,
    payment_pb2,
    user_pb2,
    user_pb2_grpc,
)

from bench.commerce_direct import Backend
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id, ksid_bytes, ksid_hex

SEED = 20261125
CURRENCY = "EUR"
CARD = "tok_visa"
SHIPPING = order_pb2.Address(name="Bench Buyer", line1="1 Load Street", city="Berlin",
                             postal_code="10115", country_code="DE")
# What the gateway stores for SHIPPING (address_in keeps every field, empty or not).
SHIPPING_JSON = {"name": SHIPPING.name, "line1": SHIPPING.line1, "line2": "",
                 "city": SHIPPING.city, "postal_code": SHIPPING.postal_code,
                 "country_code": SHIPPING.country_code}
ITEMS_PER_ORDER = 3
# Enough that no order of any run runs out: the benchmark measures placing, not refusing.
STOCK_ON_HAND = 1_000_000_000
# The status mix of the bulk-loaded orders: most old orders are delivered.
STATUS_MIX = (("delivered", 70), ("shipped", 10), ("paid", 8), ("placed", 7), ("cancelled", 5))
SETUP_CONCURRENCY = 32


def sku(i: int) -> str:
    return f"CB{i:06d}"


def user_id(i: int) -> str:
    return f"bench-user-{i:06d}"


@dataclass(frozen=True)
class Shop:
    users: list[str]
    skus: list[str]


async def _bounded(calls: list[Callable[[], Awaitable[Any]]],
                   limit: int = SETUP_CONCURRENCY) -> list[Any]:
    """Each call started only when fewer than `limit` are in flight (a grpc.aio
    call starts when created, so the calls are passed unstarted)."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(c) for c in calls))


async def stock_shop(channel: grpc.aio.Channel, users: int, products: int) -> Shop:
    """Products (ImportProducts), plenty of stock for each (SetStock), users (CreateUser)."""
    rng = random.Random(SEED)
    skus = [sku(i) for i in range(products)]
    catalog = [catalog_pb2.ImportProductsRequest(product=catalog_pb2.Product(
        sku=s, title=f"Bench product {s}", brand="Bench", category="Bench",
        price=common_pb2.Money(amount_minor=rng.randint(100, 20_000), currency_code=CURRENCY),
        active=True)) for s in skus]
    imported = await channel.stream_unary(
        "/datagw.v1.CatalogService/ImportProducts",
        request_serializer=catalog_pb2.ImportProductsRequest.SerializeToString,
        response_deserializer=catalog_pb2.ImportProductsResponse.FromString,
    )(iter(catalog), timeout=300)
    if imported.imported_count != products:
        raise RuntimeError(f"ImportProducts stored {imported.imported_count} of {products}")
    inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
    await _bounded([partial(inventory.SetStock, inventory_pb2.SetStockRequest(
        sku=s, on_hand=STOCK_ON_HAND, request_id=f"bench-stock-{s}")) for s in skus])
    accounts = user_pb2_grpc.UserServiceStub(channel)
    ids = [user_id(i) for i in range(users)]
    await _bounded([partial(accounts.CreateUser, user_pb2.CreateUserRequest(
        user_id=u, email=f"{u}@bench.example", display_name=u, request_id=f"bench-{u}"))
        for u in ids])
    return Shop(ids, skus)


@dataclass(frozen=True)
class OrderInput:
    user_id: str
    lines: list[tuple[str, int]]
    request_id: str

    def request(self) -> order_pb2.CreateOrderRequest:
        return order_pb2.CreateOrderRequest(
            user_id=self.user_id,
            items=[order_pb2.OrderItemInput(sku=s, quantity=q) for s, q in self.lines],
            shipping=SHIPPING, payment_method=payment_pb2.PaymentMethod(card_token=CARD),
            request_id=self.request_id)


def order_inputs(shop: Shop, count: int, prefix: str, seed: int) -> list[OrderInput]:
    """`count` orders of random users, 3 distinct random skus each, unique request ids."""
    rng = random.Random(seed)
    return [OrderInput(rng.choice(shop.users),
                       [(s, rng.randint(1, 3)) for s in rng.sample(shop.skus, ITEMS_PER_ORDER)],
                       f"{prefix}-{i}") for i in range(count)]


# -- the bulk load of the scatter benchmark ------------------------------------


def _status_picker(rng: random.Random) -> Iterator[str]:
    names = [name for name, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    while True:
        yield from rng.choices(names, weights, k=4096)


def _order_rows(users: list[str], per_user: int, seed: int, now: datetime
                ) -> Iterator[tuple[Any, ...]]:
    """Rows of `orders` for these users: created over the last year, mixed statuses."""
    rng = random.Random(seed)
    statuses = _status_picker(rng)
    shipping = json.dumps(SHIPPING_JSON)
    year_s = 365 * 86400.0
    for u in users:
        ksid = keyspace_id(u)
        raw, hexid = ksid_bytes(ksid), ksid_hex(ksid)
        for _ in range(per_user):
            created = now - timedelta(seconds=rng.random() * year_s)
            order_id = f"o{hexid}{rng.getrandbits(64):016x}"
            yield (order_id, raw, u, next(statuses), CURRENCY,
                   ITEMS_PER_ORDER * rng.randint(100, 20_000), shipping,
                   f"p{hexid}{rng.getrandbits(64):016x}", f"s{hexid}{rng.getrandbits(64):016x}",
                   created, created)


ORDER_COPY_COLUMNS = ("order_id", "keyspace_id", "user_id", "status", "currency",
                      "total_minor", "shipping", "payment_id", "saga_id", "created_at",
                      "updated_at")

# Each order's three lines, one unit each at a third of its total, three distinct
# skus derived from the order id: valid rows, generated where they are stored.
ITEMS_SQL = f"""
INSERT INTO order_items (order_id, line, keyspace_id, sku, title, quantity, unit_price_minor)
SELECT o.order_id, g.line, o.keyspace_id, s.sku, 'Bench product ' || s.sku, 1,
       o.total_minor / {ITEMS_PER_ORDER}
FROM orders o
CROSS JOIN generate_series(0, {ITEMS_PER_ORDER - 1}) AS g(line)
CROSS JOIN LATERAL (
    SELECT 'CB' || lpad(((abs(hashtext(o.order_id)::bigint) + g.line * 7919) % 100000)::text,
                        6, '0')
) AS s(sku)
"""


async def bulk_load_orders(backends: list[Backend], orders: int, users: int) -> dict[str, Any]:
    """`orders` orders of `users` users over every commerce shard; timings and counts."""
    primaries = sorted((b for b in backends if b.keyspace == "commerce" and b.role == "primary"),
                       key=lambda b: b.shard)
    ranges = [KeyRange.parse(b.key_range) for b in primaries]

    def shard_of(key: str) -> int:
        ksid = keyspace_id(key)
        return next(i for i, r in enumerate(ranges) if r.contains(ksid))

    ids = [f"bulk-user-{i:07d}" for i in range(users)]
    per_user = max(1, orders // users)
    user_shards: list[list[str]] = [[] for _ in primaries]
    for u in ids:
        user_shards[shard_of(u)].append(u)
    # The email lookup row lives on the shard of the email's own keyspace id.
    email_shards: list[list[tuple[str, bytes, str]]] = [[] for _ in primaries]
    for u in ids:
        email = f"{u}@bench.example"
        email_shards[shard_of(email)].append((email, ksid_bytes(keyspace_id(email)), u))
    now = datetime.now(UTC)
    timings: dict[str, float] = {}

    async def load(i: int, conn: asyncpg.Connection) -> None:
        started = time.perf_counter()
        await conn.copy_records_to_table(
            "users", columns=("user_id", "keyspace_id", "email", "display_name"),
            records=((u, ksid_bytes(keyspace_id(u)), f"{u}@bench.example", u)
                     for u in user_shards[i]))
        await conn.copy_records_to_table(
            "user_emails", columns=("email", "keyspace_id", "user_id"), records=email_shards[i])
        await conn.copy_records_to_table(
            "orders", columns=ORDER_COPY_COLUMNS,
            records=_order_rows(user_shards[i], per_user, SEED + i, now))
        timings[f"shard {i} copy"] = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute(ITEMS_SQL)
        timings[f"shard {i} items"] = time.perf_counter() - started

    async def settle(conn: asyncpg.Connection) -> None:
        # What autovacuum would do within minutes of a load this size, done before
        # the measurements instead of during them.
        await conn.execute("VACUUM (ANALYZE) users, user_emails, orders, order_items")
        await conn.execute("CHECKPOINT")

    conns = [await asyncpg.connect(b.dsn()) for b in primaries]
    try:
        started = time.perf_counter()
        await asyncio.gather(*(load(i, c) for i, c in enumerate(conns)))
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        await asyncio.gather(*(settle(c) for c in conns))
        settle_s = time.perf_counter() - started
        counts = [await c.fetchval("SELECT count(*) FROM orders") for c in conns]
        items = [await c.fetchval("SELECT count(*) FROM order_items") for c in conns]
        sizes = [await c.fetchval("SELECT pg_size_pretty(pg_total_relation_size('orders') + "
                                  "pg_total_relation_size('order_items'))") for c in conns]
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    total = sum(counts)
    return {"orders": total, "items": sum(items), "users": users,
            "orders_per_shard": counts, "orders_and_items_size_per_shard": sizes,
            "load_s": round(load_s, 1), "orders_per_s": round(total / load_s),
            "vacuum_analyze_checkpoint_s": round(settle_s, 1),
            "phases_s": {k: round(v, 1) for k, v in sorted(timings.items())}}
