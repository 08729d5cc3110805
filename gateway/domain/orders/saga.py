"""The sagas of orders: placing one (across keyspaces) and cancelling one.

Placing an order spans two keyspaces: stock is reserved in inventory, the
order is written on the user's commerce shard. The saga log row (on that
shard) is written before the first step; each step is idempotent and logged
once done. The pivot is the ACID transaction that writes the order, its
items, its payment and their events: it locks the saga row and runs only if
the saga is still running. Before the pivot a failure compensates in reverse
order (void the authorization, release the reservation); after it the saga
only moves forward (commit the reservation). The recovery loop applies the
same rule to every saga whose lease ran out: an order row means forward,
no order row means compensate. So nothing stays reserved without an order,
and no order exists without its payment.

Cancelling an order pivots first (the order becomes CANCELLED together with
its saga row) and then always moves forward: void or refund the payments,
give the stock back.

The saga id is derived from the user and the request id, so concurrent
duplicates of one CreateOrder meet on the saga row's primary key: one runs,
the others wait for its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from opentelemetry import trace

from gateway.domain.catalog.service import CatalogDomain
from gateway.domain.commerce import rules
from gateway.domain.commerce.base import KeyspaceDomain
from gateway.domain.commerce.codec import order_json
from gateway.domain.inventory import InventoryDomain
from gateway.domain.payments import PaymentsDomain, declined, provider_down
from gateway.domain.users.erasure import REASON as ERASED
from gateway.domain.users.erasure import missing_user, user_erased
from gateway.errors import (
    Aborted,
    AlreadyExists,
    DatagwError,
    FailedPrecondition,
    NotFound,
    PreconditionViolation,
    Unavailable,
)
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.records.commerce import (
    CANCEL_ORDER,
    CARD_DATA,
    CREATE_ORDER,
    CancelSagaState,
    OrderItemRecord,
    OrderRecord,
    OrderSagaState,
    PaymentRecord,
    SagaFailure,
    SagaRecord,
)
from gateway.records.events import ENVELOPE
from gateway.storage.eventstore import pii, recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.payments.provider import PaymentDeclined, ProviderUnavailable
from gateway.storage.postgres import commerce_store as store
from gateway.storage.postgres import erasure_store
from gateway.storage.postgres import saga_store as sagas
from gateway.storage.postgres.idempotency import request_hash, run_transaction, wal_position
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes, ksid_hex
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.telemetry import SAGA_OLDEST_UNFINISHED, SAGA_RECOVERIES, SAGAS, start_span, work_span

log = logging.getLogger(__name__)

DOMAIN = "orders"
_ERRORS: dict[str, type[DatagwError]] = {
    "FAILED_PRECONDITION": FailedPrecondition, "UNAVAILABLE": Unavailable, "ABORTED": Aborted}


@dataclass(frozen=True)
class SagaSettings:
    # How long the request that started a saga may drive it before the
    # recovery loop takes over.
    lease_s: float = 30.0
    recovery_interval_s: float = 5.0
    reservation_ttl_s: float = 15 * 60.0
    # How long a duplicate of a running CreateOrder waits for its outcome.
    duplicate_wait_s: float = 5.0


@dataclass(frozen=True)
class PlacedOrder:
    order: OrderRecord
    payment: PaymentRecord
    consistency_token: str


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int


def saga_id_for(user_id: str, kind: str, key: str) -> str:
    """"s" + the user's keyspace id (so it routes) + a digest of kind and key."""
    digest = hashlib.sha256(f"{kind}\x00{key}".encode()).hexdigest()[:16]
    return f"s{ksid_hex(keyspace_id(user_id))}{digest}"


def _failure(exc: DatagwError) -> SagaFailure:
    return SagaFailure(exc.code.name, exc.reason, exc.message, exc.metadata)


def _raise_failure(failure: SagaFailure) -> None:
    cls = _ERRORS.get(failure.code, Aborted)
    raise cls(failure.message, reason=failure.reason, metadata=failure.metadata)


