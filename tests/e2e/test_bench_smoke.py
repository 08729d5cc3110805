"""`python -m bench.run --quick` runs end to end and prints its results table.

Only the shape of the output is checked: the numbers depend on the machine,
so no threshold is asserted on them.
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
SCENARIOS = (
    "echo GetProduct",
    "GetProduct cache hit",
    "GetProduct cache miss",
    "GetProduct strong",
    "echo SearchProducts",
    "SearchProducts uncached",
    "SearchProducts cached",
    "echo SuggestProducts",
    "SuggestProducts",
    "echo GetProduct + gateway interceptor",
    "echo GetProduct + 1 Redis MGET",
)


def test_quick_benchmark_prints_every_scenario_next_to_the_echo_baseline(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--results-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 11 and cells[0] in SCENARIOS:
            rows[(cells[0], cells[2])] = cells
    for scenario in SCENARIOS:
        assert any(name == scenario for name, _ in rows), f"no row for {scenario!r}:\n{out}"
    for concurrency in ("1", "32"):
        assert ("echo GetProduct", concurrency) in rows
        assert ("GetProduct cache hit", concurrency) in rows
    for (name, _), cells in rows.items():
        assert int(cells[3]) > 0, f"{name}: no successful request"
        if name in ("echo GetProduct", "echo SearchProducts", "echo SuggestProducts"):
            assert cells[8] == "-"
        else:
            assert re.fullmatch(r"\d+\.\d\d", cells[8]), f"{name}: no ratio to the echo baseline"
    assert "ImportProducts:" in out and "rows/s" in out and "direct COPY" in out
    for word in ("CPUs:", "grpcio", "Python"):
        assert word in out

    written = re.search(r"results written to (\S+\.json)", out)
    assert written, out[-2000:]
    assert Path(written.group(1)).parent == tmp_path
    result = json.loads(Path(written.group(1)).read_text())
    assert {p["scenario"] for p in result["phases"]} == set(SCENARIOS)
    assert all(p["errors"] == 0 for p in result["phases"])
    assert result["machine"]["grpcio"]
    assert result["import"]["copy_baseline"]["rows_per_s"] > 0
