"""Tracer and metrics shared by every layer.

Instruments are created once here so that storage, domain and API code record
into the same series; the runtime decides where spans and metrics are exported.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.semconv.attributes.db_attributes import (
    DB_COLLECTION_NAME,
    DB_NAMESPACE,
    DB_OPERATION_NAME,
    DB_QUERY_SUMMARY,
    DB_SYSTEM_NAME,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT
from opentelemetry.util.types import AttributeValue
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

tracer = trace.get_tracer("datagw")

# What start_span gives when no span would be recorded: entering it costs
# nothing, and the current span stays what it was.
_NO_SPAN = contextlib.nullcontext(trace.INVALID_SPAN)


def start_span(
    name: str, *, kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None, context: Context | None = None,
) -> AbstractContextManager[trace.Span]:
    """tracer.start_as_current_span for the per-call spans, free when tracing
    is off (no tracer provider installed: telemetry.exporter none).

    The API's no-op span still costs tens of microseconds (a context manager,
    a context attached and detached), on every call and for every backend
    call in it. A caller's trace context (`context`) still gets the no-op
    span, which carries its trace id into the log lines of the call.
    """
    if context is None:
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return _NO_SPAN
        # Only calls start traces: a backend call outside any recorded span is
        # a background loop polling (an idle gateway would send hundreds of
        # spans a minute). A loop that finds work opens its own span first
        # (work_span), and what it does shows beneath it.
        if kind is not trace.SpanKind.SERVER and not trace.get_current_span().is_recording():
            return _NO_SPAN
        if _untraced.get():
            return _NO_SPAN
    # A server span's status follows its gRPC code (the interceptor sets it);
    # an exception ending it (the caller gone) is not by itself an error.
    server = kind is trace.SpanKind.SERVER
    return tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes,
        record_exception=not server, set_status_on_exception=not server)


def work_span(
    name: str, attributes: Mapping[str, AttributeValue] | None = None,
) -> AbstractContextManager[trace.Span]:
    """A background job's span for work it found (a batch relayed, a saga
    recovered): a root span, or a child of the current one, always recorded
    when tracing is on. Never for a poll that found nothing."""
    return tracer.start_as_current_span(name, attributes=attributes)


# Set inside untraced(): what runs there starts no span.
_untraced: ContextVar[bool] = ContextVar("datagw_untraced", default=False)


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """No spans inside, even under a recorded one: the polls of a long-lived
    stream (a subscription's reads of an empty page), which record their
    work afterwards when there was some (record_work)."""
    token = _untraced.set(True)
    try:
        yield
    finally:
        _untraced.reset(token)


def record_work(
    name: str, started_ns: int, attributes: Mapping[str, AttributeValue],
) -> None:
    """A span for work that turned out to be done, from `started_ns`
    (time.time_ns()) to now, under the current span."""
    tracer.start_span(name, start_time=started_ns, attributes=attributes).end()


# The server span of the call running in this task and the policy domain of
# its method (None: the admin API, or a background job with no call).
_call: ContextVar[tuple[trace.Span, str | None] | None] = ContextVar("datagw_call", default=None)


_NOTHING = contextlib.nullcontext()


def serving(span: trace.Span, domain: str | None) -> AbstractContextManager[None]:
    """Inside it, `span` is the call's server span, labelled for `domain`;
    nothing to keep when the span is not recorded (tracing off)."""
    return _Serving(span, domain) if span.is_recording() else _NOTHING


class _Serving(AbstractContextManager[None]):
    def __init__(self, span: trace.Span, domain: str | None) -> None:
        self._call = (span, domain)
        self._token: Token[tuple[trace.Span, str | None] | None] | None = None

    def __enter__(self) -> None:
        self._token = _call.set(self._call)

    def __exit__(self, *_: object) -> None:
        assert self._token is not None
        _call.reset(self._token)


def annotate(domain: str, attributes: Mapping[str, AttributeValue]) -> None:
    """Label the current span with what `domain`'s code did (keyspace, shard,
    consistency, cache result), unless it is the server span of another
    domain's method: CreateOrder's price lookup in the catalog must not
    relabel the order's span. Work of another domain that matters gets its
    own child span (start_span), which this labels."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    call = _call.get()
    if call is not None and call[0] is span and call[1] not in (None, domain):
        return
    span.set_attributes(attributes)


