"""Every RPC of every service, driven by Hypothesis from its request descriptor.

The methods come from the services table (gateway.runtime.services.SERVICES)
and their request types from the proto descriptors, so a new RPC is fuzzed
without touching this file. Each request is built recursively from its
descriptor: extreme integers, NaN/inf floats, strings with NUL bytes, unicode,
long and empty strings, unknown enum values, repeated fields, maps, oneofs,
nested messages, out-of-range Timestamp/Duration, Struct/Value/Any. Strings
are often drawn from ids this module creates (users, skus, orders, payments,
sessions, reservations, streams) so that requests get past the first
validation into the deeper code paths.

Asserted for every call: the status is never INTERNAL or UNKNOWN. For a write
or admin method refused with a client-error status, nothing it could have
written changed: a fingerprint of the domain tables on every PostgreSQL primary
and of the session keys in Valkey is the same before and after the call.
Afterwards the gateway is still healthy and answers a simple call.

The background writers that would make the fingerprint move on their own are
accounted for: projection read models and checkpoints and the relay checkpoint
are not fingerprinted; saga recovery, the reservation expiry sweep and event
retention are paused while this module runs (they resume at its end); sessions
that expire in Valkey are not counted as changes, only new keys or changed
values are. A saga refused after it started (payment declined) is recorded,
compensated: only that record may change (see SAGA_TRAIL).

CI=true: 200 examples per RPC, derandomized so a CI run is reproducible;
otherwise 25 and random (DATAGW_FUZZ_EXAMPLES sets another number).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import grpc
import pytest
import redis.asyncio as aioredis
from datagw.v1 import (
    eventstore_pb2_grpc,
    inventory_pb2,
    session_pb2,
    session_pb2_grpc,
    user_pb2,
)
from google.protobuf import any_pb2, message_factory, text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gateway as gateway_package
from gateway.domain.orders.saga import saga_id_for
from gateway.policy.methods import Access
from gateway.records.commerce import CREATE_ORDER
from gateway.runtime.server import Gateway
from gateway.runtime.services import SERVICES, ServiceEntry
from gateway.storage.postgres.keyspace_id import KeyRange, RangeError
from tests.commerce import Shop
from tests.eventstore import append, event

pytestmark = [
    pytest.mark.integration,
    # The gateway runs on the event loop's thread while Hypothesis generates
    # requests on another, and its jittered retries draw from `random`
    # meanwhile: not the strategies' doing.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

IN_CI = os.environ.get("CI") == "true"
# DATAGW_FUZZ_EXAMPLES overrides, e.g. for a longer hunt on a laptop.
MAX_EXAMPLES = int(os.environ.get("DATAGW_FUZZ_EXAMPLES", 200 if IN_CI else 25))
DEADLINE_S = 10.0
# A server stream is read for at most this long (or this many messages), then
# cancelled by us.
STREAM_READ_S = 0.3
STREAM_READ_MESSAGES = 3
MAX_DEPTH = 4
MAX_LIST = 4

# Refusals: a call answered with one of these must have written nothing.
# ABORTED too (a version that does not match; calls here are never
# concurrent). UNAVAILABLE and DEADLINE_EXCEEDED leave the outcome open.
REFUSALS = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
})
NEVER = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
# google.protobuf.Timestamp's range: 0001-01-01 .. 9999-12-31T23:59:59.
TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)
DURATION_SECONDS = 315_576_000_000

# Read models and checkpoints that background jobs (projections, relay) move,
# where the gateway records each database's WAL position (domain/rewind/),
# and the search maintenance job's settings (its recount claims, re-index
# progress) and vocabulary counts.
BACKGROUND_TABLES = re.compile(
    r"^(projection_|relay_|product_sales|product_stock|user_order_summary|store_watermarks"
    r"|reconciliations|search_settings|search_words)")
MIGRATIONS = Path(gateway_package.__file__).parent / "storage" / "postgres" / "migrations"


def _domain_tables() -> frozenset[str]:
    names = set()
    for sql_file in MIGRATIONS.rglob("*.sql"):
        names.update(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql_file.read_text(),
                                flags=re.IGNORECASE))
    return frozenset(n for n in names if not BACKGROUND_TABLES.match(n))


DOMAIN_TABLES = _domain_tables()
SESSION_KEYS = "dgw:sessions:v1:*"
# A fingerprint: (count, hash) by "database.table", and session key -> value.
State = tuple[dict[str, tuple[int, int]], dict[str, bytes]]


@dataclass(frozen=True)
class Rpc:
    entry: ServiceEntry
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.entry.name}/{self.method.name}"

    @property
    def writes(self) -> bool:
        facts = self.entry.methods.get(self.method.name)
        # A method without facts is treated as a write: checked, not skipped.
        return facts is None or facts.access is not Access.READ

    def __str__(self) -> str:
        return f"{self.entry.name}/{self.method.name}"

    @property
    def sensitive(self) -> bool:
        facts = self.entry.methods.get(self.method.name)
        return facts is None or facts.sensitive


# Sensitive methods (erasure, stream deletion, ...) last: the others find this
# module's users and streams alive.
RPCS = sorted((Rpc(entry, method) for entry in SERVICES for method in entry.descriptor.methods),
              key=lambda r: r.sensitive)


# -- the data the strategies draw plausible values from ------------------------


@dataclass
class Pools:
    """Plausible values by field name, from data this module created."""

    by_name: dict[str, list[str]] = field(default_factory=dict)
    # Other values for one service's requests: {service: {field name: values}}.
    by_service: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def get(self, name: str) -> list[str]:
        return self.by_name.get(name, [])

    def of(self, service: str) -> Pools:
        return Pools({**self.by_name, **self.by_service.get(service, {})})


def _plausible(p: Pools) -> None:
    b = p.by_name
    b["currency_code"] = ["EUR", "USD", "JPY", "eur", "XXX", "EURO"]
    b["country_code"] = ["DE", "US", "GB", "ZZ", "de"]
    b["card_token"] = ["tok_visa", "tok_decline", "tok_insufficient_funds", "tok_mastercard"]
    b["keyspace"] = ["commerce", "inventory", "catalog", "nope"]
    # SuggestProducts: prefixes that complete something, and edge shapes.
    b["prefix"] = ["w", "wire", "blue cer", "café", "caf ", " ", "%", "_x", "a\\b"]
    b["domain"] = ["catalog", "sessions", "users", "orders", "payments", "inventory",
                   "events", "analytics", "nope"]
    # RebuildProjection: never a real projection's name. Rebuilding the real
    # read models would race the later test files, which share this gateway.
    b["name"] = ["nope", "fuzz", "Ada Lovelace"]
    # CreateReshardWorkflow past its first checks (_never_a_move keeps it
    # from moving anything).
    b["key_range"] = ["-80", "80-", "40-80", "-40", "c0-", "-", "40-c0", "80-40"]
    # VerifyStores: the real checks, so fuzzed requests run them (reads only).
    b["checks"] = ["events_vs_analytics", "projections", "inventory", "housekeeping",
                   "range_maps", "nope"]
    b["method"] = [str(r) for r in RPCS] + [r.path for r in RPCS] + ["datagw.v1.Nope/Get"]
    b["sql"] = ["SELECT 1", "SELECT count() FROM behaviour_events",
                "SELECT * FROM behaviour_events LIMIT 5", "SELECT {x:String}",
                "DROP TABLE behaviour_events", "SELECT * FROM system.tables",
                "SELECT sleep(3)", "SELECT 1; SELECT 2", "INSERT INTO behaviour_events VALUES"]
    b["event_type"] = ["Noted", "OrderPlaced", "Fuzzed"]
    b["category"] = ["books", "toys", "fuzz"]
    b["brand"] = ["acme", "fuzz"]
    b["page"] = ["/", "/cart"]
    b["reason"] = ["fuzz"]
    b["event_types"] = b["event_type"]


# -- strategies from descriptors ---------------------------------------------------

SPECIAL_STRINGS = ["", " ", "\x00", "a\x00b", "é", "🙂", "\u202e",
                   "' OR 1=1 --", "%s%n", "../..", "\ud7ff", "null", "-1", "0",
                   "9223372036854775808", "o_" + "0" * 16, "p_" + "f" * 16]


# Long strings (kept out of SPECIAL_STRINGS so a failure's repr stays short).
LONG_STRINGS = st.sampled_from([200, 257, 1025, 5000, 70_000]).map(lambda n: "x" * n)


def _text(name: str, pools: Pools) -> st.SearchStrategy[str]:
    pool = pools.get(name) or pools.get(name.removesuffix("s"))
    generic = st.one_of(st.sampled_from(SPECIAL_STRINGS), st.text(max_size=24),
                        st.text(alphabet="abc-_:/.0123456789", max_size=24), LONG_STRINGS)
    if not pool:
        return generic
    plausible = st.sampled_from(pool)
    # Almost valid: a plausible value, changed a little.
    mutated = st.builds(lambda v, s: v + s, plausible, st.sampled_from(["\x00", " ", "x", "é"]))
    return st.one_of(plausible, plausible, mutated, generic)


def _plausible_text(name: str, pools: Pools) -> st.SearchStrategy[str]:
    pool = pools.get(name) or pools.get(name.removesuffix("s"))
    if name in ("request_id", "event_id"):
        # Fresh every time: Hypothesis draws the same uuids for every RPC (and
        # in every derandomized run), which would make most writes replays.
        return st.just(None).map(lambda _: str(uuid.uuid4()))
    if pool:
        return st.sampled_from(pool)
    if name.endswith("_id"):
        return st.uuids().map(str)
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


def _integer(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    lo, hi = bounds
    edges = [v for v in (lo, hi, 0, 1, -1, 2**31 - 1, 2**31, 2**53 + 1) if lo <= v <= hi]
    return st.one_of(st.integers(max(lo, -3), min(hi, 100)), st.sampled_from(edges),
                     st.integers(lo, hi))


def _float(width: int) -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308]),
                     st.floats(width=width))  # type: ignore[arg-type]


def _timestamp(plausible: bool) -> st.SearchStrategy[Message]:
    from google.protobuf.timestamp_pb2 import Timestamp

    now = int(time.time())
    if plausible:
        return st.builds(lambda s: Timestamp(seconds=s),
                         st.integers(now - 86_400 * 30, now + 3600))
    seconds = st.one_of(st.integers(now - 86_400 * 30, now + 86_400),
                        st.sampled_from([*TIMESTAMP_SECONDS, TIMESTAMP_SECONDS[0] - 1,
                                         TIMESTAMP_SECONDS[1] + 1, 0]),
                        st.integers(*INT64))
    nanos = st.one_of(st.just(0), st.integers(0, 999_999_999),
                      st.sampled_from([-1, 1_000_000_000, *INT32]))
    return st.builds(lambda s, n: Timestamp(seconds=s, nanos=n), seconds, nanos)


def _duration(plausible: bool) -> st.SearchStrategy[Message]:
    from google.protobuf.duration_pb2 import Duration

    if plausible:
        return st.builds(lambda s: Duration(seconds=s), st.integers(1, 3600))
    seconds = st.one_of(st.integers(-2, 3600), st.sampled_from(
        [DURATION_SECONDS, -DURATION_SECONDS, DURATION_SECONDS + 1, 86_400 * 365 * 100]),
        st.integers(*INT64))
    nanos = st.one_of(st.just(0), st.integers(-999_999_999, 999_999_999),
                      st.sampled_from([1_000_000_000, *INT32]))
    return st.builds(lambda s, n: Duration(seconds=s, nanos=n), seconds, nanos)


def _json_value() -> st.SearchStrategy[Any]:
    leaves = st.one_of(st.none(), st.booleans(), _float(64),
                       st.integers(-(2**53), 2**53).map(float),
                       st.sampled_from(SPECIAL_STRINGS[:12]), st.text(max_size=12))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=8)


def _struct(plausible: bool) -> st.SearchStrategy[Message]:
    from google.protobuf.struct_pb2 import Struct

    def build(d: dict[str, Any]) -> Struct:
        s = Struct()
        s.update(d)
        return s

    if plausible:
        return st.dictionaries(st.text(alphabet="abcxyz", min_size=1, max_size=6),
                               st.one_of(st.text(max_size=8), st.integers(0, 100).map(float)),
                               max_size=3).map(build)
    return st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(["", "\x00"])),
                           _json_value(), max_size=4).map(build)


def _value(plausible: bool) -> st.SearchStrategy[Message]:
    from google.protobuf.struct_pb2 import Value

    def build(v: Any) -> Value:
        out = Value()
        if v is None:
            out.null_value = 0
        elif isinstance(v, bool):
            out.bool_value = v
        elif isinstance(v, float):
            out.number_value = v
        elif isinstance(v, str):
            out.string_value = v
        elif isinstance(v, list):
            out.list_value.extend(v)
        else:
            out.struct_value.update(v)
        return out

    return _json_value().map(build)


class Strategies:
    """Hypothesis strategies for each message type, built from its descriptor.

    Wild values go anywhere the type allows; plausible ones (ids of this
    module's data, small positive numbers, times near now, known enum values)
    get a request past the first validation; a request is wild, plausible, or
    plausible with one wild field."""

    def __init__(self, pools: Pools) -> None:
        self.pools = pools
        self._cache: dict[tuple[str, int, bool], st.SearchStrategy[Message]] = {}

    def request(self, desc: Descriptor) -> st.SearchStrategy[Message]:
        wild, plausible = self.message(desc), self.message(desc, plausible=True)
        if not desc.fields:
            return plausible
        cls = message_factory.GetMessageClass(desc)

        def one_wild(f: FieldDescriptor) -> st.SearchStrategy[Message]:
            def build(base: Message, value: Any) -> Message:
                out = cls()
                out.CopyFrom(base)
                out.ClearField(f.name)
                _assign(out, f, value)
                return out

            return st.builds(build, plausible, self._field(f, 0, False))

        mutated = st.sampled_from(list(desc.fields)).flatmap(one_wild)
        return st.one_of(wild, plausible, mutated)

    def message(self, desc: Descriptor, depth: int = 0, plausible: bool = False
                ) -> st.SearchStrategy[Message]:
        key = (desc.full_name, depth, plausible)
        if key not in self._cache:
            self._cache[key] = self._build(desc, depth, plausible)
        return self._cache[key]

    def _build(self, desc: Descriptor, depth: int, plausible: bool
               ) -> st.SearchStrategy[Message]:
        special = {
            "google.protobuf.Timestamp": _timestamp, "google.protobuf.Duration": _duration,
            "google.protobuf.Struct": _struct, "google.protobuf.Value": _value,
        }
        if desc.full_name in special:
            return special[desc.full_name](plausible)
        if desc.full_name == "google.protobuf.Any":
            return self._any(depth, plausible)
        cls = message_factory.GetMessageClass(desc)
        fields = {f.name: self._field(f, depth, plausible) for f in desc.fields
                  if depth < MAX_DEPTH or f.message_type is None}

        def build(values: dict[str, Any]) -> Message:
            msg = cls()
            for name, value in values.items():
                _assign(msg, desc.fields_by_name[name], value)
            return msg

        if plausible:
            # Every field set, each to a plausible value; for a oneof the last wins.
            return st.fixed_dictionaries(fields).map(build)
        return st.fixed_dictionaries({}, optional=fields).map(build)

    def _any(self, depth: int, plausible: bool) -> st.SearchStrategy[Message]:
        def pack(m: Message) -> any_pb2.Any:
            out = any_pb2.Any()
            out.Pack(m)
            return out

        inputs = sorted({r.method.input_type.full_name: r.method.input_type
                         for r in RPCS}.items())
        packed = st.sampled_from([d for _, d in inputs]).flatmap(
            lambda d: self.message(d, max(depth + 1, MAX_DEPTH - 1), plausible)).map(pack)
        if plausible:
            return packed
        raw = st.builds(lambda url, value: any_pb2.Any(type_url=url, value=value),
                        st.sampled_from(["", "type.googleapis.com/datagw.v1.Nope",
                                         "type.googleapis.com/datagw.v1.GetUserRequest",
                                         "nope"]), st.binary(max_size=16))
        return st.one_of(packed, packed, raw)

    def _field(self, f: FieldDescriptor, depth: int, plausible: bool
               ) -> st.SearchStrategy[Any]:
        least = 1 if plausible else 0
        most = 2 if plausible else MAX_LIST
        if f.message_type is not None and f.message_type.GetOptions().map_entry:
            key_f = f.message_type.fields_by_name["key"]
            value_f = f.message_type.fields_by_name["value"]
            return st.dictionaries(self._single(key_f, depth + 1, plausible),
                                   self._single(value_f, depth + 1, plausible),
                                   max_size=most)
        single = self._single(f, depth, plausible)
        if f.is_repeated:
            return st.lists(single, min_size=least, max_size=most)
        return single

    def _single(self, f: FieldDescriptor, depth: int, plausible: bool
                ) -> st.SearchStrategy[Any]:
        t = f.type
        if t == FieldDescriptor.TYPE_MESSAGE:
            return self.message(f.message_type, depth + 1, plausible)
        if t == FieldDescriptor.TYPE_STRING:
            return _plausible_text(f.name, self.pools) if plausible else _text(f.name, self.pools)
        if t == FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=64)
        if t == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if t == FieldDescriptor.TYPE_ENUM:
            known = [v.number for v in f.enum_type.values]
            if plausible:
                return st.sampled_from([n for n in known if n != 0] or known)
            return st.one_of(st.sampled_from(known), st.sampled_from(known),
                             st.sampled_from([-1, max(known) + 1, *INT32]))
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            if plausible:
                return st.floats(0, 100)
            return _float(64 if t == FieldDescriptor.TYPE_DOUBLE else 32)
        if plausible:
            return st.integers(1, 5)
        if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32,
                 FieldDescriptor.TYPE_SFIXED32):
            return _integer(INT32)
        if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
            return _integer(UINT32)
        if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
            return _integer(UINT64)
        return _integer(INT64)


def _assign(msg: Message, f: FieldDescriptor, value: Any) -> None:
    target = getattr(msg, f.name)
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        value_f = f.message_type.fields_by_name["value"]
        for k, v in value.items():
            if value_f.message_type is not None:
                target[k].CopyFrom(v)
            else:
                target[k] = v
    elif f.is_repeated:
        if f.message_type is not None:
            for v in value:
                target.add().CopyFrom(v)
        else:
            target.extend(value)
    elif f.message_type is not None:
        target.CopyFrom(value)
    else:
        setattr(msg, f.name, value)


# -- the state a refused write must leave alone --------------------------------------


class Fingerprint:
    """Domain tables on every PostgreSQL primary, session keys in Valkey."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.dsns = sorted({s.dsn for ks in gw.backends.keyspaces.values() for s in ks.shards})
        self.conns: list[asyncpg.Connection] = []
        self.queries: list[str] = []
        # A client of our own: the gateway's pool is for its calls.
        self.redis = aioredis.Redis.from_url(gw.backends.redis.url)

    async def open(self) -> None:
        for dsn in self.dsns:
            conn = await asyncpg.connect(dsn)
            present = {r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
            parts = []
            for table in sorted(DOMAIN_TABLES & present):
                if table == "events":
                    # Events are only ever appended or deleted (retention is
                    # paused here): their count and highest position, rather
                    # than a hash of every payload.
                    parts.append("SELECT 'events', count(*), coalesce(max(position), 0) "
                                 "FROM events")
                else:
                    parts.append(f"SELECT '{table}', count(*), "
                                 f"coalesce(sum(hashtext(t::text)::bigint), 0) FROM {table} t")
            if "stock" in present:
                # What a compensated saga must leave as it was (see SAGA_TRAIL).
                parts.append("SELECT 'stock levels', count(*), coalesce(sum(hashtext("
                             "(sku, on_hand, reserved)::text)::bigint), 0) FROM stock")
            if "sagas" in present:
                parts.append("SELECT 'sagas compensated', "
                             "count(*) FILTER (WHERE state = 'compensated'), 0::bigint FROM sagas")
            self.conns.append(conn)
            self.queries.append(" UNION ALL ".join(parts))

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()
        await self.redis.aclose()

    async def take(self) -> State:
        async def one(conn: asyncpg.Connection, query: str, dsn: str
                      ) -> dict[str, tuple[int, int]]:
            # Shards of a keyspace may have the same database name on
            # different servers: port/database names the database.
            parts = urlsplit(dsn)
            db = f"{parts.port}/{parts.path.lstrip('/')}"
            return {f"{db}.{r[0]}": (r[1], r[2]) for r in await conn.fetch(query)}

        tables: dict[str, tuple[int, int]] = {}
        for part in await asyncio.gather(*(one(c, q, d) for c, q, d in
                                           zip(self.conns, self.queries, self.dsns,
                                               strict=True))):
            tables.update(part)
        keys = sorted([k async for k in self.redis.scan_iter(match=SESSION_KEYS, count=1000)])
        async with self.redis.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.dump(k)
            values = await pipe.execute()
        return tables, {str(k): v for k, v in zip(keys, values, strict=True) if v is not None}


# A saga refused after it started (payment declined, out of stock, ...) is
# recorded, compensated, with its events and its released reservation: the
# record answers a retry of the same request_id the same way. Such a refusal
# may change these tables, and only these (stock levels stay as they were).
SAGA_TRAIL = frozenset({"sagas", "sagas compensated", "events", "streams", "reservations",
                        "stock"})


def _table(key: str) -> str:
    return key.split(".", 1)[1]


def saga_trail(before: State, after: State) -> bool:
    """The only change is one compensated saga (new, or retried and compensated again)."""
    changed = [t for t in set(before[0]) | set(after[0]) if before[0].get(t) != after[0].get(t)]
    if not changed or any(_table(t) not in SAGA_TRAIL for t in changed):
        return False

    def total(name: str, of: State) -> int:
        return sum(n for t, (n, _) in of[0].items() if _table(t) == name)

    new_sagas = total("sagas", after) - total("sagas", before)
    compensated = total("sagas compensated", after) - total("sagas compensated", before)
    return "sagas" in {_table(t) for t in changed} and new_sagas == compensated >= 0


def changes(before: State, after: State) -> list[str]:
    out = [f"{t}: {before[0].get(t)} -> {after[0].get(t)}"
           for t in sorted(set(before[0]) | set(after[0])) if before[0].get(t) != after[0].get(t)]
    # A session may expire meanwhile; a new key or a changed value is a write.
    # DUMP carries the value and no TTL, so a refreshed expiry is not seen.
    out += [f"valkey {k}: new" for k in sorted(set(after[1]) - set(before[1]))]
    out += [f"valkey {k}: changed" for k in sorted(set(after[1]) & set(before[1]))
            if after[1][k] != before[1][k]]
    return out


# -- calling -------------------------------------------------------------------------

T = TypeVar("T")


@dataclass
class Fuzz:
    gw: Gateway
    loop: asyncio.AbstractEventLoop
    channel: grpc.aio.Channel
    pools: Pools
    fingerprint: Fingerprint
    # The last fingerprint, while no call can have changed the state since.
    fresh: State | None = None
    codes: dict[str, dict[str, int]] = field(default_factory=dict)
    strategies: dict[str, Strategies] = field(default_factory=dict)
    # One message per RPC and status, for the summary.
    samples: dict[str, dict[str, str]] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run on the gateway's loop, from the Hypothesis thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def invoke(self, rpc: Rpc, request: Any) -> tuple[grpc.StatusCode, str]:
        m = rpc.method
        serialize = _serialize
        deserialize = message_factory.GetMessageClass(m.output_type).FromString
        try:
            if m.client_streaming and m.server_streaming:
                raise AssertionError(f"{rpc}: bidirectional streams are not fuzzed yet")
            if m.client_streaming:
                await self.channel.stream_unary(rpc.path, serialize, deserialize)(
                    iter(request), timeout=DEADLINE_S)
            elif m.server_streaming:
                return await self._read_stream(
                    self.channel.unary_stream(rpc.path, serialize, deserialize)(
                        request, timeout=DEADLINE_S))
            else:
                await self.channel.unary_unary(rpc.path, serialize, deserialize)(
                    request, timeout=DEADLINE_S)
        except grpc.aio.AioRpcError as err:
            return err.code(), err.details() or ""
        return grpc.StatusCode.OK, ""

    async def _read_stream(self, call: Any) -> tuple[grpc.StatusCode, str]:
        async def read() -> None:
            n = 0
            async for _ in call:
                n += 1
                if n >= STREAM_READ_MESSAGES:
                    return

        try:
            await asyncio.wait_for(read(), STREAM_READ_S)
        except TimeoutError:
            pass
        except grpc.aio.AioRpcError as err:
            return err.code(), err.details() or ""
        call.cancel()
        return grpc.StatusCode.OK, "(stream cancelled by the test)"

    def case(self, rpc: Rpc, request: Any) -> None:
        before = None
        if rpc.writes:
            before = self.fresh or self.run(self.fingerprint.take())
        self.fresh = None
        code, details = self.run(self.invoke(rpc, request))
        seen = self.codes.setdefault(str(rpc), {})
        seen[code.name] = seen.get(code.name, 0) + 1
        self.samples.setdefault(str(rpc), {}).setdefault(code.name, details[:160])
        assert code not in NEVER, (
            f"{rpc} answered {code.name}: {details}\nrequest:\n{_show(request)}")
        if before is not None and code in REFUSALS:
            after = self.run(self.fingerprint.take())
            changed = changes(before, after)
            if changed and saga_trail(before, after):
                seen["refused, saga recorded"] = seen.get("refused, saga recorded", 0) + 1
                changed = []
            assert not changed, (
                f"{rpc} refused with {code.name} ({details}) but wrote: {changed}\n"
                f"request:\n{_show(request)}")
            self.fresh = after


def _serialize(request: Message) -> bytes:
    return request.SerializeToString()


def _show(request: Any) -> str:
    items = request if isinstance(request, list) else [request]
    text = "\n---\n".join(text_format.MessageToString(r, as_utf8=False) for r in items)
    return text if len(text) < 4000 else text[:4000] + "...(cut)"


# -- fixtures --------------------------------------------------------------------------


async def _pools(channel: grpc.aio.Channel, gw: Gateway) -> Pools:
    """Users, stocked products, orders, payments, sessions, a reservation and
    streams of this module's own: the only real ids that destructive methods
    (EraseUser, DeleteStream, TombstoneStream, ...) can reach here."""
    shop = Shop.on(channel)
    es = eventstore_pb2_grpc.EventStoreServiceStub(channel)
    sessions = session_pb2_grpc.SessionServiceStub(channel)
    uid = uuid.uuid4().hex[:8]
    pools = Pools()
    _plausible(pools)
    b = pools.by_name
    users = [f"fuzz-{uid}-u{i}" for i in range(3)]
    skus = [f"fuzz-{uid}-sku{i}" for i in range(3)]
    for u in users:
        await shop.user(u)
    catalog_skus = [f"fuzz-{uid}-cat{i}" for i in range(2)]
    for s in skus + catalog_skus:
        await shop.stocked(s, 1000)
    orders, payments = [], []
    for i, u in enumerate(users[:2]):
        placed = await shop.place(u, {skus[i]: 1}, f"fuzz-{uid}-order{i}")
        orders.append(placed.order.order_id)
        payments.append(placed.payment.payment_id)
    session_ids = []
    for u in users:
        created = await sessions.CreateSession(session_pb2.CreateSessionRequest(user_id=u))
        session_ids.append(created.session.session_id)
    reservation = f"fuzz-{uid}-res"
    await shop.inventory.ReserveStock(inventory_pb2.ReserveStockRequest(
        reservation_id=reservation, items=[inventory_pb2.ReservationItem(sku=skus[2],
                                                                         quantity=1)]))
    streams = [f"fuzz-{uid}-stream{i}" for i in range(2)]
    for s in streams:
        await es.AppendToStream(append(s, [event(n=1), event(n=2)]))
    b["user_id"] = b["routing_key"] = b["pii_user_id"] = users
    b["entity_id"] = users + orders + payments
    b["email"] = [f"{u}@example.com" for u in users] + ["not-an-email", "a@b"]
    b["display_name"] = ["Ada", ""]
    b["sku"] = b["skus"] = skus
    # The catalog's fuzzing may deactivate or delete its products: orders
    # are placed with the others.
    pools.by_service["datagw.v1.CatalogService"] = {"sku": catalog_skus, "skus": catalog_skus}
    b["order_id"] = b["last_order_id"] = orders
    b["saga_id"] = [saga_id_for(u, CREATE_ORDER, f"fuzz-{uid}-order{i}")
                    for i, u in enumerate(users[:2])] + orders
    b["payment_id"] = payments
    b["session_id"] = session_ids
    b["reservation_id"] = [reservation, f"fuzz-{uid}-res2"]
    b["stream"] = [*streams, f"order-{orders[0]}", f"user-{users[0]}"]
    b["stream_prefixes"] = [*streams, "fuzz-", "order-", ""]
    b["event_id"] = [str(uuid.uuid4()) for _ in range(3)] + ["not-a-uuid"]
    b["request_id"] = [f"fuzz-{uid}-r{i}" for i in range(4)]
    b["query"] = ["product", "fuzz", "*", ""]
    # Our own users' erasure leaves others' alone: a random string is never
    # another test's id (those are uuid-based).
    return pools


@pytest.fixture(scope="module")
async def fuzz(gateway: Gateway) -> AsyncIterator[Fuzz]:
    async with grpc.aio.insecure_channel(
            f"127.0.0.1:{gateway.port}",
            options=[("grpc.max_send_message_length", 8 * 1024 * 1024)]) as channel:
        pools = await _pools(channel, gateway)
        sagas = gateway.wiring.sagas

        async def paused(*args: Any, **kwargs: Any) -> int:
            return 0

        fingerprint = Fingerprint(gateway)
        await fingerprint.open()
        with pytest.MonkeyPatch.context() as mp:
            # Saga recovery, the reservation sweep and event retention write on
            # their own; paused here so that a change seen around a refused call
            # is that call's.
            mp.setattr(sagas, "recover", paused)
            mp.setattr(sagas, "sweep_reservations", paused)
            # Retention deletes events (of streams deleted or truncated here too).
            mp.setattr(gateway.wiring.retention, "run_once", paused)
            # Let a pass that had already begun finish.
            await asyncio.sleep(gateway.config.sagas.recovery_interval_s + 0.5)
            try:
                yield Fuzz(gateway, asyncio.get_running_loop(), channel, pools,
                           fingerprint)
            finally:
                await fingerprint.close()


def _never_a_move(gw: Gateway) -> Callable[[Any], Any]:
    """CreateReshardWorkflow: a request the gateway would take as a real move
    becomes a move onto the shard that serves the range already.

    Fuzzed strings find a valid one easily ("commerce", "80-", shard 0): a
    real workflow would copy a range of commerce and capture its changes on
    the gateway that later test files share, and the fuzzed actions could
    switch it. Refused (RANGE_ALREADY_THERE), the request still goes through
    every check before that one, like RebuildProjection's names that are
    never a real projection's (see _plausible)."""
    def constrain(request: Any) -> Any:
        ks = gw.backends.keyspaces.get(request.keyspace)
        if ks is None or not ks.sharded or not 0 <= request.target_shard < len(ks.shards):
            return request
        try:
            owner = ks.map.owner_of(KeyRange.parse(request.key_range))
        except RangeError:
            return request
        if owner is not None:
            request.target_shard = owner
        return request

    return constrain


def _never_a_server(gw: Gateway) -> Callable[[Any], Any]:
    """AddShardServer: never for a sharded keyspace. The session gateway is
    embedded, so each accepted request would start one more PostgreSQL
    server for the rest of the session; refused for an unsharded keyspace,
    the request still meets the name checks (tests/e2e/test_reshard_cli.py
    adds a server for real)."""
    def constrain(request: Any) -> Any:
        ks = gw.backends.keyspaces.get(request.keyspace)
        if ks is not None and ks.sharded:
            request.keyspace = "catalog"
        return request

    return constrain


def _request_strategy(fz: Fuzz, rpc: Rpc) -> st.SearchStrategy[Any]:
    service = rpc.entry.name
    if service not in fz.strategies:
        fz.strategies[service] = Strategies(fz.pools.of(service))
    single = fz.strategies[service].request(rpc.method.input_type)
    if str(rpc) == "datagw.v1.AdminService/CreateReshardWorkflow":
        single = single.map(_never_a_move(fz.gw))
    if str(rpc) == "datagw.v1.AdminService/AddShardServer":
        single = single.map(_never_a_server(fz.gw))
    if rpc.method.client_streaming:
        return st.lists(single, max_size=3)
    return single


@pytest.mark.parametrize("rpc", RPCS, ids=str)
async def test_no_request_is_an_internal_error_or_writes_when_refused(
    fuzz: Fuzz, rpc: Rpc
) -> None:
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=IN_CI,
              database=None if IN_CI else settings.default.database,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture],
              print_blob=not IN_CI)
    @given(request=_request_strategy(fuzz, rpc))
    def check(request: Any) -> None:
        fuzz.case(rpc, request)

    await asyncio.to_thread(check)


async def test_the_gateway_is_healthy_after_the_fuzzing(fuzz: Fuzz) -> None:
    health = health_pb2_grpc.HealthStub(fuzz.channel)
    answer = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    users = Shop.on(fuzz.channel).users
    user_id = f"fuzz-after-{uuid.uuid4().hex[:8]}"
    await users.CreateUser(user_pb2.CreateUserRequest(
        user_id=user_id, email=f"{user_id}@example.com", display_name="after",
        request_id=user_id), timeout=10)
    got = await users.GetUser(user_pb2.GetUserRequest(user_id=user_id), timeout=10)
    assert got.user.user_id == user_id
    # No fuzzed request started a move (see _never_a_move).
    assert await fuzz.gw.wiring.resharding.workflows() == []
    # What the requests got, per RPC (shown with -s): a method that never
    # answers OK is only fuzzed at its first validation.
    for rpc, codes in sorted(fuzz.codes.items()):
        print(f"{rpc}: {dict(sorted(codes.items()))}")
        for code, details in sorted(fuzz.samples.get(rpc, {}).items()):
            print(f"    {code}: {details}")
    seen = {code for codes in fuzz.codes.values() for code in codes}
    assert "OK" in seen, fuzz.codes

