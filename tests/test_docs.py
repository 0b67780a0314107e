"""The docs stay true: every metric of the contract is in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

from domain import metric_names as m

ROOT = Path(__file__).resolve().parents[1]


def contract_names() -> set[str]:
    return {
        v
        for k, v in vars(m).items()
        if k.isupper() and isinstance(v, str) and v.startswith("xuncha_") and k != "PREFIX"
    }


def test_every_metric_name_is_in_the_readme_table() -> None:
    documented = set(re.findall(r"^\| `(xuncha_[a-z_]+)`", (ROOT / "README.md").read_text(), re.M))
    assert contract_names() - documented == set(), "metrics missing from README's table"
    assert documented - contract_names() == set(), "README documents metrics the agent does not define"


def test_the_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "run"], ["make", "test"]]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_the_readme_table_of_probe_kinds_is_the_declared_one() -> None:
    from agent.kinds import KINDS
    from domain.durations import format_duration

    text = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z]+)` \| (site|account) \| (\S+) \| (.+?) \|$", text, re.M)
    declared = [(k.name, k.target.__name__.lower(), format_duration(k.interval), k.summary) for k in KINDS.values()]
    assert rows == declared


def test_the_architecture_doc_names_every_package_and_the_kind_registry() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    for name in ("domain/", "probes/", "agent/", "dashboards/", "agent/kinds.py", "tests/test_layers.py"):
        assert name in text


def test_the_readme_counts_the_demo_fleet_as_it_is() -> None:
    import yaml

    from agent.demo.feeds import demo_accounts
    from agent.demo.fleet import demo_sites

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    sites, accounts = len(demo_sites()), len(yaml.safe_load(demo_accounts("http://127.0.0.1:1")))
    assert re.search(rf"the demo: {sites} sites and {accounts} accounts", text)
    assert f"The demo fleet is {sites} sites" in text
