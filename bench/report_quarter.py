"""How long the quarterly report takes for 14,000 sites and 150,000 accounts over a quarter.

    .venv/bin/python bench/report_quarter.py [--sites 14000] [--accounts 150000] [--repeat 1]
    .venv/bin/python bench/report_quarter.py --real --sites 300 --accounts 3000   # real Prometheus, backfilled

Default (synthetic): a stand-in Prometheus answers every query the report asks with the
JSON body the real one would send for a fleet of that size over a quarter of 5-minute data
(every site's worst value per measure, first/last crossing times of the offenders, daily
visit increases of every site for the 98 days the availability windows need, the info
series of every site and account, the previous quarter the same way).  The body is
serialised and parsed, so JSON decoding is counted; Prometheus' own evaluation time is
not (see README.md).  Offender shares are realistic-to-pessimistic: 2 % of sites cross each
of the nine site veto lines (about 17 % unqualified), 6 % of accounts are silent, 12 % are
at a warning at the end.

``--real``: backfills the real Prometheus (Debian's ``prometheus``/``promtool``) with a
quarter of hourly series for a smaller fleet and times the same report against it,
to show what Prometheus' side costs per series.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.quarterly import Report, build  # noqa: E402
from agent.quarterly.engine import Options  # noqa: E402
from agent.quarterly.period import Period, quarter  # noqa: E402
from agent.quarterly.prom import Prometheus  # noqa: E402
from domain import metric_names as M  # noqa: E402

DAY = 86400.0
DIVISIONS = ["440507", "440511", "440513", "445102", "430102", "430103", "110101", "310101", "510104", "530102"]
PLATFORMS = ["wechat", "weibo", "douyin", "toutiao", "baijiahao", "app"]


class Timed(Prometheus):
    """The real client, remembering how long each query took."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.log: list[tuple[float, str]] = []

    def _get(self, path: str, params: dict[str, str]) -> Any:
        t = time.perf_counter()
        try:
            return super()._get(path, params)
        finally:
            self.log.append((time.perf_counter() - t, params["query"]))


