"""The ``links`` probe: every link on the homepage, checked (链接可用性).

Gather the homepage, collect its links — pages (``a``/``area``), images,
scripts, stylesheets, frames and attachments (.doc/.docx/.pdf/.xls/.xlsx/.wps/
.zip …) — and check each with HEAD, falling back to a small GET when HEAD is
refused or unreliable (405/501, or any answer ≥ 400: many servers mishandle
HEAD).  Broken: DNS failure, refused, timeout, redirect loop, TLS failure,
4xx/5xx.

Bounds, so that a hostile page cannot stall the agent:

* at most ``links.max_links`` distinct links per homepage (the rest noted);
* ``links.total`` checks in flight across the agent and ``links.per_host``
  against one host (many department sites share one 集约化 platform host);
* a whole-probe budget (a quarter of the links interval, at most 15 min): what
  is unchecked by then is left out of ``checked`` and noted;
* results are cached across sites for the links interval (many sites link the
  same pages: 中国政府网, the province's portal), in a bounded LRU, and a link
  being checked for one site is awaited, not re-checked, by another.

A link is never requested when its resolved address is not public (loopback, private,
link-local/metadata, CGNAT, multicast, the agent's own listen address …), unless it is the
site's own homepage address or inside ``links.allow_networks`` (``probes.addresses``): it is
reported broken with that reason, as the public cannot follow it either.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from domain.registry import Column, Site
from domain.settings import LinksConfig
from probes.addresses import Guard, Policy
from probes.content import extract, meta
from probes.content.decode import decode
from probes.content.extract import SKIP_SCHEMES, clean_url, parse_tree
from probes.context import ProbeContext, Settings
from probes.net import HOST_FAILURES, Failure, Fetched, Network
from probes.results import LinksResult

SELECTOR = "a[href], area[href], img[src], script[src], link[href], iframe[src], frame[src], embed[src], source[src]"
ATTACHMENTS = (".doc", ".docx", ".pdf", ".xls", ".xlsx", ".wps", ".zip", ".rar", ".7z", ".et", ".ppt", ".pptx", ".ofd")
GET_PROBE_BYTES = 64 * 1024  # a GET fallback reads at most this much, then lets go
CACHE_SIZE = 50_000
MAX_BUDGET = 900.0


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    status: int | None = None
    reason: str = ""
    method: str = "HEAD"


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    kind: str  # page | image | script | stylesheet | frame | attachment


def kind_of(tag: str, url: str, rel: str = "") -> str:
    path = urlsplit(url).path.lower()
    if path.endswith(ATTACHMENTS):
        return "attachment"
    return {
        "img": "image",
        "script": "script",
        "iframe": "frame",
        "frame": "frame",
        "embed": "frame",
        "source": "image",
        "link": "stylesheet" if "stylesheet" in rel else "resource",
    }.get(tag, "page")


def collect(html: str, base: str, cap: int) -> tuple[list[Link], int]:
    """The first ``cap`` distinct checkable links of a page, and how many distinct ones it has (pure)."""
    tree, _ = parse_tree(html)
    seen: dict[str, Link] = {}
    beyond: set[str] = set()  # past the cap, links are only counted (by their raw text: resolving costs)
    for node in tree.css(SELECTOR):
        attrs = node.attributes
        raw = (attrs.get("href") if node.tag in ("a", "area", "link") else attrs.get("src")) or ""
        if len(seen) >= cap:
            raw = raw.strip()
            if raw and not raw.lower().startswith(SKIP_SCHEMES):
                beyond.add(raw)
            continue
        url = clean_url(raw, base)
        if url is not None and url not in seen:
            seen[url] = Link(url, kind_of(node.tag or "", url, (attrs.get("rel") or "").lower()))
    beyond.difference_update(seen)  # absolute links already counted
    return list(seen.values()), len(seen) + len(beyond)


def judge_fetch(head: Fetched, get: Fetched | None = None) -> Outcome:
    """Whether a link works, from its HEAD (and GET fallback) exchange (pure)."""
    last, method = (get, "GET") if get is not None else (head, "HEAD")
    status = last.status
    if last.failure is not None and not (last.failure is Failure.TOO_LARGE and status is not None):
        return Outcome(False, status, last.error, method)
    if status is None or status >= 400:
        return Outcome(False, status, f"HTTP {status}", method)
    return Outcome(True, status, "", method)


def needs_get(head: Fetched) -> bool:
    if head.failure is not None:
        # A GET would only repeat what the host, not the method, did wrong.
        return head.failure not in HOST_FAILURES
    return head.status is None or head.status >= 400


_NO_EXCEPTIONS = Policy()  # public addresses only


async def check(net: Network, url: str, timeout: float, policy: Policy = _NO_EXCEPTIONS) -> Outcome:
    """HEAD (then GET) ``url``, every connection — the first too — admitted by ``policy``."""
    head = await net.fetch(
        url,
        method="HEAD",
        timeout=timeout,
        max_bytes=GET_PROBE_BYTES,
        keep_body=False,
        guard=Guard(policy, trust_first=False),
        reuse=True,  # pooled only while the policy has no exceptions (probes.net.Network.session_for)
    )
    if not needs_get(head):
        return judge_fetch(head)
    get = await net.fetch(
        url,
        timeout=timeout,
        max_bytes=GET_PROBE_BYTES,
        keep_body=False,
        guard=Guard(policy, trust_first=False),
        reuse=True,
    )
    return judge_fetch(head, get)


class Cache:
    """URL → (expiry, outcome), least recently used dropped past ``size``."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._data: OrderedDict[str, tuple[float, Outcome]] = OrderedDict()

    def get(self, url: str, now: float) -> Outcome | None:
        hit = self._data.get(url)
        if hit is None:
            return None
        if hit[0] < now:
            del self._data[url]
            return None
        self._data.move_to_end(url)
        return hit[1]

    def put(self, url: str, outcome: Outcome, expires: float) -> None:
        self._data[url] = (expires, outcome)
        self._data.move_to_end(url)
        while len(self._data) > self.size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()


