"""The ``interaction`` probe: consultation channels and their messages (互动回应差).

The rule (国办秘函〔2019〕19号, single veto): the site offers no effective online consultation
channel (网上信访 and 纪检举报 channels do not count), or, within the past year, a consultation
column (not 在线访谈, 调查征集, 网上信访, 纪检举报) left a valid message unanswered for more than 3
months.  The newest item of a message list is the newest *question*, so the content probe's
newest-item rule says nothing about answers: this probe reads each row as a message
(:mod:`probes.messages`).

Gather: each ``interaction`` column that is a consultation channel (by its name, or its
``consultation:`` key); when none is configured, the homepage, for channels to discover (信箱,
咨询, 留言, 问政 …), of which ``interaction.discovered_lists`` on the site's host are read.  Then at
most ``interaction.detail_pages`` message pages per site and run, on the list's host only (a page
cannot send the agent elsewhere), on keep-alive connections, two at a time within
``concurrency.per_host``: the oldest unanswered first (is it answered after all, and when?), then
answered ones whose reply date the list does not show.  Judge: pure functions below.

A column whose rows show no state at all cannot be judged by its answers: it is judged by its
newest item, as before (``xuncha_column_last_update_timestamp_seconds``), and the result says so.
A list that cannot be read this time reports the last reading (state ``interaction``).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from domain.registry import Column, Site
from probes import messages as msg
from probes.content.decode import decode
from probes.content.extract import clean_url, parse_tree
from probes.context import ProbeContext
from probes.net import Failure, Fetched
from probes.results import InteractionResult, MessageColumn

DAY = 86400.0
YEAR = 365 * DAY  # [rule] "within the past year"
NAMESPACE = "interaction"
MAX_LISTED = 50  # unanswered messages listed per column under /api/
SHOWN = 5  # rows of each list kept in details (a result lives in memory until the next run: 6 h)
AT_ONCE = 2
STATELESS_DETAILS = 2  # detail pages read per run for rows that show no state
# [rule] Not consultation channels: 网上信访 and 纪检举报 (channels of their own procedures), 在线访谈
# and 调查征集 (columns of another indicator).  A column's ``consultation:`` key overrides its name.
EXCLUDED = re.compile(r"信访|纪检|纪委|监委|监察|违纪|访谈|调查|征集|问卷|民意测评")
# Link texts of consultation channels on a homepage (咨询建言 in the 2019 indicators).
CHANNEL = re.compile(r"信箱|咨询|留言|问政|建言|献策|互动|12345|网上问答|在线问答|民声|民生诉求|诉求|政民")
MAX_CHANNEL_NAME = 12


def counts(column: Column) -> tuple[bool, str]:
    """Whether an ``interaction`` column is a consultation channel, and why not."""
    if column.consultation is not None:
        return column.consultation, "" if column.consultation else "consultation: false in the registry"
    m = EXCLUDED.search(column.name)
    return (False, f"{m.group(0)}: not a consultation channel (国办秘函〔2019〕19号)") if m else (True, "")


def discover(html: str, base: str) -> list[dict[str, str]]:
    """Consultation channels linked from a homepage: {"name", "url"} (pure)."""
    tree, _ = parse_tree(html)
    out: dict[str, dict[str, str]] = {}
    for a in tree.css("a[href]"):
        name = re.sub(r"\s+", "", a.text() or a.attributes.get("title") or "")
        if not 2 <= len(name) <= MAX_CHANNEL_NAME or not CHANNEL.search(name) or EXCLUDED.search(name):
            continue
        url = clean_url(a.attributes.get("href") or "", base)
        if url and url not in out:
            out[url] = {"name": name, "url": url}
    return list(out.values())


def text_of(fetched: Fetched) -> tuple[str | None, str]:
    """The decoded page, or why not."""
    if fetched.failure is Failure.TOO_LARGE:
        return None, f"page {fetched.error.removeprefix('body: ')}"
    if fetched.failure is not None:
        return None, fetched.error
    if fetched.status is None or not 200 <= fetched.status < 300:
        return None, f"answered HTTP {fetched.status}"
    decoded = decode(fetched.body, fetched.headers.get("content-type"))
    return (decoded.text, "") if decoded.text is not None else (None, decoded.note)


# --- judge (pure) -------------------------------------------------------------------------------


def judge_column(
    name: str,
    url: str,
    messages: Sequence[msg.Message],
    now: float,
    line_days: float,
    *,
    discovered: bool = False,
    detail_pages: int = 0,
) -> MessageColumn:
    """One consultation column's verdict from its messages."""
    year_ago = now - YEAR
    by_state = {"answered": 0, "unanswered": 0, "unknown": 0}
    for m in messages:
        by_state[m.state or "unknown"] += 1
    newest = max((m.asked for m in messages if m.asked is not None), default=None)
    base = MessageColumn(
        name=name,
        url=url,
        success=True,
        discovered=discovered,
        messages=len(messages),
        by_state=by_state,
        newest=newest,
        detail_pages=detail_pages,
    )
    if not any(m.state for m in messages):
        note = "no message on the list" if not messages else ""
        note = note or "the rows show no state (已回复/未回复…): judged by its newest item, as any column"
        return replace(base, note=note)
    recent = [m for m in messages if m.asked is not None and m.asked >= year_ago]
    open_ = sorted((m for m in recent if m.state == msg.UNANSWERED), key=lambda m: m.asked or 0.0)
    took = sorted(
        m.replied - m.asked for m in messages if m.state == msg.ANSWERED and m.replied is not None and m.asked
    )
    answered = [m for m in messages if m.state == msg.ANSWERED and max(m.replied or 0.0, m.asked or 0.0) >= year_ago]
    return replace(
        base,
        state_shown=True,
        oldest_unanswered=open_[0].asked if open_ else None,
        overdue=sum(1 for m in open_ if now - (m.asked or now) > line_days * DAY),
        answered_past_year=len(answered),
        reply_max=took[-1] if took else None,
        reply_median=statistics.median(took) if took else None,
        unanswered=tuple(m.as_dict() for m in open_[:MAX_LISTED]),
    )


