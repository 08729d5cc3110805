"""What every check of a verification run gets: the stores, how much to
look at, and one place to catch a shard that cannot be read."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

from gateway.errors import DatagwError
from gateway.records.verify import CheckResult
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsStoreError
from gateway.storage.postgres.pool import Keyspace, Shard

# Findings listed per kind and shard at most (the count says how many there
# were): a report stays readable when a whole table drifted.
MAX_LISTED = 20


@dataclass(frozen=True)
class Ages:
    """The retention the housekeeping check holds tables to, and when an
    unfinished saga counts as stuck."""

    # By keyspace: how long its idempotency keys are kept (None: for ever);
    # the policies' retention, read when a run starts (Verifier.run).
    idempotency_keys_s: Mapping[str, float | None] = field(default_factory=dict)
    finished_sagas_s: float | None = None
    stuck_saga_s: float = timedelta(hours=1).total_seconds()
    # An email row younger than this may be a claim whose user is being
    # written right now.
    email_grace_s: float = 300.0


@dataclass(frozen=True)
class Stores:
    commerce: Keyspace
    inventory: Keyspace
    # The catalog keyspace: product_sales and the control table (range maps).
    catalog: Keyspace
    # Every keyspace whose shards hold events (the relay's sources).
    event_keyspaces: Sequence[Keyspace]
    analytics: AnalyticsStore | None


@dataclass(frozen=True)
class Run:
    stores: Stores
    ages: Ages
    # The fraction of keys and cursor ranges to look at; 1.0: all of them.
    fraction: float
    # Picks the same keys in every store within one run (hashed with the
    # keys in SQL) and the cursor windows.
    seed: str
    rng: random.Random

    @property
    def exhaustive(self) -> bool:
        return self.fraction >= 1.0


@contextlib.asynccontextmanager
async def reading(result: CheckResult, what: str) -> AsyncIterator[None]:
    """Run one part of a check; a store that fails is recorded in the
    result (the check proves nothing there) and the other parts go on."""
    try:
        yield
    except (DatagwError, AnalyticsStoreError, asyncpg.PostgresError) as exc:
        message = exc.message if isinstance(exc, DatagwError) else str(exc)
        result.errors.append(f"{what}: {message}"[:500])


def where(shard: Shard) -> str:
    return f"{shard.keyspace} shard {shard.index}"