class LinkChecks:
    """What the link checks of every site share: the cache of outcomes (a link to 国务院's site
    is checked once for the whole fleet), the bounds (``links.total``, ``links.per_host``) and
    the checks in flight.  Owned by whoever runs the probes (the app keeps one across reloads,
    :meth:`with_bounds` when the bounds change); a context without one checks alone."""

    def __init__(self, total: int, per_host: int, cache: Cache | None = None) -> None:
        self.cache = cache if cache is not None else Cache()
        self.bounds = (max(1, total), max(1, per_host))
        self._total = asyncio.Semaphore(self.bounds[0])
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self.inflight: dict[str, asyncio.Future[Outcome]] = {}

    @classmethod
    def of(cls, cfg: LinksConfig, cache: Cache | None = None) -> LinkChecks:
        return cls(cfg.total, cfg.per_host, cache)

    def with_bounds(self, cfg: LinksConfig) -> LinkChecks:
        """Self when ``cfg`` keeps the bounds, else new bounds over the same cache (checks in
        flight finish under the old ones)."""
        return self if (max(1, cfg.total), max(1, cfg.per_host)) == self.bounds else LinkChecks.of(cfg, self.cache)

    async def run(self, net: Network, url: str, timeout: float, policy: Policy) -> Outcome:
        host = urlsplit(url).hostname or ""
        sem, users = self._hosts.get(host) or (asyncio.Semaphore(self.bounds[1]), 0)
        self._hosts[host] = (sem, users + 1)
        try:
            async with sem, self._total:
                return await check(net, url, timeout, policy)
        finally:
            sem, users = self._hosts[host]
            if users <= 1:
                del self._hosts[host]  # no idle semaphore per host ever seen
            else:
                self._hosts[host] = (sem, users - 1)


def _cache_key(url: str, policy: Policy) -> str:
    # A site whose homepage sits on a non-public address may reach links there that other
    # sites may not: their outcomes are kept apart.  Public homepages share one entry per URL.
    trusted = policy.non_public_trusted()
    return f"{url}\x00{','.join(trusted)}" if trusted else url


async def _checked(ctx: ProbeContext, lim: LinkChecks, url: str, counts: dict[str, int], policy: Policy) -> Outcome:
    key = _cache_key(url, policy)
    if (hit := lim.cache.get(key, ctx.clock())) is not None:
        counts["cached"] += 1
        return hit
    if (pending := lim.inflight.get(key)) is not None:
        counts["shared"] += 1
        return await asyncio.shield(pending)
    future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
    lim.inflight[key] = future
    try:
        outcome = await lim.run(ctx.net, url, ctx.config.links.timeout, policy)
        future.set_result(outcome)
        lim.cache.put(key, outcome, ctx.clock() + ctx.config.intervals.of("links"))
        return outcome
    except BaseException as e:
        future.set_exception(RuntimeError(f"check abandoned: {type(e).__name__}"))
        future.exception()  # retrieved: no "never retrieved" warning when nobody shares it
        raise
    finally:
        del lim.inflight[key]


