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

import asyncio
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent import __version__
from agent.exposition import families as x
from agent.kinds import KINDS
from agent.registry.config import Config
from agent.run import scores
from agent.run.results import ResultStore, target_key
from agent.workers import gzipjoin
from domain import metric_names as m
from domain.registry import Account, Site
from domain.scoring import DEFAULT_TABLE, Table
from domain.thresholds import THRESHOLDS, Thresholds

# Every per-target family, in exposition order: the sites', then the accounts'.
FAMILIES = x.SITE_FAMILIES + x.ACCOUNT_FAMILIES


class AgentView(Protocol):
    """What the collector reads: the loaded registry, the results, reload status."""

    config: Config
    results: ResultStore
    reload_successful: bool
    reload_success_timestamp: float
    shard: tuple[int, int]

    def target_counts(self) -> tuple[int, int]: ...


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
        sites, accounts = v.target_counts()
        targets.add_metric(["site"], sites)
        targets.add_metric(["account"], accounts)
        yield targets
        shard = GaugeMetricFamily(m.SHARD_INFO, "This agent's shard of the registry.", labels=["shard", "shards"])
        shard.add_metric([str(v.shard[0]), str(v.shard[1])], 1)
        yield shard


class TargetExposition:
    """The per-site and per-account series, as exposition text, kept ready between scrapes.

    A country is ~1,000,000 series (110 MB of text).  Building client_python metric
    objects for them on every scrape cost ~4 s of CPU per 10,000 sites
    (bench/scrape_cost.py) with the event loop blocked; joining every target's
    cached lines on every scrape still cost seconds at national size (issue 12).

    So the text is kept per family, as one ``bytes`` per target in a dict
    (:attr:`_lines`).  The agent renders a target's lines when one of its
    results changes (:meth:`changed`, ~50 µs per result), else a scrape renders
    the targets whose results changed since the last one
    (:meth:`ResultStore.changed_since`); a reload (a new registry) is the only
    full pass.  Each family's samples are also kept
    gzip-compressed (:meth:`compressed`) and compressed again only when one of
    its targets' lines changed, off the event loop; ``/metrics`` joins these
    pieces into one gzip body (:mod:`agent.workers.gzipjoin`), and the supervisor of
    worker processes joins its workers' pieces without decompressing them.
    """

    def __init__(self) -> None:
        self._lines: list[dict[str, bytes]] = [{} for _ in FAMILIES]
        self._stamps: dict[str, tuple[object, ...]] = {}
        self._targets: dict[str, Site | Account] = {}
        self._registry: tuple[tuple[Site, ...], tuple[Account, ...]] | None = None
        self._seq = -1  # the result store's change sequence this text reflects
        self._behind = False  # a change came that could not be rendered as it came
        self._store: ResultStore | None = None
        self._dirty = [True] * len(FAMILIES)  # families whose lines changed since they were compressed
        self._gzip: list[gzipjoin.Piece] = [gzipjoin.EMPTY] * len(FAMILIES)
        self._compressing = threading.Lock()
        self.scoring: Table = DEFAULT_TABLE  # xuncha.yml's ``scoring:`` (use_scoring)
        self.thresholds: Thresholds = THRESHOLDS

    def use_scoring(self, table: Table, thresholds: Thresholds) -> None:
        """Score by ``table`` (and the lines of ``thresholds``) from now on: a new table renders every
        site again at the next refresh."""
        if table != self.scoring or thresholds != self.thresholds:
            self.scoring, self.thresholds = table, thresholds
            self._registry = None  # the next refresh rebuilds
            self._stamps.clear()

    def render(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> str:
        """The whole per-target exposition, headers included (tests, benches, one-process ``/metrics``)."""
        blocks = self.blocks(sites, accounts, results)
        return "".join(f.header + b.decode() for f, b in zip(FAMILIES, blocks, strict=True))

    def blocks(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> list[bytes]:
        """The samples of each family of :data:`FAMILIES`, without headers."""
        self.refresh(sites, accounts, results)
        return [b"".join(lines.values()) for lines in self._lines]

    async def deflated(
        self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore
    ) -> list[gzipjoin.Piece]:
        """:meth:`blocks`, each compressed (:mod:`agent.workers.gzipjoin`): brought up to date on the loop,
        then the families that changed are compressed in a thread; the others are reused."""
        self.refresh(sites, accounts, results)
        return await asyncio.to_thread(self.compressed)

    def ready(self) -> bool:
        """True when no result waits for :meth:`refresh` (:meth:`compressed` may then run in any
        thread).  While results are rendered as they come (:meth:`changed`), one being rendered
        right now is not waiting: it is in this scrape or marks its family for the next."""
        store = self._store
        if store is None or self._behind:
            return False
        return self._seq == store.seq or store.listener == self.changed

    def compressed(self) -> list[gzipjoin.Piece]:
        """Every family compressed, as it is now; safe in another thread than the loop's.

        The loop only ever replaces a dict entry or a list item, and ``list(d.values())`` of
        bytes runs in C without letting another thread in: each family is taken whole, as it
        was at one instant (two families may be a few results apart, as any scrape may be).
        A family's flag is cleared before its lines are taken, so a change made meanwhile is
        compressed again next time, never lost.  With worker processes this runs in the
        worker's exposition thread (agent.workers.worker), which a loop saturated by probes cannot
        delay.
        """
        with self._compressing:  # one at a time; a concurrent scrape then finds nothing left to do
            for i, dirty in enumerate(self._dirty):
                if dirty:
                    self._dirty[i] = False
                    lines = self._lines[i]
                    self._gzip[i] = gzipjoin.deflate(b"".join(list(lines.values())))
            return list(self._gzip)

    def refresh(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> None:
        """Bring the text up to date with ``results`` for this registry."""
        if self._registry is None or self._store is not results or self._registry != (sites, accounts):
            self._rebuild(sites, accounts, results)
            return
        self._seq, changed = results.changed_since(self._seq)
        for key in changed:
            target = self._targets.get(key)
            if target is not None:
                self._render(key, target, results)
        self._behind = False

    def changed(self, key: str) -> None:
        """A result of ``key`` changed (:attr:`ResultStore.listener`): render its lines now, so that a
        scrape finds them ready.  Before the first scrape, or for a target this registry does not
        know (yet), :meth:`refresh` does it."""
        store = self._store
        if store is None:
            return
        if self._seq != store.seq - 1:
            self._behind = True  # some change is not rendered: the next refresh takes them all
            return
        target = self._targets.get(key)
        if target is not None:  # else gone, or new in a registry the next scrape rebuilds from
            self._render(key, target, store)
        self._seq = store.seq

    def _rebuild(self, sites: tuple[Site, ...], accounts: tuple[Account, ...], results: ResultStore) -> None:
        """A new registry (start, reload): every target in registry order, re-rendered if it changed.
        Built aside and swapped in whole, so that another thread never sees it half done."""
        old = self._lines
        new: list[dict[str, bytes]] = [{} for _ in FAMILIES]
        targets: dict[str, Site | Account] = {}
        everything: list[Site | Account] = [*sites, *accounts]
        for target in everything:
            key = target_key(target)
            targets[key] = target
            if self._unchanged(key, target, results):
                for i, lines in enumerate(old):
                    text = lines.get(key)
                    if text is not None:
                        new[i][key] = text
            else:
                self._render(key, target, results, new)
        for key in self._stamps.keys() - targets.keys():
            del self._stamps[key]
        with self._compressing:
            self._lines, self._dirty = new, [True] * len(FAMILIES)
        self._targets = targets
        self._registry = (sites, accounts)
        self._store = results
        self._seq = results.seq  # rendered from the store as it is now
        self._behind = False

    def _stamp(self, key: str, target: Site | Account, results: ResultStore) -> tuple[object, ...]:
        latest = results.latest(key)
        # The counts too: an equal result recorded again moves them, and nothing else.
        findings = results.finding_counts(key)
        if isinstance(target, Site):
            counters = results.http_counters(key)
            return (target, counters and (counters.checks, counters.failures), findings, *latest.values())
        return (target, findings, *latest.values())

    def _unchanged(self, key: str, target: Site | Account, results: ResultStore) -> bool:
        old = self._stamps.get(key)
        return old is not None and _same(old, self._stamp(key, target, results))

    def _render(
        self, key: str, target: Site | Account, results: ResultStore, into: list[dict[str, bytes]] | None = None
    ) -> None:
        self._stamps[key] = self._stamp(key, target, results)
        if isinstance(target, Site):
            out = x.Lines(x.SITE_FAMILIES)
            x.site_info(out, target)
            counters = results.http_counters(key)
            if counters is not None:
                x.http_counters(out, target.code, counters.checks, counters.failures)
            findings = results.finding_counts(key)
            if findings is not None:
                x.site_findings(out, target, findings)
            base = 0
        else:
            out = x.Lines(x.ACCOUNT_FAMILIES)
            x.account_info(out, target)
            findings = results.finding_counts(key)
            if findings is not None:
                x.account_findings(out, target, findings)
            base = len(x.SITE_FAMILIES)
        latest = results.latest(key)
        for kind, result in latest.items():
            KINDS[kind].emit(out, target, result)
        if isinstance(target, Site) and latest:
            week = results.visits_week(key, time.time())
            x.site_score(out, target, scores.site_score(target, latest, week, self.scoring, self.thresholds))
        families = self._lines if into is None else into
        for i, lines in enumerate(out.by_family, base):
            family = families[i]
            if lines:
                text = "".join(lines).encode()
                if family.get(key) != text:
                    family[key] = text
                    self._dirty[i] = True
            elif key in family:
                del family[key]
                self._dirty[i] = True


Sources = Sequence[Sequence[bytes]]  # per worker process (or one), per family


def plain_body(own: bytes, sources: Sources) -> bytes:
    """``own`` (the agent's own series), then each per-target family once: its header, then every
    source's block of it (one source per worker process), so that its samples form one group."""
    parts = [own]
    for i, header in enumerate(_HEADERS):
        parts.append(header)
        parts.extend(blocks[i] for blocks in sources)
    return b"".join(parts)


def gzip_body(own: bytes, sources: Sequence[Sequence[gzipjoin.Piece]]) -> bytes:
    """:func:`plain_body` gzip-compressed, from each source's :meth:`TargetExposition.deflated`:
    only ``own`` is compressed here."""
    pieces = [gzipjoin.deflate(own)]
    for i, header in enumerate(_DEFLATED_HEADERS):
        pieces.append(header)
        pieces.extend(blocks[i] for blocks in sources)
    return gzipjoin.join(pieces)


_HEADERS = [f.header.encode() for f in FAMILIES]
_DEFLATED_HEADERS = [gzipjoin.deflate(h) for h in _HEADERS]


def _same(old: tuple[object, ...], new: tuple[object, ...]) -> bool:
    # Results are frozen and replaced, never mutated: identity says "unchanged".
    return len(old) == len(new) and all(a is b or a == b for a, b in zip(old, new, strict=True))
