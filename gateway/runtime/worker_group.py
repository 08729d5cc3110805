"""`datagw serve --workers N`: N gateway processes serving one port.

One Python process runs one event loop on one core; a pod with more cores
runs more workers. The first worker is the process that was started (it
owns the embedded servers in embedded mode and serves /metrics); it starts
the other N-1 once it serves, hands each the backends it opened (a pickled
Config on the child's stdin: embedded servers' passwords never reach a
command line or the environment) and starts a worker again when one dies.

- The port: every worker listens on it with SO_REUSEPORT, and the kernel
  spreads new connections over them (a connection stays with its worker;
  a client with one channel talks to one worker).
- The background jobs run in one worker at a time, the one holding the
  group's lock (storage/postgres/election.py); the lock's key is the group's,
  so two separate `datagw serve` against the same databases each keep their
  own, as two sidecars do.
- Metrics: prometheus_client's multiprocess mode. Each worker writes its
  series to files in a directory of the group's, and /metrics (served by the
  first worker) adds them up (telemetry.py says how each gauge combines).
  That mode is chosen when prometheus_client is imported, so the first
  worker re-executes itself with the directory set before anything else.
- The unix socket, when configured, is the first worker's alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hashlib
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import replace
from typing import NoReturn

from gateway.runtime.config import Config
from gateway.runtime.startup import OpenBackends

log = logging.getLogger(__name__)

# Internal: DATAGW_* variables are configuration keys.
GROUP_ENV = "_DATAGW_WORKER_GROUP"
INDEX_ENV = "_DATAGW_WORKER"
PARENT_ENV = "_DATAGW_WORKER_PARENT"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# A worker that dies is started again after this (doubling while it keeps
# dying within RESTART_CALM_S of its start, up to RESTART_MAX_S).
RESTART_S = 0.5
RESTART_MAX_S = 30.0
RESTART_CALM_S = 60.0
_PR_SET_PDEATHSIG = 1


def worker_index() -> int:
    """0 in the first worker (or a gateway without workers), 1.. in the others."""
    return int(os.environ.get(INDEX_ENV, "0"))


def worker_group_lock() -> int:
    """The advisory lock key of this group's background jobs."""
    group = os.environ.get(GROUP_ENV, "")
    digest = hashlib.blake2b(f"datagw-background:{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def reexec_as_group_leader() -> NoReturn:
    """Run this command again as the first worker of a new group, with the
    metrics directory set before prometheus_client is imported."""
    os.environ[GROUP_ENV] = f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"
    os.environ[INDEX_ENV] = "0"
    os.environ[METRICS_DIR_ENV] = tempfile.mkdtemp(prefix="datagw-metrics-")
    os.execv(sys.executable, [sys.executable, "-m", "gateway.runtime.cli", *sys.argv[1:]])


def is_group_leader() -> bool:
    return GROUP_ENV in os.environ and worker_index() == 0


def worker_config(cfg: Config, opened: OpenBackends, port: int) -> Config:
    """What another worker runs with: the backends this one opened (embedded
    servers as configured ones), its port, no metrics listener and no unix
    socket of its own."""
    host = cfg.listen.rsplit(":", 1)[0]
    return replace(cfg, listen=f"{host}:{port}", keyspaces=dict(opened.keyspace_configs),
                   redis_url=opened.redis_url, clickhouse=opened.analytics,
                   metrics_listen=None)


class WorkerGroup:
    """The first worker's view of the others: start, restart, stop."""

    def __init__(self, cfg: Config) -> None:
        self._cfg = cfg
        self._payload = pickle.dumps(cfg)
        self._stopping = False
        self._procs: dict[int, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs.values()]

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._keep(i)) for i in range(1, self._cfg.workers)]

    async def _spawn(self, index: int) -> asyncio.subprocess.Process:
        env = {**os.environ, INDEX_ENV: str(index), PARENT_ENV: str(os.getpid())}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.runtime.worker_group",
            stdin=asyncio.subprocess.PIPE, env=env)
        assert proc.stdin is not None
        proc.stdin.write(self._payload)
        await proc.stdin.drain()
        proc.stdin.close()
        return proc

    async def _keep(self, index: int) -> None:
        delay = RESTART_S
        while not self._stopping:
            began = time.monotonic()
            proc = self._procs[index] = await self._spawn(index)
            code = await proc.wait()
            _forget_metrics_of(proc.pid)
            if self._stopping:
                return
            delay = RESTART_S if time.monotonic() - began > RESTART_CALM_S else min(
                delay * 2, RESTART_MAX_S)
            log.error("worker %d (pid %d) exited with %s; starting it again in %.1fs",
                      index, proc.pid, code, delay)
            await asyncio.sleep(delay)

    async def stop(self, within_s: float) -> None:
        """SIGTERM every other worker (each drains its calls), then wait;
        past `within_s` they are killed."""
        self._stopping = True
        for proc in self._procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within_s):
                await asyncio.gather(*self._tasks, return_exceptions=True)
        except TimeoutError:
            for proc in self._procs.values():
                if proc.returncode is None:
                    log.error("worker pid %d did not stop within %.0fs; killed", proc.pid,
                              within_s)
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _forget_metrics_of(pid: int) -> None:
    """A dead worker's live gauges leave /metrics (its counters stay summed)."""
    if METRICS_DIR_ENV in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def remove_metrics_dir() -> None:
    path = os.environ.get(METRICS_DIR_ENV)
    if path and is_group_leader():
        shutil.rmtree(path, ignore_errors=True)


def _die_with_parent() -> None:
    """A worker must not outlive the first worker (kill -9 included): the
    kernel sends it SIGTERM when its parent exits."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if str(os.getppid()) != os.environ.get(PARENT_ENV):
        sys.exit(0)  # the parent died before the request reached the kernel


def main() -> int:
    """Another worker: its config from stdin, then serve as `datagw serve` does."""
    _die_with_parent()
    cfg: Config = pickle.loads(sys.stdin.buffer.read())
    from gateway.runtime import event_loop
    from gateway.runtime.cli import serve

    return event_loop.run(serve(cfg))


if __name__ == "__main__":
    sys.exit(main())
