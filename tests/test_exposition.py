"""The /metrics text: valid for Prometheus' own parser, cached per result, pruned on removal."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.demo.hostile import free_port
from agent.exposition.collector import FAMILIES, TargetExposition, gzip_body, plain_body
from agent.registry.config import loads
from agent.run.results import ResultStore, target_key
from domain import metric_names as m
from domain.registry import Account, Site
from probes.results import ColumnFinding, ContentResult, FeedResult, HttpResult, Result

CFG = loads(
    """
sites:
  - {code: "4405070010", name: '汕头市"国土"局\\龙湖分局', url: "http://a.gov.cn/"}
  - {code: "4405150006", name: 澄海人才网, url: "http://b.gov.cn/"}
accounts:
  - {id: chaozhou-police, unit: 潮州市公安局, platform: wechat, name: 平安潮州, feed: "http://rss.example/x"}
"""
)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


def store() -> ResultStore:
    results = ResultStore()
    a, b = CFG.sites
    results.record(target_key(a), HttpResult(success=True, status_code=200, started=1.0, phases={"connect": 0.01}))
    results.record(target_key(b), HttpResult(success=False, reason="connect: connection refused", started=2.0))
    results.record(
        target_key(a),
        ContentResult(
            success=True,
            homepage_success=True,
            homepage_last_update=1795000000.5,
            columns_success=True,
            columns=(
                ColumnFinding(
                    name="工作动态",
                    category="news",
                    url="http://a.gov.cn/gzdt/",
                    success=True,
                    last_update=1794000000.0,
                    blank=False,
                ),
                ColumnFinding(
                    name="通知公告", category="notice", url="http://a.gov.cn/tzgg/", success=True, blank=True
                ),
            ),
            compliance_success=False,
            compliance={"icp_shown": True, "site_code_shown": False, "site_meta_tags": False},
            hidden_links=2,
        ),
    )
    return results


def test_the_text_parses_and_carries_the_contract_values() -> None:
    text = TargetExposition().render(CFG.sites, CFG.accounts, store())
    s = samples(text)
    a = "4405070010"
    assert (
        s[
            (
                m.SITE_INFO,
                frozenset(
                    {
                        "code": a,
                        "name": '汕头市"国土"局\\龙湖分局',
                        "region": "广东省汕头市龙湖区",
                        "province": "广东省",
                        "kind": "department",
                        "status": "active",
                        "url": "http://a.gov.cn/",
                    }.items()
                ),
            )
        ]
        == 1
    )
    assert s[(m.HTTP_CHECKS_TOTAL, frozenset({"code": "4405150006"}.items()))] == 1
    assert s[(m.HTTP_FAILURES_TOTAL, frozenset({"code": "4405150006"}.items()))] == 1
    assert s[(m.HTTP_FAILURES_TOTAL, frozenset({"code": a}.items()))] == 0
    assert s[(m.HOMEPAGE_LAST_UPDATE, frozenset({"code": a}.items()))] == 1795000000.5
    col = {"code": a, "column": "工作动态", "category": "news"}
    assert s[(m.COLUMN_LAST_UPDATE, frozenset(col.items()))] == 1794000000.0
    blank = {"code": a, "column": "通知公告", "category": "notice"}
    assert s[(m.COLUMN_BLANK, frozenset(blank.items()))] == 1
    assert (m.COLUMN_LAST_UPDATE, frozenset(blank.items())) not in s  # no date: absent, not 0
    assert s[(m.COMPLIANCE_CHECK, frozenset({"code": a, "check": "site_code_shown"}.items()))] == 0
    assert s[(m.COMPLIANCE_CHECK, frozenset({"code": a, "check": "site_meta_tags"}.items()))] == 0
    assert s[(m.HIDDEN_LINKS, frozenset({"code": a}.items()))] == 2
    assert s[(m.PROBE_SUCCESS, frozenset({"code": a, "probe": "compliance"}.items()))] == 0
    # the account's region comes from its unit's name (潮州市公安局 → 广东省潮州市), for routing
    assert (
        s[
            (
                m.ACCOUNT_INFO,
                frozenset(
                    {
                        "account": "chaozhou-police",
                        "unit": "潮州市公安局",
                        "platform": "wechat",
                        "name": "平安潮州",
                        "status": "active",
                        "region": "广东省潮州市",
                        "province": "广东省",
                    }.items()
                ),
            )
        ]
        == 1
    )
    assert (m.FEED_SUCCESS, frozenset({"account": "chaozhou-police"}.items())) not in s  # never probed


def test_a_new_result_is_rendered_and_an_unchanged_one_is_reused() -> None:
    results = store()
    exposition = TargetExposition()
    first = exposition.render(CFG.sites, CFG.accounts, results)
    assert exposition.render(CFG.sites, CFG.accounts, results) == first
    a = CFG.sites[0]
    old = results.latest(target_key(a))["http"]
    results.record(target_key(a), dataclasses.replace(old, success=False, status_code=503, reason="status 503"))
    s = samples(exposition.render(CFG.sites, CFG.accounts, results))
    assert s[(m.HTTP_STATUS_CODE, frozenset({"code": a.code}.items()))] == 503
    assert s[(m.HTTP_FAILURES_TOTAL, frozenset({"code": a.code}.items()))] == 1
    assert s[(m.HTTP_CHECKS_TOTAL, frozenset({"code": a.code}.items()))] == 2


def test_a_removed_site_is_not_rendered() -> None:
    results = store()
    exposition = TargetExposition()
    exposition.render(CFG.sites, CFG.accounts, results)
    text = exposition.render(CFG.sites[1:], CFG.accounts, results)
    assert "4405070010" not in text and "4405150006" in text


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_accepts_the_text() -> None:
    text = TargetExposition().render(CFG.sites, CFG.accounts, store())
    proc = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    # promtool exits 1 on lint advice too; a parse error is what must never happen.
    assert "error while linting" not in proc.stderr and "parse" not in proc.stderr.lower(), proc.stderr


# --- incremental rendering (issue 12: a country's /metrics in under a second) --------------------


def _fleet_site(i: int) -> str:
    """Some closed (带病运行 is judged for them), every third without columns (no blank_columns)."""
    columns = "" if i % 3 == 2 else f"{{name: 栏目{i}, url: 'http://s{i}.gov.cn/c/', category: news}}"
    status = "closed" if i % 4 == 1 else "active"
    return f'  - {{code: "44050700{i:02d}", name: 站{i}, url: "http://s{i}.gov.cn/", status: {status}, columns: [{columns}]}}\n'


def _fleet_account(i: int) -> str:
    status = "stopped" if i % 3 == 0 else "active"  # a stopped account has the not-deregistered series
    return f"  - {{id: acc{i}, unit: 潮州市公安局, platform: wechat, name: 号{i}, feed: 'http://rss.example/{i}', status: {status}}}\n"


FLEET = loads(
    "sites:\n"
    + "".join(_fleet_site(i) for i in range(12))
    + "accounts:\n"
    + "".join(_fleet_account(i) for i in range(8))
)


class Counting(TargetExposition):
    """Counts the targets rendered, to show which scrapes re-render what."""

    def __init__(self) -> None:
        super().__init__()
        self.rendered: list[str] = []

    def _render(self, key: str, target: Site | Account, results: ResultStore, *into: Any) -> None:
        self.rendered.append(key)
        super()._render(key, target, results, *into)


def _random_result(rng: random.Random, kind: str, t: float) -> Result:
    if kind == "http":
        ok = rng.random() < 0.7
        return HttpResult(success=ok, status_code=200 if ok else None, started=t, phases={"connect": rng.random()})
    if kind == "content":  # now and then a finding, for the findings counters
        blank = rng.random() < 0.2
        col = ColumnFinding(name="x", category="news", url="http://x/", success=True, last_update=t, blank=blank)
        return ContentResult(
            success=True,
            homepage_success=rng.random() < 0.9,
            homepage_last_update=t,
            columns=(col,),
            serious_errors=rng.choice((0, 0, 0, 1, 2)),
            privacy_leaks=rng.choice((0, 0, 0, 0, 1)),
            hidden_links=rng.choice((0, 0, 0, 0, 3)),
            closed_but_online=rng.random() < 0.3,
        )
    ok = rng.random() < 0.8
    return FeedResult(
        success=ok, last_entry=t, entries_recent=rng.randrange(9), not_deregistered=ok and rng.random() < 0.4
    )


@pytest.mark.parametrize("eager", [False, True], ids=["rendered-at-scrape", "rendered-as-results-come"])
def test_incremental_text_equals_a_fresh_render_through_changes_forgets_and_reloads(eager: bool) -> None:
    """Whatever happens between scrapes, the kept text is what rendering from scratch gives."""
    rng = random.Random(12)
    results, kept = ResultStore(), Counting()
    if eager:
        results.listener = kept.changed
    sites, accounts = FLEET.sites, FLEET.accounts
    last: tuple[str, Result] | None = None
    scraped = True
    for step in range(500):
        op = rng.random()
        if op < 0.6:
            if last is not None and rng.random() < 0.35:
                results.record(*last)  # an equal result again: only the counters move
            elif rng.random() < 0.6:
                site = rng.choice(sites)
                last = target_key(site), _random_result(rng, rng.choice(["http", "content"]), step)
                results.record(*last)
            else:
                last = target_key(rng.choice(accounts)), _random_result(rng, "feed", step)
                results.record(*last)
        elif op < 0.7:
            results.forget(target_key(rng.choice(sites)), ["content"])
        elif op < 0.8:  # a reload: a new registry, one site renamed, one dropped, one back
            renamed = dataclasses.replace(sites[0], name=f"改名{step}")
            sites = tuple(rng.sample(FLEET.sites, len(FLEET.sites) - 1))
            sites = tuple(renamed if s.code == renamed.code else s for s in sites)
            accounts = tuple(rng.sample(FLEET.accounts, len(FLEET.accounts) - rng.randrange(2)))
        if rng.random() < 0.35:  # no scrape now: changes and reloads pile up until the next one
            scraped = False
            continue
        text = kept.render(sites, accounts, results)
        assert samples(text) == samples(TargetExposition().render(sites, accounts, results)), step
        if op < 0.6 and step and scraped:  # one result since the last scrape: one target rendered, at once or now
            assert len(kept.rendered) == 1
        scraped = True
        kept.rendered.clear()
    assert results.seq > 100
    text = kept.render(sites, accounts, results)
    moved = [v for (name, _), v in samples(text).items() if name in (m.SITE_FINDINGS_TOTAL, m.ACCOUNT_FINDINGS_TOTAL)]
    assert 0 in moved and max(moved) > 1  # the counters were part of the changes


def test_a_scrape_renders_only_the_targets_whose_results_changed() -> None:
    results, kept = ResultStore(), Counting()
    for t in (*FLEET.sites, *FLEET.accounts):
        results.record(
            target_key(t), HttpResult(success=True, started=1.0) if isinstance(t, Site) else FeedResult(success=True)
        )
    kept.render(FLEET.sites, FLEET.accounts, results)
    assert len(kept.rendered) == len(FLEET.sites) + len(FLEET.accounts)  # the first scrape: everyone
    kept.rendered.clear()
    kept.render(FLEET.sites, FLEET.accounts, results)
    assert kept.rendered == []  # nothing new
    results.record(target_key(FLEET.sites[3]), HttpResult(success=False, started=2.0))
    results.record(target_key(FLEET.accounts[1]), FeedResult(success=True, last_entry=5.0))
    kept.render(FLEET.sites, FLEET.accounts, results)
    assert sorted(kept.rendered) == sorted([target_key(FLEET.sites[3]), target_key(FLEET.accounts[1])])
    kept.rendered.clear()
    kept.render(FLEET.sites[1:], FLEET.accounts, results)  # a reload re-renders only what it changed
    assert kept.rendered == []


def test_the_agent_renders_a_result_as_it_comes_and_the_scrape_only_joins() -> None:
    results, kept = ResultStore(), Counting()
    results.listener = kept.changed
    site = FLEET.sites[2]
    results.record(target_key(site), HttpResult(success=True, started=1.0))
    assert kept.rendered == []  # before the first scrape the registry is not known: the scrape renders
    kept.render(FLEET.sites, FLEET.accounts, results)
    kept.rendered.clear()
    results.record(target_key(site), HttpResult(success=False, status_code=500, started=2.0))
    assert kept.rendered == [target_key(site)]  # at once
    text = kept.render(FLEET.sites, FLEET.accounts, results)
    assert kept.rendered == [target_key(site)]  # and not again at the scrape
    assert samples(text)[(m.HTTP_STATUS_CODE, frozenset({"code": site.code}.items()))] == 500


async def test_compressed_families_are_reused_until_one_of_their_targets_changes() -> None:
    results = store()
    kept = TargetExposition()
    first = await kept.deflated(CFG.sites, CFG.accounts, results)
    again = await kept.deflated(CFG.sites, CFG.accounts, results)
    assert all(a is b for a, b in zip(first, again, strict=True))  # nothing compressed twice
    a = CFG.sites[0]
    results.record(target_key(a), HttpResult(success=False, status_code=503, started=9.0))
    third = await kept.deflated(CFG.sites, CFG.accounts, results)
    index = {f.name: i for i, f in enumerate(FAMILIES)}
    assert third[index[m.SITE_INFO]] is first[index[m.SITE_INFO]]  # the site's info did not change
    assert third[index[m.HTTP_STATUS_CODE]] is not first[index[m.HTTP_STATUS_CODE]]
    body = gzip_body(b"# own\n", [third])
    plain = plain_body(b"# own\n", [kept.blocks(CFG.sites, CFG.accounts, results)])
    assert gzip.decompress(body) == plain and plain.startswith(b"# own\n")
    assert samples(plain.decode())[(m.HTTP_STATUS_CODE, frozenset({"code": a.code}.items()))] == 503


async def test_an_agent_has_its_metrics_text_ready_before_the_first_scrape(tmp_path: Path) -> None:
    from agent.run.runtime import Agent

    closed = free_port()  # nothing listens: every visit fails at once, and is a result
    cfg = loads(
        f"state_dir: {tmp_path}\nintervals: {{http: 1s}}\nhttp: {{timeout: 1s}}\nsites:\n"
        + "".join(
            f'  - {{code: "44050700{i:02d}", name: s{i}, url: "http://127.0.0.1:{closed}/{i}"}}\n' for i in range(5)
        )
    )
    agent = Agent(None, config=cfg, listen="127.0.0.1:0")
    kept = Counting()
    agent.exposition, agent.results.listener = kept, kept.changed
    await agent.start()
    try:
        assert len(kept.rendered) == 5  # the registry, rendered at start
        for _ in range(100):
            if len(kept.rendered) >= 10:
                break
            await asyncio.sleep(0.1)
        assert len(kept.rendered) >= 10  # then each result as it came
        kept.rendered.clear()
        before = agent.results.seq
        body = gzip.decompress(await agent.render_metrics(gzip=True)).decode()
        # The scrape itself renders nothing; only results that came meanwhile were, as they came.
        assert len(kept.rendered) == agent.results.seq - before
        assert samples(body)[(m.HTTP_CHECKS_TOTAL, frozenset({"code": "4405070000"}.items()))] >= 1
    finally:
        await agent.stop()


def test_ready_says_whether_a_thread_may_compress_without_the_loop() -> None:
    results, kept = ResultStore(), TargetExposition()
    assert not kept.ready()  # no registry yet
    kept.refresh(FLEET.sites, FLEET.accounts, results)
    results.listener = kept.changed
    site = target_key(FLEET.sites[0])
    results.record(site, HttpResult(success=True, started=1.0))
    assert kept.ready()  # rendered as it came
    results.listener = None
    results.record(site, HttpResult(success=True, started=2.0))
    assert not kept.ready()  # nobody rendered it
    results.listener = kept.changed
    results.record(site, HttpResult(success=True, started=3.0))
    assert not kept.ready()  # rendered, but after one that was not: a gap only refresh fills
    kept.refresh(FLEET.sites, FLEET.accounts, results)
    assert kept.ready()
    results.record(site, HttpResult(success=True, started=4.0))
    assert kept.ready()


# --- the findings counters (the quarterly report reads them at a few instants) -------------------

FINDINGS_CFG = loads(
    """
