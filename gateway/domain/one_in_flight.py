"""Bulk writes that overlap with reading the next batch.

A bulk call (IngestEvents, ImportProducts) reads and checks a batch of its
stream while the previous batch is being written, with at most one write in
flight: the order of the writes is the order of the batches, and the
caller's memory holds at most two batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class OneInFlight:
    """Runs the writes submitted to it one after another, in the background."""

    def __init__(self) -> None:
        self._pending: asyncio.Task[None] | None = None

    async def submit(self, write: Coroutine[Any, Any, None]) -> None:
        """Wait for the write in flight (raising its error), then start `write`."""
        try:
            await self.wait()
        except BaseException:
            write.close()  # never started: no "never awaited" warning
            raise
        self._pending = asyncio.create_task(write)

    async def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    def cancel(self) -> None:
        """The call failed: stop waiting for the write in flight (a thread
        may still finish it) and do not report its outcome twice."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending.add_done_callback(
                lambda task: None if task.cancelled() else task.exception())
            self._pending = None
