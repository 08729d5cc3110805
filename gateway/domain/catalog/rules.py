"""What a valid product looks like (the requests' own field rules are
buf.validate annotations in proto/datagw/v1/catalog.proto)."""

from __future__ import annotations

import re

from gateway.errors import Violations
from gateway.records.catalog import ProductRecord

# \Z, not $: "$" also matches before a trailing newline, which would let
# "sku\n" (and a user id, which has this alphabet) through.
SKU_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}\Z")
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_NAME = 100
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 64
MAX_ATTRIBUTE_VALUE = 1000
MAX_PRICE_MINOR = 10**15
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
# SuggestProducts with no limit: completions a search box shows.
DEFAULT_SUGGESTIONS = 8
MAX_REQUEST_ID = 128


def check_sku(v: Violations, field: str, sku: str) -> None:
    if not sku:
        v.add(field, "required")
    elif not SKU_PATTERN.match(sku):
        v.add(field, "must be 1-64 characters of A-Z a-z 0-9 . _ -")


def check_text(
    v: Violations, field: str, value: str, limit: int, *, required: bool = False
) -> None:
    """Free text that is stored or sent to PostgreSQL, which refuses NUL in text."""
    if required and not value.strip():
        v.add(field, "required")
    elif len(value) > limit:
        v.add(field, f"must be at most {limit} characters (got {len(value)})")
    elif "\x00" in value:
        v.add(field, "must not contain NUL characters")


def check_product(v: Violations, p: ProductRecord, prefix: str, *, has_price: bool) -> None:
    check_sku(v, f"{prefix}.sku", p.sku)
    check_text(v, f"{prefix}.title", p.title, MAX_TITLE, required=True)
    check_text(v, f"{prefix}.description", p.description, MAX_DESCRIPTION)
    check_text(v, f"{prefix}.category", p.category, MAX_NAME)
    check_text(v, f"{prefix}.brand", p.brand, MAX_NAME)
    if not has_price:
        v.add(f"{prefix}.price", "required")
    else:
        if not 0 <= p.price_minor <= MAX_PRICE_MINOR:
            v.add(f"{prefix}.price.amount_minor", f"must be between 0 and {MAX_PRICE_MINOR}")
        if not CURRENCY_PATTERN.match(p.currency):
            v.add(f"{prefix}.price.currency_code", "must be an ISO 4217 code such as USD")
    if len(p.attributes) > MAX_ATTRIBUTES:
        v.add(f"{prefix}.attributes", f"at most {MAX_ATTRIBUTES} entries")
    for key, value in p.attributes.items():
        if not key or len(key) > MAX_ATTRIBUTE_KEY:
            v.add(f"{prefix}.attributes", f"keys must be 1-{MAX_ATTRIBUTE_KEY} characters")
            break
        if "\x00" in key:
            # jsonb has no NUL; the database would refuse the whole write.
            v.add(f"{prefix}.attributes", "keys must not contain NUL characters")
            break
        check_text(v, f"{prefix}.attributes[{key}]", value, MAX_ATTRIBUTE_VALUE)
