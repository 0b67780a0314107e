"""The metrics contract, read from the latest results.

No I/O here: it walks the registry currently loaded and the result store.  A
target removed by a reload is simply not rendered, so it disappears from
``/metrics``.  The agent's own few series go through client_python
(:class:`XunchaCollector`); the per-target series — hundreds of thousands for a
province — are rendered as text by :class:`TargetExposition`.  A value that is
not known (never probed, no date found) is left out rather than written as 0,
so that ``time() - x`` alerts never see the epoch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from agent import __version__
from agent import metric_names as m
from agent.config import Account, Config, Site
from agent.limits import MAX_LABEL_VALUE, clip
from agent.results import ResultStore, target_key
from probes.results import ContentResult, DnsResult, FeedResult, HttpResult, LinksResult, Result, TlsResult


class AgentView(Protocol):
    """What the collector reads: the loaded registry, the results, reload status."""

    config: Config
    results: ResultStore
    reload_successful: bool
    reload_success_timestamp: float
    shard: tuple[int, int]


class XunchaCollector(Collector):
    """The agent's own state, through client_python (small, fixed set of series)."""

    def __init__(self, view: AgentView) -> None:
        self.view = view

    def describe(self) -> list[Metric]:
        return []  # unchecked collector

    def collect(self) -> Iterator[Metric]:
        v = self.view
        build = GaugeMetricFamily(m.BUILD_INFO, "Xuncha build information.", labels=["version", "python"])
        build.add_metric([__version__, sys.version.split()[0]], 1)
        yield build
        reload_ok = GaugeMetricFamily(m.CONFIG_LAST_RELOAD_SUCCESSFUL, "1 if the last configuration load succeeded.")
        reload_ok.add_metric([], 1 if v.reload_successful else 0)
        yield reload_ok
        reload_ts = GaugeMetricFamily(m.CONFIG_LAST_RELOAD_SUCCESS_TIMESTAMP, "When the configuration last loaded.")
        reload_ts.add_metric([], v.reload_success_timestamp)
        yield reload_ts
        targets = GaugeMetricFamily(m.TARGETS, "Registered targets in this shard, by kind.", labels=["kind"])
        targets.add_metric(["site"], len(v.config.sites))
        targets.add_metric(["account"], len(v.config.accounts))
        yield targets
        shard = GaugeMetricFamily(m.SHARD_INFO, "This agent's shard of the registry.", labels=["shard", "shards"])
        shard.add_metric([str(v.shard[0]), str(v.shard[1])], 1)
        yield shard


class TargetExposition:
    """The per-site and per-account series, as exposition text.

    A country-sized registry is ~400,000 series; building client_python metric
    objects for them on every scrape cost ~4 s of CPU per 10,000 sites
    (bench/scrape_cost.py) with the event loop blocked.  Results are frozen, so
    each target's lines are rendered once per new result and cached; a scrape
    joins the cached lines under one header per family.
    """

    def __init__(self) -> None:
        self._sites: dict[str, tuple[tuple[object, ...], list[list[str]]]] = {}
        self._accounts: dict[str, tuple[tuple[object, ...], list[list[str]]]] = {}

    def render(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> str:
        site_lines = [self._site(s, results) for s in sites]
        account_lines = [self._account(a, results) for a in accounts]
        if len(self._sites) > len(sites):  # a reload removed sites: drop their lines
            codes = {s.code for s in sites}
            self._sites = {k: v for k, v in self._sites.items() if k in codes}
        if len(self._accounts) > len(accounts):
            ids = {a.id for a in accounts}
            self._accounts = {k: v for k, v in self._accounts.items() if k in ids}
        out: list[str] = []
        for families, per_target in ((_SITE_FAMILIES, site_lines), (_ACCOUNT_FAMILIES, account_lines)):
            for i, family in enumerate(families):
                out.append(family.header)
                for lines in per_target:
                    if lines[i]:
                        out.extend(lines[i])
        return "".join(out)

    def _site(self, site: Site, results: ResultStore) -> list[list[str]]:
        key = target_key(site)
        latest = results.latest(key)
        counters = results.http_counters(key)
        stamp = (site, counters and (counters.checks, counters.failures), *latest.values())
        cached = self._sites.get(site.code)
        if cached is not None and _same(cached[0], stamp):
            return cached[1]
        g = _SiteFamilies()
        g.info.add_metric(
            [site.code, site.name, site.region.name, site.region.province, site.kind, site.status, site.url], 1
        )
        if counters is not None:
            g.checks.add_metric([site.code], counters.checks)
            g.failures.add_metric([site.code], counters.failures)
        for result in latest.values():
            _SITE_EMITTERS[type(result)](g, site, result)
        lines = [f.lines for f in g.families()]
        self._sites[site.code] = (stamp, lines)
        return lines

    def _account(self, account: Account, results: ResultStore) -> list[list[str]]:
        result = results.latest(target_key(account)).get("feed")
        stamp = (account, result)
        cached = self._accounts.get(account.id)
        if cached is not None and _same(cached[0], stamp):
            return cached[1]
        g = _AccountFamilies()
        g.info.add_metric([account.id, account.unit, account.platform, account.name, account.status], 1)
        if isinstance(result, FeedResult):
            g.success.add_metric([account.id], 1 if result.success else 0)
            if result.last_entry is not None:
                g.last.add_metric([account.id], result.last_entry)
            if result.success:
                g.recent.add_metric([account.id], result.entries_recent)
            g.not_dereg.add_metric([account.id], 1 if result.not_deregistered else 0)
        lines = [f.lines for f in g.families()]
        self._accounts[account.id] = (stamp, lines)
        return lines


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    # Results are frozen and replaced, never mutated: identity says "unchanged".
    return len(old) == len(new) and all(a is b or a == b for a, b in zip(old, new, strict=True))


def _escape(value: str) -> str:
    if len(value) > MAX_LABEL_VALUE:  # config validation bounds names; this bounds everything else
        value = clip(value, MAX_LABEL_VALUE)
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')
    return value


class _Family:
    """One metric family rendered straight to exposition lines (text format 0.0.4)."""

    __slots__ = ("name", "labels", "header", "lines")

    def __init__(self, name: str, doc: str, labels: list[str], kind: str = "gauge") -> None:
        self.name, self.labels = name, labels
        # HELP and TYPE name the same family, the full sample name (as client_python writes the
        # 0.0.4 format): a TYPE for "xuncha_http_checks" left the _total samples untyped (issue 10).
        self.header = f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"
        self.lines: list[str] = []

    def add_metric(self, values: list[str], value: float) -> None:
        pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(self.labels, values, strict=True))
        text = str(value) if type(value) is int else floatToGoString(value)
        self.lines.append(f"{self.name}{{{pairs}}} {text}\n" if pairs else f"{self.name} {text}\n")


