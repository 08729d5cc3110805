"""Stopping background tasks for sure, so a shutdown never hangs on one;
pacing them by the calls the gateway serves (`Activity`).

A cancel can be swallowed: on Python 3.11 asyncio.wait_for, which asyncpg
and redis-py use inside, drops a cancellation that arrives just as its inner
call completes, and a loop that swallowed one runs on. `stop_tasks` cancels
again every RETRY_S until each task is done and gives up on a task after
GIVE_UP_S with a warning, instead of awaiting it for ever. A leaf module:
every layer that runs a background loop uses it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

RETRY_S = 0.5
GIVE_UP_S = 5.0


async def stop_tasks(*tasks: asyncio.Task[Any] | None, what: str) -> None:
    """Cancel `tasks` (None ones skipped) and wait until they are done."""
    pending = {t for t in tasks if t is not None and not t.done()}
    loop = asyncio.get_running_loop()
    give_up = loop.time() + GIVE_UP_S
    done: set[asyncio.Task[Any]] = {t for t in tasks if t is not None and t.done()}
    while pending:
        for task in pending:
            task.cancel()
        finished, pending = await asyncio.wait(pending, timeout=RETRY_S)
        done |= finished
        if pending and loop.time() >= give_up:
            log.warning("%s: %d task(s) did not stop after %gs of cancelling; abandoning "
                        "them: %s", what, len(pending), GIVE_UP_S,
                        ", ".join(t.get_name() for t in pending))
            break
    for task in done:
        # A task that failed before it was stopped: say so, once.
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task %s had failed", what, task.get_name(),
                      exc_info=task.exception())


class Activity:
    """The calls the gateway serves, counted; loops that only matter while
    calls arrive (health rounds, saga recovery, watermarks) run at their
    short interval while they do, at a long one otherwise, and the first
    call after a quiet spell brings their next round within the short
    interval, as if calls had never stopped. (Not at once: a round would
    then meet every burst of calls at its very start, e.g. a probe queued
    behind the burst in a pooler.)

    `note` is on every call's path: one increment, and a wake-up only when a
    loop is waiting for a call."""

    def __init__(self) -> None:
        self.calls = 0
        self._arrived: asyncio.Event | None = None

    def note(self) -> None:
        self.calls += 1
        if self._arrived is not None:
            self._arrived.set()
            self._arrived = None

    async def pause(self, seen: int, busy_s: float, idle_s: float) -> int:
        """After a round that began at call count `seen`: `busy_s` if a call
        came since, else `idle_s`, or `busy_s` after the next call if one
        comes first. The count for the next round."""
        if self.calls == seen:
            if self._arrived is None:
                self._arrived = asyncio.Event()
            arrived = self._arrived
            try:
                async with asyncio.timeout(idle_s):
                    await arrived.wait()
            except TimeoutError:
                return self.calls
        await asyncio.sleep(busy_s)
        return self.calls