def db_attributes(
    system: str, summary: str, address: str, namespace: str | None,
) -> dict[str, AttributeValue]:
    """A database client span's attributes by the semantic conventions.

    `summary` is the bounded statement name the code gives ("SELECT users",
    "CLAIM user_emails", "migrate"): never the statement's text, so no bound
    value (customer data) reaches a span. Its first word is the operation
    and its second the table when it reads as an SQL verb and a table name.
    `address`: "host:port", or several joined by commas (a multi-host DSN,
    where which one answers is not known here: no server.* then).
    """
    attributes: dict[str, AttributeValue] = {
        DB_SYSTEM_NAME: system, DB_QUERY_SUMMARY: summary,
    }
    verb, _, rest = summary.partition(" ")
    if system == "redis":
        attributes[DB_OPERATION_NAME] = verb
    elif verb in SQL_VERBS:
        attributes[DB_OPERATION_NAME] = verb
        if rest.isidentifier():
            attributes[DB_COLLECTION_NAME] = rest
    if namespace:
        attributes[DB_NAMESPACE] = namespace
    if "," not in address:
        host, _, port = address.rpartition(":")
        if host and port.isdigit():
            attributes[SERVER_ADDRESS] = host.strip("[]")
            attributes[SERVER_PORT] = int(port)
    return attributes


# The statement names whose first word is the SQL command they run (the
# others, CLAIM or DRAIN, name a step of several statements).
SQL_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "COPY"})


def gateway_version() -> str:
    try:
        return importlib.metadata.version("datagw")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout, not installed
        return "unknown"


REGISTRY = CollectorRegistry(auto_describe=True)
# Set (by `serve --workers N`) before this module is imported, or not at all.
MULTIPROCESS_METRICS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# No `_created` series: a counter's or histogram's creation time as a series
# of its own would double what is scraped; Prometheus tells a reset from the
# value dropping.
disable_created_metrics()  # type: ignore[no-untyped-call]
if not MULTIPROCESS_METRICS:
    # With more workers, runtime/observability.py reports every worker's.
    ProcessCollector(registry=REGISTRY)

# With `serve --workers N` every worker writes its series to files that the
# /metrics endpoint adds up (prometheus_client's multiprocess mode, see
# runtime/observability.py); each gauge says how its workers' values combine:
# livesum for what each worker holds (calls in flight, connections),
# livemin/livemax for the worst view of a shared backend, livemostrecent for
# what only the worker running the background jobs sets. In one process the
# mode is not used.

BUILD_INFO = Gauge(
    "datagw_build_info", "Always 1: the gateway's version and what it runs on, as labels",
    ["version", "python", "grpcio"], registry=REGISTRY, multiprocess_mode="livemax")
BUILD_INFO.labels(gateway_version(), platform.python_version(),
                  importlib.metadata.version("grpcio")).set(1)