class OrderSagas(KeyspaceDomain):
    domain = DOMAIN

    def __init__(self, policies: PolicyRegistry, keyspace: Keyspace, catalog: CatalogDomain,
                 inventory: InventoryDomain, payments: PaymentsDomain,
                 settings: SagaSettings) -> None:
        super().__init__(policies, keyspace)
        self._catalog = catalog
        self._inventory = inventory
        self._payments = payments
        self.settings = settings

    # -- placing an order ------------------------------------------------------

    async def place(self, user_id: str, lines: list[OrderLine], shipping: dict[str, str],
                    card_token: str, request_id: str) -> PlacedOrder:
        shard, ksid = self.route(user_id)
        saga_id = saga_id_for(user_id, CREATE_ORDER, request_id)
        trace.get_current_span().set_attribute("datagw.saga_id", saga_id)
        digest = request_hash("CreateOrder", {
            "user_id": user_id, "items": [(x.sku, x.quantity) for x in lines],
            "shipping": shipping, "card": card_token}).hex()
        for _ in range(3):
            async with shard.connection("SELECT sagas") as conn:
                saga, user_exists = await sagas.get_with_user(conn, saga_id, user_id)
            if saga is None:
                if not user_exists:
                    raise await missing_user(shard, user_id)
                draft = await self._draft(user_id, lines, shipping, card_token, digest,
                                          saga_id, attempt=1)
                async with shard.connection("INSERT sagas") as conn:
                    saga = await sagas.insert(conn, saga_id, ksid, CREATE_ORDER, user_id,
                                              draft.order_id, request_id, draft,
                                              self.settings.lease_s)
                if saga is not None:
                    return await self._run_create(shard, saga)
                continue  # a concurrent duplicate inserted first: join it
            if saga.placing.request_hash != digest:
                raise AlreadyExists(
                    f"request_id {request_id!r} was already used for a different order",
                    reason="REQUEST_ID_REUSED",
                    metadata={"request_id": request_id, "method": "CreateOrder"})
            outcome = await self._duplicate(shard, saga, lines, shipping, card_token)
            if outcome is not None:
                return outcome
        raise Aborted("the order is being placed by a concurrent request; retry",
                      reason="REQUEST_IN_PROGRESS", metadata={"saga_id": saga_id})

    async def _duplicate(self, shard: Shard, saga: SagaRecord, lines: list[OrderLine],
                         shipping: dict[str, str], card_token: str) -> PlacedOrder | None:
        """The outcome of an earlier attempt of the same request (None: look again)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.settings.duplicate_wait_s
        while saga.state in sagas.UNFINISHED and not saga.done("write_order"):
            if loop.time() >= until:
                raise Aborted("the same order request is still running; retry",
                              reason="REQUEST_IN_PROGRESS", metadata={"saga_id": saga.saga_id})
            await asyncio.sleep(0.05)
            fresh = await self._saga(shard, saga.saga_id)
            assert fresh is not None
            saga = fresh
        earlier = saga.placing
        if saga.state == "compensated":
            if not earlier.retryable:
                # Compensation stored the failure with `retryable`, before its end.
                assert earlier.failure is not None
                _raise_failure(earlier.failure)
            # The earlier attempt failed for a reason that may have passed (a
            # backend was down): this retry places the order afresh.
            draft = await self._draft(saga.user_id, lines, shipping, card_token,
                                      earlier.request_hash, saga.saga_id,
                                      attempt=earlier.attempt + 1)
            async with shard.connection("RESTART sagas") as conn:
                restarted = await sagas.restart(conn, saga.saga_id, draft, self.settings.lease_s)
            return await self._run_create(shard, restarted) if restarted else None
        return await self._placed(shard, earlier.order_id)

    async def _draft(self, user_id: str, lines: list[OrderLine], shipping: dict[str, str],
                     card_token: str, digest: str, saga_id: str, attempt: int
                     ) -> OrderSagaState:
        """The order to place, with prices read from the catalog now."""
        # A child span of its own: the catalog's read labels it, not the
        # order's server span.
        with start_span("catalog prices"):
            found, missing = await self._catalog.batch_get(
                [x.sku for x in lines], Consistency.STRONG, None)
        products = {p.sku: p for p in found}
        problems = [PreconditionViolation("PRODUCT", f"products/{s}", "not in the catalog")
                    for s in missing]
        problems += [PreconditionViolation("PRODUCT", f"products/{p.sku}", "not for sale")
                     for p in found if not p.active]
        currencies = sorted({p.currency for p in found})
        if len(currencies) > 1:
            problems.append(PreconditionViolation(
                "CURRENCY", "items", f"one currency per order; got {', '.join(currencies)}"))
        if problems:
            raise FailedPrecondition(
                f"the order cannot be priced: {problems[0].subject} {problems[0].description}",
                reason="ORDER_NOT_PRICEABLE", precondition_violations=tuple(problems))
        # The category travels with the line (OrderPlaced, and OrderCancelled
        # from order_items) so analytics can group by it from events alone.
        items = tuple(
            OrderItemRecord(x.sku, products[x.sku].title, x.quantity,
                            products[x.sku].price_minor, products[x.sku].category)
            for x in lines)
        return OrderSagaState(
            request_hash=digest, attempt=attempt,
            order_id=rules.new_id("o", user_id), payment_id=rules.new_id("p", user_id),
            reservation_id=f"{saga_id}.{attempt}",
            currency=currencies[0], items=items, shipping=shipping,
            total_minor=sum(i.quantity * i.unit_price_minor for i in items),
            card_token=card_token)

    async def _run_create(self, shard: Shard, saga: SagaRecord) -> PlacedOrder:
        d = saga.placing
        meta = EventMeta(saga.request_id, saga_id=saga.saga_id)
        try:
            # Both steps are logged with the pivot, not each on its own: the
            # log decides nothing here (compensation undoes both blindly and
            # recovery goes by whether the order exists), so two writes per
            # order would buy only a finer trace of a failed attempt.
            await self._inventory.reserve(
                d.reservation_id, [(i.sku, i.quantity) for i in d.items],
                self.settings.reservation_ttl_s, saga_id=saga.saga_id,
                saga_shard_key=saga.user_id, meta=meta)
            try:
                # A draft just inserted or restarted still has the card.
                assert d.card_token is not None
                reference = await self._payments.provider.authorize(
                    d.payment_id, d.total_minor, d.currency, d.card_token)
            except PaymentDeclined as exc:
                raise declined(exc) from exc
            except ProviderUnavailable as exc:
                raise provider_down(exc) from exc
            placed = await self._write_order(shard, saga, reference, meta)
        except FailedPrecondition as exc:
            # Out of stock, declined, ...: the same request would fail again.
            await self._compensate_or_finish(shard, saga.saga_id, _failure(exc), retryable=False)
            if exc.reason == ERASED:
                # The saga was logged while an erasure ran, after its
                # clean-up: its draft still holds the address and card token.
                async with shard.connection("SCRUB sagas") as conn:
                    await erasure_store.scrub_sagas(conn, saga.user_id,
                                                    ksid_bytes(keyspace_id(saga.user_id)))
            raise
        except (Unavailable, Aborted) as exc:
            with contextlib.suppress(Unavailable):
                await self._compensate_or_finish(shard, saga.saga_id, _failure(exc),
                                                 retryable=True)
            raise
        except Exception:
            # A bug or an unexpected database error: undo what was done (the
            # pivot rolled back if it was running) and let the caller retry.
            failure = _failure(Unavailable("the order could not be placed; retry",
                                           reason="ORDER_NOT_PLACED"))
            with contextlib.suppress(Unavailable):
                await self._compensate_or_finish(shard, saga.saga_id, failure, retryable=True)
            raise
        with contextlib.suppress(Unavailable):
            await self._finish_create(shard, saga.saga_id, saga)
        return placed

    async def _write_order(self, shard: Shard, saga: SagaRecord, reference: str,
                           meta: EventMeta) -> PlacedOrder:
        """The pivot: order, items, payment, events and the saga step, in one transaction."""
        d = saga.placing
        ksid = ksid_bytes(keyspace_id(saga.user_id))
        now = datetime.now(UTC)
        order = OrderRecord(
            d.order_id, saga.user_id, "placed", d.currency, d.total_minor,
            d.shipping, d.payment_id, saga.saga_id, 1, now, now, d.items)

        async def pivot(conn: asyncpg.Connection) -> PaymentRecord:
            current, erased = await sagas.get_locked_with_user(conn, saga.saga_id,
                                                                 saga.user_id)
            if current is None or current.state != "running":
                raise Aborted("the order was given up while it was being placed; retry",
                              reason="SAGA_ABANDONED", metadata={"saga_id": saga.saga_id})
            if erased is not None:
                raise user_erased(saga.user_id, erased)
            # The address is personal data: in the event only sealed.
            placed = order_json(order)
            placed[ENVELOPE] = await pii.seal(conn, saga.user_id, ksid,
                                              {"shipping": placed.pop("shipping")})
            await store.insert_order(conn, order, ksid, NewEvent(
                f"order-{order.order_id}", "OrderPlaced", placed), meta)
            assert d.card_token is not None  # the draft _run_create just authorized
            payment = await self._payments.record_authorization(
                conn, order, d.payment_id, d.card_token, ksid, meta, reference)
            # The payment exists now: nothing later charges the card, so
            # its token leaves the saga log (it is the customer's data).
            await sagas.log_step(conn, saga.saga_id, "write_order", "done",
                                 done_before=("reserve_stock", "authorize_payment"),
                                 forget=CARD_DATA)
            return payment

        # Safe to run again whole after a deadlock: it re-reads the saga and
        # the user, and the authorization it records was made before it, once.
        # Routed: if the user's range moved since the saga began, the order is
        # written where the saga row went with it.
        route = self.routed(keyspace_id(saga.user_id))
        payment, lsn = await run_transaction(route, "WRITE order", pivot)
        assert route.used is not None
        return PlacedOrder(order, payment, self.token(route.used, lsn))

    async def _finish_create(self, shard: Shard, saga_id: str,
                             pivoted: SagaRecord | None = None) -> None:
        """Commit the stock of a saga past its pivot and complete it. `pivoted`:
        the saga as the caller that just ran the pivot knows it (no re-read)."""
        saga = pivoted or await self._saga(shard, saga_id)
        if saga is None or saga.state != "running":
            return
        meta = EventMeta(saga.request_id, saga_id=saga_id)
        # FAILED_PRECONDITION: released or returned meanwhile, because the
        # order was cancelled before this step ran; the cancellation owns
        # the stock now.
        with contextlib.suppress(FailedPrecondition):
            await self._inventory.commit(saga.placing.reservation_id, meta)
        await self._log(shard, saga_id, "commit_stock", "done", state="completed")
        SAGAS.labels(CREATE_ORDER, "completed").inc()

    async def _compensate_or_finish(self, shard: Shard, saga_id: str, failure: SagaFailure,
                                    *, retryable: bool, leased: bool = False) -> None:
        """Undo a saga that did not reach its pivot; finish one that did.

        `leased`: the caller holds the saga's recovery lease and so also
        continues a compensation that someone else started and left.
        """
        async with shard.connection("COMPENSATE sagas") as conn:
            async with conn.transaction():
                saga = await sagas.get(conn, saga_id, lock=True)
                if saga is None or saga.state in ("completed", "compensated"):
                    return
                pivoted = await store.get_order(conn, saga.order_id) is not None
                if not pivoted and saga.state == "compensating" and not leased:
                    return  # being compensated by its owner
                if not pivoted and saga.state == "running":
                    await sagas.record_failure(conn, saga_id, failure, retryable)
                    await sagas.log_step(
                        conn, saga_id, "compensate", "started", failure.reason,
                        state="compensating",
                        failure_reason=f"{failure.reason}: {failure.message}")
        if pivoted:
            await self._finish_create(shard, saga_id)
            return
        await self._undo(saga)
        async with shard.connection("COMPENSATE sagas") as conn:
            async with conn.transaction():
                current = await sagas.get(conn, saga_id, lock=True)
                if current is None or current.state != "compensating":
                    return
                # A retry drafts afresh from its own request: the card stays
                # only while the saga may still charge it.
                await sagas.log_step(conn, saga_id, "compensate", "done", state="compensated",
                                     forget=CARD_DATA)
                await recorder.append(conn, [NewEvent(f"order-{saga.order_id}", "OrderRejected", {
                    "order_id": saga.order_id, "user_id": saga.user_id,
                    "reason": failure.reason, "message": failure.message})],
                    EventMeta(saga.request_id, saga_id=saga_id),
                    ksid_bytes(keyspace_id(saga.user_id)))
        SAGAS.labels(CREATE_ORDER, "compensated").inc()

    async def _undo(self, saga: SagaRecord) -> None:
        """Reverse order: void the authorization, then release the stock.

        Both are repeated blindly: the log cannot say whether a step that was
        in flight at a crash took effect, and both are idempotent.
        """
        d = saga.placing
        meta = EventMeta(saga.request_id, saga_id=saga.saga_id)
        await self._payments.provider.void(d.payment_id, "")
        with contextlib.suppress(NotFound):
            await self._inventory.release(d.reservation_id, meta)

    # -- cancelling an order -------------------------------------------------

    async def start_cancel(self, conn: asyncpg.Connection, order: OrderRecord, reason: str,
                           request_id: str) -> str:
        """Inside the CancelOrder transaction: log the saga that settles the rest."""
        create = await sagas.get(conn, order.saga_id)
        assert create is not None
        saga_id = saga_id_for(order.user_id, CANCEL_ORDER, order.order_id)
        await sagas.insert(conn, saga_id, ksid_bytes(keyspace_id(order.user_id)), CANCEL_ORDER,
                           order.user_id, order.order_id, request_id,
                           CancelSagaState(create.placing.reservation_id, reason),
                           self.settings.lease_s)
        return saga_id

    async def run_cancel(self, shard: Shard, saga_id: str) -> None:
        saga = await self._saga(shard, saga_id)
        if saga is None or saga.state != "running":
            return
        meta = EventMeta(saga.request_id, saga_id=saga_id)
        ksid = ksid_bytes(keyspace_id(saga.user_id))
        if not saga.done("settle_payments"):
            async with shard.connection("SELECT payments") as conn:
                payments = await store.order_payments(conn, saga.order_id)
            for p in payments:
                await self._settle(shard, p.payment_id, saga, ksid, meta)
            await self._log(shard, saga_id, "settle_payments", "done")
        await self._return_stock(saga.cancelling.reservation_id, meta)
        await self._log(shard, saga_id, "return_stock", "done", state="completed")
        SAGAS.labels(CANCEL_ORDER, "completed").inc()

    async def _settle(self, shard: Shard, payment_id: str, saga: SagaRecord, ksid: bytes,
                      meta: EventMeta) -> None:
        async with shard.connection("SETTLE payment") as conn:
            async with conn.transaction():
                p = await store.get_payment(conn, payment_id, lock=True)
                assert p is not None
                if p.status == "authorized":
                    await self._payments.void_locked(conn, p, ksid, meta)
                elif p.status in ("captured", "partially_refunded"):
                    await self._payments.refund_locked(
                        conn, p, p.captured_minor - p.refunded_minor, saga.cancelling.reason
                        or "order cancelled", f"{saga.saga_id}:{payment_id}", ksid, meta)

    async def _return_stock(self, reservation_id: str, meta: EventMeta) -> None:
        """Give the order's units back: release if still held, return if sold."""
        for _ in range(3):
            reservation = await self._inventory.get_reservation(reservation_id)
            if reservation is None or reservation.state in ("released", "returned"):
                return
            try:
                if reservation.state == "held":
                    await self._inventory.release(reservation_id, meta)
                else:
                    await self._inventory.give_back(reservation_id, meta)
                return
            except FailedPrecondition:
                continue  # moved by the placing saga meanwhile: look again

    # -- recovery --------------------------------------------------------------

    async def recover(self, shard: Shard, limit: int = 50) -> int:
        """Finish or compensate every saga on `shard` whose lease ran out;
        report how old the shard's oldest unfinished saga is (a stuck one)."""
        ranges = self._keyspace.map.ranges_of(shard.index)
        async with shard.connection("CLAIM sagas") as conn:
            claimed = await sagas.claim_abandoned(conn, limit, self.settings.lease_s, ranges)
            SAGA_OLDEST_UNFINISHED.labels(shard.keyspace, str(shard.index)).set(
                await sagas.oldest_unfinished_s(conn, ranges))
        for saga in claimed:
            SAGA_RECOVERIES.labels(saga.kind).inc()
            log.info("recovering saga %s (%s, %s)", saga.saga_id, saga.kind, saga.state)
            with work_span("saga recovery", {
                    "datagw.saga_id": saga.saga_id, "datagw.saga.kind": saga.kind,
                    "datagw.keyspace": shard.keyspace, "datagw.shard": shard.index}):
                await self._recover(shard, saga)
        return len(claimed)

    async def _recover(self, shard: Shard, saga: SagaRecord) -> None:
        try:
            if saga.kind == CANCEL_ORDER:
                await self.run_cancel(shard, saga.saga_id)
            else:
                failure = saga.placing.failure or _failure(Unavailable(
                    "the gateway placing the order stopped before it finished",
                    reason="SAGA_ABANDONED"))
                await self._compensate_or_finish(shard, saga.saga_id, failure,
                                                 retryable=True, leased=True)
        except Unavailable as exc:
            log.warning("saga %s not recovered yet: %s", saga.saga_id, exc.message)

    async def sweep_reservations(self, limit: int = 100) -> int:
        """Settle held reservations past their expiry by asking their saga."""
        settled = 0
        for r in await self._inventory.expired(limit):
            meta = EventMeta(actor="reservation-expiry", saga_id=r.saga_id)
            saga = None
            try:
                if r.saga_id:
                    saga = await self._saga(self._keyspace.shard_for(
                        keyspace_id(r.saga_shard_key)), r.saga_id)
                if saga is not None and saga.state in sagas.UNFINISHED:
                    continue  # its own recovery decides
                if saga is not None and saga.state == "completed" and \
                        saga.data.reservation_id == r.reservation_id:
                    await self._inventory.commit(r.reservation_id, meta)
                else:
                    await self._inventory.release(r.reservation_id, meta)
            except Unavailable:
                continue  # its saga's shard is down: ask again next round
            settled += 1
        return settled

    # -- helpers ---------------------------------------------------------------

    async def _saga(self, shard: Shard, saga_id: str) -> SagaRecord | None:
        async with shard.connection("SELECT sagas") as conn:
            return await sagas.get(conn, saga_id)

    async def _log(self, shard: Shard, saga_id: str, step: str, outcome: str, detail: str = "",
                   *, state: str | None = None) -> None:
        async with shard.connection("UPDATE sagas") as conn:
            await sagas.log_step(conn, saga_id, step, outcome, detail, state=state)

    async def _placed(self, shard: Shard, order_id: str) -> PlacedOrder:
        async with shard.connection("SELECT orders") as conn:
            order = await store.get_order(conn, order_id)
            assert order is not None
            payment = await store.get_payment(conn, order.payment_id)
            assert payment is not None
            lsn = await wal_position(conn)
        return PlacedOrder(order, payment, self.token(shard, lsn))

    async def get_saga(self, saga_id: str) -> SagaRecord:
        return await self.read_by_id("s", "saga_id", saga_id, Consistency.STRONG, None, "",
                                     "SELECT sagas", lambda c: sagas.get(c, saga_id))

    async def stuck(self, older_than_s: float, limit: int) -> tuple[list[SagaRecord], list[int]]:
        routing = self._keyspace.map  # one map for the whole scatter

        async def one_shard(shard: Shard) -> list[SagaRecord]:
            async with shard.connection("SELECT sagas") as conn:
                return await sagas.list_unfinished(conn, older_than_s, limit,
                                                   routing.ranges_of(shard.index))

        results = await asyncio.gather(*(one_shard(s) for s in self._keyspace.shards),
                                       return_exceptions=True)
        found: list[SagaRecord] = []
        down: list[int] = []
        for shard, result in zip(self._keyspace.shards, results, strict=True):
            if isinstance(result, Unavailable):
                down.append(shard.index)
            elif isinstance(result, BaseException):
                raise result
            else:
                found.extend(result)
        return sorted(found, key=lambda s: s.created_at)[:limit], down
