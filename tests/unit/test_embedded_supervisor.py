"""The supervisor's backoff: doubling per crash up to the cap, reset after a
stable run, a failed restart retried, a deliberate stop left alone. The
servers here are stand-ins whose exits the test decides (the real
processes are in tests/integration/test_embedded_supervision.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.runtime.embedded import supervisor
from gateway.runtime.embedded.process import ChildServer, EmbeddedBackendError
from gateway.runtime.embedded.supervisor import (
    FIRST_BACKOFF_S,
    MAX_BACKOFF_S,
    STABLE_AFTER_S,
    Supervisor,
    exit_reason,
)


class Stand(ChildServer):
    """A child server whose state the test sets: running, crashed or stopped."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"))
        self.status: int | None = None
        self.running = True
        self.starts = 0
        self.fail_starts = 0

    def crash_status(self) -> int | None:
        return self.status

    def is_running(self) -> bool:
        return self.running

    def start(self) -> None:
        self.starts += 1
        if self.fail_starts:
            self.fail_starts -= 1
            self.status, self.running = None, False
            raise EmbeddedBackendError("disk full")
        self.status, self.running = None, True

    def recover(self) -> None:
        self.start()

    def stop(self) -> None:
        self.status, self.running = None, False

    def crash(self) -> None:
        self.status, self.running = -9, False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(supervisor.time, "monotonic", clock)
    return clock


def _delays(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage().rsplit("in ", 1)[1] for r in caplog.records
            if "restarting in" in r.getMessage() or "next try in" in r.getMessage()]


def test_backoff_doubles_to_the_cap_and_resets_after_a_stable_run(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = Stand()
    watcher = Supervisor(lambda: [("postgres shard 1", server)])
    for _ in range(8):
        server.crash()
        watcher.check()
        clock.now += MAX_BACKOFF_S
        watcher.check()
        assert server.running
    assert _delays(caplog) == ["0.5 s", "1.0 s", "2.0 s", "4.0 s", "8.0 s", "16.0 s", "30.0 s",
                               "30.0 s"]
    assert server.starts == 8
    clock.now += STABLE_AFTER_S
    watcher.check()
    server.crash()
    watcher.check()
    assert _delays(caplog)[-1] == f"{FIRST_BACKOFF_S} s"


def test_no_restart_before_the_backoff_is_over(clock: Clock) -> None:
    server = Stand()
    watcher = Supervisor(lambda: [("valkey", server)])
    server.crash()
    watcher.check()
    clock.now += FIRST_BACKOFF_S / 2
    watcher.check()
    assert server.starts == 0
    clock.now += FIRST_BACKOFF_S
    watcher.check()
    assert server.starts == 1 and server.running


def test_a_failed_restart_is_tried_again_later(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    server = Stand()
    server.fail_starts = 2
    watcher = Supervisor(lambda: [("postgres", server)])
    server.crash()
    for _ in range(3):
        watcher.check()
        clock.now += MAX_BACKOFF_S
    watcher.check()
    assert server.starts == 3 and server.running
    assert "embedded postgres did not restart (disk full); next try in 1.0 s" in caplog.text
    assert "embedded postgres restarted" in caplog.text


def test_a_deliberate_stop_cancels_a_pending_restart_and_is_left_alone(clock: Clock) -> None:
    server = Stand()
    watcher = Supervisor(lambda: [("postgres", server)])
    server.crash()
    watcher.check()
    server.stop()
    clock.now += MAX_BACKOFF_S
    watcher.check()
    assert server.starts == 0 and not server.running


def test_exit_reasons() -> None:
    assert exit_reason(-9) == "signal 9 (SIGKILL)"
    assert exit_reason(1) == "code 1"