sites:
  - {code: "4405070010", name: 龙湖, url: "http://a.gov.cn/", columns: [{name: 通知公告, url: "http://a.gov.cn/tzgg/", category: notice}]}
  - {code: "4405150006", name: 澄海, url: "http://b.gov.cn/"}
  - {code: "5304230001", name: 已关停, url: "http://c.gov.cn/", status: closed}
accounts:
  - {id: old-wechat, unit: 潮州市公安局, platform: wechat, name: 旧号, feed: "http://rss.example/old", status: stopped}
  - {id: chaozhou-police, unit: 潮州市公安局, platform: wechat, name: 平安潮州, feed: "http://rss.example/p"}
"""
)
WITH_COLUMNS, WITHOUT_COLUMNS, CLOSED = FINDINGS_CFG.sites
STOPPED, ACTIVE = FINDINGS_CFG.accounts


def _column(blank: bool) -> ColumnFinding:
    return ColumnFinding(name="通知公告", category="notice", url="http://a.gov.cn/tzgg/", success=True, blank=blank)


def _clean(**changes: Any) -> ContentResult:
    """A homepage read with nothing to report, its one column listing items."""
    base = ContentResult(success=True, homepage_success=True, homepage_last_update=1.79e9, columns=(_column(False),))
    return dataclasses.replace(base, **changes)


def findings_of(text: str, code: str) -> dict[str, float]:
    return {
        dict(labels)["finding"]: v
        for (name, labels), v in samples(text).items()
        if name == m.SITE_FINDINGS_TOTAL and ("code", code) in labels
    }


def account_series(text: str, account: str) -> dict[str, float]:
    """The not-deregistered gauge and counter of ``account``, by sample name."""
    s = samples(text)
    out = {
        name: v
        for (name, labels), v in s.items()
        if name == m.ACCOUNT_NOT_DEREGISTERED and ("account", account) in labels
    }
    for (name, labels), v in s.items():
        if name == m.ACCOUNT_FINDINGS_TOTAL and {("account", account), ("finding", "not_deregistered")} <= labels:
            out[f"{name}/not_deregistered"] = v
    return out


@pytest.mark.parametrize(
    ("finding", "shown"),
    [
        ("serious_errors", _clean(serious_errors=1)),
        ("privacy_leaks", _clean(privacy_leaks=2)),
        ("hidden_links", _clean(hidden_links=3, details={"hidden_links": []})),
        ("blank_columns", _clean(columns=(_column(True),))),
        ("malicious_scripts", _clean(malicious_scripts=2, details={"malicious_scripts": []})),
    ],
)
def test_a_content_result_with_a_finding_counts_exactly_that_finding(finding: str, shown: ContentResult) -> None:
    results, kept = ResultStore(), TargetExposition()
    key = target_key(WITH_COLUMNS)
    results.record(key, HttpResult(success=True, status_code=200, started=1.0))
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert findings_of(text, WITH_COLUMNS.code) == {}  # no content check yet: no counter, as no gauge
    results.record(key, _clean())
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    services = {"incomplete_guides": 0, "no_services": 0}  # issue 18's, there at 0 for open sites
    zero = {
        "serious_errors": 0,
        "privacy_leaks": 0,
        "hidden_links": 0,
        "blank_columns": 0,
        **services,
        "malicious_scripts": 0,
    }
    assert findings_of(text, WITH_COLUMNS.code) == zero  # there at 0: the agent has the counter
    results.record(key, shown)
    results.record(key, _clean())
    results.record(key, shown)
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert findings_of(text, WITH_COLUMNS.code) == {**zero, finding: 2}
    assert results.finding_counts(key) == tuple(2 if f == finding else 0 for f in m.SITE_FINDINGS)
    # a failed homepage shows no finding (its gauges are not written either); the count stays
    results.record(key, ContentResult(success=False, homepage_success=False, reason="connect: refused"))
    again = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert findings_of(again, WITH_COLUMNS.code) == {**zero, finding: 2}
    assert again == kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)  # unchanged across scrapes
    assert samples(again) == samples(TargetExposition().render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results))
    # the other sites were never checked: no counters for them
    assert findings_of(again, WITHOUT_COLUMNS.code) == findings_of(again, CLOSED.code) == {}


def test_a_series_is_written_only_where_its_gauge_can_be() -> None:
    results = ResultStore()
    results.record(target_key(WITHOUT_COLUMNS), _clean(columns=(), serious_errors=1))
    results.record(target_key(CLOSED), ContentResult(success=False, homepage_success=False, reason="refused"))
    text = TargetExposition().render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    # no configured column: no blank_columns; an open site: no closed_but_online
    assert findings_of(text, WITHOUT_COLUMNS.code) == {
        "serious_errors": 1,
        "privacy_leaks": 0,
        "hidden_links": 0,
        "incomplete_guides": 0,
        "no_services": 0,
        "malicious_scripts": 0,
    }
    assert (m.COLUMN_BLANK, frozenset({"code": WITHOUT_COLUMNS.code}.items())) not in samples(text)
    # a closed site that does not answer: closed_but_online at 0 (its gauge is 0 too)
    assert findings_of(text, CLOSED.code) == {
        "serious_errors": 0,
        "privacy_leaks": 0,
        "hidden_links": 0,
        "closed_but_online": 0,
        "malicious_scripts": 0,
    }
    assert samples(text)[(m.SITE_CLOSED_BUT_ONLINE, frozenset({"code": CLOSED.code}.items()))] == 0
    # then it answers: 带病运行, counted once per check that saw it
    online = ContentResult(success=True, homepage_success=True, closed_but_online=True)
    results.record(target_key(CLOSED), online)
    results.record(target_key(CLOSED), online)
    text = TargetExposition().render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert findings_of(text, CLOSED.code)["closed_but_online"] == 2
    assert samples(text)[(m.SITE_CLOSED_BUT_ONLINE, frozenset({"code": CLOSED.code}.items()))] == 1


def test_the_not_deregistered_series_are_for_stopped_accounts_only() -> None:
    results, kept = ResultStore(), TargetExposition()
    results.listener = kept.changed
    kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    live = FeedResult(success=True, entries=3, entries_recent=1, last_entry=1.79e9, not_deregistered=True)
    results.record(target_key(STOPPED), live)
    results.record(target_key(STOPPED), live)  # the same result again: the count moves, nothing else
    results.record(target_key(ACTIVE), FeedResult(success=True, entries=3, entries_recent=3, last_entry=1.79e9))
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    gauge, counter = m.ACCOUNT_NOT_DEREGISTERED, f"{m.ACCOUNT_FINDINGS_TOTAL}/not_deregistered"
    assert account_series(text, STOPPED.id) == {gauge: 1, counter: 2}
    assert account_series(text, ACTIVE.id) == {}  # neither the gauge nor the counter
    assert samples(text)[(m.FEED_SUCCESS, frozenset({"account": ACTIVE.id}.items()))] == 1  # but its feed, yes
    # the feed now fails: the gauge says 0, the counter keeps what the checks saw
    results.record(target_key(STOPPED), FeedResult(success=False, reason="HTTP 404", last_entry=1.79e9))
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert account_series(text, STOPPED.id) == {gauge: 0, counter: 2}
    assert samples(text) == samples(TargetExposition().render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results))
    # a reload makes it active again (重新启用): both series go; stopped again: they come back as they were
    reactivated = tuple(dataclasses.replace(a, status="active") for a in FINDINGS_CFG.accounts)
    text = kept.render(FINDINGS_CFG.sites, reactivated, results)
    assert account_series(text, STOPPED.id) == {}
    text = kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results)
    assert account_series(text, STOPPED.id) == {gauge: 0, counter: 2}


def test_a_count_moved_by_an_equal_result_is_rendered_through_a_reload() -> None:
    """The kept text of a target is reused across a reload when its stamp did not change: the
    counts are part of it, since an equal result recorded again moves them and nothing else."""
    results, kept = ResultStore(), TargetExposition()
    key = target_key(WITH_COLUMNS)
    shown = _clean(serious_errors=1)
    results.record(key, shown)
    assert (
        findings_of(kept.render(FINDINGS_CFG.sites, FINDINGS_CFG.accounts, results), WITH_COLUMNS.code)[
            "serious_errors"
        ]
        == 1
    )
    results.record(key, shown)  # not scraped before the reload
    text = kept.render(FINDINGS_CFG.sites[:2], FINDINGS_CFG.accounts, results)  # a reload dropped a site
    assert findings_of(text, WITH_COLUMNS.code)["serious_errors"] == 2


def test_the_counts_are_forgotten_with_their_target() -> None:
    results = ResultStore()
    results.record(target_key(WITH_COLUMNS), _clean(hidden_links=1))
    results.record(target_key(STOPPED), FeedResult(success=True, entries=1, not_deregistered=True))
    assert results.finding_counts(target_key(STOPPED)) == (1, 0, 0)
    results.retain([target_key(STOPPED)])
    assert results.finding_counts(target_key(WITH_COLUMNS)) is None
    assert results.finding_counts(target_key(STOPPED)) == (1, 0, 0)
    results.record(target_key(WITH_COLUMNS), _clean())  # back after a reload: from 0, as a new series
    assert results.finding_counts(target_key(WITH_COLUMNS)) == (0,) * len(m.SITE_FINDINGS)


def test_counts_stored_by_an_agent_without_the_newer_findings_go_on_from_where_they_were(tmp_path: Path) -> None:
    # issue 19 appended malicious_scripts: an agent upgraded in mid-quarter keeps the five older counts (a
    # count back at 0 would hide a finding from the report) and starts the new ones at 0.
    from agent.run.results import FINDINGS_NAMESPACE
    from agent.run.state import StateStore

    state = StateStore(tmp_path / "xuncha.db")
    state.put(FINDINGS_NAMESPACE, target_key(WITH_COLUMNS), [4, 0, 1, 0, 0])
    results = ResultStore()
    results.keep_findings_in(state)
    results.record(target_key(WITH_COLUMNS), _clean(malicious_scripts=1))
    assert results.finding_counts(target_key(WITH_COLUMNS)) == (4, 0, 1, 0, 0, 0, 0, 1)
    assert state.get(FINDINGS_NAMESPACE, target_key(WITH_COLUMNS)) == [4, 0, 1, 0, 0, 0, 0, 1]


def test_findings_counts_start_where_the_state_left_them_after_a_restart(tmp_path: Path) -> None:
    # A count back at 0 after a restart could climb to where it was and hide a finding from the
    # quarterly report (which compares the counts at the period's two ends): kept in the state database.
    from agent.run.state import StateStore

    site, account = target_key(WITH_COLUMNS), target_key(STOPPED)
    state = StateStore(tmp_path / "xuncha.db")
    before = ResultStore()
    before.keep_findings_in(state)
    before.record(site, _clean(serious_errors=1))
    before.record(site, _clean(columns=(_column(True),)))
    before.record(site, _clean(serious_errors=1))
    online = FeedResult(success=True, entries=3, entries_recent=1, not_deregistered=True)
    before.record(account, online)
    state.close()

    state = StateStore(tmp_path / "xuncha.db")  # the agent again, with its state directory
    after = ResultStore()
    after.keep_findings_in(state)
    after.record(site, _clean())  # nothing found now: the counts stay where they were, not 0
    after.record(account, dataclasses.replace(online, not_deregistered=False))
    counts = dict(zip(m.SITE_FINDINGS, after.finding_counts(site) or (), strict=True))
    assert counts == {**dict.fromkeys(m.SITE_FINDINGS, 0), "serious_errors": 2, "blank_columns": 1}
    assert after.finding_counts(account) == (1, 0, 0)
    after.record(site, _clean(serious_errors=1))
    assert (after.finding_counts(site) or ())[0] == 3
    # a target that never showed a finding is not stored, and starts at 0
    clean = target_key(WITHOUT_COLUMNS)
    after.record(clean, _clean(columns=()))
    assert after.finding_counts(clean) == (0,) * len(m.SITE_FINDINGS)
    assert {k for k, _ in state.items("findings")} == {site, account}
    # without the state (``xuncha report`` or a test), counts start at 0
    bare = ResultStore()
    bare.record(site, _clean())
    assert bare.finding_counts(site) == (0,) * len(m.SITE_FINDINGS)
    state.close()
