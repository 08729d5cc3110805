"""Users, sharded by user id, with an email lookup sharded by email.

GetUserByEmail reads the lookup row on the shard owning hash("email:" +
email), then the user on the user's shard: two single-shard reads, never a
scatter. Writes claim the email first and write the user second; the user
row is the truth, so a lookup row whose user does not carry the email (a
crash between the two writes, or an email changed since) is an orphan: reads
ignore it and the next claim takes it over.

The email and display name reach the user's events only sealed with the
user's key (the "_pii" envelope), so erasing the user (gateway/domain/
erasure.py) makes them unreadable in every event. An erased user reads as
NOT_FOUND/USER_ERASED and takes no more changes (FAILED_PRECONDITION).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.domain.commerce import rules
from gateway.domain.commerce.base import KeyspaceDomain
from gateway.domain.users.erasure import REASON as ERASED
from gateway.domain.users.erasure import UserGone, user_erased
from gateway.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
    Violations,
)
from gateway.policy.model import Consistency
from gateway.records.commerce import UserRecord
from gateway.records.events import ENVELOPE
from gateway.storage.eventstore import pii, recorder
from gateway.storage.eventstore.recorder import EventMeta, NewEvent
from gateway.storage.postgres import commerce_store as store
from gateway.storage.postgres import idempotency, projection_store
from gateway.storage.postgres.keyspace_id import keyspace_id

DOMAIN = "users"


def _user_json(u: UserRecord) -> dict[str, Any]:
    return {"user_id": u.user_id, "email": u.email, "display_name": u.display_name,
            "version": u.version, "created_at": u.created_at.isoformat(),
            "updated_at": u.updated_at.isoformat()}


def _user_from_json(d: dict[str, Any]) -> UserRecord:
    return UserRecord(d["user_id"], d["email"], d["display_name"], d["version"],
                      datetime.fromisoformat(d["created_at"]),
                      datetime.fromisoformat(d["updated_at"]))


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively, without surrounding blanks."""
    return email.strip().lower()


def email_key(email: str) -> str:
    """The shard key of the row that says who owns an email."""
    return f"email:{normalize_email(email)}"


@dataclass(frozen=True)
class UserSummary:
    user_id: str
    # Orders placed and not cancelled, and orders cancelled.
    order_count: int
    cancelled_count: int
    # Spent on the orders still standing, per currency (no zero entries).
    spent_minor: dict[str, int]
    last_order_id: str
    last_order_at: datetime | None
    # When the projection last applied a batch of the user's shard.
    projected_through: datetime | None


