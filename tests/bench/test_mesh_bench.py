"""Smoke run of bench/mesh_bench.py: it measures every variant it promises and stops.
Its numbers are not judged here (the bench gives ratios in one run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mesh_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    figures = tmp_path / "mesh.json"
    command = [sys.executable, "-m", "bench.mesh_bench", "--calls", "100", "--connects", "5", "--json", str(figures)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(figures.read_text())
    assert set(result) == {"before: plaintext", "mutual TLS, no call policy", "the mesh: mutual TLS + call policy"}
    for variant in result.values():
        assert set(variant) == {"call on a warm channel", "new connection"}
        for cut in variant.values():
            assert 0 < cut["p50_ms"] <= cut["p99_ms"] and cut["p50_ratio"] > 0, cut