class _AccountFamilies:
    def __init__(self) -> None:
        a = ["account"]
        self.info = _Family(m.ACCOUNT_INFO, "1 per registered new-media account (政务新媒体).",
                            ["account", "unit", "platform", "name", "status"])  # fmt: skip
        self.success = _Family(m.FEED_SUCCESS, "1 if the account's feed could be fetched and parsed.", a)
        self.last = _Family(m.FEED_LAST_ENTRY, "Newest trusted entry of the account's feed.", a)
        self.recent = _Family(m.FEED_ENTRIES_RECENT, "Feed entries in the last 14 days.", a)
        self.not_dereg = _Family(m.ACCOUNT_NOT_DEREGISTERED,
                                 "1 if a stopped account still publishes (must be deregistered, 注销).", a)  # fmt: skip

    def families(self) -> Iterator[_Family]:
        yield from vars(self).values()


class _SiteFamilies:
    """The site metric families of one scrape."""

    def __init__(self) -> None:
        c, ccol = ["code"], ["code", "column", "category"]
        self.info = _Family(m.SITE_INFO, "1 per registered site; descriptive labels live here only.",
                                      ["code", "name", "region", "province", "kind", "status", "url"])  # fmt: skip
        self.success = _Family(m.PROBE_SUCCESS, "1 if the latest run of the probe kind succeeded.",
                                         ["code", "probe"])  # fmt: skip
        self.checks = _Family(m.HTTP_CHECKS_TOTAL, "Homepage visits (availability checks).", c, "counter")
        self.failures = _Family(m.HTTP_FAILURES_TOTAL,
                                "Homepage visits without a final 2xx/3xx response within the timeout.", c, "counter")  # fmt: skip
        self.status = _Family(m.HTTP_STATUS_CODE, "Status code of the latest homepage visit.", c)
        self.duration = _Family(m.HTTP_DURATION_SECONDS, "Phase durations of the latest homepage visit.",
                                          ["code", "phase"])  # fmt: skip
        self.last_check = _Family(m.HTTP_LAST_CHECK_TIMESTAMP, "When the homepage was last visited.", c)
        self.dns = _Family(m.DNS_LOOKUP_SECONDS, "Duration of the latest DNS lookup.", c)
        self.dns_answers = _Family(m.DNS_ANSWERS, "Addresses in the latest DNS answer, by family.",
                                             ["code", "family"])  # fmt: skip
        self.not_after = _Family(m.TLS_CERT_NOT_AFTER, "Expiry of the leaf certificate.", c)
        self.not_before = _Family(m.TLS_CERT_NOT_BEFORE, "Start of the leaf certificate.", c)
        self.cert_valid = _Family(m.TLS_CERT_VALID, "1 if the chain verifies and the host name matches.",
                                            c)  # fmt: skip
        self.chain_valid = _Family(m.TLS_CHAIN_VALID, "1 if the certificate chain verifies.", c)
        self.host_match = _Family(m.TLS_HOSTNAME_MATCH, "1 if the certificate covers the host name.",
                                            c)  # fmt: skip
        self.homepage = _Family(m.HOMEPAGE_LAST_UPDATE, "Newest publication on the homepage.", c)
        self.column_update = _Family(m.COLUMN_LAST_UPDATE, "Newest item of each configured column.",
                                               ccol)  # fmt: skip
        self.column_blank = _Family(m.COLUMN_BLANK, "1 if the column is blank (空白栏目).", ccol)
        self.links_checked = _Family(m.LINKS_CHECKED, "Links found on the homepage and checked.", c)
        self.links_broken = _Family(m.LINKS_BROKEN, "Broken links on the homepage.", c)
        self.compliance = _Family(m.COMPLIANCE_CHECK, "1 pass / 0 fail per required element.",
                                            ["code", "check"])  # fmt: skip
        self.serious = _Family(m.SERIOUS_ERRORS, "Different wrong expressions of the dictionary found (严重错误).",
                                         c)  # fmt: skip
        self.privacy = _Family(m.PRIVACY_LEAKS, "Valid resident ID numbers found (个人信息泄露).", c)
        self.closed_online = _Family(m.SITE_CLOSED_BUT_ONLINE,
                                               "1 if a site registered as closed still answers (带病运行).", c)  # fmt: skip
        self.closure_notice = _Family(m.SITE_CLOSURE_NOTICE_SHOWN,
                                                "For closing sites: 1 if the homepage shows a closure notice (关停公告).",
                                                c)  # fmt: skip

    def families(self) -> Iterator[_Family]:
        yield from vars(self).values()


