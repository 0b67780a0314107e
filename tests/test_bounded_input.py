"""Hostile files and texts (issue 10): alias bombs, huge CSV fields, BOMs, formula cells, huge names.

Each bad input is a short, clear error that loses nothing already running; each has a twin in
which ordinary input still works.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent import limits
from agent.exposition.collector import TargetExposition
from agent.findings.table import render
from agent.registry import csvsafe
from agent.registry.config import ConfigError, load, loads
from agent.run.results import ResultStore, target_key
from agent.run.runtime import Agent
from domain import metric_names as m
from probes.results import HttpResult, LinksResult

ALIAS_BOMB = (
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdef", "bcdefg", strict=True))
    + "sites: *g\n"
)  # 10^7 nodes when expanded

SITES_HEADER = "网站名称,网站标识码,首页网址\n"
ROW = "汕头市龙湖区人民政府,4405070010,https://www.longhu.gov.cn/\n"


def test_a_yaml_alias_bomb_is_a_short_error_at_once() -> None:
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as e:
        loads(ALIAS_BOMB, path="bomb.yml")
    assert time.monotonic() - t0 < 1
    text = str(e.value)
    assert len(text) < 300 and "alias bomb" in text and text.startswith("bomb.yml"), text


def test_yaml_anchors_of_ordinary_size_still_work() -> None:
    cfg = loads("""
sites:
  - {code: "4405070010", name: a, url: "http://a.gov.cn/", columns: &cols [{name: 工作动态, url: "http://a.gov.cn/g/"}]}
  - {code: "4405150006", name: b, url: "http://b.gov.cn/", columns: *cols}
