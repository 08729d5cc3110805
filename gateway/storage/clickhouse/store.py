"""What the gateway needs from ClickHouse, whichever way it is reached.

Two backends implement it with the same SQL: a ClickHouse server through
clickhouse-connect (production) and ClickHouse's engine in-process through
chdb (embedded mode, tests). tests/conformance runs one suite on both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# Parameters bind as ClickHouse query parameters, `{name:Type}` in the SQL,
# and only so: every parameter needs its placeholder (client.server_side).
Params = Mapping[str, Any]
# Per-query settings, e.g. {"readonly": 1, "max_execution_time": 10}.
Settings = Mapping[str, str | int | float]


# A query parameter's placeholder as ClickHouse writes it: `{name:Type}`.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[^}]+\}")


def placeholder_names(sql: str) -> set[str]:
    """The names of the `{name:Type}` placeholders in `sql` (anywhere in the
    text: one inside a string literal counts, which at worst sends a value
    ClickHouse ignores)."""
    return set(_PLACEHOLDER.findall(sql))


@dataclass(frozen=True)
class ParamText:
    """A query parameter's value in ClickHouse's text form, sent unchanged.

    ClickHouse parses every query parameter from text, in the escaped format
    of its placeholder's type, as `clickhouse-client --param_x=...` takes it:
    `['a','b']` for `{x:Array(String)}`, `42` for an Int64, a String's
    characters with tab, newline and backslash escaped by a backslash. The
    store converts other Python values to that text itself (a str becomes a
    String's escaped text, so `['a']` given as a str would not parse as an
    Array); this is for text that already is the value's form, e.g. RunQuery's
    parameters, which callers give as strings whatever the type.
    """

    text: str

    def __str__(self) -> str:
        # clickhouse-connect sends a value of a type it does not know as
        # str(value), which is this text untouched.
        return self.text


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: list[tuple[Any, ...]]


class AnalyticsStoreError(Exception):
    """The store refused or failed a statement. `code` is ClickHouse's error
    code when known (e.g. 164 READONLY, 396 TOO_MANY_ROWS_OR_BYTES)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class AnalyticsUnavailable(AnalyticsStoreError):
    """The store cannot be reached; the statement may be retried."""


class AnalyticsStore(Protocol):
    # "chdb" or "clickhouse-server", shown in the topology and relay status.
    kind: str
    # The topology entry ("clickhouse/embedded", "clickhouse") and where the
    # store is ("chdb:<path>", "http://host:8123"; never credentials).
    name: str
    address: str
    # The database unqualified table names resolve in (created on connect).
    database: str
    healthy: bool
    last_error: str

    async def command(self, sql: str, params: Params | None = None,
                      settings: Settings | None = None) -> None:
        """DDL, mutations: anything without a result."""

    async def query(self, sql: str, params: Params | None = None,
                    settings: Settings | None = None) -> QueryResult:
        """A SELECT; rows as Python values (ints, strings, datetimes)."""

    async def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                     dedup_token: str | None = None) -> None:
        """Insert rows; with `dedup_token`, a second insert with the same
        token into the same table is dropped by ClickHouse (a retry after an
        unknown outcome counts once)."""

    async def check(self) -> bool:
        """Health probe: updates `healthy` and `last_error`."""

    def close(self) -> None:
        """Release the connection or the engine."""
