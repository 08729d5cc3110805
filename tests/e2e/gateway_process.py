"""Runs `datagw serve --ephemeral` as users do: a subprocess on a free port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STARTUP_TIMEOUT_S = 90.0
_WORKER_LINE = re.compile(r"datagw worker (\d+) serving \(pid (\d+)\)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GatewayProcess:
    process: subprocess.Popen[str]
    port: int
    banner: list[str]
    # With --workers N: the pid of each worker after the first (the process).
    worker_pids: dict[int, int] = field(default_factory=dict)

    def next_worker_line(self) -> tuple[int, int]:
        """Wait for the next "datagw worker I serving (pid P)" line: (I, P)."""
        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("datagw exited:\n" + "".join(self.banner))
            self.banner.append(line)
            found = _WORKER_LINE.match(line)
            if found is not None:
                index, pid = int(found.group(1)), int(found.group(2))
                self.worker_pids[index] = pid
                return index, pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def gateway_process(
    data_dir: Path, *extra: str, ephemeral: bool = True, workers: int = 1,
    port: int | None = None, env: Mapping[str, str] | None = None,
) -> Iterator[GatewayProcess]:
    """`workers`: with more than one, waits until every worker serves.
    `port`: a given one (to restart a gateway where its clients dial), else a free one.
    `env`: the process's environment (default: this one's)."""
    port = port or free_port()
    env = dict(os.environ if env is None else env, DATAGW_LOGGING__LEVEL="warning")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.runtime.cli", "serve",
         *(["--ephemeral"] if ephemeral else []),
         "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}", "--metrics-listen", "",
         *(["--workers", str(workers)] if workers > 1 else []), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    banner: list[str] = []
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("datagw exited during start-up:\n" + "".join(banner))
            banner.append(line)
            if line.startswith("  clickhouse"):  # the last backend line of the start-up banner
                break
        else:
            raise RuntimeError("datagw did not start in time:\n" + "".join(banner))
        gw = GatewayProcess(process, port, banner)
        while len(gw.worker_pids) < workers - 1:
            gw.next_worker_line()
        yield gw
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
