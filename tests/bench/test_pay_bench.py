"""Smoke run of bench/pay_bench.py against the test platform: it runs, measures every
figure it promises and draws its chart. Only that it reports; its numbers are not judged
here (a timed assertion in a test would be a defect; the bench gives ratios in one run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from launcher.platform import Platform

ROOT = Path(__file__).resolve().parents[2]


def test_pay_bench_runs_and_reports_every_figure(
    platform: Platform, merchant_a: dict[str, str], tmp_path: Path
) -> None:
    chart, figures = tmp_path / "bench.png", tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench.pay_bench", "--data-dir", str(platform.data_dir)]
    command += ["--api-key", merchant_a["api_key"], "--clients", "1,2", "--seconds", "1.5"]
    command += ["--delay-ms", "5", "--chart", str(chart), "--json", str(figures), "--profile", "1"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "REST vs gRPC through Envoy" in run.stdout

    result = json.loads(figures.read_text())
    assert [level["clients"] for level in result["levels"]] == [1, 2]
    for level in result["levels"]:
        assert level["rate"] > 0 and level["errors"] == 0, level
        assert level["floor_rate"] > 0 and level["floor_errors"] == 0, level
        assert {"order", "temporal", "gateway (envoy)", "processor_razorpay"} <= set(level["cpu_ms_per_payment"])
        assert level["commits_per_payment"] > 0
        # Every payment is a Temporal workflow: its steps are local activities in one task.
        assert level["history"]["local_activities"] >= 3, level["history"]
    assert result["rest_vs_grpc"]["rest_p50_ms"] > 0 and result["rest_vs_grpc"]["grpc_p50_ms"] > 0
    assert chart.read_bytes().startswith(b"\x89PNG")
    # The profiled run splits each Python component's CPU by the library it went to.
    order = result["profile"]["components"]["order"]
    assert order["cpu_ms_per_payment"] > 0
    # Which libraries a second of sampling catches varies (tests/bench/test_profile.py checks
    # the charging itself); here only that samples were charged and the rest ran without the GIL.
    sampled = {library: ms for library, ms in order["by_library_ms"].items() if library != "(no GIL)"}
    assert sampled and all(ms > 0 for ms in sampled.values()), order
    assert order["by_library_ms"]["(no GIL)"] >= 0, order
    assert "Where the CPU goes" in run.stdout


def test_db_overhead_bench_runs_and_reports_each_variant(platform: Platform) -> None:
    command = [sys.executable, "-m", "bench.db_overhead", "--database-url", platform.database_libpq_url]
    run = subprocess.run([*command, "--transactions", "20"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    variants = ("read: psycopg, pooled (repository)", "read: SQLAlchemy Core", "read: SQLAlchemy ORM")
    for variant in (*variants, "insert: psycopg, pooled (repository)", "insert: SQLAlchemy ORM"):
        assert variant in run.stdout, run.stdout
    assert "x psycopg" in run.stdout


def test_converter_bench_runs_and_reports_both_converters() -> None:
    command = [sys.executable, "-m", "bench.converter_bench", "--decodes", "50"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "SDK default" in run.stdout and "PayLoops" in run.stdout and "x the SDK default" in run.stdout
