"""Personal data in events, sealed with a per-user key (crypto-shredding).

An event's payload never carries personal data in clear. It carries an
envelope under the key "_pii":

    {"user_id": U, "v": 1, "nonce": <base64>, "ciphertext": <base64>}

`ciphertext` is AES-256-GCM over the JSON of the personal data (keys sorted),
with a random 96-bit nonce and the user id as associated data (an envelope
copied into another user's event does not open). The 32-byte key is the row
of `user_keys` on the user's commerce shard, created on first use inside the
writer's transaction, so the key and the first event using it commit
together.

Erasing a user (`erase_key`) clears the key and stamps `erased_at`: every
copy of every envelope, in events, backups and downstream stores, becomes
unreadable at once, and readers report the data as erased rather than
absent. The row stays, so no new personal data is ever sealed for an erased
user id (`seal` raises FAILED_PRECONDITION/USER_ERASED).

Usage, inside a transaction on the user's shard:

    payload = {"order_id": oid, ENVELOPE: await seal(conn, user_id, ksid, {"email": e})}
    opened = await open_all(conn, [e.payload for e in events])  # Opened per payload
    await erase_key(conn, user_id)
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.errors import FailedPrecondition
from gateway.records.events import ENVELOPE, Opened
from gateway.storage.postgres.keyspace_id import keyspace_id, ksid_bytes

VERSION = 1
_NONCE_BYTES = 12


def envelope_of(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """The payload's envelope, if it has a well-formed one."""
    env = payload.get(ENVELOPE)
    if isinstance(env, dict) and isinstance(env.get("user_id"), str):
        return env
    return None


def _user_erased(user_id: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"user {user_id!r} was erased: no personal data can be stored for it",
        reason="USER_ERASED", metadata={"user_id": user_id})


async def _key_for_writing(conn: asyncpg.Connection, user_id: str, ksid: bytes) -> bytes:
    """The user's key, created now if the user has none (in the caller's
    transaction: a concurrent first use waits on the row and reads the winner's)."""
    row = await conn.fetchrow(
        """WITH created AS (
               INSERT INTO user_keys (user_id, keyspace_id, key) VALUES ($1, $2, $3)
               ON CONFLICT (user_id) DO NOTHING
               RETURNING key)
           SELECT key FROM created
           UNION ALL
           SELECT key FROM user_keys WHERE user_id = $1""",
        user_id, ksid, AESGCM.generate_key(bit_length=256))
    # The CTE's insert is invisible to the second SELECT of the same statement,
    # so exactly one of the two branches answers.
    if row is None:
        # The conflicting row was inserted by a transaction that committed
        # after our snapshot began; read committed sees it on a new statement.
        row = await conn.fetchrow("SELECT key FROM user_keys WHERE user_id = $1", user_id)
        assert row is not None
    if row["key"] is None:
        raise _user_erased(user_id)
    return bytes(row["key"])


async def seal(conn: asyncpg.Connection, user_id: str, ksid: bytes,
               pii: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope of `pii` under `user_id`'s key (created on first use);
    `ksid` is the user's keyspace id as stored, and `conn` must be in a
    transaction on the user's shard."""
    return (await seal_many(conn, user_id, ksid, [pii]))[0]


async def seal_many(conn: asyncpg.Connection, user_id: str, ksid: bytes,
                    items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """seal() for several pieces of one user's data, with one key lookup."""
    aead = AESGCM(await _key_for_writing(conn, user_id, ksid))
    out = []
    for item in items:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(dict(item), sort_keys=True, separators=(",", ":")).encode()
        sealed = aead.encrypt(nonce, plain, user_id.encode())
        out.append({"user_id": user_id, "v": VERSION,
                    "nonce": base64.b64encode(nonce).decode(),
                    "ciphertext": base64.b64encode(sealed).decode()})
    return out


def _open(key: bytes, env: Mapping[str, Any]) -> dict[str, Any] | None:
    try:
        plain = AESGCM(key).decrypt(base64.b64decode(env["nonce"]),
                                    base64.b64decode(env["ciphertext"]),
                                    str(env["user_id"]).encode())
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None
    opened = json.loads(plain)
    return opened if isinstance(opened, dict) else None


async def open_all(conn: asyncpg.Connection,
                   payloads: Sequence[Mapping[str, Any]]) -> list[Opened]:
    """Per payload (in order): its personal data, decrypted with one key
    lookup for all of them. A payload without an envelope gives Opened();
    an envelope whose key was erased (or never existed on this shard, or
    does not open with it) gives Opened(erased=True)."""
    envelopes = [envelope_of(p) for p in payloads]
    users = sorted({e["user_id"] for e in envelopes if e is not None})
    keys: dict[str, bytes] = {}
    if users:
        rows = await conn.fetch(
            "SELECT user_id, key FROM user_keys WHERE user_id = ANY($1) AND key IS NOT NULL",
            users)
        keys = {r["user_id"]: bytes(r["key"]) for r in rows}
    out: list[Opened] = []
    for env in envelopes:
        if env is None:
            out.append(Opened())
            continue
        key = keys.get(env["user_id"])
        opened = _open(key, env) if key is not None else None
        out.append(Opened(pii=opened) if opened is not None else Opened(erased=True))
    return out


async def erase_key(conn: asyncpg.Connection, user_id: str) -> bool:
    """Make every envelope of `user_id` unreadable for ever; True when a key
    was erased now, False when there was none or it was already erased. A
    user without a key gets an erased row too, so none is created later."""
    erased = await conn.fetchval(
        """INSERT INTO user_keys AS k (user_id, keyspace_id, key, erased_at)
           VALUES ($1, $2, NULL, now())
           ON CONFLICT (user_id) DO UPDATE SET key = NULL, erased_at = now()
               WHERE k.key IS NOT NULL
           RETURNING NOT (xmax = 0)""",
        user_id, ksid_bytes(keyspace_id(user_id)))
    # xmax <> 0 marks the update of an existing live key; a fresh insert
    # (no key before) and an already erased row (no update: NULL) are False.
    return bool(erased)
