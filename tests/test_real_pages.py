"""The content judge against real government pages (issue 9), labelled by reading them.

``tests/fixtures/real/`` holds pages of 21 government sites saved in public
repositories, byte for byte; ``PROVENANCE.md`` says where each comes from and
``labels.json`` what a reader finds in it (the newest item of a homepage and the
evidence for its year, the standard's meta tags, the marks, the record
numbers), labelled from the page's source, not from the judge's output.

The pages are judged on a "today" far from the day they were saved, and on two
different todays: the year of a date written without one must come from the
page, never from the calendar.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.registry.config import loads
from agent.run.results import site_findings
from agent.run.state import StateStore
from domain.clock import BEIJING
from domain.metric_names import SITE_FINDINGS
from domain.registry import Site
from domain.thresholds import THRESHOLDS
from probes import content_probe
from probes.content import compliance, dates, extract, hidden_links, serious
from probes.content.decode import decode
from probes.context import ProbeContext
from probes.net import Fetched, Network

REAL = Path(__file__).parent / "fixtures" / "real"
LABELS: list[dict[str, Any]] = json.loads((REAL / "labels.json").read_text("utf-8"))
BY_FILE = {label["file"]: label for label in LABELS}
TODAY = dates.to_timestamp(2026, 12, 6, 10, 0)  # years after every page was saved
OTHER_TODAY = dates.to_timestamp(2024, 3, 1, 10, 0)  # after the Yichun homepage, before some articles
assert TODAY is not None and OTHER_TODAY is not None
YICHUN = "yichun_home_20231011a.html"


def judge(label: dict[str, Any], now: float = TODAY) -> tuple[extract.Page, dict[str, bool], dict[str, Any]]:
    decoded = decode((REAL / label["file"]).read_bytes(), "text/html")
    assert decoded.text is not None
    page = extract.parse(decoded.text, "https://www.example.gov.cn/", now)
    checks, found = compliance.check(page, [], label["site_code"] or "0000000000", "www.example.gov.cn")
    return page, checks, found


def beijing_date(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, BEIJING).date().isoformat()


def test_the_fixture_set_is_what_the_provenance_file_lists() -> None:
    provenance = (REAL / "PROVENANCE.md").read_text("utf-8")
    files = sorted(p.name for p in REAL.glob("*.html"))
    assert files == sorted(BY_FILE)
    for label in LABELS:
        assert label["file"] in provenance and label["commit"] in provenance
        assert (REAL / label["file"]).stat().st_size == label["bytes"]
    assert len({label["site"].split(" ")[0] for label in LABELS}) >= 15


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label["file"])
def test_the_standards_meta_tags_are_read_as_labelled(label: dict[str, Any]) -> None:
    page, checks, found = judge(label)
    for name, value in label["meta"].items():
        assert page.meta.get(name) == value
    complete = all(label["meta"].get(n) for n in ("SiteName", "SiteDomain", "SiteIDCode"))
    assert checks["site_meta_tags"] is complete, found.get("meta_problem")


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label["file"])
def test_record_numbers_and_site_code_are_found_as_labelled(label: dict[str, Any]) -> None:
    _, checks, found = judge(label)
    if label["police"] is not None:
        assert found["police_record"] == label["police"]
    else:
        assert checks["police_record_shown"] is False
    if label["icp"] is not None:
        assert found["icp"] == label["icp"].replace(" ", "")
    assert checks["site_code_shown"] is label["site_code_shown"]


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label["file"])
def test_the_conac_mark_is_judged_as_labelled(label: dict[str, Any]) -> None:
    _, checks, found = judge(label)
    assert checks["conac_mark_shown"] is (label["conac"] is not None), found.get("conac_problem")
    if label["conac"] == "inline-script":
        assert "percent-decoded" in found["conac_evidence"] and "dcs.conac.cn" in found["conac_evidence"]
    elif label["conac"] == "link":
        assert "bszs.conac.cn" in found["conac_evidence"]


@pytest.mark.parametrize(
    "label", [lb for lb in LABELS if lb["file"] != "mhxqwer_gjbcac.html"], ids=lambda label: label["file"]
)
def test_the_error_report_entry_is_judged_as_labelled(label: dict[str, Any]) -> None:
    _, checks, found = judge(label)
    assert checks["error_report_entry"] is (label["error_report"] is not None)
    if label["error_report"] == "script":
        assert "jiucuo.js" in found["error_report_evidence"]
        assert f"sitecode {label['site_code']}" in found["error_report_evidence"]


# --- issue 19: the error-report entry as the pages show it, whichever platform host serves it ---------


@pytest.mark.parametrize(
    "label", [lb for lb in LABELS if lb.get("error_report_sitecode")], ids=lambda label: label["file"]
)
def test_the_error_report_entrys_site_code_is_read_wherever_the_page_carries_it(label: dict[str, Any]) -> None:
    # A link to the platform's form (site_code=) or what the script wrote, saved with the page (the image's
    # Link('<code>') handler): the site code they carry is checked as the script's sitecode is.
    _, checks, found = judge(label)
    assert checks["error_report_entry"] is True
    assert f"sitecode {label['error_report_sitecode']}" in found["error_report_evidence"]
    if label["error_report"] == "written":
        assert "Link(" in found["error_report_evidence"]
    other = "6100000000" if label["site_code"] != "6100000000" else "6100000001"
    decoded = decode((REAL / label["file"]).read_bytes(), "text/html")
    assert decoded.text is not None
    page = extract.parse(decoded.text, "https://www.example.gov.cn/", TODAY)
    wrong, found = compliance.check(page, [], other, "www.example.gov.cn")
    assert wrong["error_report_entry"] is False
    assert f"site code {label['error_report_sitecode']} is not this site's {other}" in found["error_report_problem"]


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label["file"])
def test_a_footer_written_by_an_external_script_is_pointed_out(label: dict[str, Any]) -> None:
    _, _, found = judge(label)
    if "external script (static/js/foot" in label["footer"]:
        expected = label["footer"].split("(", 1)[1].split(")", 1)[0]
        assert f"written by /{expected}" in found["footer_script"]
    elif label["footer"].startswith("in the page") and label["icp"] and label["police"] and label["site_code_shown"]:
        assert "footer_script" not in found


@pytest.mark.parametrize("label", LABELS, ids=lambda label: label["file"])
def test_no_real_page_has_hidden_links(label: dict[str, Any]) -> None:
    page, _, _ = judge(label)
    assert hidden_links.find(page.anchors, page.hidden_anchors, "www.example.gov.cn") == []


# --- no veto on a healthy real page (issue 22) --------------------------------------------------

# The last lines of the Jiangsu homepage of 2018 (silverfoxy/JSCryptoMinerStudy, pagesource/jiangsu.gov.cn,
# commit afccd315654b9e4091c20fd0c385a89b1bbb3b3c, characters 89,596 to 90,050), byte for byte — the
# publisher appends them with bare "\n" line ends, the template's "</body>\r\n</html>" ends the page: the
# Hanweb JCMS of the province's 集约化平台 hides its credit link in every page it serves.
JIANGSU_TAIL = "\n".join(
    (
        "<!-- visitcount Begin --><iframe src='./module/visitcount/visit.jsp?type=1&i_webid=1&i_columnid=1' "
        'name="vishidden" id="vishidden" frameborder="0" style="width:0; height:0; display:none"></iframe>'
        "<!-- visitcount End -->",
        "<a href='http://www.hanweb.com' style='display:none'>Produced By 大汉网络 大汉版通发布系统</a>",
        "<script language=\"javascript\" src='/script/pagecontrol.js'></script>"
        "<script language=\"javascript\" src='/script/web_front.js'></script>",
        "</body>\r\n</html>",
    )
)
assert len(JIANGSU_TAIL) == 90050 - 89596
# What an intrusion plants (the demo's 暗链, agent/demo/fleet.py): off-screen links for search engines.
PLANTED = (
    '<div style="position:absolute;left:-9999px;top:-9999px;"><a href="http://www.yulecheng-demo.example/">'
    '澳门娱乐城</a><a href="http://www.bocai-demo.example/">百家乐真人荷官</a></div>'
)
HEALTHY = [label for label in LABELS if label.get("healthy", True)]


def day_after(label: dict[str, Any]) -> float:
    """The day after the page's newest item (or shown date): judged as if visited then, so that only a
    finding of the page's own making, not its age, can be a veto."""
    day = label.get("newest_item") or label.get("shown_date")
    if not day:
        return TODAY
    y, m, d = (int(x) for x in day.split("-"))
    ts = dates.to_timestamp(y, m, d, 10, 0)
    assert ts is not None
    return ts + 86400


