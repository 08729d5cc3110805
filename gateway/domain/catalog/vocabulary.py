"""The search vocabulary's background recount (the search_words migration).

Writes teach the vocabulary new words in their own transaction but never
touch a known word's product count: counting there would make every write of
a common word update one hot row, serialising concurrent imports. The counts
(which rank suggestions and break ties between corrections) are set here
instead, from the products, every `recount_interval_s`; so is a word no
product holds any more dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from gateway.errors import Unavailable
from gateway.storage.postgres import search_words
from gateway.storage.postgres.pool import Shard
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VocabularySettings:
    # A recount reads every product's title, brand and category: about
    # RECOUNT_SECONDS_PER_MILLION (docs/BENCHMARKS.md) of one core.
    recount_interval_s: float = 600.0


class VocabularyJob:
    def __init__(self, catalog: Shard, settings: VocabularySettings) -> None:
        self._catalog = catalog
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> tuple[int, int]:
        """One recount; (counts set, words dropped)."""
        started = time.monotonic()
        async with self._catalog.connection("RECOUNT search_words") as conn:
            updated, dropped = await search_words.recount(conn)
        log.info("search vocabulary recounted in %.1f s: %d counts set, %d words dropped",
                 time.monotonic() - started, updated, dropped)
        return updated, dropped

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="vocabulary recount")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="vocabulary recount")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.recount_interval_s)
            try:
                await self.run_once()
            except Unavailable as exc:
                log.warning("search vocabulary recount skipped: %s", exc.message)
            except Exception:
                log.exception("search vocabulary recount failed")
