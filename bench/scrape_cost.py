"""Scrape cost of ``/metrics`` for a large registry (default 10,000 sites).

    /tmp/venv0/bin/python bench/scrape_cost.py [--sites 10000] [--repeat 5]

Builds a Config with ``--sites`` sites (valid codes spread over real division
codes, three columns each), fills a ResultStore with a realistic latest result
of every site probe kind (http with four phases, dns, tls, content with three
columns and the six compliance checks, links), registers the one collector
and renders what ``GET /metrics`` renders on the event loop (the agent's own
series through client_python, the targets' through the cached
``TargetExposition``), as CPU and wall time, median of ``--repeat`` runs: a cold
scrape (empty cache), a warm one (nothing changed) and one after ``--changed``
of the sites got a new http result.  Prints the body size, plain and gzipped
(level 1, as the server does off the loop), and the number of series.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
import gc
import gzip
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from agent.exposition.collector import TargetExposition, XunchaCollector, gzip_body, plain_body
from agent.registry.config import Column, Config, Site
from agent.run.results import ResultStore, target_key
from domain import metric_names as m
from domain.divisions import region_of
from probes.results import ColumnFinding, ContentResult, DnsResult, HttpResult, LinksResult, TlsResult

DIVISIONS = Path(__file__).resolve().parent.parent / "domain" / "data" / "divisions.csv"
_CATEGORIES = ("news", "notice", "interaction")
_COLUMN_NAMES = ("要闻动态", "通知公告", "互动交流")


@dataclass
class View:
    """What the collector reads (agent.exposition.collector.AgentView)."""

    config: Config
    results: ResultStore
    reload_successful: bool = True
    reload_success_timestamp: float = 0.0
    shard: tuple[int, int] = (0, 1)

    def target_counts(self) -> tuple[int, int]:
        return len(self.config.sites), len(self.config.accounts)


def county_divisions() -> list[str]:
    with DIVISIONS.open(encoding="utf-8") as f:
        rows = csv.reader(line for line in f if not line.startswith("#"))
        next(rows)
        return [r[0] for r in rows if r[0][4:] != "00" and r[3]]


def build(n: int, seed: int = 1) -> View:
    rng = random.Random(seed)
    divisions = county_divisions()
    now = time.time()
    sites: list[Site] = []
    results = ResultStore()
    for i in range(n):
        division = divisions[i % len(divisions)]
        code = f"{division}{i // len(divisions) + 1:04d}"
        host = f"www.s{i}.gov.cn"
        url = f"https://{host}/"
        columns = tuple(
            Column(name, f"{url}col/col{j}/index.html", cat)
            for j, (name, cat) in enumerate(zip(_COLUMN_NAMES, _CATEGORIES, strict=True))
        )
        site = Site(
            code=code,
            name=f"测试{i}区人民政府",
            url=url,
            kind="portal" if i % 10 == 0 else "department",
            status="active" if i % 50 else "closing",
            organizer=f"测试{i}区人民政府办公室",
            columns=columns,
            region=region_of(code),
        )
        sites.append(site)
        key = target_key(site)
        ok = rng.random() > 0.03
        started = now - rng.uniform(0, 300)
        results.record(
            key,
            HttpResult(
                success=ok,
                reason="" if ok else "connect: connection refused",
                started=started,
                duration_seconds=rng.uniform(0.05, 2),
                url=url,
                final_url=url,
                status_code=200 if ok else None,
                address="10.1.2.3",
                ip_version=4,
                body_bytes=rng.randint(30_000, 300_000),
                phases={p: rng.uniform(0.001, 0.3) for p in ("resolve", "connect", "processing", "transfer")},
            ),
        )
        results.record(
            key,
            DnsResult(
                success=True,
                started=started,
                host=host,
                ipv4=("10.1.2.3", "10.1.2.4"),
                ipv6=(),
                lookup_seconds=rng.uniform(0.001, 0.05),
                rcode="NOERROR",
            ),
        )
        results.record(
            key,
            TlsResult(
                success=True,
                started=started,
                host=host,
                address="10.1.2.3",
                not_before=now - 90 * 86400,
                not_after=now + rng.uniform(-10, 300) * 86400,
                subject=f"CN={host}",
                issuer="CN=Bench CA",
                sans=(host,),
                serial="0123456789abcdef",
                chain_valid=True,
                hostname_match=rng.random() > 0.01,
                tls_version="TLSv1.3",
            ),
        )
        results.record(
            key,
            ContentResult(
                success=True,
                started=started,
                url=url,
                homepage_success=True,
                homepage_last_update=now - rng.uniform(0, 30) * 86400,
                homepage_update_source="dated_items",
                columns_success=True,
                columns=tuple(
                    ColumnFinding(
                        name=c.name,
                        category=c.category,
                        url=c.url,
                        success=True,
                        last_update=now - rng.uniform(0, 200) * 86400,
                        blank=rng.random() < 0.02,
                        items=20,
                    )
                    for c in columns
                ),
                compliance_success=True,
                compliance={c: rng.random() > 0.05 for c in m.COMPLIANCE_CHECKS},
                serious_errors=0,
                privacy_leaks=0,
                closure_notice_shown=None if site.status != "closing" else False,
            ),
        )
        results.record(key, LinksResult(success=True, started=started, checked=rng.randint(50, 400), broken=0))
    return View(config=Config(sites=tuple(sites)), results=results, reload_success_timestamp=now)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median CPU and wall seconds of ``fn()`` over ``repeat`` runs, and its last value."""
    cpus, walls = [], []
    value = None
    for _ in range(repeat):
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        value = fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - w0)
    return statistics.median(cpus), statistics.median(walls), value


