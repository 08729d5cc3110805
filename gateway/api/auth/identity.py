"""Who is calling: one Identity per call, from the listener's accepted kinds.

Tried in this order: a bearer token (when one is sent, it must verify: a bad
token is never passed over for another identity), the client certificate of
a mutual TLS connection, a local caller (unix socket, or a loopback address
on the TCP listener), and anonymous where the config allows it. Otherwise
UNAUTHENTICATED with ErrorInfo saying what the listener accepts.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from gateway.api.auth.settings import AuthSettings, IdentityKind
from gateway.api.auth.tokens import JwtVerifier
from gateway.errors import Unauthenticated
from gateway.policy.access import ANONYMOUS

AUTHORIZATION_HEADER = "authorization"
_LOOPBACK = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_BEARER = "bearer "


@dataclass(frozen=True)
class Identity:
    # "<kind>:<name>", or "anonymous": what access rules and the audit trail name.
    principal: str
    # The token's claims (jwt); empty for the other kinds.
    claims: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.principal.partition(":")[2]


ANONYMOUS_IDENTITY = Identity(ANONYMOUS)


def _loopback(peer: str) -> bool:
    """Whether a gRPC peer string ("ipv4:127.0.0.1:5000", "ipv6:%5B::1%5D:5000")
    is the loopback address 127.0.0.1 or ::1.

    Only those two: a service mesh's proxy in the pod forwards remote callers
    from other loopback addresses (Istio from 127.0.0.6), and they must not
    pass as the pod's own application.
    """
    # The common case without parsing: this runs on every call.
    return peer.startswith("ipv4:127.0.0.1:") or _parsed_loopback(peer)


@functools.lru_cache(maxsize=4096)
def _parsed_loopback(peer: str) -> bool:
    kind, _, rest = peer.partition(":")
    if kind not in ("ipv4", "ipv6"):
        return False
    host = unquote(rest).rpartition(":")[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address in _LOOPBACK


def _first(auth: Mapping[str, Sequence[bytes]], key: str) -> str | None:
    values = auth.get(key)
    return values[0].decode("utf-8", "replace") if values else None


class Authenticator:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.tokens = JwtVerifier(settings.jwt) if settings.jwt is not None else None
        name = settings.local_name
        self._local_unix = Identity(f"local:{name or 'unix'}")
        self._local_loopback = Identity(f"local:{name or 'loopback'}")

    def identify(self, context: Any, metadata: Sequence[tuple[str, Any]]) -> Identity:
        """The caller of one call (`context`: its grpc.aio.ServicerContext)."""
        peer: str = context.peer()
        unix = peer.startswith("unix:")
        accepted = self.settings.unix_socket if unix else self.settings.tcp
        for key, value in metadata:
            if key == AUTHORIZATION_HEADER:
                return self._token(str(value), accepted)
        if IdentityKind.MTLS in accepted and not unix:
            auth: Mapping[str, Sequence[bytes]] = context.auth_context()
            # SAN URI first (a SPIFFE ID names a workload), else the subject.
            name = _first(auth, "peer_uri") or _first(auth, "x509_subject")
            if name:
                return Identity(f"mtls:{name}")
        if IdentityKind.LOCAL in accepted:
            if unix:
                return self._local_unix
            if _loopback(peer):
                return self._local_loopback
        if self.settings.allow_anonymous:
            return ANONYMOUS_IDENTITY
        kinds = ", ".join(k.value for k in accepted) or "none"
        raise Unauthenticated(
            f"this listener needs an identity ({kinds}); none came with the call",
            reason="IDENTITY_REQUIRED", metadata={"accepted": kinds})

    def _token(self, header: str, accepted: tuple[IdentityKind, ...]) -> Identity:
        if self.tokens is None or IdentityKind.JWT not in accepted:
            raise Unauthenticated(
                "this listener does not accept bearer tokens; leave out the authorization "
                "header or configure server.auth.jwt",
                reason="TOKEN_NOT_ACCEPTED", metadata={"identity_kind": "jwt"})
        if not header[:len(_BEARER)].lower() == _BEARER:
            raise Unauthenticated("the authorization header is not 'Bearer <token>'",
                                  reason="TOKEN_INVALID", metadata={"identity_kind": "jwt"})
        verified = self.tokens.verify(header[len(_BEARER):].strip())
        return Identity(f"jwt:{verified.name}", verified.claims)
