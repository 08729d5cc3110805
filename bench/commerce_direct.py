"""The direct baselines of the commerce benchmarks: the gateway's SQL on plain asyncpg pools.

Each baseline calls the gateway's own storage functions (gateway/storage/postgres/*,
gateway/storage/eventstore/recorder.py) in the order its domain layer does, on
asyncpg pools of the gateway's default size, from the benchmark process, against
the servers the gateway under test started.
So the statements, their parameters and the transaction boundaries are the
gateway's, and stay so when its SQL changes; what the baseline leaves out is gRPC,
the interceptor, validation, the policy and routing layer, spans, and the
conversion to protobuf. The row-to-record conversion the storage functions do
(a dataclass per row, JSON columns decoded) is in both.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg

from bench.load import PhaseRun
from gateway.domain.commerce.codec import order_json
from gateway.domain.commerce.rules import new_id
from gateway.domain.orders.saga import SagaSettings, saga_id_for
from gateway.records.commerce import (
    CARD_DATA,
    CREATE_ORDER,
    OrderItemRecord,
    OrderRecord,
    OrderSagaState,
    PaymentRecord,
)
from gateway.runtime.embedded.secrets import postgres_dsn
from gateway.storage.eventstore import pii
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.payments.provider import RulesProvider
from gateway.storage.postgres import catalog_store
from gateway.storage.postgres import commerce_store as store
from gateway.storage.postgres import inventory_store as inventory
from gateway.storage.postgres import saga_store as sagas
from gateway.storage.postgres.idempotency import request_hash, wal_position
from gateway.storage.postgres.keyspace_id import KeyRange, keyspace_id, ksid_bytes
from gateway.storage.postgres.pool import PoolSettings, skip_session_reset

SETTINGS = SagaSettings()
POOL = PoolSettings()


@dataclass(frozen=True)
class Backend:
    """One PostgreSQL server as AdminService/GetTopology lists it."""

    keyspace: str
    shard: int
    role: str
    address: str
    key_range: str
    # The embedded superuser's password (the gateway's data dir holds it).
    password: str = field(repr=False, default="")

    def dsn(self) -> str:
        # Every keyspace is a database of its own name (user postgres).
        return postgres_dsn(self.address, self.password, self.keyspace)


@dataclass
class ShardPools:
    index: int
    key_range: KeyRange
    primary: asyncpg.Pool
    replicas: list[asyncpg.Pool] = field(default_factory=list)


@asynccontextmanager
async def borrow(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, typed as the Connection the storage functions take
    (the pool hands out a proxy that behaves as one, as in the gateway's pool)."""
    async with pool.acquire() as conn:
        yield cast(asyncpg.Connection, conn)


async def _pool(dsn: str, max_size: int) -> asyncpg.Pool:
    # The gateway's pool settings, reset on release included: the same SQL.
    return await asyncpg.create_pool(dsn, min_size=min(POOL.min_size, max_size),
                                     max_size=max_size, reset=skip_session_reset)


