"""Payments: a state machine over the provider, on the order's shard.

AUTHORIZED -> CAPTURED -> PARTIALLY_REFUNDED -> REFUNDED, or AUTHORIZED ->
VOIDED. Each change locks the payment row, calls the provider (idempotent
by payment id or refund key, so a repeat after a crash is harmless), and
writes the new state with its event in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg

from gateway.domain.commerce import rules
from gateway.domain.commerce.base import KeyspaceDomain
from gateway.domain.commerce.codec import payment_from_json, payment_json
from gateway.errors import (
    FailedPrecondition,
    PreconditionViolation,
    Unavailable,
    Violations,
)
from gateway.policy.model import Consistency
from gateway.policy.registry import PolicyRegistry
from gateway.records.commerce import OrderRecord, PaymentRecord
from gateway.storage.eventstore import recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.payments.provider import PaymentDeclined, PaymentProvider, ProviderUnavailable
from gateway.storage.postgres import commerce_store as store
from gateway.storage.postgres.keyspace_id import ksid_bytes
from gateway.storage.postgres.pool import Keyspace

DOMAIN = "payments"
LIVE = ("authorized", "captured", "partially_refunded")


def wrong_state(kind: str, ident: str, state: str, wanted: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"{kind} {ident!r} is {state}; this needs it {wanted}",
        reason=f"{kind.upper()}_STATUS",
        metadata={f"{kind}_id": ident, "status": state},
        precondition_violations=(PreconditionViolation(
            f"{kind.upper()}_STATUS", f"{kind}s/{ident}", f"is {state}; needs {wanted}"),),
    )


def declined(exc: PaymentDeclined) -> FailedPrecondition:
    return FailedPrecondition(
        f"payment declined: {exc}", reason="PAYMENT_DECLINED",
        metadata={"decline_code": exc.code},
        precondition_violations=(PreconditionViolation("PAYMENT", "payment_method", str(exc)),),
    )


def provider_down(exc: ProviderUnavailable) -> Unavailable:
    return Unavailable(f"the payment provider did not answer: {exc}",
                       reason="PAYMENT_PROVIDER_UNAVAILABLE", metadata={"backend": "payments"})


class PaymentsDomain(KeyspaceDomain):
    domain = DOMAIN

    def __init__(self, policies: PolicyRegistry, keyspace: Keyspace,
                 provider: PaymentProvider) -> None:
        super().__init__(policies, keyspace)
        self.provider = provider

    # -- reads ---------------------------------------------------------------

    async def get(self, payment_id: str, level: Consistency | None,
                  max_staleness_s: float | None, token: str) -> PaymentRecord:
        return await self.read_by_id("p", "payment_id", payment_id, level, max_staleness_s,
                                     token, "SELECT payments",
                                     lambda c: store.get_payment(c, payment_id))

    async def list_for_order(self, order_id: str, level: Consistency | None,
                             max_staleness_s: float | None, token: str) -> list[PaymentRecord]:
        async def fetch(conn: asyncpg.Connection) -> list[PaymentRecord] | None:
            if await store.get_order(conn, order_id) is None:
                return None
            return await store.order_payments(conn, order_id)

        return await self.read_by_id("o", "order_id", order_id, level, max_staleness_s, token,
                                     "SELECT payments", fetch)

    # -- writes --------------------------------------------------------------

    async def _change(
        self, method: str, payment_id: str, request_id: str, body: dict[str, object],
        change: Callable[[asyncpg.Connection, PaymentRecord, bytes], Awaitable[PaymentRecord]],
    ) -> tuple[PaymentRecord, str]:
        """Apply `change` to the locked payment, idempotent by request_id (the
        request's other fields: their rules in proto/)."""
        v = Violations()
        ksid = rules.id_keyspace_id(v, "payment_id", "p", payment_id)
        v.raise_if_any()

        async def tx(conn: asyncpg.Connection) -> PaymentRecord:
            payment = await store.get_payment(conn, payment_id, lock=True)
            if payment is None:
                raise rules.not_found("p", payment_id)
            return await change(conn, payment, ksid_bytes(ksid))

        return await self.write(self.routed(ksid), method, request_id,
                                {"payment_id": payment_id, **body}, tx, payment_json,
                                payment_from_json)

    async def capture(self, payment_id: str, amount: int | None, request_id: str
                      ) -> tuple[PaymentRecord, str]:
        async def change(conn: asyncpg.Connection, p: PaymentRecord, ksid: bytes
                         ) -> PaymentRecord:
            if p.status != "authorized":
                raise wrong_state("payment", p.payment_id, p.status, "authorized")
            take = amount if amount is not None else p.amount_minor
            if take > p.amount_minor:
                raise FailedPrecondition(
                    f"capture of {take} exceeds the authorized {p.amount_minor}",
                    reason="CAPTURE_EXCEEDS_AUTHORIZATION",
                    metadata={"authorized_minor": str(p.amount_minor)})
            order = await store.get_order(conn, p.order_id, lock=True)
            assert order is not None
            if order.status == "cancelled":
                raise wrong_state("order", order.order_id, order.status, "placed or paid")
            await self._provider_call(self.provider.capture(p.payment_id, p.provider_ref, take))
            captured = await store.update_payment(conn, p.payment_id, "captured", take, 0)
            changes = [NewEvent(f"payment-{p.payment_id}", "PaymentCaptured",
                                {"payment_id": p.payment_id, "order_id": p.order_id,
                                 "amount_minor": take, "currency": p.currency})]
            if order.status == "placed":
                await store.set_order_status(conn, order.order_id, "paid")
                changes.append(NewEvent(f"order-{order.order_id}", "OrderPaid",
                                        {"order_id": order.order_id, "payment_id": p.payment_id}))
            await recorder.append(conn, changes, EventMeta(request_id), ksid)
            return captured

        return await self._change("CapturePayment", payment_id, request_id,
                                  {"amount": amount}, change)

    async def refund(self, payment_id: str, amount: int, reason: str, request_id: str
                     ) -> tuple[PaymentRecord, str]:
        async def change(conn: asyncpg.Connection, p: PaymentRecord, ksid: bytes
                         ) -> PaymentRecord:
            return await self.refund_locked(conn, p, amount, reason, request_id, ksid,
                                            EventMeta(request_id))

        return await self._change("RefundPayment", payment_id, request_id,
                                  {"amount": amount, "reason": reason}, change)

    async def refund_locked(self, conn: asyncpg.Connection, p: PaymentRecord, amount: int,
                            reason: str, refund_key: str, ksid: bytes, meta: EventMeta
                            ) -> PaymentRecord:
        """Refund `amount` of a locked payment; refunds never exceed captures."""
        if p.status not in ("captured", "partially_refunded"):
            raise wrong_state("payment", p.payment_id, p.status, "captured")
        left = p.captured_minor - p.refunded_minor
        if amount > left:
            raise FailedPrecondition(
                f"refund of {amount} exceeds the {left} captured and not yet refunded",
                reason="REFUND_EXCEEDS_CAPTURE",
                metadata={"refundable_minor": str(left)},
                precondition_violations=(PreconditionViolation(
                    "REFUND", f"payments/{p.payment_id}", f"at most {left} can be refunded"),),
            )
        await self._provider_call(
            self.provider.refund(p.payment_id, p.provider_ref, amount, refund_key))
        refunded = p.refunded_minor + amount
        status = "refunded" if refunded == p.captured_minor else "partially_refunded"
        updated = await store.update_payment(conn, p.payment_id, status, p.captured_minor,
                                             refunded)
        await recorder.append(conn, [NewEvent(f"payment-{p.payment_id}", "PaymentRefunded", {
            "payment_id": p.payment_id, "order_id": p.order_id, "amount_minor": amount,
            "currency": p.currency, "reason": reason})], meta, ksid)
        return updated

    async def void(self, payment_id: str, request_id: str) -> tuple[PaymentRecord, str]:
        async def change(conn: asyncpg.Connection, p: PaymentRecord, ksid: bytes
                         ) -> PaymentRecord:
            return await self.void_locked(conn, p, ksid, EventMeta(request_id))

        return await self._change("VoidPayment", payment_id, request_id, {}, change)

    async def void_locked(self, conn: asyncpg.Connection, p: PaymentRecord, ksid: bytes,
                          meta: EventMeta) -> PaymentRecord:
        if p.status != "authorized":
            raise wrong_state("payment", p.payment_id, p.status, "authorized")
        await self._provider_call(self.provider.void(p.payment_id, p.provider_ref))
        updated = await store.update_payment(conn, p.payment_id, "voided", 0, 0)
        await recorder.append(conn, [NewEvent(f"payment-{p.payment_id}", "PaymentVoided", {
            "payment_id": p.payment_id, "order_id": p.order_id})], meta, ksid)
        return updated

    async def authorize(self, order_id: str, card_token: str, request_id: str
                        ) -> tuple[PaymentRecord, str]:
        v = Violations()
        ksid = rules.id_keyspace_id(v, "order_id", "o", order_id)
        v.raise_if_any()

        async def tx(conn: asyncpg.Connection) -> PaymentRecord:
            order = await store.get_order(conn, order_id, lock=True)
            if order is None:
                raise rules.not_found("o", order_id)
            if order.status != "placed":
                raise wrong_state("order", order_id, order.status, "placed")
            live = [p for p in await store.order_payments(conn, order_id) if p.status in LIVE]
            if live:
                raise FailedPrecondition(
                    f"order {order_id!r} already has payment {live[0].payment_id!r} "
                    f"({live[0].status}); void it first",
                    reason="PAYMENT_EXISTS", metadata={"payment_id": live[0].payment_id})
            payment_id = rules.new_id("p", order.user_id)
            payment = await self.record_authorization(
                conn, order, payment_id, card_token, ksid_bytes(ksid), EventMeta(request_id))
            await store.set_order_status(conn, order_id, order.status, payment_id)
            return payment

        return await self.write(self.routed(ksid), "AuthorizePayment", request_id,
                                {"order_id": order_id, "card": card_token}, tx, payment_json,
                                payment_from_json)

    async def record_authorization(
        self, conn: asyncpg.Connection, order: OrderRecord, payment_id: str, card_token: str,
        ksid: bytes, meta: EventMeta, reference: str | None = None,
    ) -> PaymentRecord:
        """Authorize (unless `reference` says it was done) and store the payment."""
        if reference is None:
            try:
                reference = await self.provider.authorize(
                    payment_id, order.total_minor, order.currency, card_token)
            except PaymentDeclined as exc:
                raise declined(exc) from exc
            except ProviderUnavailable as exc:
                raise provider_down(exc) from exc
        now = datetime.now(UTC)
        payment = PaymentRecord(payment_id, order.order_id, order.user_id, "authorized",
                                order.currency, order.total_minor, 0, 0, reference, 1, now, now)
        await store.insert_payment(conn, payment, ksid, NewEvent(
            f"payment-{payment_id}", "PaymentAuthorized", {
                "payment_id": payment_id, "order_id": order.order_id,
                "amount_minor": order.total_minor, "currency": order.currency}), meta)
        return payment

    @staticmethod
    async def _provider_call(call: Awaitable[None]) -> None:
        try:
            await call
        except ProviderUnavailable as exc:
            raise provider_down(exc) from exc
