"""The demo fleet: a dozen simulated government sites on loopback.

``xuncha demo`` and the end-to-end tests run the agent on this fleet.  Each site
is modelled on a site named in the inspection reports (``shared/seeds``): its
网站标识码, name and host unit are real-looking, and its behaviour is one of the
findings the agent must report — unreachable, slower than the 15 s rule, a
certificate about to expire, expired, issued for another host, NXDOMAIN, HTTP
500, a stale homepage, blank columns, a footer without the required marks, a
serious wrong expression (开诚不公), broken links, service guides missing elements, a
site offering no services.

Every host name ends in ``.gov.cn`` to look real, and is only ever resolved
through the fleet's own DNS server, which maps it to 127.0.0.1.  The links in the
footers (ICP record, 公网安备, 我为政府网站找错, the 党政机关 mark) point at one
loopback server standing in for those national services, so nothing leaves the
machine.

    async with Fleet.start(state_dir="/tmp/x", fast=True) as fleet:
        Path("/tmp/x/xuncha.yml").write_text(fleet.config_yaml())

Accounts: if ``agent.demo.feeds`` exists and defines ``demo_accounts(base_url)``,
the fleet serves what it returns — ``(app, accounts)``: an aiohttp application
standing in for RSSHub, and account entries for ``xuncha.yml`` — on
``base_url`` (``http://rsshub.xuncha.test:PORT``, in the fleet's zone), and sets
``feeds.rsshub`` to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import importlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.pki import Pki

LOOPBACK = "127.0.0.1"
FEEDS_HOST = "rsshub.xuncha.test"
# Stand-ins for the national services the footers link to (ICP record, police record, error report, 党政机关 mark).
SERVICE_HOSTS = ("beian.miit.gov.cn", "www.beian.gov.cn", "zfwzzc.www.gov.cn", "bszs.conac.cn")
# Where the planted 暗链 (hidden injected links) of the demo point: gambling fronts, answered by the same stand-in.
SPAM_HOSTS = ("www.yulecheng-demo.example", "www.bocai-demo.example", "www.sifu-demo.example")
SPAM_TEXTS = ("澳门娱乐城", "百家乐真人荷官", "传奇私服发布网")
WRONG_HOST_CERT = "www.shengzhou.gov.cn"
MAINTENANCE_NOTICE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>系统维护</title></head><body>"
    "<div style='margin:120px auto;text-align:center'><h2>网站维护中</h2>"
    "<p>为提升服务质量，本站正在进行系统升级，升级期间暂停访问，给您带来不便，敬请谅解。</p></div>"
    "</body></html>"
)
EXPIRING_DAYS = 10
STALE_DAYS = 30


@dataclass(frozen=True, slots=True)
class DemoColumn:
    name: str
    path: str  # "/gzdt/"
    category: str = "news"
    newest_days: float | None = 1  # age of the newest item; None: a blank column
    blank_text: str = "暂无信息"
    # A mailbox printed as one (互动回应差): "unanswered" (a letter every 3 days for four months, none
    # answered), "answered" (everything answered in 5 days, nobody wrote for 100 days); "": a plain list.
    mailbox: str = ""


@dataclass(frozen=True, slots=True)
class DemoSite:
    """One simulated site, and what the agent is expected to find there."""

    code: str
    name: str
    organizer: str
    host: str
    kind: str = "department"
    status: str = "active"
    scheme: str = "https"
    behaviour: str = "ok"  # ok | refused | slow | error500 | maintenance (200 with a notice, not the homepage)
    tls: str | None = "valid"  # valid | expiring | expired | wrong_host; None for http
    in_zone: bool = True  # False: registered, but the name does not exist (NXDOMAIN)
    encoding: str = "utf-8"  # utf-8 | gbk (declared only in <meta>, as old CMSs do)
    columns: tuple[DemoColumn, ...] = ()
    footer_complete: bool = True
    wrong_expression: str = ""  # a serious wrong expression on the homepage
    broken_links: int = 0  # links on the homepage that answer 404
    hidden_links: int = 0  # 暗链 planted in an off-screen block of the homepage
    # 服务不实用 (issue 18): the guides of the service column — "complete" (all ten element categories),
    # "mixed" (one complete, one missing two, one missing seven, in turn), or "none" (no services at all:
    # no service column, nothing on the homepage leads to services)
    guides: str = "complete"
    injected: bool = False  # 挂马 (issue 19): a hidden frame to a spam host and a miner's start call
    notes: str = ""
    port: int = 0  # filled when the fleet has started

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/"

    # --- what the agent should report -----------------------------------------

    @property
    def expect_dns(self) -> str:
        return "NOERROR" if self.in_zone else "NXDOMAIN"

    @property
    def expect_http_ok(self) -> bool:
        """A final 2xx/3xx within 15 s, on a connection the agent trusts, whose body is the homepage."""
        return self.in_zone and self.behaviour == "ok" and (self.scheme == "http" or self.tls in ("valid", "expiring"))

    @property
    def expect_http_answer(self) -> bool:
        """A final 2xx/3xx within 15 s on a trusted connection, whatever the body."""
        return self.expect_http_ok or (self.behaviour == "maintenance" and self.expect_http_status == 200)

    @property
    def expect_http_status(self) -> int | None:
        if not self.in_zone or self.behaviour in ("refused", "slow"):
            return None
        if self.scheme == "https" and self.tls not in ("valid", "expiring"):
            return None  # the TLS handshake fails before any status
        return 500 if self.behaviour == "error500" else 200

    @property
    def expect_tls(self) -> str | None:
        """None for plain HTTP sites and for sites the TLS probe cannot reach."""
        if self.scheme != "https" or not self.in_zone or self.behaviour == "refused":
            return None
        return self.tls

    @property
    def expect_homepage_stale(self) -> bool:
        ages = [c.newest_days for c in self._homepage_columns() if c.newest_days is not None]
        return not ages or min(ages) > 14

    @property
    def expect_blank_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.newest_days is None)

    @property
    def expect_compliance_missing(self) -> tuple[str, ...]:
        if self.footer_complete:
            return ()
        return (
            "site_code_shown",
            "icp_shown",
            "police_record_shown",
            "conac_mark_shown",
            "error_report_entry",
            "site_meta_tags",
        )

    @property
    def expect_hidden_links(self) -> int:
        return self.hidden_links if self.expect_http_ok else 0

    @property
    def expect_malicious_scripts(self) -> int:
        return 2 if self.injected and self.expect_http_ok else 0

    @property
    def expect_interaction(self) -> str:
        """互动回应差: "unanswered" (a message past the veto line), "no_channel", or ""."""
        if not self.expect_http_ok:
            return ""
        if not any(c.category == "interaction" for c in self.columns):
            return "no_channel"
        return "unanswered" if any(c.mailbox == "unanswered" for c in self.columns) else ""

    @property
    def expect_serious_errors(self) -> tuple[str, ...]:
        return (self.wrong_expression,) if self.wrong_expression else ()

    def expect_no_services(self) -> bool:
        return self.guides == "none"

    def expect_guide_states(self) -> set[str]:
        """The states of the guides the services probe reads (empty: none read)."""
        service = [c for c in self.columns if c.category == "service" and c.newest_days is not None]
        if not service or self.guides == "none" or not self.expect_http_ok:
            return set()
        return {"complete", "partial", "incomplete"} if self.guides == "mixed" else {"complete"}

    def _homepage_columns(self) -> tuple[DemoColumn, ...]:
        return tuple(c for c in self.columns if c.category in ("news", "notice"))[:2]


def _columns(**ages: float | None) -> tuple[DemoColumn, ...]:
    """The usual columns of a department site; ``ages`` overrides the newest item's age (None: blank)."""
    base = (
        DemoColumn("工作动态", "/gzdt/", "news", 1),
        DemoColumn("通知公告", "/tzgg/", "notice", 4),
        DemoColumn("政策文件", "/zcwj/", "notice", 21),
        DemoColumn("人事信息", "/rsxx/", "longterm", 60),
        DemoColumn("规划计划", "/ghjh/", "longterm", 120),
        DemoColumn("咨询建言", "/zxjy/", "interaction", 9),
        DemoColumn("办事指南", "/bszn/", "service", 75),
    )
    keys = {"gzdt": 0, "tzgg": 1, "zcwj": 2, "rsxx": 3, "ghjh": 4, "zxjy": 5, "bszn": 6}
    out = list(base)
    for key, age in ages.items():
        i = keys[key]
        blank = ("暂无信息", "正在建设中", "")[i % 3]
        out[i] = replace(out[i], newest_days=age, blank_text=blank)
    return tuple(out)


