"""Runs `datagw serve --ephemeral` as users do: a subprocess on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GatewayProcess:
    process: subprocess.Popen[str]
    port: int
    banner: list[str]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def gateway_process(
    data_dir: Path, *extra: str, ephemeral: bool = True
) -> Iterator[GatewayProcess]:
    port = free_port()
    env = dict(os.environ, DATAGW_LOGGING__LEVEL="warning")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.runtime.cli", "serve",
         *(["--ephemeral"] if ephemeral else []),
         "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}", "--metrics-listen", "",
         *extra],
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
        yield GatewayProcess(process, port, banner)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
