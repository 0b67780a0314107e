"""Weeks of hourly series for a small fleet, each site or account holding one verdict for part of the period.

Day ``i`` is the period's ``i``-th Beijing day (0 = the first).  Every story below says
what the report must find; tests/test_quarterly*.py check it against the real Prometheus.
The series are the agent's raw metrics (``domain.metric_names``), written as OpenMetrics
and backfilled with ``promtool tsdb create-blocks-from openmetrics``.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from agent.demo.hostile import free_port
from agent.quarterly.period import midnight
from domain import metric_names as M
from domain.divisions import region_of_unit
from domain.registry import NO_REGION

HOUR, DAY = 3600.0, 86400.0
DAYS = 42  # the period under test
LEAD = 8  # days of data before the period (the availability window looks back 7 days)
INFO_LEAD = 20  # the registry's info series start earlier than the rest: a period there lacks the counters

Value = Callable[[float], float | None]  # time -> value (None: no sample)


@dataclass
class Fleet:
    first: date  # day 0
    series: dict[tuple[str, tuple[tuple[str, str], ...]], Value] = field(default_factory=dict)

    def at(self, day: float, hour: float = 0) -> float:
        """Unix time of ``hour`` o'clock (Beijing) on day ``day``."""
        return midnight(self.first) + day * DAY + hour * HOUR

    @property
    def last(self) -> date:
        return self.first + timedelta(days=DAYS - 1)

    def day(self, i: int) -> str:
        return (self.first + timedelta(days=i)).isoformat()

    def add(self, metric: str, value: Value, **labels: str) -> None:
        self.series[(metric, tuple(sorted(labels.items())))] = value

    def openmetrics(self) -> Iterator[str]:
        start, end = self.at(-LEAD), self.at(DAYS)
        for (name, labels), value in sorted(self.series.items()):
            lab = ",".join(f'{k}="{v}"' for k, v in labels)
            t = self.at(-INFO_LEAD) if name in (M.SITE_INFO, M.ACCOUNT_INFO) else start
            while t <= end:
                v = value(t)
                if v is not None:
                    yield f"{name}{{{lab}}} {v:.15g} {int(t)}\n"
                t += HOUR
        yield "# EOF\n"


def counter(per_hour: Callable[[float], float], origin: float) -> Value:
    """A counter that grows by ``per_hour(t)`` each hour from ``origin`` (asked in rising time order)."""
    state = [origin, 0.0]

    def value(t: float) -> float:
        while state[0] < t:
            state[0] += HOUR
            state[1] += per_hour(state[0])
        return state[1]

    return value


