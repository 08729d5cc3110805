"""How a gateway identifies its callers (the `server.auth` config section)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IdentityKind(enum.Enum):
    # The client certificate of a mutual TLS connection (SAN URI, else subject).
    MTLS = "mtls"
    # A bearer token in the `authorization` header, verified with the JWKS.
    JWT = "jwt"
    # A caller on the unix socket or a loopback address: the pod's own app.
    LOCAL = "local"


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audience: str
    # Exactly one of the two: a JWKS document on disk (re-read when it
    # changes) or at a URL (fetched again every refresh_s).
    jwks_file: str | None = None
    jwks_url: str | None = None
    refresh_s: float = 300.0
    clock_skew_s: float = 30.0
    # The claim that names the caller: its principal is "jwt:<value>".
    identity_claim: str = "sub"
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")


@dataclass(frozen=True)
class AuthSettings:
    # The identity kinds each listener accepts.
    tcp: tuple[IdentityKind, ...] = (IdentityKind.LOCAL,)
    unix_socket: tuple[IdentityKind, ...] = (IdentityKind.LOCAL,)
    # Calls with no identity pass as "anonymous" (else UNAUTHENTICATED).
    allow_anonymous: bool = False
    # The name of a local caller ("local:<name>"); unset: "local:unix" or
    # "local:loopback", after the listener it came through.
    local_name: str | None = None
    jwt: JwtSettings | None = None
