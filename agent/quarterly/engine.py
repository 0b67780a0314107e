"""Gather the period's history from Prometheus, then judge it (``build``).

With a quarter of 5-minute samples, what Prometheus costs is the number of series it reads
times the points at which it reads them (and every sample, for a range function such as
``increase`` or ``last_over_time`` over the period).  So every site and account is read at a
few points only, and more finely just where a verdict is in doubt:

- the registry (info series) at the period's end, and at its start and every 45 days after;
- which series exist, at the period's first and last midnight, first for a tenth of the subjects
  (more only for one that is missing);
- ageing measures (homepage, interaction, silence) once a week, then the weeks where the
  last-update time moved at every midnight, then the doubtful days at ``step`` (``_midnight_ages``);
- availability: the failure counters once a week, then the visit counters of the sites whose
  failures moved at every midnight around the weeks where they moved (``_visits``);
- stale columns: each column's age read like the other ages, counted per site and day in Python,
  and only the site-days the counts cannot decide judged again at ``step`` (``_stale_daily``); a
  category whose line is longer than the period (notice, long-term) weekly only for the columns
  that could reach it (near it at the start, or new);
- gauges (errors, leaks, 暗链, 带病运行, 未注销) and blank columns: the findings counters at the
  period's start and end, then ``max_over_time`` of the gauges only for the subjects whose count
  moved (or that have no counter) (``_gauge_worst``); for blank columns, the sites whose columns'
  maxima add up to the line are judged again by a subquery at ``step`` (blank at the same time);
- every other measure as a subquery over the period at ``scan_step``/``step``, and the first and
  last crossing for the offenders only.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from agent.quarterly import measures as ms
from agent.quarterly.period import Period, beijing_date, midnight
from agent.quarterly.prom import Querier
from domain import metric_names as M
from domain.scoring import DEFAULT_TABLE, Table
from domain.thresholds import DAY, THRESHOLDS, Thresholds


class ReportError(RuntimeError):
    """The report cannot be made from what Prometheus holds (exit code 4)."""


@dataclass(frozen=True, slots=True)
class Options:
    region: str | None = None  # site code prefix (accounts: by the division of their ``region`` label)
    step: float = 3600.0
    thresholds: Thresholds = THRESHOLDS
    workers: int = 4
    previous: bool = True  # judge the previous period too, when Prometheus has it
    # The first pass of a measure judged by a subquery over the period may use a coarser step
    # (``--scan-step``): the offenders found are judged again at ``step``.  Only the older way
    # (``daily_ages=False``) has such measures now: ages compared with the veto line less one scan
    # step, the stale-column counts (missed when seen only between two scan steps).
    scan_step: float | None = None
    chart_sites: int = 30  # failing sites whose worst indicator is charted (html)
    # Ageing measures (homepage, interaction, silence: ``time() - last update``) are judged from their
    # values at Beijing midnights, and only the days those cannot decide are judged again at ``step``
    # (see ``_midnight_ages`` and ``_ages_daily``); so are the stale-column counts, from each column's
    # age (``_stale_daily``).  False: the older way, a subquery over the period at ``scan_step``/``step``
    # (kept to compare with; it reads every sample of every series).
    daily_ages: bool = True
    scoring: Table = DEFAULT_TABLE  # names the items of the score (issue 19)


@dataclass
class Judged:
    """One subject (site or account) and what the period did to it."""

    ident: str
    labels: dict[str, str]
    vetoes: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    status: str = "active"
    # 总分 (issue 19): {"end": {total, deducted, bonus, items}, "worst": …} from xuncha_site_score; None: no series
    score: dict[str, Any] | None = None

    @property
    def qualified(self) -> bool:
        return not self.vetoes


@dataclass
class History:
    """What ``gather`` found: subjects, their vetoes and warnings, data coverage and chart series."""

    period: Period
    sites: dict[str, Judged]
    accounts: dict[str, Judged]
    coverage: dict[str, tuple[str, str] | None]
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    previous: History | None = None


REQUIRED_SITE = (M.SITE_INFO, M.HTTP_CHECKS_TOTAL, M.HTTP_FAILURES_TOTAL)
REQUIRED_ACCOUNT = (M.ACCOUNT_INFO, M.FEED_SUCCESS)
WATCHED = (
    *REQUIRED_SITE,
    M.HOMEPAGE_LAST_UPDATE,
    M.COLUMN_LAST_UPDATE,
    *REQUIRED_ACCOUNT,
    M.FEED_LAST_ENTRY,
    M.SITE_SCORE,  # issue 19: without it the score is not judged (an agent from before it)
)
ACCOUNT_WATCHED = (*REQUIRED_ACCOUNT, M.FEED_LAST_ENTRY)  # labelled by ``account``, the others by ``code``


WEEK_DAYS = 7  # the first, coarse look at every series is once a week (see coverage and _ages)


def _parallel(jobs: Sequence[Callable[[], Any]], workers: int) -> list[Any]:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda f: f(), jobs))


def coverage(q: Querier, period: Period, end: float) -> dict[str, tuple[str, str] | None]:
    """First and last Beijing day with data, per watched series; None when absent for the whole period.

    Asked at the period's first and last midnight (a tenth of the series, or all of a name not found
    among them); a series missing at either end is looked for once a week, then the day it starts or
    stops is found by halving.  A series that stops and starts again for less than a week is taken
    as present all along.
    """
    points = [period.start + k * DAY for k in range(period.days + 1) if period.start + k * DAY <= end]

    def present(names: Sequence[str], k: int) -> set[str]:
        # First among the subjects whose identity ends in 0 (a tenth of the sites), as every series a
        # selector names is read; then everyone, for the names not found there.
        def ask(names: Sequence[str], sample: str) -> set[str]:
            rows = q.instant(f'count by (__name__) ({{__name__=~"{"|".join(names)}"{sample}}})', points[k])
            return {labels.get("__name__", "") for labels, _ in rows}

        sites = [x for x in names if x not in ACCOUNT_WATCHED]
        accounts = [x for x in names if x in ACCOUNT_WATCHED]
        found = (ask(sites, ',code=~".*0"') if sites else set()) | (
            ask(accounts, ',account=~".*0"') if accounts else set()
        )
        rest = [x for x in names if x not in found]
        return found | (ask(rest, "") if rest else set())

    last = len(points) - 1
    seen: dict[str, dict[int, bool]] = {name: {} for name in WATCHED}
    for k in {0, last}:
        found = present(WATCHED, k)
        for name in WATCHED:
            seen[name][k] = name in found
    partial_names = [name for name in WATCHED if not (seen[name][0] and seen[name][last])]
    for k in range(WEEK_DAYS, last, WEEK_DAYS):
        if partial_names:
            found = present(partial_names, k)
            for name in partial_names:
                seen[name][k] = name in found
    out: dict[str, tuple[str, str] | None] = dict.fromkeys(WATCHED)
    for name, at in seen.items():
        hits = sorted(k for k, hit in at.items() if hit)
        if not hits:
            continue
        first, final = hits[0], hits[-1]
        lo = max((k for k in at if k < first), default=None)  # absent there: the start lies after it
        while lo is not None and first - lo > 1:
            mid = (lo + first) // 2
            lo, first = (lo, mid) if name in present([name], mid) else (mid, first)
        hi = min((k for k in at if k > final), default=None)
        while hi is not None and hi - final > 1:
            mid = (final + hi) // 2
            final, hi = (mid, hi) if name in present([name], mid) else (final, mid)
        days = [min(beijing_date(points[k]), period.last).isoformat() for k in (first, final)]
        out[name] = (days[0], days[1])
    return out


def last_seen(q: Querier, name: str, period: Period) -> str:
    """When a series missing from the period was last (or first) seen, within a year of it (the error path only)."""
    rows = q.instant(f"max_over_time(timestamp(group({name}))[366d:1d])", period.start)
    if rows:
        return f"last seen {beijing_date(rows[0][1]).isoformat()}"
    rows = q.instant(f"min_over_time(timestamp(group({name}))[366d:1d])", min(time.time(), period.end + 366 * DAY))
    if rows:
        return f"first seen {beijing_date(rows[0][1]).isoformat()}, after the period"
    return "not seen in the year around it"


def check_data(
    cov: dict[str, tuple[str, str] | None], period: Period, prom_url: str, q: Querier | None = None
) -> list[str]:
    """Raise ReportError when the registry is empty or a required series is missing; return notes on gaps."""
    span = f"{period.first.isoformat()} .. {period.last.isoformat()}"
    if cov[M.SITE_INFO] is None and cov[M.ACCOUNT_INFO] is None:
        raise ReportError(
            f"empty registry: Prometheus at {prom_url} has neither {M.SITE_INFO} nor {M.ACCOUNT_INFO} "
            f"between {span} (is it scraping the Xuncha agents, and keeping enough history?)"
        )
    required = (REQUIRED_SITE if cov[M.SITE_INFO] else ()) + (REQUIRED_ACCOUNT if cov[M.ACCOUNT_INFO] else ())
    missing = [name for name in required if cov[name] is None]
    if missing:
        seen = "; ".join(f"{name}: {last_seen(q, name, period) if q else 'absent'}" for name in missing)
        raise ReportError(
            f"Prometheus at {prom_url} has no {', '.join(missing)} between {span}, which the period needs ({seen})"
        )
    notes = []
    for name, days in cov.items():
        if days and (days[0] > period.first.isoformat() or days[1] < period.last.isoformat()):
            notes.append(f"{name}: data only from {days[0]} to {days[1]}")
    return notes


def gather(
    q: Querier, period: Period, opts: Options = Options(), *, now: float | None = None, prom_url: str = "Prometheus"
) -> tuple[History, list[str]]:
    now = time.time() if now is None else now
    period = period.clamp(now)
    end = min(period.end, now)
    cov = coverage(q, period, end)
    notes = check_data(cov, period, prom_url, q)
    history = _judge_period(q, period, end, opts, full=True)
    history.coverage = cov
    if cov.get(M.SITE_SCORE) is not None:
        _judge_scores(q, period, end, opts, history.sites)
    if opts.previous:
        prev = period.previous()
        prev_cov = coverage(q, prev, prev.end)
        info = prev_cov[M.SITE_INFO] or prev_cov[M.ACCOUNT_INFO]
        if info and info[0] <= (prev.first + timedelta(days=1)).isoformat():
            history.previous = _judge_period(q, prev, prev.end, opts, full=False)
            history.previous.coverage = prev_cov
            if prev_cov.get(M.SITE_SCORE) is not None:
                _judge_scores(q, prev, prev.end, opts, history.previous.sites)
    return history, notes


def _judge_period(q: Querier, period: Period, end: float, opts: Options, *, full: bool) -> History:
    t = opts.thresholds
    m = ms.region_matchers(opts.region)
    rng = f"[{int(end - period.start)}s:{int(opts.step)}s]"
    scan = max(opts.scan_step or opts.step, opts.step)
    scan_rng = f"[{int(end - period.start)}s:{int(scan)}s]"
    site_ms, account_ms = ms.site_measures(t), ms.account_measures(t)
    jobs: list[Callable[[], Any]] = [
        lambda: _registered(q, ms.sel(M.SITE_INFO, m), "code", "closed", period, end, opts.workers),
        lambda: _registered(q, ms.sel(M.ACCOUNT_INFO, ""), "account", "stopped", period, end, opts.workers),
        lambda: _visits(q, m, period, end, t, opts.workers),
    ]
    specs: list[tuple[ms.Measure, str]] = []
    daily = [x for x in site_ms + account_ms if x.veto and x.ages and opts.daily_ages]
    for measure in daily:
        jobs.append(partial(_midnight_ages, q, measure, m, period, end, opts.workers))
    stale = [x for x in site_ms if x.veto and x.stale and opts.daily_ages]
    if stale:
        jobs.append(partial(_column_ages, q, t, m, period, end, opts.workers))
    for measure in site_ms + account_ms:
        expr = measure.expr(m if measure.subject == "site" else "")
        if measure.veto and measure not in daily and measure not in stale:
            # Only the offenders come back: the worst value of everyone else is not needed.
            specs.append((measure, "worst"))
            if measure.column_gauge or measure.gauge:
                # the samples' largest value (blank columns: the sites whose columns' maxima add up to the
                # line), read only for the subjects whose findings counter does not clear them
                jobs.append(partial(_gauge_worst, q, measure, m, period.start, end, opts.workers))
            else:
                line = measure.line.critical - (scan - opts.step if measure.ages else 0)
                jobs.append(partial(q.instant, f"max_over_time(({expr}){scan_rng}) >= {ms._num(line)}", end))
        if full and measure.line.warning < measure.line.critical:
            specs.append((measure, "end"))
            jobs.append(partial(q.instant, f"({expr}) >= {ms._num(measure.line.warning)}", end))
    results = _parallel(jobs, opts.workers)
    site_info, account_info, (checks, failures) = results[:3]
    midnights = results[3 : 3 + len(daily)]
    rest = results[3 + len(daily) :]
    column_ages, rest = (rest[0], rest[1:]) if stale else ({}, rest)
    sites = _subjects(site_info, "code", "closed")
    accounts = _subjects(account_info, "account", "stopped")
    if opts.region:
        accounts = {a: j for a, j in accounts.items() if _in_region(j.labels.get("region", ""), opts.region)}
    by_measure: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    _collect(by_measure, specs, rest)
    for measure, ages in zip(daily, midnights, strict=True):
        by_measure[measure.key].update(_ages_daily(q, measure, m, ages, period, end, opts))
    for measure in stale:
        by_measure[measure.key].update(_stale_daily(q, measure, m, column_ages, period, end, opts))
    if full or scan > opts.step or any(x.column_gauge for x in site_ms):
        # When was the line crossed: asked only for the offenders, so the period is scanned again for a few.
        specs, jobs = [], []
        for measure in site_ms + account_ms:
            if measure in daily or measure in stale:
                continue
            offenders = sorted(by_measure[measure.key]["worst"])
            rejudge = (scan > opts.step and not measure.gauge) or measure.column_gauge is not None
            if rejudge:  # candidates of the coarse pass: their worst again, at the fine step
                by_measure[measure.key]["worst"] = {}
            key = "code" if measure.subject == "site" else "account"
            for chunk in _chunks(offenders):
                expr = measure.expr(_with(m if measure.subject == "site" else "", key, chunk))
                critical = ms._num(measure.line.critical)
                crossed = f"({expr}) >= {critical}"
                if rejudge:
                    specs.append((measure, "worst"))
                    jobs.append(partial(q.instant, f"max_over_time(({expr}){rng}) >= {critical}", end))
                if full:
                    specs += [(measure, "first"), (measure, "last")]
                    jobs.append(partial(q.instant, f"min_over_time(timestamp({crossed}){rng})", end))
                    jobs.append(partial(q.instant, f"max_over_time(timestamp({crossed}){rng})", end))
        _collect(by_measure, specs, _parallel(jobs, opts.workers))
    for measure in site_ms:
        _apply(measure, by_measure[measure.key], sites, period, end)
    for measure in account_ms:
        _apply(measure, by_measure[measure.key], accounts, period, end)
    ratios = _availability(checks, failures, period, t)
    _apply_availability(ratios, sites, period, t)
    history = History(period, sites, accounts, {})
    if full:
        history.charts = _charts(q, history, ratios, m, period, end, opts)
    return history


# --- gauges (errors, leaks, 暗链, 带病运行, 未注销, blank columns) through the findings counters -----
#
# A finding may last only hours, so a gauge's worst over the period is the largest of all its
# samples (``max_over_time``, a quarter of 5-minute samples per series).  The agent also counts the
# checks that saw each finding (``xuncha_*_findings_total``, kept across restarts): a subject whose
# count did not move from the period's start to its end, and whose gauge was 0 at the start (a
# finding seen before the period lasts until the next check), had the finding at no check of the
# period.  Only the others are read sample by sample.  A subject with a gauge but no counter (data
# from an agent older than the counters) is read too: an older quarter is judged as before, at the
# old cost.


FINDINGS_GRACE = 3600  # seconds before an instant within which a series' last sample is taken
FULL_READ_ABOVE = 2000  # more candidates than this: one read of all


def _finding_candidates(q: Querier, measure: ms.Measure, m: str, start: float, end: float) -> list[str]:
    """The subjects whose findings counter does not show ``measure``'s gauge at 0 all period (see above)."""
    site = measure.subject == "site"
    key = "code" if site else "account"
    matchers = m if site else ""
    family = M.SITE_FINDINGS_TOTAL if site else M.ACCOUNT_FINDINGS_TOTAL
    counter = ms.sel(family, matchers, f'finding="{measure.key}"')
    gauge = ms.sel(measure.column_gauge or measure.gauge or "", matchers, measure.gauge_matchers)
    grace = f"[{FINDINGS_GRACE}s]"

    def c(at: float) -> str:
        return f"sum by ({key}) (last_over_time({counter}{grace} @ {at:.3f}))"

    def g(at: float) -> str:
        return f"max by ({key}) (last_over_time({gauge}{grace} @ {at:.3f}))"

    # PromQL reads every series of a selector each time it is written.  Both ends' counts go into one
    # vector, told apart by a label: a count held by one end only (``count_values`` of 1) moved,
    # appeared or disappeared (a reset by a restart counts as moved), with each end read once.
    both = f'label_replace({c(end)}, "at", "end", "", "") or label_replace({c(start)}, "at", "start", "", "")'
    ways = (
        f'group by ({key}) (count_values by ({key}) ("value", {both}) == 1)',  # seen at a check
        f"{g(start)} > 0",  # seen before the period: shown until the next check
        # a gauge without a counter at the end: an older agent (one that gained the counter during the
        # period has a count that appeared, one that lost it a count that disappeared)
        f"{g(end)} unless on({key}) {c(end)}",
    )
    rows = q.instant(" or ".join(f"({w})" for w in ways), end)
    return sorted({labels[key] for labels, _ in rows if key in labels})


