"""The layers of docs/architecture.md: imports go one way only, and each part of the app says what it may import."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
AGENT_PARTS = ("registry", "run", "exposition", "http", "workers", "findings", "quarterly", "demo")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (at any depth, even under TYPE_CHECKING), ``from agent import x`` as ``agent.x``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names if node.module in ("agent", "domain"))
    return names


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages each module under ``package`` imports."""
    return {
        str(path.relative_to(ROOT)): {name.split(".")[0] for name in imported_modules(path)}
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def part_of(module: str) -> str | None:
    """The part of the app (``agent.run``, ``agent.kinds``, …) a dotted module name lies in; None outside agent/."""
    parts = module.split(".")
    if parts[0] != "agent":
        return None
    return "agent" if len(parts) == 1 or parts[1].startswith("__") else f"agent.{parts[1]}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("domain", {"agent", "probes", "dashboards"}),
        ("probes", {"agent", "dashboards"}),
        ("dashboards", {"probes", "agent"}),
    ],
)
def test_a_layer_never_imports_the_layers_above_it(package: str, forbidden: set[str]) -> None:
    offenders = {
        module: sorted(names & forbidden) for module, names in imported_packages(package).items() if names & forbidden
    }
    assert offenders == {}


def test_domain_imports_the_standard_library_and_itself_only() -> None:
    offenders = {
        module: sorted(names - STDLIB - {"domain"})
        for module, names in imported_packages("domain").items()
        if names - STDLIB - {"domain"}
    }
    assert offenders == {}


def test_the_report_reads_nothing_of_the_app_but_itself() -> None:
    """agent/quarterly reads Prometheus; the configuration comes in as plain values (its ``Settings``)."""
    offenders = {}
    for path in sorted((ROOT / "agent/quarterly").rglob("*.py")):
        outside = {n for n in imported_modules(path) if part_of(n) not in (None, "agent.quarterly")}
        if outside:
            offenders[str(path.relative_to(ROOT))] = sorted(outside)
    assert offenders == {}


# What each part of the app may import of the others: the list the parts' docstrings and
# docs/architecture.md give.  A new arrow is a decision: add it here and in both texts.
ALLOWED = {
    "agent.registry": {"agent.kinds", "agent.limits", "agent.quarterly"},
    "agent.run": {"agent.registry", "agent.exposition", "agent.http", "agent.workers", "agent.kinds", "agent.limits"},
    "agent.exposition": {"agent.registry", "agent.run", "agent.workers", "agent.kinds", "agent.limits"},
    "agent.http": {"agent.registry", "agent.run", "agent.findings", "agent.quarterly"},
    "agent.workers": {
        "agent.registry",
        "agent.run",
        "agent.exposition",
        "agent.http",
        "agent.limits",
        "agent.logs",
    },
    "agent.findings": {"agent.registry"},
    "agent.quarterly": set(),
    "agent.demo": set(),
    "agent.kinds": {"agent.exposition", "agent.registry"},
    "agent.limits": set(),
    "agent.logs": {"agent.limits"},
}


def test_each_part_of_the_app_imports_only_what_its_docstring_says() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "agent").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        me = part_of(".".join(rel.parts))
        if me in (None, "agent", "agent.__init__", "agent.cli", "agent.__main__"):
            continue  # the command line wires everything
        assert me in ALLOWED, f"{rel}: a new part of the app; say in ALLOWED what it may import"
        # "agent" itself holds __version__ only: anyone may read it.
        bad = {
            p for n in imported_modules(path) if (p := part_of(n)) not in (None, "agent", me) and p not in ALLOWED[me]
        }
        if bad:
            offenders[str(rel)] = sorted(bad)
    assert offenders == {}


def test_every_part_of_the_app_says_what_it_owns() -> None:
    for part in AGENT_PARTS:
        doc = ast.get_docstring(ast.parse((ROOT / "agent" / part / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"agent/{part}/__init__.py needs a docstring saying what it owns"


def test_the_check_sees_the_imports_it_forbids() -> None:
    # agent/ imports probes/ and domain/, and the report imports its own modules: the walk must find
    # them, or the tests above prove nothing.
    seen = set().union(*imported_packages("agent").values())
    assert {"probes", "domain"} <= seen
    report = set().union(*(imported_modules(p) for p in (ROOT / "agent/quarterly").rglob("*.py")))
    assert "agent.quarterly.engine" in report and part_of("agent.registry.config") == "agent.registry"
