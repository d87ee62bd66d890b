"""Smoke run of bench/router_bench.py against the test platform's Redis: it starts its
routers, measures every figure it promises and stops. Its numbers are not judged here (a
timed assertion in a test would be a defect; the bench gives ratios in one run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from launcher.platform import Platform

ROOT = Path(__file__).resolve().parents[2]


def test_router_bench_runs_and_reports_every_figure(platform: Platform, tmp_path: Path) -> None:
    figures = tmp_path / "router.json"
    command = [sys.executable, "-m", "bench.router_bench", "--redis-url", platform.redis_url]
    command += ["--rate", "100", "--seconds", "1", "--decisions", "200", "--json", str(figures)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "per decision" in run.stdout and "x no-op" in run.stdout
    result = json.loads(figures.read_text())
    assert set(result["evaluator"]) == {"static rule", "success-rate rule"}
    assert set(result["rpc"]) == {
        "no-op RPC (health check)",
        "Route, static rule",
        "Route, success-rate rule",
        "Route, success-rate rule, Redis every decision",
    }
    for figure in result["rpc"].values():
        assert figure["errors"] == 0 and figure["calls"] >= 100 and 0 < figure["p50"] <= figure["p99"], figure