def _gauge_worst(
    q: Querier, measure: ms.Measure, m: str, start: float, end: float, workers: int
) -> list[tuple[dict[str, str], float]]:
    """Per subject whose gauge reached ``measure``'s line during the period: its worst value.

    For blank columns, the sum of each column's largest value: a bound, judged again (engine)."""
    site = measure.subject == "site"
    key = "code" if site else "account"
    matchers = m if site else ""
    candidates = _finding_candidates(q, measure, m, start, end)
    if not candidates:
        return []

    def worst(extra: str) -> str:
        if measure.column_gauge:
            # with the lookback, as the rejudging subquery's first step may take a sample from before the period
            each = f"max_over_time({ms.sel(measure.column_gauge, extra)}[{int(end - start + LOOKBACK)}s])"
            value = f"sum by (code) (max by (code, column, category) ({each}))"
        else:
            selector = ms.sel(measure.gauge or "", extra, measure.gauge_matchers)
            value = f"max by ({key}) (max_over_time({selector}[{int(end - start)}s]))"
        return f"{value} >= {ms._num(measure.line.critical)}"

    if len(candidates) > FULL_READ_ABOVE:  # a regex of thousands costs more than reading everyone
        return q.instant(worst(matchers), end)
    jobs = [partial(q.instant, worst(_with(matchers, key, chunk)), end) for chunk in _chunks(candidates)]
    return [row for rows in _parallel(jobs, workers) for row in rows]


