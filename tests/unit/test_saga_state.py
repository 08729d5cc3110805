"""The sagas' typed state reads and writes the JSON the saga log has always held.

Rows already in the database were written as plain dicts: each form a
placing saga's data takes over its life (drafted, past its pivot,
compensated, scrubbed by an erasure) must load and write back unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.records.commerce import (
    CANCEL_ORDER,
    CREATE_ORDER,
    CancelSagaState,
    OrderItemRecord,
    OrderSagaState,
    SagaFailure,
    saga_state_from_json,
)

DRAFT: dict[str, Any] = {
    "hash": "9f2c", "attempt": 2, "order_id": "o01", "payment_id": "p01",
    "reservation_id": "s01.2", "currency": "EUR",
    "items": [{"sku": "A-1", "title": "Mug", "quantity": 2, "unit_price_minor": 450,
               "category": "kitchen"}],
    "shipping": {"name": "Ada", "line1": "1 Main St", "country_code": "DE"},
    "total_minor": 900, "card_token": "tok_visa",
}
PIVOTED = {k: v for k, v in DRAFT.items() if k != "card_token"}
COMPENSATED = {**PIVOTED, "retryable": False, "failure": {
    "code": "FAILED_PRECONDITION", "reason": "CARD_DECLINED",
    "message": "the card was declined", "metadata": {"payment_id": "p01"}}}
ERASED = {**DRAFT, "shipping": {"country_code": "DE"}, "card_token": ""}


@pytest.mark.parametrize("stored", [DRAFT, PIVOTED, COMPENSATED, ERASED],
                         ids=["draft", "pivoted", "compensated", "erased"])
def test_a_placing_saga_loads_and_writes_back_the_same_json(stored: dict[str, Any]) -> None:
    state = saga_state_from_json(CREATE_ORDER, stored)
    assert isinstance(state, OrderSagaState)
    assert state.to_json() == stored


def test_the_fields_of_a_placing_saga() -> None:
    state = OrderSagaState.from_json(COMPENSATED)
    assert (state.request_hash, state.attempt, state.total_minor) == ("9f2c", 2, 900)
    assert state.items == (OrderItemRecord("A-1", "Mug", 2, 450, "kitchen"),)
    assert state.card_token is None
    assert state.failure == SagaFailure("FAILED_PRECONDITION", "CARD_DECLINED",
                                        "the card was declined", {"payment_id": "p01"})
    assert state.retryable is False
    assert OrderSagaState.from_json(DRAFT).failure is None


def test_items_stored_before_the_category_was_kept_load() -> None:
    item = {k: v for k, v in DRAFT["items"][0].items() if k != "category"}
    state = OrderSagaState.from_json({**DRAFT, "items": [item]})
    assert state.items == (OrderItemRecord("A-1", "Mug", 2, 450, ""),)


def test_a_cancelling_saga() -> None:
    stored = {"reservation_id": "s01.2", "reason": "changed my mind"}
    state = saga_state_from_json(CANCEL_ORDER, stored)
    assert state == CancelSagaState("s01.2", "changed my mind")
    assert state.to_json() == stored


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="no saga kind"):
        saga_state_from_json("refund_order", DRAFT)
