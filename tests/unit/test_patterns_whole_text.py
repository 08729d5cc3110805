"""Validation patterns match the whole text: `$` also matches before a final
newline, so "EUR\\n" would pass a `^[A-Z]{3}$` check and reach storage."""

from __future__ import annotations

import re

import pytest

from gateway.domain import tokens
from gateway.domain.analytics import query
from gateway.domain.catalog import rules as catalog_rules
from gateway.domain.commerce import rules as commerce_rules
from gateway.policy import access_loader


@pytest.mark.parametrize(("pattern", "valid"), [
    (catalog_rules.CURRENCY_PATTERN, "EUR"),
    (commerce_rules.EMAIL_PATTERN, "lin@example.com"),
    (query.PARAMETER_NAME, "sku"),
    (query._WHOLE_NUMBER, "300"),
    (tokens._TOKEN, "v2.orders.3.00000001.0/16B3748"),
    (tokens._TOKEN_V1, "v1.orders.3.0/16B3748"),
    (access_loader._RULE_NAME, "ops"),
])
def test_a_trailing_newline_is_not_part_of_a_valid_value(pattern: re.Pattern[str],
                                                          valid: str) -> None:
    assert pattern.match(valid)
    assert not pattern.match(valid + "\n")