def _chunks(idents: Sequence[str]) -> list[list[str]]:
    return [list(idents[i : i + OFFENDERS_PER_QUERY]) for i in range(0, len(idents), OFFENDERS_PER_QUERY)]


def _with(matchers: str, key: str, idents: Sequence[str]) -> str:
    """``matchers`` and one naming ``idents`` (a regex of their alternatives)."""
    return ",".join(x for x in (matchers, f'{key}=~"{"|".join(idents)}"') if x)


def _registered(
    q: Querier, selector: str, key: str, gone: str, period: Period, end: float, workers: int
) -> list[tuple[dict[str, str], float]]:
    """The info series of the period: at its end, and the subjects (or statuses) that were not there
    at its end at its start and every INFO_DAYS.

    ``last_over_time(info[period])`` would read every sample of every info series (a quarter of
    5-minute samples of 150,000 accounts); a subject registered and gone again between two of
    these points is not listed.
    """
    points = [t for k in range(period.days // INFO_DAYS + 1) if (t := period.start + k * INFO_DAYS * DAY) < end]
    jobs = [partial(q.instant, selector, end)]
    if points:  # one query, so the end is read once for all of them (each selector written is read)
        earlier = " or ".join(f"{selector} @ {t:.3f}" for t in points)
        jobs.append(partial(q.instant, f"({earlier}) unless on({key}, status) {selector} @ {end:.3f}", end))
    return [row for rows in _parallel(jobs, workers) for row in rows]


INFO_DAYS = 45  # how often within the period the registry is read (see _registered)
OFFENDERS_PER_QUERY = 500  # identities in one regex matcher (the query goes in a POST body)
FULL_VISITS_SHARE = 0.6  # a site whose failures moved in this share of the days is read over the whole period
LOOKBACK = 300  # Prometheus' lookback delta (its default, 5 minutes): how far an instant looks for a sample


# --- ageing measures from Beijing midnights ------------------------------------------------------
#
# An ageing measure is ``time() - L`` with ``L`` a last-update time that only moves forward.  Its
# value at each Beijing midnight is exact, and between two midnights it grows by one second a
# second until ``L`` moves.  So for the day between midnights ``a`` (its start) and ``b`` (its end):
#
# - ``L`` did not move that day when the age at ``b`` is the age at ``a`` plus the day: the day's
#   worst is the age at ``b``, exactly;
# - otherwise the day's worst lies between the larger of the two midnight ages (both were reached)
#   and the age at ``a`` plus the day (``L`` only moved forward).  Where the line falls between
#   those, or the worst is wanted, the day alone is judged again at ``step``.
#
# The later of two new values seen at consecutive midnights says nothing about when ``L`` first
# moved (several updates may fall in one day), so it is never used: a gap from ``L`` values would
# overestimate the silence and make a false veto.


def _midnight_times(period: Period, end: float) -> list[float]:
    """Beijing midnights of the period up to ``end``, and ``end`` itself (day ``i`` is between ``i`` and ``i + 1``)."""
    times = [period.start + i * DAY for i in range(period.days + 1) if period.start + i * DAY < end]
    return [*times, end]


def _midnight_ages(
    q: Querier, measure: ms.Measure, m: str, period: Period, end: float, workers: int
) -> dict[str, dict[int, float]]:
    key = "code" if measure.subject == "site" else "account"
    region = m if measure.subject == "site" else ""
    assert measure.last is not None, measure.key  # every ageing measure says what ages
    return _midnight_values(q, measure.last, measure.line.critical, key, region, period, end, workers)


def _column_ident(labels: dict[str, str]) -> str | None:
    """One column of one site (``code``, then ``column``; COLUMN_SEP cannot be in a label of the registry)."""
    return f"{labels['code']}{COLUMN_SEP}{labels.get('column', '')}" if "code" in labels else None


COLUMN_SEP = "\x00"


def _midnight_values(
    q: Querier,
    last: Callable[[str], str],
    line: float,
    key: str,
    region: str,
    period: Period,
    end: float,
    workers: int,
    ident_of: Callable[[dict[str, str]], str | None] | None = None,
    raw: tuple[str, str] | None = None,
) -> dict[str, dict[int, float]]:
    """The measure at the period's Beijing midnights (and at ``end``) where within a day of its line.

    Every subject is read once a week, by instant queries (each reads one chunk per series; a range
    over the period would read all of its samples): a week where the last-update time did not move
    gives the age at each of its midnights; a week where it moved is read again at each midnight
    (a range over that week), for the subjects that could have crossed the line in it.  A week that
    starts under the line less a week cannot reach the line and is left alone.

    A line longer than the period and a week (a notice column's 180 days, a long-term column's 365,
    in a quarter) can only be reached by the subjects that were that close to it at the period's
    start, or that are new since: with ``raw`` (the last-update selector with region matchers, and
    the labels that name a series), only their weekly values are read.
    """
    times = _midnight_times(period, end)
    n = len(times) - 1
    ident_of = ident_of or (lambda labels: labels.get(key))
    age = ms.aged(last)
    span = times[n] - times[0]
    if raw is not None and line - span > WEEK_DAYS * DAY:
        selector, by = raw

        def seen(t: float) -> str:  # within the hour before ``t`` (``end`` need not fall on a scrape)
            return f"group by ({by}) (last_over_time({selector}[{FINDINGS_GRACE}s] @ {t:.3f}))"

        new = f"{seen(times[n])} unless on({by}) {seen(times[0])}"
        reach = f"(({age(region)}) >= {ms._num(line - span)}) or on({by}) ({new})"
        owners = sorted({labels[key] for labels, _ in q.instant(reach, times[0]) if key in labels})
        if not owners:
            return {}
        if len(owners) <= FULL_READ_ABOVE:
            parts = [
                _midnight_values(
                    q, last, line, key, _with(region, key, chunk), period, end, workers, ident_of, raw=None
                )
                for chunk in _chunks(owners)
            ]
            return {ident: at for part in parts for ident, at in part.items()}

    def near(matchers: str, width: float) -> str:
        return f"({age(matchers)}) >= {ms._num(line - width)}"

    def read(expr: str, ks: list[int], step: float) -> dict[str, dict[int, float]]:
        """``expr`` at ``times[k]`` for ``ks`` (evenly ``step`` apart but for a last ``end``) by ident."""
        out: dict[str, dict[int, float]] = defaultdict(dict)
        even = [k for k in ks if (times[k] - times[ks[0]]) % step == 0]  # all but an ``end`` off the grid
        for labels, points in q.range(expr, times[even[0]], times[even[-1]], step):
            if (ident := ident_of(labels)) is not None:
                out[ident].update((round((ts - times[0]) / DAY), v) for ts, v in points)
        for k in (k for k in ks if k not in even):
            for labels, v in q.instant(expr, times[k]):
                if (ident := ident_of(labels)) is not None:
                    out[ident][k] = v
        return out

    # A week, or half the line when that is shorter (a week's look at a 7-day line would find everyone).
    every = max(1, min(WEEK_DAYS, int(line // DAY) // 2))
    week = sorted({*range(0, n, every), n})
    # One instant query per week: a range query over the period would read every sample of every series.
    # ``age >= b`` at ``t`` is asked as ``last <= t - b``, the age being ``t`` less the answer.
    coarse: dict[str, dict[int, float]] = defaultdict(dict)
    width = every * DAY
    weekly = [partial(q.instant, f"{last(region)} <= {times[k] - (line - width):.3f}", times[k]) for k in week]
    for k, rows in zip(week, _parallel(weekly, workers), strict=True):
        for labels, v in rows:
            if (ident := ident_of(labels)) is not None:
                coarse[ident][k] = times[k] - v
    ages: dict[str, dict[int, float]] = defaultdict(dict)
    again: dict[int, list[str]] = defaultdict(list)  # week (its first day) -> idents to read every midnight
    for ident, at in coarse.items():
        for j0, j1 in zip(week, week[1:], strict=False):
            a, b = at.get(j0), at.get(j1)
            length = times[j1] - times[j0]
            if a is not None and b is not None and abs(b - (a + length)) < 1:  # no update that week
                ages[ident].update((k, a + times[k] - times[j0]) for k in range(j0, j1 + 1))
            elif a is not None or (b is not None and b >= line):  # moved, or a series new that week
                again[j0].append(ident)
    jobs = []
    for j0, idents in sorted(again.items()):
        j1 = week[week.index(j0) + 1]
        owners = sorted({ident.split(COLUMN_SEP)[0] for ident in idents})  # a column's site
        for chunk in _chunks(owners):
            expr = near(_with(region, key, chunk), DAY)
            jobs.append(partial(read, expr, list(range(j0, j1 + 1)), DAY))
    for found in _parallel(jobs, workers):
        for ident, at in found.items():
            ages[ident].update(at)
    return {ident: {k: v for k, v in at.items() if v >= line - DAY} for ident, at in ages.items()}


def _doubtful(bounds: Mapping[int, tuple[float, float]], line: float, best: float) -> list[int]:
    """The days to judge again at ``step``, from each day's (lowest, highest) possible worst and the
    best worst known exactly: where the line may lie within the day, and the one day that could hold
    more than ``best`` by the most.  (Another day that could hold more than that day turns out to is
    not read again: the worst may then be short by less than a day, never the days of the veto.)"""
    top = max(((high, i) for i, (low, high) in bounds.items() if low >= line and high > best), default=None)
    return [i for i, (low, _) in bounds.items() if low < line or (top is not None and i == top[1])]


def _judge_again(
    q: Querier,
    measure: ms.Measure,
    m: str,
    doubtful: dict[int, list[str]],
    days: dict[str, dict[int, float]],
    known: set[str],
    line: float,
    times: list[float],
    opts: Options,
) -> dict[str, dict[str, float]]:
    """Judge the ``doubtful`` days (day -> idents) of ``measure`` again at ``step``, into ``days`` (ident ->
    day -> the day's worst, where at or above ``line``); then each ident's worst, first and last veto day."""
    key = "code" if measure.subject == "site" else "account"
    region = m if measure.subject == "site" else ""
    jobs, which = [], []
    for i, idents in sorted(doubtful.items()):
        span = f"[{int(times[i + 1] - times[i])}s:{int(opts.step)}s]"
        for chunk in _chunks(sorted(idents)):
            expr = measure.expr(_with(region, key, chunk))
            jobs.append(partial(q.instant, f"max_over_time(({expr}){span})", times[i + 1]))
            which.append(i)
    for i, rows in zip(which, _parallel(jobs, opts.workers), strict=True):
        for labels, v in rows:
            if labels.get(key) in known and v >= line:
                days[labels[key]][i] = max(v, days[labels[key]].get(i, v))
    out: dict[str, dict[str, float]] = {"worst": {}, "first": {}, "last": {}}
    for ident, worst_of_day in days.items():
        if worst_of_day:
            out["worst"][ident] = max(worst_of_day.values())
            out["first"][ident] = times[min(worst_of_day)] + 1  # a time in that Beijing day
            out["last"][ident] = times[max(worst_of_day)] + 1
    return out


def _ages_daily(
    q: Querier,
    measure: ms.Measure,
    m: str,
    ages: dict[str, dict[int, float]],
    period: Period,
    end: float,
    opts: Options,
) -> dict[str, dict[str, float]]:
    """Worst value and first and last veto day of an ageing measure, from its midnight ages (see above)."""
    line, times = measure.line.critical, _midnight_times(period, end)
    days: dict[str, dict[int, float]] = defaultdict(dict)  # ident -> day -> the day's worst, when known
    doubtful: dict[int, list[str]] = defaultdict(list)  # day -> idents whose day must be judged at ``step``
    for ident, at in ages.items():
        bounds: dict[int, tuple[float, float]] = {}
        for i in range(len(times) - 1):
            a, b = at.get(i), at.get(i + 1)
            if a is None:  # under the line less a day at the start: only a day's ageing, or new series
                if b is not None and b >= line:
                    days[ident][i] = b
                continue
            length = times[i + 1] - times[i]
            if b is not None and abs(b - (a + length)) < 1:  # no update that day
                if b >= line:
                    days[ident][i] = b
                continue
            low = max(a, b if b is not None else -math.inf)
            high = max(a + length, low)  # ``L`` moved back only if a column appeared: then ``b`` is reached
            if high >= line:
                bounds[i] = (low, high)
                if low >= line:
                    days[ident][i] = low
        for i in _doubtful(bounds, line, max(days[ident].values(), default=-math.inf)):
            doubtful[i].append(ident)
    return _judge_again(q, measure, m, doubtful, days, set(ages), line, times, opts)


# --- stale columns: counted per site from each column's midnight ages -------------------------------
#
# A column is stale while its age (an ageing value, as above) is at or over its category's line, so
# each column is read like the other ages (``_midnight_values``: weekly, then the midnights of the
# weeks where it moved).  Per site and day, with the columns' ages at the day's two midnights:
#
# - a column whose last update did not move that day is stale from the moment its age reaches the
#   line until the day's end (exactly known); so the count of such columns is largest at the end;
# - a column whose last update moved that day (or that appeared) may be stale at any moment of it
#   when its age could reach the line that day.
#
# The day's worst count lies between the larger of the two midnight counts and the count at its end
# of the unmoved columns plus every moved one that may be stale.  Where the line lies between the
# two, or the worst is wanted (the day that could hold the most), the site's day alone is judged
# again at ``step`` by the measure's own expression: columns stale at different moments of one day
# do not add up.


def _column_ages(
    q: Querier, t: Thresholds, m: str, period: Period, end: float, workers: int
) -> dict[str, dict[str, dict[int, float]]]:
    """Per stale category, each column's ages at the midnights where within a day of its line."""
    cats = sorted(t.stale_age)
    jobs = [
        partial(
            _midnight_values,
            q,
            ms.column_last(c),
            t.stale_age[c],
            "code",
            m,
            period,
            end,
            workers,
            _column_ident,
            (ms.sel(M.COLUMN_LAST_UPDATE, m, f'category="{c}"'), "code, column, category"),
        )
        for c in cats
    ]
    return dict(zip(cats, _parallel(jobs, workers), strict=True))


def _stale_daily(
    q: Querier,
    measure: ms.Measure,
    m: str,
    ages: dict[str, dict[str, dict[int, float]]],
    period: Period,
    end: float,
    opts: Options,
) -> dict[str, dict[str, float]]:
    """Worst count and first and last veto day of a stale-column count, from its columns' midnight ages."""
    critical, times = measure.line.critical, _midnight_times(period, end)
    by_site: dict[str, list[tuple[float, dict[int, float]]]] = defaultdict(list)  # code -> (line, ages) per column
    for c in measure.stale:
        line = opts.thresholds.stale_age[c]
        for ident, at in ages.get(c, {}).items():
            by_site[ident.split(COLUMN_SEP)[0]].append((line, at))
    days: dict[str, dict[int, float]] = defaultdict(dict)  # code -> day -> the day's worst count, when known
    doubtful: dict[int, list[str]] = defaultdict(list)  # day -> codes whose day must be judged at ``step``
    for code, columns in by_site.items():
        if len(columns) < critical:
            continue
        bounds: dict[int, tuple[int, int]] = {}
        for i in range(len(times) - 1):
            length = times[i + 1] - times[i]
            at_start = at_end = unmoved = moved = 0
            for line, at in columns:
                a, b = at.get(i), at.get(i + 1)
                at_start += a is not None and a >= line
                at_end += b is not None and b >= line
                if a is None:  # under its line less a day: a day's ageing cannot reach it, unless new
                    moved += b is not None and b >= line
                elif b is not None and abs(b - (a + length)) < 1:  # no update that day
                    unmoved += b >= line
                else:
                    moved += max(a + length, b if b is not None else -math.inf) >= line
            low, high = max(at_start, at_end), unmoved + moved
            if high < critical:
                continue
            if low >= high:  # no moved column could add to it: exact
                days[code][i] = high
            else:
                bounds[i] = (low, high)
                if low >= critical:
                    days[code][i] = low
        for i in _doubtful(bounds, critical, max(days[code].values(), default=-math.inf)):
            doubtful[i].append(code)
    return _judge_again(q, measure, m, doubtful, days, set(by_site), critical, times, opts)


def _in_region(label: str, prefix: str) -> bool:
    """Whether an account's ``region`` label (a division's name, or its code when unknown) lies under ``prefix``."""
    from domain.divisions import region_named

    try:
        division = region_named(label).division if label else ""
    except ValueError:
        division = label if label.isdigit() else ""
    return division.startswith(prefix)


def _collect(
    by_measure: dict[str, dict[str, dict[str, float]]], specs: list[tuple[ms.Measure, str]], results: list[Any]
) -> None:
    for (measure, what), rows in zip(specs, results, strict=True):
        key = "code" if measure.subject == "site" else "account"
        for labels, value in rows:
            if key in labels:
                by_measure[measure.key][what][labels[key]] = value


def _subjects(rows: list[tuple[dict[str, str], float]], key: str, gone: str) -> dict[str, Judged]:
    """One subject per identity; a status that changed during the period counts as its gone status."""
    out: dict[str, Judged] = {}
    for labels, _ in sorted(rows, key=lambda r: r[0].get("status") == gone):
        ident = labels.get(key)
        if ident:
            out[ident] = Judged(ident, labels, status=labels.get("status", "active"))
    return out


def _applies(measure: ms.Measure, subject: Judged) -> bool:
    gone = subject.status in ("closed", "stopped")
    return gone if measure.applies_to in ("closed", "stopped") else not gone


def _apply(
    measure: ms.Measure, values: dict[str, dict[str, float]], subjects: dict[str, Judged], period: Period, end: float
) -> None:
    for ident, subject in subjects.items():
        if not _applies(measure, subject):
            continue
        worst = values["worst"].get(ident)
        if measure.veto and worst is not None and worst >= measure.line.critical:
            first, last = (values[k].get(ident, end) for k in ("first", "last"))
            subject.vetoes.append(_veto(measure, worst, period.day_of(first), period.day_of(last)))
        at_end = values["end"].get(ident)
        if at_end is not None and at_end < measure.line.critical:
            subject.warnings.append(_warning(measure, at_end))


def _veto(measure: ms.Measure, worst: float, first: date, last: date) -> dict[str, Any]:
    return {
        "indicator": measure.indicator,
        "measure": measure.key,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "worst": _round(measure.scale(worst)),
        "unit": measure.unit,
        "line": _round(measure.scale(measure.line.critical)),
    }


def _warning(measure: ms.Measure, value: float) -> dict[str, Any]:
    days_left = (measure.line.critical - value) / DAY if measure.ages and measure.veto else None
    return {
        "indicator": measure.indicator,
        "measure": measure.key,
        "value": _round(measure.scale(value)),
        "unit": measure.unit,
        "warning": _round(measure.scale(measure.line.warning)),
        "line": _round(measure.scale(measure.line.critical)) if measure.veto else None,
        "days_left": None if days_left is None else max(0, math.floor(days_left * 10) / 10),
    }


def _round(x: float) -> float:
    return round(x, 4) if abs(x) < 1 else round(x, 1)


# --- availability (站点无法访问) ---------------------------------------------------------------


def _visits(
    q: Querier, m: str, period: Period, end: float, t: Thresholds, workers: int
) -> tuple[dict[str, dict[date, float]], dict[str, dict[date, float]]]:
    """Per site with failed visits, its visits and failed visits each Beijing day (the window's days before too).

    The failure counters are read once a week to find the sites whose count moved; only theirs are
    read at every midnight, and only around the weeks where it moved: those days, and a window's days
    on either side (a day with a failed visit in its window needs the visits of its whole window; the
    other days have no failure in theirs, a ratio of 0).  A site whose count moved in most weeks is
    read over the whole period.  A day's increase is the difference of two midnights' values, or the
    later value when the counter was reset (the agent restarted) that day; a day whose first
    midnight has no value is left out.
    """
    window_days = max(1, round(t.unreachable_window / DAY))
    p0 = midnight(period.first - timedelta(days=window_days - 1))
    points = [p0 + k * DAY for k in range(period.days + window_days) if p0 + k * DAY <= end]
    last_point = len(points) - 1

    def values(expr: str, lo: int, hi: int) -> dict[str, list[tuple[float, float]]]:
        """``expr`` at ``points[lo..hi]`` (midnights a day apart, but for an ``end`` off the grid) by code."""
        last = points[lo] + ((points[hi] - points[lo]) // DAY) * DAY
        out = {labels.get("code", ""): pts for labels, pts in q.range(expr, points[lo], last, DAY)}
        if last < points[hi]:
            for labels, v in q.instant(expr, points[hi]):
                out.setdefault(labels.get("code", ""), []).append((points[hi], v))
        return out

    # The sites whose failure count moved (or appeared above 0) from one week to the next; one
    # instant query a week, as a range query over the period would read every sample.
    marks = [*range(0, last_point, WEEK_DAYS), last_point]  # the weeks' first points, and the last

    def fails(at: float) -> str:
        return f"sum by (code) ({ms.sel(M.HTTP_FAILURES_TOTAL, m)} @ {at:.3f})"

    moved = [
        partial(
            q.instant,
            f"{fails(points[b])} != {fails(points[a])} or ({fails(points[b])} > 0 unless on(code) {fails(points[a])})",
            points[b],
        )
        for a, b in zip(marks, marks[1:], strict=False)
    ]
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)  # code -> the points to read, from..to
    for (a, b), rows in zip(zip(marks, marks[1:], strict=False), _parallel(moved, workers), strict=True):
        span = (max(0, a - (window_days - 1)), min(last_point, b + window_days - 1))
        for labels, _ in rows:
            spans[labels.get("code", "")].append(span)
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)  # points from..to -> the codes read so
    for code, found in sorted(spans.items()):
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(found):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        if sum(hi - lo for lo, hi in merged) >= FULL_VISITS_SHARE * last_point:
            merged = [(0, last_point)]
        for span in merged:
            groups[span].append(code)
    jobs = []
    for counter in (M.HTTP_CHECKS_TOTAL, M.HTTP_FAILURES_TOTAL):
        for (lo, hi), codes in sorted(groups.items()):
            for chunk in _chunks(codes):
                expr = f"sum by (code) ({ms.sel(counter, _with(m, 'code', chunk))})"
                jobs.append(partial(values, expr, lo, hi))
    results = _parallel(jobs, workers)
    half = len(results) // 2
    days: dict[float, date] = {}  # every series has the same timestamps: convert each once
    out: list[dict[str, dict[date, float]]] = []
    for part in (results[:half], results[half:]):
        daily: dict[str, dict[date, float]] = {}
        for found in part:
            for code, pts in found.items():
                by_day = daily.setdefault(code, {})
                for (t0, v0), (t1, v1) in zip(pts, pts[1:], strict=False):
                    if round(t1 - t0) == DAY:
                        by_day[days.get(t1) or days.setdefault(t1, beijing_date(t1 - 1))] = v1 - v0 if v1 >= v0 else v1
        out.append(daily)
    checks, failures = out
    return checks, {code: {d: v for d, v in by_day.items() if v > 0} for code, by_day in failures.items()}


def _availability(
    checks: dict[str, dict[date, float]], failures: dict[str, dict[date, float]], period: Period, t: Thresholds
) -> dict[str, dict[date, float]]:
    """Per site with failures and day of the period, the unreachable ratio over the window ending that day.

    A site without a failed visit has a ratio of 0 every day and crosses no line: it is left out.
    """
    window = max(1, round(t.unreachable_window / DAY))
    all_days = [period.first - timedelta(days=window - 1 - k) for k in range(period.days + window - 1)]
    out: dict[str, dict[date, float]] = {}
    for code, fails in failures.items():
        by_day = checks.get(code, {})
        c = [by_day.get(d, 0.0) for d in all_days]
        f = [fails.get(d, 0.0) for d in all_days]
        visits, failed = sum(c[: window - 1]), sum(f[: window - 1])
        ratios = {}
        for i in range(period.days):
            j = i + window - 1  # the window is days i .. j of all_days, j being the judged day
            visits, failed = visits + c[j], failed + f[j]
            if visits >= t.unreachable_min_checks and all_days[j] in by_day:
                ratios[all_days[j]] = failed / visits
            visits, failed = visits - c[i], failed - f[i]
        out[code] = ratios
    return out


def _apply_availability(
    ratios: dict[str, dict[date, float]], sites: dict[str, Judged], period: Period, t: Thresholds
) -> None:
    measure = ms.availability(t)
    for code, by_day in ratios.items():
        site = sites.get(code)
        if site is None or not _applies(measure, site) or not by_day:
            continue
        crossed = sorted(d for d, r in by_day.items() if r >= measure.line.critical)
        if crossed:
            veto = _veto(measure, max(by_day.values()), crossed[0], crossed[-1])
            site.vetoes.insert(0, veto)
        last = max(by_day)
        if last == period.last or last == max(period.first, period.last - timedelta(days=1)):
            if measure.line.warning <= by_day[last] < measure.line.critical:
                site.warnings.insert(0, _warning(measure, by_day[last]))


# --- charts (html): each failing site's worst indicator over the period --------------------------


def _charts(
    q: Querier, h: History, ratios: dict[str, dict[date, float]], m: str, period: Period, end: float, opts: Options
) -> dict[str, dict[str, Any]]:
    failing = [s for s in h.sites.values() if s.vetoes][: opts.chart_sites]
    by_measure: dict[str, list[str]] = defaultdict(list)
    worst: dict[str, dict[str, Any]] = {}
    for s in failing:
        v = max(s.vetoes, key=lambda v: v["worst"] / v["line"] if v["line"] else 0)
        worst[s.ident] = v
        by_measure[v["measure"]].append(s.ident)
    step = max(opts.step, (end - period.start) / 400)
    measures = {x.key: x for x in ms.site_measures(opts.thresholds)}
    jobs, keys = [], []
    for key, codes in by_measure.items():
        if key in measures:
            codes_re = "|".join(codes)
            expr = measures[key].expr(",".join(x for x in (m, f'code=~"{codes_re}"') if x))
            jobs.append(partial(q.range, expr, period.start + step, end, step))
            keys.append(key)
    out: dict[str, dict[str, Any]] = {}
    for key, rows in zip(keys, _parallel(jobs, opts.workers), strict=True):
        for labels, points in rows:
            code = labels.get("code", "")
            if code in worst:
                scale = measures[key].scale
                out[code] = {**worst[code], "points": [(ts, scale(v)) for ts, v in points]}
    for code, v in worst.items():
        if v["measure"] == "unreachable_ratio":
            out[code] = {**v, "points": [(midnight(d) + DAY, r) for d, r in sorted(ratios.get(code, {}).items())]}
    return out


# --- the score (总分, issue 19) -----------------------------------------------------------------
#
# ``xuncha_site_score`` is judged like the other indicators, lower being worse: its lowest value over
# the period (a subquery at ``step``, as the measures without a findings counter), the first and last
# instant under the line (only for the sites that went under it), and its value and deductions at the
# period's end (the annex's 得分情况; the early warning).  For the sites under the line, each item's
# largest deduction over the period says why (多处链接无法打开).


def _judge_scores(q: Querier, period: Period, end: float, opts: Options, sites: dict[str, Judged]) -> None:
    t, m = opts.thresholds, ms.region_matchers(opts.region)
    line = t.site_score.critical

    def score(matchers: str) -> str:
        return f"min by (code) ({ms.sel(M.SITE_SCORE, matchers)})"

    rng = f"[{int(end - period.start)}s:{int(opts.step)}s]"
    grace = f"[{int(max(opts.step, LOOKBACK))}s]"
    deductions = f"max by (code, item) (last_over_time({ms.sel(M.SITE_DEDUCTIONS, m)}{grace}))"
    worst_rows, at_end, items_end = _parallel(
        [
            partial(q.instant, f"min_over_time(({score(m)}){rng}) < {ms._num(line)}", end),
            partial(q.instant, f"min by (code) (last_over_time({ms.sel(M.SITE_SCORE, m)}{grace}))", end),
            partial(q.instant, deductions, end),
        ],
        opts.workers,
    )
    worst = {labels["code"]: v for labels, v in worst_rows if "code" in labels}
    jobs, specs = [], []
    for chunk in _chunks(sorted(worst)):
        under = f"({score(_with(m, 'code', chunk))}) < {ms._num(line)}"
        each = ms.sel(M.SITE_DEDUCTIONS, _with(m, "code", chunk))
        jobs += [
            partial(q.instant, f"min_over_time(timestamp({under}){rng})", end),
            partial(q.instant, f"max_over_time(timestamp({under}){rng})", end),
            partial(q.instant, f"max by (code, item) (max_over_time({each}[{int(end - period.start)}s]))", end),
        ]
        specs += ["first", "last", "items"]
    found: dict[str, dict[str, Any]] = defaultdict(dict)
    for what, rows in zip(specs, _parallel(jobs, opts.workers), strict=True):
        for labels, v in rows:
            code = labels.get("code", "")
            if what == "items":
                found[code].setdefault("items", {})[labels.get("item", "")] = v
            else:
                found[code][what] = v
    ends: dict[str, dict[str, float]] = defaultdict(dict)
    for labels, v in items_end:
        ends[labels.get("code", "")][labels.get("item", "")] = v
    totals = {labels["code"]: v for labels, v in at_end if "code" in labels}
    for code, site in sites.items():
        if site.status == "closed" or (code not in totals and code not in worst):
            continue
        site.score = _score_entry(opts.scoring, totals.get(code), ends.get(code, {}), worst.get(code), found[code])
        if code in worst:
            first, last = (found[code].get(k, end) for k in ("first", "last"))
            site.vetoes.append(
                {
                    "indicator": ms.SCORE,
                    "measure": "score",
                    "from": period.day_of(first).isoformat(),
                    "to": period.day_of(last).isoformat(),
                    "worst": round(worst[code], 1),
                    "unit": "points",
                    "line": line,
                    "reason": _main_reason(opts.scoring, found[code].get("items", {})),
                }
            )
        elif code in totals and totals[code] < t.site_score.warning:
            site.warnings.append(
                {
                    "indicator": ms.SCORE,
                    "measure": "score",
                    "value": round(totals[code], 1),
                    "unit": "points",
                    "warning": t.site_score.warning,
                    "line": line,
                    "days_left": None,
                }
            )


def _score_entry(
    table: Table, total: float | None, items: dict[str, float], worst: float | None, found: dict[str, Any]
) -> dict[str, Any]:
    deducted = round(min(table.deduction_points, sum(items.values())), 2)
    end = None
    if total is not None:
        bonus = round(max(0.0, total - (table.deduction_points - deducted)), 2)
        end = {"total": round(total, 2), "deducted": deducted, "bonus": bonus, "items": items}
    return {"end": end, "worst": None if worst is None else round(worst, 2), "worst_items": found.get("items", {})}


def _main_reason(table: Table, items: dict[str, float]) -> str:
    """The wording of the largest deductions over the period (多处链接无法打开), at most two, as the 通报 write."""
    words: list[str] = []
    for key, _ in sorted(items.items(), key=lambda kv: -kv[1]):
        item = table.item(key)
        word = (item.wording or item.name) if item is not None else key
        if items[key] > 0 and word not in words:
            words.append(word)
    return "、".join(words[:2])
