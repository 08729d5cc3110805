"""One holder at a time among the processes that share a key: a PostgreSQL
session advisory lock on a connection of its own.

`datagw serve --workers N` runs the background jobs (relay, projections,
retention, saga recovery, ...) in the one worker that holds this lock. The
lock is a session lock on a direct connection (never through a transaction
pooler, which would hand the session to other clients): waiting for it is
one blocked statement, so an idle worker spends nothing on it, and the
server releases it the moment the holder's session ends (a crash, a kill,
a lost network), when the next waiting worker gets it.

Nothing depends on the election for correctness: every background job is
already safe with several gateways running it at once (several sidecars do),
so the short overlap a lost connection may cause (the old holder stops its
jobs when it notices, the new one starts at once) costs work, never data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)

# After a failed or lost connection, before trying again.
RETRY_S = 1.0


class Election:
    """Campaign for `key` on `dsn`; `on_elected` runs when the lock is won,
    `on_lost` when the session holding it ends. `elected` says which."""

    def __init__(self, dsn: str, key: int, on_elected: Callable[[], Awaitable[None]],
                 on_lost: Callable[[], Awaitable[None]]) -> None:
        self._dsn = dsn
        self._key = key
        self._on_elected = on_elected
        self._on_lost = on_lost
        self.elected = False

    async def run(self) -> None:
        """Campaign until cancelled; cancelling while elected calls on_lost."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                # Blocks (on the server, without polling) until the lock is free.
                await conn.execute("SELECT pg_advisory_lock($1)", self._key)
                self.elected = True
                log.info("elected to run the background jobs (lock %d)", self._key)
                await self._on_elected()
                await lost.wait()
                log.warning("lost the background jobs' lock (its session ended); campaigning "
                            "again")
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.debug("background election on %s: %s", self._key, exc)
            finally:
                if self.elected:
                    self.elected = False
                    await asyncio.shield(self._on_lost())
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        # Closing the session releases the lock.
                        await asyncio.shield(conn.close())
            await asyncio.sleep(RETRY_S)
