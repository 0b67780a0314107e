"""The content probe against loopback government sites (GBK pages, real aiohttp servers, own DNS zone)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.registry.config import Config, loads
from agent.run.state import StateStore
from probes import content_probe
from probes.content import dates
from probes.context import ProbeContext
from probes.net import Network

NOW = dates.to_timestamp(2026, 11, 20, 10, 0)
assert NOW is not None
DAY = 86400.0
CODE = "4405070010"
HOST = "www.lh.gov.cn"


def ts(y: int, m: int, d: int) -> float:
    t = dates.to_timestamp(y, m, d)
    assert t is not None
    return t


FOOTER = (
    "<div class=foot>主办：汕头市龙湖区人民政府 网站标识码：4405070010 <a href=https://beian.miit.gov.cn/>粤ICP备05080455号</a>"
    " 粤公网安备 44050702000123号 <a href='https://bszs.conac.cn/sitename?method=show&id=1'><img src=/red.png></a>"
    "<a href='https://zfwzzc.www.gov.cn/check_web/errorInfo_querySearch.action?term=4405070010'>我为政府网站找错</a>"
    "Copyright &copy; 2003-2026 版权所有</div>"
)
NAV = "<ul class=nav><li><a href=/>网站首页</a></li><li><a href=/gzdt/>工作动态</a></li><li><a href=/tzgg/>通知公告</a></li></ul>"


def html(body: str, charset: str = "gb2312") -> str:
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        f'<meta name="SiteName" content="汕头市龙湖区人民政府"><meta name="SiteDomain" content="{HOST}">'
        f'<meta name="SiteIDCode" content="{CODE}"><title>汕头市龙湖区人民政府</title></head><body>'
        f"<div class=top>今天是2026年11月20日 星期五</div>{NAV}{body}{FOOTER}</body></html>"
    )


def items(*rows: tuple[str, str]) -> str:
    return (
        "<ul class=list>"
        + "".join(f"<li><a href=/a{i}.html>{t}</a><span>{d}</span></li>" for i, (t, d) in enumerate(rows))
        + "</ul>"
    )


CLEAN_HOME = html(items(("区政府召开安全生产工作会议", "2026-11-19"), ("关于开展消防检查的通知", "2026-11-12")))
CLEAN_NEWS = html(items(("我区举行秋季运动会开幕式", "2026-11-18"), ("区领导调研重点项目建设", "2026-11-01")))
CLEAN_NOTICE = html(items(("关于征求意见的公告", "2026-09-01")))


class Fleet:
    """Pages served by path; ``pages[path] = (status, body bytes, headers)``."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.base = ""

    def put(self, path: str, text: str, *, status: int = 200, encoding: str = "gbk", **headers: str) -> None:
        hdrs = {"Content-Type": f"text/html; charset={encoding}", **headers}
        self.pages[path] = (status, text.encode(encoding), hdrs)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path == "/endless":
            resp = web.StreamResponse(headers={"Content-Type": "text/html"})
            await resp.prepare(request)
            chunk = b"<p>" + b"x" * 65536
            while True:
                await resp.write(chunk)
        if path == "/slow":
            await asyncio.sleep(30)
        status, body, hdrs = self.pages.get(path, (404, b"not found", {"Content-Type": "text/plain"}))
        return web.Response(status=status, body=body, headers=hdrs)


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    f = Fleet()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", f.handle)
    async with await hostile.serve_app(app) as served:
        f.base = f"http://{HOST}:{served.port}"
        yield f


@pytest.fixture
async def dns() -> AsyncIterator[DnsServer]:
    server = DnsServer(records={HOST: ["127.0.0.1"]})
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def config(
    fleet: Fleet,
    dns: DnsServer,
    *,
    status: str = "active",
    home: str = "/",
    columns: tuple[tuple[str, str, str], ...] = (),
    max_page: str = "1048576",
) -> Config:
    cols = "".join(f"\n      - {{name: {n}, url: '{fleet.base}{p}', category: {c}}}" for n, p, c in columns)
    return loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
content: {{timeout: 2s, max_page_bytes: {max_page}}}
sites:
  - code: "{CODE}"
    name: 汕头市龙湖区人民政府
    url: "{fleet.base}{home}"
    status: {status}
    columns:{cols or " []"}