class UsersDomain(KeyspaceDomain):
    domain = DOMAIN

    def shard_index(self, user_id: str) -> int:
        return self._keyspace.shard_for(keyspace_id(user_id)).index

    # -- reads ---------------------------------------------------------------

    async def get(self, user_id: str, level: Consistency | None, max_staleness_s: float | None,
                  token: str) -> UserRecord:
        # user_id: GetUserRequest's rules in proto/.
        user = await self.read(self.routed_key(user_id), level, max_staleness_s, token,
                               "SELECT users", lambda conn: store.get_user(conn, user_id))
        if user is None:
            raise NotFound("user", user_id)
        if user.erased_at is not None:
            raise UserGone(user_id, user.erased_at)
        return user

    async def get_by_email(self, email: str, level: Consistency | None,
                           max_staleness_s: float | None, token: str) -> UserRecord:
        email = normalize_email(email)
        v = Violations()
        rules.check_email(v, "email", email)
        v.raise_if_any()
        owner = await self.read(self.routed_key(email_key(email)), level, max_staleness_s, token,
                                "SELECT user_emails", lambda conn: store.email_owner(conn, email))
        if owner is not None:
            user = await self.read(self.routed_key(owner), level, max_staleness_s, token,
                                   "SELECT users", lambda conn: store.get_user(conn, owner))
            if user is not None and user.email == email:
                return user
        raise NotFound("user", email)

    async def summary(self, user_id: str) -> UserSummary:
        """The user's orders as the user_order_summary projection has them
        (eventually consistent: read on the primary, as far as the projection
        has applied the shard's events). user_id: GetUserSummaryRequest's
        rules in proto/."""
        shard, _ = self.route(user_id)
        async with shard.connection("SELECT user_order_summary") as conn:
            found = await projection_store.user_summary(conn, user_id)
        if not found.user_exists:
            raise NotFound("user", user_id)
        if found.erased_at is not None:
            raise UserGone(user_id, found.erased_at)
        rows = found.rows
        last = max(((r.last_order_at, r.last_order_id) for r in rows
                    if r.last_order_at is not None and r.last_order_id is not None),
                   default=None)
        return UserSummary(
            user_id, sum(r.orders for r in rows), sum(r.cancelled for r in rows),
            {r.currency: r.spent_minor for r in rows if r.spent_minor},
            last[1] if last else "", last[0] if last else None, found.projected_through)

    # -- writes --------------------------------------------------------------

    async def _claim_email(self, email: str, user_id: str) -> bool:
        """Point the lookup at `user_id` unless a live user holds the email;
        True when this call wrote the row (a new one, or an orphan taken over).
        One transaction: if the lookup's range moves meanwhile, it runs again
        on the range's new shard."""

        async def claim() -> bool:
            shard, ksid = self.route(email_key(email))
            async with shard.connection("CLAIM user_emails") as conn:
                async with conn.transaction():
                    owner = await store.email_owner(conn, email, lock=True)
                    if owner is not None and owner != user_id and await self._holds(owner,
                                                                                   email):
                        raise AlreadyExists(f"email {email!r} belongs to another user",
                                            reason="EMAIL_TAKEN", metadata={"email": email})
                    if owner != user_id:
                        await store.claim_email(conn, email, ksid, user_id)
                        return True
                    return False

        return await idempotency.rerouted(self._keyspace, claim)

    async def _holds(self, user_id: str, email: str) -> bool:
        shard, _ = self.route(user_id)
        async with shard.connection("SELECT users") as conn:
            user = await store.get_user(conn, user_id)
        return user is not None and user.email == email

    async def _release_email(self, email: str, user_id: str) -> None:
        shard, _ = self.route(email_key(email))
        async with shard.connection("DELETE user_emails") as conn:
            await store.drop_email(conn, email, user_id)

    async def _release_unheld(self, email: str, user_id: str) -> None:
        """Drop the row claimed for `user_id` unless the user holds the email
        (a concurrent write of the same email committed meanwhile)."""
        with contextlib.suppress(Unavailable):
            if not await self._holds(user_id, email):
                await self._release_email(email, user_id)

    async def _claimed_write(
        self, email: str | None, user_id: str,
        write: Callable[[], Awaitable[tuple[UserRecord, str]]],
    ) -> tuple[UserRecord, str]:
        """Run `write` after claiming `email` for the user, and take the claim
        back when the user does not end up holding it: the user was erased
        (an erased user keeps no lookup row), or the write was a replay whose
        stored user, anonymised by an erasure since, holds another email."""
        if email is None:
            return await write()
        claimed = await self._claim_email(email, user_id)
        try:
            result = await write()
        except FailedPrecondition as exc:
            if exc.reason == ERASED:
                await self._release_email(email, user_id)
            elif claimed:
                await self._release_unheld(email, user_id)
            raise
        except (InvalidArgument, NotFound, AlreadyExists, Aborted) as exc:
            # Refused (the user exists already, or does not; another version
            # was expected; the request id was used for another body): a
            # refused write leaves no lookup row of its own behind.
            # Unavailable and a transaction conflict leave it, as a crash would
            # (the next claim takes an orphan over): the write may yet commit,
            # or a concurrent one that needs the row is running.
            if claimed and (not isinstance(exc, Aborted) or exc.reason == "VERSION_MISMATCH"):
                await self._release_unheld(email, user_id)
            raise
        if result[0].email != email:
            await self._release_email(email, user_id)
        elif not claimed:
            await self._keep_email(email, user_id)
        return result

    async def _keep_email(self, email: str, user_id: str) -> None:
        """After a write whose claim found the row naming the user already
        (and so wrote nothing, leaving the row its age): put the row back if
        the retention of orphaned emails (domain/row_retention.py) removed
        it before the write committed, when the user did not hold the email
        yet. Its lock makes this wait for such a removal in progress; one
        that starts later sees the user holding the email."""

        async def keep() -> None:
            shard, ksid = self.route(email_key(email))
            async with shard.connection("INSERT user_emails") as conn:
                await store.restore_email(conn, email, ksid, user_id)

        await idempotency.rerouted(self._keyspace, keep)

    async def create(self, user_id: str, email: str, display_name: str, request_id: str
                     ) -> tuple[UserRecord, str]:
        email = normalize_email(email)
        # user_id, display_name, request_id: CreateUserRequest's rules in
        # proto/; the email is checked as it is stored (normalized).
        v = Violations()
        rules.check_email(v, "email", email)
        v.raise_if_any()
        # A generated id is derived from the request id, so a retry of the
        # same request lands on the same user (and shard).
        user_id = user_id or "u" + hashlib.sha256(request_id.encode()).hexdigest()[:24]
        _, ksid = self.route(user_id)

        async def tx(conn: asyncpg.Connection) -> UserRecord:
            user = await store.insert_user(conn, user_id, ksid, email, display_name)
            if user is None:
                raise AlreadyExists(f"user {user_id!r} already exists", reason="USER_EXISTS",
                                    metadata={"user_id": user_id})
            await recorder.append(conn, [NewEvent(f"user-{user_id}", "UserCreated", {
                "user_id": user_id, ENVELOPE: await pii.seal(
                    conn, user_id, ksid, {"email": email, "display_name": display_name})})],
                EventMeta(request_id), ksid)
            return user

        body = {"user_id": user_id, "email": email, "display_name": display_name}
        return await self._claimed_write(email, user_id, lambda: self.write(
            self.routed(keyspace_id(user_id)), "CreateUser", request_id, body, tx, _user_json,
            _user_from_json))

    async def update(self, user_id: str, email: str | None, display_name: str | None,
                     expected_version: int | None, request_id: str) -> tuple[UserRecord, str]:
        email = normalize_email(email) if email is not None else None
        # user_id, display_name, expected_version, request_id:
        # UpdateUserRequest's rules in proto/.
        v = Violations()
        if email is not None:
            rules.check_email(v, "email", email)
        if email is None and display_name is None:
            v.add("email", "set email and/or display_name; nothing to change")
        v.raise_if_any()
        _, ksid = self.route(user_id)
        previous: list[str] = []

        async def tx(conn: asyncpg.Connection) -> UserRecord:
            previous.clear()  # a retried attempt reads the email afresh
            current = await store.get_user(conn, user_id, lock=True)
            if current is None:
                raise NotFound("user", user_id)
            if current.erased_at is not None:
                raise user_erased(user_id, current.erased_at)
            if expected_version is not None and current.version != expected_version:
                raise Aborted(
                    f"user {user_id!r} is at version {current.version}, not {expected_version}",
                    reason="VERSION_MISMATCH",
                    metadata={"user_id": user_id, "current_version": str(current.version)})
            new_email = email if email is not None else current.email
            new_name = display_name if display_name is not None else current.display_name
            user = await store.update_user(conn, user_id, new_email, new_name)
            changes = {k: val for k, val in (("email", email), ("display_name", display_name))
                       if val is not None}
            await recorder.append(conn, [NewEvent(f"user-{user_id}", "UserUpdated", {
                "user_id": user_id, "changed": sorted(changes),
                ENVELOPE: await pii.seal(conn, user_id, ksid, changes)})],
                EventMeta(request_id), ksid)
            if current.email != new_email:
                previous.append(current.email)
            return user

        body = {"user_id": user_id, "email": email, "display_name": display_name,
                "ev": expected_version}
        result = await self._claimed_write(email, user_id, lambda: self.write(
            self.routed(keyspace_id(user_id)), "UpdateUser", request_id, body, tx, _user_json,
            _user_from_json))
        for old in previous:
            # Best effort: a row left behind is an orphan that reads ignore.
            await self._release_email(old, user_id)
        return result
