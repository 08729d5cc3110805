"""Passwords out of text meant for people: errors, logs, metadata, topology.

A DSN or URL may carry a password (postgresql://app:secret@db/orders,
redis://:secret@cache:6379/0, ...?password=secret, host=db password=secret).
Whatever text may hold one passes through `redact_url` before it is printed,
logged or sent to a caller; the host and port stay, so the message still says
which backend it is about. A leaf module: the runtime and storage both import
it, so it imports nothing from the gateway.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@ -- the password runs to the last "@" of the
# authority (an unescaped "@" in a password is common enough), never past
# its end ("/", "?", "#"), whitespace or a quote.
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s'\"]*:)[^/?#\s'\"]*(?=@)")
# password=... as a query parameter or a key/value DSN parameter (also
# sslpassword=...), quoted or up to the next separator.
_KEY_PASSWORD = re.compile(
    r"(?P<head>\b\w*password\s*=\s*)(?:'[^']*'|\"[^\"]*\"|[^\s&;,'\"]*)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """`text` with the password of every DSN or URL in it replaced by ***."""
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}", text)
    return _KEY_PASSWORD.sub(rf"\g<head>{MASK}", text)