def build_fleet(first: date) -> Fleet:
    f = Fleet(first)
    at = f.at

    def site(
        code: str,
        name: str,
        status: str = "active",
        fail: Callable[[float], float] = lambda t: 0.0,
        visits: float = 12.0,
        homepage: Value | None = None,
    ) -> None:
        region = {"4405": ("广东省汕头市龙湖区", "广东省"), "4451": ("广东省潮州市", "广东省")}[code[:4]]
        f.add(
            M.SITE_INFO,
            lambda t: 1,
            code=code,
            name=name,
            region=region[0],
            province=region[1],
            kind="department",
            status=status,
            url=f"https://{code}.example.gov.cn/",
        )
        f.add(M.HTTP_CHECKS_TOTAL, counter(lambda t: visits, at(-LEAD)), code=code)
        f.add(M.HTTP_FAILURES_TOTAL, counter(lambda t: visits * fail(t), at(-LEAD)), code=code)
        daily = homepage or (lambda t: at((t - at(0, 1)) // DAY, 1))  # a new item at 01:00 every day
        f.add(M.HOMEPAGE_LAST_UPDATE, daily, code=code)
        # the score (issue 19): 100, the links and the homepage's updates measured without a deduction
        f.add(M.SITE_SCORE, lambda t: 100.0, code=code)
        for item in ("homepage_links", "other_links", "homepage_updates"):
            f.add(M.SITE_DEDUCTIONS, lambda t: 0.0, code=code, item=item)

    def during(a: float, b: float, inside: float, outside: float = 0.0) -> Callable[[float], float]:
        return lambda t: inside if a <= t < b else outside

    def between(since: float, until: float) -> Value:
        """A last-update time fresh every hour, but stuck at ``since`` from ``since`` until ``until``."""
        return lambda t: since if since <= t < until else t - HOUR

    def stuck(since: float, until: float) -> Value:
        """A last-update time stuck at ``since`` until ``until``, then fresh every hour."""
        return lambda t: since if t < until else t - HOUR

    def column(code: str, name: str, category: str, last: Value | None = None, blank: Value | None = None) -> None:
        f.add(M.COLUMN_LAST_UPDATE, last or (lambda t: t - 2 * HOUR), code=code, column=name, category=category)
        f.add(M.COLUMN_BLANK, blank or (lambda t: 0), code=code, column=name, category=category)

    # healthy (must never appear)
    site("4405070001", "汕头市龙湖区人民政府")
    column("4405070001", "工作动态", "news")
    site("4451000001", "潮州市人民政府")
    # 站点无法访问: 30 % of visits fail on days 10–12 → the 7-day ratio is ≥ 5 % for windows ending days 11–17
    site("4405070002", "汕头市龙湖区教育局", fail=during(at(10), at(13), 0.30))
    # 4 % of visits fail all the time: a warning (3 %), never a veto
    site("4405070011", "汕头市龙湖区民政局", fail=lambda t: 0.04)
    # every visit fails, but 1 visit a day is too few to be a ratio (the rule's cadence)
    site("4405070012", "汕头市龙湖区档案馆", fail=lambda t: 1.0, visits=1 / 24)
    # 首页不更新: nothing new from 10:00 day 2 until 10:00 day 22 → veto days 16–22, worst ≈ 20 days
    site("4405070003", "汕头市龙湖区水务局", homepage=stuck(at(2, 10), at(22, 10)))
    # a homepage updated every 13 days: never a veto
    site("4405070013", "汕头市龙湖区文化馆", homepage=lambda t: at(-LEAD) + ((t - at(-LEAD)) // (13 * DAY)) * 13 * DAY)
    # early warnings at the end: homepage 10.6 days old (3.4 days left), 3 blank columns
    site("4405070009", "汕头市龙湖区科技局", homepage=stuck(at(DAYS - 11, 10), at(DAYS + 5)))
    for i in range(3):
        column("4405070009", f"栏目{i}", "news", blank=lambda t: 1)
    # 空白栏目: five blank columns on days 20–29
    site("4405070004", "汕头市龙湖区统计局")
    for i in range(6):
        column("4405070004", f"栏目{i}", "news", blank=during(at(20), at(30), 1.0) if i < 5 else None)
    # four blank columns all the time: a warning, never a veto
    site("4405070014", "汕头市龙湖区审计局")
    for i in range(4):
        column("4405070014", f"栏目{i}", "notice", blank=lambda t: 1)
    # 栏目不更新: five news columns without news from 10:00 day 0 until day 25 → veto days 14–25
    site("4405070005", "汕头市龙湖区司法局")
    for i in range(5):
        column("4405070005", f"动态{i}", "news", last=stuck(at(0, 10), at(25, 10)))
    # ten long-term columns a year and more behind: a veto all period
    site("4405070015", "汕头市龙湖区人力资源和社会保障局")
    for i in range(10):
        column("4405070015", f"规划计划{i}", "longterm", last=lambda t: at(-400))
    # four stale news and five stale long-term columns: 4 < 5 and 9 < 10, warnings only
    site("4405070016", "汕头市龙湖区住房和城乡建设局")
    for i in range(4):
        column("4405070016", f"动态{i}", "news", last=lambda t: at(-30))
    for i in range(5):
        column("4405070016", f"规划{i}", "longterm", last=lambda t: at(-400))
    # 互动回应差: no reply from 80 days before 10:00 day 0 until 10:00 day 30 → veto days 10–30
    site("4405070006", "汕头市龙湖区信访局")
    column("4405070006", "咨询建言", "interaction", last=stuck(at(0, 10) - 80 * DAY, at(30, 10)))

    # ten long-term columns configured at 06:00 on day 20, their newest items already 400 days old → a
    # veto from day 20 (new columns: not among those near the 365-day line at the period's start)
    def added(since: float, value: float) -> Value:
        return lambda t: value if t >= since else None

    for i in range(10):
        column("4405070006", f"规划{i}", "longterm", last=added(at(20, 6), at(-400)), blank=added(at(20, 6), 0))
    # a consultation unanswered since 10:00 on day DAYS-70: 69.6 days at the end, a warning (60), 20.4 days left
    site("4405070017", "汕头市龙湖区政务服务数据管理局")
    column("4405070017", "咨询建言", "interaction", last=stuck(at(DAYS - 70, 10), at(DAYS + 5)))

    # 互动回应差 read as messages (issue 18).  A 市长信箱 receiving a letter every hour (its newest item
    # is always fresh) that left one unanswered from 80 days before 10:00 day 0 until it was answered at
    # 10:00 day 30 → veto days 10–30, as 4405070006 by its newest item
    def mailbox(code: str, oldest: Value | None, newest: Value) -> None:
        f.add(M.INTERACTION_STATE_SHOWN, lambda t: 1, code=code, column="市长信箱")
        if oldest is not None:
            f.add(M.INTERACTION_OLDEST_UNANSWERED, oldest, code=code, column="市长信箱")
        column(code, "市长信箱", "interaction", last=newest)

    mailbox("4405070005", lambda t: at(0, 10) - 80 * DAY if t < at(30, 10) else None, lambda t: t - HOUR)
    # and one answering everything that nobody wrote to for 100 days: its newest item is old, no veto
    mailbox("4405070001", None, lambda t: at(-100))
    # and a 网上信访 column there, no consultation channel: its newest item, 200 days old, is not judged
    f.add(M.INTERACTION_CONSULTATION, lambda t: 0, code="4405070001", column="网上信访")
    column("4405070001", "网上信访", "interaction", last=lambda t: at(-200))
    # no consultation channel from 06:00 day 5 to 06:00 day 8 (the 信箱 taken offline) → a veto days 5–8
    f.add(M.SITE_CONSULTATION_CHANNELS, during(at(5, 6), at(8, 6), 0.0, 1.0), code="4405070007")
    f.add(M.SITE_CONSULTATION_CHANNELS, lambda t: 2.0, code="4405070001")  # two channels all along
    # 严重错误 from 10:00 day 30 to 10:00 day 31
    site("4405070007", "汕头市龙湖区扶贫办")
    f.add(M.SERIOUS_ERRORS, during(at(30, 10), at(31, 10), 1.0), code="4405070007")
    # 暗链: three hidden links planted on day 38, cleaned on day 40 (same site: the counts stay)
    f.add(M.HIDDEN_LINKS, during(at(38, 6), at(40, 9), 3.0), code="4405070007")
    f.add(M.HIDDEN_LINKS, lambda t: 0.0, code="4405070001")  # measured and clean all along
    # 服务不实用 (issue 18): 4405070007 shows an incomplete guide from 09:00 day 20 until 15:00 day 22;
    # 4405070008 offers no services on days 10-11; 4405070001's guides are complete all along
    for code, incomplete in (
        ("4405070007", during(at(20, 9), at(22, 15), 1.0)),
        ("4405070001", lambda t: 0.0),
        ("4405070008", lambda t: 0.0),
    ):
        f.add(M.SITE_SERVICE_GUIDES, incomplete, code=code, state="incomplete")
        f.add(M.SITE_SERVICE_GUIDES, lambda t: 3.0, code=code, state="complete")
    f.add(M.SITE_NO_SERVICES, during(at(10, 0), at(12, 0), 1.0), code="4405070008")
    f.add(M.SITE_NO_SERVICES, lambda t: 0.0, code="4405070001")
    f.add(M.SITE_NO_SERVICES, lambda t: 0.0, code="4405070007")
    # 挂马 (issue 19): a mining script and a hidden frame from 09:00 day 34 until cleaned at 15:00 day 35
    f.add(M.SITE_MALICIOUS_SCRIPTS, during(at(34, 9), at(35, 15), 2.0), code="4405070007")
    f.add(M.SITE_MALICIOUS_SCRIPTS, lambda t: 0.0, code="4405070001")  # measured and clean all along
    # 栏目不更新 between two midnights: five news columns 14 days without news from 02:00 to 20:00 on day
    # 16 (13.9 days at its first midnight, fresh at its last) → a veto on day 16 only
    for i in range(5):
        column("4405070007", f"要闻{i}", "news", last=between(at(2, 2), at(16, 20)))
    # 空白栏目 from 10:00 to 20:00 on day 5 only: five columns at once, between two samples of a daily first pass
    for i in range(5):
        column("4405070007", f"专题{i}", "notice", blank=during(at(5, 10), at(5, 20), 1.0))
    # 泄露个人信息: two ID numbers on day 12
    site("4405070008", "汕头市龙湖区卫生健康局")
    # five news columns stale 2 hours each on day 16, one after the other: never more than one at once
    for i in range(5):
        column("4405070008", f"要闻{i}", "news", last=between(at(2, 1 + 4 * i), at(16, 3 + 4 * i)))
    # five columns blank 10 hours each on days 3, 5, 7, 9, 11: never more than one at once
    for i in range(5):
        column("4405070008", f"专题{i}", "notice", blank=during(at(3 + 2 * i, 10), at(3 + 2 * i, 20), 1.0))
    f.add(M.PRIVACY_LEAKS, during(at(12, 1), at(12, 20), 2.0), code="4405070008")
    # and a wrong expression from 10:00 to 20:00 on day 13: between two samples of a daily first pass
    f.add(M.SERIOUS_ERRORS, during(at(13, 10), at(13, 20), 1.0), code="4405070008")
    # 带病运行: registered closed, still online on days 0–5; its stale homepage is no longer judged
    site("4405070010", "汕头市国土资源局龙湖分局", status="closed", homepage=lambda t: at(-100))
    f.add(M.SITE_CLOSED_BUT_ONLINE, during(at(0), at(6), 1.0), code="4405070010")
    # Findings counters (below): every hourly sample is a check, except where CHECKS says otherwise.
    # 泄露个人信息 on a site whose agent predates the findings counters: from 03:00 to 09:00 on day 22
    site("4405070018", "汕头市龙湖区交通运输局")
    f.add(M.PRIVACY_LEAKS, during(at(22, 3), at(22, 9), 1.0), code="4405070018")
    # 暗链 seen by the last check before the period (23:00 the day before; checks every 6 hours) and gone
    # at the first check within it (05:00 day 0): the counter does not move in the period, the gauge shows
    # it until 05:00 → a veto on day 0
    site("4405070019", "汕头市龙湖区农业农村局")
    f.add(M.HIDDEN_LINKS, during(at(-3, 23), at(0, 5), 2.0), code="4405070019")
    # the same, gone three days before the period: never a veto
    site("4405070020", "汕头市龙湖区商务局")
    f.add(M.HIDDEN_LINKS, during(at(-6, 23), at(-3, 5), 2.0), code="4405070020")

    def account(
        ident: str,
        unit: str,
        platform: str,
        name: str,
        last: Value | None = None,
        status: str = "active",
        online: float = 0.0,
        serious: Value | None = None,
        leaks: Value | None = None,
    ) -> None:
        region = region_of_unit(unit) or NO_REGION  # as the agent labels it (issue 10)
        f.add(
            M.ACCOUNT_INFO,
            lambda t: 1,
            account=ident,
            unit=unit,
            platform=platform,
            name=name,
            status=status,
            region=region.name,
            province=region.province,
        )
        f.add(M.FEED_SUCCESS, lambda t: 1, account=ident)
        f.add(M.FEED_LAST_ENTRY, last or (lambda t: t - 3 * HOUR), account=ident)
        if status == "stopped":
            f.add(M.ACCOUNT_NOT_DEREGISTERED, lambda t: online, account=ident)
        # wrong expressions and ID numbers in posts (issue 18): the agent writes them only above 0
        if serious is not None:
            f.add(M.ACCOUNT_SERIOUS_ERRORS, sparse(serious), account=ident)
        if leaks is not None:
            f.add(M.ACCOUNT_PRIVACY_LEAKS, sparse(leaks), account=ident)

    account("chaozhou-police-wechat", "潮州市公安局", "wechat", "平安潮州")
    # 内容不更新: silent from 10:00 day 5 until 10:00 day 28 → veto days 19–28
    # and a post with a wrong expression from 09:00 day 33 until 15:00 day 35, one with an ID number on
    # day 36 from 10:00 to 14:00 (issue 18): vetoes of their own on those days
    account(
        "longhu-weibo",
        "汕头市龙湖区人民政府",
        "weibo",
        "龙湖发布",
        last=stuck(at(5, 10), at(28, 10)),
        serious=during(at(33, 9), at(35, 15), 1.0),
        leaks=during(at(36, 10), at(36, 14), 1.0),
    )
    # silent 8.6 days at the end: a warning with 5.4 days left
    account("longhu-douyin", "汕头市龙湖区人民政府", "douyin", "龙湖抖音", last=stuck(at(DAYS - 9, 10), at(DAYS + 5)))
    # posts every 13 days: never a veto
    account(
        "chaozhou-edu-toutiao",
        "潮州市教育局",
        "toutiao",
        "潮州教育",
        last=lambda t: at(-LEAD) + ((t - at(-LEAD)) // (13 * DAY)) * 13 * DAY,
    )

    # Several posts in one day (the pitfall of daily evaluations).  Silent from 12:00 day 5; the first post
    # comes at 08:00 day 19 (13.8 days, seen at 09:00: no veto), another at 20:00 day 19.  The midnight
    # values of the last-post time go from 12:00 day 5 to 20:00 day 19, 14.3 days apart: a false veto
    # for whoever takes that as the silence.
    def bursts(*posts: float) -> Value:
        """Posting every hour, except from ``posts[0]`` to the next day's 01:00 after the last of ``posts``
        (each seen an hour after it)."""
        fresh = at((posts[-1] - at(0)) // DAY + 1, 1)

        def value(t: float) -> float:
            if t < posts[0] + HOUR or t >= fresh:
                return t - HOUR
            return max(p for p in posts if p + HOUR <= t)

        return value

    account(
        "longhu-kuaishou", "汕头市龙湖区人民政府", "kuaishou", "龙湖快手", last=bursts(at(5, 12), at(19, 8), at(19, 20))
    )
    # Silent from 01:00 day 5 until a post at 22:00 day 19 (14.9 days, seen at 23:00), another at 23:00:
    # a veto on day 19 alone, although at every Beijing midnight the account was silent under 14 days.
    account(
        "chaozhou-kuaishou", "潮州市人民政府", "kuaishou", "潮州快手", last=bursts(at(5, 1), at(19, 22), at(19, 23))
    )
    # 已停用未注销, and a stopped account that is really gone
    account("chaoan-fda-wechat", "潮安区食品药品监督管理局", "wechat", "潮安食药监", status="stopped", online=1.0)
    account("chaoan-old-wechat", "潮安区卫生健康局", "wechat", "潮安卫生健康", status="stopped", online=0.0)
    # 扣分大于40分(多处链接无法打开), as 汕头 2017 Q2 failed 澄海人才网: 450 broken links on column pages and
    # articles (−0.1 each: 45) from day 10 to the end of day 19, then all but 40 fixed (−4): unqualified,
    # though it ends the period at 96
    site("4405070021", "汕头市龙湖区人才网")
    links = during(at(10), at(20), 45.0, 4.0)
    f.add(M.SITE_DEDUCTIONS, links, code="4405070021", item="other_links")
    f.add(M.SITE_SCORE, lambda t: 100.0 - links(t), code="4405070021")
    # exactly 60 on day 5 (qualified: "more than 40" deducted is not), 65 at the end (the early warning):
    # 30 broken homepage links and fewer than 10 homepage updates in two weeks
    site("4405070022", "汕头市龙湖区档案馆")
    home = during(at(5), at(6), 35.0, 30.0)
    f.add(M.SITE_DEDUCTIONS, home, code="4405070022", item="homepage_links")
    f.add(M.SITE_DEDUCTIONS, lambda t: 5.0, code="4405070022", item="homepage_updates")
    f.add(M.SITE_SCORE, lambda t: 100.0 - home(t) - 5.0, code="4405070022")
    add_findings(f, old_agent={"4405070018"}, checks={"4405070019": 6 * HOUR, "4405070020": 6 * HOUR})
    return f


SITE_GAUGE_FINDINGS = {
    M.SERIOUS_ERRORS: "serious_errors",
    M.PRIVACY_LEAKS: "privacy_leaks",
    M.HIDDEN_LINKS: "hidden_links",
    M.SITE_MALICIOUS_SCRIPTS: "malicious_scripts",
    M.SITE_CLOSED_BUT_ONLINE: "closed_but_online",
    M.SITE_SERVICE_GUIDES: "incomplete_guides",  # its state="incomplete" series
    M.SITE_NO_SERVICES: "no_services",
}


ACCOUNT_GAUGE_FINDINGS = {
    M.ACCOUNT_NOT_DEREGISTERED: "not_deregistered",
    M.ACCOUNT_SERIOUS_ERRORS: "serious_errors",
    M.ACCOUNT_PRIVACY_LEAKS: "privacy_leaks",
}


def sparse(value: Value) -> Value:
    """``value`` without its zeros (no sample), as the agent writes the account post findings."""

    def sampled(t: float) -> float | None:
        v = value(t)
        return v if v else None

    return sampled


def checks_seeing(gauge: Callable[[float], float], origin: float, every: float = HOUR) -> Value:
    """The agent's findings counter: the checks at ``origin + k * every`` whose result showed the finding
    (``gauge`` above 0 there); asked in rising time order."""
    state = [origin, 0.0]

    def value(t: float) -> float:
        while state[0] <= t:
            state[1] += 1 if (gauge(state[0]) or 0) > 0 else 0
            state[0] += every
        return state[1]

    return value


def add_findings(f: Fleet, old_agent: set[str], checks: dict[str, float]) -> None:
    """The findings counters the agent keeps beside its gauges (``domain.metric_names``), from the gauges'
    values: per site and finding, per stopped account.  ``old_agent``: sites without counters;
    ``checks``: sites checked every so many seconds from 23:00 (else every hour, at the samples)."""
    blank: dict[str, list[Value]] = {}
    for (name, labels), value in list(f.series.items()):
        lab = dict(labels)
        if name == M.COLUMN_BLANK:
            blank.setdefault(lab["code"], []).append(value)
        elif name == M.SITE_SERVICE_GUIDES and lab.get("state") != "incomplete":
            continue  # the counter counts the checks that read an incomplete guide
        elif name in SITE_GAUGE_FINDINGS and lab["code"] not in old_agent:
            every = checks.get(lab["code"])
            origin = f.at(-LEAD, 23) if every else f.at(-LEAD)
            seen = checks_seeing(value, origin, every or HOUR)  # type: ignore[arg-type]
            f.add(M.SITE_FINDINGS_TOTAL, seen, code=lab["code"], finding=SITE_GAUGE_FINDINGS[name])
        elif name in ACCOUNT_GAUGE_FINDINGS:
            seen = checks_seeing(value, f.at(-LEAD))  # type: ignore[arg-type]
            if name != M.ACCOUNT_NOT_DEREGISTERED:
                seen = sparse(seen)  # written once it moved, as the agent does
            f.add(M.ACCOUNT_FINDINGS_TOTAL, seen, account=lab["account"], finding=ACCOUNT_GAUGE_FINDINGS[name])
    for code, columns in blank.items():
        if code not in old_agent:
            anyone = checks_seeing(lambda t, cs=columns: max((c(t) or 0) for c in cs), f.at(-LEAD))
            f.add(M.SITE_FINDINGS_TOTAL, anyone, code=code, finding="blank_columns")


@contextlib.contextmanager
def prometheus(
    workdir: Path, openmetrics: Iterator[str] | None, basic_auth: tuple[str, str] | None = None
) -> Iterator[str]:
    """The real Prometheus on a free loopback port, its TSDB backfilled from ``openmetrics``; yields its URL.

    ``basic_auth`` (user, password): Prometheus asks for it (its own ``--web.config.file``)."""
    tsdb = workdir / "tsdb"
    tsdb.mkdir(parents=True, exist_ok=True)
    if openmetrics is not None:
        source = workdir / "series.om"
        with source.open("w", encoding="utf-8") as out:
            out.writelines(openmetrics)
        subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                "--max-block-duration=2400h",
                str(source),
                str(tsdb),
            ],
            check=True,
            capture_output=True,
        )
    config = workdir / "prometheus.yml"
    config.write_text("global: {scrape_interval: 1h}\n", encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    web_args, ready = [], urllib.request.Request(url + "/-/ready")
    if basic_auth is not None:
        import base64

        import bcrypt

        user, password = basic_auth
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
        (workdir / "web.yml").write_text(f"basic_auth_users:\n  {user}: '{hashed}'\n", encoding="utf-8")
        web_args = [f"--web.config.file={workdir / 'web.yml'}"]
        ready.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    log = (workdir / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
            *web_args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(ready, timeout=2) as r:
                    if r.status == 200:
                        break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start:\n{(workdir / 'prometheus.log').read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