def _http(g: _SiteFamilies, site: Site, r: Result) -> None:
    assert isinstance(r, HttpResult)
    g.success.add_metric([site.code, "http"], 1 if r.success else 0)
    g.last_check.add_metric([site.code], r.started)
    if r.status_code is not None:
        g.status.add_metric([site.code], r.status_code)
    for phase, seconds in r.phases.items():
        g.duration.add_metric([site.code, phase], seconds)


def _dns(g: _SiteFamilies, site: Site, r: Result) -> None:
    assert isinstance(r, DnsResult)
    g.success.add_metric([site.code, "dns"], 1 if r.success else 0)
    g.dns.add_metric([site.code], r.lookup_seconds)
    g.dns_answers.add_metric([site.code, "ipv4"], len(r.ipv4))
    g.dns_answers.add_metric([site.code, "ipv6"], len(r.ipv6))


def _tls(g: _SiteFamilies, site: Site, r: Result) -> None:
    assert isinstance(r, TlsResult)
    g.success.add_metric([site.code, "tls"], 1 if r.success else 0)
    if r.not_after is None:
        return
    g.not_after.add_metric([site.code], r.not_after)
    if r.not_before is not None:
        g.not_before.add_metric([site.code], r.not_before)
    g.cert_valid.add_metric([site.code], 1 if r.cert_valid else 0)
    g.chain_valid.add_metric([site.code], 1 if r.chain_valid else 0)
    g.host_match.add_metric([site.code], 1 if r.hostname_match else 0)


def _content(g: _SiteFamilies, site: Site, r: Result) -> None:
    assert isinstance(r, ContentResult)
    code = site.code
    g.success.add_metric([code, "homepage"], 1 if r.homepage_success else 0)
    if r.homepage_last_update is not None:
        g.homepage.add_metric([code], r.homepage_last_update)
    if site.columns:
        g.success.add_metric([code, "columns"], 1 if r.columns_success else 0)
    for col in r.columns:
        if col.last_update is not None:
            g.column_update.add_metric([code, col.name, col.category], col.last_update)
        if col.success:
            g.column_blank.add_metric([code, col.name, col.category], 1 if col.blank else 0)
    if r.homepage_success:
        g.success.add_metric([code, "compliance"], 1 if r.compliance_success else 0)
        for check, passed in r.compliance.items():
            g.compliance.add_metric([code, check], 1 if passed else 0)
        g.serious.add_metric([code], r.serious_errors)
        g.privacy.add_metric([code], r.privacy_leaks)
    if site.status == "closed":
        g.closed_online.add_metric([code], 1 if r.closed_but_online else 0)
    if r.closure_notice_shown is not None:
        g.closure_notice.add_metric([code], 1 if r.closure_notice_shown else 0)


def _links(g: _SiteFamilies, site: Site, r: Result) -> None:
    assert isinstance(r, LinksResult)
    g.success.add_metric([site.code, "links"], 1 if r.success else 0)
    if r.checked or r.success:
        g.links_checked.add_metric([site.code], r.checked)
        g.links_broken.add_metric([site.code], r.broken)


# Family order and headers (the lines of one scrape are grouped by family).
_SITE_FAMILIES = tuple(_SiteFamilies().families())
_ACCOUNT_FAMILIES = tuple(_AccountFamilies().families())

_SITE_EMITTERS = {
    HttpResult: _http,
    DnsResult: _dns,
    TlsResult: _tls,
    ContentResult: _content,
    LinksResult: _links,
}
