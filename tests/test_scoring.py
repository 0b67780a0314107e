"""The score (issue 19): the table's items, provoked and not, on loopback sites; a demo site's score
computed by hand; ``scoring:`` in xuncha.yml; the week's visits; the score in /metrics and /api/."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.fleet import Fleet as DemoFleet
from agent.demo.fleet import demo_sites
from agent.exposition.collector import TargetExposition
from agent.registry.config import Config, ConfigError, loads
from agent.run import scores
from agent.run.results import ResultStore, target_key
from agent.run.state import StateStore
from domain import metric_names as M
from domain.scoring import DEFAULT_TABLE, MEASURES, Item, Table, score
from domain.thresholds import THRESHOLDS
from probes import content_probe, links
from probes.context import ProbeContext
from probes.net import Network
from probes.results import HttpResult

DAY = 86400.0
GOOD, BAD = "www.good.gov.cn", "www.bad.gov.cn"
CODES = {GOOD: "4405070010", BAD: "4405070020"}


# --- the score itself (pure), by hand ----------------------------------------------------------------


def measured(**over: float | None) -> dict[str, float | None]:
    """Every measure at a value that deducts nothing, but those given."""
    base: dict[str, float | None] = {
        "unreachable_percent": 0.0,
        "homepage_links_broken": 0,
        "other_links_broken": 0,
        "homepage_updates": 10,
        "survey_columns": 1,
        "survey_items_year": 6,
        "interview_columns": 1,
        "interview_items_year": 1,
        "page_tags_missing": 0,
        "consultation_columns": 1,
        "consultation_answered_year": 1,
    }
    return {**base, **over}


@pytest.mark.parametrize(
    ("over", "kind", "item", "points"),
    [
        ({"unreachable_percent": 1.9}, "portal", "availability", 5),  # each whole 1 %: −5
        ({"unreachable_percent": 0.99}, "portal", "availability", 0),
        ({"unreachable_percent": 100}, "portal", "availability", 20),  # at most 4 × 5: from 5 % on, the veto
        ({"homepage_links_broken": 3}, "department", "homepage_links", 3),  # −1 each
        ({"other_links_broken": 450}, "department", "other_links", 45),  # −0.1 each
        ({"homepage_updates": 9}, "portal", "homepage_updates", 5),  # fewer than 10 in two weeks
        ({"homepage_updates": 10}, "portal", "homepage_updates", 0),
        ({"survey_columns": 0}, "portal", "survey_missing", 5),
        ({"survey_items_year": 0}, "portal", "survey_none", 5),
        ({"survey_items_year": 5}, "portal", "survey_few_portal", 3),  # under 6 a year for portals
        ({"survey_items_year": 3}, "department", "survey_few_department", 0),  # 3 is enough for others
        ({"survey_items_year": 2}, "department", "survey_few_department", 3),
        ({"interview_items_year": 0}, "department", "interview_unused", 5),
        ({"page_tags_missing": 4}, "department", "page_tags", 0.5),  # once, however many pages
        ({"consultation_columns": 0}, "portal", "consultation_missing", 5),
        ({"consultation_answered_year": 0}, "portal", "consultation_unanswered", 5),
    ],
)
def test_each_item_deducts_its_points_at_its_line_and_nothing_below(
    over: dict[str, float], kind: str, item: str, points: float
) -> None:
    s = score(DEFAULT_TABLE, kind, measured(**over))
    assert s.items[item] == points
    assert s.deducted == points and s.total == 100 - points
    assert all(v == 0 for k, v in s.items.items() if k != item)


def test_a_missing_column_deducts_once_and_its_activity_items_do_not_apply() -> None:
    s = score(DEFAULT_TABLE, "portal", measured(survey_columns=0, survey_items_year=None, interview_columns=0))
    assert s.items["survey_missing"] == 5 and "survey_none" not in s.items and "interview_unused" not in s.items
    assert s.not_measured == ()  # not applicable is not "not measured"


def test_items_not_measured_are_not_scored_and_named() -> None:
    s = score(DEFAULT_TABLE, "department", measured(consultation_columns=None, unreachable_percent=None))
    assert s.total == 100 and set(s.not_measured) == {"availability", "consultation_missing", "consultation_unanswered"}
    assert "survey_few_portal" not in s.items and "survey_few_portal" not in s.not_measured  # portals only


def test_the_deductions_part_is_worth_100_and_the_bonus_counts_only_above_80() -> None:
    assert score(DEFAULT_TABLE, "portal", measured(homepage_links_broken=2000)).total == 0
    table = Table((*DEFAULT_TABLE.items, Item("innovation", "创新", "survey_items_year", 2, per=1, bonus=True)))
    high = score(table, "portal", measured(survey_items_year=20, homepage_links_broken=10))
    assert (high.deducted, high.bonus, high.total) == (10, 30, 120)  # 40 earned, 30 at most
    low = score(table, "portal", measured(survey_items_year=20, homepage_links_broken=20))
    assert (low.deducted, low.bonus, low.total) == (20, 0, 80)  # 80 is not above 80


def test_a_cap_bounds_an_item() -> None:
    table = Table((Item("links", "链接", "homepage_links_broken", 1, per=1, cap=10),))
    assert score(table, "portal", {"homepage_links_broken": 50}).items == {"links": 10}


# --- scoring: in xuncha.yml --------------------------------------------------------------------------


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        loads(text, path="/etc/xuncha/xuncha.yml")
    return [str(i) for i in e.value.issues]


def test_xuncha_yml_changes_extends_and_removes_items() -> None:
    cfg = loads("""