def judged(body: bytes, label: dict[str, Any]) -> Any:
    site = Site(code=label["site_code"] or "0000000000", name=label["site"], url="https://www.example.gov.cn/")
    home = Fetched(url=site.url, final_url=site.url, status=200, headers={"content-type": "text/html"}, body=body)
    return content_probe.judge(site, home, [], day_after(label), serious.default())[0]


@pytest.mark.parametrize("label", HEALTHY, ids=lambda label: label["file"])
def test_no_healthy_real_page_raises_a_veto_level_finding(label: dict[str, Any]) -> None:
    """The rule of issue 22: every healthy page of tests/fixtures/real/, judged by the content probe the
    day after its newest item, is read as a homepage and shows none of the findings that are a veto
    (serious errors, privacy leaks, 暗链, blank columns, a closed site online; a stale homepage)."""
    r = judged((REAL / label["file"]).read_bytes(), label)
    assert r.success and r.homepage_success, r.reason
    shown = dict(zip(SITE_FINDINGS, site_findings(r), strict=True))
    assert not any(shown.values()), (
        shown,
        r.details["serious_errors"],
        r.details["privacy_leaks"],
        r.details["hidden_links"],
    )
    if label["kind"] == "homepage":
        assert r.homepage_last_update is not None
        assert day_after(label) - r.homepage_last_update < THRESHOLDS.homepage_age.critical


