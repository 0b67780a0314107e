"""The layers of docs/architecture.md: imports go one way only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of ``package`` imports (at any depth, even under TYPE_CHECKING)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", {"agent", "probes", "dashboards"}),
        ("probes", {"agent", "dashboards"}),
        ("dashboards", {"probes"}),
    ],
)
def test_a_layer_never_imports_the_layers_above_it(package: str, forbidden: set[str]) -> None:
    offenders = {
        module: sorted(names & forbidden) for module, names in imported_packages(package).items() if names & forbidden
    }
    assert offenders == {}


def test_the_check_sees_the_imports_it_forbids() -> None:
    # agent/ imports probes/ and domain/: the walk must find them, or the test above proves nothing.
    seen = set().union(*imported_packages("agent").values())
    assert {"probes", "domain"} <= seen