class DirectShop:
    """Pools on the catalog, inventory and every commerce shard (and replica)."""

    def __init__(self, catalog: asyncpg.Pool, inventory_pool: asyncpg.Pool,
                 shards: list[ShardPools]) -> None:
        self.catalog = catalog
        self.inventory = inventory_pool
        self.shards = shards
        self.provider = RulesProvider()

    @classmethod
    async def open(cls, backends: list[Backend], max_size: int = POOL.max_size) -> DirectShop:
        def one(keyspace: str) -> Backend:
            return next(b for b in backends if b.keyspace == keyspace and b.role == "primary")

        shards = []
        for b in sorted((b for b in backends if b.keyspace == "commerce"
                         and b.role == "primary"), key=lambda b: b.shard):
            replicas = [await _pool(r.dsn(), max_size) for r in backends
                        if r.keyspace == "commerce" and r.shard == b.shard
                        and r.role == "replica"]
            shards.append(ShardPools(b.shard, KeyRange.parse(b.key_range),
                                     await _pool(b.dsn(), max_size), replicas))
        return cls(await _pool(one("catalog").dsn(), max_size),
                   await _pool(one("inventory").dsn(), max_size), shards)

    async def close(self) -> None:
        pools = [self.catalog, self.inventory]
        for s in self.shards:
            pools += [s.primary, *s.replicas]
        await asyncio.gather(*(p.close() for p in pools))

    def shard_for(self, ksid: int) -> ShardPools:
        return next(s for s in self.shards if s.key_range.contains(ksid))

    # -- CreateOrder ----------------------------------------------------------

    async def place_order(self, user_id: str, lines: list[tuple[str, int]],
                          shipping: dict[str, str], card_token: str, request_id: str) -> str:
        """OrderSagas.place, statement for statement, on the happy path; the order id."""
        shard = self.shard_for(keyspace_id(user_id))
        pool = shard.primary
        ksid = ksid_bytes(keyspace_id(user_id))
        saga_id = saga_id_for(user_id, CREATE_ORDER, request_id)
        digest = request_hash("CreateOrder", {
            "user_id": user_id, "items": lines, "shipping": shipping, "card": card_token}).hex()
        async with borrow(pool) as conn:
            saga, user_exists = await sagas.get_with_user(conn, saga_id, user_id)
            if saga is not None or not user_exists:
                raise RuntimeError(f"request id {request_id!r} used twice, or no user")
        # The draft: prices read from the catalog.
        async with borrow(self.catalog) as conn:
            products = {p.sku: p for p in await catalog_store.get_products(
                conn, [sku for sku, _ in lines])}
        items = tuple(OrderItemRecord(sku, products[sku].title, qty, products[sku].price_minor)
                      for sku, qty in lines)
        currency = next(iter(products.values())).currency
        draft = OrderSagaState(
            request_hash=digest, attempt=1, order_id=new_id("o", user_id),
            payment_id=new_id("p", user_id), reservation_id=f"{saga_id}.1",
            currency=currency, items=items, shipping=shipping,
            total_minor=sum(i.quantity * i.unit_price_minor for i in items),
            card_token=card_token)
        async with borrow(pool) as conn:
            await sagas.insert(conn, saga_id, ksid, CREATE_ORDER, user_id, draft.order_id,
                               request_id, draft, SETTINGS.lease_s)
        meta = EventMeta(request_id, saga_id=saga_id)
        reservation_id = draft.reservation_id
        # InventoryDomain.reserve
        async with borrow(self.inventory) as conn:
            _, made = await inventory.reserve(
                conn, reservation_id, lines, SETTINGS.reservation_ttl_s, saga_id, user_id,
                NewEvent(f"reservation-{reservation_id}", "StockReserved",
                         {"reservation_id": reservation_id}), meta)
            assert made
        reference = await self.provider.authorize(draft.payment_id, draft.total_minor,
                                                  currency, card_token)
        await self._write_order(pool, saga_id, user_id, ksid, draft, reference, meta)
        # _finish_create: commit the reservation (InventoryDomain._move), complete the saga.
        async with borrow(self.inventory) as conn:
            _, moved = await inventory.move(
                conn, reservation_id, "committed", NewEvent(
                    f"reservation-{reservation_id}", "StockCommitted",
                    {"reservation_id": reservation_id}), meta)
            assert moved
        await self._log_step(pool, saga_id, "commit_stock", state="completed")
        return draft.order_id

    @staticmethod
    async def _log_step(pool: asyncpg.Pool, saga_id: str, step: str,
                        state: str | None = None) -> None:
        async with borrow(pool) as conn:
            await sagas.log_step(conn, saga_id, step, "done", state=state)

    @staticmethod
    async def _write_order(pool: asyncpg.Pool, saga_id: str, user_id: str, ksid: bytes,
                           d: OrderSagaState, reference: str, meta: EventMeta) -> str:
        """The pivot transaction (OrderSagas._write_order + record_authorization)."""
        now = datetime.now(UTC)
        order = OrderRecord(
            d.order_id, user_id, "placed", d.currency, d.total_minor, d.shipping,
            d.payment_id, saga_id, 1, now, now, d.items)
        async with borrow(pool) as conn:
            async with conn.transaction():
                current, erased = await sagas.get_locked_with_user(conn, saga_id, user_id)
                assert current is not None and current.state == "running" and erased is None
                placed = order_json(order)
                placed[pii.ENVELOPE] = await pii.seal(conn, user_id, ksid,
                                                      {"shipping": placed.pop("shipping")})
                await store.insert_order(conn, order, ksid, NewEvent(
                    f"order-{order.order_id}", "OrderPlaced", placed), meta)
                payment = PaymentRecord(d.payment_id, order.order_id, user_id, "authorized",
                                        order.currency, order.total_minor, 0, 0, reference, 1,
                                        now, now)
                await store.insert_payment(conn, payment, ksid, NewEvent(
                    f"payment-{payment.payment_id}", "PaymentAuthorized", {
                        "payment_id": payment.payment_id, "order_id": order.order_id,
                        "amount_minor": order.total_minor, "currency": order.currency}), meta)
                await sagas.log_step(conn, saga_id, "write_order", "done",
                                     done_before=("reserve_stock", "authorize_payment"),
                                     forget=CARD_DATA)
            return await wal_position(conn)

    # -- GetOrder -------------------------------------------------------------

    async def get_order(self, order_id: str, replica: bool = False) -> OrderRecord:
        """The order and its items (commerce_store.get_order)."""
        shard = self.shard_for(int(order_id[1:17], 16))
        pool = shard.replicas[0] if replica else shard.primary
        async with borrow(pool) as conn:
            order = await store.get_order(conn, order_id)
        if order is None:
            raise RuntimeError(f"no order {order_id!r}")
        return order

    # -- the admin scatter ----------------------------------------------------

    async def scan(self, status: str | None, after: tuple[datetime, str] | None, size: int
                   ) -> tuple[list[OrderRecord], tuple[datetime, str] | None]:
        """OrdersDomain.scan: every shard in parallel, merged newest first; (page, cursor)."""
        async def one(shard: ShardPools) -> list[tuple[OrderRecord, ShardPools]]:
            async with borrow(shard.primary) as conn:
                found = await store.scan_orders(conn, status, None, None, after, size + 1,
                                                [shard.key_range])
            return [(o, shard) for o in found]

        async def fill(shard: ShardPools, orders: list[OrderRecord]) -> list[OrderRecord]:
            async with borrow(shard.primary) as conn:
                return await store.with_items(conn, orders)

        per_shard = await asyncio.gather(*(one(s) for s in self.shards))
        merged = list(heapq.merge(*per_shard, key=lambda p: (p[0].created_at, p[0].order_id),
                                  reverse=True))
        kept = merged[:size]
        more = len(merged) > size
        filled = await asyncio.gather(*(
            fill(s, [o for o, at in kept if at is s]) for s in self.shards
            if any(at is s for _, at in kept)))
        by_id = {o.order_id: o for part in filled for o in part}
        page = [by_id[o.order_id] for o, _ in kept]
        return page, ((page[-1].created_at, page[-1].order_id) if more else None)


async def drive(op: Callable[[int], Awaitable[Any]], total: int, concurrency: int) -> PhaseRun:
    """Run op(0..total-1) from `concurrency` tasks in this process; one latency per call."""
    latencies: list[tuple[int, int]] = []
    errors: Counter[str] = Counter()
    position = 0

    async def worker() -> None:
        nonlocal position
        while position < total:
            index = position
            position += 1
            started = time.perf_counter_ns()
            try:
                await op(index)
            except Exception as exc:  # counted, as the gRPC clients count error codes
                errors[type(exc).__name__] += 1
                if sum(errors.values()) == 1:
                    print(f"[bench] first error of the phase: {exc!r}", flush=True)
                continue
            latencies.append((index, time.perf_counter_ns() - started))

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - began
    return PhaseRun([lat for _, lat in sorted(latencies)], wall, dict(errors))