def test_the_same_real_page_with_planted_links_raises_the_veto() -> None:
    """The twin: the Chaoyang homepage with the demo's off-screen block planted before </body>."""
    label = BY_FILE["bjchy_home_2018.html"]
    body = (REAL / label["file"]).read_bytes().replace(b"</body>", PLANTED.encode() + b"</body>")
    r = judged(body, label)
    assert r.hidden_links == 2 and site_findings(r)[2]
    assert [f["host"] for f in r.details["hidden_links"]] == ["www.yulecheng-demo.example", "www.bocai-demo.example"]
    why = r.details["hidden_links"][0]["why"]
    assert "an injection trick (off-screen" in why and "dictionary words 娱乐城" in why


def test_the_platforms_hidden_credit_line_is_no_hidden_link() -> None:
    """The Jiangsu page's real last lines, as the tail of the Chaoyang homepage: the credit link of the
    Hanweb platform is hidden (display:none) and points outside government hosts, and is excused."""
    label = BY_FILE["bjchy_home_2018.html"]
    real = (REAL / label["file"]).read_bytes()
    body = real[: real.rindex(b"</body>")] + JIANGSU_TAIL.encode()
    r = judged(body, label)
    assert r.hidden_links == 0, r.details["hidden_links"]
    assert r.details["hidden_links_excused"]["platform vendor"] == 1


def test_the_hidden_tab_panes_of_a_real_homepage_are_excused_as_the_sites_own() -> None:
    label = BY_FILE["bjchy_home_2018.html"]
    page = extract.parse(decode((REAL / label["file"]).read_bytes()).text or "", "http://www.bjchy.gov.cn/", TODAY)
    verdict = hidden_links.judge(page.anchors, page.hidden_anchors, "www.bjchy.gov.cn")
    assert verdict.found == []
    assert verdict.excused == {"government host": len(page.hidden_anchors)} and len(page.hidden_anchors) > 40


@pytest.mark.parametrize("now", [TODAY, OTHER_TODAY], ids=["2026-12-06", "2024-03-01"])
@pytest.mark.parametrize("name", ["yichun_home_20231011a.html", "yichun_home_20231011b.html"])
def test_a_homepages_newest_item_takes_its_year_from_the_page_not_from_today(name: str, now: float) -> None:
    label = BY_FILE[name]
    page, _, _ = judge(label, now)
    assert beijing_date(page.newest) == label["newest_item"]
    report = page.year_report
    assert report["year_unknown"] == 0 and report["year_from_item_url"] > 0
    assert report["reference"] == {
        "source": "full dates beside items",
        "count": 15,
        "date": "2023-10-11",
        "example": "2023-10-11 奉新县“三点发力”赋能工业高质量发展",
    }
    short = [i for i in page.items if i.year_from]
    assert short and all(i.published is not None and beijing_date(i.published)[:4] == "2023" for i in short)


def without_year_evidence() -> str:
    """The real Yichun homepage with every full date and every dated URL taken out: only [MM-DD] remain."""
    text = re.sub(r"20\d\d-\d\d-\d\d", "", (REAL / YICHUN).read_text("utf-8"))
    return re.sub(r"/20\d\d-?\d\d/", "/x/", text)


def test_without_evidence_a_month_day_is_not_presented_as_fresh() -> None:
    """Derived from the real Yichun homepage: every full date and every dated URL taken out, so only
    [MM-DD] dates remain.  Nothing on the page says the year: no item is dated, the page says why."""
    page = extract.parse(without_year_evidence(), "https://www.yichun.gov.cn/", TODAY)
    assert page.newest is None
    assert page.year_report["year_unknown"] > 0
    assert any("no evidence of the year" in n for n in page.notes)


