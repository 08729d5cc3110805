"""The policy model: what a data domain needs, independent of where backends are."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.policy.access import AccessPolicy, MethodEntry


class Consistency(enum.Enum):
    STRONG = "strong"
    READ_YOUR_WRITES = "read_your_writes"
    BOUNDED_STALENESS = "bounded_staleness"
    EVENTUAL = "eventual"


class Store(enum.Enum):
    POSTGRES = "postgres"
    REDIS = "redis"
    CLICKHOUSE = "clickhouse"


@dataclass(frozen=True)
class CachePolicy:
    enabled: bool
    ttl_s: float = 0.0
    jitter_percent: int = 0
    negative_ttl_s: float = 0.0
    search_ttl_s: float = 0.0
    # How long this process may serve an entry from its own memory (0: never).
    near_ttl_s: float = 0.0
    # How long past its TTL an entry may still be served while one gateway
    # refreshes it (0: never); eventual and bounded-staleness reads only.
    stale_while_revalidate_s: float = 0.0
    # How long one gateway's load of a missed key holds the others back
    # (they wait for its fill this long at most).
    lease_s: float = 1.0


CACHE_OFF = CachePolicy(enabled=False)


@dataclass(frozen=True)
class SessionPolicy:
    ttl_s: float
    sliding: bool
    max_per_user: int


@dataclass(frozen=True)
class QueryPolicy:
    """Limits of AnalyticsService.RunQuery."""

    max_rows: int
    max_execution_s: float
    # The tables (of the analytics database) a query may read.
    tables: tuple[str, ...]
    # The most memory one query may use; the embedded engine runs inside the
    # gateway's own process, so an unbounded query could take it down.
    max_memory_bytes: int = 256 * 2**20


@dataclass(frozen=True)
class SearchPolicy:
    """How the catalog's text is searched (docs/policies.md, search)."""

    # A PostgreSQL text search configuration: how words are stemmed and
    # which are stop words. A change re-indexes the products in the
    # background (the search language migration's search_settings).
    language: str = "english"
    # Groups of words a query word may stand for (each word lower-cased);
    # applied to queries only, so a change needs no re-index.
    synonyms: tuple[tuple[str, ...], ...] = ()


# How long data is kept, by what it is: for a postgres domain "events" (the
# domain's event streams); for analytics "domain_events" and "clickstream"
# (ClickHouse TTLs). A missing key keeps the data for ever.
RETENTION_KEYS = {"postgres": ("events",), "clickhouse": ("domain_events", "clickstream")}
# Rows of a postgres domain's keyspace kept only for a while (the retention
# job, gateway/domain/row_retention.py): the request ids recorded for
# idempotent writes (one table per keyspace, so the policy of the domain
# that owns the keyspace's writes covers every domain writing there: orders'
# covers users', payments' and events' too), finished sagas, and email
# lookup rows no user holds.
ROW_RETENTION_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("idempotency_keys", "finished_sagas"),
    "inventory": ("idempotency_keys",),
    "catalog": ("idempotency_keys",),
    "users": ("orphaned_emails",)}
# The least retention.orphaned_emails: an email lookup row is claimed before
# its user is written, so a row younger than this may be a claim whose write
# is still running.
ORPHANED_EMAILS_GRACE_S = 3600.0
# Whose events "retention.events" of a postgres domain covers: the streams
# whose names start with one of the prefixes; "events" covers every stream
# matching none (those services append themselves). Other postgres domains
# append no events.
EVENT_STREAM_PREFIXES: dict[str, tuple[str, ...]] = {
    "users": ("user-",), "orders": ("order-",), "payments": ("payment-",),
    "inventory": ("stock-", "reservation-"), "catalog": ("product-",), "events": ()}


def retention_keys(store: str, domain: str | None) -> tuple[str, ...]:
    """The retention keys a policy of `domain` in `store` may set."""
    if store != "postgres":
        return RETENTION_KEYS.get(store, ())
    events = RETENTION_KEYS["postgres"] if domain in EVENT_STREAM_PREFIXES else ()
    return events + ROW_RETENTION_KEYS.get(domain or "", ())


@dataclass(frozen=True)
class DomainPolicy:
    domain: str
    source_file: str
    store: Store
    keyspace: str | None
    default_consistency: Consistency
    allowed_consistency: tuple[Consistency, ...]
    max_staleness_s: float
    cache: CachePolicy
    session: SessionPolicy | None
    # Sharded keyspaces: the request field that routes (documentation and
    # validation; the domain code reads that field).
    shard_key: str | None = None
    # May a read of this domain fan out to every shard?
    scatter_allowed: bool = True
    # Seconds to keep each kind of data (keys: RETENTION_KEYS[store]).
    retention: tuple[tuple[str, float], ...] = ()
    query: QueryPolicy | None = None
    # The catalog's only.
    search: SearchPolicy = field(default_factory=SearchPolicy)

    def retention_s(self, what: str) -> float | None:
        """Seconds to keep `what`, or None for ever."""
        return dict(self.retention).get(what)


@dataclass(frozen=True)
class PolicyCatalog:
    """What a policy directory is checked against: the services table's
    domains (each needs its file) and methods (what access rules may name)."""

    domains: Sequence[str]
    methods: Sequence[MethodEntry]


@dataclass(frozen=True)
class PolicySet:
    directory: str
    domains: dict[str, DomainPolicy]
    # policies/access.yaml; without it the defaults (sensitive methods denied).
    access: AccessPolicy = field(default_factory=AccessPolicy)

    def get(self, domain: str) -> DomainPolicy:
        return self.domains[domain]
