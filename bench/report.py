"""Statistics, machine info and the Markdown/JSON output of a run."""

from __future__ import annotations

import math
import os
import platform
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.load import PhaseRun


def percentile(sorted_ns: list[int], p: float) -> float:
    """Nearest-rank percentile in milliseconds."""
    if not sorted_ns:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_ns)))
    return sorted_ns[rank - 1] / 1e6


@dataclass
class PhaseResult:
    scenario: str
    target: str
    concurrency: int
    requests: int
    errors: int
    wall_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_cpu_us: float | None = None
    ratio_p50: float | None = None
    ratio_p99: float | None = None

    @classmethod
    def of(cls, scenario: str, target: str, concurrency: int, run: PhaseRun,
           cpu_s: float | None = None) -> PhaseResult:
        lat = sorted(run.latencies_ns)
        return cls(
            scenario=scenario, target=target, concurrency=concurrency, requests=len(lat),
            errors=sum(run.errors.values()), wall_s=round(run.wall_s, 3),
            rps=round(len(lat) / run.wall_s, 1) if run.wall_s > 0 else math.nan,
            p50_ms=round(percentile(lat, 50), 3), p95_ms=round(percentile(lat, 95), 3),
            p99_ms=round(percentile(lat, 99), 3),
            server_cpu_us=round(cpu_s / len(lat) * 1e6) if cpu_s is not None and lat else None,
        )

    def against(self, echo: PhaseResult) -> PhaseResult:
        self.ratio_p50 = round(self.p50_ms / echo.p50_ms, 2)
        self.ratio_p99 = round(self.p99_ms / echo.p99_ms, 2)
        return self


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: list[PhaseResult]) -> str:
    lines = [
        "| scenario | target | concurrency | requests | req/s | p50 ms | p95 ms | p99 ms "
        "| p50 / echo | p99 / echo | server CPU us/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cpu = "-" if r.server_cpu_us is None else f"{r.server_cpu_us:.0f}"
        lines.append(
            f"| {r.scenario} | {r.target} | {r.concurrency} | {r.requests} | {r.rps:.0f} "
            f"| {r.p50_ms:.3f} | {r.p95_ms:.3f} | {r.p99_ms:.3f} "
            f"| {_fmt(r.ratio_p50)} | {_fmt(r.ratio_p99)} | {cpu} |"
        )
    return "\n".join(lines)


def kind_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| query kind | requests | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['kind']} | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
                     f"| {r['p99_ms']:.1f} | {r['max_ms']:.1f} |")
    return "\n".join(lines)


def machine_info(extra: dict[str, str]) -> dict[str, Any]:
    import google.protobuf
    import grpc

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = m.group(1).strip() if m else cpu
    mem_gib = math.nan
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        m = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        mem_gib = round(int(m.group(1)) / 1024 / 1024, 1) if m else mem_gib
    return {
        "load_average_1m_5m_15m": [round(x, 2) for x in os.getloadavg()],
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "protobuf": google.protobuf.__version__,
        **extra,
    }


def as_json(obj: Any) -> Any:
    if isinstance(obj, PhaseResult):
        return asdict(obj)
    if isinstance(obj, list):
        return [as_json(o) for o in obj]
    if isinstance(obj, dict):
        return {k: as_json(v) for k, v in obj.items()}
    return obj


def machine_section(result: dict[str, Any], clients: str, extra: str = "") -> list[str]:
    """The "## Machine" lines every benchmark report starts with."""
    m = result["machine"]
    return [
        "## Machine",
        "",
        f"- CPUs: {m['nproc']} x {m['cpu_model']}; memory {m['memory_gib']} GiB; "
        f"kernel {m['kernel']}",
        f"- Python {m['python']}, grpcio {m['grpcio']}, protobuf {m['protobuf']}",
        f"- {clients}",
        f"- gateway source: {result['source_at_start']} (at the end: {result['source_at_end']})",
        f"- load average (1m 5m 15m) at start {result['load_average_at_start']}, at end "
        f"{m['load_average_1m_5m_15m']}{extra}",
        "",
    ]
