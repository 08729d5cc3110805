"""A watchdog for the integration tier: a test still running after
HANG_AFTER_S has every task of the event loop printed with pytest's output
capture suspended, so a hang in CI shows where it waits."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from gateway.runtime.embedded.postgres import EmbeddedPostgres
from gateway.runtime.server import Gateway

HANG_AFTER_S = 300.0


def _dump(loop: asyncio.AbstractEventLoop, test: str, config: pytest.Config) -> None:
    capture = config.pluginmanager.getplugin("capturemanager")
    suspended = capture.global_and_fixture_disabled() if capture is not None \
        else contextlib.nullcontext()
    with suspended:
        print(f"\n=== {test} still running after {HANG_AFTER_S:g}s; its tasks: ===",
              file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            print(f"--- {task!r}", file=sys.stderr)
            task.print_stack(file=sys.stderr)
        sys.stderr.flush()


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _hang_watchdog(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    timer = loop.call_later(HANG_AFTER_S, _dump, loop, request.node.nodeid, request.config)
    try:
        yield
    finally:
        timer.cancel()


@pytest.fixture(scope="module")
async def replica(gateway: Gateway) -> AsyncIterator[EmbeddedPostgres]:
    """A streaming replica of the session stack's commerce shard 0."""
    assert gateway.embedded is not None
    # Not under pytest's tmp dir: the server runs as its own user (see conftest).
    where = Path(tempfile.mkdtemp(prefix="datagw-replica-"))
    server = await asyncio.to_thread(gateway.embedded.shards[0].add_replica, where / "r")
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(where, ignore_errors=True)

