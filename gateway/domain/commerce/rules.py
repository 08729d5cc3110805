"""What valid commerce requests look like, and the ids commerce hands out.

Order and payment ids carry the keyspace id of their user ("o" or "p", 16
hex digits of it, 16 random hex digits), so a GetOrder or CapturePayment is
routed to its shard without a lookup, and stays routable when ranges move:
a keyspace id never changes, only which shard owns it.
"""

from __future__ import annotations

import re
import secrets

from gateway.domain.catalog.rules import check_sku
from gateway.domain.catalog.rules import check_text as catalog_check_text
from gateway.errors import NotFound, Violations
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_hex

EMAIL_PATTERN = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[^@\s\x00]+\Z")
MAX_EMAIL = 254
MAX_RESERVATION_ITEMS = 100
MAX_STOCK = 10**12
_ID_PATTERN = {kind: re.compile(rf"^{kind}([0-9a-f]{{16}})[0-9a-f]{{16}}\Z") for kind in "ops"}
_KINDS = {"o": "order", "p": "payment", "s": "saga"}


# User ids follow the sku alphabet, so one check (and one message) serves both;
# free text is checked as the catalog's is.
check_user_id = check_sku
check_text = catalog_check_text


def check_email(v: Violations, field: str, email: str) -> None:
    if not email:
        v.add(field, "required")
    elif len(email) > MAX_EMAIL or not EMAIL_PATTERN.match(email):
        v.add(field, "must be an email address like name@example.com")


def new_id(kind: str, shard_key: str) -> str:
    return f"{kind}{ksid_hex(keyspace_id(shard_key))}{secrets.token_hex(8)}"


def id_keyspace_id(v: Violations, field: str, kind: str, ident: str) -> int:
    """The keyspace id an order, payment or saga id carries; a violation when malformed."""
    match = _ID_PATTERN[kind].match(ident)
    if not ident:
        v.add(field, "required")
    elif match is None:
        v.add(field, f"not a {_KINDS[kind]} id (\"{kind}\" and 32 hex digits)")
    return int(match.group(1), 16) if match else 0


def not_found(kind: str, ident: str) -> NotFound:
    return NotFound(_KINDS[kind], ident)