RPC_REQUESTS = Counter(
    "datagw_rpc_requests_total", "RPCs handled, by method and status code",
    ["method", "code"], registry=REGISTRY,
)
RPC_LATENCY = Histogram(
    "datagw_rpc_duration_seconds", "RPC latency, by method and status code",
    ["method", "code"], registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RPC_IN_FLIGHT = Gauge("datagw_rpc_in_flight", "RPCs being handled now", registry=REGISTRY,
                      multiprocess_mode="livesum")
RPC_MAX_CONCURRENT = Gauge(
    "datagw_rpc_max_concurrent", "The cap on concurrent RPCs (server.max_concurrent_rpcs), "
    "summed over the workers: the limit of datagw_rpc_in_flight", registry=REGISTRY,
    multiprocess_mode="livesum")
RPC_REJECTED = Counter(
    "datagw_rpc_rejected_total", "RPCs refused by the concurrency cap", registry=REGISTRY
)
AUTHN_FAILURES = Counter(
    "datagw_authn_failures_total", "Calls refused UNAUTHENTICATED, by reason",
    ["reason"], registry=REGISTRY,
)
AUTHZ_DECISIONS = Counter(
    "datagw_authz_decisions_total",
    "Access policy decisions, by decision (allow, deny) and the rule that made it",
    ["decision", "rule"], registry=REGISTRY,
)
CALLER_LIMITED = Counter(
    "datagw_caller_limited_total", "Calls refused by a per-caller limit, by limit",
    ["limit"], registry=REGISTRY,
)
CACHE_LOOKUPS = Counter(
    "datagw_cache_lookups_total",
    "Cache lookups by domain and result (hit, miss, negative_hit, bypass; near_hit and "
    "near_negative_hit when served from process memory without a Redis call)",
    ["domain", "kind", "result"], registry=REGISTRY,
)
NEAR_CACHE_ENTRIES = Gauge(
    "datagw_near_cache_entries", "Entries a domain's near cache holds, as of the last health "
    "round", ["domain"], registry=REGISTRY, multiprocess_mode="livesum")
NEAR_CACHE_CAPACITY = Gauge(
    "datagw_near_cache_capacity", "The most entries a domain's near cache holds: the limit of "
    "datagw_near_cache_entries", ["domain"], registry=REGISTRY, multiprocess_mode="livesum")
CACHE_BYPASS = Counter(
    "datagw_cache_bypass_total", "Cache operations skipped because Redis was unreachable",
    ["domain", "operation"], registry=REGISTRY,
)
CACHE_FILL_REJECTED = Counter(
    "datagw_cache_fill_rejected_total",
    "Cache fills refused because a write invalidated the key while the value was loaded",
    ["domain"], registry=REGISTRY,
)
DB_LOADS = Counter(
    "datagw_cache_loads_total",
    "Database loads made on a cache miss or refresh (after single-flight and the lease)",
    ["domain"], registry=REGISTRY,
)
CACHE_LEASE_WAITS = Counter(
    "datagw_cache_lease_waits_total",
    "Misses that found another gateway loading the key, by outcome: served (its fill) "
    "or loaded (its lease ended without one)",
    ["domain", "outcome"], registry=REGISTRY,
)
CACHE_INVALIDATION_EVENTS = Counter(
    "datagw_cache_invalidation_events_total",
    "Write events the cache's invalidation follower applied to Redis",
    ["domain"], registry=REGISTRY,
)
CACHE_FOLLOWER_CAUGHT_UP = Gauge(
    "datagw_cache_follower_caught_up",
    "1 while the cache's invalidation follower has applied every write event (entries "
    "are served), 0 while it catches up after an outage or start (the cache is bypassed)",
    ["domain"], registry=REGISTRY, multiprocess_mode="livemin",
)
POOL_SIZE = Gauge(
    "datagw_pool_connections", "Pool connections by backend and state (open, in_use)",
    ["backend", "state"], registry=REGISTRY, multiprocess_mode="livesum")
POOL_MAX = Gauge(
    "datagw_pool_connections_max", "The most connections a backend's pool may open: the "
    "limit of datagw_pool_connections", ["backend"], registry=REGISTRY,
    multiprocess_mode="livesum")


def export_pool(backend: str, stats: tuple[int, int, int]) -> None:
    """A pool's (max, open, in use) connections: its limit and its usage."""
    max_size, size, in_use = stats
    POOL_MAX.labels(backend).set(max_size)
    POOL_SIZE.labels(backend, "open").set(size)
    POOL_SIZE.labels(backend, "in_use").set(in_use)


BACKEND_UP = Gauge(
    "datagw_backend_up", "1 when the backend answered its last health check",
    ["backend"], registry=REGISTRY, multiprocess_mode="livemin")
CIRCUIT_TRIPS = Counter(
    "datagw_backend_circuit_trips_total",
    "Times a PostgreSQL server's circuit opened (its probe failed), by how it failed",
    ["backend", "cause"], registry=REGISTRY,
)
PRIMARY_TIMELINE = Gauge(
    "datagw_primary_timeline",
    "The timeline of the PostgreSQL primary the gateway reaches (it grows at each failover)",
    ["backend"], registry=REGISTRY, multiprocess_mode="livemax")
RANGE_MAP_VERSION = Gauge(
    "datagw_range_map_version", "The range map version this gateway routes by, per keyspace",
    ["keyspace"], registry=REGISTRY, multiprocess_mode="livemin")
FENCED_WRITES = Counter(
    "datagw_fenced_writes_total",
    "Writes a shard refused for a range it does not own (moved) or is cutting over (frozen), "
    "by keyspace and outcome (rerouted, waited, refused)",
    ["keyspace", "reason", "outcome"], registry=REGISTRY,
)
RESHARD_PHASE_SECONDS = Histogram(
    "datagw_reshard_phase_seconds", "How long each resharding phase took (cutover: the write "
    "pause)", ["phase"], registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
REPLICA_LAG = Gauge(
    "datagw_replica_staleness_seconds",
    "Upper bound of how far a replica is behind its primary (60 when unknown or beyond)",
    ["backend"], registry=REGISTRY, multiprocess_mode="livemax")
READ_ROUTES = Counter(
    "datagw_read_routes_total", "Database reads by domain, consistency level and target",
    ["domain", "level", "target"], registry=REGISTRY,
)
VERIFY_FINDINGS = Gauge(
    "datagw_verify_findings",
    "Findings of severity error or warning in the last verification run, by check "
    "(docs/operations.md, Verifying the stores)",
    ["check"], registry=REGISTRY, multiprocess_mode="livemostrecent")
SAGAS = Counter(
    "datagw_sagas_total", "Sagas finished, by kind and outcome (completed, compensated)",
    ["kind", "outcome"], registry=REGISTRY,
)
TX_RETRIES = Counter(
    "datagw_tx_retries_total",
    "Transactions PostgreSQL aborted for a deadlock or serialization failure, by keyspace, "
    "SQLSTATE and outcome (retried, gave_up)",
    ["keyspace", "sqlstate", "outcome"], registry=REGISTRY,
)
SAGA_RECOVERIES = Counter(
    "datagw_saga_recoveries_total", "Sagas picked up by the recovery loop, by kind",
    ["kind"], registry=REGISTRY,
)
SAGA_OLDEST_UNFINISHED = Gauge(
    "datagw_saga_oldest_unfinished_seconds",
    "Age of a shard's oldest running or compensating saga (0: none), as of the recovery "
    "loop's last round",
    ["keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
RELAY_LAG_EVENTS = Gauge(
    "datagw_relay_lag_events",
    "Committed events of a source shard not yet relayed to ClickHouse",
    ["keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
RELAY_LAG_SECONDS = Gauge(
    "datagw_relay_lag_seconds",
    "Age of the oldest event of a source shard not yet relayed to ClickHouse (0: caught up)",
    ["keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
RELAY_EVENTS = Counter(
    "datagw_relay_events_total", "Events relayed to ClickHouse, by source shard",
    ["keyspace", "shard"], registry=REGISTRY,
)
RELAY_FAILURES = Counter(
    "datagw_relay_failures_total",
    "Relay batches that failed and will be retried, by source shard and cause "
    "(source: the shard, target: ClickHouse)",
    ["keyspace", "shard", "cause"], registry=REGISTRY,
)
SUBSCRIPTION_LAG = Gauge(
    "datagw_subscription_lag_seconds",
    "Event store subscriptions: how far the furthest-behind one of each kind (all, stream) "
    "is, as the age of the last event it delivered while more were waiting (0 when caught up)",
    ["kind"], registry=REGISTRY, multiprocess_mode="livemax")
RETENTION_DELETED = Counter(
    "datagw_retention_events_deleted_total",
    "Events removed by the retention job, by keyspace, shard and rule (stream: the stream's "
    "metadata; otherwise the domain whose policy retention applied)",
    ["keyspace", "shard", "rule"], registry=REGISTRY,
)
STORE_REWOUND = Gauge(
    "datagw_store_rewound",
    "1 while a database is found behind what the gateway saw of it (restored to an earlier "
    "point while this gateway ran; a start reconciles it)",
    ["keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
RECONCILIATIONS = Counter(
    "datagw_reconciliations_total",
    "Reconciliations of the other stores with a database restored to an earlier point, by "
    "keyspace, shard and outcome (clean: everything reconciled; reported: something left "
    "for an operator)",
    ["keyspace", "shard", "outcome"], registry=REGISTRY,
)
RETENTION_ROWS_DELETED = Counter(
    "datagw_retention_rows_deleted_total",
    "Rows other than events removed by the retention job, by keyspace, shard and rule (the "
    "policy's retention key: idempotency_keys, finished_sagas, orphaned_emails)",
    ["keyspace", "shard", "rule"], registry=REGISTRY,
)
BACKUP_WAL_ARCHIVE_AGE = Gauge(
    "datagw_backup_wal_archive_age_seconds",
    "Age of the last WAL segment a PostgreSQL primary archived (since it started when none "
    "was): the data a loss of the server now would lose at most, its RPO",
    ["keyspace", "shard"], registry=REGISTRY, multiprocess_mode="livemostrecent")
BACKUP_WAL_ARCHIVE_FAILURES = Counter(
    "datagw_backup_wal_archive_failures_total",
    "Failed WAL archive attempts of a PostgreSQL primary (pg_stat_archiver.failed_count) "
    "since the gateway started watching it",
    ["keyspace", "shard"], registry=REGISTRY,
)
BACKUP_LAST_BASE_BACKUP = Gauge(
    "datagw_backup_last_base_backup_timestamp_seconds",
    "Embedded mode: when the newest base backup of each PostgreSQL server ended (Unix time)",
    ["server"], registry=REGISTRY, multiprocess_mode="livemostrecent")
BACKGROUND_JOBS = Gauge(
    "datagw_background_jobs",
    "1 in the worker running the background jobs (relay, projections, retention, saga "
    "recovery, ...); summed over the workers of one `serve --workers N`, always 1",
    registry=REGISTRY, multiprocess_mode="livesum")