class Synthetic(Prometheus):
    """Answers the report's queries with what Prometheus would return for a large fleet.

    Each subject's last-update times follow a model (most post daily; 6 % of accounts post every
    20 days and 2 % of homepages stop being updated at some point), so the ageing measures' weekly,
    midnight and hourly reads agree with each other as the real ones would.  The other measures
    answer as before: 2 % of sites cross each line, 12 % of subjects are at a warning at the end.
    """

    def __init__(self, sites: int, accounts: int, seed: int = 1) -> None:
        super().__init__("http://synthetic.invalid")
        rng = random.Random(seed)
        self.codes = [f"{DIVISIONS[i % len(DIVISIONS)]}{i // len(DIVISIONS):04d}" for i in range(sites)]
        self.accounts = [f"acct-{i:06d}" for i in range(accounts)]
        origin = quarter(2026, 2).start
        # last-update models: (phase, period between updates, stuck from) per subject with long gaps
        self.silent = {a: (origin + rng.random() * 20 * DAY, 20 * DAY) for a in self.accounts if rng.random() < 0.06}
        self.stuck = {c: origin + 91 * DAY + rng.random() * 100 * DAY for c in self.codes if rng.random() < 0.02}
        self.unanswered = {c: origin - 60 * DAY for c in self.codes if rng.random() < 0.02}
        self.bad = {c for c in self.codes if rng.random() < 0.02}  # sites with failed visits
        self.rng = rng
        self.bytes = 0
        self.queries = 0
        self.synthesis = 0.0

    def _get(self, path: str, params: dict[str, str]) -> Any:
        t = time.perf_counter()
        body = {"status": "success", "data": self._answer(path, params["query"], params)}
        text = json.dumps(body)
        self.synthesis += time.perf_counter() - t  # Prometheus' work, not the report's
        self.bytes += len(text)
        self.queries += 1
        return json.loads(text)["data"]

    def _vector(self, key: str, idents: list[str], values: list[float], at: float) -> dict[str, Any]:
        return {
            "resultType": "vector",
            "result": [{"metric": {key: i}, "value": [at, repr(v)]} for i, v in zip(idents, values, strict=True)],
        }

    def _ages(self, q: str) -> tuple[str, dict[str, Any]] | None:
        """The age model a query of an ageing measure asks about: (label, ident -> last update at t)."""
        if M.FEED_LAST_ENTRY in q:
            return "account", {
                a: partial(lambda t, p, e: p + ((t - p) // e) * e, p=p, e=e) for a, (p, e) in self.silent.items()
            }
        if M.HOMEPAGE_LAST_UPDATE in q:
            return "code", {c: partial(lambda t, x: min(x, t - t % DAY), x=x) for c, x in self.stuck.items()}
        if 'category="interaction"' in q and "count by" not in q:
            return "code", {c: partial(lambda t, x: x, x=x) for c, x in self.unanswered.items()}
        return None

    def _answer(self, path: str, q: str, params: dict[str, str]) -> dict[str, Any]:
        rng = self.rng
        named = re.findall(r'(?:code|account)=~"([^"]+)"', q)
        only = set(named[-1].split("|")) if named else None
        ages = self._ages(q)
        if path.endswith("query_range"):
            start, end, step = (float(params[k]) for k in ("start", "end", "step"))
            times = [start + k * step for k in range(int((end - start) // step) + 1)]
            if ages is not None and " >= " in q and step >= DAY:  # an ageing measure at midnights
                key, model = ages
                line = float(q.rsplit(">=", 1)[1])
                result = []
                for ident, last in model.items():
                    if only is None or ident in only:
                        pts = [[t, repr(t - last(t))] for t in times if t - last(t) >= line]
                        if pts:
                            result.append({"metric": {key: ident}, "values": pts})
                return {"resultType": "matrix", "result": result}
            if M.HTTP_CHECKS_TOTAL in q or M.HTTP_FAILURES_TOTAL in q:  # midnight values of failing sites
                per_day = 288.0 if M.HTTP_CHECKS_TOTAL in q else 57.6
                result = []
                for c in sorted(only or ()):
                    total, pts = 0.0, []
                    for t in times:
                        total += per_day if per_day == 288.0 or rng.random() < 0.3 else 0.0
                        pts.append([t, repr(total)])
                    result.append({"metric": {"code": c}, "values": pts})
                return {"resultType": "matrix", "result": result}
            chosen = sorted(only or ())  # a chart: a few failing sites
            return {
                "resultType": "matrix",
                "result": [
                    {"metric": {"code": c}, "values": [[t, repr(rng.random() * 10)] for t in times]} for c in chosen
                ],
            }
        at = float(params["time"])
        if q.startswith("count by (__name__)"):  # which series exist: all of them
            names = re.search(r'__name__=~"([^"]+)"', q)
            found = names.group(1).split("|") if names else []
            return {"resultType": "vector", "result": [{"metric": {"__name__": n}, "value": [at, "1"]} for n in found]}
        if "or on(code, column, category)" in q:  # columns that could reach a line longer than the period
            return {"resultType": "vector", "result": []}  # none: the model's long-term columns are fresh
        if " unless on(" in q and ("_info" in q):
            return {"resultType": "vector", "result": []}  # nobody came and went within the period
        if q.startswith(M.SITE_INFO):
            return {
                "resultType": "vector",
                "result": [
                    {
                        "metric": {
                            "__name__": M.SITE_INFO,
                            "code": c,
                            "name": f"网站{c}",
                            "region": "广东省汕头市龙湖区",
                            "province": "广东省",
                            "kind": "department",
                            "status": "closed" if i % 200 == 0 else "active",
                            "url": f"https://{c}.example.gov.cn/",
                            "job": "xuncha",
                            "instance": "agent-0:9725",
                        },
                        "value": [at, "1"],
                    }
                    for i, c in enumerate(self.codes)
                ],
            }
        if q.startswith(M.ACCOUNT_INFO):
            return {
                "resultType": "vector",
                "result": [
                    {
                        "metric": {
                            "__name__": M.ACCOUNT_INFO,
                            "account": a,
                            "unit": f"单位{i % 5000}",
                            "platform": PLATFORMS[i % len(PLATFORMS)],
                            "name": f"账号{i}",
                            "status": "stopped" if i % 100 == 0 else "active",
                            "region": "广东省汕头市龙湖区",
                            "province": "广东省",
                            "job": "xuncha",
                        },
                        "value": [at, "1"],
                    }
                    for i, a in enumerate(self.accounts)
                ],
            }
        if M.HTTP_FAILURES_TOTAL in q and " @ " in q:  # whose failures moved this week
            bad = sorted(self.bad)
            return self._vector("code", bad, [1.0] * len(bad), at)
        if ages is not None:
            key, model = ages
            if q.startswith("max_over_time(("):  # one day again at the report's step
                span, step = (float(x[:-1]) for x in re.findall(r"\[(\d+s):(\d+s)\]", q)[-1])
                idents = [i for i in model if only is None or i in only]
                worst = [
                    max(t - model[i](t) for t in (at - span + k * step for k in range(int(span // step) + 1)))
                    for i in idents
                ]
                return self._vector(key, idents, worst, at)
            if " <= " in q:  # weekly: the last-update times at or before a time (the age at or above a line)
                before = float(q.rsplit("<=", 1)[1])
                idents = [i for i in model if (only is None or i in only) and model[i](at) <= before]
                return self._vector(key, idents, [model[i](at) for i in idents], at)
            line = float(q.rsplit(">=", 1)[1])
            idents = [i for i in model if (only is None or i in only) and at - model[i](at) >= line]
            return self._vector(key, idents, [at - model[i](at) for i in idents], at)
        account = "by (account)" in q
        idents, key = (self.accounts, "account") if account else (self.codes, "code")
        if only is not None:  # a query that names its subjects is answered for them only
            idents = [i for i in idents if i in only]
        share = 0.06 if account else 0.02  # per measure: about 17 % of sites fail one of nine
        if "count_values" in q:  # whose findings counter moved: the gauge's offenders and as many again
            chosen = [i for i in idents if rng.random() < 2 * share]
            return self._vector(key, chosen, [1.0] * len(chosen), at)
        if only is not None and "max_over_time(" in q and not q.startswith("max_over_time(("):
            chosen = [i for i in sorted(only) if rng.random() < 0.5]  # a gauge's candidates: half offend
            return self._vector(key, chosen, [20.0 for _ in chosen], at)
        if "timestamp(" in q:  # first, last crossing of the offenders named in the query
            chosen = sorted(only or ())
            return self._vector(key, chosen, [at - rng.random() * 80 * DAY for _ in chosen], at)
        if q.startswith("max_over_time(("):  # worst: offenders only
            chosen = [i for i in idents if rng.random() < share]
            return self._vector(key, chosen, [20.0 for _ in chosen], at)
        chosen = [i for i in idents if rng.random() < 0.12]  # at a warning at the end
        return self._vector(key, chosen, [3.0 for _ in chosen], at)


def run_once(
    prom: Prometheus,
    period: Period,
    now: float,
    formats: list[str],
    workers: int,
    step: float = 3600.0,
    scan_step: float | None = None,
) -> dict[str, float]:
    t0 = time.perf_counter()
    report: Report = build(prom, period, Options(workers=workers, step=step, scan_step=scan_step), now=now)
    out = {"build_s": time.perf_counter() - t0}
    if isinstance(prom, Synthetic):
        out["synthesis_s"] = prom.synthesis
        out["report_s"] = out["build_s"] - prom.synthesis  # decoding, judging, assembling
    for fmt in formats:
        t = time.perf_counter()
        body = report.render(fmt)
        out[f"{fmt}_s"] = time.perf_counter() - t
        out[f"{fmt}_MB"] = len(body) / 1e6
    out["sites"] = report.data["summary"]["sites"]
    out["accounts"] = report.data["summary"]["accounts"]
    out["unqualified_sites"] = out["sites"] - report.data["summary"]["sites_qualified"]
    out["unqualified_accounts"] = out["accounts"] - report.data["summary"]["accounts_qualified"]
    return out


def synthetic(args: argparse.Namespace) -> None:
    period = quarter(2026, 3)
    now = period.end + 30 * DAY
    runs = []
    for _ in range(args.repeat):
        prom = Synthetic(args.sites, args.accounts)
        r = run_once(prom, period, now, args.formats, workers=1)  # serial: synthesis is subtracted cleanly
        r["queries"], r["answers_MB"] = prom.queries, prom.bytes / 1e6
        runs.append(r)
    report(f"synthetic Prometheus answers, {args.sites} sites, {args.accounts} accounts, {period.title()}", runs)


def report(title: str, runs: list[dict[str, float]]) -> None:
    print(title)
    for key in runs[0]:
        values = [r[key] for r in runs]
        med = statistics.median(values)
        print(
            f"  {key:>20}: {med:,.2f}"
            + (f"   (runs: {', '.join(f'{v:.2f}' for v in values)})" if len(runs) > 1 else "")
        )


MODES = {  # how the report asks Prometheus: (Options fields, what the README calls it)
    "before-6h": ({"scan_step": DAY, "step": 6 * 3600.0}, "before (--before tree), --scan-step 1d --step 6h"),
    "before-1h": ({"scan_step": DAY, "step": 3600.0}, "before (--before tree), --scan-step 1d --step 1h"),
    "before-now": ({"step": 3600.0}, "before (--before tree), --step 1h"),
    "old-ages-1h": ({"daily_ages": False, "scan_step": DAY, "step": 3600.0}, "now, but ages by subquery, 1d/1h"),
    "now": ({"step": 3600.0}, "now (this tree), --step 1h"),
    "now-scan1d": ({"step": 3600.0, "scan_step": DAY}, "now, --scan-step 1d --step 1h"),
    "now-serial": ({"step": 3600.0, "workers": 1}, "now, one query at a time"),
}
COLUMNS = [("news", 1), ("notice", 3), ("longterm", 60), ("interaction", 7)]  # category, days between updates
ACCOUNT_SERIES = ("xuncha_account_", "xuncha_feed_")

# Runs one report in a child process against the tree on its PYTHONPATH (this one, or --before's),
# printing its wall time, every query's time and the verdicts as JSON.
DRIVER = r"""
import json, sys, time
from agent.quarterly import build
from agent.quarterly.engine import Options
from agent.quarterly.period import quarter
from agent.quarterly.prom import Prometheus
url, fields = sys.argv[1], json.loads(sys.argv[2])
log = []
class Timed(Prometheus):
    def _get(self, path, params):
        t = time.perf_counter()
        try:
            return super()._get(path, params)
        finally:
            log.append((time.perf_counter() - t, params["query"]))
p = quarter(2026, 3)
t0 = time.perf_counter()
r = build(Timed(url), p, Options(**fields), now=p.end + 30 * 86400)
wall = time.perf_counter() - t0
print(json.dumps({"wall": wall, "cpu": time.process_time(), "log": log,
                  "data": {k: r.data[k] for k in ("summary", "sites", "accounts")}}))
"""


def _const(tails: list[str], name: str, labels: str, value: str = "1") -> str:
    """One series of a constant value: one line per sample time (``tails``: " <time>\\n")."""
    head = f"{name}{{{labels}}} {value}"
    return head + head.join(tails)


def _stepwise(span: list[float], tails: list[str], step: float, name: str, labels: str, value: Any) -> Iterator[str]:
    """A last-update time (rising, changing at most hourly): the value formatted once per run of equal values."""
    k = 0
    while k < len(span):
        v = value(span[k])
        m = k
        while m < len(span) and value(span[m]) == v:
            m += max(1, int(3600 // step))  # skip ahead an hour at a time, then back to the change
        m = min(m, len(span))
        while value(span[m - 1]) != v:
            m -= 1
        head = f"{name}{{{labels}}} {v:.15g}"
        yield head + head.join(tails[k:m])
        k = m


def openmetrics_files(args: argparse.Namespace, start: float, end: float, parts: list[Path]) -> int:
    """The fleet's series at ``--interval`` from ``start`` to ``end``, the time split evenly over ``parts``
    (one promtool each, run side by side); returns the number of samples written."""
    rng = random.Random(1)
    codes = [f"{DIVISIONS[i % len(DIVISIONS)]}{i // len(DIVISIONS):04d}" for i in range(args.sites)]
    accounts = [f"acct-{i:06d}" for i in range(args.accounts)]
    step = args.interval
    times = [start + k * step for k in range(int((end - start) // step) + 1)]
    fails = {c: rng.choice([0.0, 0.0, 0.0, 0.3]) for c in codes}  # failed visits an hour (of 12)
    # 5 % of homepages stop being updated at some point (else daily at a random hour); accounts post
    # daily to every 20 days (1 in 8 offends), at a random time of day
    stuck = {c: start + rng.random() * 80 * DAY if rng.random() < 0.05 else end + DAY for c in codes}
    hour = {c: rng.random() * DAY for c in codes}
    every = {a: rng.choice([1, 1, 1, 1, 3, 3, 7, 20]) * DAY for a in accounts}
    offset = {a: rng.random() * DAY for a in accounts}
    bounds = [round(len(times) * k / len(parts)) for k in range(len(parts) + 1)]
    rng_findings = findings_plan(args, codes, accounts, len(times)) if args.findings else {}
    samples = 0
    for part, (a, b) in zip(parts, zip(bounds, bounds[1:], strict=False), strict=True):
        span = times[a:b]
        tails = [f" {int(t)}\n" for t in span]
        index = [f" {k} {int(t)}\n" for k, t in enumerate(times[a:b], start=a)]  # counters: k visits
        failed = [f" {k * 0.025:.15g} {int(t)}\n" for k, t in enumerate(times[a:b], start=a)]  # 0.3 an hour
        zeros = [f" 0 {int(t)}\n" for t in span]

        const = partial(_const, tails)
        stepwise = partial(_stepwise, span, tails, step)

        with part.open("w", encoding="utf-8") as out:
            for acct in accounts:
                out.write(
                    const(M.ACCOUNT_INFO, f'account="{acct}",unit="u",platform="wechat",name="n",status="active"')
                )
            for acct in accounts:
                e, o = every[acct], start + offset[acct]
                out.writelines(
                    stepwise(M.FEED_LAST_ENTRY, f'account="{acct}"', lambda t, e=e, o=o: o + ((t - o) // e) * e)
                )
            for acct in accounts:
                out.write(const(M.FEED_SUCCESS, f'account="{acct}"'))
            for c in codes:
                h, x = start + hour[c], stuck[c]
                out.writelines(
                    stepwise(
                        M.HOMEPAGE_LAST_UPDATE, f'code="{c}"', lambda t, h=h, x=x: min(x, h + ((t - h) // DAY) * DAY)
                    )
                )
            for c in codes:
                head = f'{M.HTTP_CHECKS_TOTAL}{{code="{c}"}}'
                out.write(head + head.join(index))
            for c in codes:
                head = f'{M.HTTP_FAILURES_TOTAL}{{code="{c}"}}'
                out.write(head + head.join(failed if fails[c] else zeros))
            for c in codes:
                out.write(const(M.SITE_INFO, f'code="{c}",name="网站{c}",region="r",province="p",status="active"'))
            # --columns columns a site (news daily, notice every 3 days, long-term every 60, interaction
            # weekly, at the site's hour), none blank; the serious-error, privacy and 暗链 gauges at 0
            columns = [COLUMNS[i % len(COLUMNS)] for i in range(args.columns)]
            for c in codes:
                for i, (category, every_days) in enumerate(columns):
                    h, e = start + hour[c], every_days * DAY
                    out.writelines(
                        stepwise(
                            M.COLUMN_LAST_UPDATE,
                            f'code="{c}",column="栏目{i}",category="{category}"',
                            lambda t, h=h, e=e: h + ((t - h) // e) * e,
                        )
                    )
            for c in codes:
                for i, (category, _) in enumerate(columns):
                    blank = "1" if args.findings and i == 0 and c in rng_findings["blank"] else "0"
                    out.write(const(M.COLUMN_BLANK, f'code="{c}",column="栏目{i}",category="{category}"', blank))
            if args.findings:
                samples += findings(out, args, codes, accounts, times, a, b, rng_findings)
            else:
                for gauge in (M.HIDDEN_LINKS, M.PRIVACY_LEAKS, M.SERIOUS_ERRORS) if args.columns else ():
                    for c in codes:
                        out.write(const(gauge, f'code="{c}"', "0"))
            out.write("# EOF\n")
        per_site = 4 + (2 * args.columns + (3 if not args.findings else 0) if args.columns else 0)
        samples += len(span) * (3 * len(accounts) + per_site * len(codes))
    return samples


GAUGE_FINDINGS = {M.SERIOUS_ERRORS: "serious_errors", M.PRIVACY_LEAKS: "privacy_leaks", M.HIDDEN_LINKS: "hidden_links"}


def findings(
    out: Any,
    args: argparse.Namespace,
    codes: list[str],
    accounts: list[str],
    times: list[float],
    a: int,
    b: int,
    plan: dict[str, Any],
) -> int:
    """``--findings``: the gauges and findings counters as the agent keeps them since the counters came.

    Every site: the three gauges and their counters, and (with columns) the blank-columns counter; 5 %
    of sites have one column blank all the time, 1 % of sites one 10-hour episode of each gauge at a
    random time; 1 % of accounts are stopped (half of them still online: 未注销), and only those have the
    not-deregistered gauge and counter.  A counter moves at every sample (a check) that shows its finding.
    Returns the samples written for the part ``times[a:b]``."""
    span = times[a:b]
    n = 0

    def series(name: str, labels: str, values: Callable[[int], float]) -> None:
        nonlocal n
        head = f"{name}{{{labels}}} "
        out.write("".join(f"{head}{values(k):.15g} {int(times[k])}\n" for k in range(a, b)))
        n += len(span)

    def episode(c: str, gauge: str) -> tuple[int, int] | None:
        return plan["episodes"].get((c, gauge))

    for gauge, finding in GAUGE_FINDINGS.items():
        for c in codes:
            ep = episode(c, gauge)
            if ep is None:
                series(gauge, f'code="{c}"', lambda k: 0)
                series(M.SITE_FINDINGS_TOTAL, f'code="{c}",finding="{finding}"', lambda k: 0)
            else:
                lo, hi = ep
                series(gauge, f'code="{c}"', lambda k, lo=lo, hi=hi: 1 if lo <= k < hi else 0)
                series(
                    M.SITE_FINDINGS_TOTAL,
                    f'code="{c}",finding="{finding}"',
                    lambda k, lo=lo, hi=hi: max(0, min(k + 1, hi) - lo),
                )
    for c in codes if args.columns else ():
        blank = c in plan["blank"]
        series(
            M.SITE_FINDINGS_TOTAL, f'code="{c}",finding="blank_columns"', (lambda k: k + 1) if blank else (lambda k: 0)
        )
    for acct, online in plan["stopped"].items():
        series(M.ACCOUNT_NOT_DEREGISTERED, f'account="{acct}"', lambda k, o=online: o)
        series(
            M.ACCOUNT_FINDINGS_TOTAL, f'account="{acct}",finding="not_deregistered"', lambda k, o=online: (k + 1) * o
        )
    return n


def findings_plan(args: argparse.Namespace, codes: list[str], accounts: list[str], samples: int) -> dict[str, Any]:
    rng = random.Random(2)
    width = int(10 * 3600 // args.interval)
    episodes = {}
    for c in codes:
        for gauge in GAUGE_FINDINGS:
            if rng.random() < 0.01:
                lo = rng.randrange(0, samples - width)
                episodes[(c, gauge)] = (lo, lo + width)
    blank = {c for c in codes if rng.random() < 0.05}
    stopped = {x: float(rng.random() < 0.5) for x in accounts if rng.random() < 0.01}
    return {"episodes": episodes, "blank": blank, "stopped": stopped}


def backfill(parts: list[Path], tsdb: Path, block_hours: int = 5000) -> None:
    """promtool, one per part side by side; each part covers its own stretch of time, so blocks do not overlap."""
    procs = [
        subprocess.Popen(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "-q",
                f"--max-block-duration={block_hours}h",
                str(p),
                str(tsdb),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for p in parts
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"promtool failed: {err.decode()[-2000:]}")


def real(args: argparse.Namespace) -> None:
    """A quarter of ``--interval`` series (default 5 minutes) for a fleet, backfilled into the real Prometheus."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from quarterly.fleet import prometheus  # the tests' runner: free port, ready check

    period = quarter(2026, 3)
    start, end = period.start - 8 * DAY, period.end
    with tempfile.TemporaryDirectory(prefix="xuncha-bench-", dir=args.tmp) as tmp:
        work = Path(tmp)
        parts = [work / f"part{k}.om" for k in range(args.promtools)]
        t0 = time.perf_counter()
        samples = openmetrics_files(args, start, end, parts)
        written = time.perf_counter() - t0
        (work / "tsdb").mkdir()
        t0 = time.perf_counter()
        backfill(parts, work / "tsdb", args.block_hours)
        filled = time.perf_counter() - t0
        for part in parts:
            part.unlink()
        print(
            f"real Prometheus, {args.sites} sites and {args.accounts} accounts at {args.interval:g} s, "
            f"{period.title()} and 8 days before: {samples / 1e6:,.0f} M samples, written in {written:.0f} s, "
            f"backfilled in {filled:.0f} s ({samples / filled / 1e6:.2f} M samples/s with {args.promtools} promtools)"
        )
        with prometheus(work, None) as url:
            pid = _pid_of(work / "tsdb")
            rows = []
            for mode in args.modes:
                fields, title = MODES[mode]
                tree = Path(args.before) if mode.startswith("before") else Path(__file__).resolve().parents[1]
                if mode.startswith("before") and not args.before:
                    continue
                cpu0 = _cpu(pid)
                child = subprocess.run(
                    [sys.executable, "-c", DRIVER, url, json.dumps({"workers": args.workers, **fields})],
                    env={**os.environ, "PYTHONPATH": str(tree)},
                    cwd=tree,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = {"mode": mode, "title": title, "prometheus_cpu": _cpu(pid) - cpu0, **json.loads(child.stdout)}
                rows.append(row)
                for seconds, query in sorted(row["log"], reverse=True)[:3]:
                    print(f"  {mode}: slowest query {seconds:6.2f} s: {query[:110]}")
    print()
    print(
        "| way | Prometheus CPU | queries | query time, summed | report wall | report CPU | unqualified sites | unqualified accounts |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        s = row["data"]["summary"]
        print(
            f"| {row['title']} | {row['prometheus_cpu']:.1f} s | {len(row['log'])} | "
            f"{sum(sec for sec, _ in row['log']):.1f} s | {row['wall']:.1f} s | {row['cpu']:.1f} s | "
            f"{s['sites'] - s['sites_qualified']} of {s['sites']} | {s['accounts'] - s['accounts_qualified']} of "
            f"{s['accounts']} |"
        )
    by_mode = {row["mode"]: row for row in rows}
    serial = by_mode.get("now-serial")
    if serial:  # one query at a time: each query's time is Prometheus' time for it
        accounts = sum(sec for sec, q in serial["log"] if any(a in q for a in ACCOUNT_SERIES) and "__name__" not in q)
        everyone = sum(sec for sec, q in serial["log"] if "__name__" in q)  # which series exist: every series
        sites = sum(sec for sec, _ in serial["log"]) - accounts - everyone
        per_site = 4 + (2 * args.columns + 3 if args.columns else 0)
        if args.findings:  # the three gauges and their counters, and the blank-columns counter
            per_site = 4 + 2 * args.columns + 6 + (1 if args.columns else 0)
        series = per_site * args.sites + 3 * args.accounts
        national = sites * 14000 / max(1, args.sites) + accounts * 150000 / max(1, args.accounts)
        national += everyone * (per_site * 14000 + 3 * 150000) / series
        by_name: dict[str, list[float]] = {}
        for sec, q in serial["log"]:
            names = re.findall(r"xuncha_[a-z_]+", q)
            by_name.setdefault(names[0] if names else "(other)", []).append(sec)
        for name, secs in sorted(by_name.items(), key=lambda kv: -sum(kv[1])):
            print(f"  one query at a time, {name}: {sum(secs):.2f} s in {len(secs)} queries")
        print(
            f"one query at a time: sites {sites:.2f} s, accounts {accounts:.2f} s, every series {everyone:.2f} s; "
            f"scaled linearly to 14,000 sites and 150,000 accounts: {national:.0f} s of Prometheus time"
        )
    for a, b in (("now", "before-1h"), ("now", "before-now"), ("now", "old-ages-1h")):
        if a in by_mode and b in by_mode:
            va, vb = _verdicts(by_mode[a]["data"]), _verdicts(by_mode[b]["data"])
            differ = sorted(k for k in va.keys() | vb.keys() if va.get(k) != vb.get(k))

            def earlier(x: list[dict[str, Any]], y: list[dict[str, Any]]) -> bool:
                """Only the first day differs, the new one a day before the old one."""
                if len(x) != len(y):
                    return False
                for v, w in zip(x, y, strict=True):
                    if {**v, "from": ""} != {**w, "from": ""}:
                        return False
                    if v["from"] != w["from"] and date.fromisoformat(w["from"]) - date.fromisoformat(
                        v["from"]
                    ) != timedelta(days=1):
                        return False
                return True

            shifted = [k for k in differ if earlier(va.get(k, []), vb.get(k, []))]
            print(
                f"vetoes and their days, {a} vs {b}: {len(differ)} of {sum(1 for v in va.values() if v)} vetoed "
                f"subjects differ, {len(shifted)} of them only by a first day one day earlier in {a}"
            )
            for k in [k for k in differ if k not in shifted][:3] + shifted[:2]:
                print(f"  {k}: {a} {va.get(k)}\n  {' ' * len(k)}  {b} {vb.get(k)}")


def _pid_of(tsdb: Path) -> int:
    """The Prometheus serving ``tsdb`` (started by the tests' runner, which keeps the process to itself)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if f"--storage.tsdb.path={tsdb}".encode() in (proc / "cmdline").read_bytes():
                    return int(proc.name)
            except OSError:
                continue
    raise RuntimeError(f"no Prometheus serving {tsdb}")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _verdicts(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {x.get("code") or x["account"]: x["vetoes"] for x in data["sites"] + data["accounts"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sites", type=int, default=14000)
    p.add_argument("--accounts", type=int, default=150000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--formats", nargs="*", default=["json", "md", "csv", "html", "docx"])
    p.add_argument("--step", type=float, default=3600.0, help="--real: the report's step in seconds")
    p.add_argument("--workers", type=int, default=4, help="--real: concurrent queries")
    p.add_argument("--scan-step", type=float, default=None, help="--real: the report's first-pass step in seconds")
    p.add_argument("--real", action="store_true", help="backfill the real Prometheus instead (use small numbers)")
    p.add_argument("--interval", type=float, default=300.0, help="--real: seconds between samples (scrape interval)")
    p.add_argument(
        "--columns", type=int, default=0, help="--real: columns a site, and the error, privacy and 暗链 gauges"
    )
    p.add_argument(
        "--findings",
        action="store_true",
        help="--real: the gauges and findings counters as the agent keeps them now, with some findings",
    )
    p.add_argument(
        "--block-hours",
        type=int,
        default=5000,
        help="--real: promtool's largest block (a promtool holds one block of the fleet in memory: "
        "use 744, Prometheus' own largest, for a national-size fleet)",
    )
    p.add_argument("--promtools", type=int, default=2, help="--real: promtool processes side by side")
    p.add_argument(
        "--modes",
        nargs="*",
        default=["before-6h", "before-1h", "now", "now-serial"],
        choices=list(MODES),
        help="--real: the ways compared",
    )
    p.add_argument(
        "--before",
        metavar="DIR",
        help="--real: a source tree of the code to compare with (git archive <commit> | tar -x -C DIR)",
    )
    p.add_argument("--tmp", default=None, help="--real: where the OpenMetrics text and the TSDB go")
    args = p.parse_args()
    (real if args.real else synthetic)(args)


if __name__ == "__main__":
    main()
