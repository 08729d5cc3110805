"""Orders: placing (a saga), reading, listing, the status machine, cancelling.

Status machine (UpdateOrderStatus moves only the fulfilment steps; PAID
comes from CapturePayment and CANCELLED from CancelOrder):

    placed --capture--> paid --ship--> shipped --deliver--> delivered
    placed, paid --CancelOrder--> cancelled
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from gateway.domain import reads
from gateway.domain.catalog.rules import DEFAULT_PAGE_SIZE
from gateway.domain.commerce import rules
from gateway.domain.commerce.base import KeyspaceDomain
from gateway.domain.commerce.codec import order_from_json, order_json
from gateway.domain.orders.saga import OrderLine, OrderSagas, PlacedOrder
from gateway.domain.paging import decode_token, encode_token, fingerprint
from gateway.domain.payments import wrong_state
from gateway.errors import (
    Aborted,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    PreconditionViolation,
    Unavailable,
    Violations,
)
from gateway.policy.decisions import plan_scatter
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.records.commerce import OrderRecord
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import commerce_store as store
from gateway.storage.postgres import idempotency
from gateway.storage.postgres.keyspace_id import ksid_bytes
from gateway.storage.postgres.pool import Keyspace, Shard

DOMAIN = "orders"
# Moves UpdateOrderStatus makes, and where the others come from.
FULFILMENT = {"paid": "shipped", "shipped": "delivered"}
DEFAULT_ADMIN_PAGE = 100


@dataclass(frozen=True)
class OrderWrite:
    order: OrderRecord
    consistency_token: str


@dataclass(frozen=True)
class OrderPage:
    orders: list[OrderRecord]
    next_page_token: str
    shards_queried: int = 1


def _cursor(o: OrderRecord) -> list[str]:
    return [o.created_at.isoformat(), o.order_id]


def _after(token: str, query: str) -> tuple[datetime, str] | None:
    if not token:
        return None
    key = decode_token(token, query)
    try:
        return datetime.fromisoformat(str(key[0])), str(key[1])
    except (IndexError, ValueError) as exc:
        raise InvalidArgument([FieldViolation("page_token", "not a page token of this list")]
                              ) from exc


class OrdersDomain(KeyspaceDomain):
    domain = DOMAIN

    def __init__(self, policies: PolicyRegistry, keyspace: Keyspace, sagas: OrderSagas) -> None:
        super().__init__(policies, keyspace)
        self.sagas = sagas

    async def create(self, user_id: str, lines: list[OrderLine], shipping: dict[str, str],
                     card_token: str, request_id: str) -> PlacedOrder:
        # Each field's own rules: CreateOrderRequest's in proto/; what spans
        # the lines is checked here.
        v = Violations()
        seen: set[str] = set()
        for i, line in enumerate(lines):
            if line.sku in seen:
                v.add(f"items[{i}].sku", "each sku at most once; add up the quantity instead")
            seen.add(line.sku)
        v.raise_if_any()
        # A refusal by the fence comes before the saga's first write (its
        # later writes follow the range themselves) or leaves a saga that a
        # second run joins by its request_id: running it again is safe.
        return await idempotency.rerouted(self._keyspace, lambda: self.sagas.place(
            user_id, lines, shipping, card_token, request_id))

    async def get(self, order_id: str, level: Consistency | None, max_staleness_s: float | None,
                  token: str) -> OrderRecord:
        return await self.read_by_id("o", "order_id", order_id, level, max_staleness_s, token,
                                     "SELECT orders", lambda c: store.get_order(c, order_id))

    async def list_for_user(self, user_id: str, page_size: int, page_token: str,
                            level: Consistency | None, max_staleness_s: float | None,
                            token: str) -> OrderPage:
        # user_id, page_size: ListOrdersRequest's rules in proto/.
        size = page_size or DEFAULT_PAGE_SIZE
        query = fingerprint({"list": "user_orders", "user": user_id})
        after = _after(page_token, query)
        rows = await self.read(self.routed_key(user_id), level, max_staleness_s, token,
                               "SELECT orders",
                               lambda c: store.list_user_orders(c, user_id, after, size + 1))
        more = len(rows) > size
        rows = rows[:size]
        return OrderPage(rows, encode_token(query, _cursor(rows[-1])) if more else "")

    async def update_status(self, order_id: str, status: str, expected_version: int | None,
                            request_id: str) -> OrderWrite:
        v = Violations()
        # status, expected_version, request_id: UpdateOrderStatusRequest's
        # rules in proto/; the order id carries its keyspace id.
        ksid = rules.id_keyspace_id(v, "order_id", "o", order_id)
        v.raise_if_any()

        async def tx(conn: asyncpg.Connection) -> OrderRecord:
            order = await self._locked_order(conn, order_id, expected_version)
            if FULFILMENT.get(order.status) != status:
                allowed = FULFILMENT.get(order.status)
                raise FailedPrecondition(
                    f"order {order_id!r} cannot go from {order.status} to {status}",
                    reason="ILLEGAL_STATUS_TRANSITION",
                    metadata={"order_id": order_id, "status": order.status},
                    precondition_violations=(PreconditionViolation(
                        "ORDER_STATUS", f"orders/{order_id}",
                        f"from {order.status} the next status is "
                        f"{allowed or 'none (final)'}"),))
            updated = await store.set_order_status(conn, order_id, status)
            await recorder.append(conn, [NewEvent(
                f"order-{order_id}", f"Order{status.capitalize()}",
                {"order_id": order_id, "from": order.status, "to": status})],
                EventMeta(request_id), ksid_bytes(ksid))
            return updated

        order, token = await self.write(
            self.routed(ksid), "UpdateOrderStatus", request_id,
            {"order_id": order_id, "status": status, "ev": expected_version}, tx, order_json,
            order_from_json)
        return OrderWrite(order, token)

    async def cancel(self, order_id: str, reason: str, request_id: str) -> OrderWrite:
        v = Violations()
        # reason, request_id: CancelOrderRequest's rules in proto/.
        ksid = rules.id_keyspace_id(v, "order_id", "o", order_id)
        v.raise_if_any()
        saga_ids: list[str] = []

        async def tx(conn: asyncpg.Connection) -> OrderRecord:
            saga_ids.clear()  # what a rolled-back attempt logged was rolled back with it
            order = await self._locked_order(conn, order_id, None)
            if order.status not in ("placed", "paid"):
                raise wrong_state("order", order_id, order.status, "placed or paid")
            cancelled = await store.set_order_status(conn, order_id, "cancelled")
            saga_id = await self.sagas.start_cancel(conn, order, reason, request_id)
            # What the placement counted, so analytics nets it out from the
            # event alone: amounts, lines and the placement time.
            await recorder.append(conn, [NewEvent(f"order-{order_id}", "OrderCancelled", {
                "order_id": order_id, "reason": reason, "user_id": order.user_id,
                "currency": order.currency, "total_minor": order.total_minor,
                "placed_at": order.created_at.isoformat(),
                "items": [i.to_json() for i in order.items]})],
                                  EventMeta(request_id, saga_id=saga_id), ksid_bytes(ksid))
            saga_ids.append(saga_id)
            return cancelled

        order, token = await self.write(self.routed(ksid), "CancelOrder", request_id,
                                        {"order_id": order_id, "reason": reason}, tx,
                                        order_json, order_from_json)
        for saga_id in saga_ids:
            # The cancellation has happened; if settling fails now (a backend
            # is down) the recovery loop finishes it.
            with contextlib.suppress(Unavailable):
                await self.sagas.run_cancel(self.shard_of(ksid), saga_id)
        return OrderWrite(order, token)

    @staticmethod
    async def _locked_order(conn: asyncpg.Connection, order_id: str,
                            expected_version: int | None) -> OrderRecord:
        order = await store.get_order(conn, order_id, lock=True)
        if order is None:
            raise rules.not_found("o", order_id)
        if expected_version is not None and order.version != expected_version:
            raise Aborted(
                f"order {order_id!r} is at version {order.version}, not {expected_version}",
                reason="VERSION_MISMATCH",
                metadata={"order_id": order_id, "current_version": str(order.version)})
        return order

    # -- cross-shard -----------------------------------------------------------

    async def scan(self, status: str | None, start: datetime | None, end: datetime | None,
                   page_size: int, page_token: str) -> OrderPage:
        """Every shard in parallel, merged newest first; one global keyset cursor."""
        # page_size: AdminServiceListOrdersRequest's rules in proto/.
        size = page_size or DEFAULT_ADMIN_PAGE
        v = Violations()
        if start is not None and end is not None and start >= end:
            v.add("end_time", "must be after start_time")
        v.raise_if_any()
        plan = plan_scatter(self._policies.get(DOMAIN), len(self._keyspace.shards))
        reads.annotate(plan, self._keyspace.name)
        query = fingerprint({"list": "all_orders", "status": status, "start": start,
                             "end": end})
        after = _after(page_token, query)

        shards = [self._keyspace.shards[i] for i in plan.shards]
        # One map for the whole scatter: each range is read on the one shard
        # it names, even if the map changes meanwhile (resharding).
        routing = self._keyspace.map

        async def scan(shard: Shard) -> list[tuple[OrderRecord, Shard]]:
            async with shard.connection("SCAN orders") as conn:
                found = await store.scan_orders(conn, status, start, end, after, size + 1,
                                                routing.ranges_of(shard.index))
            return [(o, shard) for o in found]

        async def fill(shard: Shard, orders: list[OrderRecord]) -> list[OrderRecord]:
            async with shard.connection("SELECT order_items") as conn:
                return await store.with_items(conn, orders)

        # One shard down fails the whole page: a merged page that silently
        # lacks a shard's orders would look complete and be wrong.
        per_shard = await asyncio.gather(*(scan(s) for s in shards))
        merged = list(heapq.merge(*per_shard, key=lambda p: (p[0].created_at, p[0].order_id),
                                  reverse=True))
        more = len(merged) > size
        kept = merged[:size]
        # Items only for the page, each shard's in parallel.
        filled = await asyncio.gather(*(
            fill(s, [o for o, at in kept if at is s]) for s in shards
            if any(at is s for _, at in kept)))
        by_id = {o.order_id: o for part in filled for o in part}
        rows = [by_id[o.order_id] for o, _ in kept]
        return OrderPage(rows, encode_token(query, _cursor(rows[-1])) if more else "",
                         len(per_shard))

