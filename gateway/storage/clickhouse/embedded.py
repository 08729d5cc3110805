"""ClickHouse's engine in-process (chdb), for embedded mode and tests.

The analytics pipeline that writes here arrives with the event-store work; for
now the gateway opens the engine on its data directory, reports it in the
topology and health-checks it, so the embedded stack is complete from day one.
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from pathlib import Path
from typing import Any


class EmbeddedClickHouseError(RuntimeError):
    pass


# chdb hosts one engine per process, bound to one data path. Gateways in one
# process (tests, tools) share it by path; a second path is a clear error
# instead of chdb's own "already initialized" failure.
_shared: dict[str, tuple[Any, int]] = {}
_shared_lock = threading.Lock()
# The engine is not safe for concurrent use from several threads.
_query_lock = threading.Lock()


class EmbeddedClickHouse:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.healthy = False
        self.last_error = ""
        self._session: Any = None

    def open(self) -> None:
        key = str(self.path.resolve())
        with _shared_lock:
            if key in _shared:
                session, users = _shared[key]
                _shared[key] = (session, users + 1)
                self._session = session
                return
            if _shared:
                raise EmbeddedClickHouseError(
                    f"the embedded ClickHouse engine (chdb) is already open on "
                    f"{next(iter(_shared))} in this process and cannot also open {key}; "
                    "run one embedded gateway per process or configure backends"
                )
            # An optional extra, imported only when used; chdb ships no type hints.
            module: Any = importlib.import_module("chdb.session")
            self.path.mkdir(parents=True, exist_ok=True)
            self._session = module.Session(key)
            _shared[key] = (self._session, 1)

    def _query(self, sql: str) -> str:
        with _query_lock:
            return str(self._session.query(sql, "CSV")).strip()

    async def query(self, sql: str) -> str:
        return await asyncio.to_thread(self._query, sql)

    async def check(self) -> bool:
        try:
            self.healthy = (await self.query("SELECT 1")) == "1"
            self.last_error = "" if self.healthy else "unexpected answer"
        except Exception as exc:  # chdb raises its own RuntimeError variants
            self.healthy, self.last_error = False, type(exc).__name__
        return self.healthy

    def close(self) -> None:
        if self._session is None:
            return
        key = str(self.path.resolve())
        with _shared_lock:
            session, users = _shared[key]
            if users > 1:
                _shared[key] = (session, users - 1)
            else:
                del _shared[key]
                with _query_lock:
                    session.close()
        self._session = None
