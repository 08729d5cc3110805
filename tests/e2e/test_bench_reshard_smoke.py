"""`python -m bench.run --scenario reshard --quick` runs end to end.

Only what the run did is checked (both copies copied the range, the verify
was clean, every cutover landed and was timed from both sides, no confirmed
order is missing, the range left the source); the numbers depend on the
machine, so no threshold is asserted on them.
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


def test_quick_reshard_benchmark_moves_the_range_and_times_every_cutover(
        tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scenario", "reshard", "--quick",
         "--orders", "4000", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    written = re.search(r"results written to (\S+\.json)", proc.stdout)
    assert written, proc.stdout[-2000:]
    result = json.loads(Path(written.group(1)).read_text())
    assert result["load"]["rows"]["orders"] == 4000
    moved = result["copy"]["first_verify"]["rows"]
    assert result["copy"]["first_verify"]["clean"] and moved["orders"] > 0
    # The baseline copied the range too, a little before the workflow (orders
    # placed in between are in the workflow's copy only).
    assert 0 < result["plain_copy"]["copied"]["orders"] <= result["copy"]["copied"]["orders"]
    assert result["catch_up"]["drain_after_load_stop_s"] >= 0
    cutovers = result["cutovers"]
    assert [c["action"] for c in cutovers] == ["switch", "reverse", "switch"]
    assert [(c["from"], c["to"]) for c in cutovers] == [(0, 2), (2, 0), (0, 2)]
    for c in cutovers:
        assert c["verify_clean"] and c["pause_ms"] > 0 and c["client_longest_gap_ms"] > 0, c
    check = result["check"]
    assert check["orders_confirmed"] > 0 and check["confirmed_orders_missing"] == 0
    assert check["range_rows_left_on_source"] == 0
    assert result["latency"]["before the move"]["ok"] > 0
    assert "| plain binary COPY" in proc.stdout and "server pause ms" in proc.stdout


def test_quick_fence_benchmark_runs_both_modes(tmp_path: Path) -> None:
    """`--scenario fence --quick`: both modes ran every round (what ran, not
    the timings)."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scenario", "fence", "--quick",
         "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    written = re.search(r"results written to (\S+\.json)", proc.stdout)
    assert written, proc.stdout[-2000:]
    result = json.loads(Path(written.group(1)).read_text())
    rounds = result["plan"]["rounds"]
    assert len(result["rounds"]["fenced"]) == len(result["rounds"]["unfenced"]) == rounds
    assert all(r["tx_per_s"] > 0 for mode in result["rounds"].values() for r in mode)
    assert "| fence on" not in proc.stdout and "| fenced |" in proc.stdout
