"""The servers under test, each in its own process: the gateway and the echo baseline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gateway.runtime.embedded.secrets import EmbeddedSecrets

STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0


@dataclass
class ServerProcess:
    name: str
    process: subprocess.Popen[str]
    port: int
    banner: list[str]
    _output: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process itself and, with
        `--workers N`, of its other workers (not of its backends)."""
        own = _cpu_of(self.process.pid)
        if own is None:
            return None
        return own + sum(_cpu_of(pid) or 0.0 for pid in self.worker_pids())

    def worker_pids(self) -> list[int]:
        """The gateway's other workers (`serve --workers N`), now."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children if b"gateway.runtime.worker_group" in _cmdline(int(c))]

    def output(self) -> str:
        return "".join(self._output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _cpu_of(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start(name: str, argv: list[str], ready: str, port_pattern: str,
          env: dict[str, str] | None = None) -> ServerProcess:
    """Start argv, wait for a line starting with `ready` and for the port line.

    Output is drained by a thread for the life of the process so a chatty
    server never blocks on a full pipe.
    """
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, **(env or {})), cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    lines: list[str] = []
    port: list[int] = []
    seen_ready = threading.Event()
    got_port = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(ready):
                seen_ready.set()
            m = re.search(port_pattern, line)
            if m and not port:
                port.append(int(m.group(1)))
                got_port.set()

    threading.Thread(target=drain, name=f"{name}-output", daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if seen_ready.is_set() and got_port.is_set():
            # A moment for the rest of the banner (backend lines) to arrive.
            time.sleep(0.2)
            return ServerProcess(name, process, port[0], list(lines), lines)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"{name} did not start:\n" + "".join(lines))


def start_gateway(data_dir: Path) -> ServerProcess:
    return start(
        "gateway",
        [sys.executable, "-m", "gateway.runtime.cli", "serve", "--ephemeral",
         "--listen", "127.0.0.1:0", "--metrics-listen", "", "--data-dir", str(data_dir)],
        ready="datagw serving", port_pattern=r"grpc plaintext on [\d.]+:(\d+)",
        env={"DATAGW_LOGGING__LEVEL": "warning"},
    )


def start_echo(get_file: Path, search_file: Path, *, suggest_file: Path | None = None,
               interceptor: bool = False, redis_url: str | None = None) -> ServerProcess:
    name = "echo + interceptor" if interceptor else "echo + Redis MGET" if redis_url else "echo"
    return start(
        name,
        [sys.executable, "-m", "bench.echo", "--listen", "127.0.0.1:0",
         "--get", str(get_file), "--search", str(search_file),
         *(["--suggest", str(suggest_file)] if suggest_file else []),
         *(["--interceptor"] if interceptor else []),
         *(["--redis-mget"] if redis_url else [])],
        ready="echo serving", port_pattern=r"echo serving on [\d.]+:(\d+)",
        # The environment, not argv: `ps` shows argv, and the URL has a password.
        env={"BENCH_REDIS_URL": redis_url} if redis_url else None,
    )


def embedded_secrets(banner: list[str]) -> EmbeddedSecrets:
    """The passwords of the gateway's embedded servers, found where its banner says."""
    for line in banner:
        m = re.search(r"passwords \(0600\) in (\S+): ", line)
        if m:
            return EmbeddedSecrets(Path(m.group(1)).parent)
    raise RuntimeError("no passwords line in the gateway banner:\n" + "".join(banner))


def backend_port(banner: list[str], backend: str) -> int:
    """The port of the embedded `postgres` or `valkey` from the gateway's banner."""
    for line in banner:
        m = re.search(rf"{backend} \S+ at [\d.]+:(\d+)", line)
        if m:
            return int(m.group(1))
    raise RuntimeError(f"no {backend} line in the gateway banner:\n" + "".join(banner))
