"""ClickHouse's engine in-process (chdb), for embedded mode and tests.

The engine is reached through clickhouse-connect's chdb client, so the SQL,
parameter binding and value decoding are the server backend's (client.py).
chdb comes from the optional `embedded` extra and is imported only here,
when an embedded store is opened.
"""

from __future__ import annotations

import threading
from pathlib import Path

from clickhouse_connect.driver.client import Client

from gateway.storage.clickhouse.client import ClientStore, settings_clause
from gateway.storage.clickhouse.store import Settings


class EmbeddedClickHouseError(RuntimeError):
    pass


# chdb hosts one engine per process, bound to one data path. Stores in one
# process (gateways in tests, tools) share one client per path; a second
# path is a clear error instead of chdb's own failure. The client serialises
# calls on its engine handle (chdb is not safe for concurrent use), so every
# store on the path queues on that one lock.
_shared: dict[str, tuple[Client, int]] = {}
_shared_lock = threading.Lock()


def _acquire(path: Path) -> Client:
    key = str(path.resolve())
    with _shared_lock:
        if key in _shared:
            client, users = _shared[key]
            _shared[key] = (client, users + 1)
            return client
        if _shared:
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
        _shared[key] = (client, 1)
        return client


def _release(path: Path) -> None:
    key = str(path.resolve())
    with _shared_lock:
        client, users = _shared[key]
        if users > 1:
            _shared[key] = (client, users - 1)
            return
        del _shared[key]
    client.close()


class ChdbStore(ClientStore):
    kind = "chdb"

    def __init__(self, path: Path, database: str = "datagw") -> None:
        super().__init__("clickhouse/embedded", f"chdb:{path}", database)
        self.path = path

    def _open_client(self) -> Client:
        return _acquire(self.path)

    def _release_client(self, client: Client) -> None:
        _release(self.path)

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