def _mailbox(columns: tuple[DemoColumn, ...], mode: str) -> tuple[DemoColumn, ...]:
    """The columns with 咨询建言 replaced by a 市长信箱 printed as a mailbox (``DemoColumn.mailbox``)."""
    box = DemoColumn("市长信箱", "/szxx/", "interaction", 1 if mode == "unanswered" else 100, mailbox=mode)
    return tuple(box if c.category == "interaction" else c for c in columns)


def _no_channel(columns: tuple[DemoColumn, ...]) -> tuple[DemoColumn, ...]:
    return tuple(c for c in columns if c.category != "interaction")


def demo_sites() -> tuple[DemoSite, ...]:
    """The fleet's plan.  Names and codes after the seeds; behaviours after their findings."""
    return (
        DemoSite(
            "4451000001",
            "中国潮州政府网站",
            "潮州市人民政府办公室",
            "www.chaozhou.gov.cn",
            kind="portal",
            columns=_columns(gzdt=0, tzgg=2),
            notes="healthy HTTPS portal, complete footer",
        ),
        DemoSite(
            "4312000009",
            "怀化市水利局",
            "怀化市水利局",
            "slj.huaihua.gov.cn",
            scheme="http",
            tls=None,
            encoding="gbk",
            columns=_columns(gzdt=1, tzgg=3),
            notes="healthy HTTP department site; GBK page (charset only in <meta>) with dated news items",
        ),
        DemoSite(
            "4405070010",
            "汕头市国土资源局龙湖分局",
            "汕头市国土资源局龙湖分局",
            "gtj.longhu.gov.cn",
            scheme="http",
            tls=None,
            columns=_columns(gzdt=2, tzgg=6, zcwj=None, rsxx=None, ghjh=None, zxjy=None, bszn=None),
            notes="seed: 空白栏目超过5个 — 5 blank columns (暂无信息 / 正在建设中 / empty list)",
        ),
        DemoSite(
            "1402210003",
            "阳高县人民政府",
            "阳高县人民政府办公室",
            "www.yanggao.gov.cn",
            kind="portal",
            behaviour="refused",
            columns=_columns(),
            notes="seed: 站点长期无法访问 — connection refused",
        ),
        DemoSite(
            "4106000054",
            "鹤壁市公安局",
            "鹤壁市公安局",
            "gaj.hebi.gov.cn",
            scheme="http",
            tls=None,
            behaviour="slow",
            columns=_columns(),
            notes="seed: 站点长期无法访问 — answers after 20 s (> 15 s rule)",
        ),
        DemoSite(
            "4405150006",
            "澄海人才网",
            "汕头市澄海区人力资源和社会保障局",
            "rc.chenghai.gov.cn",
            tls="expiring",
            broken_links=3,
            columns=_columns(gzdt=1, tzgg=5),
            notes=f"certificate expires in {EXPIRING_DAYS} days; seed: 多处链接无法打开 — 3 broken links",
        ),
        DemoSite(
            "5325280002",
            "元阳县政务服务管理局",
            "元阳县政务服务管理局",
            "zwfw.yuanyang.gov.cn",
            tls="expired",
            columns=_columns(),
            notes="certificate expired 3 days ago",
        ),
        DemoSite(
            "3306830026",
            "嵊州市住房和城乡建设局",
            "嵊州市住房和城乡建设局",
            "zjj.shengzhou.gov.cn",
            tls="wrong_host",
            columns=_columns(),
            notes=f"certificate issued for {WRONG_HOST_CERT}",
        ),
        DemoSite(
            "1529000017",
            "阿拉善盟住房和城乡规划建设局",
            "阿拉善盟住房和城乡规划建设局",
            "zjj.als.gov.cn",
            in_zone=False,
            columns=_columns(),
            notes="registered, but its name is not in DNS (NXDOMAIN)",
        ),
        DemoSite(
            "1405000019",
            "晋城市安全生产监督管理局",
            "晋城市安全生产监督管理局",
            "ajj.jincheng.gov.cn",
            scheme="http",
            tls=None,
            behaviour="error500",
            columns=_columns(),
            notes="every page answers HTTP 500",
        ),
        DemoSite(
            "1307320007",
            "赤城县公安局",
            "赤城县公安局",
            "gaj.chicheng.gov.cn",
            scheme="http",
            tls=None,
            columns=_mailbox(_columns(gzdt=STALE_DAYS, tzgg=STALE_DAYS + 12, zcwj=200), "unanswered"),
            notes=f"seed: 首页面长时间未更新 — newest homepage item {STALE_DAYS} days old; "
            "互动回应差 — its 市长信箱 gets a letter every 3 days and has answered none for four months",
        ),
        DemoSite(
            "5328010055",
            "景洪市安全生产监督管理局",
            "景洪市安全生产监督管理局",
            "ajj.jinghong.gov.cn",
            wrong_expression="开诚不公",
            columns=_mailbox(_columns(gzdt=0, tzgg=8), "answered"),
            notes="serious wrong expression 开诚不公 (for 开诚布公) in a homepage headline; its 市长信箱 answers "
            "every letter within 5 days, though nobody wrote for 100 days (no 互动 finding)",
        ),
        DemoSite(
            "3707040004",
            "潍坊市坊子区人力资源和社会保障局",
            "潍坊市坊子区人力资源和社会保障局",
            "rsj.fangzi.gov.cn",
            scheme="http",
            tls=None,
            footer_complete=False,
            columns=_no_channel(_columns(gzdt=3)),
            notes="footer without 网站标识码, ICP/公网安备 numbers, 找错 entry or 党政机关 mark; "
            "no consultation channel at all (互动回应差)",
        ),
        DemoSite(
            "4408020007",
            "湛江市赤坎区文化广电旅游体育局",
            "湛江市赤坎区文化广电旅游体育局",
            "wgltj.chikan.gov.cn",
            hidden_links=3,
            injected=True,
            columns=_columns(gzdt=1, tzgg=4),
            notes="暗链: 3 links to gambling and private-server sites planted in an off-screen block; "
            "挂马: a zero-size frame to a gambling site and a miner's start call",
        ),
        DemoSite(
            "4452220010",
            "揭西县住房和城乡建设局",
            "揭西县住房和城乡建设局",
            "zjj.jiexi.gov.cn",
            scheme="http",
            tls=None,
            behaviour="maintenance",
            columns=_columns(),
            notes="the homepage answers 200 with a maintenance notice (网站维护中): a failed visit",
        ),
        DemoSite(
            "5304230001",
            "云南·通海",
            "通海县人民政府办公室",
            "www.tonghai.gov.cn",
            kind="portal",
            status="closed",
            columns=_columns(gzdt=1),
            notes="registered as closed (已关停) but still answering: 带病运行",
        ),
        DemoSite(
            "4451020011",
            "潮州市湘桥区人民政府",
            "潮州市湘桥区人民政府办公室",
            "www.xiangqiao.gov.cn",
            columns=_columns(gzdt=1, tzgg=3),
            guides="mixed",
            notes="服务不实用: of its service guides one lacks 办理时间 and 联系电话, one seven of the ten elements",
        ),
        DemoSite(
            "4451220005",
            "饶平县人民政府",
            "饶平县人民政府办公室",
            "www.raoping.gov.cn",
            columns=tuple(c for c in _columns(gzdt=1, tzgg=2) if c.category != "service"),
            guides="none",
            notes="服务不实用: no 办事服务 column and no way into the 政务服务网",
        ),
    )


