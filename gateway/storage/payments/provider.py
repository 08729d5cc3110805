"""The payment provider interface and the built-in deterministic provider.

datagw talks to no real payment network. The interface is what an adapter
for one would implement: every call is idempotent by the payment id (and a
refund by its refund key), so a saga can repeat a step after a crash. The
built-in provider approves by default and declines or times out by rule,
which is how tests and demos exercise failures:

- card tokens in `decline_tokens` (default "tok_decline", "tok_insufficient_funds")
  are declined;
- amounts above `decline_above_minor` (default 1,000,000,00 minor units) are declined;
- card tokens in `timeout_tokens` (default "tok_timeout") never answer: the
  call fails as unavailable after `timeout_s`, and the outcome is unknown.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.trace import SpanKind

from gateway.telemetry import tracer


class PaymentDeclined(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ProviderUnavailable(Exception):
    """The provider did not answer: the outcome of the call is unknown."""


class PaymentProvider(Protocol):
    async def authorize(self, payment_id: str, amount_minor: int, currency: str,
                        card_token: str) -> str:
        """The provider's reference; PaymentDeclined or ProviderUnavailable."""

    async def capture(self, payment_id: str, reference: str, amount_minor: int) -> None: ...

    async def refund(self, payment_id: str, reference: str, amount_minor: int,
                     refund_key: str) -> None: ...

    async def void(self, payment_id: str, reference: str) -> None: ...


@dataclass
class RulesProvider:
    decline_tokens: frozenset[str] = frozenset({"tok_decline", "tok_insufficient_funds"})
    decline_above_minor: int = 100_000_000
    timeout_tokens: frozenset[str] = frozenset({"tok_timeout"})
    timeout_s: float = 2.0
    # Calls seen, by operation: lets tests check that a step was not repeated
    # against the provider when it should not have been.
    calls: dict[str, int] = field(default_factory=dict)

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1

    async def authorize(self, payment_id: str, amount_minor: int, currency: str,
                        card_token: str) -> str:
        with tracer.start_as_current_span("payment_provider authorize", kind=SpanKind.CLIENT,
                                          attributes={"datagw.payment_id": payment_id}):
            self._count("authorize")
            if card_token in self.timeout_tokens:
                await asyncio.sleep(self.timeout_s)
                raise ProviderUnavailable(f"no answer within {self.timeout_s:g}s")
            if card_token in self.decline_tokens:
                # The message reaches the caller and the saga log: no token in it.
                raise PaymentDeclined("CARD_DECLINED", "the card was declined")
            if amount_minor > self.decline_above_minor:
                raise PaymentDeclined(
                    "AMOUNT_LIMIT", f"{amount_minor} {currency} is above the card's limit")
            # Deterministic, so an authorization repeated after a crash gets
            # the same reference, as a real provider's idempotency key would.
            return "ref_" + hashlib.sha256(payment_id.encode()).hexdigest()[:20]

    async def capture(self, payment_id: str, reference: str, amount_minor: int) -> None:
        self._count("capture")

    async def refund(self, payment_id: str, reference: str, amount_minor: int,
                     refund_key: str) -> None:
        self._count("refund")

    async def void(self, payment_id: str, reference: str) -> None:
        self._count("void")