def budget(cfg: Settings) -> float:
    """Seconds the link checks of one homepage may take (the scheduler's deadline allows for it)."""
    return max(30.0, min(cfg.intervals.of("links") / 4, MAX_BUDGET))


async def probe(site: Site, ctx: ProbeContext) -> LinksResult:
    started, t0 = ctx.clock(), time.perf_counter()
    # The homepage is the registry's: trusted as configured, and its address then allowed to links.
    guard = Guard(ctx.net.policy or Policy(allow_networks=ctx.config.links.allow_networks), trust_first=True)
    home = await ctx.net.fetch(
        site.url,
        timeout=ctx.config.content.timeout,
        max_bytes=ctx.config.content.max_page_bytes,
        guard=guard,
        reuse=True,
    )
    result = await _probe(site, ctx, home, guard.policy)
    return replace(result, started=started, duration_seconds=time.perf_counter() - t0)


async def _probe(site: Site, ctx: ProbeContext, home: Fetched, policy: Policy) -> LinksResult:
    if home.failure is not None or home.status is None or not 200 <= home.status < 300:
        why = home.error.removeprefix("body: ") if home.error else f"answered HTTP {home.status}"
        return LinksResult(success=False, reason=f"homepage: {why}", url=site.url)
    decoded = decode(home.body, home.headers.get("content-type"))
    if decoded.text is None:
        return LinksResult(success=False, reason=f"homepage: {decoded.note}", url=site.url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget(ctx.config)
    found_on = home.final_url or site.url
    cap = ctx.config.links.max_links
    links, found = collect(decoded.text, found_on, cap)
    notes = [f"{found} links on the homepage: checked the first {cap} (links.max_links)"] if found > cap else []
    counts = {"cached": 0, "shared": 0}
    lim = ctx.links if ctx.links is not None else LinkChecks.of(ctx.config.links)
    # The column pages and their first articles are read while the homepage's links are checked.
    others = asyncio.create_task(_read_others(site, ctx, policy)) if site.columns else None
    checked, broken, unchecked = await _check_all(
        ctx, lim, [(link, found_on) for link in links], counts, policy, deadline
    )
    if unchecked:
        notes.append(f"{unchecked} links not checked within the {budget(ctx.config):g}s budget")
    other: dict[str, Any] = {}
    if others is not None:
        other = await _other_links(ctx, lim, others, {link.url for link in links}, counts, policy, deadline, notes)
    return LinksResult(
        success=True,
        reason="; ".join(notes),
        url=site.url,
        checked=checked,
        broken=len(broken),
        broken_links=tuple(broken),
        found=found,
        capped=found > cap,
        details={"cached": counts["cached"], "shared": counts["shared"], "by_kind": _by_kind(links)},
        **other,
    )


async def _check_all(
    ctx: ProbeContext,
    lim: LinkChecks,
    links: list[tuple[Link, str]],
    counts: dict[str, int],
    policy: Policy,
    deadline: float,
) -> tuple[int, list[dict[str, Any]], int]:
    """Check ``(link, found_on)`` pairs until ``deadline``: (checked, the broken ones, not checked)."""
    tasks = {asyncio.create_task(_checked(ctx, lim, link.url, counts, policy)): (link, on) for link, on in links}
    done: set[asyncio.Task[Outcome]] = set()
    pending: set[asyncio.Task[Outcome]] = set()
    if tasks:
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    broken: list[dict[str, Any]] = []
    checked = 0
    for task in done:
        if task.cancelled() or task.exception() is not None:
            continue
        checked += 1
        outcome, (link, on) = task.result(), tasks[task]
        if not outcome.ok:
            broken.append(
                {
                    "url": link.url,
                    "found_on": on,
                    "reason": outcome.reason,
                    "status": outcome.status,
                    "kind": link.kind,
                    "method": outcome.method,
                }
            )
    broken.sort(key=lambda b: (b["url"], b["found_on"]))
    return checked, broken, len(pending)


# --- other pages: the column pages and the first article of each (issue 19) -------------------------

COLUMNS_AT_ONCE = 2  # as the content probe reads them
MIN_TITLE = 8  # shorter link texts are navigation (probes.content.columns)


@dataclass(frozen=True, slots=True)
class OtherPage:
    """A column page or an article, read for its links and its tags (or why not)."""

    url: str
    page: str  # "column" | "article"
    column: str
    html: str | None = None
    final_url: str = ""
    reason: str = ""
    missing_tags: tuple[str, ...] = ()


async def _fetch_page(ctx: ProbeContext, url: str, guard: Guard) -> tuple[str | None, str, str]:
    """(text, final URL, why not) of one page."""
    got = await ctx.net.fetch(
        url, timeout=ctx.config.content.timeout, max_bytes=ctx.config.content.max_page_bytes, guard=guard, reuse=True
    )
    if got.failure is not None or got.status is None or not 200 <= got.status < 300:
        return None, url, got.error.removeprefix("body: ") if got.error else f"answered HTTP {got.status}"
    decoded = decode(got.body, got.headers.get("content-type"))
    if decoded.text is None:
        return None, url, decoded.note
    return decoded.text, got.final_url or url, ""


def read_column(html: str, url: str, now: float) -> tuple[tuple[str, ...], str | None]:
    """A column page's missing tags and its first article's URL (pure): the first dated item listed,
    else the first with a title (not a navigation link such as 首页), that leads to another page."""
    page = extract.parse(html, url, now)
    pages = [i for i in page.items if i.url.startswith(("http://", "https://")) and i.url != url]
    dated = [i for i in pages if i.published is not None]
    titled = [i for i in pages if len(i.title) >= MIN_TITLE]
    first = next(iter(dated or titled), None)
    return tuple(meta.missing(page.meta, meta.COLUMN_TAGS)), first.url if first is not None else None


def read_article(html: str) -> tuple[str, ...]:
    """An article page's missing tags (pure)."""
    tree, _ = parse_tree(html)
    return tuple(meta.missing(meta.read(tree), meta.ARTICLE_TAGS))


async def _read_others(site: Site, ctx: ProbeContext, policy: Policy) -> list[OtherPage]:
    limit = asyncio.Semaphore(max(1, min(COLUMNS_AT_ONCE, ctx.config.concurrency.per_host)))

    async def one(column: Column) -> list[OtherPage]:
        async with limit:  # the registry's column pages are trusted as configured, as the homepage
            text, final, why = await _fetch_page(ctx, column.url, Guard(policy, trust_first=True))
        if text is None:
            return [OtherPage(column.url, "column", column.name, reason=why)]
        missing, first = read_column(text, final, ctx.clock())
        pages = [OtherPage(column.url, "column", column.name, text, final, missing_tags=missing)]
        if first is not None:
            async with limit:  # an article is a link found on a page: judged by where it resolves
                text, final, why = await _fetch_page(ctx, first, Guard(policy, trust_first=False))
            missing = read_article(text) if text is not None else ()
            pages.append(OtherPage(first, "article", column.name, text, final, why, missing))
        return pages

    return [page for pages in await asyncio.gather(*(one(c) for c in site.columns)) for page in pages]


async def _other_links(
    ctx: ProbeContext,
    lim: LinkChecks,
    reading: asyncio.Task[list[OtherPage]],
    on_homepage: set[str],
    counts: dict[str, int],
    policy: Policy,
    deadline: float,
    notes: list[str],
) -> dict[str, Any]:
    """The other pages' links (those not on the homepage, each once), checked until ``deadline``."""
    try:
        async with asyncio.timeout_at(deadline):
            pages = await reading
    except TimeoutError:
        notes.append("column pages not read within the links budget")
        return {}
    cap = ctx.config.links.max_links
    links: dict[str, tuple[Link, str]] = {}
    for page in pages:
        if page.html is None:
            notes.append(f"{page.page} {page.url}: {page.reason}")
            continue
        for link in collect(page.html, page.final_url, cap)[0]:
            if link.url not in on_homepage and link.url not in links and len(links) < cap:
                links[link.url] = (link, page.final_url)
    checked, broken, unchecked = await _check_all(ctx, lim, list(links.values()), counts, policy, deadline)
    if unchecked:
        notes.append(f"{unchecked} links of column pages and articles not checked within the budget")
    tags = tuple(
        {"url": p.url, "page": p.page, "column": p.column, "missing": list(p.missing_tags)}
        for p in pages
        if p.html is not None and p.missing_tags
    )
    return {
        "other_pages": sum(p.html is not None for p in pages),
        "other_checked": checked,
        "other_broken": len(broken),
        "other_broken_links": tuple(broken),
        "page_tags": tags,
    }


def _by_kind(links: list[Link]) -> dict[str, int]:
    out: dict[str, int] = {}
    for link in links:
        out[link.kind] = out.get(link.kind, 0) + 1
    return out
