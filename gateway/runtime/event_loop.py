"""The event loop `datagw serve` runs on: uvloop.

Every call's asyncio work (the gRPC server's completion-queue poller,
futures, timers, the PostgreSQL and Redis sockets) goes through the loop;
uvloop's libuv loop does it in C where the standard loop does it in Python.
Measured on the GetProduct cache hit and GetOrder paths (docs/BENCHMARKS.md).
Tests run the gateway in pytest's standard loop, which stays supported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on a uvloop loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
