"""/api/findings' judgements, from hand-built results (no network)."""

from __future__ import annotations

from agent.findings.findings import account_findings, site_findings
from agent.registry.config import Account, ContentConfig, Site
from domain.divisions import region_of
from domain.registry import Region
from probes.results import ColumnFinding, ContentResult, FeedResult, HttpResult, LinksResult, TlsResult

NOW = 1_795_000_000.0
DAY = 86400.0
SITE = Site(code="4405070010", name="龙湖分局", url="https://www.longhu.gov.cn/", region=region_of("4405070010"))
LINES = ContentConfig()


def kinds(found: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(f["finding"] for f in found)


def column(name: str, category: str, age_days: float | None, blank: bool = False) -> ColumnFinding:
    return ColumnFinding(
        name=name,
        category=category,
        url=f"https://www.longhu.gov.cn/{name}/",
        success=True,
        last_update=None if age_days is None else NOW - age_days * DAY,
        blank=blank,
    )


def test_a_healthy_site_has_no_findings() -> None:
    latest = {
        "http": HttpResult(success=True, status_code=200),
        "tls": TlsResult(success=True, chain_valid=True, hostname_match=True),
        "links": LinksResult(success=True, checked=40),
        "content": ContentResult(
            success=True,
            homepage_success=True,
            homepage_last_update=NOW - 13 * DAY,
            columns=(column("工作动态", "news", 13), column("通知公告", "notice", 179)),
            compliance={"icp_shown": True, "site_code_shown": True},
        ),
    }
    assert site_findings(SITE, latest, LINES, NOW) == []


def test_each_problem_of_a_neglected_site_is_a_finding() -> None:
    latest = {
        "http": HttpResult(success=False, reason="status 503"),
        "tls": TlsResult(success=True, chain_valid=False, hostname_match=True, reason="chain: certificate has expired"),
        "links": LinksResult(
            success=True,
            checked=3,
            broken=1,
            broken_links=(
                {"url": "https://www.longhu.gov.cn/x.pdf", "found_on": SITE.url, "reason": "HTTP 404", "status": 404},
            ),
        ),
        "content": ContentResult(
            success=True,
            homepage_success=True,
            homepage_last_update=NOW - 15 * DAY,
            columns=(
                column("工作动态", "news", 15),
                column("通知公告", "notice", None, blank=True),
                column("人事信息", "longterm", 366),
            ),
            compliance={"icp_shown": False, "site_code_shown": True},
            details={
                "serious_errors": [{"wrong": "开诚不公", "right": "开诚布公", "where": "homepage"}],
                "privacy_leaks": [{"where": "homepage", "id": "440507********123X"}],
            },
        ),
    }
    found = site_findings(SITE, latest, LINES, NOW)
    assert kinds(found) == sorted(
        [
            "probe_failed",
            "certificate_invalid",
            "broken_link",
            "homepage_stale",
            "column_stale",
            "column_stale",
            "column_blank",
            "required_element_missing",
            "serious_error",
            "privacy_leak",
        ]
    )
    stale = {f["column"]: f["days"] for f in found if f["finding"] == "column_stale"}
    assert stale == {"工作动态": 15.0, "人事信息": 366.0}
    assert next(f for f in found if f["finding"] == "broken_link")["reason"] == "HTTP 404"
    assert all(f["code"] == "4405070010" and f["region"] == "广东省汕头市龙湖区" for f in found)


def test_closed_and_closing_sites() -> None:
    online = {"content": ContentResult(success=True, homepage_success=True, closed_but_online=True)}
    assert kinds(site_findings(SITE, online, LINES, NOW)) == ["closed_but_online"]
    no_notice = {"content": ContentResult(success=True, homepage_success=True, closure_notice_shown=False)}
    assert kinds(site_findings(SITE, no_notice, LINES, NOW)) == ["closure_notice_missing"]
    notice = {"content": ContentResult(success=True, homepage_success=True, closure_notice_shown=True)}
    assert site_findings(SITE, notice, LINES, NOW) == []


def test_accounts_unreachable_and_not_deregistered() -> None:
    account = Account(
        id="chaoan-fda-wechat",
        unit="潮安区市场监督管理局",
        platform="wechat",
        name="潮安食药监",
        status="stopped",
        feed="http://rss/x",
        region=Region("445103", "广东省", "潮州市", "潮安区"),
    )
    assert account_findings(account, None) == []
    assert account_findings(account, FeedResult(success=True, entries=3)) == []
    assert kinds(account_findings(account, FeedResult(success=False, reason="HTTP 503"))) == ["feed_failed"]
    live = FeedResult(success=True, entries=3, not_deregistered=True, last_entry=NOW - DAY)
    assert account_findings(account, live) == [
        {
            "account": "chaoan-fda-wechat",
            "name": "潮安食药监",
            "unit": "潮安区市场监督管理局",
            "platform": "wechat",
            "region": "广东省潮州市潮安区",
            "finding": "not_deregistered",
            "last_entry": NOW - DAY,
        }
    ]


def test_hidden_links_are_a_finding_each_naming_the_element_that_hid_it() -> None:
    link = {
        "url": "http://www.bet.example/",
        "host": "www.bet.example",
        "text": "澳门赌场娱乐城",
        "hidden_by": 'off-screen (style "left:-9999px")',
        "element": "div#ad",
        "words": ["娱乐城"],
    }
    latest = {
        "content": ContentResult(
            success=True,
            homepage_success=True,
            homepage_last_update=NOW,
            hidden_links=1,
            details={"hidden_links": [link]},
        )
    }
    (found,) = site_findings(SITE, latest, LINES, NOW)
    assert found["finding"] == "hidden_link" and found["element"] == "div#ad" and found["host"] == "www.bet.example"


def test_no_hidden_link_finding_without_hidden_links() -> None:
    latest = {
        "content": ContentResult(
            success=True, homepage_success=True, homepage_last_update=NOW, details={"hidden_links": []}
        )
    }
    assert site_findings(SITE, latest, LINES, NOW) == []


def test_a_missing_element_finding_says_why() -> None:
    latest = {
        "content": ContentResult(
            success=True,
            homepage_success=True,
            homepage_last_update=NOW,
            compliance={"site_meta_tags": False, "conac_mark_shown": False, "icp_shown": True},
            details={
                "compliance_found": {
                    "meta_problem": "no <meta name=SiteIDCode>",
                    "conac_problem": "the 党政机关 mark is shown without its link",
                }
            },
        )
    }
    found = {f["check"]: f.get("problem") for f in site_findings(SITE, latest, LINES, NOW)}
    assert found == {
        "site_meta_tags": "no <meta name=SiteIDCode>",
        "conac_mark_shown": "the 党政机关 mark is shown without its link",
    }