# --- pages -------------------------------------------------------------------

_PROVINCE_ABBR = {
    "11": "京",
    "12": "津",
    "13": "冀",
    "14": "晋",
    "15": "蒙",
    "21": "辽",
    "22": "吉",
    "23": "黑",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "46": "琼",
    "50": "渝",
    "51": "川",
    "52": "黔",
    "53": "滇",
    "54": "藏",
    "61": "陕",
    "62": "甘",
    "63": "青",
    "64": "宁",
    "65": "新",
}
_WEEKDAYS = "一二三四五六日"
_TITLES = {
    "news": (
        "{unit}召开党组理论学习中心组学习会议",
        "{unit}开展安全生产大检查",
        "{unit}主要负责同志带队赴基层调研",
        "{unit}召开{year}年重点工作推进会",
        "{unit}组织开展普法宣传进社区活动",
        "{unit}举行政务公开专题培训",
        "{unit}部署汛期防灾减灾工作",
        "{unit}召开优化营商环境工作座谈会",
    ),
    "notice": (
        "关于{year}年公开招聘工作人员的公告",
        "关于开展{year}年政府网站自查工作的通知",
        "关于调整对外办公时间的通知",
        "{unit}{year}年政府信息公开工作年度报告",
        "关于征求《{unit}行政执法公示办法（征求意见稿）》意见的公告",
        "关于做好节假日期间值班值守工作的通知",
        "{unit}{year}年部门预算公开",
        "关于公布行政权力清单的公告",
    ),
    "longterm": ("{unit}领导班子成员及分工", "{unit}{year}年工作计划", "{unit}人员招录情况公示", "{unit}机构职能"),
    "interaction": ("关于办事流程的咨询（已答复）", "关于政策适用范围的咨询（已答复）", "关于办理时限的建议（已答复）"),
    "service": ("{unit}行政许可事项办事指南", "{unit}公共服务事项办事指南", "依申请公开办事指南"),
}
_ITEM_GAPS = (0, 2, 5, 9, 14, 20, 27, 35)
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xcc\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@dataclass(frozen=True, slots=True)
class _Item:
    title: str
    date: dt.date
    href: str


