"""Inventory: stock per sku and reservations, in the unsharded inventory keyspace.

Why unsharded: a reservation of several skus must be one local transaction
(all lines or none), and stock rows are few and hot rather than many. The
keyspace can be sharded by sku later; reservations would then become a
per-shard saga step each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.domain.catalog.rules import MAX_REQUEST_ID, check_sku
from gateway.domain.commerce import rules
from gateway.domain.commerce.base import KeyspaceDomain
from gateway.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound, Violations
from gateway.policy.model import Consistency
from gateway.records.commerce import ReservationRecord, StockRecord
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import inventory_store as store

DOMAIN = "inventory"
DEFAULT_RESERVATION_TTL_S = 15 * 60.0
MAX_RESERVATION_TTL_S = 24 * 3600.0


@dataclass(frozen=True)
class StockWrite:
    stock: StockRecord
    consistency_token: str


def _stock_json(s: StockRecord) -> dict[str, Any]:
    return {"sku": s.sku, "on_hand": s.on_hand, "reserved": s.reserved, "version": s.version,
            "updated_at": s.updated_at.isoformat() if s.updated_at else None}


def _stock_from_json(d: dict[str, Any]) -> StockRecord:
    at = d.get("updated_at")
    return StockRecord(d["sku"], d["on_hand"], d["reserved"], d["version"],
                       datetime.fromisoformat(at) if at else None)


class InventoryDomain(KeyspaceDomain):
    domain = DOMAIN

    # -- stock ---------------------------------------------------------------

    async def _stock_write(
        self, method: str, request_id: str, body: dict[str, Any],
        tx: Callable[[asyncpg.Connection], Awaitable[StockRecord]],
    ) -> StockWrite:
        stock, token = await self.write(self._keyspace.single, method, request_id, body, tx,
                                        _stock_json, _stock_from_json)
        return StockWrite(stock, token)

    async def set_stock(
        self, sku: str, on_hand: int, expected_version: int | None, request_id: str
    ) -> StockWrite:
        # Each argument's limits: SetStockRequest's rules in proto/.

        async def tx(conn: asyncpg.Connection) -> StockRecord:
            if expected_version is not None:
                current = await store.get_stock(conn, sku, lock=True)
                found = current.version if current else 0
                if found != expected_version:
                    raise Aborted(
                        f"stock of {sku!r} is at version {found}, not {expected_version}",
                        reason="VERSION_MISMATCH",
                        metadata={"sku": sku, "current_version": str(found)})
            stock = await store.set_stock(conn, sku, on_hand)
            await self._event(conn, f"stock-{sku}", "StockSet",
                              {"sku": sku, "on_hand": on_hand}, EventMeta(request_id))
            return stock

        return await self._stock_write("SetStock", request_id,
                                       {"sku": sku, "on_hand": on_hand, "ev": expected_version}, tx)

    async def adjust_stock(self, sku: str, delta: int, reason: str, request_id: str) -> StockWrite:
        # Each argument's limits: AdjustStockRequest's rules in proto/.

        async def tx(conn: asyncpg.Connection) -> StockRecord:
            stock = await store.adjust_stock(conn, sku, delta)
            if stock is None:
                raise NotFound("stock", sku)
            await self._event(conn, f"stock-{sku}", "StockAdjusted",
                              {"sku": sku, "delta": delta, "reason": reason},
                              EventMeta(request_id))
            return stock

        return await self._stock_write("AdjustStock", request_id,
                                       {"sku": sku, "delta": delta, "reason": reason}, tx)

    async def get_stock(
        self, sku: str, level: Consistency | None, max_staleness_s: float | None, token: str
    ) -> StockRecord:
        # The sku: GetStockRequest's rules in proto/.
        stock = await self.read(self._keyspace.single, level, max_staleness_s, token,
                                "SELECT stock", lambda conn: store.get_stock(conn, sku))
        if stock is None:
            raise NotFound("stock", sku)
        return stock

    # -- reservations --------------------------------------------------------

    @staticmethod
    def check_items(v: Violations, items: list[tuple[str, int]], field: str) -> None:
        if not items:
            v.add(field, "at least one line is required")
        if len(items) > rules.MAX_RESERVATION_ITEMS:
            v.add(field, f"at most {rules.MAX_RESERVATION_ITEMS} lines")
        seen: set[str] = set()
        for i, (sku, qty) in enumerate(items):
            check_sku(v, f"{field}[{i}].sku", sku)
            if sku in seen:
                v.add(f"{field}[{i}].sku", "each sku at most once")
            seen.add(sku)
            if not 1 <= qty <= rules.MAX_STOCK:
                v.add(f"{field}[{i}].quantity", f"must be between 1 and {rules.MAX_STOCK}")

    async def reserve(
        self, reservation_id: str, items: list[tuple[str, int]], ttl_s: float | None, *,
        saga_id: str = "", saga_shard_key: str = "", meta: EventMeta | None = None,
    ) -> ReservationRecord:
        """Hold every line or none; the same id again returns the first result."""
        v = Violations()
        rules.check_text(v, "reservation_id", reservation_id, MAX_REQUEST_ID, required=True)
        self.check_items(v, items, "items")
        if ttl_s is not None and not 0 < ttl_s <= MAX_RESERVATION_TTL_S:
            v.add("ttl", f"must be more than 0s and at most {MAX_RESERVATION_TTL_S:g}s")
        v.raise_if_any()
        ttl = ttl_s if ttl_s is not None else DEFAULT_RESERVATION_TTL_S
        event = NewEvent(f"reservation-{reservation_id}", "StockReserved",
                         {"reservation_id": reservation_id})
        # One statement, all lines or none: no transaction around it.
        async with self._keyspace.single.connection("RESERVE stock") as conn:
            held, made = await store.reserve(conn, reservation_id, items, ttl, saga_id,
                                             saga_shard_key, event,
                                             meta or EventMeta(actor="inventory"))
        if not made and sorted(held.items) != sorted(items):
            raise AlreadyExists(
                f"reservation {reservation_id!r} exists with other items",
                reason="RESERVATION_ID_REUSED", metadata={"reservation_id": reservation_id})
        return held

    async def commit(self, reservation_id: str, meta: EventMeta | None = None
                     ) -> ReservationRecord:
        return await self._move(reservation_id, "committed", "StockCommitted", meta)

    async def release(self, reservation_id: str, meta: EventMeta | None = None
                      ) -> ReservationRecord:
        return await self._move(reservation_id, "released", "StockReleased", meta)

    async def give_back(self, reservation_id: str, meta: EventMeta | None = None
                        ) -> ReservationRecord:
        """Undo a sale: committed units return to on_hand (a cancelled order)."""
        return await self._move(reservation_id, "returned", "StockReturned", meta)

    async def _move(
        self, reservation_id: str, to: str, event_type: str, meta: EventMeta | None
    ) -> ReservationRecord:
        """Idempotent: a reservation already in `to` is returned unchanged."""
        v = Violations()
        rules.check_text(v, "reservation_id", reservation_id, MAX_REQUEST_ID, required=True)
        v.raise_if_any()
        event = NewEvent(f"reservation-{reservation_id}", event_type,
                         {"reservation_id": reservation_id})
        async with self._keyspace.single.connection(f"{to.upper()} reservation") as conn:
            current, moved = await store.move(conn, reservation_id, to, event,
                                              meta or EventMeta(actor="inventory"))
        if current is None:
            raise NotFound("reservation", reservation_id)
        if not moved and current.state != to:
            raise FailedPrecondition(
                f"reservation {reservation_id!r} is {current.state}; it cannot become {to}",
                reason="RESERVATION_STATE",
                metadata={"reservation_id": reservation_id, "state": current.state})
        return current

    async def get_reservation(self, reservation_id: str) -> ReservationRecord | None:
        async with self._keyspace.single.connection("SELECT reservations") as conn:
            return await store.get_reservation(conn, reservation_id)

    async def saga_reservations_since(self, since: datetime) -> list[ReservationRecord]:
        async with self._keyspace.single.connection("SELECT reservations") as conn:
            return await store.saga_reservations_since(conn, since)

    async def existing_reservations(self, ids: list[str]) -> set[str]:
        async with self._keyspace.single.connection("SELECT reservations") as conn:
            return await store.existing_reservations(conn, ids)

    async def expired(self, limit: int) -> list[ReservationRecord]:
        async with self._keyspace.single.connection("SELECT reservations") as conn:
            return await store.expired_reservations(conn, limit)

    @staticmethod
    async def _event(conn: asyncpg.Connection, stream: str, event_type: str,
                     payload: dict[str, Any], meta: EventMeta) -> None:
        await recorder.append(conn, [NewEvent(stream, event_type, payload)], meta, None)
