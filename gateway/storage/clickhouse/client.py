"""The AnalyticsStore over a clickhouse-connect client (server_backend.py
opens it: a ClickHouse server, or embedded mode's engine process).

Parameters are bound by ClickHouse only (server side), see server_side().

clickhouse-connect's client is blocking; every call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from clickhouse_connect.driver import options as driver_options
from clickhouse_connect.driver.binding import quote_identifier
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

from gateway.secrets import redact_url
from gateway.storage.clickhouse.store import (
    AnalyticsStoreError,
    AnalyticsUnavailable,
    Params,
    QueryResult,
    Settings,
    placeholder_names,
)

T = TypeVar("T")

# The gateway hands clickhouse-connect lists of rows and reads rows back,
# never DataFrames or arrays, yet its insert checks every batch against
# pandas.DataFrame and numpy.ndarray, importing both on the first insert
# (they are installed: chdb needs them): about 0.5 s of CPU, holding the GIL
# in the serving process, and 75 MB more memory, at the relay's first insert
# (a fifth of the gateway's profile samples during an ImportProducts of
# 60,000 rows right after start, docs/BENCHMARKS.md). Its lazy options
# module records a missing package as None; recording them so keeps them out.
for _name in ("pd", "pd_time_test", "np"):
    setattr(driver_options, _name, None)

# ClickHouse's codes for "the table's columns are not what we cached".
_SCHEMA_CHANGED = {16, 47, 60}  # NO_SUCH_COLUMN_IN_TABLE, UNKNOWN_IDENTIFIER, UNKNOWN_TABLE
# A name ClickHouse accepts in a placeholder; clickhouse-connect gives names
# such as `$x$` a meaning of its own (raw bytes spliced into the SQL).
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def server_side(sql: str, params: Params | None) -> dict[str, Any]:
    """The parameters for clickhouse-connect, each bound by ClickHouse.

    clickhouse-connect binds server side (the value goes next to the
    statement as `param_<name>`, and ClickHouse parses it as a value of the
    placeholder's type) only when the SQL holds a `{name:Type}` placeholder;
    without one it %-formats the values into the SQL text itself, which
    turns a `%(x)s` or `%s` in a caller's SQL into SQL, and chdb runs every
    statement of a text. So every parameter must have its placeholder, and
    one that has none fails here, before anything is sent: the formatting
    path is never taken, whatever the SQL. (A placeholder ClickHouse does
    not see, e.g. in a string literal, still binds server side, where an
    unused value is ignored.)
    """
    if not params:
        return {}
    names = placeholder_names(sql)
    invalid = sorted(n for n in params if not _PARAMETER_NAME.fullmatch(n))
    if invalid:
        raise AnalyticsStoreError(
            f"invalid parameter name(s) {', '.join(map(repr, invalid))}: a name is a letter "
            "or _, then letters, digits or _")
    unused = sorted(n for n in params if n not in names)
    if unused:
        raise AnalyticsStoreError(
            f"parameter(s) {', '.join(unused)} not used by the statement: parameters bind only "
            "to {name:Type} placeholders (server side), never into the SQL text")
    return dict(params)


def store_error(exc: ClickHouseError) -> AnalyticsStoreError:
    """clickhouse-connect's exception as the store's: the numeric ClickHouse
    code when the engine answered; no code on an OperationalError means the
    request never got an answer (refused, reset, timed out)."""
    code: int | None = getattr(exc, "code", None)
    # clickhouse-connect names the URL it called in its messages.
    text = redact_url(str(exc))
    if isinstance(exc, OperationalError) and code is None:
        return AnalyticsUnavailable(text)
    return AnalyticsStoreError(text, code)


class ClientStore:
    """One AnalyticsStore implementation; subclasses open the client."""

    kind = ""

    def __init__(self, name: str, address: str, database: str) -> None:
        self.name = name          # topology entry, e.g. "clickhouse/embedded"
        self.address = address    # where it is, without credentials
        self.database = database
        self.healthy = False
        self.last_error = ""
        self._client: Client | None = None
        self._connect_lock = threading.Lock()
        # Column types per (table, columns): an insert then needs no DESCRIBE
        # round trip; dropped when the table no longer matches.
        self._insert_types: dict[tuple[str, tuple[str, ...]], list[str]] = {}

    # -- subclass hooks ---------------------------------------------------

    def _open_client(self) -> Client:
        """A client on the engine's default database (blocking)."""
        raise NotImplementedError

    # -- the AnalyticsStore protocol -------------------------------------

    async def command(self, sql: str, params: Params | None = None,
                      settings: Settings | None = None) -> None:
        bound, options = server_side(sql, params), dict(settings or {})
        await self._call(lambda c: c.command(sql, parameters=bound, settings=options))

    async def query(self, sql: str, params: Params | None = None,
                    settings: Settings | None = None) -> QueryResult:
        bound, options = server_side(sql, params), dict(settings or {})

        def run(client: Client) -> QueryResult:
            result = client.query(sql, parameters=bound, settings=options)
            return QueryResult(tuple(result.column_names),
                               tuple(t.name for t in result.column_types),
                               [tuple(row) for row in result.result_rows])

        return await self._call(run)

    async def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                     dedup_token: str | None = None) -> None:
        if not rows:
            return
        key = (table, tuple(columns))
        # A token makes a retried batch count once (the tables keep a
        # deduplication window even without replication, see schema.py).
        options = {"insert_deduplication_token": dedup_token} if dedup_token else {}

        def run(client: Client) -> None:
            types = self._insert_types.get(key)
            if types is None:
                types = self._column_types(client, table, columns)
                self._insert_types[key] = types
            try:
                client.insert(table, rows, column_names=list(columns),
                              column_type_names=types, settings=options)
            except ClickHouseError as exc:
                if getattr(exc, "code", None) in _SCHEMA_CHANGED:
                    self._insert_types.pop(key, None)
                raise

        await self._call(run)

    async def check(self) -> bool:
        try:
            result = await self.query("SELECT 1")
            self.healthy = result.rows == [(1,)]
            self.last_error = "" if self.healthy else "unexpected answer"
        except AnalyticsStoreError as exc:
            self.healthy, self.last_error = False, str(exc).splitlines()[0][:200]
        return self.healthy

    def close(self) -> None:
        with self._connect_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- plumbing ----------------------------------------------------------

    @staticmethod
    def _column_types(client: Client, table: str, columns: Sequence[str]) -> list[str]:
        described = client.query(f"DESCRIBE TABLE {table}").result_rows
        types = {str(row[0]): str(row[1]) for row in described}
        missing = [c for c in columns if c not in types]
        if missing:
            raise AnalyticsStoreError(f"{table} has no column(s) {', '.join(missing)}", 16)
        return [types[c] for c in columns]

    def _connected(self) -> Client:
        with self._connect_lock:
            if self._client is None:
                client = self._open_client()
                try:
                    self._use_database(client)
                except BaseException:
                    client.close()
                    raise
                self._client = client
            return self._client

    def _use_database(self, client: Client) -> None:
        """The store works in its own database, created when missing (asked
        first, so a user allowed only inside it needs no CREATE DATABASE)."""
        exists = client.query("SELECT count() FROM system.databases WHERE name = {db:String}",
                              parameters={"db": self.database}).result_rows
        if exists[0][0] == 0:
            client.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
        client.database = self.database

    async def _call(self, fn: Callable[[Client], T]) -> T:
        def run() -> T:
            try:
                return fn(self._connected())
            except ClickHouseError as exc:
                raise store_error(exc) from exc

        return await asyncio.to_thread(run)