scoring:
  bonus_above: 85
  remove: [page_tags]
  items:
    - {key: homepage_links, points: 2, cap: 20}
    - {key: links_any, name: 链接不可用, measure: other_links_broken, points: 0.2, per: 1, applies: [department]}
""")
    t = cfg.scoring
    assert t.bonus_above == 85 and t.item("page_tags") is None
    assert (t.item("homepage_links").points, t.item("homepage_links").cap) == (2, 20)  # type: ignore[union-attr]
    assert t.item("links_any") == Item(
        "links_any", "链接不可用", "other_links_broken", 0.2, per=1, applies=("department",), source="xuncha.yml"
    )
    only = loads("scoring: {replace: true, items: [{key: x, name: X, measure: homepage_updates, points: 1, below: 3}]}")
    assert [i.key for i in only.scoring.items] == ["x"]
    assert loads("sites: []").scoring == DEFAULT_TABLE


def test_a_bad_scoring_section_names_file_entry_and_field() -> None:
    errs = errors_of("""
scoring:
  colour: red
  remove: [nothing]
  items:
    - {key: homepage_links, points: -1}
    - {key: mine, name: 我的, measure: page_views, points: 1}
    - {key: other, name: 其他}
    - {key: both, name: 二者, measure: homepage_updates, points: 1, per: 1, below: 3}
    - {key: homepage_updates, annex: 首页}
