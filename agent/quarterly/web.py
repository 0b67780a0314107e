"""``/report``: the agent serves the latest quarterly report of its Prometheus (``report.prometheus``).

For people without Grafana.  A report is computed off the event loop, at most one at a
time, and served from memory for ``report.refresh``; ``?quarter=2026Q3`` or
``?from=…&to=…`` pick another period, ``?format=md|csv|json`` another format.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from agent.quarterly import Report, Settings, build, current_quarter
from agent.quarterly.engine import Options, ReportError
from agent.quarterly.period import PeriodError, parse
from agent.quarterly.prom import PrometheusError

CONTENT_TYPES = {"html": "text/html", "md": "text/markdown", "csv": "text/csv", "json": "application/json"}


@dataclass
class _Cache:
    settings: Callable[[], Settings]  # from the agent's current configuration (it may change on reload)
    reports: dict[tuple[str, ...], tuple[float, Report]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


CACHE: web.AppKey[_Cache] = web.AppKey("quarterly_reports", _Cache)


def install(app: web.Application, settings: Callable[[], Settings]) -> None:
    """Add ``/report`` to ``app``; ``settings()`` returns what the agent's configuration says now
    (``report:`` and its lines), as plain values."""
    app[CACHE] = _Cache(settings)
    app.router.add_get("/report", report_page)


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain")


async def report_page(request: web.Request) -> web.Response:
    cache = request.app[CACHE]
    cfg = cache.settings()
    thresholds, url = cfg.thresholds, cfg.prometheus
    if not url:
        return _text(404, "no report: set report.prometheus in xuncha.yml to the Prometheus that scrapes the agents")
    fmt = request.query.get("format", "html")
    if fmt not in CONTENT_TYPES:
        return _text(400, f"format {fmt!r}: one of {', '.join(CONTENT_TYPES)} (docx: xuncha report --format docx)")
    try:
        q = request.query
        period = (
            parse(q["quarter"], None, None)
            if "quarter" in q
            else (parse(None, q["from"], q["to"]) if "from" in q else current_quarter())
        )
        period.clamp(time.time())
    except (PeriodError, KeyError) as e:
        return _text(400, f"bad period: {e}")
    key = (url, period.first.isoformat(), period.last.isoformat(), repr(thresholds), repr(cfg.scoring))
    async with cache.lock:
        hit = cache.reports.get(key)
        if hit is None or time.monotonic() - hit[0] > cfg.refresh:
            prom = cfg.client()
            try:
                report = await asyncio.to_thread(
                    build, prom, period, Options(thresholds=thresholds, scoring=cfg.scoring), prom_url=url
                )
            except PrometheusError as e:
                return _text(502, str(e))
            except (ReportError, PeriodError) as e:
                return _text(503, str(e))
            hit = cache.reports[key] = (time.monotonic(), report)
    body = await asyncio.to_thread(hit[1].render, fmt)
    return web.Response(body=body, content_type=CONTENT_TYPES[fmt], charset="utf-8")
