"""The quarterly report (季度通报) from Prometheus history: ``xuncha report --prometheus URL``.

``gather`` (engine) asks Prometheus for the period's history and judges every site and
account by the alert rules' veto lines; ``assemble`` turns that into the report's data
(the JSON shape of design.md); ``render`` and ``docx`` write it as md, csv, json, html
or docx.  Exit codes of the command: 2 bad arguments (a period in the future, a sample
under 20 %), 3 Prometheus unreachable or refusing a query, 4 Prometheus without the
data (missing series, empty registry).

The report reads Prometheus only and imports nothing of the agent but this package: what it
needs of a configuration (the lines, the Prometheus and its credentials) comes in as plain
values, ``Settings``, which the CLI and the ``/report`` handler make from ``xuncha.yml``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.quarterly import render
from agent.quarterly.assemble import assemble as assemble_report
from agent.quarterly.engine import History, Options, ReportError, gather
from agent.quarterly.period import Period, PeriodError, parse, quarter
from agent.quarterly.prom import Prometheus, PrometheusError, Querier
from agent.quarterly.sample import SampleError, draw, parse_fraction
from domain.divisions import region_of
from domain.durations import parse_duration
from domain.scoring import DEFAULT_TABLE, Table
from domain.thresholds import THRESHOLDS, Thresholds

FORMATS = ("md", "html", "docx", "csv", "json")
EXIT_USAGE, EXIT_PROMETHEUS, EXIT_DATA = 2, 3, 4

__all__ = [
    "FORMATS",
    "Report",
    "Settings",
    "build",
    "current_quarter",
    "main",
    "add_arguments",
    "ReportError",
    "PeriodError",
    "PrometheusError",
    "SampleError",
]


@dataclass(frozen=True)
class Settings:
    """What the report takes from a configuration, as plain values (made by ``agent.cli`` and ``agent.http``).

    ``prometheus`` is the URL the agents are scraped by (None: no ``/report``); ``username`` and
    ``password`` its basic auth, ``ca_file`` the CA of an https URL; ``thresholds`` the lines to
    judge by; ``refresh`` how long ``/report`` serves a computed report; ``timeout`` per query.
    """

    prometheus: str | None = None
    thresholds: Thresholds = THRESHOLDS
    timeout: float = 120.0
    refresh: float = 3600.0
    username: str | None = None
    password: str = ""
    ca_file: str | None = None
    scoring: Table = DEFAULT_TABLE  # the scoring table (xuncha.yml's ``scoring:``): names the items

    def client(self) -> Prometheus:
        if not self.prometheus:
            raise PrometheusError("no Prometheus configured (report.prometheus or --prometheus)")
        return Prometheus(
            self.prometheus,
            timeout=self.timeout,
            username=self.username,
            password=self.password,
            ca_file=self.ca_file,
        )


@dataclass
class Report:
    data: dict[str, Any]
    history: History

    def render(self, fmt: str) -> bytes:
        if fmt == "docx":
            from agent.quarterly.docx import to_docx

            return to_docx(self.data)
        text = {"md": render.to_markdown, "csv": render.to_csv, "json": render.to_json}.get(fmt)
        if text is not None:
            return text(self.data).encode("utf-8")
        if fmt == "html":
            return render.to_html(self.data, self.history.charts).encode("utf-8")
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")


DEFAULTS = Options()


def build(
    q: Querier,
    period: Period,
    opts: Options = DEFAULTS,
    *,
    sample: tuple[float, int] | None = None,
    now: float | None = None,
    prom_url: str = "Prometheus",
) -> Report:
    history, notes = gather(q, period, opts, now=now, prom_url=prom_url)
    drawn = None
    if sample is not None:
        fraction, seed = sample
        drawn = {
            "fraction": fraction,
            "seed": seed,
            "sites": draw(history.sites, lambda c: region_of(c).division, fraction, seed),
            "accounts": draw(
                history.accounts, lambda a: history.accounts[a].labels.get("platform", ""), fraction, seed
            ),
        }
    return Report(assemble_report(history, notes, drawn, opts.thresholds, opts.scoring), history)


def current_quarter(now: float | None = None) -> Period:
    from agent.quarterly.period import beijing_date

    today = beijing_date(time.time() if now is None else now)
    return quarter(today.year, (today.month - 1) // 3 + 1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The quarterly report's options of ``xuncha report`` (with ``--prometheus``)."""
    p.add_argument(
        "--prometheus",
        metavar="URL",
        help="judge the period from this Prometheus' history "
        "(the quarterly report); without it, the agent's current findings",
    )
    p.add_argument("-c", "--config", help="judge by the lines this configuration sets (as xuncha rules -c does)")
    p.add_argument("--quarter", help="e.g. 2026Q4")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (Beijing), with --to")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (Beijing), inclusive")
    p.add_argument("--out", metavar="FILE", help="write here instead of standard output (needed for docx)")
    p.add_argument("--sample", metavar="SHARE", help="draw this share of sites by region, e.g. 25%% (at least 20%%)")
    p.add_argument("--seed", type=int, default=0, help="the draw's seed (same seed, same sites)")
    p.add_argument(
        "--region",
        metavar="PREFIX",
        help="only sites whose code starts so, e.g. 4405, and accounts whose region lies there",
    )
    p.add_argument(
        "--step",
        type=_duration,
        default=3600.0,
        metavar="DURATION",
        help="how finely the period is judged (default 1h)",
    )
    p.add_argument(
        "--scan-step",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="accepted for older scripts: no measure is judged by a subquery over the whole period any "
        "more, so it changes nothing (see README)",
    )


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text) if not text.replace(".", "", 1).isdigit() else float(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if seconds < 60:
        raise argparse.ArgumentTypeError(f"{text}: at least 1m")
    return seconds


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``xuncha report --prometheus …``: write the report, or say clearly why not.

    ``settings`` carries the Prometheus (``--prometheus`` and the credential flags) and the lines
    (``-c``'s, or the shipped ones); the CLI made it, so a bad configuration never reaches here."""
    fmt = args.format
    try:
        period = parse(args.quarter, args.date_from, args.date_to)
        period.clamp(time.time())
        sample = (parse_fraction(args.sample), args.seed) if args.sample else None
        if fmt == "docx" and not args.out:
            raise PeriodError("--format docx needs --out FILE (a Word file is not for a terminal)")
        if args.region and not args.region.isalnum():
            raise PeriodError(f"--region {args.region!r}: expected the start of site codes, e.g. 4405")
    except (PeriodError, SampleError) as e:
        print(f"xuncha report: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        prom = settings.client()
        opts = Options(
            region=args.region,
            step=args.step,
            scan_step=args.scan_step,
            thresholds=settings.thresholds,
            scoring=settings.scoring,
        )
        report = build(prom, period, opts, sample=sample, prom_url=prom.url)
    except PrometheusError as e:
        print(f"xuncha report: {e}", file=sys.stderr)
        return EXIT_PROMETHEUS
    except ReportError as e:
        print(f"xuncha report: {e}", file=sys.stderr)
        return EXIT_DATA
    for note in report.data["notes"]:
        print(f"xuncha report: note: {note}", file=sys.stderr)
    body = report.render(fmt)
    if args.out:
        Path(args.out).write_bytes(body)
        s = report.data["summary"]
        print(
            f"xuncha report: wrote {args.out} — {s['sites']} sites, {s['sites_qualified']} qualified; "
            f"{s['accounts']} accounts, {s['accounts_qualified']} qualified",
            file=sys.stderr,
        )
    else:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    return 0
