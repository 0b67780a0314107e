"""The latest result of each (target, probe kind), the availability counters and the findings counters.

Written by the scheduler, read by the collector and ``/api/``.  Everything runs
on the one event loop, so plain dicts are enough.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agent.limits import bounded_result
from agent.registry.config import Account, Site
from agent.run.state import StateStore
from domain import metric_names as m
from probes.results import ContentResult, FeedResult, HttpResult, Result


def target_key(target: Site | Account) -> str:
    """Sites and accounts live in separate namespaces: an account id may look like a code.

    Interned: the key is kept in the scheduler, the result store and the exposition, once per
    dict, and a fresh string per call held 160,000 × 4 copies at national size."""
    return sys.intern(f"site/{target.code}" if isinstance(target, Site) else f"account/{target.id}")


@dataclass(slots=True)
class HttpCounters:
    checks: int = 0
    failures: int = 0


def site_findings(r: ContentResult) -> tuple[bool, ...]:
    """Which of :data:`domain.metric_names.SITE_FINDINGS` one content result shows, in that order:
    what its gauges say (xuncha_serious_errors > 0, ..., a xuncha_column_blank at 1,
    xuncha_site_closed_but_online)."""
    home = r.homepage_success
    return (
        home and r.serious_errors > 0,
        home and r.privacy_leaks > 0,
        home and r.hidden_links > 0,
        any(col.success and col.blank for col in r.columns),
        r.closed_but_online,
        home and r.malicious_scripts > 0,
    )


def account_findings(r: FeedResult) -> tuple[bool, ...]:
    """Which of :data:`domain.metric_names.ACCOUNT_FINDINGS` one feed result shows."""
    return (r.not_deregistered,)


# No finding seen yet: shared by every target in that state (most of them; 150,000 accounts at
# national size), a tuple of its own only once a count moved.
_NO_SITE_FINDINGS = (0,) * len(m.SITE_FINDINGS)
_NO_ACCOUNT_FINDINGS = (0,) * len(m.ACCOUNT_FINDINGS)
FINDINGS_NAMESPACE = "findings"  # agent.run.state: target → its findings counts (those that moved once)


class ResultStore:
    def __init__(self) -> None:
        self._latest: dict[str, dict[str, Result]] = {}
        self._http: dict[str, HttpCounters] = {}
        # Target → checks whose result showed each finding (m.SITE_FINDINGS or m.ACCOUNT_FINDINGS
        # order), from its first content or feed result on.  Immutable: replaced when one moves.
        self._findings: dict[str, tuple[int, ...]] = {}
        # Kept across restarts and moves between worker processes (``keep_findings_in``): a count
        # that fell back to 0 and climbed to where it was would hide a finding from the report.
        self._state: StateStore | None = None
        self._stored: dict[str, tuple[int, ...]] = {}
        # Target → the sequence number of its last change, oldest first: the targets changed
        # since a scrape are a suffix of it (agent.exposition.collector.TargetExposition renders only those).
        self._changes: dict[str, int] = {}
        self.seq = 0
        self.listener: Callable[[str], None] | None = None  # told of each change, after it is made

    def _changed(self, target_id: str) -> None:
        self.seq += 1
        self._changes.pop(target_id, None)
        self._changes[target_id] = self.seq
        if self.listener is not None:
            self.listener(target_id)

    def changed_since(self, seq: int) -> tuple[int, list[str]]:
        """(the current sequence, the targets whose results changed after ``seq``)."""
        out = []
        for target_id, when in reversed(self._changes.items()):
            if when <= seq:
                break
            out.append(target_id)
        return self.seq, out

    def record(self, target_id: str, result: Result) -> None:
        result = bounded_result(result)  # what a hostile server said, clipped (issue 10)
        self._latest.setdefault(target_id, {})[result.kind] = result
        if isinstance(result, HttpResult):
            counters = self._http.setdefault(target_id, HttpCounters())
            counters.checks += 1
            counters.failures += not result.success
        elif isinstance(result, ContentResult):
            self._count(target_id, site_findings(result), _NO_SITE_FINDINGS)
        elif isinstance(result, FeedResult):
            self._count(target_id, account_findings(result), _NO_ACCOUNT_FINDINGS)
        self._changed(target_id)

    def keep_findings_in(self, state: StateStore) -> None:
        """Start each target's findings counts where ``state`` left them, and store them as they move.

        Only targets that ever showed a finding are stored (a few thousand at national size): they are
        read in one statement here, and a count is written only when a check shows a finding."""
        self._state = state
        self._stored = {}
        for target_id, counts in state.items(FINDINGS_NAMESPACE):
            if isinstance(counts, list) and all(isinstance(n, int) and n >= 0 for n in counts):
                self._stored[target_id] = tuple(counts)

    def _count(self, target_id: str, shown: tuple[bool, ...], zero: tuple[int, ...]) -> None:
        counts = self._findings.get(target_id)
        if counts is None:
            stored = self._stored.pop(target_id, None)
            # A finding added since the counts were stored starts at 0 (appended: the others keep their order).
            if stored is not None and len(stored) < len(zero):
                stored += zero[len(stored) :]
            counts = stored if stored is not None and len(stored) == len(zero) else zero
        if any(shown):
            counts = tuple(n + seen for n, seen in zip(counts, shown, strict=True))
            if self._state is not None:
                self._state.put(FINDINGS_NAMESPACE, target_id, list(counts))
        self._findings[target_id] = counts

    def latest(self, target_id: str) -> dict[str, Result]:
        """Kind → latest result for ``target_id`` (empty when never probed)."""
        return self._latest.get(target_id, {})

    def http_counters(self, target_id: str) -> HttpCounters | None:
        return self._http.get(target_id)

    def finding_counts(self, target_id: str) -> tuple[int, ...] | None:
        """Checks whose result showed each finding, in :data:`domain.metric_names.SITE_FINDINGS`
        order for a site, :data:`domain.metric_names.ACCOUNT_FINDINGS` order for an account; None
        before the target's first content (site) or feed (account) result."""
        return self._findings.get(target_id)

    def retain(self, target_ids: Iterable[str]) -> None:
        """Forget every target not in ``target_ids`` (after a reload removed them)."""
        keep = set(target_ids)
        for store in (self._latest, self._http, self._findings, self._changes):
            for gone in [t for t in store if t not in keep]:
                del store[gone]

    def forget(self, target_id: str, kinds: Iterable[str]) -> None:
        latest = self._latest.get(target_id)
        if latest:
            for kind in kinds:
                latest.pop(kind, None)
            self._changed(target_id)
