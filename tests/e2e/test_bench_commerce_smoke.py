"""`python -m bench.run --scenario orders --quick` runs end to end and reports every row.

Only the shape of the report and what the runs did are checked (every phase
has successful requests and positive latencies, each gateway row has its ratio
to the baseline, read_your_writes reads were served by a replica, the scatter
returned the baseline's page); the numbers depend on the machine, so no
threshold is asserted on them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# (scenario, target, concurrency) of every row the report must have.
ROWS = [
    ("CreateOrder, 3 items", "direct asyncpg", "32"),
    ("CreateOrder, 3 items", "gateway", "32"),
    *[("GetOrder", target, c) for c in ("1", "32")
      for target in ("direct asyncpg, primary", "gateway, strong", "direct asyncpg, replica",
                     "gateway, read_your_writes")],
    *[(f"ListOrders scatter, {page}", target, "1")
      for page in ("first page", "page 6 (after 5 pages)", "first page, status placed")
      for target in ("direct asyncpg", "gateway")],
]
COLUMNS = 15


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    results = tmp_path_factory.mktemp("bench-orders")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--scenario", "orders", "--quick",
         "--results-dir", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    written = re.search(r"results written to (\S+\.json)", proc.stdout)
    assert written, proc.stdout[-2000:]
    assert Path(written.group(1)).parent == results
    return proc.stdout, json.loads(Path(written.group(1)).read_text())


def _table_rows(out: str) -> dict[tuple[str, str, str], list[str]]:
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == COLUMNS and cells[2].isdigit():
            rows[(cells[0], cells[1], cells[2])] = cells
    return rows


def test_every_scenario_has_its_gateway_and_baseline_rows_with_positive_numbers(
    report: tuple[str, dict[str, Any]],
) -> None:
    out, _ = report
    rows = _table_rows(out)
    assert set(rows) == set(ROWS), f"rows differ:\n{out}"
    for key, cells in rows.items():
        requests, errors, rps, p50, p95, p99 = cells[3:9]
        assert int(requests) > 0 and int(errors) == 0, f"{key}: {cells}"
        assert float(rps) > 0, f"{key}: {cells}"
        assert 0 < float(p50) <= float(p95) <= float(p99), f"{key}: {cells}"
        if key[1].startswith("gateway"):
            for ratio in cells[9:11]:
                assert re.fullmatch(r"\d+\.\d\d", ratio) and float(ratio) > 0, f"{key}: {cells}"
        else:
            assert cells[9] == cells[10] == "-", f"{key}: a baseline has no ratio"
    for word in ("CPUs:", "grpcio", "## Goals", "orders/s"):
        assert word in out


def test_the_runs_did_what_the_rows_say(report: tuple[str, dict[str, Any]]) -> None:
    _, result = report
    assert all(p["errors"] == 0 and p["requests"] > 0 for p in result["phases"])
    create = result["create"]["checks"]
    # Both shards took orders, and every saga of both paths finished.
    assert len(create["orders_per_shard"]) == 2 and min(create["orders_per_shard"]) > 0
    assert create["sagas_not_completed"] == 0 and create["units_left_reserved"] == 0
    # The baseline ran the gateway's statements: the same rows in every table per order.
    work = {p["target"]: p["db_work"] for p in result["phases"] if p["db_work"]}
    assert work["gateway"]["commerce.orders rows"] == 1.0
    assert work["gateway"]["commerce.order_items rows"] == 3.0
    assert work["gateway"]["inventory.reservations rows"] == 1.0
    assert work["gateway"] == work["direct asyncpg"]
    for route in result["get"]["routes"]:
        if route["level"] == "strong":
            assert route["replica"] == 0 and route["primary"] > 0, route
        else:
            assert route["replica"] > 0, route
    assert result["get"]["route_counters_at_end"]["orders/read_your_writes/replica"] > 0
    assert result["scatter"]["load"]["orders"] > 0
    assert all(result["scatter"]["same_page_as_baseline"].values()), result["scatter"]
    assert {g["goal"].split(" ")[0] for g in result["goals"]} == {"CreateOrder"}
