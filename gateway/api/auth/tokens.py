"""JWT bearer tokens: verified with PyJWT against keys from a JWKS file or URL.

The keys are read at start and again every refresh interval (a file only
when it changed); a token signed with a key id the set does not hold asks
for an early refresh (at most one per MIN_REFETCH_S), so a rotation at the
issuer is picked up without waiting. Verified tokens are kept until they
expire, so a caller reusing its token pays for the signature check once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from gateway.api.auth.settings import JwtSettings
from gateway.errors import Unauthenticated
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

MIN_REFETCH_S = 10.0
FETCH_TIMEOUT_S = 5.0
# Bounds the verified-token cache; past it the cache starts over.
MAX_CACHED_TOKENS = 10_000


class KeySetError(Exception):
    """The JWKS cannot be read or holds no usable key."""


@dataclass(frozen=True)
class VerifiedToken:
    name: str
    claims: dict[str, str]
    # Monotonic time after which the token is expired (clock skew included).
    valid_until: float


def parse_key_set(text: str | bytes, source: str) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document by key id ("" for a key without one)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a JWKS is a JSON object with a keys list")
        key_set = jwt.PyJWKSet.from_dict(data)
    except (ValueError, TypeError, KeyError, AttributeError, jwt.PyJWTError) as exc:
        raise KeySetError(f"{source}: not a JWKS document with a usable key: {exc}") from exc
    return {key.key_id or "": key for key in key_set.keys
            if key.public_key_use in (None, "sig")}


def _claims(payload: dict[str, Any]) -> dict[str, str]:
    """The token's scalar claims as text: what access rules' `where` compares."""
    return {k: str(v) for k, v in payload.items()
            if isinstance(v, (str, int)) and not isinstance(v, bool)}


def _refused(reason: str, message: str) -> Unauthenticated:
    return Unauthenticated(message, reason=reason, metadata={"identity_kind": "jwt"})


class JwtVerifier:
    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings
        self._keys: dict[str, jwt.PyJWK] = {}
        self._file_mtime: float | None = None
        self._last_fetch = 0.0
        self._verified: dict[str, VerifiedToken] = {}
        self._refresh_task: asyncio.Task[None] | None = None
        self._early: asyncio.Task[None] | None = None

    # -- keys ------------------------------------------------------------------

    def _read_keys(self) -> bool:
        """Read the JWKS; True when the keys changed. Raises KeySetError."""
        s = self.settings
        self._last_fetch = time.monotonic()
        if s.jwks_file is not None:
            path = Path(s.jwks_file)
            try:
                mtime = path.stat().st_mtime
                if mtime == self._file_mtime:
                    return False
                keys = parse_key_set(path.read_bytes(), s.jwks_file)
            except OSError as exc:
                raise KeySetError(f"{s.jwks_file}: cannot be read: {exc}") from exc
            self._file_mtime = mtime
        else:
            assert s.jwks_url is not None
            try:
                with urllib.request.urlopen(s.jwks_url, timeout=FETCH_TIMEOUT_S) as response:
                    body = response.read(1 << 20)
            except OSError as exc:
                raise KeySetError(f"{s.jwks_url}: cannot be fetched: {exc}") from exc
            keys = parse_key_set(body, s.jwks_url)
        if not keys:
            raise KeySetError("the JWKS holds no signing key")
        changed = keys.keys() != self._keys.keys() or any(
            keys[k].key != self._keys[k].key for k in keys)
        if changed:
            self._keys = keys
            # A key taken out of the set no longer vouches for its tokens.
            self._verified.clear()
            log.info("jwt: %d signing key(s) loaded", len(keys))
        return changed

    def load(self) -> None:
        """At start: the keys must be readable (KeySetError otherwise)."""
        self._read_keys()

    async def _refresh(self) -> None:
        try:
            await asyncio.to_thread(self._read_keys)
        except KeySetError as exc:
            # The keys in hand stay in force until a read succeeds.
            log.warning("jwt: keeping the current keys: %s", exc)
        except Exception:
            # Whatever went wrong, the loop must live on to try again.
            log.exception("jwt: reading the keys failed; keeping the current keys")

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.refresh_s)
            await self._refresh()

    def start(self) -> None:
        self._refresh_task = asyncio.create_task(self._refresh_loop())

    async def stop(self) -> None:
        await stop_tasks(self._refresh_task, self._early, what="jwt key refresh")

    def _refetch_soon(self) -> None:
        if (self._early is None or self._early.done()) \
                and time.monotonic() - self._last_fetch >= MIN_REFETCH_S:
            self._early = asyncio.get_running_loop().create_task(self._refresh())

    # -- tokens ----------------------------------------------------------------

    def verify(self, token: str) -> VerifiedToken:
        now = time.monotonic()
        known = self._verified.get(token)
        if known is not None:
            if now < known.valid_until:
                return known
            del self._verified[token]
        verified = self._verify(token, now)
        if len(self._verified) >= MAX_CACHED_TOKENS:
            self._verified.clear()
        self._verified[token] = verified
        return verified

    def _verify(self, token: str, now: float) -> VerifiedToken:
        s = self.settings
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _refused("TOKEN_INVALID", "the bearer token is not a JWT") from None
        kid = header.get("kid") or ""
        key = self._keys.get(kid)
        if key is None and not kid and len(self._keys) == 1:
            key = next(iter(self._keys.values()))
        if key is None:
            self._refetch_soon()
            raise _refused("TOKEN_KEY_UNKNOWN",
                           f"the token's signing key {kid!r} is not in the issuer's key set")
        try:
            payload = jwt.decode(
                token, key, algorithms=list(s.algorithms), audience=s.audience,
                issuer=s.issuer, leeway=s.clock_skew_s,
                options={"require": ["exp", "iss", "aud", s.identity_claim]})
        except jwt.ExpiredSignatureError:
            raise _refused("TOKEN_EXPIRED", "the bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise _refused("TOKEN_NOT_YET_VALID", "the bearer token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise _refused("TOKEN_INVALID",
                           f"the bearer token is not for audience {s.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise _refused("TOKEN_INVALID",
                           f"the bearer token is not from issuer {s.issuer!r}") from None
        except jwt.PyJWTError as exc:
            # The library's message names what failed (signature, a missing
            # claim, an algorithm not allowed), never the token itself.
            raise _refused("TOKEN_INVALID", f"the bearer token is invalid: {exc}") from None
        name = payload.get(s.identity_claim)
        if not isinstance(name, str) or not name:
            raise _refused("TOKEN_INVALID",
                           f"the token's {s.identity_claim!r} claim is not a non-empty string")
        remaining = float(payload["exp"]) + s.clock_skew_s - time.time()
        return VerifiedToken(name, _claims(payload), now + remaining)
