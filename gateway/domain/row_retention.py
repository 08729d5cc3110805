"""Retention of the rows that are not events (docs/policies.md `retention`).

Part of the retention job's pass (gateway/domain/events/retention.py), on
the primary of every shard of the keyspace of the domain whose policy names
them:

  - idempotency_keys (orders: the commerce keyspace; inventory; catalog):
    request ids recorded longer ago than the policy keeps them;
  - finished_sagas (orders): completed and compensated sagas that finished
    longer ago; a running or compensating saga is never removed;
  - orphaned_emails (users): email lookup rows whose user does not hold the
    email (gone, erased, holding another one), claimed longer ago than the
    policy says (at least ORPHANED_EMAILS_GRACE_S: a younger row may belong
    to a write still running). A write whose claim found an old row naming
    its user already puts the row back if a pass removed it meanwhile
    (users/service.py _keep_email).

On a keyspace sharded by ranges (a policy with a shard_key) a shard removes
only rows of the ranges it serves: a move's copies are the move's to keep
equal (storage/postgres/retention_store.py).

Email lookup rows live on the email's shard and their users on the user's,
so finding an orphan reads two shards. One batch per shard per pass is
examined, continuing where the previous pass stopped and starting over after
the last row: a sweep of the whole table takes rows / batch_size passes, and
an orphan (which reads ignore anyway) goes within one sweep of its age.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from gateway.domain.retention_batches import drain
from gateway.errors import Unavailable
from gateway.policy.registry import PolicyRegistry
from gateway.storage.postgres import retention_store as store
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Keyspace, Shard
from gateway.telemetry import RETENTION_ROWS_DELETED, record_work

log = logging.getLogger(__name__)

# The table each age rule deletes from (retention_store.AGED_TABLES).
AGED_RULES = {"idempotency_keys": "idempotency_keys", "finished_sagas": "sagas"}
ORPHANED_EMAILS = "orphaned_emails"


class RowRetention:
    def __init__(self, policies: PolicyRegistry, keyspaces: Mapping[str, Keyspace],
                 batch_size: int) -> None:
        """`keyspaces`: the keyspace of each domain whose policy may name
        these rows (model.ROW_RETENTION_KEYS)."""
        self._policies = policies
        self._keyspaces = keyspaces
        self._batch = batch_size
        # Per email shard (keyspace, index): the last email the sweep examined.
        self._email_cursor: dict[tuple[str, int], str] = {}

    async def run_once(self) -> int:
        """One pass over every shard; how many rows went. A shard that is
        down (or whose users' shard is) is left for the next pass."""
        deleted = 0
        for domain, ks in self._keyspaces.items():
            policy = self._policies.get(domain)
            for rule, table in AGED_RULES.items():
                age = policy.retention_s(rule)
                if age is not None:
                    deleted += await self._each_shard(ks, rule, partial(
                        self._aged, table, age, ks if policy.shard_key else None))
            age = policy.retention_s(ORPHANED_EMAILS)
            if age is not None:
                deleted += await self._each_shard(ks, ORPHANED_EMAILS,
                                                  partial(self._orphans, ks, age))
        return deleted

    async def _each_shard(self, ks: Keyspace, rule: str,
                          run: Callable[[Shard], Awaitable[int]]) -> int:
        total = 0
        for shard in ks.shards:
            started = time.time_ns()
            try:
                n = await run(shard)
            except Unavailable as exc:
                log.warning("retention of %s skipped %s: %s", rule, shard.name, exc.message)
                continue
            if n:
                RETENTION_ROWS_DELETED.labels(shard.keyspace, str(shard.index), rule).inc(n)
                record_work("retention", started, {
                    "datagw.keyspace": shard.keyspace, "datagw.shard": shard.index,
                    "datagw.retention.rule": rule, "datagw.retention.deleted": n})
            total += n
        return total

    async def _aged(self, table: str, max_age_s: float, ranged: Keyspace | None,
                    shard: Shard) -> int:
        """`ranged`: the keyspace whose range map says which rows the shard
        serves (None: a keyspace whose rows have no keyspace id)."""
        ranges = ranged.map.ranges_of(shard.index) if ranged is not None else None
        async with shard.connection(f"RETENTION {table}") as conn:
            return await drain(self._batch, partial(store.delete_aged, conn, table, max_age_s,
                                                    self._batch, ranges))

    async def _orphans(self, ks: Keyspace, max_age_s: float, shard: Shard) -> int:
        """One batch of this shard's lookup rows past `max_age_s`: those no
        user holds go. The rows stay locked while their users are read, so
        a claim of one of them waits (and then finds it gone)."""
        at = (ks.name, shard.index)
        async with shard.connection("RETENTION user_emails") as conn:
            async with conn.transaction():
                claims = await store.lock_email_claims(
                    conn, max_age_s, self._email_cursor.get(at, ""), self._batch,
                    ks.map.ranges_of(shard.index))
                held = await self._held_emails(ks, {user for _, user in claims})
                orphans = [(email, user) for email, user in claims if held.get(user) != email]
                deleted = await store.delete_emails(conn, orphans) if orphans else 0
        self._email_cursor[at] = claims[-1][0] if len(claims) == self._batch else ""
        return deleted

    @staticmethod
    async def _held_emails(ks: Keyspace, users: set[str]) -> dict[str, str]:
        """The email each of `users` holds, read on the user's shard."""
        by_shard: dict[int, list[str]] = defaultdict(list)
        for user in users:
            by_shard[ks.shard_for(keyspace_id(user)).index].append(user)
        held: dict[str, str] = {}
        for index, ids in by_shard.items():
            async with ks.shards[index].connection("SELECT users") as conn:
                held.update(await store.held_emails(conn, ids))
        return held
