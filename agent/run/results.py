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
from probes.results import ContentResult, FeedResult, HttpResult, Result, ServicesResult


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
        False,  # the services probe's (below)
        False,
        home and r.malicious_scripts > 0,
    )


def service_findings(r: ServicesResult) -> tuple[bool, ...]:
    """Which of :data:`domain.metric_names.SITE_FINDINGS` one services result shows: incomplete guides
    (xuncha_site_service_guides{state="incomplete"} above 0) and no services (xuncha_site_no_services)."""
    return (False, False, False, False, False, r.count("incomplete") > 0, r.offered is False, False)


def account_findings(r: FeedResult) -> tuple[bool, ...]:
    """Which of :data:`domain.metric_names.ACCOUNT_FINDINGS` one feed result shows, in that order: what
    its gauges say (xuncha_account_not_deregistered, xuncha_account_serious_errors > 0, ...)."""
    read = r.success
    return (r.not_deregistered, read and r.serious_errors > 0, read and r.privacy_leaks > 0)


# No finding seen yet: shared by every target in that state (most of them; 150,000 accounts at
# national size), a tuple of its own only once a count moved.
_NO_SITE_FINDINGS = (0,) * len(m.SITE_FINDINGS)
_NO_ACCOUNT_FINDINGS = (0,) * len(m.ACCOUNT_FINDINGS)
FINDINGS_NAMESPACE = "findings"  # agent.run.state: target → its findings counts (those that moved once)
VISITS_NAMESPACE = "visits_by_day"  # agent.run.state: site → [[Beijing day, visits, failed], ...] of the last week
BEIJING = 8 * 3600
VISITS_SAVED_EVERY = 12  # visits (an hour at the 5-minute interval) between writes of a site's week


def beijing_day(ts: float) -> int:
    """Days since the epoch, Beijing time (UTC+8): the day a visit's counts go to."""
    return int((ts + BEIJING) // 86400)


class VisitDays:
    """One site's visits and failed visits per Beijing day over the last week (the score's
    availability item: −5 per 1 % failing over the week).  The week is the current Beijing day and
    the days before it, ``window`` days in all (domain.thresholds: 7), as the quarterly report counts
    a day's window; the counters above only ever grow and reset with the process."""

    __slots__ = ("days", "unsaved")

    def __init__(self, days: list[list[int]] | None = None) -> None:
        self.days: list[list[int]] = days or []  # [day, visits, failed], oldest first
        self.unsaved = 0

    def add(self, day: int, failed: bool, window: int) -> None:
        if not self.days or self.days[-1][0] < day:
            self.days.append([day, 0, 0])
            self.days = [d for d in self.days if d[0] > day - window]
        elif self.days[-1][0] > day:  # a visit timed before the newest day (a clock step back): into that day
            day = self.days[-1][0]
        self.days[-1][1] += 1
        self.days[-1][2] += failed
        self.unsaved += 1

    def week(self, today: int, window: int) -> tuple[int, int]:
        """(visits, failed) of the window ending ``today``."""
        inside = [d for d in self.days if today - window < d[0] <= today]
        return sum(d[1] for d in inside), sum(d[2] for d in inside)


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
        self._visits: dict[str, VisitDays] = {}  # site → its visits per day over the last week (the score)
        self._stored_visits: dict[str, list[list[int]]] = {}
        self.window_days = 7  # domain.thresholds' unreachable_window, in days (set by the app)
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
            self._visit(target_id, result)
        elif isinstance(result, ContentResult):
            self._count(target_id, site_findings(result), _NO_SITE_FINDINGS)
        elif isinstance(result, ServicesResult):
            self._count(target_id, service_findings(result), _NO_SITE_FINDINGS)
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
        self._stored_visits = {}
        for target_id, days in state.items(VISITS_NAMESPACE):
            if target_id not in self._visits and _visit_days(days):
                self._stored_visits[target_id] = [list(d) for d in days]

    def _visit(self, target_id: str, result: HttpResult) -> None:
        days = self._visits.get(target_id)
        if days is None:
            days = self._visits[target_id] = VisitDays(self._stored_visits.pop(target_id, None))
        before = days.days[-1][0] if days.days else None
        days.add(beijing_day(result.started), not result.success, self.window_days)
        # Written when a day ends and every hour or so: a restart loses at most the hour's visits.
        if self._state is not None and (before != days.days[-1][0] or days.unsaved >= VISITS_SAVED_EVERY):
            self._state.put(VISITS_NAMESPACE, target_id, days.days)
            days.unsaved = 0

    def save_visits(self) -> None:
        """Write every site's week not written since its last visit (at shutdown)."""
        if self._state is None:
            return
        for target_id, days in self._visits.items():
            if days.unsaved:
                self._state.put(VISITS_NAMESPACE, target_id, days.days)
                days.unsaved = 0

    def visits_week(self, target_id: str, now: float) -> tuple[int, int] | None:
        """(visits, failed visits) of the week ending today (Beijing), or None before the first visit."""
        days = self._visits.get(target_id)
        return None if days is None else days.week(beijing_day(now), self.window_days)

    def _count(self, target_id: str, shown: tuple[bool, ...], zero: tuple[int, ...]) -> None:
        counts = self._findings.get(target_id)
        if counts is None:
            stored = self._stored.pop(target_id, None)
            # A count stored before a finding was added has fewer places: the new ones start at 0.
            counts = stored + zero[len(stored) :] if stored is not None and len(stored) <= len(zero) else zero
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
        for store in (self._latest, self._http, self._findings, self._changes, self._visits):
            for gone in [t for t in store if t not in keep]:
                del store[gone]

    def forget(self, target_id: str, kinds: Iterable[str]) -> None:
        latest = self._latest.get(target_id)
        if latest:
            for kind in kinds:
                latest.pop(kind, None)
            self._changed(target_id)


def _visit_days(v: object) -> bool:
    """A stored week is a list of [day, visits, failed] of non-negative integers (anything else: ignored)."""
    return isinstance(v, list) and all(
        isinstance(d, list) and len(d) == 3 and all(isinstance(n, int) and n >= 0 for n in d) for d in v
    )
