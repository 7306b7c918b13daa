"""The benchmark still runs and reports its ratios (it asserts no time: that is for people)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_runs_and_reports_ratios_against_its_peers() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_tracing_overhead.py", "--number", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    for title in ("tracing off", "tracing on", "HTTP pipeline per request"):
        assert title in out
    for peer in ("plain method call", "hand-wired OpenTelemetry span", "transport alone"):
        assert f"(ratio against: {peer}" in out
    assert out.count("1.00x") >= 3


def test_kvp_benchmark_runs_quickly_and_prints_its_tables() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_kvp.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = result.stdout
    assert "Writer throughput: 300 records" in out
    assert "naive: open, flock, lockf, write, close per record" in out
    assert "ours: KvpWriter" in out and "floor: records pre-encoded" in out
    assert "(ratios against: the naive writer" in out
    for row in ("the caller's thread alone", "writer thread running too", "span dropped by the"):
        assert f"+ KvpSpanProcessor: {row}" in out
    assert "SDK provider, no processor" in out and "span records written" in out
