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

from agent import metric_names as m
from agent.collector import FAMILIES, TargetExposition, gzip_body, plain_body
from agent.config import loads
from agent.demo.hostile import free_port
from agent.results import ResultStore, target_key
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

FLEET = loads(
    "sites:\n"
    + "".join(
        f'  - {{code: "44050700{i:02d}", name: 站{i}, url: "http://s{i}.gov.cn/",'
        f' columns: [{{name: 栏目{i}, url: "http://s{i}.gov.cn/c/", category: news}}]}}\n'
        for i in range(12)
    )
    + "accounts:\n"
    + "".join(
        f"  - {{id: acc{i}, unit: 潮州市公安局, platform: wechat, name: 号{i}, feed: 'http://rss.example/{i}'}}\n"
        for i in range(8)
    )
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
    if kind == "content":
        col = ColumnFinding(name="x", category="news", url="http://x/", success=True, last_update=t, blank=False)
        return ContentResult(success=True, homepage_success=True, homepage_last_update=t, columns=(col,))
    return FeedResult(success=rng.random() < 0.8, last_entry=t, entries_recent=rng.randrange(9))


@pytest.mark.parametrize("eager", [False, True], ids=["rendered-at-scrape", "rendered-as-results-come"])
def test_incremental_text_equals_a_fresh_render_through_changes_forgets_and_reloads(eager: bool) -> None:
    """Whatever happens between scrapes, the kept text is what rendering from scratch gives."""
    rng = random.Random(12)
    results, kept = ResultStore(), Counting()
    if eager:
        results.listener = kept.changed
    sites, accounts = FLEET.sites, FLEET.accounts
    for step in range(200):
        op = rng.random()
        if op < 0.6:
            if rng.random() < 0.6:
                site = rng.choice(sites)
                results.record(target_key(site), _random_result(rng, rng.choice(["http", "content"]), step))
            else:
                results.record(target_key(rng.choice(accounts)), _random_result(rng, "feed", step))
        elif op < 0.7:
            results.forget(target_key(rng.choice(sites)), ["content"])
        elif op < 0.8:  # a reload: a new registry, one site renamed, one dropped, one back
            renamed = dataclasses.replace(sites[0], name=f"改名{step}")
            sites = tuple(rng.sample(FLEET.sites, len(FLEET.sites) - 1))
            sites = tuple(renamed if s.code == renamed.code else s for s in sites)
            accounts = tuple(rng.sample(FLEET.accounts, len(FLEET.accounts) - rng.randrange(2)))
        text = kept.render(sites, accounts, results)
        assert samples(text) == samples(TargetExposition().render(sites, accounts, results)), step
        if op < 0.6 and step:  # one result since the last scrape: one target rendered, at once or now
            assert len(kept.rendered) == 1
        kept.rendered.clear()
    assert results.seq > 100


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
    from agent.runtime import Agent

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