def _items(site: DemoSite, col: DemoColumn, today: dt.date) -> list[_Item]:
    if col.newest_days is None:
        return []
    titles = _TITLES[col.category]
    unit = site.organizer
    out = []
    for i, gap in enumerate(_ITEM_GAPS):
        day = today - dt.timedelta(days=int(col.newest_days) + gap)
        title = titles[i % len(titles)].format(unit=unit, year=day.year)
        if site.wrong_expression and col.category == "news" and i == 0:
            title = f"{unit}坚持{site.wrong_expression}深入推进政务公开工作"
        slug = col.path.strip("/")
        out.append(_Item(title, day, f"/art/{day:%Y/%m/%d}/art_{slug}_{i + 1}.html"))
    return out


def _date_text(site: DemoSite, day: dt.date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日" if site.encoding == "gbk" else day.isoformat()


def _page(site: DemoSite, title: str, body: str, today: dt.date, services: str) -> str:
    charset = "gb2312" if site.encoding == "gbk" else "utf-8"
    nav = "".join(f'<li><a href="{c.path}">{html.escape(c.name)}</a></li>' for c in site.columns)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta name="SiteName" content="{html.escape(site.name)}">
<meta name="SiteDomain" content="{site.host}">
<meta name="SiteIDCode" content="{site.code if site.footer_complete else ""}">
<title>{html.escape(title)}</title>
</head>
<body>
<div class="top"><span class="today">今天是：{today.year}年{today.month}月{today.day}日 星期{_WEEKDAYS[today.weekday()]}</span>
<span class="links"><a href="/">网站首页</a> | <a href="/wzdt/">网站地图</a> | <a href="/wza/">无障碍浏览</a></span></div>
<div class="header"><img src="/images/logo.gif" alt="{html.escape(site.name)}"><h1>{html.escape(site.name)}</h1></div>
<div class="nav"><ul><li><a href="/">首页</a></li>{nav}</ul></div>
<div class="main">
{body}
</div>
{_footer(site, services)}
</body>
</html>
"""


def _footer(site: DemoSite, services: str) -> str:
    if not site.footer_complete:
        return f"""<div class="footer"><p>主办单位：{html.escape(site.organizer)}</p>
<p>联系电话：0536-7600000　地址：坊子区北海路</p></div>"""
    abbr = _PROVINCE_ABBR.get(site.code[:2], "京")
    icp = f"{abbr}ICP备{site.code[2:8]}{site.code[-2:]}号"
    police = f"{site.code[:6]}02000{site.code[-3:]}"
    return f"""<div class="footer">
<p><a href="http://zfwzzc.www.gov.cn:{services}/check_web/errorSubmit?site_code={site.code}" target="_blank">
<img src="/images/zhaocuo.gif" alt="我为政府网站找错"></a>
<a href="http://bszs.conac.cn:{services}/sitename?method=show&amp;id={site.code}" target="_blank">
<img src="/images/dzjg.gif" alt="党政机关"></a></p>
<p>主办单位：{html.escape(site.organizer)}　网站标识码：{site.code}</p>
<p><a href="http://beian.miit.gov.cn:{services}/" target="_blank">{icp}</a>
<a href="http://www.beian.gov.cn:{services}/portal/registerSystemInfo?recordcode={police}" target="_blank">
<img src="/images/beian.gif" alt="">{abbr}公网安备 {police}号</a></p>
</div>"""


def _list_html(site: DemoSite, items: Sequence[_Item]) -> str:
    return "\n".join(
        f'<li><a href="{it.href}" title="{html.escape(it.title)}">{html.escape(it.title)}</a>'
        f'<span class="date">{_date_text(site, it.date)}</span></li>'
        for it in items
    )


def _homepage(site: DemoSite, today: dt.date, services: str) -> str:
    blocks = []
    for col in site._homepage_columns():
        items = _items(site, col, today)[:6]
        inner = (
            f'<ul class="list">{_list_html(site, items)}</ul>' if items else f'<p class="empty">{col.blank_text}</p>'
        )
        blocks.append(
            f'<div class="block"><h2><a href="{col.path}">{col.name}</a>'
            f'<a class="more" href="{col.path}">更多&gt;&gt;</a></h2>{inner}</div>'
        )
    if site.broken_links:
        dead = (
            '<a href="/old/zcfg/2016/art_77.html">人才引进政策（2016年版）</a>',
            '<a href="/uploads/2018/zhaopin.doc">招聘简章下载</a>',
            '<img src="/images/banner_2019.jpg" alt="专题">',
            '<a href="/zt/rcgz/index.html">人才工作专题</a>',
        )[: site.broken_links]
        blocks.append(f'<div class="block zt">{" ".join(dead)}</div>')
    if site.hidden_links:  # what an intrusion leaves: off-screen links, for search engines only
        pairs = list(zip(SPAM_HOSTS, SPAM_TEXTS, strict=True))[: site.hidden_links]
        planted = "".join(f'<a href="http://{host}:{services}/">{text}</a>' for host, text in pairs)
        blocks.append(f'<div style="position:absolute;left:-9999px;top:-9999px;">{planted}</div>')
    if site.injected:  # the same intrusion's code: nothing is fetched (the agent runs no scripts)
        blocks.append(
            f'<iframe src="http://{SPAM_HOSTS[0]}:{services}/" width="0" height="0" frameborder="0"></iframe>'
            "<script>var miner = new CoinHive.Anonymous('demo-site-key', {throttle: 0.3}); miner.start();</script>"
        )
    return _page(site, site.name, "\n".join(blocks), today, services)


def _column_page(site: DemoSite, col: DemoColumn, today: dt.date, services: str) -> str:
    items = _items(site, col, today)
    if items:
        body = (
            f'<div class="position">当前位置：<a href="/">首页</a> &gt; {col.name}</div><ul class="list">'
            f"{_list_html(site, items)}</ul><div class='page'>共{len(items)}条 第1页</div>"
        )
    else:
        body = (
            f'<div class="position">当前位置：<a href="/">首页</a> &gt; {col.name}</div>'
            f'<ul class="list"></ul><p class="empty">{col.blank_text}</p>'
        )
    return _page(site, f"{col.name}_{site.name}", body, today, services)


# A service guide's ten element categories as a 政务服务网 prints them (labels and values).
_GUIDE_ROWS = (
    ("事项名称", "{title}"),
    ("设定依据", "《中华人民共和国行政许可法》第二十九条"),
    ("申请条件", "申请人为本行政区域内依法登记的单位或个人"),
    ("申请材料", "1.申请表；2.申请人身份证明；3.相关证明材料"),
    ("办理地点", "{unit}政务服务中心一楼综合窗口"),
    ("实施主体", "{unit}"),
    ("是否收费", "否"),
    ("受理时间", "法定工作日上午9:00-12:00，下午14:30-17:30"),
    ("咨询电话", "0768-2220000"),
    ("办理流程", "申请、受理、审查、决定、送达"),
)
# "mixed" guides, in turn: complete, lacking 办理时间 and 联系电话 (partial), lacking seven (incomplete).
_MIXED_EMPTY = (
    (),
    ("受理时间", "咨询电话"),
    ("设定依据", "申请条件", "办理地点", "实施主体", "是否收费", "受理时间", "咨询电话"),
)


def _guide(site: DemoSite, item: _Item, n: int, today: dt.date, services: str) -> str:
    empty = _MIXED_EMPTY[(n - 1) % 3] if site.guides == "mixed" else ()
    rows = "".join(
        f'<tr><td class="label">{label}</td><td>'
        f"{'' if label in empty else html.escape(value.format(title=item.title, unit=site.organizer))}</td></tr>"
        for label, value in _GUIDE_ROWS
    )
    body = f"""<div class="article"><h1>{html.escape(item.title)}</h1>
<table class="bszn">{rows}</table></div>"""
    return _page(site, f"{item.title}_{site.name}", body, today, services)


_LETTERS = ("小区噪音扰民", "学校入学政策咨询", "社保卡补办流程", "路灯损坏无人维修", "公交线路调整建议")


def _letters(col: DemoColumn, today: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    """(title, asked, replied) of a demo mailbox, newest first."""
    if col.mailbox == "unanswered":
        asked = [today - dt.timedelta(days=1 + 3 * i) for i in range(40)]  # back to four months ago
        return [(f"关于{_LETTERS[i % 5]}的来信（{i + 1}）", d, None) for i, d in enumerate(asked)]
    asked = [today - dt.timedelta(days=100 + 10 * i) for i in range(20)]
    return [(f"关于{_LETTERS[i % 5]}的来信（{i + 1}）", d, d + dt.timedelta(days=5)) for i, d in enumerate(asked)]


def _mailbox_page(site: DemoSite, col: DemoColumn, today: dt.date, services: str) -> str:
    rows = "".join(
        f'<tr><td><a href="{col.path}{i + 1}.html">{html.escape(t)}</a></td>'
        f"<td>{'已办结' if r else '待回复'}</td><td>{a.isoformat()}</td><td>{r.isoformat() if r else ''}</td></tr>"
        for i, (t, a, r) in enumerate(_letters(col, today))
    )
    body = (
        f'<div class="position">当前位置：<a href="/">首页</a> &gt; {col.name}</div><table class="letters">'
        f"<tr><th>信件标题</th><th>办理状态</th><th>来信时间</th><th>回复时间</th></tr>{rows}</table>"
    )
    return _page(site, f"{col.name}_{site.name}", body, today, services)


def _letter_page(site: DemoSite, col: DemoColumn, n: int, today: dt.date, services: str) -> str | None:
    letters = _letters(col, today)
    if not 1 <= n <= len(letters):
        return None
    title, asked, replied = letters[n - 1]
    reply = (
        f"<tr><td>回复时间</td><td>{replied.isoformat()} 16:00</td></tr><tr><td>回复内容</td><td>您好，来信收悉，已转相关部门办理。</td></tr>"
        if replied
        else "<tr><td>回复内容</td><td>暂无回复</td></tr>"
    )
    body = (
        f'<table class="letter"><tr><td>信件标题</td><td>{html.escape(title)}</td></tr>'
        f"<tr><td>来信时间</td><td>{asked.isoformat()} 09:00</td></tr>"
        f"<tr><td>办理状态</td><td>{'已办结' if replied else '待回复'}</td></tr>{reply}</table>"
    )
    return _page(site, f"{title}_{site.name}", body, today, services)


def _article(site: DemoSite, item: _Item, today: dt.date, services: str) -> str:
    body = f"""<div class="article"><h1>{html.escape(item.title)}</h1>
<div class="info">发布时间：{item.date.isoformat()} 09:30　来源：{html.escape(site.organizer)}</div>
<div class="content"><p>{html.escape(item.title)}。为深入贯彻落实上级有关工作部署，进一步提升工作水平，
{html.escape(site.organizer)}高度重视，精心组织，确保各项工作落到实处。</p></div></div>"""
    return _page(site, f"{item.title}_{site.name}", body, today, services)


def site_app(
    site: DemoSite, *, services_port: int = 0, slow_seconds: float = 20.0, today: Callable[[], dt.date] = dt.date.today
) -> web.Application:
    """The aiohttp application of one simulated site (``behaviour`` ok, slow or error500)."""
    services = str(services_port)
    charset = "gbk" if site.encoding == "gbk" else "utf-8"

    def respond(text: str) -> web.Response:
        # Old CMSs send a bare text/html and declare the charset only in <meta>.
        ctype = "text/html" if site.encoding == "gbk" else "text/html; charset=utf-8"
        return web.Response(body=text.encode(charset, errors="xmlcharrefreplace"), headers={"Content-Type": ctype})

    @web.middleware
    async def behaviour(request: web.Request, handler: Any) -> web.StreamResponse:
        if site.behaviour == "slow":
            await asyncio.sleep(slow_seconds)
        if site.behaviour == "error500":
            return web.Response(
                status=500,
                text="<html><body><h1>500 Internal Server Error</h1></body></html>",
                content_type="text/html",
            )
        if site.behaviour == "maintenance":
            return web.Response(text=MAINTENANCE_NOTICE, content_type="text/html")
        return await handler(request)

    async def home(request: web.Request) -> web.Response:
        return respond(_homepage(site, today(), services))

    async def column(request: web.Request) -> web.Response:
        col = next((c for c in site.columns if c.path == f"/{request.match_info['slug']}/"), None)
        if col is None:
            raise web.HTTPNotFound()
        if col.mailbox:
            return respond(_mailbox_page(site, col, today(), services))
        return respond(_column_page(site, col, today(), services))

    async def letter(request: web.Request) -> web.Response:
        col = next((c for c in site.columns if c.path == f"/{request.match_info['slug']}/" and c.mailbox), None)
        text = _letter_page(site, col, int(request.match_info["n"]), today(), services) if col else None
        if text is None:
            raise web.HTTPNotFound()
        return respond(text)

    async def article(request: web.Request) -> web.Response:
        slug, n = request.match_info["slug"], int(request.match_info["n"])
        col = next((c for c in site.columns if c.path == f"/{slug}/"), None)
        items = _items(site, col, today()) if col else []
        if not 1 <= n <= len(items):
            raise web.HTTPNotFound()
        if col is not None and col.category == "service":  # a service column's items are its guides
            return respond(_guide(site, items[n - 1], n, today(), services))
        return respond(_article(site, items[n - 1], today(), services))

    async def sitemap(request: web.Request) -> web.Response:
        links = "".join(f'<li><a href="{c.path}">{html.escape(c.name)}</a></li>' for c in site.columns)
        return respond(_page(site, f"网站地图_{site.name}", f'<ul class="sitemap">{links}</ul>', today(), services))

    async def accessible(request: web.Request) -> web.Response:
        body = '<p>无障碍浏览：可通过键盘 Tab 键在页面链接间切换，按 Alt+Shift+1 返回<a href="/">首页</a>。</p>'
        return respond(_page(site, f"无障碍浏览_{site.name}", body, today(), services))

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=_GIF, content_type="image/gif")

    app = web.Application(middlewares=[behaviour])
    app.router.add_get("/", home)
    app.router.add_get("/index.html", home)
    app.router.add_get(r"/art/{y:\d{4}}/{m:\d\d}/{d:\d\d}/art_{slug:[a-z]+}_{n:\d+}.html", article)
    app.router.add_get(r"/images/{name:(logo|zhaocuo|dzjg|beian)\.gif}", image)
    app.router.add_get("/wzdt/", sitemap)
    app.router.add_get("/wza/", accessible)
    app.router.add_get(r"/{slug:[a-z]+}/", column)
    app.router.add_get(r"/{slug:[a-z]+}/{n:\d+}.html", letter)
    return app


def services_app() -> web.Application:
    """Stand-in for beian.miit.gov.cn, www.beian.gov.cn, zfwzzc.www.gov.cn and bszs.conac.cn."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=f"<html><body><p>{html.escape(request.host)}（演示替身，仅限本机）</p></body></html>",
            content_type="text/html",
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    return app


# --- the fleet -----------------------------------------------------------------

FeedsHook = Callable[[str], Any]


def _feeds_hook() -> FeedsHook | None:
    """The hook of ``agent.demo.feeds`` if that module exists (it is optional).

    ``demo_accounts(base_url)`` gives the accounts — YAML items of an ``accounts:``
    list (text), a list of mappings, or an ``(app, accounts)`` pair; the app, unless
    the pair names one, is ``feeds_app()`` (or ``rsshub_app()``) of the same module.
    """
    try:
        module = importlib.import_module("agent.demo.feeds")
    except ModuleNotFoundError as e:
        if e.name == "agent.demo.feeds":
            return None
        raise
    accounts_of = getattr(module, "demo_accounts", None)
    app_of = getattr(module, "feeds_app", None) or getattr(module, "rsshub_app", None)
    if not callable(accounts_of):
        return None

    def hook(base_url: str) -> tuple[web.Application | None, list[dict[str, Any]]]:
        app, accounts = _unpack_feeds(accounts_of(base_url))
        if app is None and callable(app_of):
            app = app_of()
        return app, accounts

    return hook


def _unpack_feeds(result: Any) -> tuple[web.Application | None, list[dict[str, Any]]]:
    app: web.Application | None = None
    if isinstance(result, tuple) and len(result) == 2:
        app, accounts = result
    elif hasattr(result, "accounts"):
        app, accounts = getattr(result, "app", None), result.accounts
    else:
        accounts = result
    if isinstance(accounts, str):
        accounts = yaml.safe_load(accounts) or []
    if not isinstance(accounts, list) or not all(isinstance(a, dict) for a in accounts):
        raise TypeError(f"demo accounts must be a list of mappings, not {type(accounts).__name__}")
    return app, [dict(a) for a in accounts]


@dataclass
class Fleet:
    """The started fleet: its DNS server, CA, sites and (optionally) feeds."""

    state_dir: str
    fast: bool = False
    listen: str = "127.0.0.1:9725"
    dns: DnsServer = field(default_factory=DnsServer)
    pki: Pki | None = None
    sites: tuple[DemoSite, ...] = ()
    accounts: tuple[dict[str, Any], ...] = ()
    feeds_url: str = ""
    services_port: int = 0
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack, repr=False)

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        state_dir: str | Path,
        *,
        fast: bool = False,
        listen: str = "127.0.0.1:9725",
        slow_seconds: float = 20.0,
        feeds: FeedsHook | None | bool = True,
        sites: Sequence[DemoSite] | None = None,
    ) -> AsyncIterator[Fleet]:
        """Start the fleet for the ``async with`` block; everything is closed on exit."""
        fleet = await cls.create(
            state_dir, fast=fast, listen=listen, slow_seconds=slow_seconds, feeds=feeds, sites=sites
        )
        try:
            yield fleet
        finally:
            await fleet.close()

    @classmethod
    async def create(
        cls,
        state_dir: str | Path,
        *,
        fast: bool = False,
        listen: str = "127.0.0.1:9725",
        slow_seconds: float = 20.0,
        feeds: FeedsHook | None | bool = True,
        sites: Sequence[DemoSite] | None = None,
    ) -> Fleet:
        """Start the fleet; ``await fleet.close()`` when done.  ``feeds=True`` uses the optional hook."""
        fleet = cls(state_dir=str(state_dir), fast=fast, listen=listen)
        try:
            await fleet._start(
                list(sites) if sites is not None else list(demo_sites()),
                slow_seconds,
                _feeds_hook() if feeds is True else (feeds or None),
            )
        except BaseException:
            await fleet.close()
            raise
        return fleet

    async def _start(self, plan: list[DemoSite], slow_seconds: float, hook: FeedsHook | None) -> None:
        stack = self._stack
        await self.dns.start()
        stack.push_async_callback(self.dns.close)
        pki_dir = Path(self.state_dir) / "pki"
        self.pki = Pki(pki_dir)

        services = await hostile.serve_app(services_app())
        stack.push_async_callback(services.close)
        self.services_port = services.port
        for name in SERVICE_HOSTS + SPAM_HOSTS:
            self.dns.set(name, [LOOPBACK])

        started = []
        for site in plan:
            served = await self._serve_site(site, slow_seconds)
            stack.push_async_callback(served.close)
            started.append(replace(site, port=served.port))
            if site.in_zone:
                self.dns.set(site.host, [LOOPBACK])
        self.sites = tuple(started)

        if hook is not None:
            await self._start_feeds(hook)

    async def _serve_site(self, site: DemoSite, slow_seconds: float) -> hostile.Served:
        if site.behaviour == "refused":
            served = await hostile.refused()
            served.scheme = site.scheme
            return served
        return await hostile.serve_app(
            site_app(site, services_port=self.services_port, slow_seconds=slow_seconds),
            ssl_context=self._ssl_context(site),
        )

    def _ssl_context(self, site: DemoSite) -> ssl.SSLContext | None:
        assert self.pki is not None
        if site.scheme != "https":
            return None
        if site.tls == "expiring":
            return self.pki.expiring(site.host, EXPIRING_DAYS)
        if site.tls == "expired":
            return self.pki.expired(site.host)
        if site.tls == "wrong_host":
            return self.pki.wrong_host(WRONG_HOST_CERT)
        return self.pki.valid(site.host)

    async def _start_feeds(self, hook: FeedsHook) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, 0))
        self.feeds_url = f"http://{FEEDS_HOST}:{sock.getsockname()[1]}"
        self.dns.set(FEEDS_HOST, [LOOPBACK])
        app, accounts = _unpack_feeds(hook(self.feeds_url))
        if app is None:
            sock.close()
        else:
            served = await hostile.serve_app(app, sock=sock)
            self._stack.push_async_callback(served.close)
        self.accounts = tuple(accounts)

    async def close(self) -> None:
        await self._stack.aclose()
        if self.pki is not None:
            self.pki.close()

    # --- views ---------------------------------------------------------------

    def site(self, code: str) -> DemoSite:
        return next(s for s in self.sites if s.code == code)

    def config_dict(self) -> dict[str, Any]:
        assert self.pki is not None, "the fleet has not started"
        cfg: dict[str, Any] = {
            "listen": self.listen,
            "state_dir": self.state_dir,
            "dns": {"nameservers": [self.dns.address], "timeout": "3s"},
            "tls": {"ca_file": self.pki.ca_file},
            "http": {"timeout": "15s"},
        }
        if self.fast:
            cfg["intervals"] = {
                "http": "15s",
                "dns": "15s",
                "tls": "1m",
                "content": "30s",
                "links": "2m",
                "services": "2m",
                "interaction": "1m",
                "feed": "1m",
            }
        if self.feeds_url:
            cfg["feeds"] = {"rsshub": self.feeds_url}
        cfg["sites"] = [
            {
                "code": s.code,
                "name": s.name,
                "url": s.url,
                "kind": s.kind,
                "status": s.status,
                "organizer": s.organizer,
                "columns": [
                    {"name": c.name, "url": s.url.rstrip("/") + c.path, "category": c.category} for c in s.columns
                ],
            }
            for s in self.sites
        ]
        if self.accounts:
            cfg["accounts"] = [dict(a) for a in self.accounts]
        return cfg

    def config_yaml(self) -> str:
        head = (
            "# Xuncha demo fleet: every host below is simulated on 127.0.0.1 and resolved only by the\n"
            f"# demo's own DNS server ({self.dns.address}); certificates come from the demo CA.\n"
        )
        return head + yaml.safe_dump(self.config_dict(), allow_unicode=True, sort_keys=False, width=120)

    def write_config(self, path: str | Path | None = None) -> Path:
        p = Path(path) if path is not None else Path(self.state_dir) / "xuncha.yml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.config_yaml(), encoding="utf-8")
        return p

    def describe(self) -> str:
        """One line per site: code, name, URL and what it is there to show."""
        return "\n".join(f"{s.code}  {s.name}  {s.url}  — {s.notes}" for s in self.sites)
