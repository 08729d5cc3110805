"""IngestEvents: behaviour events checked one by one, written in batches.

Every event is judged on its own; a bad one is counted and described (the
first MAX_REJECTIONS of a call) and never stops the others. Accepted events
are inserted into `clickstream` in batches of BATCH_ROWS (and what is left
at the end of the stream), one insert per batch with a deduplication token
derived from the batch's event ids: a call retried with the same messages
forms the same batches, and ClickHouse drops each batch it already holds.
The next batch is checked while the previous one is being written, with at
most one insert in flight, and the call returns only after all of them are
written.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry.trace import SpanKind

from gateway.domain.analytics.query import unavailable
from gateway.domain.catalog.rules import SKU_PATTERN
from gateway.domain.one_in_flight import OneInFlight
from gateway.storage.clickhouse.schema import CLICKSTREAM
from gateway.storage.clickhouse.store import AnalyticsStore, AnalyticsUnavailable
from gateway.telemetry import db_attributes, tracer

BATCH_ROWS = 10_000
MAX_REJECTIONS = 100
MAX_FUTURE_MS = 5 * 60 * 1000
MAX_SESSION_ID = 128
MAX_QUERY = 500
MAX_PAGE = 2048
MAX_QUANTITY = 1000
MAX_PROPERTIES = 32
MAX_PROPERTY_KEY = 64
MAX_PROPERTY_VALUE = 1024

PAGE_VIEW = "page_view"
PRODUCT_VIEW = "product_view"
SEARCH = "search"
ADD_TO_CART = "add_to_cart"
REMOVE_FROM_CART = "remove_from_cart"
CHECKOUT_START = "checkout_start"
EVENT_TYPES = (PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, REMOVE_FROM_CART, CHECKOUT_START)
_NEEDS_SKU = frozenset({PRODUCT_VIEW, ADD_TO_CART, REMOVE_FROM_CART})

# \Z, not $, which also matches before a trailing newline.
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# User ids are the commerce ones (the funnel joins them with orders).
_USER_ID = SKU_PATTERN


# occurred_ms of an event whose occur_time was given but is no valid
# Timestamp (nanos outside 0-999999999, seconds outside years 1-9999): the
# event is rejected on occur_time with `INVALID_TIME_RULE`, never stored at
# a time its fields do not say.
INVALID_TIME = -(2**63)
INVALID_TIME_RULE = ("must be a valid Timestamp: 0001-01-01T00:00:00Z to "
                     "9999-12-31T23:59:59.999999999Z, nanos 0-999999999")


class BehaviourEvent(NamedTuple):
    event_id: str
    event_type: str  # one of EVENT_TYPES; "" for an unknown or unset type
    occurred_ms: int | None  # None: not given; INVALID_TIME: not a valid Timestamp
    user_id: str
    session_id: str
    sku: str
    query: str
    page: str
    quantity: int
    properties: Mapping[str, str]


@dataclass(frozen=True)
class Rejection:
    index: int
    event_id: str
    field: str
    description: str


@dataclass
class IngestResult:
    accepted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)


def _text_problem(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"must be at most {limit} characters (got {len(value)})"
    if "\x00" in value:
        return "must not contain NUL characters"
    return None


def _properties_problem(properties: Mapping[str, str]) -> str | None:
    if len(properties) > MAX_PROPERTIES:
        return f"at most {MAX_PROPERTIES} properties (got {len(properties)})"
    for key, value in properties.items():
        if not 1 <= len(key) <= MAX_PROPERTY_KEY:
            return f"key {key[:MAX_PROPERTY_KEY]!r}: keys are 1-{MAX_PROPERTY_KEY} characters"
        if len(value) > MAX_PROPERTY_VALUE:
            return f"{key!r}: values are at most {MAX_PROPERTY_VALUE} characters"
    return None


def check_event(e: BehaviourEvent, now_ms: int, oldest_ms: int) -> tuple[str, str] | None:
    """(field, what is wrong) for the first problem of an event, or None."""
    if not _UUID.match(e.event_id):
        return "event_id", "required, a UUID (8-4-4-4-12 hex digits)"
    kind = e.event_type
    if not kind:
        return "type", "required: one of " + ", ".join(t.upper() for t in EVENT_TYPES)
    if e.occurred_ms is None:
        return "occur_time", "required"
    if e.occurred_ms == INVALID_TIME:
        return "occur_time", INVALID_TIME_RULE
    if e.occurred_ms > now_ms + MAX_FUTURE_MS:
        return "occur_time", "is more than 5 minutes in the future"
    if e.occurred_ms < oldest_ms:
        return "occur_time", "is older than the clickstream retention"
    if not e.session_id:
        return "session_id", "required"
    if problem := _text_problem(e.session_id, MAX_SESSION_ID):
        return "session_id", problem
    if e.user_id and not _USER_ID.match(e.user_id):
        return "user_id", "1-64 letters, digits, '.', '_' or '-' (empty: not signed in)"
    if e.sku and not SKU_PATTERN.match(e.sku):
        return "sku", "1-64 letters, digits, '.', '_' or '-'"
    if kind in _NEEDS_SKU and not e.sku:
        return "sku", f"required for {kind.upper()}"
    if kind == SEARCH and not e.query.strip():
        return "query", "required for SEARCH"
    if e.query and (problem := _text_problem(e.query, MAX_QUERY)):
        return "query", problem
    if kind == PAGE_VIEW and not e.page:
        return "page", "required for PAGE_VIEW"
    if e.page and (problem := _text_problem(e.page, MAX_PAGE)):
        return "page", problem
    if kind == ADD_TO_CART and not 1 <= e.quantity <= MAX_QUANTITY:
        return "quantity", f"required for ADD_TO_CART: 1-{MAX_QUANTITY}"
    if not 0 <= e.quantity <= MAX_QUANTITY:
        return "quantity", f"must be 0-{MAX_QUANTITY}"
    if e.properties and (problem := _properties_problem(e.properties)):
        return "properties", problem
    return None


def dedup_token(event_ids: Sequence[str]) -> str:
    """The same batch of events always gives the same token."""
    digest = hashlib.sha256("\n".join(event_ids).encode()).hexdigest()
    return f"{CLICKSTREAM.name}:{len(event_ids)}:{digest}"


async def _insert(store: AnalyticsStore, rows: list[tuple[Any, ...]]) -> None:
    table = CLICKSTREAM.name
    summary = f"INSERT {table}"
    with tracer.start_as_current_span(summary, kind=SpanKind.CLIENT, attributes={
            **db_attributes("clickhouse", summary, "", None), "datagw.rows": len(rows)}):
        try:
            await store.insert(table, CLICKSTREAM.column_names, rows,
                               dedup_token=dedup_token([r[0] for r in rows]))
        except AnalyticsUnavailable as exc:
            raise unavailable() from exc


async def ingest(store: AnalyticsStore, retention_s: float | None,
                 messages: AsyncIterator[Sequence[BehaviourEvent]]) -> IngestResult:
    """Check, batch and write every message's events; the result counts them."""
    result = IngestResult()
    rows: list[tuple[Any, ...]] = []
    writer = OneInFlight()
    index = 0
    try:
        async for events in messages:
            # Times as epoch milliseconds: the DateTime64(3) columns take
            # them as they are, with no datetime object per row.
            now_ms = time.time_ns() // 1_000_000
            oldest_ms = now_ms - int(retention_s * 1000) if retention_s is not None else 0
            for e in events:
                problem = check_event(e, now_ms, oldest_ms)
                if problem is None:
                    # In CLICKSTREAM's column order.
                    rows.append((e.event_id.lower(), e.event_type, e.occurred_ms, e.user_id,
                                 e.session_id, e.sku, e.query, e.page, e.quantity,
                                 e.properties, now_ms))
                else:
                    result.rejected += 1
                    if len(result.rejections) < MAX_REJECTIONS:
                        result.rejections.append(Rejection(index, e.event_id, *problem))
                index += 1
            while len(rows) >= BATCH_ROWS:
                await writer.submit(_insert(store, rows[:BATCH_ROWS]))
                del rows[:BATCH_ROWS]
        if rows:
            await writer.submit(_insert(store, rows))
        await writer.wait()
    except BaseException:
        writer.cancel()
        raise
    result.accepted = index - result.rejected
    return result
