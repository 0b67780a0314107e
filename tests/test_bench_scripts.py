"""The benchmarks are not tests, but they must keep running: each script starts and prints its usage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(p for p in BENCH.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_a_benchmark_script_imports_and_prints_its_usage(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()


def test_the_scrape_cost_benchmark_runs_on_a_small_registry() -> None:
    """It reads the collector's view of an agent: a change there (issue 12) broke it unseen."""
    done = subprocess.run(
        [sys.executable, str(BENCH / "scrape_cost.py"), "--sites", "60", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "gzip body as served" in done.stdout and "cold scrape" in done.stdout