def test_an_older_last_modified_dates_the_month_days_of_a_page_without_full_dates() -> None:
    text = without_year_evidence()
    modified = dates.to_timestamp(2023, 10, 11, 11, 36)
    page = extract.parse(text, "https://www.yichun.gov.cn/", TODAY, last_modified=modified)
    assert beijing_date(page.newest) == "2023-10-11"
    assert page.year_report["reference"]["source"] == "HTTP Last-Modified"


def test_a_last_modified_of_the_request_time_is_not_evidence() -> None:
    page = extract.parse(without_year_evidence(), "https://www.yichun.gov.cn/", TODAY, last_modified=TODAY - 5)
    assert page.newest is None
    assert "not evidence" in page.year_report["evidence"][-1]["example"]


# --- served on loopback, as the agent sees them ------------------------------------------------

HOST = "www.yichun.gov.cn"


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, DnsServer]]:
    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"] or YICHUN
        if name not in BY_FILE:
            raise web.HTTPNotFound()
        return web.Response(body=(REAL / name).read_bytes(), headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_get("/{name:.*}", handle)
    dns = DnsServer(records={HOST: ["127.0.0.1"]})
    await dns.start()
    try:
        async with await hostile.serve_app(app) as server:
            yield f"http://{HOST}:{server.port}", dns
    finally:
        await dns.close()


async def test_the_real_yichun_homepage_served_on_loopback_is_stale_with_its_evidence_named(
    served: tuple[str, DnsServer],
) -> None:
    base, dns = served
    cfg = loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
content: {{timeout: 5s}}
sites:
  - code: "3609000002"
    name: 中国宜春
    url: "{base}/"
    columns:
      - {{name: 统计公报, url: '{base}/yichun_article_2022_bulletin.html', category: notice}}
""")
    net = Network(cfg.dns, cfg.tls, cfg.http)
    try:
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), clock=lambda: TODAY)
        r = await content_probe.probe(cfg.sites[0], ctx)
    finally:
        await net.close()
    assert r.success and r.homepage_success
    assert beijing_date(r.homepage_last_update) == "2023-10-11" and r.homepage_update_source == "dated_items"
    inference = r.details["year_inference"]
    assert inference["reference"]["source"] == "full dates beside items" and inference["year_unknown"] == 0
    assert {i["year_from"] for i in r.details["newest_items"] if "year_from" in i} <= {"item URL", "page evidence"}
    assert all(r.compliance.values()), r.details["compliance_found"]
    assert r.details["compliance_found"]["meta"] == {
        "SiteName": "中国宜春",
        "SiteDomain": "www.yichun.gov.cn",
        "SiteIDCode": "3609000002",
    }
    assert r.hidden_links == 0
    assert r.details["columns"]["统计公报"]["meta"]["ColumnName"] == "统计公报"


PARTNER = '<div style="display:none"><a href="http://www.partner-example.com/zt/">合作单位专题活动</a></div>'


@pytest.mark.parametrize("allow", [[], ["partner-example.com"]], ids=["not allowed", "allowed"])
async def test_content_hidden_link_allow_excuses_a_hosts_hidden_links_on_the_served_page(allow: list[str]) -> None:
    """The Chaoyang homepage served on loopback with a bare hidden block linking to a partner: 暗链 unless
    ``content.hidden_link_allow`` names the partner's host."""
    body = (REAL / "bjchy_home_2018.html").read_bytes().replace(b"</body>", PARTNER.encode() + b"</body>")

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": "text/html"})

    app = web.Application()
    app.router.add_get("/", handle)
    dns = DnsServer(records={"www.bjchy.gov.cn": ["127.0.0.1"]})
    await dns.start()
    try:
        async with await hostile.serve_app(app) as server:
            cfg = loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
content: {{timeout: 5s, hidden_link_allow: {allow}}}
sites:
  - {{code: "1101050001", name: 北京朝阳, url: "http://www.bjchy.gov.cn:{server.port}/"}}
""")
            net = Network(cfg.dns, cfg.tls, cfg.http)
            try:
                ctx = ProbeContext(
                    config=cfg,
                    net=net,
                    state=StateStore(None),
                    clock=lambda: day_after(BY_FILE["bjchy_home_2018.html"]),
                )
                r = await content_probe.probe(cfg.sites[0], ctx)
            finally:
                await net.close()
    finally:
        await dns.close()
    assert r.homepage_success, r.reason
    if allow:
        assert r.hidden_links == 0 and r.details["hidden_links_excused"]["allowed in content.hidden_link_allow"] == 1
    else:
        (found,) = r.details["hidden_links"]
        assert r.hidden_links == 1 and found["host"] == "www.partner-example.com"
        assert found["why"].startswith('hidden by its own markup (style "display:none") +1; in a bare container')