def detail_candidates(lists: Sequence[Sequence[msg.Message]], hosts: Sequence[str], n: int) -> list[tuple[int, int]]:
    """(list, row) of the messages whose pages are worth reading, best first, at most ``n``: the
    oldest unanswered, then those with no state, then answered ones whose reply date is not shown."""
    ranked: list[tuple[int, float, int, int]] = []
    for i, (rows, host) in enumerate(zip(lists, hosts, strict=True)):
        for j, m in enumerate(rows):
            if not msg.same_host(m.url, host) or m.asked is None:
                continue
            if m.state == msg.UNANSWERED:
                ranked.append((0, m.asked, i, j))
            elif not m.state:
                ranked.append((1, m.asked, i, j))
            elif m.replied is None:
                ranked.append((2, -m.asked, i, j))
    # Rows without a state are read only to learn whether their pages show one: two are enough.
    best = sorted(ranked)
    stateless = [r for r in best if r[0] == 1][:STATELESS_DETAILS]
    best = sorted([r for r in best if r[0] != 1] + stateless)
    return [(i, j) for _, _, i, j in best[:n]]


# --- gather -------------------------------------------------------------------------------------


async def read_list(
    get: Callable[[str], Awaitable[Fetched]], url: str, now: float, line_days: float, pages: int
) -> tuple[list[msg.Message], str]:
    """A list's messages, and why not ("" when read).  Its next pages (下一页, on its host) are read,
    up to ``pages`` in all, until the messages read reach back past the veto line: an unanswered
    message older than that is what the rule is about, and the first page may be all recent."""
    rows: list[msg.Message] = []
    host = urlsplit(url).hostname or ""
    for n in range(max(1, pages)):
        html, why = text_of(fetched := await get(url))
        if html is None:
            return (rows, "") if n else ([], why)  # a later page failing keeps what was read
        base = fetched.final_url or fetched.url
        rows += msg.parse_list(html, base, now)
        oldest = min((m.asked for m in rows if m.asked is not None), default=now)
        following = msg.next_page(html, base)
        if now - oldest > line_days * DAY or not any(m.state for m in rows):
            break  # far enough back; or no state shown, so no answer to judge on any page
        if following is None or not msg.same_host(following, host):
            break
        url = following
    return rows, ""


