"""The unit tier: no subprocess and no backend, so the directory runs in seconds.

While a test here is set up and run, these are refused:

- starting a process: subprocess.Popen (so run, check_output, os.popen and
  asyncio's subprocesses too), asyncio.create_subprocess_exec/_shell,
  os.system, os.fork, os.posix_spawn[p]: the test belongs in tests/e2e;
- connecting a socket of any family but AF_UNIX (PostgreSQL, Valkey, a
  ClickHouse server, even on 127.0.0.1), or opening the ClickHouse engine
  (chdb, analytics_server.Engine): the test belongs in tests/integration.

A refusal raises pytest's Failed, which `except Exception` does not catch,
and is also recorded, so a test that swallows it still fails.

Only this tier's code is refused. The flag is a context variable: the test,
its fixtures and the tasks and to_thread calls they start inherit it; the
background tasks of a session gateway that an integration test started (one
event loop serves the whole run) do not. Teardown is not guarded, because it
also runs the finalizers of session fixtures that other tiers set up.
Sockets opened in native code (grpc's C core) are not seen here; reaching a
server that way still needs one started, which is refused.
"""

from __future__ import annotations

import asyncio
import asyncio.subprocess
import contextlib
import contextvars
import functools
import os
import socket
import subprocess
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from gateway.runtime.embedded import analytics_server

SUBPROCESS = "unit tests start no subprocess: move this test to tests/e2e"
BACKEND = "unit tests reach no backend: move this test to tests/integration"

# The refusals of the running unit test; None outside one.
_refused: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "unit_tier_refused", default=None)


def _refuse(message: str, what: str) -> None:
    refused = _refused.get()
    if refused is None:
        return  # not a unit test's own code
    text = f"{message} ({what})"
    refused.append(text)
    pytest.fail(text)


def _guarded(original: Callable[..., Any], message: str,
             what: Callable[..., str]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _refuse(message, what(*args, **kwargs))
        return original(*args, **kwargs)
    return guarded


def _ran(*args: Any, **kwargs: Any) -> str:
    return f"it ran {args[0]!r}" if args else "it started a process"


def _popen_ran(_self: Any, *args: Any, **kwargs: Any) -> str:
    return _ran(*args, **kwargs)


def _connected(sock: socket.socket, address: Any, *_: Any) -> str:
    return f"it connected to {address!r}"


def _connect_guard(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: socket.socket, address: Any) -> Any:
        if self.family != socket.AF_UNIX:
            _refuse(BACKEND, _connected(self, address))
        return original(self, address)
    return connect


def _install(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(subprocess.Popen, "__init__",
               _guarded(subprocess.Popen.__init__, SUBPROCESS, _popen_ran))
    for module in (asyncio, asyncio.subprocess):
        for name in ("create_subprocess_exec", "create_subprocess_shell"):
            mp.setattr(module, name, _guarded(getattr(module, name), SUBPROCESS, _ran))
    for name in ("system", "fork", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            mp.setattr(os, name, _guarded(getattr(os, name), SUBPROCESS, _ran))
    for name in ("connect", "connect_ex"):
        mp.setattr(socket.socket, name, _connect_guard(getattr(socket.socket, name)))
    mp.setattr(analytics_server.Engine, "__init__", _guarded(
        analytics_server.Engine.__init__, BACKEND,
        lambda _engine, path: f"it opened chdb on {path}"))


@contextlib.contextmanager
def _unit_tier() -> Iterator[None]:
    refused: list[str] = []
    token = _refused.set(refused)
    try:
        with pytest.MonkeyPatch.context() as mp:
            _install(mp)
            yield
    finally:
        _refused.reset(token)
    if refused:  # refused, but the test caught the refusal
        pytest.fail("\n".join([*refused, "(the test caught the refusal; it still fails)"]),
                    pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    with _unit_tier():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    with _unit_tier():
        return (yield)
