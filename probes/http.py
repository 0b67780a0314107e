"""HTTP availability probe (站点无法访问): one visit to the homepage.

The inspection rule counts a visit as failed when the homepage did not open
within 15 s: no final 2xx/3xx response in time (DNS failure, refused, reset,
TLS error, 4xx/5xx, timeout, body over the cap).  Redirects are followed; the
whole visit — connect, headers and body — shares the one timeout.  A 200 whose
body is not the homepage — a maintenance notice, a firewall's block page, a
hosting provider's default page, a parked domain — did not open it either
(:mod:`probes.content.not_homepage`).
"""

from __future__ import annotations

import time

from domain.registry import Site
from probes.content import not_homepage
from probes.context import ProbeContext
from probes.net import Fetched
from probes.results import HttpResult


async def probe(site: Site, ctx: ProbeContext) -> HttpResult:
    started = ctx.clock()
    t0 = time.perf_counter()
    fetched = await ctx.net.fetch(site.url)  # the body too: a short one may be a notice, not the homepage
    return judge(site.url, fetched, started=started, duration=time.perf_counter() - t0)


def opened(fetched: Fetched) -> bool:
    """The rule's "opened": a complete final response with a 2xx or 3xx status."""
    return fetched.ok and fetched.status is not None and 200 <= fetched.status < 400


def judge(url: str, fetched: Fetched, *, started: float, duration: float) -> HttpResult:
    reason = fetched.error
    if not reason and not opened(fetched):
        reason = f"status {fetched.status}"
    if not reason and (why := not_homepage.reason(fetched.body, fetched.headers.get("content-type"))):
        reason = f"not the homepage: {why}"
    return HttpResult(
        success=not reason,
        reason=reason,
        started=started,
        duration_seconds=duration,
        url=url,
        final_url=fetched.final_url,
        status_code=fetched.status,
        redirects=fetched.redirects,
        address=fetched.address,
        ip_version=(6 if ":" in fetched.address else 4) if fetched.address else None,
        body_bytes=fetched.body_bytes,
        phases=dict(fetched.phases),
    )
