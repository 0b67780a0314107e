"""``xuncha report``: findings as the 通报 tables word them."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from agent.demo import hostile
from agent.findings.findings import account_findings, site_findings
from agent.findings.table import render, site_problems, tables
from agent.registry.config import Account, ContentConfig, Site
from domain.divisions import region_of
from probes.results import ColumnFinding, ContentResult, FeedResult, HttpResult

NOW = 1_795_000_000.0
DAY = 86400.0


def blank(n: int) -> tuple[ColumnFinding, ...]:
    return tuple(
        ColumnFinding(name=f"栏目{i}", category="news", url=f"http://x/{i}", success=True, blank=True) for i in range(n)
    )


def stale(n: int, category: str) -> tuple[ColumnFinding, ...]:
    return tuple(
        ColumnFinding(
            name=f"{category}{i}", category=category, url=f"http://x/s{i}", success=True, last_update=NOW - 400 * DAY
        )
        for i in range(n)
    )


def findings_of(code: str, name: str, **content: object) -> list[dict]:  # type: ignore[type-arg]
    site = Site(code=code, name=name, url="http://x.gov.cn/", region=region_of(code))
    latest = {"content": ContentResult(success=True, homepage_success=True, **content)}  # type: ignore[arg-type]
    return site_findings(site, latest, ContentConfig(), NOW)


def test_five_blank_columns_read_as_the_veto_and_two_as_a_count() -> None:
    assert site_problems(findings_of("4405070010", "龙湖分局", columns=blank(5))) == ["空白栏目超过5个（5个）"]
    assert site_problems(findings_of("4405070010", "龙湖分局", columns=blank(2))) == ["空白栏目2个"]
    assert site_problems(findings_of("4405070010", "龙湖分局", columns=())) == []


def test_stale_columns_follow_the_veto_lines() -> None:
    five_news = findings_of("4312000009", "怀化", columns=stale(5, "news"))
    assert site_problems(five_news) == ["多个栏目长期不更新（5个）"]
    nine_longterm = findings_of("4312000009", "怀化", columns=stale(9, "longterm"))
    assert site_problems(nine_longterm)[0].startswith("栏目长期未更新9个：longterm0、")
    ten_longterm = findings_of("4312000009", "怀化", columns=stale(10, "longterm"))
    assert site_problems(ten_longterm) == ["多个栏目长期不更新（10个）"]


def test_a_site_with_several_problems_is_one_row_in_the_seed_reports_shape() -> None:
    found = findings_of(
        "5328010055",
        "景洪市安全生产监督管理局",
        homepage_last_update=NOW - 30 * DAY,
        columns=blank(1),
        details={
            "serious_errors": [
                {"wrong": "开诚不公", "right": "开诚布公", "where": "homepage"},
                {"wrong": "开诚不公", "right": "开诚布公", "where": "column 工作动态"},
            ]
        },
    )
    healthy = findings_of("4405150006", "澄海人才网", homepage_last_update=NOW - DAY)
    account = Account(
        id="a", unit="潮安区卫生健康局", platform="wechat", name="潮安卫健", status="stopped", feed="http://r/x"
    )
    rows, account_rows = tables(
        found + healthy + account_findings(account, FeedResult(success=True, not_deregistered=True))
    )
    assert rows == [
        ["序号", "地区", "网站名称", "存在的突出问题", "网站标识码"],
        [
            "1",
            "云南省西双版纳傣族自治州景洪市",
            "景洪市安全生产监督管理局",
            "严重错误：“开诚不公”应为“开诚布公”；首页长期未更新（30天）；空白栏目1个",
            "5328010055",
        ],
    ]
    # 账号类型 as the seeds' annex tables write it (seed 003: 微信)
    assert account_rows[1] == ["1", "潮安区卫生健康局", "微信", "潮安卫健", "已停用未注销"]


def test_an_unreachable_homepage_and_a_closed_site_still_online() -> None:
    site = Site(code="1402210003", name="阳高县人民政府", url="http://x/", region=region_of("1402210003"))
    latest = {
        "http": HttpResult(success=False, reason="connect: connection refused"),
        "content": ContentResult(success=True, homepage_success=True, closed_but_online=True),
    }
    assert site_problems(site_findings(site, latest, ContentConfig(), NOW)) == [
        "已关停网站仍在运行（带病运行）",
        "首页无法访问（connect: connection refused）",
    ]


async def test_xuncha_report_reads_the_agents_findings(tmp_path: object) -> None:
    found = findings_of("4405070010", "汕头市国土资源局龙湖分局", columns=blank(6))

    async def api(request: web.Request) -> web.Response:
        return web.json_response(found)

    app = web.Application()
    app.router.add_get("/api/findings", api)
    async with await hostile.serve_app(app) as served:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent",
            "report",
            "--url",
            served.url,
            "--format",
            "csv",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    assert out.decode() == render(found, "csv")
    assert "1,广东省汕头市龙湖区,汕头市国土资源局龙湖分局,空白栏目超过5个（6个）,4405070010" in out.decode()
    async with await hostile.refused() as gone:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent",
            "report",
            "--url",
            gone.url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1 and b"cannot read" in err


def test_hidden_links_and_missing_meta_tags_are_worded_for_the_report() -> None:
    links = [
        {
            "url": f"http://h{i}.example/",
            "host": f"h{i}.example",
            "text": "娱乐城",
            "hidden_by": "",
            "element": "",
            "words": ["娱乐城"],
        }
        for i in range(4)
    ]
    problems = site_problems(
        findings_of(
            "4405070010",
            "龙湖分局",
            hidden_links=4,
            details={"hidden_links": links},
            compliance={"site_meta_tags": False},
        )
    )
    assert problems == [
        "首页存在暗链4处（h0.example、h1.example、h2.example等）",
        "缺少必备要素：网站元数据（SiteName、SiteDomain、SiteIDCode）",
    ]
