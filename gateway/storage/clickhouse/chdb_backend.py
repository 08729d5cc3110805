"""ClickHouse's engine in-process (chdb), for embedded mode and tests.

The engine is reached through clickhouse-connect's chdb client, so the SQL,
parameter binding and value decoding are the server backend's (client.py).
chdb comes from the optional `embedded` extra and is imported only here,
when an embedded store is opened.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from gateway.storage.clickhouse.client import ClientStore, settings_clause
from gateway.storage.clickhouse.store import Settings


class EmbeddedClickHouseError(RuntimeError):
    pass


# chdb hosts one engine per process, bound to one data path. Stores in one
# process (gateways in tests, tools) share it by path, each through its own
# client (a client's handle carries its current database); a second path
# is a clear error instead of chdb's own failure.
_shared: dict[str, int] = {}
_shared_lock = threading.Lock()
# The engine runs one statement at a time, whichever store sends it.
_engine_lock = threading.Lock()


def engine_path() -> Path | None:
    """Where this process's chdb engine is open, if it is (tools and tests
    that must share it instead of opening a second path)."""
    with _shared_lock:
        return Path(next(iter(_shared))) if _shared else None


def _acquire(path: Path) -> Client:
    key = str(path.resolve())
    with _shared_lock:
        if _shared and key not in _shared:
            raise EmbeddedClickHouseError(
                f"the embedded ClickHouse engine (chdb) is already open on "
                f"{next(iter(_shared))} in this process and cannot also open {key}; "
                "run one embedded gateway per process or configure clickhouse.url"
            )
        try:
            import chdb  # noqa: F401  (the extra's presence, with a clear hint)
        except ImportError as exc:
            raise EmbeddedClickHouseError(
                "embedded mode needs chdb: pip install 'datagw[embedded]'") from exc
        import clickhouse_connect

        path.mkdir(parents=True, exist_ok=True)
        # tz_mode "schema": DateTime64(3, 'UTC') columns come back as aware
        # datetimes, as from the server backend.
        client = clickhouse_connect.get_client(interface="chdb", path=key, tz_mode="schema")
        _shared[key] = _shared.get(key, 0) + 1
        return client


def _release(path: Path, client: Client) -> None:
    key = str(path.resolve())
    with _shared_lock:
        client.close()
        if _shared[key] > 1:
            _shared[key] -= 1
        else:
            del _shared[key]


class ChdbStore(ClientStore):
    kind = "chdb"
    _call_lock = _engine_lock

    def __init__(self, path: Path, database: str = "datagw") -> None:
        super().__init__("clickhouse/embedded", f"chdb:{path}", database)
        self.path = path

    def _open_client(self) -> Client:
        return _acquire(self.path)

    def _release_client(self, client: Client) -> None:
        _release(self.path, client)

    def _after_error(self, client: Client) -> None:
        # chdb 4.4 hands the rows a failed query had already produced (a
        # timeout or throwIf mid-result) to the handle's NEXT query, in front
        # of its own: a throwaway statement takes them, so they can never
        # pass for another query's result.
        with contextlib.suppress(ClickHouseError):
            client.raw_query("SELECT 1")  # raw: the stray rows are not parsed

    def _statement(self, sql: str, settings: Settings | None) -> tuple[str, dict[str, object]]:
        # chdb has no per-request settings; clickhouse-connect would SET them
        # on the shared handle and SET them back afterwards, which cannot
        # undo `readonly` (a read-only session may not leave read-only
        # mode): one RunQuery would leave the engine read-only for good.
        # A trailing SETTINGS clause scopes them to the statement, as HTTP
        # URL settings do; on its own line so a trailing `--` comment cannot
        # swallow it. Statements with inline data (INSERT ... VALUES) take no
        # clause: they go through insert().
        if not settings:
            return sql, {}
        body = sql.rstrip().rstrip(";").rstrip()
        return f"{body}\n{settings_clause(settings)}", {}
