"""Restarting embedded servers that crash: ``Supervisor``, a thread that
watches the child servers of ``EmbeddedBackends``.

A server that exits on its own (kill -9, the OOM killer, a PANIC) is reaped
at once and started again on its port after a backoff: FIRST_BACKOFF_S,
doubled after every crash up to MAX_BACKOFF_S, back to the first once the
server has stayed up STABLE_AFTER_S. So a server that cannot start (disk
full) is retried without spinning. A server stopped or killed through its
own methods (the gateway's stop, a failover, a test) is not a crash and
stays down. Each step is logged with the server's name.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.runtime.embedded.process import ChildServer, EmbeddedBackendError

__all__ = ["FIRST_BACKOFF_S", "MAX_BACKOFF_S", "STABLE_AFTER_S", "Supervisor"]

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
STABLE_AFTER_S = 60.0
# A crash wakes the supervisor at once (it waits on each child's pidfd);
# without one it looks every ROUND_S anyway: `also` (failover requests) is
# taken that fast, and a restart that is due waits no longer. Where pidfds
# are missing (not Linux, a kernel before 5.3) it looks every POLL_S.
ROUND_S = 1.0
POLL_S = 0.2

Members = Callable[[], list[tuple[str, ChildServer]]]


@dataclass
class _Watch:
    backoff: float = FIRST_BACKOFF_S
    restart_at: float | None = None
    down_since: float = 0.0
    up_since: float | None = None
    # A restart of ours failed: the server is down although nothing crashed.
    retrying: bool = False


def exit_reason(status: int) -> str:
    """A child's exit status in words: "signal 9 (SIGKILL)" or "code 1"."""
    if status < 0:
        try:
            return f"signal {-status} ({signal.Signals(-status).name})"
        except ValueError:
            return f"signal {-status}"
    return f"code {status}"


class Supervisor:
    """Watches `members()` (name, server) pairs from a thread; see the module doc.

    Holding `lock` holds the supervisor off while the caller changes who is
    who (a failover), so it never acts on a half-changed shard. `also` runs
    in every round too (taking failover requests).
    """

    def __init__(self, members: Members, also: Callable[[], None] | None = None) -> None:
        self._members = members
        self._also = also
        self._watches: dict[int, _Watch] = {}
        self._stop = threading.Event()
        # Written on stop: ends a wait on the children at once (made by start).
        self._wake_r = self._wake_w = -1
        self._thread: threading.Thread | None = None
        self.lock = threading.RLock()
        """Held for every round; hold it to pause supervision."""

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="embedded-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (and restarting); waits for a restart in progress."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        thread.join()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        pids: list[int] = []
        while not self._stop.is_set():
            self._wait(pids)
            if self._stop.is_set():
                return
            with self.lock:
                try:
                    self.check()
                    if self._also is not None:
                        self._also()
                except Exception:
                    # The watch must go on whatever one round hit.
                    log.exception("embedded supervisor: a check failed")
                pids = [pid for _name, server in self._members()
                        if (pid := server.pid) is not None]

    def _wait(self, pids: list[int]) -> None:
        """Until one of `pids` exits, the stop, or the next round is due."""
        now = time.monotonic()
        due = [w.restart_at - now for w in self._watches.values() if w.restart_at is not None]
        timeout = max(0.0, min([ROUND_S, *due]))
        fds: list[int] = []
        try:
            for pid in pids:
                fds.append(os.pidfd_open(pid))
        except ProcessLookupError:
            return  # exited (and reaped) already: a round now
        except (AttributeError, OSError):
            # No pidfds here: look every POLL_S.
            for fd in fds:
                os.close(fd)
            select.select([self._wake_r], [], [], min(timeout, POLL_S))
            return
        try:
            select.select([self._wake_r, *fds], [], [], timeout)
        finally:
            for fd in fds:
                os.close(fd)

    def check(self) -> None:
        """One round: notice crashes, restart those whose backoff is over."""
        now = time.monotonic()
        members = self._members()
        for name, server in members:
            if self._stop.is_set():
                return
            watch = self._watches.setdefault(id(server), _Watch())
            status = server.crash_status()
            if watch.retrying and status is None and not server.is_running():
                # Our own restart failed and left it stopped: still down.
                status = 0
            if status is None:
                # Running, or stopped or started on purpose: nothing pending.
                watch.restart_at, watch.retrying = None, False
                if watch.up_since is not None and now - watch.up_since >= STABLE_AFTER_S:
                    watch.backoff, watch.up_since = FIRST_BACKOFF_S, None
                continue
            if watch.restart_at is None:
                watch.restart_at, watch.down_since = now + watch.backoff, now
                log.warning("embedded %s exited with %s; restarting in %.1f s",
                            name, exit_reason(status), watch.backoff)
                watch.backoff = min(watch.backoff * 2, MAX_BACKOFF_S)
            elif now >= watch.restart_at:
                self._restart(name, server, watch)
        live = {id(server) for _name, server in members}
        for key in set(self._watches) - live:
            del self._watches[key]

    def _restart(self, name: str, server: ChildServer, watch: _Watch) -> None:
        try:
            if watch.retrying:
                server.start()
            else:
                server.recover()
        except (EmbeddedBackendError, OSError, subprocess.SubprocessError) as exc:
            watch.retrying = True
            watch.restart_at = time.monotonic() + watch.backoff
            log.error("embedded %s did not restart (%s); next try in %.1f s",
                      name, exc, watch.backoff)
            watch.backoff = min(watch.backoff * 2, MAX_BACKOFF_S)
            return
        now = time.monotonic()
        watch.restart_at, watch.retrying, watch.up_since = None, False, now
        log.warning("embedded %s restarted (pid %s, down %.1f s)",
                    name, server.pid, now - watch.down_since)
