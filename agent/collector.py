"""The one custom collector: the metrics contract, read from the latest results.

No I/O in ``collect()`` (client_python): it walks the registry currently loaded
and the result store.  A target removed by a reload is simply not yielded, so it
disappears from ``/metrics``.  A value that is not known (never probed, no date
found) is left out rather than written as 0, so that ``time() - x`` alerts never
see the epoch.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent import __version__
from agent import metric_names as m
from agent.config import Account, Config, Site
from agent.results import ResultStore, target_key
from probes._core import ContentResult, DnsResult, FeedResult, HttpResult, LinksResult, Result, TlsResult


class AgentView(Protocol):
    """What the collector reads: the loaded registry, the results, reload status."""

    config: Config
    results: ResultStore
    reload_successful: bool
    reload_success_timestamp: float
    shard: tuple[int, int]


def _counter(name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name.removesuffix("_total"), doc, labels=labels)


class XunchaCollector(Collector):
    def __init__(self, view: AgentView) -> None:
        self.view = view

    def describe(self) -> list[Metric]:
        return []  # unchecked collector: names depend on what has been probed

    def collect(self) -> Iterator[Metric]:
        v = self.view
        yield from self._self_metrics(v)
        yield from self._sites(v.config.sites, v.results)
        yield from self._accounts(v.config.accounts, v.results)

    # --- self ----------------------------------------------------------------

    @staticmethod
    def _self_metrics(v: AgentView) -> Iterator[Metric]:
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

    # --- sites ---------------------------------------------------------------

    def _sites(self, sites: tuple[Site, ...], results: ResultStore) -> Iterator[Metric]:
        g = _SiteFamilies()
        for site in sites:
            g.info.add_metric(
                [site.code, site.name, site.region.name, site.region.province, site.kind, site.status, site.url], 1
            )
            latest = results.latest(target_key(site))
            counters = results.http_counters(target_key(site))
            if counters is not None:
                g.checks.add_metric([site.code], counters.checks)
                g.failures.add_metric([site.code], counters.failures)
            for result in latest.values():
                _SITE_EMITTERS[type(result)](g, site, result)
        yield from g.families()

    # --- accounts ------------------------------------------------------------

    def _accounts(self, accounts: tuple[Account, ...], results: ResultStore) -> Iterator[Metric]:
        info = GaugeMetricFamily(m.ACCOUNT_INFO, "1 per registered new-media account (政务新媒体).",
                                 labels=["account", "unit", "platform", "name", "status"])  # fmt: skip
        success = GaugeMetricFamily(m.FEED_SUCCESS, "1 if the account's feed could be fetched and parsed.",
                                    labels=["account"])  # fmt: skip
        last = GaugeMetricFamily(m.FEED_LAST_ENTRY, "Newest trusted entry of the account's feed.", labels=["account"])
        recent = GaugeMetricFamily(m.FEED_ENTRIES_RECENT, "Feed entries in the last 14 days.", labels=["account"])
        not_dereg = GaugeMetricFamily(m.ACCOUNT_NOT_DEREGISTERED,
                                      "1 if a stopped account still publishes (must be deregistered, 注销).",
                                      labels=["account"])  # fmt: skip
        for account in accounts:
            info.add_metric([account.id, account.unit, account.platform, account.name, account.status], 1)
            result = results.latest(target_key(account)).get("feed")
            if not isinstance(result, FeedResult):
                continue
            success.add_metric([account.id], 1 if result.success else 0)
            if result.last_entry is not None:
                last.add_metric([account.id], result.last_entry)
            if result.success:
                recent.add_metric([account.id], result.entries_recent)
            not_dereg.add_metric([account.id], 1 if result.not_deregistered else 0)
        yield from (info, success, last, recent, not_dereg)


class _SiteFamilies:
    """The site metric families of one scrape."""

    def __init__(self) -> None:
        c, ccol = ["code"], ["code", "column", "category"]
        self.info = GaugeMetricFamily(m.SITE_INFO, "1 per registered site; descriptive labels live here only.",
                                      labels=["code", "name", "region", "province", "kind", "status", "url"])  # fmt: skip
        self.success = GaugeMetricFamily(m.PROBE_SUCCESS, "1 if the latest run of the probe kind succeeded.",
                                         labels=["code", "probe"])  # fmt: skip
        self.checks = _counter(m.HTTP_CHECKS_TOTAL, "Homepage visits (availability checks).", c)
        self.failures = _counter(m.HTTP_FAILURES_TOTAL,
                                 "Homepage visits without a final 2xx/3xx response within the timeout.", c)  # fmt: skip
        self.status = GaugeMetricFamily(m.HTTP_STATUS_CODE, "Status code of the latest homepage visit.", labels=c)
        self.duration = GaugeMetricFamily(m.HTTP_DURATION_SECONDS, "Phase durations of the latest homepage visit.",
                                          labels=["code", "phase"])  # fmt: skip
        self.last_check = GaugeMetricFamily(m.HTTP_LAST_CHECK_TIMESTAMP, "When the homepage was last visited.", labels=c)
        self.dns = GaugeMetricFamily(m.DNS_LOOKUP_SECONDS, "Duration of the latest DNS lookup.", labels=c)
        self.dns_answers = GaugeMetricFamily(m.DNS_ANSWERS, "Addresses in the latest DNS answer, by family.",
                                             labels=["code", "family"])  # fmt: skip
        self.not_after = GaugeMetricFamily(m.TLS_CERT_NOT_AFTER, "Expiry of the leaf certificate.", labels=c)
        self.not_before = GaugeMetricFamily(m.TLS_CERT_NOT_BEFORE, "Start of the leaf certificate.", labels=c)
        self.cert_valid = GaugeMetricFamily(m.TLS_CERT_VALID, "1 if the chain verifies and the host name matches.",
                                            labels=c)  # fmt: skip
        self.chain_valid = GaugeMetricFamily(m.TLS_CHAIN_VALID, "1 if the certificate chain verifies.", labels=c)
        self.host_match = GaugeMetricFamily(m.TLS_HOSTNAME_MATCH, "1 if the certificate covers the host name.",
                                            labels=c)  # fmt: skip
        self.homepage = GaugeMetricFamily(m.HOMEPAGE_LAST_UPDATE, "Newest publication on the homepage.", labels=c)
        self.column_update = GaugeMetricFamily(m.COLUMN_LAST_UPDATE, "Newest item of each configured column.",
                                               labels=ccol)  # fmt: skip
        self.column_blank = GaugeMetricFamily(m.COLUMN_BLANK, "1 if the column is blank (空白栏目).", labels=ccol)
        self.links_checked = GaugeMetricFamily(m.LINKS_CHECKED, "Links found on the homepage and checked.", labels=c)
        self.links_broken = GaugeMetricFamily(m.LINKS_BROKEN, "Broken links on the homepage.", labels=c)
        self.compliance = GaugeMetricFamily(m.COMPLIANCE_CHECK, "1 pass / 0 fail per required element.",
                                            labels=["code", "check"])  # fmt: skip
        self.serious = GaugeMetricFamily(m.SERIOUS_ERRORS, "Hits of the wrong-expression dictionary (严重错误).",
                                         labels=c)  # fmt: skip
        self.privacy = GaugeMetricFamily(m.PRIVACY_LEAKS, "Valid resident ID numbers found (个人信息泄露).", labels=c)
        self.closed_online = GaugeMetricFamily(m.SITE_CLOSED_BUT_ONLINE,
                                               "1 if a site registered as closed still answers (带病运行).", labels=c)  # fmt: skip
        self.closure_notice = GaugeMetricFamily(m.SITE_CLOSURE_NOTICE_SHOWN,
                                                "For closing sites: 1 if the homepage shows a closure notice (关停公告).",
                                                labels=c)  # fmt: skip

    def families(self) -> Iterator[Metric]:
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


_SITE_EMITTERS = {
    HttpResult: _http,
    DnsResult: _dns,
    TlsResult: _tls,
    ContentResult: _content,
    LinksResult: _links,
}