""")


Run = Callable[..., Any]


@pytest.fixture
async def run() -> AsyncIterator[Run]:
    nets: list[Network] = []

    async def probe(cfg: Config, *, state: StateStore | None = None, now: float = NOW) -> Any:
        net = Network(cfg.dns, cfg.tls, cfg.http)
        nets.append(net)
        ctx = ProbeContext(config=cfg, net=net, state=state or StateStore(None), clock=lambda: now)
        return await content_probe.probe(cfg.sites[0], ctx)

    yield probe
    for net in nets:
        await net.close()


COLUMNS = (("工作动态", "/gzdt/", "news"), ("通知公告", "/tzgg/", "notice"))


async def test_a_clean_gbk_site_is_fresh_complete_and_clean(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    fleet.put("/", CLEAN_HOME)
    fleet.put("/gzdt/", CLEAN_NEWS)
    fleet.put("/tzgg/", CLEAN_NOTICE, encoding="utf-8")
    r = await run(config(fleet, dns, columns=COLUMNS[:1] + (("通知公告", "/tzgg/", "notice"),)))
    assert r.success and r.homepage_success and r.reason == ""
    assert r.homepage_last_update == ts(2026, 11, 19) and r.homepage_update_source == "dated_items"
    assert all(r.compliance.values()) and r.compliance_success
    assert (r.serious_errors, r.privacy_leaks, r.closed_but_online, r.closure_notice_shown) == (0, 0, False, None)
    news, notice = r.columns
    assert (news.success, news.blank, news.last_update, news.items) == (True, False, ts(2026, 11, 18), 2)
    assert (notice.success, notice.blank, notice.last_update) == (True, False, ts(2026, 9, 1))
    assert r.columns_success
    assert r.details["newest_items"][0]["title"] == "区政府召开安全生产工作会议"


async def test_a_neglected_site_shows_every_finding(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    # Stale items, only the header's date, a meeting next month and the copyright are recent-looking.
    home = (
        html(
            items(("区政府召开全体会议", "2026-08-03"), ("关于召开年终总结会议的通知", "2026-12-10"))
            + "<p>申请人身份证号：44050719800101123"
            + _check("44050719800101123")
            + "</p>"
            + "<p>要做到开诚不公，实事求是</p>"
        )
        .replace("网站标识码：4405070010", "")
        .replace("粤ICP备05080455号", "")
    )
    fleet.put("/", home)
    fleet.put("/gzdt/", html("<div class=list>暂无信息</div>"))
    fleet.put("/tzgg/", html(items(("深入学习习近平总书纪重要讲话精神", "2026-03-02"))))
    columns = (*COLUMNS, ("人事信息", "/rsxx/", "longterm"))
    r = await run(config(fleet, dns, columns=columns))
    assert r.success
    assert r.homepage_last_update == ts(2026, 8, 3)
    assert {"date": "2026-12-10", "reason": "future", "item": "关于召开年终总结会议的通知"} in r.details[
        "ignored_dates"
    ]
    assert r.compliance["site_code_shown"] is False and r.compliance["icp_shown"] is False
    assert r.compliance["police_record_shown"] and r.compliance["conac_mark_shown"]
    assert r.serious_errors == 2
    assert {h["right"] for h in r.details["serious_errors"]} == {"开诚布公", "习近平总书记"}
    assert r.privacy_leaks == 1 and r.details["privacy_leaks"][0]["id"].startswith("440507********")
    news, notice, personnel = r.columns
    assert news.blank and news.note == "placeholder: 暂无信息" and news.last_update is None
    assert not notice.blank and notice.last_update == ts(2026, 3, 2)
    assert not personnel.success and personnel.reason == "answered HTTP 404" and not r.columns_success
    assert {c["name"] for c in r.details["candidate_columns"]} == set()  # both nav columns are configured


def _check(first17: str) -> str:
    from probes.content.privacy import check_char

    return check_char(first17)


async def test_navigation_only_homepage_staleness_survives_a_restart(
    fleet: Fleet, dns: DnsServer, run: Run, tmp_path: Path
) -> None:
    nav_only = html(
        "<div class=menu><a href=/zwgk/>政务公开</a><a href=/bsfw/>办事服务</a><a href=/hdjl/>互动交流</a></div>"
    )
    fleet.put("/", nav_only, **{"Last-Modified": "Mon, 01 Jun 2026 00:00:00 GMT"})
    cfg = config(fleet, dns)
    db = tmp_path / "xuncha.db"
    first = await run(cfg, state=StateStore(db), now=NOW)
    assert first.homepage_update_source == "fingerprint"
    assert first.homepage_last_update == ts(2026, 6, 1) + 8 * 3600  # the Last-Modified, not "now"
    assert {c["name"] for c in first.details["candidate_columns"]} == {
        "政务公开",
        "办事服务",
        "互动交流",
        "工作动态",
        "通知公告",
    }

    # The agent restarts a month later, without Last-Modified this time: still stale since June.
    fleet.put("/", nav_only)
    again = await run(cfg, state=StateStore(db), now=NOW + 30 * DAY)
    assert again.homepage_last_update == ts(2026, 6, 1) + 8 * 3600

    # The list changes: fresh from that check on, and that too survives a restart.
    fleet.put("/", nav_only.replace("互动交流", "政民互动"))
    changed = await run(cfg, state=StateStore(db), now=NOW + 31 * DAY)
    assert changed.homepage_last_update == NOW + 31 * DAY
    later = await run(cfg, state=StateStore(db), now=NOW + 32 * DAY)
    assert later.homepage_last_update == NOW + 31 * DAY


async def test_dates_read_before_survive_a_failed_fetch(fleet: Fleet, dns: DnsServer, run: Run, tmp_path: Path) -> None:
    fleet.put("/", CLEAN_HOME)
    fleet.put("/gzdt/", CLEAN_NEWS)
    cfg = config(fleet, dns, columns=COLUMNS[:1])
    db = tmp_path / "xuncha.db"
    await run(cfg, state=StateStore(db))
    fleet.pages.clear()  # everything answers 404 now
    r = await run(cfg, state=StateStore(db))
    assert not r.success and r.reason == "homepage: answered HTTP 404"
    assert r.homepage_last_update == ts(2026, 11, 19) and r.homepage_update_source == "remembered"
    assert r.columns[0].last_update == ts(2026, 11, 18) and not r.columns[0].success


async def test_a_closed_site_that_still_answers_is_a_finding(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    fleet.put("/", CLEAN_HOME)
    assert (await run(config(fleet, dns, status="closed"))).closed_but_online
    assert not (await run(config(fleet, dns, status="active"))).closed_but_online
    assert not (await run(config(fleet, dns, status="closed", home="/gone/"))).closed_but_online


async def test_a_closing_site_must_show_its_closure_notice(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    fleet.put("/", CLEAN_HOME)
    fleet.put("/notice/", html("<div class=gg>关于龙湖区某局网站关停的公告：本网站将于2026年12月31日停止运行</div>"))
    assert (await run(config(fleet, dns, status="closing"))).closure_notice_shown is False
    shown = await run(config(fleet, dns, status="closing", home="/notice/"))
    assert shown.closure_notice_shown is True and "关停" in shown.details["closure_notice"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big", "homepage: page larger than the 1048576-byte limit"),
        ("/endless", "homepage: page larger than the 1048576-byte limit"),
        ("/slow", "homepage: timeout: no complete response within 2s"),
        ("/binary", "homepage: undecodable: binary content (NUL bytes), not an HTML page"),
    ],
)
async def test_hostile_homepages_fail_with_a_reason(
    fleet: Fleet, dns: DnsServer, run: Run, path: str, reason: str
) -> None:
    fleet.pages["/big"] = (200, b"<html><body>" + b"<p>x</p>" * (50 * 1024 * 1024 // 8), {"Content-Type": "text/html"})
    fleet.pages["/binary"] = (200, b"\x00\x01" * 10000, {"Content-Type": "text/html"})
    r = await asyncio.wait_for(run(config(fleet, dns, home=path)), 10)
    assert not r.success and r.reason == reason


async def test_a_page_that_is_all_script_is_read_not_crashed(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    fleet.put("/", "<html><body><script>" + "var a=1;" * 100000 + "</script></body></html>", encoding="utf-8")
    r = await run(config(fleet, dns))
    assert r.success and r.homepage_update_source == "fingerprint" and r.details["items"] == 0
    assert not any(r.compliance[c] for c in ("site_code_shown", "icp_shown", "conac_mark_shown"))


async def test_deeply_nested_homepage_is_partial_with_a_note(fleet: Fleet, dns: DnsServer, run: Run) -> None:
    fleet.put("/", html(items(("区政府召开安全生产工作会议", "2026-11-19")) + "<div>" * 50000 + "x"))
    r = await asyncio.wait_for(run(config(fleet, dns)), 10)
    assert r.success and "nested deeper" in r.reason
    assert r.homepage_last_update == ts(2026, 11, 19)
