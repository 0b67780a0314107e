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
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent import metric_names as M  # noqa: E402
from agent.quarterly import Report, build  # noqa: E402
from agent.quarterly.engine import WATCHED, Options  # noqa: E402
from agent.quarterly.period import Period, quarter  # noqa: E402
from agent.quarterly.prom import Prometheus  # noqa: E402

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
    """Answers the report's queries with what Prometheus would return for a large fleet."""

    def __init__(self, sites: int, accounts: int, seed: int = 1) -> None:
        super().__init__("http://synthetic.invalid")
        rng = random.Random(seed)
        self.codes = [f"{DIVISIONS[i % len(DIVISIONS)]}{i // len(DIVISIONS):04d}" for i in range(sites)]
        self.accounts = [f"acct-{i:06d}" for i in range(accounts)]
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

    def _answer(self, path: str, q: str, params: dict[str, str]) -> dict[str, Any]:
        rng = self.rng
        if path.endswith("query_range"):
            start, end, step = (float(params[k]) for k in ("start", "end", "step"))
            times = [start + k * step for k in range(int((end - start) // step) + 1)]
            if q.startswith("count by (__name__)"):
                return {
                    "resultType": "matrix",
                    "result": [{"metric": {"__name__": n}, "values": [[t, "1"] for t in times]} for n in WATCHED],
                }
            if "increase(" in q:
                fails = M.HTTP_FAILURES_TOTAL in q
                if fails:  # "> 0": only days with failures; 2 % of sites fail 20 % of a day's visits at times
                    bad = [c for c in self.codes if rng.random() < 0.02]
                    return {
                        "resultType": "matrix",
                        "result": [
                            {"metric": {"code": c}, "values": [[t, "57.6"] for t in times if rng.random() < 0.3]}
                            for c in bad
                        ],
                    }
                return {
                    "resultType": "matrix",
                    "result": [{"metric": {"code": c}, "values": [[t, "288"] for t in times]} for c in self.codes],
                }
            codes = re.findall(r'code=~"([0-9|]+)"', q)  # a chart: a few failing sites
            chosen = codes[-1].split("|") if codes else []
            return {
                "resultType": "matrix",
                "result": [
                    {"metric": {"code": c}, "values": [[t, repr(rng.random() * 10)] for t in times]} for c in chosen
                ],
            }
        at = float(params["time"])
        if "last_over_time(xuncha_site_info" in q:
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
        if "last_over_time(xuncha_account_info" in q:
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
                            "job": "xuncha",
                        },
                        "value": [at, "1"],
                    }
                    for i, a in enumerate(self.accounts)
                ],
            }
        account = "by (account)" in q
        idents, key = (self.accounts, "account") if account else (self.codes, "code")
        share = 0.06 if account else 0.02  # per measure: about 17 % of sites fail one of nine
        if "timestamp(" in q:  # first, last crossing of the offenders named in the query
            named = re.findall(rf'{key}=~"([^"]+)"', q)[-1].split("|")
            return self._vector(key, named, [at - rng.random() * 80 * DAY for _ in named], at)
        if q.startswith("max_over_time(("):  # worst: offenders only
            chosen = [i for i in idents if rng.random() < share]
            return self._vector(key, chosen, [400 * DAY if "time()" in q else 20.0 for _ in chosen], at)
        chosen = [i for i in idents if rng.random() < 0.12]  # at a warning at the end
        return self._vector(key, chosen, [rng.random() * 12 * DAY if "time()" in q else 3.0 for _ in chosen], at)


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


def real(args: argparse.Namespace) -> None:
    """A quarter of hourly series for a smaller fleet, backfilled into the real Prometheus."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from quarterly.fleet import prometheus  # the tests' runner: promtool backfill, free port

    period = quarter(2026, 3)
    start, end = period.start - 8 * DAY, period.end
    rng = random.Random(1)
    codes = [f"{DIVISIONS[i % len(DIVISIONS)]}{i // len(DIVISIONS):04d}" for i in range(args.sites)]

    hours = range(int((end - start) // 3600))
    accounts = [f"acct-{i:06d}" for i in range(args.accounts)]
    fails = {c: rng.choice([0.0, 0.0, 0.0, 0.3]) for c in codes}  # failed visits an hour (of 12)
    # 5 % of homepages stop being updated at some point; accounts post daily to every 20 days (1 in 8 silent)
    stuck = {c: start + rng.random() * 80 * DAY if rng.random() < 0.05 else end + DAY for c in codes}
    every = {a: rng.choice([1, 1, 1, 1, 3, 3, 7, 20]) * DAY for a in accounts}

    def family(metric: str, idents: list[str], labels: Any, value: Any) -> Any:
        for i in idents:
            lab = labels(i)
            yield from (f"{metric}{{{lab}}} {value(i, start + h * 3600):g} {int(start + h * 3600)}\n" for h in hours)

    def lines() -> Any:  # OpenMetrics wants each metric family contiguous, each series in time order
        yield from family(
            M.ACCOUNT_INFO,
            accounts,
            lambda a: f'account="{a}",unit="u",platform="wechat",name="n",status="active"',
            lambda a, t: 1,
        )
        yield from family(
            M.FEED_LAST_ENTRY,
            accounts,
            lambda a: f'account="{a}"',
            lambda a, t: start + ((t - start) // every[a]) * every[a],
        )
        yield from family(M.FEED_SUCCESS, accounts, lambda a: f'account="{a}"', lambda a, t: 1)
        yield from family(
            M.HOMEPAGE_LAST_UPDATE, codes, lambda c: f'code="{c}"', lambda c, t: min(stuck[c], t - t % DAY)
        )
        yield from family(M.HTTP_CHECKS_TOTAL, codes, lambda c: f'code="{c}"', lambda c, t: (t - start) / 300)
        yield from family(
            M.HTTP_FAILURES_TOTAL, codes, lambda c: f'code="{c}"', lambda c, t: fails[c] * (t - start) / 3600
        )
        yield from family(
            M.SITE_INFO,
            codes,
            lambda c: f'code="{c}",name="网站{c}",region="r",province="p",status="active"',
            lambda c, t: 1,
        )
        yield "# EOF\n"

    with tempfile.TemporaryDirectory(prefix="xuncha-bench-") as tmp:
        t0 = time.perf_counter()
        with prometheus(Path(tmp), lines()) as url:
            ready = time.perf_counter() - t0
            timed = Timed(url)
            runs = [
                run_once(
                    timed,
                    period,
                    period.end + 30 * DAY,
                    args.formats,
                    workers=args.workers,
                    step=args.step,
                    scan_step=args.scan_step,
                )
                for _ in range(args.repeat)
            ]
    for seconds, query in sorted(timed.log, reverse=True)[:4]:
        print(f"  slowest query {seconds:6.2f} s: {query[:110]}")
    named = [sec for sec, q in timed.log if '=~"acct-' in q or re.search(r'code=~"\d{10}', q)]
    print(
        f"  Prometheus time, summed over queries: {sum(sec for sec, _ in timed.log):.2f} s, of which "
        f"{sum(named):.2f} s in {len(named)} queries naming offenders; the scans of everyone: "
        + ", ".join(
            f"{sec:.2f} s" for sec, q in sorted(timed.log, reverse=True) if "max_over_time((" in q and "=~" not in q
        )[:6]
    )
    report(
        f"real Prometheus, {args.sites} sites, {args.accounts} accounts, hourly series, {period.title()} "
        f"(backfill and start: {ready:.1f} s)",
        runs,
    )


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
    args = p.parse_args()
    (real if args.real else synthetic)(args)


if __name__ == "__main__":
    main()
