"""Credentials made for the tests: a throw-away CA with server and client
certificates, and a JWT issuer with its JWKS.

Shared by the tiers (TLS and access tests, the client e2e tests, the
authorization benchmark), so it lives in tests/, not in one tier.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

# The workload the client certificate names (its SAN URI).
CLIENT_SPIFFE_ID = "spiffe://shop.example/ns/shop/sa/orders"
ISSUER = "https://issuer.test"
AUDIENCE = "datagw"


@dataclass(frozen=True)
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    # A workload certificate: SAN URI CLIENT_SPIFFE_ID.
    client_cert: Path
    client_key: Path
    # A certificate with a subject only (no SAN URI).
    plain_cert: Path
    plain_key: Path


def _openssl(openssl: str, *args: str | Path) -> None:
    subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=30)


def _issue(openssl: str, d: Path, name: str, extensions: str) -> tuple[Path, Path]:
    """A P-256 key and a certificate for it signed by the CA in `d`."""
    key, csr, cert, ext = (d / f"{name}.{s}" for s in ("key", "csr", "crt", "ext"))
    ext.write_text(extensions)
    _openssl(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", f"/O=datagw test/CN={name}")
    _openssl(openssl, "x509", "-req", "-in", csr, "-CA", d / "ca.crt", "-CAkey", d / "ca.key",
             "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", cert)
    return cert, key


def make_certs(openssl: str, d: Path) -> Certs:
    _openssl(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", d / "ca.key", "-out", d / "ca.crt", "-days", "1",
             "-subj", "/CN=datagw test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server_cert, server_key = _issue(
        openssl, d, "server",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    client_cert, client_key = _issue(
        openssl, d, "client",
        f"subjectAltName=URI:{CLIENT_SPIFFE_ID}\nextendedKeyUsage=clientAuth\n")
    plain_cert, plain_key = _issue(openssl, d, "plain", "extendedKeyUsage=clientAuth\n")
    return Certs(d / "ca.crt", server_cert, server_key, client_cert, client_key,
                 plain_cert, plain_key)


def credentials(certs: Certs, *, with_client_cert: bool = True,
                plain: bool = False) -> grpc.ChannelCredentials:
    if not with_client_cert:
        return grpc.ssl_channel_credentials(root_certificates=certs.ca.read_bytes())
    cert, key = (certs.plain_cert, certs.plain_key) if plain else \
        (certs.client_cert, certs.client_key)
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(), private_key=key.read_bytes(),
        certificate_chain=cert.read_bytes())


class Issuer:
    """Signs tokens with ES256 keys it publishes as a JWKS document."""

    def __init__(self) -> None:
        self.keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self.current = self.rotate()

    def rotate(self) -> str:
        """A new signing key, published next to the old ones; its key id."""
        kid = uuid.uuid4().hex[:8]
        self.keys[kid] = ec.generate_private_key(ec.SECP256R1())
        self.current = kid
        return kid

    def retire(self, kid: str) -> None:
        del self.keys[kid]

    def jwks(self) -> str:
        keys = []
        for kid, key in self.keys.items():
            public: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(
                key.public_key()))
            keys.append(public | {"kid": kid, "use": "sig", "alg": "ES256"})
        return json.dumps({"keys": keys})

    def write_jwks(self, path: Path) -> Path:
        # Written whole, then renamed: a reader never sees half a document.
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.jwks())
        tmp.replace(path)
        return path

    def token(self, sub: str, *, ttl_s: float = 300, kid: str | None = None,
              **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now,
                   "exp": now + int(ttl_s)} | claims
        kid = kid or self.current
        return jwt.encode(payload, self.keys[kid], algorithm="ES256", headers={"kid": kid})


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)
