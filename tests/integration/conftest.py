"""A watchdog for the integration tier: a test still running after
HANG_AFTER_S has every task of the event loop dumped to the real stderr
(pytest's capture would keep it), so a hang in CI shows where it waits."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

HANG_AFTER_S = 300.0


def _dump(loop: asyncio.AbstractEventLoop, test: str) -> None:
    out = sys.__stderr__
    if out is None:
        return
    print(f"\n=== {test} still running after {HANG_AFTER_S:g}s; its tasks: ===", file=out)
    for task in asyncio.all_tasks(loop):
        print(f"--- {task!r}", file=out)
        task.print_stack(file=out)
    out.flush()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _hang_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    timer = loop.call_later(HANG_AFTER_S, _dump, loop, request.node.nodeid)
    try:
        yield
    finally:
        timer.cancel()