""")
    assert errs == [
        "/etc/xuncha/xuncha.yml: scoring.colour: unknown key (known: replace, deduction_points, bonus_points, "
        "bonus_above, remove, items)",
        "/etc/xuncha/xuncha.yml: scoring.remove: 'nothing' is not an item of the table (items: "
        + ", ".join(i.key for i in DEFAULT_TABLE.items)
        + ")",
        "/etc/xuncha/xuncha.yml: scoring.items[0] (homepage_links): points: -1 is not a number ≥ 0",
        "/etc/xuncha/xuncha.yml: scoring.items[1] (mine): measure: 'page_views' is not a measure the agent knows "
        "(known: " + ", ".join(MEASURES) + ")",
        "/etc/xuncha/xuncha.yml: scoring.items[2] (other): measure: required for an item the table does not have",
        "/etc/xuncha/xuncha.yml: scoring.items[3] (both): per: either per (points per unit) or below/at_least "
        "(points once), not both",
        "/etc/xuncha/xuncha.yml: scoring.items[4] (homepage_updates): annex: '首页' is not a column of the annex "
        "(known: 首页不更新, 栏目不更新, 互动回应差, 服务不实用, 安全、泄密事故等严重问题, 其他问题)",
    ]


# --- the week's visits ---------------------------------------------------------------------------------


def visit(store: ResultStore, key: str, at: float, ok: bool) -> None:
    store.record(key, HttpResult(success=ok, started=at))


def test_the_week_is_today_and_the_six_days_before_it_kept_across_restarts(tmp_path: Path) -> None:
    state = StateStore(tmp_path / "x.db")
    store = ResultStore()
    store.keep_findings_in(state)
    now = time.time()
    for day in range(10):  # 10 days of 12 visits, failing once a day on the oldest 3 days only
        for k in range(12):
            visit(store, "site/1", now - (9 - day) * DAY + k, ok=not (day < 3 and k == 0))
    assert store.visits_week("site/1", now) == (84, 0)  # days 3..9: the failures are older than a week
    crashed = ResultStore()  # a restart without shutdown loses the visits since the last write (< 12)
    crashed.keep_findings_in(StateStore(tmp_path / "x.db"))
    visit(crashed, "site/1", now, ok=True)
    assert crashed.visits_week("site/1", now) == (84 - 11 + 1, 0)
    store.save_visits()  # at shutdown
    assert scores._unreachable(store.visits_week("site/1", now), THRESHOLDS) == 0
    again = ResultStore()
    again.keep_findings_in(StateStore(tmp_path / "x.db"))
    visit(again, "site/1", now, ok=False)
    assert again.visits_week("site/1", now) == (85, 1)
    assert again.visits_week("site/2", now) is None


def test_fewer_than_20_visits_in_the_week_do_not_measure_availability() -> None:
    assert scores._unreachable((19, 19), THRESHOLDS) is None
    assert scores._unreachable((200, 4), THRESHOLDS) == 2.0


# --- loopback sites: each measured item provoked on one site, not on its twin -----------------------------


def tagged(page: str, **tags: str) -> str:
    return "".join(f'<meta name="{k}" content="{v}">' for k, v in tags.items()) + page


def items_html(prefix: str, days: list[float], now: float) -> str:
    rows = "".join(
        f"<li><a href='/art/{prefix}_{i}.html'>{prefix}第{i}条工作信息标题内容关于开展工作</a>"
        f"<span class=date>{dt.date.fromtimestamp(now - d * DAY).isoformat()}</span></li>"
        for i, d in enumerate(days)
    )
    return f"<div class=list><ul>{rows}</ul></div>"


class Site:
    def __init__(self, good: bool, now: float) -> None:
        self.good, self.now = good, now

    def pages(self, host: str) -> dict[str, tuple[int, str]]:
        g, now = self.good, self.now
        home_meta = {"SiteName": "龙湖区", "SiteDomain": host, "SiteIDCode": CODES[host]} if g else {}
        column_meta = {"ColumnName": "栏目", "ColumnType": "调查征集", "ColumnDescription": "说明"} if g else {}
        article_meta = {"ArticleTitle": "标题", "PubDate": "2026-01-01", "ContentSource": "本站"}
        if not g:
            del article_meta["ContentSource"]
        # good: 10 updates in the last 14 days; bad: 9 (the tenth is 15 days old)
        home_days = [0.5 + i for i in range(10)] if g else [0.5 + i for i in range(9)] + [15.5]
        home = items_html("home", home_days, now) + ("" if g else "<a href=/gone-home.html>旧专题</a>")
        survey = [10, 40, 70, 100, 130, 160] if g else [10, 40]  # portal: 6 a year, or 2 (too few)
        interview = [100] if g else [400]  # used this year, or unused for more than a year
        dead = "" if g else "<a href=/gone-col-1.html>失效</a><img src=/gone-col-2.png>"
        pages = {
            "/": (200, tagged(home, **home_meta)),
            "/dczj/": (200, tagged(items_html("dczj", survey, now) + dead, **column_meta)),
            "/zxft/": (200, tagged(items_html("zxft", interview, now), **column_meta)),
        }
        for i in range(len(home_days)):
            pages[f"/art/home_{i}.html"] = (200, "正文")
        for prefix, days in (("dczj", survey), ("zxft", interview)):
            body = "正文" + ("" if g else "<a href=/gone-art.html>附件</a>")
            for i in range(len(days)):
                pages[f"/art/{prefix}_{i}.html"] = (200, tagged(body, **article_meta))
        return pages

    async def handle(self, request: web.Request) -> web.Response:
        found = self.pages(request.host.split(":")[0]).get(request.path)
        if found is None:
            return web.Response(status=404, text="not found")
        return web.Response(status=found[0], text=f"<html><head></head><body>{found[1]}</body></html>",
                            content_type="text/html")  # fmt: skip


@pytest.fixture
async def world() -> AsyncIterator[tuple[Config, float]]:
    now = time.time()
    apps = {}
    async with (
        await hostile.serve_app(_app(Site(True, now))) as good,
        await hostile.serve_app(_app(Site(False, now))) as bad,
    ):
        apps = {GOOD: good.port, BAD: bad.port}
        dns = DnsServer(records={GOOD: ["127.0.0.1"], BAD: ["127.0.0.1"]})
        await dns.start()
        try:
            sites = "".join(
                f"""
  - code: "{CODES[host]}"
    name: {host}
    url: "http://{host}:{port}/"
    kind: portal
    columns:
      - {{name: 调查征集, url: "http://{host}:{port}/dczj/", category: survey}}
      - {{name: 在线访谈, url: "http://{host}:{port}/zxft/", category: interview}}"""
                for host, port in apps.items()
            )
            yield loads(f'dns: {{nameservers: ["{dns.address}"]}}\nlinks: {{timeout: 2s}}\nsites:{sites}'), now
        finally:
            await dns.close()


def _app(site: Site) -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", site.handle)
    return app


async def probe_all(cfg: Config, now: float) -> dict[str, dict[str, Any]]:
    net = Network(cfg.dns, cfg.tls, cfg.http)
    try:
        checks = links.LinkChecks.of(cfg.links)
        out = {}
        for s in cfg.sites:
            ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: now, links=checks)
            out[s.code] = {"content": await content_probe.probe(s, ctx), "links": await links.probe(s, ctx)}
        return out
    finally:
        await net.close()


async def test_every_measured_item_is_provoked_on_one_site_and_not_on_its_twin(world: tuple[Config, float]) -> None:
    cfg, now = world
    results = await probe_all(cfg, now)
    good, bad = (cfg.sites[0], cfg.sites[1])
    week_good, week_bad = (200, 0), (200, 4)  # 2 % failed: −10
    mg = scores.measures(good, results[good.code], week_good)
    mb = scores.measures(bad, results[bad.code], week_bad)
    assert mg == {
        "unreachable_percent": 0.0,
        "homepage_links_broken": 0,
        "other_links_broken": 0,
        "homepage_updates": 10,
        "page_tags_missing": 0,
        "consultation_columns": None,
        "consultation_answered_year": None,
        "survey_columns": 1.0,
        "survey_items_year": 6.0,
        "interview_columns": 1.0,
        "interview_items_year": 1.0,
    }
    # bad: the homepage's dead link; two on the survey page, one in each of the 3 articles (the same URL: once)
    assert mb == {
        **mg,
        "unreachable_percent": 2.0,
        "homepage_links_broken": 1,
        "other_links_broken": 3,
        "homepage_updates": 9,
        # the homepage (no Site* tags), both column pages, both first articles (no ContentSource)
        "page_tags_missing": 5,
        "survey_items_year": 2.0,
        "interview_items_year": 0.0,
    }
    tags = {(p["page"], p["url"].split("/", 3)[-1]): p["missing"] for p in results[bad.code]["links"].page_tags}
    assert tags == {
        ("column", "dczj/"): ["ColumnName", "ColumnType", "ColumnDescription"],
        ("column", "zxft/"): ["ColumnName", "ColumnType", "ColumnDescription"],
        ("article", "art/dczj_0.html"): ["ContentSource"],
        ("article", "art/zxft_0.html"): ["ContentSource"],
    }
    broken = {
        b["url"].split("/", 3)[-1]: b["found_on"].split("/", 3)[-1]
        for b in results[bad.code]["links"].other_broken_links
    }
    assert broken == {"gone-col-1.html": "dczj/", "gone-col-2.png": "dczj/", "gone-art.html": "art/dczj_0.html"}
    sg = score(DEFAULT_TABLE, "portal", mg)
    sb = score(DEFAULT_TABLE, "portal", mb)
    assert (sg.total, sg.deducted) == (100, 0)
    # by hand: 2 % failed 10, 1 homepage link 1, 3 other links 0.3, 9 updates 5, 2 surveys 3, no interview 5, tags 0.5
    assert {k: v for k, v in sb.items.items() if v} == {
        "availability": 10,
        "homepage_links": 1,
        "other_links": 0.3,
        "homepage_updates": 5,
        "survey_few_portal": 3,
        "interview_unused": 5,
        "page_tags": 0.5,
    }
    assert (sb.deducted, sb.total) == (24.8, 75.2)
    assert set(sb.not_measured) == {"consultation_missing", "consultation_unanswered"}


async def test_the_score_is_exported_and_a_site_without_results_has_none(world: tuple[Config, float]) -> None:
    cfg, now = world
    results = await probe_all(cfg, now)
    store = ResultStore()
    bad = cfg.sites[1]
    for kind in ("content", "links"):
        store.record(target_key(bad), results[bad.code][kind])
    text = TargetExposition().render(cfg.sites, (), store)
    assert f'{M.SITE_SCORE}{{code="{bad.code}"}} 85.2\n' in text  # availability not measured: 24.8 − 10
    assert f'{M.SITE_DEDUCTIONS}{{code="{bad.code}",item="other_links"}} 0.3\n' in text
    assert f'{M.SITE_DEDUCTIONS}{{code="{bad.code}",item="survey_missing"}} 0.0\n' in text  # measured, nothing off
    assert f'{M.COLUMN_LINKS_BROKEN}{{code="{bad.code}"}} 3\n' in text
    assert f'{M.PAGE_TAGS_MISSING}{{code="{bad.code}"}} 4\n' in text
    assert f'code="{cfg.sites[0].code}"' not in text.split(f"# HELP {M.SITE_SCORE}")[1].split("# HELP")[0]
    assert "availability" not in text.split(f"# HELP {M.SITE_DEDUCTIONS}")[1].split("# HELP")[0]


# --- a demo site, by hand --------------------------------------------------------------------------------


async def test_the_demo_chenghai_talent_site_scores_86_5_by_hand(tmp_path: Path) -> None:
    plan = [s for s in demo_sites() if s.code == "4405150006"]  # 澄海人才网: 3 broken links on the homepage
    async with DemoFleet.start(tmp_path, fast=True, feeds=None, sites=plan) as fleet:
        cfg = loads(fleet.config_yaml())
        now = time.time()
        results = (await probe_all(cfg, now))["4405150006"]
    site = cfg.sites[0]
    m = scores.measures(site, results, None)
    # By hand from agent/demo/fleet.py: the homepage shows 6 items each of 工作动态 (newest 1 day old) and
    # 通知公告 (5 days) at gaps 0, 2, 5, 9, 14, 20 days: 1, 3, 6, 10 and 5, 7, 10 days old are within two
    # weeks (the one 14 days old is exactly at the edge, older than 14×24 h): 7 or 8, under 10 either way.
    assert m["homepage_links_broken"] == 3 and m["other_links_broken"] == 0
    assert m["homepage_updates"] in (7, 8)
    # no survey column (咨询建言 is a consultation column), no interview column; its pages carry only the
    # Site* tags: 7 column pages and 7 first articles lack theirs
    assert (m["survey_columns"], m["interview_columns"], m["page_tags_missing"]) == (0, 0, 14)
    s = score(cfg.scoring, site.kind, m)
    assert {k: v for k, v in s.items.items() if v} == {
        "homepage_links": 3,
        "homepage_updates": 5,
        "survey_missing": 5,
        "page_tags": 0.5,
    }
    assert s.total == 100 - 3 - 5 - 5 - 0.5 == 86.5
    assert set(s.not_measured) == {"availability", "consultation_missing", "consultation_unanswered"}


# --- the message lists' measures (issue 18) in the score ---------------------------------------------


async def test_the_demo_mailboxes_score_the_consultation_items(tmp_path: Path) -> None:
    # 赤城县公安局: a 市长信箱 answering nothing for four months; 景洪市安监局: one answering every letter;
    # 坊子区人社局: no consultation channel at all (agent/demo/fleet.py).  The interaction probe's result
    # gives the two consultation measures; the census table deducts 5 for each failing one.
    from probes import interaction

    wanted = ("1307320007", "5328010055", "3707040004")
    plan = [s for s in demo_sites() if s.code in wanted]
    async with DemoFleet.start(tmp_path, fast=True, feeds=None, sites=plan) as fleet:
        cfg = loads(fleet.config_yaml())
        net = Network(cfg.dns, cfg.tls, cfg.http)
        try:
            got = {}
            for s in cfg.sites:
                ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), links=links.LinkChecks.of(cfg.links))
                got[s.code] = (s, {"interaction": await interaction.probe(s, ctx)})
        finally:
            await net.close()
    deducted = {}
    for code, (site, latest) in got.items():
        m = scores.measures(site, latest, None)
        items = score(cfg.scoring, site.kind, m).items
        deducted[code] = (
            m["consultation_columns"],
            m["consultation_answered_year"],
            items.get("consultation_missing"),
            items.get("consultation_unanswered"),
        )
    unanswered, answered, none = (deducted[c] for c in wanted)
    assert unanswered == (1, 0, 0, 5)  # a channel, nothing answered in a year: −5
    assert answered[0] == 1 and answered[1] >= 10 and answered[2:] == (0, 0)  # 20 letters, each answered
    assert none[0] == 0 and none[2] == 5 and not none[3]  # no channel: −5, and nothing to answer
