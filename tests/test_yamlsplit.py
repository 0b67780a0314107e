"""A large registry parsed in pieces (agent.registry.yamlsplit): the same document, or no cut at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.registry import config, parsecache, yamlsplit
from agent.registry.config import ConfigError, load
from agent.registry.yamlsafe import safe_load


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    # the production sizes (8,000 items a piece) made small, so a test document has many pieces
    monkeypatch.setattr(yamlsplit, "CHUNK_ITEMS", 7)
    monkeypatch.setattr(yamlsplit, "MIN_ITEMS", 14)
    monkeypatch.setattr(parsecache, "MIN_BYTES", 0)


def parse_one(text: str) -> object:
    return safe_load(text, loader=config._Loader)


def registry(sites: int = 30, accounts: int = 40, *, zero_indent: bool = False) -> str:
    """Every way our users write an item: flow and block mappings, comments and blank lines
    between items, quoted text with ``- `` in it, block scalars, columns nested in a site."""
    out = ["# 全国政府网站\nlisten: 127.0.0.1:9725\nfeeds: {rsshub: 'http://rsshub.internal:1200'}\n", "sites:\n"]
    for i in range(sites):
        code = f"44050700{i:02d}"
        if i % 3 == 0:
            out.append(f"  - {{code: '{code}', name: 站点{i}, url: 'https://s{i}.gov.cn/'}}\n")
        elif i % 3 == 1:
            out.append(
                f"  # 第{i}个\n\n  - code: '{code}'\n    name: \"站点 - {i}\"\n    url: https://s{i}.gov.cn/\n"
                f"    columns:\n      - {{name: 通知公告, url: 'https://s{i}.gov.cn/tzgg/'}}\n"
                f"      - name: 领导信箱\n        url: https://s{i}.gov.cn/ldxx/\n        category: interaction\n"
            )
        else:
            out.append(
                f"  - code: '{code}'\n    name: >-\n      站点{i}\n      - 不是新的一项\n    url: https://s{i}.gov.cn/\n"
            )
    out.append("accounts:\n")
    dash = "- " if zero_indent else "  - "
    more = "  " if zero_indent else "    "
    for i in range(accounts):
        out.append(f"{dash}id: a{i}\n{more}unit: 潮州市公安局\n{more}platform: weibo\n{more}name: '平安潮州 - {i}'\n")
        out.append(f"{more}uid: '{1000 + i}'\n")
    out.append("intervals: {http: 5m}\n")
    return "".join(out)


@pytest.mark.parametrize("zero_indent", [False, True])
def test_pieces_give_the_document_the_whole_text_gives(zero_indent: bool) -> None:
    text = registry(zero_indent=zero_indent)
    plan = yamlsplit.plan(text)
    assert plan is not None and len(plan.pieces["sites"]) == 5 and len(plan.pieces["accounts"]) == 6
    assert yamlsplit.parse(plan, parse_one, {}) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: "%YAML 1.1\n---\n" + t, id="a directive and a document marker"),
        pytest.param(lambda t: t.replace("    name: \"站点 - 1\"", " name: \"站点 - 1\"", 1), id="a line less indented"),
        pytest.param(lambda t: t.replace("  # 第1个\n", "  note: 1\n", 1), id="not an item at the items' indent"),
        pytest.param(lambda t: t.replace("    platform: weibo", "\tplatform: weibo", 1), id="a tab"),
    ],
)  # fmt: skip
def test_a_text_it_is_not_sure_of_is_not_cut(change: object) -> None:
    assert yamlsplit.plan(change(registry())) is None  # type: ignore[operator]


def test_a_section_written_twice_is_left_whole() -> None:
    text = registry() + "sites:\n  - {code: '4405070099', name: x, url: 'https://x.gov.cn/'}\n"
    plan = yamlsplit.plan(text)
    assert plan is not None and "sites" not in plan.pieces  # not cut: PyYAML decides which one counts
    assert yamlsplit.parse(plan, parse_one, {}) == yaml.safe_load(text)


def test_an_alias_across_pieces_or_a_string_over_an_item_parses_the_whole_text(tmp_path: Path) -> None:
    text = registry().replace("url: 'https://s0.gov.cn/'", "url: &home 'https://s0.gov.cn/'", 1)
    text = text.replace("url: https://s29.gov.cn/", "url: *home", 1)  # in the last piece of sites
    plan = yamlsplit.plan(text)
    assert plan is not None and yamlsplit.parse(plan, parse_one, {}) is None
    path = tmp_path / "xuncha.yml"
    path.write_text(text, encoding="utf-8")
    cfg = load(path, parse_cache=True, state_dir=str(tmp_path / "state"))
    assert cfg.sites[29].url == "https://s0.gov.cn/"  # the whole text, parsed as one, as before


def test_a_syntax_error_in_a_piece_is_reported_with_the_files_line(tmp_path: Path) -> None:
    text = registry()
    lines = text.splitlines(keepends=True)
    bad = next(i for i, line in enumerate(lines) if "id: a35" in line)
    lines[bad] = "  - id: [a35\n"
    path = tmp_path / "xuncha.yml"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load(path, parse_cache=True, state_dir=str(tmp_path / "state"))
    with pytest.raises(yaml.YAMLError) as whole:
        yaml.safe_load("".join(lines))
    mark = whole.value.problem_mark  # type: ignore[attr-defined]
    assert f"line {mark.line + 1}" in str(e.value.issues[0])


def test_after_an_edit_only_the_changed_piece_is_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = tmp_path / "xuncha.yml", tmp_path / "state"
    text = registry()
    path.write_text(text, encoding="utf-8")
    first = load(path, parse_cache=True, state_dir=str(state))
    parsed: list[str] = []
    real = yamlsplit._parse_all

    def spy(texts: list[str], one: Callable[[str], Any]) -> list[Any]:
        parsed.extend(texts)
        return real(texts, one)

    monkeypatch.setattr(yamlsplit, "_parse_all", spy)
    path.write_text(text.replace("name: '平安潮州 - 33'", "name: '平安潮州 - 改名'"), encoding="utf-8")
    again = load(path, parse_cache=True, state_dir=str(state))
    assert len(parsed) == 1 and "平安潮州 - 改名" in parsed[0]
    assert again.accounts[33].name == "平安潮州 - 改名"
    assert again.accounts[:33] == first.accounts[:33] and again.sites == first.sites
    # the pieces of the file before the edit that it no longer has are gone; the rest are kept
    pieces = [p for p in (state / parsecache.DIRECTORY).iterdir() if p.name.startswith("piece-")]
    assert len(pieces) == 11


def test_in_processes_the_same_as_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    text = registry(60, 90)
    plan = yamlsplit.plan(text)
    assert plan is not None
    monkeypatch.setattr(yamlsplit, "_cores", lambda: 2)
    pooled = yamlsplit.parse(plan, parse_one, {})
    monkeypatch.setattr(yamlsplit, "_cores", lambda: 1)
    assert pooled == yamlsplit.parse(plan, parse_one, {}) == yaml.safe_load(text)


def test_an_alias_bomb_in_a_piece_is_refused_as_before(tmp_path: Path) -> None:
    bomb = "".join(f"    x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 7))
    text = registry().replace("  - id: a20\n", "  - id: a20\n    b: &x0 [1]\n" + bomb, 1)
    path = tmp_path / "xuncha.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load(path, parse_cache=True, state_dir=str(tmp_path / "state"))
    assert "alias bomb" in str(e.value.issues[0])
