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


class EmbeddedClickHouse:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.healthy = False
        self.last_error = ""
        self._session: Any = None
        # chdb sessions are not safe for concurrent use from several threads.
        self._lock = threading.Lock()

    def open(self) -> None:
        # An optional extra, imported only when used; chdb ships no type hints.
        session: Any = importlib.import_module("chdb.session")
        self.path.mkdir(parents=True, exist_ok=True)
        self._session = session.Session(str(self.path))

    def _query(self, sql: str) -> str:
        with self._lock:
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
        if self._session is not None:
            with self._lock:
                self._session.close()
            self._session = None
