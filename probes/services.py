"""The ``services`` probe: does the site offer services, and do its guides carry their elements? (issue 18)

服务不实用 (国办秘函〔2019〕19号): a site offering no services (no 办事服务 column, no way into the
政务服务网) fails; so does one whose service guides (办事指南) lack key element categories.

Gather:

1. the homepage (the registry's, trusted as configured), for the ways in: links whose text says
   办事服务 / 政务服务 / 网上办事 …, and links into a 政务服务网 host (:func:`probes.guides.service_entries`);
2. service pages, at most ``services.max_pages``: the site's ``services:`` (the registry's, trusted),
   its ``category: service`` columns, then the ways in found on the homepage that stay on the
   site's own host (a 政务服务网 portal elsewhere counts as a way in, but is not crawled: its host
   is not this site's, and the per-host bounds are the site's);
3. guides, at most ``services.max_guides``: a service page that reads as a guide itself, then the
   links to guides on the service pages (:func:`probes.guides.guide_links`) on the site's host or a
   configured service page's host; the sample rotates over the runs (the next run reads the next
   ones), so every guide is read in time.

Every page is fetched one after the other on the registry's keep-alive connections (the scheduler
holds the site's per-host slot for the whole probe); links found on pages are fetched under the
link policy (never inside, probes.net), the homepage's own address allowed.

Judge (pure, :mod:`probes.guides`): each guide's categories shown as label + value; complete (none
missing), partial, or incomplete (at least ``services.missing_elements`` missing).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from domain.registry import Site
from domain.settings import ServicesConfig
from probes import guides
from probes.addresses import Guard, Policy
from probes.content.decode import decode
from probes.context import ProbeContext
from probes.net import Fetched
from probes.results import GuideFinding, ServicesResult

NAMESPACE = "services"  # state: site code -> {"offset": where the next run's sample starts}


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    trusted: bool  # named by the registry
    found_on: str = ""


def state_of(missing: int, cfg: ServicesConfig) -> str:
    """complete | partial | incomplete, by the number of categories missing."""
    if missing == 0:
        return "complete"
    return "incomplete" if missing >= cfg.missing_elements else "partial"


def _html(fetched: Fetched) -> tuple[str | None, str]:
    """The decoded page, or None and why not."""
    if fetched.failure is not None or fetched.status is None or not 200 <= fetched.status < 300:
        return None, fetched.error.removeprefix("body: ") if fetched.error else f"answered HTTP {fetched.status}"
    decoded = decode(fetched.body, fetched.headers.get("content-type"))
    return (decoded.text, "") if decoded.text is not None else (None, decoded.note)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class _Fetcher:
    """One site's pages, one after the other, on keep-alive connections."""

    def __init__(self, ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.policy = ctx.net.policy or Policy(allow_networks=ctx.config.links.allow_networks)

    async def get(self, url: str, trusted: bool) -> Fetched:
        content = self.ctx.config.content
        guard = Guard(self.policy, trust_first=trusted)
        got = await self.ctx.net.fetch(
            url, timeout=content.timeout, max_bytes=content.max_page_bytes, guard=guard, reuse=True
        )
        if trusted:  # a registry page's address is then allowed to the links found on the site's pages
            self.policy = guard.policy
        return got


async def probe(site: Site, ctx: ProbeContext) -> ServicesResult:
    started, t0 = ctx.clock(), time.perf_counter()
    cfg = ctx.config.services
    fetch = _Fetcher(ctx)
    home = await fetch.get(site.url, trusted=True)
    home_html, why = _html(home)
    base = home.final_url or site.url
    entries = guides.service_entries(guides.links(home_html, base)) if home_html is not None else []
    columns = [c.url for c in site.columns if c.category == "service"]
    sources = tuple(
        name for name, has in (("registry", site.services), ("columns", columns), ("homepage", entries)) if has
    )
    hosts = {_host(site.url), _host(base)} | {_host(u) for u in site.services}
    pages = [Page(u, True) for u in site.services] + [Page(u, True) for u in columns]
    pages += [Page(e.url, False, base) for e in entries if _host(e.url) in hosts]
    listed = _unique(pages)[: cfg.max_pages]
    read, candidates, notes = await _read_pages(fetch, listed, hosts, cfg)
    # a link back to a service page or the homepage (navigation) is not a guide
    skip = {p.url for p in listed} | {site.url, base}
    candidates = [c for c in candidates if c.url not in skip]
    offset = _offset(ctx, site.code)
    sample, next_offset = _rotate(candidates, offset, max(0, cfg.max_guides - len(read)))
    if candidates:
        ctx.state.put(NAMESPACE, site.code, {"offset": next_offset})
    for link in sample:
        guide = await _read_guide(fetch, link, cfg)
        if guide is None:
            notes.append(f"{link.url}: a list of guides, not a guide")
        else:
            read.append(guide)
    known = home_html is not None or bool(site.services or columns)
    if sources and not read and not candidates:
        notes.append("no guide found on the service pages read")
    return ServicesResult(
        success=home_html is not None,
        reason="; ".join(([f"homepage: {why}"] if home_html is None else []) + notes),
        started=started,
        duration_seconds=time.perf_counter() - t0,
        url=site.url,
        offered=bool(sources) if known else None,
        sources=sources,
        entries=tuple({"url": e.url, "text": e.text} for e in entries[:20]),
        guides=tuple(read),
        guides_known=len(candidates) + sum(1 for g in read if not g.found_on),
    )


def _unique(pages: Sequence[Page]) -> list[Page]:
    seen: set[str] = set()
    out = []
    for p in pages:
        if p.url not in seen:
            seen.add(p.url)
            out.append(p)
    return out


async def _read_pages(
    fetch: _Fetcher, pages: Sequence[Page], hosts: set[str], cfg: ServicesConfig
) -> tuple[list[GuideFinding], list[Page], list[str]]:
    """The service pages: those that are guides themselves, and the guide links on the others."""
    read: list[GuideFinding] = []
    links: list[Page] = []
    notes: list[str] = []
    for page in pages:
        got = await fetch.get(page.url, page.trusted)
        html, why = _html(got)
        if html is None:
            notes.append(f"service page {page.url}: {why}")
            continue
        guide = guides.read_guide(html)
        found = guides.guide_links(guides.links(html, got.final_url or page.url))
        if guide.is_guide or (page.trusted and not found and (guide.present or guide.empty)):
            read.append(_finding(page.url, "", guide, cfg))
            continue
        links += [Page(link.url, False, page.url) for link in found if _host(link.url) in hosts]
    return read, _unique([p for p in links if p.url not in {g.url for g in read}]), notes


async def _read_guide(fetch: _Fetcher, page: Page, cfg: ServicesConfig) -> GuideFinding | None:
    """The guide at ``page``; None for a page that labels no element and links to guides itself (a
    list of guides, reached by its 办事指南 link)."""
    got = await fetch.get(page.url, page.trusted)
    html, why = _html(got)
    if html is None:
        return GuideFinding(url=page.url, success=False, reason=why, found_on=page.found_on)
    guide = guides.read_guide(html)
    if not guide.present and not guide.empty and guides.guide_links(guides.links(html, got.final_url or page.url)):
        return None
    return _finding(page.url, page.found_on, guide, cfg)


def _finding(url: str, found_on: str, guide: guides.Guide, cfg: ServicesConfig) -> GuideFinding:
    if guide.scripted:  # read, but what it says is written by scripts: listed, not judged
        return GuideFinding(url=url, success=False, reason=guide.note, title=guide.title, found_on=found_on)
    return GuideFinding(
        url=url,
        success=True,
        title=guide.title,
        found_on=found_on,
        present=guide.present,
        missing=guide.missing,
        empty=guide.empty,
        state=state_of(len(guide.missing), cfg),
        note=guide.note,
    )


def _offset(ctx: ProbeContext, code: str) -> int:
    raw = ctx.state.get(NAMESPACE, code)
    value = raw.get("offset") if isinstance(raw, dict) else 0
    return value if isinstance(value, int) and value >= 0 else 0


def _rotate(candidates: Sequence[Page], offset: int, n: int) -> tuple[list[Page], int]:
    """``n`` of ``candidates`` from ``offset`` on (wrapping), and where the next run starts."""
    if not candidates or n <= 0:
        return [], offset
    start = offset % len(candidates)
    take = min(n, len(candidates))
    return [candidates[(start + i) % len(candidates)] for i in range(take)], (start + take) % len(candidates)
