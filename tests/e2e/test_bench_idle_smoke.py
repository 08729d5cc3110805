"""`python -m bench.run --scenario idle --quick` runs end to end.

Only the report's shape is checked (both modes measured, the load phase ran
without errors, RSS sampled); the numbers depend on the machine, so no
threshold is asserted on them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_quick_idle_benchmark_reports_cpu_and_memory_of_both_modes(tmp_path: Path) -> None:
    proc = subprocess.run(
        # A 1 s idle window (--quick's is 6 s per mode): the shape is the
        # same, and the numbers are not checked.
        [sys.executable, "-m", "bench.run", "--scenario", "idle", "--quick", "--window", "1",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith(("| embedded |", "| external |"))]
    assert len(rows) == 2, proc.stdout
    assert all(len(row.strip("|").split("|")) == 8 for row in rows), rows
    written = re.search(r"results written to (\S+\.json)", proc.stdout)
    assert written, proc.stdout[-2000:]
    result = json.loads(Path(written.group(1)).read_text())
    modes = {m["mode"]: m for m in result["modes"]}
    assert set(modes) == {"embedded", "external"}
    for m in modes.values():
        assert m["cpu_s_per_min"] >= 0 and m["backends_cpu_s_per_min"] >= 0
        assert m["idle_VmRSS"] > 0 and m["idle_VmHWM"] >= m["idle_VmRSS"]
    load = modes["external"]["load"]
    assert load["calls"] > 0 and load["errors"] == 0, load
    assert load["samples"] and all(s["VmRSS"] > 0 for s in load["samples"])
    assert isinstance(load["rss_growth_mb"], float)
    assert "load" not in modes["embedded"]