""")
    assert cfg.sites[1].columns[0].name == "工作动态"


async def test_an_alias_bomb_posted_to_reload_answers_a_short_error(tmp_path: Path) -> None:
    path = tmp_path / "xuncha.yml"
    path.write_text(f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 's'}\n", encoding="utf-8")
    agent = Agent(path, enable_lifecycle=True, watch_interval=3600)
    await agent.start()
    try:
        path.write_text(ALIAS_BOMB, encoding="utf-8")
        async with aiohttp.ClientSession() as s, s.post(f"http://{agent.address}/-/reload") as r:
            body = await r.read()
            assert r.status == 400
        assert len(body) < 1000 and b"alias bomb" in body
        assert agent.reload_successful is False
    finally:
        await agent.stop()


def _config_with_csv(tmp: Path, data: bytes) -> Path:
    (tmp / "sites.csv").write_bytes(data)
    path = tmp / "xuncha.yml"
    path.write_text(f"listen: 127.0.0.1:0\nstate_dir: {tmp / 's'}\nsite_files: [sites.csv]\n", encoding="utf-8")
    return path


LONG_URL = (SITES_HEADER + ROW + "龙湖," + "4405150006,http://b.gov.cn/" + "x" * 10_000 + "\n").encode()
HUGE_QUOTED = (SITES_HEADER + ROW + '"' + "名" * 140_000 + '",4405150006,http://b.gov.cn/\n').encode()


def test_a_csv_field_over_128_ki_characters_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load(_config_with_csv(tmp_path, HUGE_QUOTED))
    text = str(e.value)
    assert "sites.csv: line 3" in text and "field larger than field limit" in text, text
    assert len(text) < 1000


def test_a_long_unquoted_url_in_a_csv_is_an_error_not_a_100_kb_label(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="line 3 .*: url: a URL of 10,016 characters is longer than the 2048 allowed"):
        load(_config_with_csv(tmp_path, LONG_URL))


def test_check_config_reports_the_huge_field_without_a_traceback(tmp_path: Path) -> None:
    path = _config_with_csv(tmp_path, HUGE_QUOTED)
    run = subprocess.run(
        [sys.executable, "-m", "agent", "check-config", "-c", str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1 and "sites.csv" in run.stderr and "Traceback" not in run.stderr, run.stderr


async def test_a_huge_csv_field_fails_the_reload_and_the_watcher_lives_on(tmp_path: Path) -> None:
    path = _config_with_csv(tmp_path, (SITES_HEADER + ROW).encode())
    agent = Agent(path, enable_lifecycle=True, watch_interval=0.1)
    await agent.start()
    try:
        (tmp_path / "sites.csv").write_bytes(HUGE_QUOTED)
        for _ in range(50):
            await asyncio.sleep(0.1)
            if not agent.reload_successful:
                break
        assert agent.reload_successful is False, "the watcher did not notice, or died"
        async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}/metrics") as r:
            assert f"{m.CONFIG_LAST_RELOAD_SUCCESSFUL} 0" in await r.text()
        async with aiohttp.ClientSession() as s, s.post(f"http://{agent.address}/-/reload") as r:
            assert r.status == 400  # an error naming the file, not a 500
            assert "sites.csv" in await r.text()
        assert len(agent.config.sites) == 1  # the running registry is kept
        (tmp_path / "sites.csv").write_bytes((SITES_HEADER + ROW + "澄海,4405150006,http://b.gov.cn/\n").encode())
        for _ in range(50):
            await asyncio.sleep(0.1)
            if agent.reload_successful:
                break
        assert agent.reload_successful and len(agent.config.sites) == 2, "the watcher must still be alive"
    finally:
        await agent.stop()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gb18030+bom", "utf-16"])
def test_csv_files_are_read_in_every_encoding_offices_save(tmp_path: Path, encoding: str) -> None:
    text = SITES_HEADER + ROW
    if encoding == "gb18030+bom":
        data = "\ufeff".encode("gb18030") + text.encode("gb18030")
        assert data.startswith(b"\x84\x31\x95\x33")  # GB18030's BOM
    else:
        data = text.encode(encoding)
    cfg = load(_config_with_csv(tmp_path, data))
    assert [(s.code, s.name) for s in cfg.sites] == [("4405070010", "汕头市龙湖区人民政府")]


def test_a_file_in_no_known_encoding_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not UTF-8, UTF-16 or GB18030"):
        load(_config_with_csv(tmp_path, b"\x80\x80\xff"))


def test_formula_cells_are_neutralised_in_the_csv_report() -> None:
    findings = [
        {
            "finding": "probe_failed",
            "probe": "http",
            "reason": "-1 connect refused",
            "code": "4405070010",
            "name": "=cmd|' /C calc'!A0",
            "region": "@SUM(A1)",
        },
        {
            "finding": "probe_failed",
            "probe": "http",
            "reason": "timeout",
            "code": "4405150006",
            "name": "汕头市澄海区人民政府",
            "region": "广东省汕头市澄海区",
        },
        {"finding": "feed_failed", "account": "a", "unit": "+86 单位", "platform": "wechat", "name": "\tTAB"},
    ]
    rows = list(csv.reader(io.StringIO(render(findings, "csv"))))
    cells = [c for row in rows for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells and "'+86 单位" in cells and "'\tTAB" in cells
    assert "汕头市澄海区人民政府" in cells and "广东省汕头市澄海区" in cells  # ordinary text untouched
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_neutralise_leaves_ordinary_cells_alone() -> None:
    assert [csvsafe.neutralise(x) for x in ("4405070010", "网站", "", None, 3)] == ["4405070010", "网站", "", "", "3"]
    assert csvsafe.neutralise("\rX") == "'\rX"


def test_a_100000_character_name_is_a_config_error_not_a_label() -> None:
    with pytest.raises(ConfigError) as e:
        loads(f'sites:\n  - {{code: "4405070010", name: "{"名" * 100_000}", url: "http://a.gov.cn/"}}\n')
    text = str(e.value)
    assert "sites[0] (4405070010): name: a name of 100,000 characters is longer than the 256 allowed" in text
    assert len(text) < 300


def test_a_name_of_ordinary_length_is_kept_whole() -> None:
    name = "汕头市" * 80  # 240 characters: long, but a real 单位 can be
    cfg = loads(f'sites:\n  - {{code: "4405070010", name: "{name}", url: "http://a.gov.cn/"}}\n')
    assert cfg.sites[0].name == name


def test_the_exposition_clips_any_label_value_as_a_last_defence() -> None:
    import dataclasses

    cfg = loads('sites:\n  - {code: "4405070010", name: a, url: "http://a.gov.cn/"}\n')
    site = dataclasses.replace(cfg.sites[0], name="名" * 100_000)  # past validation, e.g. a future code path
    text = TargetExposition().render((site,), (), ResultStore())
    # 300 KB of name: what is left is the clipped value beside the families' headers (which grow with
    # every new family, so the bound is the same body with a short name, plus the clipped value)
    short = TargetExposition().render((cfg.sites[0],), (), ResultStore())
    assert len(text.encode()) < len(short.encode()) + 3 * limits.MAX_LABEL_VALUE + 200  # 名: 3 bytes
    (info,) = [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == m.SITE_INFO]
    assert info.labels["name"].startswith("名" * 100) and "more characters" in info.labels["name"]


def test_a_huge_error_text_from_a_hostile_server_is_clipped_in_the_store() -> None:
    cfg = loads('sites:\n  - {code: "4405070010", name: a, url: "http://a.gov.cn/"}\n')
    store = ResultStore()
    key = target_key(cfg.sites[0])
    store.record(key, HttpResult(success=False, reason="HTTP 500: " + "坏" * 1_000_000, started=1.0))
    store.record(key, LinksResult(success=True, broken_links=({"url": "http://x/" + "a" * 50_000, "reason": "404"},)))
    stored = store.latest(key)
    assert len(stored["http"].reason) < limits.MAX_ERROR + 100
    assert len(stored["links"].broken_links[0]["url"]) < limits.MAX_URL + 100  # type: ignore[attr-defined]
    ok = HttpResult(success=False, reason="connect: connection refused", started=2.0)
    store.record(key, ok)
    assert store.latest(key)["http"] is ok  # short texts: the very same object


def test_bom_constants_are_what_the_decoder_expects() -> None:
    assert csvsafe.decode(codecs.BOM_UTF8 + "网站名称".encode()) == "网站名称"
