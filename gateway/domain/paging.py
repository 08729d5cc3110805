"""Opaque keyset page tokens.

A token carries the sort key of the last row served and a fingerprint of the
query it belongs to, so a token reused with other filters is rejected instead
of silently returning a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from gateway.errors import FieldViolation, InvalidArgument


def fingerprint(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def encode_token(query_fingerprint: str, key: list[Any]) -> str:
    raw = json.dumps({"q": query_fingerprint, "k": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query_fingerprint: str) -> list[Any]:
    def bad(why: str) -> InvalidArgument:
        return InvalidArgument([FieldViolation("page_token", why)])

    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad("not a page token returned by this API") from exc
    if not isinstance(body, dict) or not isinstance(body.get("k"), list) or any(
            isinstance(part, str) and "\x00" in part for part in body["k"]):
        # A key goes to SQL, and PostgreSQL refuses NUL in text.
        raise bad("not a page token returned by this API")
    if body.get("q") != query_fingerprint:
        raise bad("belongs to a different query; keep query, filters and sort unchanged")
    return list(body["k"])
