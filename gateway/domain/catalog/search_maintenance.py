"""The catalog search's background maintenance: the vocabulary's recount
(the search_words migration) and the search language (the search language
migration).

Writes teach the vocabulary new words in their own transaction but never
touch a known word's product count: counting there would make every write of
a common word update one hot row, serialising concurrent imports. The counts
(which rank suggestions and break ties between corrections) are set here
instead, from the products, every `recount_interval_s` by one of the
gateways (the first to claim it); so is a word no product holds any more
dropped.

The catalog policy's search.language is written to the database here, and a
change re-indexes the products in batches; no migration, no downtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import asyncpg

from gateway.errors import Unavailable
from gateway.policy.registry import PolicyRegistry
from gateway.storage.postgres import search_index, search_words
from gateway.storage.postgres.pool import Shard
from gateway.tasks import stop_tasks

log = logging.getLogger(__name__)

DOMAIN = "catalog"
# How often the policy's language is compared with the database's, and a
# pending re-index resumed.
CHECK_INTERVAL_S = 5.0
# Products re-indexed per transaction: short row locks for writers.
REINDEX_BATCH = 2000


@dataclass(frozen=True)
class SearchMaintenanceSettings:
    # A recount reads every product's title, brand and category: about 9 s
    # of one core per million products (docs/BENCHMARKS.md).
    recount_interval_s: float = 600.0


class SearchMaintenance:
    def __init__(self, catalog: Shard, policies: PolicyRegistry,
                 settings: SearchMaintenanceSettings) -> None:
        self._catalog = catalog
        self._policies = policies
        self.settings = settings
        self._task: asyncio.Task[None] | None = None
        # The language last found invalid, so it is logged once per change.
        self._refused: str | None = None

    async def recount(self) -> tuple[int, int]:
        """One recount; (counts set, words dropped)."""
        started = time.monotonic()
        async with self._catalog.connection("RECOUNT search_words") as conn:
            updated, dropped = await search_words.recount(conn)
        log.info("search vocabulary recounted in %.1f s: %d counts set, %d words dropped",
                 time.monotonic() - started, updated, dropped)
        return updated, dropped

    async def recount_in_turn(self) -> tuple[int, int] | None:
        """A recount unless another gateway did one within the interval
        (search_words.claim_recount); None when it was skipped."""
        async with self._catalog.connection("CLAIM search_words recount") as conn:
            claimed = await search_words.claim_recount(conn, self.settings.recount_interval_s)
        return await self.recount() if claimed else None

    async def follow_language(self) -> int:
        """Write the policy's language to the database if it differs, then
        run any pending re-index to its end; how many products were
        re-indexed. A name the database lacks is logged and the old
        language kept."""
        language = self._policies.get(DOMAIN).search.language
        reindexed = 0
        async with self._catalog.connection("REINDEX products") as conn:
            try:
                if await search_index.set_language(conn, language):
                    log.info("catalog search language is now %r: re-indexing products",
                             language)
                self._refused = None
            except asyncpg.UndefinedObjectError:
                if self._refused != language:
                    log.error("catalog policy search.language %r is not a text search "
                              "configuration of the catalog database; keeping the current one",
                              language)
                self._refused = language
            while (done := await search_index.reindex_batch(conn, REINDEX_BATCH)) is not None:
                reindexed += done
        if reindexed:
            log.info("catalog search re-index done: %d products", reindexed)
        return reindexed

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="search maintenance")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_tasks(task, what="search maintenance")

    async def _loop(self) -> None:
        next_recount = time.monotonic() + self.settings.recount_interval_s
        while True:
            try:
                await self.follow_language()
                if time.monotonic() >= next_recount:
                    next_recount = time.monotonic() + self.settings.recount_interval_s
                    await self.recount_in_turn()
            except Unavailable as exc:
                log.warning("search maintenance skipped: %s", exc.message)
            except Exception:
                log.exception("search maintenance failed")
            await asyncio.sleep(CHECK_INTERVAL_S)