async def probe(site: Site, ctx: ProbeContext) -> InteractionResult:
    started, t0 = ctx.clock(), time.perf_counter()
    cfg = ctx.config.interaction
    limit = asyncio.Semaphore(max(1, min(AT_ONCE, ctx.config.concurrency.per_host)))

    async def get(url: str) -> Fetched:
        async with limit:
            c = ctx.config.content
            return await ctx.net.fetch(url, timeout=c.timeout, max_bytes=c.max_page_bytes, reuse=True)

    configured = [c for c in site.columns if c.category == "interaction"]
    channels: list[tuple[str, str, bool]] = []  # name, url, discovered
    excluded: list[dict[str, str]] = []
    for c in configured:
        ok, why = counts(c)
        if ok:
            channels.append((c.name, c.url, False))
        else:
            excluded.append({"column": c.name, "url": c.url, "reason": why})
    found: list[dict[str, str]] = []
    count: int | None = len(channels)
    reason = ""
    if not channels:
        html, why = text_of(await get(site.url))
        if html is None:
            count, reason = None, f"homepage (to discover consultation channels): {why}"
        else:
            found = discover(html, site.url)
            count = len(found)
            on_site = [f for f in found if urlsplit(f["url"]).hostname == site.host]
            channels = [(f["name"], f["url"], True) for f in on_site[: cfg.discovered_lists]]
    now = ctx.clock()
    line = ctx.config.content.stale_days.get("interaction", 90.0)
    reads = await asyncio.gather(*(read_list(get, url, now, line, cfg.list_pages) for _, url, _ in channels))
    lists = [rows for rows, _ in reads]
    failures = {i: why for i, (_, why) in enumerate(reads) if why}
    hosts = [urlsplit(url).hostname or "" for _, url, _ in channels]
    wanted = detail_candidates(lists, hosts, cfg.detail_pages)
    detail = await asyncio.gather(*(get(lists[i][j].url) for i, j in wanted))
    read = [0] * len(channels)
    for (i, j), fetched in zip(wanted, detail, strict=True):
        html, _ = text_of(fetched)
        if html is not None:
            lists[i][j] = msg.merge(lists[i][j], msg.parse_detail(html, now))
            read[i] += 1
    columns = []
    for i, (name, url, disc) in enumerate(channels):
        if i in failures:
            columns.append(MessageColumn(name=name, url=url, success=False, reason=failures[i], discovered=disc))
        else:
            columns.append(judge_column(name, url, lists[i], now, line, discovered=disc, detail_pages=read[i]))
    columns = _remember(ctx, site, columns)
    failed = [f"{c.name}: {c.reason}" for c in columns if not c.success]
    return InteractionResult(
        success=count is not None and not failed,
        reason="; ".join(([reason] if reason else []) + failed),
        started=started,
        duration_seconds=time.perf_counter() - t0,
        url=site.url,
        channels=count,
        columns=tuple(columns),
        excluded=tuple(excluded),
        discovered=tuple(found[:20]),
        detail_pages=sum(read),
        details={
            # the first rows as read, to check the reading; the unanswered ones are in each column
            "messages": {c.name: [m.as_dict() for m in rows[:SHOWN]] for c, rows in zip(columns, lists, strict=True)}
        },
    )


_KEPT = ("state_shown", "oldest_unanswered", "answered_past_year", "newest")


def _remember(ctx: ProbeContext, site: Site, columns: list[MessageColumn]) -> list[MessageColumn]:
    """Store what was read; a list that could not be read reports its last reading."""
    raw = ctx.state.get(NAMESPACE, site.code)
    stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
    record = dict(stored)
    out = []
    for c in columns:
        if c.success:
            record[c.name] = {k: getattr(c, k) for k in _KEPT}
        elif isinstance(old := stored.get(c.name), dict):
            kept: dict[str, Any] = {k: old[k] for k in _KEPT if isinstance(old.get(k), (int, float, bool))}
            c = replace(c, **kept, note="remembered from an earlier check")
        out.append(c)
    record = {k: v for k, v in record.items() if k in {c.name for c in columns}}
    if record != stored:
        ctx.state.put(NAMESPACE, site.code, record)
    return out
