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

from agent import __version__
from agent import exposition as x
from agent import metric_names as m
from agent.config import Config
from agent.kinds import KINDS
from agent.results import ResultStore, target_key
from domain.registry import Account, Site

# Every per-target family, in exposition order: the sites', then the accounts'.
FAMILIES = x.SITE_FAMILIES + x.ACCOUNT_FAMILIES


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
    joins the cached lines under one header per family (``agent.exposition``).
    """

    def __init__(self) -> None:
        self._sites: dict[str, tuple[tuple[object, ...], list[list[str]]]] = {}
        self._accounts: dict[str, tuple[tuple[object, ...], list[list[str]]]] = {}

    def render(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> str:
        blocks = self.blocks(sites, accounts, results)
        return "".join(f.header + block for f, block in zip(FAMILIES, blocks, strict=True))

    def blocks(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> list[str]:
        """The samples of each family of :data:`FAMILIES`, without headers: worker processes
        send these, and the supervisor joins them family by family (agent.workers)."""
        site_lines = [self._site(s, results) for s in sites]
        account_lines = [self._account(a, results) for a in accounts]
        if len(self._sites) > len(sites):  # a reload removed sites: drop their lines
            codes = {s.code for s in sites}
            self._sites = {k: v for k, v in self._sites.items() if k in codes}
        if len(self._accounts) > len(accounts):
            ids = {a.id for a in accounts}
            self._accounts = {k: v for k, v in self._accounts.items() if k in ids}
        out: list[str] = []
        for families, per_target in ((x.SITE_FAMILIES, site_lines), (x.ACCOUNT_FAMILIES, account_lines)):
            for i in range(len(families)):
                out.append("".join([line for lines in per_target if lines[i] for line in lines[i]]))
        return out

    def _site(self, site: Site, results: ResultStore) -> list[list[str]]:
        key = target_key(site)
        latest = results.latest(key)
        counters = results.http_counters(key)
        stamp = (site, counters and (counters.checks, counters.failures), *latest.values())
        cached = self._sites.get(site.code)
        if cached is not None and _same(cached[0], stamp):
            return cached[1]
        out = x.Lines(x.SITE_FAMILIES)
        x.site_info(out, site)
        if counters is not None:
            x.http_counters(out, site.code, counters.checks, counters.failures)
        for kind, result in latest.items():
            KINDS[kind].emit(out, site, result)
        self._sites[site.code] = (stamp, out.by_family)
        return out.by_family

    def _account(self, account: Account, results: ResultStore) -> list[list[str]]:
        latest = results.latest(target_key(account))
        stamp = (account, *latest.values())
        cached = self._accounts.get(account.id)
        if cached is not None and _same(cached[0], stamp):
            return cached[1]
        out = x.Lines(x.ACCOUNT_FAMILIES)
        x.account_info(out, account)
        for kind, result in latest.items():
            KINDS[kind].emit(out, account, result)
        self._accounts[account.id] = (stamp, out.by_family)
        return out.by_family


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    # Results are frozen and replaced, never mutated: identity says "unchanged".
    return len(old) == len(new) and all(a is b or a == b for a, b in zip(old, new, strict=True))
