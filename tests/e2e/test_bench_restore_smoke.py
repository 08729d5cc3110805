"""`python -m bench.run --scenario restore --quick` runs end to end.

Only what the run did is checked (a base backup of every server, both
restores left marker A and not B where they restored, the gateway started
on each restored data dir); the numbers depend on the machine, so no
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


def test_quick_restore_benchmark_restores_a_shard_and_everything(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scenario", "restore", "--quick",
         "--orders", "4000", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    written = re.search(r"results written to (\S+\.json)", proc.stdout)
    assert written, proc.stdout[-2000:]
    result = json.loads(Path(written.group(1)).read_text())
    assert result["load"]["rows"]["orders"] == 4000
    assert set(result["backup"]["servers"]) == {"postgres", "shard-0", "shard-1"}
    assert result["one_shard"]["marks"] == [["A", "B"], ["A"]]
    assert result["everything"]["marks"] == [["A"], ["A"]]
    for run in (result["one_shard"], result["everything"]):
        assert run["restore_s"] > 0 and run["gateway_start_s"] > 0
        assert any("recovery stopping before commit" in line
                   for line in run["output"]), run["output"]
    assert "| every server |" in proc.stdout
    # Once the start reconciled the stores and the relay and projections
    # settled, verify finds nothing, sampled or exhaustive.
    assert {mode: v["exit_code"] for mode, v in result["verify"].items()} == {
        "sample": 0, "exhaustive": 0}, result["verify"]
