"""housekeeping: the tables that only grow unless something trims them.

Per shard: rows per table (counted when exhaustive, else the planner's
estimate), idempotency
keys and finished sagas older than their retention (WARNING: the table
grows past it), sagas whose lease ran out long ago and that recovery has
not finished (WARNING: stuck), and email lookup rows whose user does not
exist on the user's shard (WARNING: orphaned; older than a grace period,
since a row is written just before its user).
"""

from __future__ import annotations

from collections import defaultdict

from gateway.domain.verify.context import MAX_LISTED, Run, reading, where
from gateway.records.verify import HOUSEKEEPING, WARNING, CheckResult, Finding
from gateway.storage.postgres import verify_store as pg
from gateway.storage.postgres.keyspace_id import keyspace_id
from gateway.storage.postgres.pool import Shard

# Tables whose size the report gives, where a shard has them.
SIZED = ("events", "idempotency_keys", "sagas", "users", "user_emails", "orders",
         "reservations")


def _days(seconds: float) -> str:
    return f"{seconds / 86400:g}d"


async def check(run: Run) -> CheckResult:
    result = CheckResult(HOUSEKEEPING)
    commerce = run.stores.commerce
    shards = [*commerce.shards, *(s for ks in run.stores.event_keyspaces
                                  if ks.name != commerce.name for s in ks.shards)]
    for shard in shards:
        async with reading(result, where(shard)):
            await _shard(run, shard, shard.keyspace == commerce.name, result)
    # Per shard of the users: (email, user, shard of the email row).
    emails: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    owners: dict[int, Shard] = {}
    for shard in commerce.shards:
        async with reading(result, f"user_emails on {where(shard)}"):
            async with shard.connection("SELECT verify user_emails") as conn:
                rows = await pg.email_rows(conn, run.ages.email_grace_s, run.fraction, run.seed)
            for email, user in rows:
                owner = commerce.shard_for(keyspace_id(user))
                owners[owner.index] = owner
                emails[owner.index].append((email, user, shard.index))
    await _orphans(run, owners, emails, result)
    return result


async def _shard(run: Run, shard: Shard, commerce: bool, result: CheckResult) -> None:
    ages = run.ages
    async with shard.connection("SELECT verify housekeeping") as conn:
        for table, n in (await pg.table_rows(conn, SIZED, exact=run.exhaustive)).items():
            result.count(f"rows.{table}", n)
        keys_age = ages.idempotency_keys_s.get(shard.keyspace)
        keys = await pg.idempotency_past(conn, keys_age) \
            if keys_age is not None and await pg.has_table(conn, "idempotency_keys") else 0
        finished = stuck = 0
        listed: list[tuple[str, str, str]] = []
        if commerce:
            if ages.finished_sagas_s is not None:
                finished = await pg.finished_sagas_past(conn, ages.finished_sagas_s)
            stuck, listed = await pg.stuck_sagas(conn, ages.stuck_saga_s, MAX_LISTED)
    for table, n, age, what in (
            ("idempotency_keys", keys, keys_age, "idempotency keys"),
            ("sagas", finished, ages.finished_sagas_s, "finished sagas")):
        if n and age is not None:
            result.add(Finding(
                HOUSEKEEPING, "past_retention", WARNING, shard.keyspace, shard.index, table,
                f"older than {_days(age)}", f"no {what} older than {_days(age)}", f"{n} rows",
                "the table grows past its retention: is the retention job running?"))
    result.count("stuck_sagas", stuck)
    for saga_id, state, lease in listed:
        result.add(Finding(
            HOUSEKEEPING, "stuck_saga", WARNING, shard.keyspace, shard.index, "sagas",
            f"saga {saga_id}", f"finished by recovery within {ages.stuck_saga_s:g}s of its lease",
            f"{state}, lease ended {lease}",
            "AdminService.GetSaga shows its steps and last failure"))


async def _orphans(run: Run, owners: dict[int, Shard],
                   emails: dict[int, list[tuple[str, str, int]]], result: CheckResult) -> None:
    commerce = run.stores.commerce
    orphans: list[tuple[str, str, int]] = []
    for index, rows in sorted(emails.items()):
        shard = owners[index]
        async with reading(result, f"users on {where(shard)}"):
            async with shard.connection("SELECT verify users") as conn:
                found = await pg.existing_users(conn, sorted({u for _, u, _ in rows}))
            result.count("emails", len(rows))
            orphans += [r for r in rows if r[1] not in found]
    result.count("orphaned_emails", len(orphans))
    for _, user, at in orphans[:MAX_LISTED]:
        result.add(Finding(
            HOUSEKEEPING, "orphaned_email", WARNING, commerce.name, at, "user_emails",
            f"user {user}", f"user {user} on shard {commerce.shard_for(keyspace_id(user)).index}",
            "no such user", "a lookup row left by a claim that never wrote its user; the "
            "next claim of the address takes it over"))
