"""The wheel the container installs carries the data files the agent reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_has_the_division_table_and_the_dictionary(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("xuncha-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {str(p.relative_to(ROOT)) for d in ("domain/data", "probes/data") for p in (ROOT / d).iterdir()}
    assert shipped and shipped <= names, shipped - names
    assert {"agent/demo/fleet.py", "dashboards/rules.py", "probes/content_probe.py"} <= names
