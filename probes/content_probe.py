"""The ``content`` probe: homepage freshness, columns, required elements, serious errors, privacy.

Gather: one fetch of the homepage and one of each configured column page, all
capped by ``content.max_page_bytes`` and ``content.timeout``.  Judge: pure
functions in :mod:`probes.content` over the fetched bytes (:func:`judge`), then
the fingerprint of a navigation-only homepage is kept in the state store.

Freshness that could be read before survives a failed fetch: the newest dates
seen are remembered (state namespace ``content_last_update``) and reported when
a page cannot be read this time, with the failure as the reason.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from domain.registry import Column, Site
from domain.scoring import UPDATE_WINDOW
from probes.content import (
    backdated,
    compliance,
    dates,
    extract,
    fingerprint,
    hidden_links,
    malware,
    not_homepage,
    privacy,
    serious,
)
from probes.content import columns as columns_mod
from probes.content.decode import decode
from probes.context import ProbeContext
from probes.net import Failure, Fetched
from probes.results import ColumnFinding, ContentResult

REMEMBERED = "content_last_update"
DAY = 86400.0
NEWEST_SHOWN = 10
# 关停公告: a closing site tells its visitors (indicators.md: a notice on the homepage for a month).
CLOSURE_NOTICE = re.compile(
    r"关停(?:公告|通知|说明|声明)|(?:网站|本站).{0,20}(?:关停|停止(?:运行|运维|服务|更新)|下线|迁移至|整合至|并入)|"
    r"(?:停止|暂停)(?:运行|服务)的?(?:公告|通知)"
)


@dataclass(frozen=True, slots=True)
class Read:
    """A fetched page, decoded and parsed — or why not."""

    page: extract.Page | None
    reason: str = ""
    encoding: str = ""
    note: str = ""


def read(fetched: Fetched, now: float, unchanged_since: float | None = None) -> Read:
    """Judge one fetched page as far as it can be read (pure)."""
    if fetched.failure is Failure.TOO_LARGE:
        return Read(None, f"page {fetched.error.removeprefix('body: ')}")
    if fetched.failure is not None:
        return Read(None, fetched.error)
    if fetched.status is None or not 200 <= fetched.status < 300:
        return Read(None, f"answered HTTP {fetched.status}")
    if why := not_homepage.reason(fetched.body, fetched.headers.get("content-type")):
        return Read(None, f"the page is {why}")
    decoded = decode(fetched.body, fetched.headers.get("content-type"))
    if decoded.text is None:
        return Read(None, decoded.note, note=decoded.note)
    modified = fingerprint.last_modified(fetched.headers.get("last-modified"), now)
    page = extract.parse(decoded.text, fetched.final_url or fetched.url, now, modified, unchanged_since)
    return Read(page, "", decoded.encoding, decoded.note)


@lru_cache(maxsize=8)
def _dictionary(paths: tuple[str, ...]) -> serious.Dictionary:
    return serious.load(*paths)[0] if paths else serious.default()


def dictionary_for(ctx: ProbeContext) -> serious.Dictionary:
    # Extra dictionaries may come from the configuration (content.dictionaries) once it has that key.
    return _dictionary(tuple(getattr(ctx.config.content, "dictionaries", ()) or ()))


def blocklist_for(ctx: ProbeContext) -> malware.Blocklist:
    return malware.for_paths(tuple(ctx.config.content.blocklists))


def judge(
    site: Site,
    home: Fetched,
    column_pages: Sequence[tuple[Column, Fetched]],
    now: float,
    words: serious.Dictionary,
    previous_fingerprint: dict[str, Any] | None = None,
    allow: tuple[str, ...] = (),
    *,
    blocklist: malware.Blocklist | None = None,
    listings: backdated.Listings | None = None,
    grace: float = DAY,
    keep: float = 30 * DAY,
) -> tuple[ContentResult, dict[str, Any] | None]:
    """The whole content verdict from fetched pages (pure).  Returns the result and,
    for a homepage without dated items, the fingerprint record to store.  ``allow``: hosts
    that hidden links may point to (``content.hidden_link_allow``).

    ``blocklist``: injected scripts and frames (the shipped list when None).  ``listings``: what each
    column showed at its last successful check, for back-dated items; the judge fills ``listings.now``
    with what to store (no back-dating is judged without it)."""
    lists = blocklist if blocklist is not None else malware.for_paths(())
    online = home.status is not None and 200 <= home.status < 300
    closed_but_online = site.status == "closed" and online
    got = read(home, now)
    if (
        got.page is not None
        and got.page.year_report.get("year_unknown")
        and isinstance(previous_fingerprint, dict)
        and isinstance(previous_fingerprint.get("changed"), (int, float))
        and previous_fingerprint.get("digest") == fingerprint.digest(got.page.anchors)
    ):
        # Dates without a year and nothing on the page to date them: our own history is evidence.
        # We have seen this very item list since `changed`, so every item on it was there by then.
        got = read(home, now, unchanged_since=float(previous_fingerprint["changed"]))
    columns, column_details, column_hits, column_leaks, column_pages_read = _judge_columns(column_pages, now, words)
    injected = [f for name, r in column_pages_read for f in _injected(r, name, site, lists)]
    dated_back = _backdated(column_pages_read, listings, now, grace, keep)
    columns_success = all(c.success for c in columns)
    base: dict[str, Any] = {
        "url": site.url,
        "columns": tuple(columns),
        "columns_success": columns_success,
        "closed_but_online": closed_but_online,
    }
    details: dict[str, Any] = {"final_url": home.final_url, "status": home.status, "columns": column_details}
    if got.page is None:
        details["decode_note"] = got.note
        result = ContentResult(
            success=False,
            reason=f"homepage: {got.reason}",
            details=details,
            serious_errors=distinct_errors(column_hits),
            privacy_leaks=len(column_leaks),
            malicious_scripts=malware.distinct(injected),
            backdated_items=len(dated_back),
            **base,
        )
        details.update(malicious_scripts=injected, backdated_items=dated_back)
        return result, None
    page = got.page
    details.update(encoding=got.encoding, decode_note=got.note, title=page.title, notes=list(page.notes))
    last_update, source, record = page.newest, "dated_items", None
    if last_update is None:
        modified = fingerprint.last_modified(home.headers.get("last-modified"), now)
        record = fingerprint.observe(previous_fingerprint, fingerprint.digest(page.anchors), now, modified)
        last_update, source = float(record["changed"]), "fingerprint"
        details["fingerprint"] = record
    urls = [u for _, u in page.anchors] + list(page.resource_urls)
    checks, found = compliance.check(page, urls, site.code, urlsplit(site.url).hostname or "")
    hits = words.find(page.text, "homepage") + column_hits
    home_host = urlsplit(home.final_url or site.url).hostname or ""
    verdict = hidden_links.judge(page.anchors, page.hidden_anchors, home_host, allow=allow)
    planted = verdict.found
    injected = _injected(got, "homepage", site, lists, home.final_url) + injected
    leaks = [{"where": "homepage", "id": m} for m in privacy.find(page.text, dates.today(now))] + column_leaks
    closure: bool | None = None
    if site.status == "closing":
        m = CLOSURE_NOTICE.search(page.text)
        closure = m is not None
        details["closure_notice"] = m.group(0) if m else ""
    configured = {c.url for c in site.columns}
    details.update(
        newest_items=[i.as_dict() for i in _newest(page.items)],
        items=len(page.items),
        dated_items=len(page.dated_items),
        ignored_dates=list(page.ignored_dates),
        candidate_columns=columns_mod.candidates(page, home.final_url or site.url, configured),
        compliance_found=found,
        serious_errors=hits,
        privacy_leaks=leaks,
        hidden_links=planted,
        hidden_links_excused=verdict.excused,
        meta=page.meta,
        year_inference=page.year_report,
        hidden_elements=page.hidden_elements,
        malicious_scripts=injected,
        backdated_items=dated_back,
    )
    reason = "; ".join(page.notes)
    result = ContentResult(
        success=True,
        reason=reason,
        homepage_success=True,
        homepage_last_update=last_update,
        homepage_update_source=source,
        homepage_updates=columns_mod.recent(page.dated_items, now, UPDATE_WINDOW) if page.dated_items else None,
        compliance_success=True,
        compliance=checks,
        serious_errors=distinct_errors(hits),
        privacy_leaks=len(leaks),
        hidden_links=len(planted),
        malicious_scripts=malware.distinct(injected),
        backdated_items=len(dated_back),
        closure_notice_shown=closure,
        details=details,
        **base,
    )
    return result, record


def distinct_errors(hits: Sequence[dict[str, Any]]) -> int:
    """``xuncha_serious_errors``: how many different wrong expressions the site shows.  A
    headline on the homepage and again in its column (or in a link's text and title) is one
    error to fix, not two; every occurrence is listed in ``details``."""
    return len({h["wrong"] for h in hits})


def _newest(items: Sequence[extract.Item], n: int = NEWEST_SHOWN) -> list[extract.Item]:
    dated = [i for i in items if i.published is not None]
    return sorted(dated, key=lambda i: i.published or 0.0, reverse=True)[:n]


def _judge_columns(column_pages: Sequence[tuple[Column, Fetched]], now: float, words: serious.Dictionary):  # type: ignore[no-untyped-def]
    findings: list[ColumnFinding] = []
    details: dict[str, Any] = {}
    hits: list[dict[str, Any]] = []
    leaks: list[dict[str, Any]] = []
    pages: list[tuple[str, Read]] = []  # the column pages read, for the judges that need the page itself
    for column, fetched in column_pages:
        got = read(fetched, now)
        if got.page is None:
            findings.append(
                ColumnFinding(
                    name=column.name, category=column.category, url=column.url, success=False, reason=got.reason
                )
            )
            continue
        findings.append(columns_mod.judge(column.name, column.category, column.url, got.page, now))
        pages.append((column.name, got))
        newest = _newest(got.page.items)
        details[column.name] = {
            "newest_items": [i.as_dict() for i in newest[:3]],
            "encoding": got.encoding,
            "ignored_dates": list(got.page.ignored_dates[:5]),
            "notes": list(got.page.notes),
            "meta": {k: v for k, v in got.page.meta.items() if k.startswith("Column")},
            "year_inference": got.page.year_report,
        }
        declared = columns_mod.declared_category(got.page.meta)
        if declared and declared != column.category:
            # The page's own ColumnName/ColumnType say which 栏目 it is: a different category changes
            # which staleness line applies (news 14 days, notice 180 …), so say so.
            details[column.name]["category_note"] = (
                f"the page declares itself {declared} (meta ColumnName/ColumnType); configured as {column.category}"
            )
        hits += words.find("\n".join(i.title for i in newest), f"column {column.name}")
        leaks += [{"where": f"column {column.name}", "id": m} for m in privacy.find(got.page.text, dates.today(now))]
    return findings, details, hits, leaks, pages


def _injected(got: Read, where: str, site: Site, lists: malware.Blocklist, final_url: str = "") -> list[dict[str, Any]]:
    if got.page is None:
        return []
    label = where if where == "homepage" else f"column {where}"
    return malware.find(got.page, urlsplit(final_url or site.url).hostname or "", lists, label)


def _backdated(
    pages: Sequence[tuple[str, Read]], listings: backdated.Listings | None, now: float, grace: float, keep: float
) -> list[dict[str, Any]]:
    """Back-dated items of the columns read now (and those kept for review); fills ``listings.now``."""
    if listings is None:
        return []
    found: list[dict[str, Any]] = []
    for name, got in pages:
        assert got.page is not None
        record, items = backdated.observe(name, got.page.items, listings.before.get(name), now, grace, keep)
        listings.now[name] = record
        found += [{k: v for k, v in f.items() if k != "seen_at"} for f in items]
    return found


# Column pages fetched at once: with the homepage's connection kept alive, one site's five pages
# take two connections (two TLS handshakes) instead of five.
COLUMNS_AT_ONCE = 2


async def gather(site: Site, ctx: ProbeContext) -> tuple[Fetched, list[tuple[Column, Fetched]]]:
    """The I/O: the homepage, then its column pages, at most ``COLUMNS_AT_ONCE`` (and
    ``concurrency.per_host``) at once, on keep-alive connections (probes.net: the registry's pool)."""
    cfg = ctx.config.content
    limit = asyncio.Semaphore(max(1, min(COLUMNS_AT_ONCE, ctx.config.concurrency.per_host)))

    async def get(url: str) -> Fetched:
        async with limit:
            return await ctx.net.fetch(url, timeout=cfg.timeout, max_bytes=cfg.max_page_bytes, reuse=True)

    home = await get(site.url)
    pages = await asyncio.gather(*(get(c.url) for c in site.columns))
    return home, list(zip(site.columns, pages, strict=True))


async def probe(site: Site, ctx: ProbeContext) -> ContentResult:
    started, t0 = ctx.clock(), time.perf_counter()
    home, column_pages = await gather(site, ctx)
    now = ctx.clock()
    previous = ctx.state.get(fingerprint.NAMESPACE, site.code)
    stored = ctx.state.get(backdated.NAMESPACE, site.code)
    listings = backdated.Listings(stored if isinstance(stored, dict) else {})
    cfg = ctx.config.content
    allow = tuple(getattr(cfg, "hidden_link_allow", ()) or ())
    result, record = judge(
        site,
        home,
        column_pages,
        now,
        dictionary_for(ctx),
        previous,
        allow,
        blocklist=blocklist_for(ctx),
        listings=listings,
        grace=cfg.backdated_grace_days * DAY,
        keep=cfg.backdated_keep_days * DAY,
    )
    if record is not None:
        ctx.state.put(fingerprint.NAMESPACE, site.code, record)
    if listings.now:
        # Columns not read this time keep what they showed at their last successful check.
        # Bounded: the configured columns only (a renamed or removed column's record goes).
        configured = {c.name for c in site.columns}
        kept = {k: v for k, v in {**listings.before, **listings.now}.items() if k in configured}
        ctx.state.put(backdated.NAMESPACE, site.code, kept)
    result = _remember(ctx, site, result)
    return replace(result, started=started, duration_seconds=time.perf_counter() - t0)


def _remember(ctx: ProbeContext, site: Site, result: ContentResult) -> ContentResult:
    """Store the dates read now; fill in the ones that could not be read from what was stored."""
    raw = ctx.state.get(REMEMBERED, site.code)
    stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
    raw_columns = stored.get("columns")
    old_columns: dict[str, Any] = raw_columns if isinstance(raw_columns, dict) else {}
    new_columns = {c.name: c.last_update for c in result.columns if c.success and c.last_update is not None}
    homepage = result.homepage_last_update if result.homepage_success else None
    record = {
        "homepage": homepage if homepage is not None else stored.get("homepage"),
        "columns": {**old_columns, **new_columns},
    }
    if record != stored:
        ctx.state.put(REMEMBERED, site.code, record)
    changes: dict[str, Any] = {}
    if not result.homepage_success and isinstance(stored.get("homepage"), (int, float)):
        changes.update(homepage_last_update=float(stored["homepage"]), homepage_update_source="remembered")
    columns = []
    for c in result.columns:
        old = old_columns.get(c.name)
        if not c.success and isinstance(old, (int, float)):
            c = replace(c, last_update=float(old), note="date remembered from an earlier check")
        columns.append(c)
    changes["columns"] = tuple(columns)
    return replace(result, **changes)
