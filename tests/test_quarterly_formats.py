"""``xuncha report --prometheus``: formats, the sample, and clear errors — the command as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from quarterly.fleet import DAYS, INFO_LEAD, LEAD, Fleet, build_fleet, free_port, prometheus  # noqa: E402
from quarterly.png import pixels  # noqa: E402

from agent import cli  # noqa: E402
from agent.quarterly.period import beijing_date  # noqa: E402

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return build_fleet(beijing_date(time.time()) - timedelta(days=DAYS + 2))


@pytest.fixture(scope="module")
def prom(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with prometheus(tmp_path_factory.mktemp("prometheus"), fleet.openmetrics()) as url:
        yield url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["report", *argv])
    return code, capsys.readouterr().err


def make(prom: str, fleet: Fleet, tmp_path: Path, fmt: str, *extra: str) -> Path:
    out = tmp_path / f"report.{fmt}"
    argv = [
        "report",
        "--prometheus",
        prom,
        "--from",
        fleet.day(0),
        "--to",
        fleet.day(DAYS - 1),
        "--format",
        fmt,
        "--out",
        str(out),
        *extra,
    ]
    assert cli.main(argv) == 0
    return out


def test_markdown_has_the_summary_and_the_annex_in_the_seeds_columns(prom, fleet, tmp_path):
    text = make(prom, fleet, tmp_path, "md").read_text(encoding="utf-8")
    assert "健康状况总体合格率50%" in text  # 10 of 20
    assert "| 序号 | 地区 | 网站名称 | 存在的突出问题 | 网站标识码 |" in text
    assert "| 序号 | 单位名称 | 账号类型 | 账号名称 | 存在的问题 |" in text
    row = next(line for line in text.splitlines() if "4405070003" in line and "首页" in line)
    first, last = (beijing_date_text(fleet, d) for d in (16, 22))
    assert f"首页长期不更新（最长20天未更新，{first}至{last}）" in row
    assert "| 潮安区食品药品监督管理局 | 微信 | 潮安食药监 | 已停用未注销" in text
    annex1 = text.split("附件1")[1].split("附件2")[0]
    assert "4405070010" not in annex1  # closed sites are listed apart (附件4), not among the active ones
    assert "| 汕头市国土资源局龙湖分局 | 已关停仍在运行（带病运行" in text.split("附件4")[1]
    assert "汕头市龙湖区人民政府 |" not in text.split("附件1")[1].split("附件2")[0]  # healthy: not in the annex


def beijing_date_text(fleet: Fleet, day: int) -> str:
    d = fleet.first + timedelta(days=day)
    return f"{d.month}月{d.day}日"


def test_csv_is_the_annex_tables_with_their_header_rows(prom, fleet, tmp_path):
    rows = list(csv.reader(io.StringIO(make(prom, fleet, tmp_path, "csv").read_text(encoding="utf-8"))))
    assert ["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"] in rows
    assert ["序号", "单位名称", "账号类型", "账号名称", "存在的问题"] in rows
    codes = [r[4] for r in rows if len(r) == 5 and r[4].isdigit()]
    assert "4405070002" in codes and "4405070001" not in codes


def test_json_has_the_documented_shape(prom, fleet, tmp_path):
    data = json.loads(make(prom, fleet, tmp_path, "json").read_text(encoding="utf-8"))
    assert data["period"]["from"] == fleet.day(0) and data["period"]["to"] == fleet.day(DAYS - 1)
    assert {"sites", "sites_qualified", "site_rate", "accounts", "accounts_qualified", "account_rate"} <= set(
        data["summary"]
    )
    s = data["sites"][0]
    assert {"code", "name", "region", "qualified", "vetoes", "warnings"} <= set(s)
    v = next(x for x in data["sites"] if x["vetoes"])["vetoes"][0]
    assert {"indicator", "from", "to", "worst"} <= set(v)
    assert {"account", "unit", "platform", "name", "qualified", "vetoes"} <= set(data["accounts"][0])


def test_docx_has_a_title_the_summary_tables_with_header_rows_and_page_numbers(prom, fleet, tmp_path):
    document = docx.Document(str(make(prom, fleet, tmp_path, "docx")))
    texts = [p.text for p in document.paragraphs]
    assert texts[0].startswith("关于") and texts[0].endswith("检查情况的通报")
    assert any("健康状况总体合格率50%" in t for t in texts)
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert ["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"] in headers
    annex = document.tables[headers.index(["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"])]
    assert "4405070002" in [r.cells[4].text for r in annex.rows]
    numbers = [r.cells[0].text for r in annex.rows[1:]]  # every unqualified site, numbered, in its row
    assert numbers == [str(i) for i in range(1, 12)]
    assert all(len(r.cells) == 5 and all(c.text for c in r.cells) for r in annex.rows)
    assert annex.rows[0]._tr.trPr.xml.count("tblHeader") == 1  # the header repeats on every page
    assert "PAGE" in document.sections[0].footer.paragraphs[0]._p.xml


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_html_renders_its_tables_and_charts_in_headless_chromium(prom, fleet, tmp_path):
    page = make(prom, fleet, tmp_path, "html")
    html = page.read_text(encoding="utf-8")
    assert 'id="chart-regions"' in html and 'data-code="4405070003"' in html  # a failing site's chart
    assert "<script" not in html and "<link" not in html and "src=" not in html  # one self-contained file
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1000,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    width, height, colours = pixels(shot)
    assert (width, height) == (1000, 1400)
    header = colours[(0xF3, 0xE6, 0xE6)]  # table header background (th)
    assert header > 20_000, "no table header rows painted"
    assert colours[(0x22, 0xAA, 0x77)] + colours[(0xCC, 0x33, 0x33)] > 1000, "no pass-rate bars painted"


def test_the_sample_draws_at_least_20_percent_by_region_reproducibly(prom, fleet, tmp_path):
    a = json.loads(make(prom, fleet, tmp_path, "json", "--sample", "25%", "--seed", "7").read_text())
    b = json.loads(make(prom, fleet, tmp_path, "json", "--sample", "25%", "--seed", "7").read_text())
    c = json.loads(make(prom, fleet, tmp_path, "json", "--sample", "25%", "--seed", "8").read_text())
    drawn = a["sample"]["sites"]
    assert drawn == b["sample"]["sites"] and drawn != c["sample"]["sites"]
    # 22 sites in 汕头市龙湖区 (440507) → 6 (25 %, rounded up); 1 in 潮州市 (445100) → 1; nothing else counts
    assert len([x for x in drawn if x.startswith("440507")]) == 6 and "4451000001" in drawn
    assert sorted(s["code"] for s in a["sites"] + a["closed_sites"]) == drawn
    assert a["summary"]["sites"] + a["summary"]["closed_sites"] == 7
    md = make(prom, fleet, tmp_path, "md", "--sample", "25%", "--seed", "7").read_text()
    assert "附件5：抽查名单" in md and "随机种子7" in md


def test_the_lines_of_a_configuration_are_the_lines_judged(prom, fleet, tmp_path):
    # 4405070003's homepage went 20 days without news: a veto at 14 days, not when xuncha.yml says 21
    config = tmp_path / "xuncha.yml"
    config.write_text("content: {homepage_stale_days: 21d}\n", encoding="utf-8")
    data = json.loads(make(prom, fleet, tmp_path, "json", "-c", str(config)).read_text())
    s = next(x for x in data["sites"] if x["code"] == "4405070003")
    assert s["qualified"] and s["vetoes"] == []
    default = json.loads(make(prom, fleet, tmp_path, "json").read_text())
    assert not next(x for x in default["sites"] if x["code"] == "4405070003")["qualified"]


def test_a_sample_under_20_percent_is_refused(prom, fleet, capsys):
    code, err = run(capsys, "--prometheus", prom, "--quarter", "2026Q1", "--sample", "10%")
    assert code == 2 and "20%" in err


def test_a_period_in_the_future_is_refused(prom, capsys):
    code, err = run(capsys, "--prometheus", prom, "--quarter", "2099Q1")
    assert code == 2 and "future" in err


def test_an_unreachable_prometheus_is_named(capsys):
    url = f"http://127.0.0.1:{free_port()}"
    code, err = run(capsys, "--prometheus", url, "--quarter", "2026Q1")
    assert code == 3 and f"cannot reach Prometheus at {url}" in err


def test_a_period_without_any_registry_is_an_empty_registry(prom, fleet, capsys):
    first, last = (fleet.first - timedelta(days=d) for d in (INFO_LEAD + 30, INFO_LEAD + 20))
    code, err = run(capsys, "--prometheus", prom, "--from", first.isoformat(), "--to", last.isoformat())
    assert code == 4 and "empty registry" in err and "xuncha_site_info" in err


def test_a_period_with_sites_but_no_visit_counters_names_the_missing_series(prom, fleet, capsys):
    # the registry's info series start INFO_LEAD days before the period, the counters only 8
    first, last = (fleet.first - timedelta(days=d) for d in (INFO_LEAD - 1, INFO_LEAD - 6))
    code, err = run(capsys, "--prometheus", prom, "--from", first.isoformat(), "--to", last.isoformat())
    assert code == 4
    assert "xuncha_http_checks_total" in err and "xuncha_http_failures_total" in err
    # ... and since when: the counters begin 8 days before the fixture's period (LEAD)
    counters_start = fleet.first - timedelta(days=LEAD)
    assert f"xuncha_http_checks_total: first seen {counters_start.isoformat()}" in err


def test_without_prometheus_html_is_refused_and_the_agent_mode_is_unchanged(capsys):
    code, err = run(capsys, "--format", "html")
    assert code == 2 and "--prometheus" in err


def test_docx_to_a_terminal_is_refused(prom, capsys):
    code, err = run(capsys, "--prometheus", prom, "--quarter", "2026Q1", "--format", "docx")
    assert code == 2 and "--out" in err


# --- /report: the agent serves the latest report of its Prometheus -----------------------------------


async def start_agent(tmp_path: Path, extra: str) -> Any:
    from agent.run.runtime import Agent

    path = tmp_path / "xuncha.yml"
    path.write_text(f"listen: 127.0.0.1:0\nstate_dir: {tmp_path}\n{extra}\n", encoding="utf-8")
    agent = Agent(path)
    await agent.start()
    return agent


async def get(agent: Any, path: str) -> tuple[int, str]:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}{path}") as r:
        return r.status, await r.text()


async def test_the_agent_serves_the_report_of_its_prometheus_at_report(prom, fleet, tmp_path):
    agent = await start_agent(tmp_path, f"report: {{prometheus: {prom}}}")
    try:
        status, html = await get(agent, f"/report?from={fleet.day(0)}&to={fleet.day(DAYS - 1)}")
        assert status == 200 and "<table" in html and "4405070003" in html
        status, text = await get(agent, f"/report?from={fleet.day(0)}&to={fleet.day(DAYS - 1)}&format=json")
        assert status == 200 and json.loads(text)["summary"]["sites_qualified"] == 11
        status, text = await get(agent, "/report?quarter=2099Q1")
        assert status == 400 and "future" in text
    finally:
        await agent.stop()


async def test_without_report_prometheus_report_is_not_found_and_says_what_to_set(tmp_path):
    agent = await start_agent(tmp_path, "")
    try:
        status, text = await get(agent, "/report")
        assert status == 404 and "report.prometheus" in text
    finally:
        await agent.stop()


def test_an_unknown_report_key_is_a_configuration_error():
    from agent.registry.config import ConfigError, loads

    with pytest.raises(ConfigError) as e:
        loads("report: {prometheus: http://127.0.0.1:9090, every: 1h}")
    assert "report.every" in str(e.value.issues[0])
    assert loads("report: {prometheus: http://127.0.0.1:9090}").report.prometheus == "http://127.0.0.1:9090"


# --- a Prometheus behind basic auth: the report's settings carry the credentials -----------------


@pytest.fixture(scope="module")
def locked_prom(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with prometheus(tmp_path_factory.mktemp("locked"), None, basic_auth=("reader", "s3cret")) as url:
        yield url


def test_the_report_reaches_a_prometheus_behind_basic_auth_with_the_credential_flags(locked_prom, tmp_path, capsys):
    code, err = run(capsys, "--prometheus", locked_prom, "--quarter", "2026Q1")
    assert code == 3 and "HTTP 401" in err  # refused: no credentials
    secret = tmp_path / "password"
    secret.write_text("s3cret\n", encoding="utf-8")
    code, err = run(
        capsys, "--prometheus", locked_prom, "--quarter", "2026Q1", "--user", "reader", "--password-file", str(secret)
    )
    assert code == 4 and "empty registry" in err  # let in: an empty Prometheus, judged as one


async def test_report_reads_report_credentials_of_xuncha_yml(locked_prom, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n", encoding="utf-8")
    agent = await start_agent(tmp_path, f"report: {{prometheus: {locked_prom}}}")
    try:
        status, text = await get(agent, "/report?quarter=2026Q1")
        assert status == 502 and "HTTP 401" in text
    finally:
        await agent.stop()
    agent = await start_agent(
        tmp_path, f"report: {{prometheus: {locked_prom}, username: reader, password_file: {secret}}}"
    )
    try:
        status, text = await get(agent, "/report?quarter=2026Q1")
        assert status == 503 and "empty registry" in text
    finally:
        await agent.stop()


def test_a_missing_report_password_file_is_a_configuration_error(tmp_path):
    from agent.registry.config import ConfigError, loads

    with pytest.raises(ConfigError) as e:
        loads(f"report: {{prometheus: http://127.0.0.1:9090, password_file: {tmp_path / 'nope'}}}")
    assert "report.password_file" in str(e.value.issues[0])