def scrape(view: View, registry: CollectorRegistry, exposition: TargetExposition) -> bytes:
    """What GET /metrics renders (agent/http/server.py) for a scraper without gzip."""
    cfg = view.config
    return plain_body(generate_latest(registry), [exposition.blocks(cfg.sites, cfg.accounts, view.results)])


def scrape_gzip(view: View, registry: CollectorRegistry, exposition: TargetExposition) -> bytes:
    """What GET /metrics sends Prometheus (Accept-Encoding: gzip): the families that changed are
    compressed again (in a thread, counted here as CPU of this process), the others reused."""
    cfg = view.config
    pieces = asyncio.run(exposition.deflated(cfg.sites, cfg.accounts, view.results))
    return gzip_body(generate_latest(registry), [pieces])


def touch(view: View, share: float, seed: int) -> None:
    """Replace the http result of ``share`` of the sites, as the probes between two scrapes do."""
    rng = random.Random(seed)
    for site in view.config.sites:
        if rng.random() < share:
            old = view.results.latest(target_key(site))["http"]
            view.results.record(target_key(site), dataclasses.replace(old, started=time.time()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--changed",
        type=float,
        default=0.2,
        help="share of sites with a new http result between scrapes (5 m probes, 1 m scrapes: 0.2)",
    )
    args = ap.parse_args()

    t0 = time.perf_counter()
    view = build(args.sites)
    print(f"built {args.sites} sites with http/dns/tls/content/links results in {time.perf_counter() - t0:.1f} s")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(XunchaCollector(view))

    cold_cpu, cold_wall, body = timed(lambda: scrape(view, registry, TargetExposition()), args.repeat)
    warm = TargetExposition()
    scrape(view, registry, warm)
    warm_cpu, warm_wall, _ = timed(lambda: scrape(view, registry, warm), args.repeat)
    rounds = iter(range(1000))
    changed_cpu, changed_wall, _ = timed(
        lambda: (touch(view, args.changed, next(rounds)), scrape(view, registry, warm))[1], args.repeat
    )
    touch_cpu, _, _ = timed(lambda: touch(view, args.changed, next(rounds)), args.repeat)
    z_cpu, _, zbody = timed(lambda: gzip.compress(body, compresslevel=1), args.repeat)
    zipped = TargetExposition()
    gz_cold_cpu, _, gz_body = timed(lambda: scrape_gzip(view, registry, TargetExposition()), args.repeat)
    assert gzip.decompress(gz_body).count(b"\n") == body.count(b"\n")
    scrape_gzip(view, registry, zipped)
    gz_warm_cpu, _, _ = timed(lambda: scrape_gzip(view, registry, zipped), args.repeat)
    gz_changed_cpu, _, _ = timed(
        lambda: (touch(view, args.changed, next(rounds)), scrape_gzip(view, registry, zipped))[1], args.repeat
    )
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    print(f"cold scrape (every target rendered): {cold_cpu * 1000:.0f} ms CPU, {cold_wall * 1000:.0f} ms wall")
    print(f"warm scrape (nothing changed):       {warm_cpu * 1000:.0f} ms CPU, {warm_wall * 1000:.0f} ms wall")
    print(
        f"scrape after {args.changed:.0%} of http results changed: {(changed_cpu - touch_cpu) * 1000:.0f} ms CPU "
        f"(median of {args.repeat}; the result replacement itself subtracted)"
    )
    print(f"body: {len(body) / 1e6:.1f} MB, {series} series ({series / args.sites:.1f} per site)")
    print(
        f"gzip level 1 (off the event loop, for Prometheus' Accept-Encoding): {len(zbody) / 1e6:.2f} MB, "
        f"{z_cpu * 1000:.0f} ms CPU"
    )
    print(f"per site (cold): {cold_cpu * 1e6 / args.sites:.0f} µs CPU, {len(body) / args.sites:.0f} bytes")
    print(
        f"gzip body as served ({len(gz_body) / 1e6:.2f} MB): cold {gz_cold_cpu * 1000:.0f} ms, "
        f"warm {gz_warm_cpu * 1000:.0f} ms, after {args.changed:.0%} changed "
        f"{(gz_changed_cpu - touch_cpu) * 1000:.0f} ms CPU"
    )


if __name__ == "__main__":
    main()
