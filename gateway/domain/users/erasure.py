"""Erasing a user's personal data: UserService.EraseUser (GDPR, NFR6).

Crypto-shredding does the heavy lifting: personal data in events only ever
exists sealed with the user's key (gateway/storage/eventstore/pii.py), so
deleting that key makes every copy unreadable at once: the event tables,
their backups, anything downstream. What is not an event is changed in
place, in the same transaction on the user's shard: the user row keeps its
id but gets a non-identifying email and an empty name, the orders keep
their amounts and items but their addresses shrink to the country, saga
logs and stored idempotent responses lose the same data. A "UserErased"
event (no personal data) records who erased whom, when and why; the relay
anonymises ClickHouse when it meets it and the projections forget the user.

The email lookup lives on the shard of the email, so its rows are deleted
after the commit, best effort: a row left behind points at a user who no
longer holds the email, which every read ignores and the next claim of the
email takes over.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.domain.commerce.base import KeyspaceDomain
from gateway.errors import DatagwError, FailedPrecondition, NotFound, Unavailable
from gateway.storage.eventstore import pii, recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import erasure_store as store
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Shard

log = logging.getLogger(__name__)

DOMAIN = "users"
ERASED_EVENT = "UserErased"
REASON = "USER_ERASED"


@dataclass(frozen=True)
class Erasure:
    erase_time: datetime
    # Orders whose address this erasure anonymised (0 when repeating one).
    orders_anonymised: int
    consistency_token: str = ""


def anonymised_email(user_id: str) -> str:
    """The email an erased user keeps: unique per user, reachable by no one
    (".invalid" is reserved, RFC 2606), derived from nothing but the id."""
    return f"erased+{hashlib.sha256(user_id.encode()).hexdigest()[:16]}@invalid"


def user_erased(user_id: str, erase_time: datetime) -> FailedPrecondition:
    """A write for an erased user."""
    return FailedPrecondition(
        f"user {user_id!r} was erased; it takes no more changes or orders", reason=REASON,
        metadata={"user_id": user_id, "erase_time": erase_time.isoformat()})


class UserGone(NotFound):
    """A read of an erased user: NOT_FOUND, with reason USER_ERASED so a
    caller can tell an erased user from one that never existed."""

    def __init__(self, user_id: str, erase_time: datetime) -> None:
        DatagwError.__init__(
            self, f"user {user_id!r} was erased", reason=REASON,
            metadata={"user_id": user_id, "erase_time": erase_time.isoformat()},
            resource=("user", user_id))


async def missing_user(shard: Shard, user_id: str) -> DatagwError:
    """Why a write found no live user: erased, or never there."""
    async with shard.connection("SELECT users") as conn:
        erase_time = await store.erased_at(conn, user_id)
    return user_erased(user_id, erase_time) if erase_time else NotFound("user", user_id)


def _encode(e: Erasure) -> dict[str, Any]:
    return {"erase_time": e.erase_time.isoformat(), "orders_anonymised": e.orders_anonymised}


def _decode(d: dict[str, Any]) -> Erasure:
    return Erasure(datetime.fromisoformat(d["erase_time"]), int(d["orders_anonymised"]))


class ErasureDomain(KeyspaceDomain):
    domain = DOMAIN

    async def erase(self, user_id: str, reason: str, request_id: str) -> Erasure:
        """Idempotent twice over: the same request id returns the stored result,
        and erasing an erased user repeats the clean-up (nothing left to do
        unless a write raced the first erasure) and returns the first erase
        time, without a second event. The request's fields: EraseUserRequest's
        rules in proto/."""
        _, ksid = self.route(user_id)
        email = anonymised_email(user_id)

        async def tx(conn: asyncpg.Connection) -> Erasure:
            state = await store.lock_user(conn, user_id)
            if state is None:
                raise NotFound("user", user_id)
            erase_time = state.erased_at
            if erase_time is None:
                await pii.erase_key(conn, user_id)
                erase_time = await store.anonymise_user(conn, user_id, email)
                await recorder.append(conn, [NewEvent(f"user-{user_id}", ERASED_EVENT, {
                    "user_id": user_id, "reason": reason,
                    "erase_time": erase_time.isoformat()})], EventMeta(request_id), ksid)
            orders = await store.anonymise_orders(conn, user_id)
            await store.scrub_sagas(conn, user_id, ksid)
            await store.scrub_responses(conn, user_id, email)
            await store.scrub_clear_events(conn, user_id)
            return Erasure(erase_time, orders)

        erasure, token = await self.write(self.routed(keyspace_id(user_id)), "EraseUser",
                                          request_id,
                                          {"user_id": user_id, "reason": reason}, tx,
                                          _encode, _decode)
        await self._drop_email_lookups(user_id)
        return Erasure(erasure.erase_time, erasure.orders_anonymised, token)

    async def _drop_email_lookups(self, user_id: str) -> None:
        """The user's email lookup rows on every shard (the emails hash anywhere)."""
        async def one(shard: Shard) -> None:
            async with shard.connection("DELETE user_emails") as conn:
                await store.drop_email_lookups(conn, user_id)

        shards = self._keyspace.shards
        results = await asyncio.gather(*(one(s) for s in shards), return_exceptions=True)
        for shard, result in zip(shards, results, strict=True):
            if isinstance(result, Unavailable):
                # Harmless meanwhile (reads ignore the row) and dropped by
                # the next EraseUser of this user.
                log.warning("email lookups of erased user %s left on shard %s: %s", user_id,
                            shard.index, result.message)
            elif isinstance(result, BaseException):
                raise result
