"""服务不实用 (issue 18): services offered, and service guides read for their ten element categories.

Against a real aiohttp site on loopback: the homepage's way in (办事服务), a page listing guides,
guides with and without missing elements, the registry's ``services:`` and service columns, a site
offering nothing, bounds and rotation of the sample, links that would reach inside.  Each finding
has a twin where it must not fire.  The element reader is also run on the real guide pages of
``tests/fixtures/real/guides/``, labelled by reading them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from agent.exposition.families import SITE_FAMILIES, Lines, emit_services, site_findings
from agent.registry.config import ConfigError, loads, thresholds_of
from agent.run.results import ResultStore
from agent.run.state import StateStore
from domain import metric_names as m
from domain.registry import Column, Site
from probes import guides, services
from probes.addresses import policy_of
from probes.context import ProbeContext
from probes.net import Network
from probes.results import ServicesResult

NOW = float(int(time.time()))
REAL = Path(__file__).parent / "fixtures" / "real" / "guides"
ALL = guides.ELEMENTS


def guide_page(present: dict[str, str], empty: tuple[str, ...] = (), form: str = "table") -> str:
    """A guide printing ``present`` (label → value) and ``empty`` labels without a value."""
    rows = list(present.items()) + [(label, "") for label in empty]
    if form == "table":
        body = "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"
    elif form == "dl":
        body = "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"
    else:
        body = "".join(f"<p>{k}：{v}</p>" for k, v in rows)
    return f"<html><head><title>办事指南</title></head><body>{body}</body></html>"


FULL = {
    "事项名称": "最低生活保障金的给付",
    "设定依据": "《社会救助暂行办法》第九条",
    "申请条件": "共同生活的家庭成员人均收入低于当地最低生活保障标准",
    "申请材料": "1.户口簿；2.身份证",
    "办理地点": "锁南镇政务服务中心一楼3号窗口",
    "实施主体": "东乡族自治县民政局",
    "是否收费": "否",
    "受理时间": "法定工作日上午8:30-12:00",
    "咨询电话": "0930-7121234",
    "办理流程": "受理、审核、审批、办结",
}
PARTIAL = {k: v for k, v in FULL.items() if k not in ("咨询电话", "受理时间")}  # 2 missing
INCOMPLETE = {k: FULL[k] for k in ("事项名称", "申请材料", "办理流程")}  # 7 missing


class Site_:
    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.base = ""
        self.hits: list[str] = []

    def serve(self, path: str, html: str) -> str:
        self.pages[path] = html
        return self.base + path


@pytest.fixture
async def web_site() -> AsyncIterator[Site_]:
    srv = Site_()

    async def handle(request: web.Request) -> web.StreamResponse:
        srv.hits.append(request.path)
        html = srv.pages.get(request.path)
        if html is None:
            return web.Response(status=404, text="not found")
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    srv.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield srv
    await runner.cleanup()


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    cfg = loads("content: {timeout: 5s}\nservices: {max_guides: 3, max_pages: 2}\n")
    net = Network(cfg.dns, cfg.tls, cfg.http, policy=policy_of(()))
    yield ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: NOW)
    await net.close()


def site_at(url: str, **kw: object) -> Site:
    return Site(code="4405070010", name="汕头市龙湖区人民政府", url=url, **kw)  # type: ignore[arg-type]


def homepage(*links: tuple[str, str]) -> str:
    anchors = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return f"<html><body><ul>{anchors}</ul><p>网站标识码4405070010</p></body></html>"


def listing(*guides_: str) -> str:
    return homepage(*((g, "办事指南") for g in guides_))


def exposed(site: Site, r: ServicesResult) -> dict[tuple[str, str], float]:
    out = Lines(SITE_FAMILIES)
    emit_services(out, site, r)
    samples = {}
    for family in out.by_family:
        for line in family:
            name_labels, value = line.rsplit(" ", 1)
            samples[(name_labels.split("{")[0], name_labels)] = float(value)
    return samples


def state_counts(r: ServicesResult) -> dict[str, int]:
    return {s: r.count(s) for s in m.SERVICE_GUIDE_STATES}


# --- the element reader ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["table", "dl", "lines"])
def test_a_guide_with_all_ten_categories_misses_none_in_every_form(form: str) -> None:
    g = guides.read_guide(guide_page(FULL, form=form))
    assert g.present == ALL and g.missing == () and g.is_guide


def test_an_empty_cell_is_not_a_value_but_a_no_fee_answer_is() -> None:
    g = guides.read_guide(
        guide_page({"事项名称": "x", "是否收费": "否", "设定依据": "《条例》"}, empty=("咨询电话", "办理时间"))
    )
    assert "收费标准" in g.present
    assert {"联系电话", "办理时间"} <= set(g.missing) and set(g.empty) == {"联系电话", "办理时间"}
    for blank in ("&nbsp;", "—", "  ", "/"):
        page = f"<table><tr><td>联系电话</td><td>{blank}</td></tr><tr><td>事项名称</td><td>a</td></tr></table>"
        assert "联系电话" in guides.read_guide(page).missing, blank


def test_a_header_row_of_labels_is_not_a_row_of_values() -> None:
    page = (
        "<table><tr><th>环节名称</th><th>所需时限</th><th>法定依据</th><th>是否收费</th><th>收费依据</th></tr></table>"
    )
    g = guides.read_guide(page)
    assert g.present == ()


def test_hidden_values_and_script_text_do_not_count() -> None:
    page = (
        "<table><tr><td>事项名称</td><td>a</td></tr><tr><td>联系电话</td>"
        '<td><span style="display:none">0754-1234567</span></td></tr></table>'
        "<script>document.write('办理时间：9:00-17:00')</script>"
    )
    g = guides.read_guide(page)
    assert "联系电话" in g.missing and "办理时间" in g.missing


def test_labels_are_recognised_by_the_names_portals_give_them() -> None:
    assert guides.category_of("一、需要申请材料") == "办理材料"
    assert guides.category_of("办理流程及时限") == "办理流程"
    assert guides.category_of("收费依据：") == "收费标准"  # not 设定依据: the longest name wins
    assert guides.category_of("监督投诉电话") is None
    assert guides.category_of("申请人须按照设定依据的规定提交申请材料并等待受理") is None  # a sentence


def test_the_real_guides_read_as_their_labels_say() -> None:
    labels = json.loads((REAL / "labels.json").read_text("utf-8"))
    assert sorted(p.name for p in REAL.glob("*.html")) == sorted(label["file"] for label in labels)
    for label in labels:
        g = guides.read_guide((REAL / label["file"]).read_text("utf-8"))
        assert list(g.present) == label["present"], label["file"]
        assert list(g.missing) == [c for c in ALL if c not in label["present"]], label["file"]


# --- the probe, on loopback ------------------------------------------------------------------------


async def test_guides_found_through_the_homepages_service_entry_are_counted_by_state(
    web_site: Site_, ctx: ProbeContext
) -> None:
    full = web_site.serve("/bszn/1.html", guide_page(FULL))
    partial = web_site.serve("/bszn/2.html", guide_page(PARTIAL, form="dl"))
    bad = web_site.serve("/bszn/3.html", guide_page(INCOMPLETE, form="lines"))
    web_site.serve("/bsfw/", listing(full, partial, bad))
    site = site_at(web_site.serve("/", homepage(("/bsfw/", "办事服务"), ("/xwzx/", "新闻中心"))))
    r = await services.probe(site, ctx)
    assert r.success and r.offered is True and r.sources == ("homepage",)
    assert state_counts(r) == {"complete": 1, "partial": 1, "incomplete": 1}
    by_url = {g.url: g for g in r.guides}
    assert by_url[partial].missing == ("办理时间", "联系电话")
    assert by_url[bad].state == "incomplete" and len(by_url[bad].missing) == 7
    assert by_url[bad].found_on == web_site.base + "/bsfw/"
    text = exposed(site, r)
    assert text[(m.SITE_SERVICE_GUIDES, f'{m.SITE_SERVICE_GUIDES}{{code="4405070010",state="incomplete"}}')] == 1
    assert text[(m.SITE_NO_SERVICES, f'{m.SITE_NO_SERVICES}{{code="4405070010"}}')] == 0


async def test_a_site_whose_guides_are_all_complete_has_no_incomplete_guide(web_site: Site_, ctx: ProbeContext) -> None:
    a = web_site.serve("/bszn/a.html", guide_page(FULL))
    b = web_site.serve("/bszn/b.html", guide_page(FULL, form="dl"))
    web_site.serve("/bsfw/", listing(a, b))
    r = await services.probe(site_at(web_site.serve("/", homepage(("/bsfw/", "政务服务")))), ctx)
    assert state_counts(r) == {"complete": 2, "partial": 0, "incomplete": 0}
    assert ResultStoreCounts.of(r) == (0, 0)


async def test_a_site_offering_no_services_is_no_services(web_site: Site_, ctx: ProbeContext) -> None:
    site = site_at(web_site.serve("/", homepage(("/xwzx/", "新闻中心"), ("/zwgk/", "政务公开"))))
    r = await services.probe(site, ctx)
    assert r.success and r.offered is False and r.guides == ()
    text = exposed(site, r)
    assert text[(m.SITE_NO_SERVICES, f'{m.SITE_NO_SERVICES}{{code="4405070010"}}')] == 1
    assert ResultStoreCounts.of(r) == (0, 1)


async def test_a_link_into_the_provinces_service_portal_is_a_way_to_services(
    web_site: Site_, ctx: ProbeContext
) -> None:
    # not crawled (another host), but the site offers services through it
    site = site_at(web_site.serve("/", homepage(("http://www.gdzwfw.gov.cn/portal/", "广东政务服务网"))))
    r = await services.probe(site, ctx)
    assert r.offered is True and r.sources == ("homepage",) and r.guides == ()
    assert "www.gdzwfw.gov.cn" not in " ".join(web_site.hits)
    assert guides.portal_host("https://zwfw.yl.gov.cn/yl-web-zwdt/")
    assert not guides.portal_host("https://www.zwfw.example.com/")


async def test_registry_services_and_service_columns_are_read(web_site: Site_, ctx: ProbeContext) -> None:
    guide = web_site.serve("/fw/guide.html", guide_page(PARTIAL))
    column = web_site.serve("/bmfw/", listing("/bmfw/zn1.html"))
    web_site.serve("/bmfw/zn1.html", guide_page(FULL))
    site = site_at(web_site.serve("/", homepage()), services=(guide,), columns=(Column("便民服务", column, "service"),))
    r = await services.probe(site, ctx)
    assert r.sources == ("registry", "columns")
    assert {g.url: g.state for g in r.guides} == {guide: "partial", web_site.base + "/bmfw/zn1.html": "complete"}
    assert r.guides[0].found_on == ""  # the registry's own guide


async def test_the_sample_is_bounded_and_rotates_over_the_runs(web_site: Site_, ctx: ProbeContext) -> None:
    urls = [web_site.serve(f"/bszn/{i}.html", guide_page(FULL if i != 4 else INCOMPLETE)) for i in range(5)]
    web_site.serve("/bsfw/", listing(*urls))
    site = site_at(web_site.serve("/", homepage(("/bsfw/", "办事服务"))))
    first = await services.probe(site, ctx)
    assert [g.url for g in first.guides] == urls[:3] and first.guides_known == 5  # services.max_guides: 3
    second = await services.probe(site, ctx)
    assert [g.url for g in second.guides] == [urls[3], urls[4], urls[0]]
    assert second.count("incomplete") == 1 and first.count("incomplete") == 0
    assert web_site.hits.count("/bszn/1.html") == 1


async def test_a_guide_link_that_would_reach_inside_is_not_fetched(web_site: Site_, ctx: ProbeContext) -> None:
    web_site.serve("/bsfw/", listing("http://10.9.8.7/bszn/1.html", "/bszn/ok.html"))
    web_site.serve("/bszn/ok.html", guide_page(FULL))
    r = await services.probe(site_at(web_site.serve("/", homepage(("/bsfw/", "办事服务")))), ctx)
    # 10.9.8.7 is another host than the site's: never a candidate, never requested
    assert [g.url for g in r.guides] == [web_site.base + "/bszn/ok.html"]


async def test_an_unreadable_homepage_is_a_failed_probe_that_says_nothing_of_services(
    web_site: Site_, ctx: ProbeContext
) -> None:
    site = site_at(web_site.base + "/missing/")
    r = await services.probe(site, ctx)
    assert not r.success and r.offered is None and "HTTP 404" in r.reason
    text = exposed(site, r)
    assert all(name != m.SITE_NO_SERVICES for name, _ in text)


async def test_a_guide_that_fails_to_load_is_listed_with_its_reason_and_no_state(
    web_site: Site_, ctx: ProbeContext
) -> None:
    web_site.serve("/bsfw/", listing("/bszn/gone.html"))
    r = await services.probe(site_at(web_site.serve("/", homepage(("/bsfw/", "办事服务")))), ctx)
    (g,) = r.guides
    assert not g.success and g.state == "" and "404" in g.reason
    assert state_counts(r) == {"complete": 0, "partial": 0, "incomplete": 0}


# --- configuration and counters -------------------------------------------------------------------


def test_the_lines_come_from_the_configuration_with_shipped_defaults() -> None:
    cfg = loads("services: {missing_elements: 3, incomplete_guides: 2, max_guides: 8}\n")
    assert (cfg.services.missing_elements, cfg.services.max_guides) == (3, 8)
    assert thresholds_of(cfg).service_guides.critical == 2
    assert thresholds_of(loads("")).service_guides.critical == 1
    assert services.state_of(3, cfg.services) == "incomplete" and services.state_of(2, cfg.services) == "partial"
    with pytest.raises(ConfigError, match=r"services\.missing_elements"):
        loads("services: {missing_elements: 11}\n")
    with pytest.raises(ConfigError, match="unknown"):
        loads("services: {max_guide: 3}\n")
    with pytest.raises(ConfigError, match="services"):
        loads("sites: [{code: '4405070010', name: x, url: 'https://x.gov.cn/', services: [ftp://x]}]\n")


class ResultStoreCounts:
    @staticmethod
    def of(r: ServicesResult) -> tuple[int, int]:
        """The findings counters (incomplete_guides, no_services) after one services result."""
        store = ResultStore()
        store.record("site/4405070010", r)
        counts = dict(zip(m.SITE_FINDINGS, store.finding_counts("site/4405070010") or (), strict=True))
        return counts["incomplete_guides"], counts["no_services"]


def test_the_findings_counters_of_a_closed_site_leave_the_services_out() -> None:
    out = Lines(SITE_FAMILIES)
    site_findings(
        out, Site(code="4405070010", name="x", url="https://x.gov.cn/", status="closed"), (0,) * len(m.SITE_FINDINGS)
    )
    text = "".join(line for family in out.by_family for line in family)
    assert "incomplete_guides" not in text and "closed_but_online" in text


def test_api_findings_list_each_guide_with_its_missing_elements_and_the_table_words_them() -> None:
    from agent.findings.findings import site_findings as findings_of
    from agent.findings.table import site_problems
    from probes.results import GuideFinding

    site = Site(code="4405070010", name="x", url="https://x.gov.cn/")
    bad = GuideFinding(
        url="https://x.gov.cn/bszn/3.html", success=True, missing=("设定依据", "联系电话"), state="incomplete"
    )
    fine = GuideFinding(url="https://x.gov.cn/bszn/1.html", success=True, state="complete")
    r = ServicesResult(success=True, offered=True, guides=(bad, fine))
    found = findings_of(site, {"services": r}, loads("").content, NOW)
    assert [(f["finding"], f["url"], f["missing"]) for f in found] == [
        ("service_guide_incomplete", bad.url, ["设定依据", "联系电话"])
    ]
    assert site_problems(found) == ["办事指南要素缺失1个（缺联系电话、设定依据）（服务不实用）"]
    none = findings_of(site, {"services": ServicesResult(success=True, offered=False)}, loads("").content, NOW)
    assert [f["finding"] for f in none] == ["no_services"]
    assert site_problems(none) == ["未提供办事服务（服务不实用）"]
    assert (
        findings_of(
            site, {"services": ServicesResult(success=True, offered=True, guides=(fine,))}, loads("").content, NOW
        )
        == []
    )


async def test_a_list_of_guides_reached_by_a_guide_link_is_not_read_as_a_guide(
    web_site: Site_, ctx: ProbeContext
) -> None:
    # the common navigation: every page links 办事指南 to the list itself, and the list to its guides
    web_site.serve("/bszn/", listing("/bszn/", "/bszn/more/", "/bszn/1.html"))
    web_site.serve("/bszn/more/", listing("/bszn/1.html"))
    web_site.serve("/bszn/1.html", guide_page(FULL))
    r = await services.probe(site_at(web_site.serve("/", homepage(("/bszn/", "办事服务")))), ctx)
    assert [g.url for g in r.guides] == [web_site.base + "/bszn/1.html"]
    assert "a list of guides, not a guide" in r.reason


def test_what_a_hostile_service_page_says_is_clipped_before_it_reaches_the_api() -> None:
    from agent.limits import MAX_ERROR, MAX_URL, bounded_result
    from probes.results import GuideFinding

    long_url = "https://x.gov.cn/bszn/" + "a" * 10_000
    r = ServicesResult(
        success=True,
        guides=(GuideFinding(url=long_url, success=False, reason="x" * 100_000, found_on=long_url),),
        entries=({"url": long_url, "text": "办事服务"},),
    )
    clipped = bounded_result(r)
    (g,) = clipped.guides
    slack = 40  # the marker: "… [98,976 more characters]"
    assert len(g.reason) <= MAX_ERROR + slack and len(g.url) <= MAX_URL + slack and len(g.found_on) <= MAX_URL + slack
    assert len(clipped.entries[0]["url"]) <= MAX_URL + slack
    small = ServicesResult(success=True, guides=(GuideFinding(url="https://x.gov.cn/1", success=True),))
    assert bounded_result(small) is small


def test_a_guide_whose_values_a_script_writes_is_not_judged_but_one_without_scripts_is() -> None:
    # Epoint-style portal templates: every label in the page, every value filled by script later
    labels = "".join(f"<tr><td>{k}</td><td><span id='v{i}'></span></td></tr>" for i, k in enumerate(FULL))
    scripted = f"<html><body><table>{labels}</table><script src='/js/guide.js'></script></body></html>"
    g = guides.read_guide(scripted)
    assert g.scripted and "written by script" in g.note
    finding = services._finding("https://x.gov.cn/bszn/1.html", "", g, loads("").services)
    assert not finding.success and finding.state == ""  # listed with the reason, never counted
    plain = guides.read_guide(f"<html><body><table>{labels}</table></body></html>")
    assert not plain.scripted and services._finding("u", "", plain, loads("").services).state == "incomplete"


def test_a_page_nesting_itself_after_every_label_is_read_in_bounded_time() -> None:
    # each label followed by the rest of the page: reading every value's whole text would be quadratic
    n = 1400
    for open_, close in (
        ("<div><span>设定依据</span><div>", "</div></div>"),
        ("<table><tr><td>设定依据</td><td>", "</td></tr></table>"),
    ):
        page = open_ * n + "x" * 3_000_000 + close * n
        t0 = time.process_time()
        guides.read_guide(page)
        assert time.process_time() - t0 < 2.0
