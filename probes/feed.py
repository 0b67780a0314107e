"""The feed probe: is a new-media account (政务新媒体) still publishing?

``probe(account, ctx)`` fetches the account's feed (its own URL, or an RSSHub
route filled from the platform's template), reads it (:mod:`probes.feedparse`)
and judges it:

* **newest entry** — the newest *trusted* entry date: ``published``, else
  ``updated``.  Dates before 2000 (the 1970 of a zeroed field) and dates more
  than :data:`FUTURE_SKEW` ahead (2099, a wrong year) are not trusted and are
  counted in ``details``; a date up to a day ahead (a wrong time zone) counts as
  now.  **Undated entries** say nothing on the first visit; on later visits an
  undated entry we have not seen before is dated when first seen (its key is
  remembered), the same fallback the homepage check uses.  The newest entry ever
  seen survives in the state, so an entry deleted from the feed does not make
  the account look older.
* **silent vs unreachable** — a feed that cannot be fetched or read (RSSHub
  route broken: 404/503, 429, an HTML anti-crawler page, malformed XML) is
  ``success=False`` with a reason, and ``last_entry`` is the last known one from
  the state: a broken feed never makes an account look silent (indicators.md).
* **conditional GET** — ETag / Last-Modified are remembered; a 304 reuses the last
  reading (counts of recent entries are recomputed for today from the remembered
  dates).
* **stopped accounts** (``status: stopped``) — a feed that still answers with
  entries, of any date, means the account still exists on its platform: it was
  stopped (停用) but not deregistered (注销), the finding of ``seeds/003``.  A
  deregistered account's route fails or comes back empty, so neither fires it;
  ``details["still_posting"]`` says whether it also has entries in the last
  ``recent_days``.
* **politeness** — a backoff per feed host (for RSSHub routes, per platform
  namespace such as ``/weibo``: the platform is what rate-limits), kept in the
  state: a 429, or a 5xx with Retry-After, backs off at once; plain
  5xx and connection failures back off after :data:`STRIKES` in a row, so one
  broken route among thousands on a healthy RSSHub does not silence the others.
  While backing off the probe returns at once without fetching.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from domain.clock import BEIJING, EARLIEST_TIMESTAMP
from domain.registry import Account
from probes.content import serious
from probes.context import ProbeContext
from probes.feedparse import Parsed, html_title, parse
from probes.net import Failure, Fetched
from probes.posts import NONE as NO_POSTS
from probes.posts import PostFindings
from probes.posts import scan as scan_posts
from probes.results import FeedResult

NAMESPACE = "feed"  # state: account id -> memo of the last reading
BACKOFF_NAMESPACE = "feed-backoff"  # state: host key -> {"until", "strikes", "reason"}
FUTURE_SKEW = 86400.0  # dates further ahead than this are not trusted
EPOCH_FLOOR = EARLIEST_TIMESTAMP  # earlier dates are zeroed or absurd fields
STRIKES = 3  # consecutive 5xx / connection failures on one host before backing off
BACKOFF_BASE = 60.0
BACKOFF_CAP = 3600.0  # one feed interval
RETRY_AFTER_CAP = 6 * 3600.0
KEEP_DATES = 200  # entry dates remembered for 304 answers
KEEP_UNDATED = 500  # undated entry keys remembered
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.1"
)


# --- the probe (gather) ----------------------------------------------------------


async def probe(account: Account, ctx: ProbeContext) -> FeedResult:
    started = ctx.clock()
    t0 = time.perf_counter()
    feeds = ctx.config.feeds
    recent = feeds.recent_days * 86400
    url = account.feed
    memo = Memo.load(ctx.state.get(NAMESPACE, account.id), url)
    key = backoff_key(url, feeds.rsshub)
    blocked = Backoff.load(ctx.state.get(BACKOFF_NAMESPACE, key))
    if blocked is not None and blocked.until > started:
        reason = f"backing off {key} until {_iso(blocked.until)} ({blocked.reason}); not fetched"
        return _from_memo(
            account,
            memo,
            started,
            t0,
            success=False,
            reason=reason,
            recent_seconds=recent,
            extra={"backoff_until": blocked.until},
        )

    fetched = await ctx.net.fetch(
        url,
        timeout=feeds.timeout,
        max_bytes=feeds.max_bytes,
        headers=memo.conditional_headers() | {"Accept": ACCEPT},
        reuse=True,  # the feeds of one RSSHub share keep-alive connections (probes.net)
    )
    now = ctx.clock()
    backoff = next_backoff(blocked, fetched.status, fetched.failure, fetched.headers.get("retry-after"), now)
    if backoff is None:
        ctx.state.delete(BACKOFF_NAMESPACE, key)
    else:
        ctx.state.put(BACKOFF_NAMESPACE, key, backoff.dump())

    if fetched.status == 304 and fetched.ok and memo.has_reading:
        return _unchanged(account, ctx, memo.checked(now), started, t0, recent, status=304)
    failure = fetch_failure(fetched, feeds.max_bytes, backoff, now)
    if failure:
        return _from_memo(
            account,
            memo,
            started,
            t0,
            success=False,
            reason=failure,
            recent_seconds=recent,
            status=fetched.status,
            extra={"backoff_until": backoff.until} if backoff and backoff.until > now else {},
        )

    words_paths = tuple(getattr(ctx.config.content, "dictionaries", ()) or ())
    fingerprint = body_fingerprint(fetched.body, words_paths, _today(now))
    if memo.has_reading and memo.fingerprint and fingerprint == memo.fingerprint:
        # The same entries as last time (the feed's own build time aside): nothing to parse or judge.
        memo = replace(memo.checked(now), etag=fetched.headers.get("etag", ""),
                       last_modified=fetched.headers.get("last-modified", ""))  # fmt: skip
        return _unchanged(account, ctx, memo, started, t0, recent, status=fetched.status, same_body=True)
    parsed = parse(fetched.body, fetched.headers.get("content-type", ""))
    if parsed.error:
        return _from_memo(
            account, memo, started, t0, success=False, reason=parsed.error, recent_seconds=recent, status=fetched.status
        )
    reading = judge(parsed, memo, now, recent)
    words = serious.for_paths(words_paths)
    reading = replace(reading, posts=scan_posts(parsed.entries, words, _today(now)))
    new_memo = memo.updated(reading, fetched, now, fingerprint)
    ctx.state.put(NAMESPACE, account.id, new_memo.dump())
    return _result(account, reading, new_memo, started, t0, status=fetched.status)


def _unchanged(
    account: Account,
    ctx: ProbeContext,
    memo: Memo,
    started: float,
    t0: float,
    recent: float,
    *,
    status: int | None,
    same_body: bool = False,
) -> FeedResult:
    """The last reading again (a 304, or the same body): the memo kept, its findings standing."""
    ctx.state.put(NAMESPACE, account.id, memo.dump())
    extra = {"unchanged": True} | ({"same_body": True} if same_body else {})
    return _from_memo(
        account, memo, started, t0, success=True, reason="", recent_seconds=recent, status=status, extra=extra
    )


# --- remembered state --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Memo:
    """What the last successful reading of one account's feed left in the state."""

    url: str = ""
    etag: str = ""
    last_modified: str = ""
    last_entry: float | None = None
    entries: int = 0
    dates: tuple[float, ...] = ()  # newest trusted entry dates, newest first (for 304s)
    undated: tuple[str, ...] = ()  # keys of undated entries already seen
    seen_undated_before: bool = False  # a reading exists, so a new undated entry can be dated
    last_success: float | None = None
    format: str = ""
    newest_title: str = ""
    newest_link: str = ""
    posts: PostFindings = NO_POSTS  # wrong expressions and ID numbers of the last reading
    # body_fingerprint of the last reading, when reading the same body again would give the same
    # result (no notes, no date too far ahead to trust yet); "" otherwise
    fingerprint: str = ""

    @property
    def has_reading(self) -> bool:
        return self.last_success is not None

    @classmethod
    def load(cls, raw: Any, url: str) -> Memo:
        if not isinstance(raw, dict):
            return cls(url=url)
        try:
            memo = cls(
                url=str(raw.get("url", "")),
                etag=str(raw.get("etag", "")),
                last_modified=str(raw.get("last_modified", "")),
                last_entry=_float_or_none(raw.get("last_entry")),
                entries=int(raw.get("entries", 0)),
                dates=tuple(float(d) for d in raw.get("dates", ())),
                undated=tuple(str(k) for k in raw.get("undated", ())),
                seen_undated_before=bool(raw.get("seen_undated_before", False)),
                last_success=_float_or_none(raw.get("last_success")),
                format=str(raw.get("format", "")),
                newest_title=str(raw.get("newest_title", "")),
                newest_link=str(raw.get("newest_link", "")),
                posts=PostFindings.load(raw.get("posts")),
                fingerprint=str(raw.get("fingerprint", "")),
            )
        except (TypeError, ValueError):
            return cls(url=url)  # a damaged memo costs one conditional GET, nothing more
        if memo.url != url:
            # A new feed URL for the same account: its validators mean nothing there,
            # but the account's last known entry still stands.
            return cls(url=url, last_entry=memo.last_entry)
        return memo

    def dump(self) -> dict[str, Any]:
        found = {"posts": self.posts.dump()} if self.posts != NO_POSTS else {}
        return found | {
            "url": self.url,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "last_entry": self.last_entry,
            "entries": self.entries,
            "dates": list(self.dates),
            "undated": list(self.undated),
            "seen_undated_before": self.seen_undated_before,
            "last_success": self.last_success,
            "format": self.format,
            "newest_title": self.newest_title,
            "newest_link": self.newest_link,
            "fingerprint": self.fingerprint,
        }

    def conditional_headers(self) -> dict[str, str]:
        if not self.has_reading:
            return {}
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def checked(self, now: float) -> Memo:
        return replace(self, last_success=now)

    def updated(self, reading: Reading, fetched: Fetched, now: float, fingerprint: str = "") -> Memo:
        # A reading with notes, or with a date a day or more ahead (trusted once that day comes),
        # could read differently from the same body later: it keeps no fingerprint.
        exact = not reading.notes and not reading.future
        return Memo(
            url=self.url,
            etag=fetched.headers.get("etag", ""),
            last_modified=fetched.headers.get("last-modified", ""),
            last_entry=reading.last_entry,
            entries=reading.entries,
            dates=reading.dates[:KEEP_DATES],
            undated=reading.undated_keys[:KEEP_UNDATED],
            seen_undated_before=True,
            last_success=now,
            format=reading.format,
            newest_title=reading.newest_title,
            newest_link=reading.newest_link,
            posts=reading.posts,
            fingerprint=fingerprint if exact else "",
        )


# The feed's own build time, which RSSHub and many CMSs write as the time of the request: the
# only part of an unchanged feed that changes (RSS 2.0's channel <lastBuildDate>; Atom's feed-level
# <updated>, before the first <entry>).  Entries' own dates are never left out.
_RSS_BUILD = re.compile(rb"<lastBuildDate>[^<]{0,100}</lastBuildDate>")
_ATOM_UPDATED = re.compile(rb"<updated>[^<]{0,100}</updated>")


def body_fingerprint(body: bytes, dictionaries: tuple[str, ...], today: date) -> str:
    """A digest of what a reading of ``body`` depends on: the body without the feed's build time,
    the dictionaries the posts are checked with, and the day (the ID-number check knows the date).

    A feed fetched hourly that has not changed is not parsed again (issue 21: at national size
    150,000 feeds an hour, most of them unchanged between two fetches, and RSSHub answers 200 with
    a fresh <lastBuildDate> rather than 304)."""
    stripped = _RSS_BUILD.sub(b"", body, count=1)
    m = _ATOM_UPDATED.search(stripped)
    if m is not None and b"<entry" not in stripped[: m.start()]:
        stripped = stripped[: m.start()] + stripped[m.end() :]
    h = hashlib.blake2b(stripped, digest_size=16)
    h.update(repr((dictionaries, today.isoformat())).encode())
    return h.hexdigest()


def _float_or_none(v: Any) -> float | None:
    return None if v is None else float(v)


# --- judging (pure) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """One feed document judged against the clock and what was remembered."""

    format: str
    entries: int
    last_entry: float | None  # newest trusted date, or the remembered one if newer
    dates: tuple[float, ...]  # trusted dates, newest first
    entries_recent: int
    undated_keys: tuple[str, ...]
    future: int = 0  # dates more than FUTURE_SKEW ahead, not trusted
    ancient: int = 0  # dates before 2000, not trusted
    undated: int = 0
    dated_on_sight: int = 0  # undated entries new since the last reading, dated now
    newest_title: str = ""
    newest_link: str = ""
    notes: tuple[str, ...] = field(default=())
    posts: PostFindings = NO_POSTS


def judge(parsed: Parsed, memo: Memo, now: float, recent_seconds: float) -> Reading:
    """The newest trusted entry, the recent ones, and what could not be trusted."""
    dates: list[float] = []
    future = ancient = 0
    newest: tuple[float, str, str] | None = None
    known = set(memo.undated)
    undated_keys: list[str] = []
    dated_on_sight = 0
    for entry in parsed.entries:
        date = entry.date
        if date is None:
            undated_keys.append(entry.key)
            # Dating by first sight needs a document we trust to list entries faithfully.
            if not memo.seen_undated_before or entry.key in known or parsed.lenient:
                continue
            date, dated_on_sight = now, dated_on_sight + 1
        elif date < EPOCH_FLOOR:
            ancient += 1
            continue
        elif date > now + FUTURE_SKEW:
            future += 1
            continue
        date = min(date, now)
        dates.append(date)
        if newest is None or date > newest[0]:
            newest = (date, entry.title, entry.link)
    dates.sort(reverse=True)
    last = max((d for d in (newest[0] if newest else None, memo.last_entry) if d is not None), default=None)
    notes = list(parsed.notes)
    if future:
        notes.append(f"{future} entries dated more than a day ahead, not trusted")
    if ancient:
        notes.append(f"{ancient} entries dated before 2000, not trusted")
    if parsed.entries and not dates and not undated_keys:
        notes.append("no entry has a trustworthy date")
    elif undated_keys and not memo.seen_undated_before and not dates:
        notes.append("entries carry no dates; new ones will be dated when first seen")
    return Reading(
        format=parsed.format,
        entries=parsed.total_entries,
        last_entry=last,
        dates=tuple(dates),
        entries_recent=sum(1 for d in dates if d >= now - recent_seconds),
        undated_keys=tuple(undated_keys),
        future=future,
        ancient=ancient,
        undated=len(undated_keys),
        dated_on_sight=dated_on_sight,
        newest_title=newest[1] if newest else memo.newest_title,
        newest_link=newest[2] if newest else memo.newest_link,
        notes=tuple(notes),
    )


def not_deregistered(account: Account, success: bool, entries: int) -> bool:
    """A stopped account whose feed still answers with entries still exists: 停用 but not 注销."""
    return account.status == "stopped" and success and entries > 0


def fetch_failure(fetched: Fetched, max_bytes: int, backoff: Backoff | None, now: float) -> str:
    """Why a fetch gives nothing to read, or "" when the body is a candidate feed."""
    if fetched.failure is not None:
        if fetched.failure is Failure.TOO_LARGE:
            reason = f"feed larger than the {max_bytes // (1024 * 1024) or max_bytes} MiB limit (feeds.max_bytes)"
        else:
            reason = f"fetch failed: {fetched.error}"
    elif fetched.status is None or fetched.status >= 400 or fetched.status == 304:
        reason = _status_reason(fetched)
    else:
        return ""
    if backoff is not None and backoff.until > now:
        reason += f"; backing off until {_iso(backoff.until)}"
    return reason


def _status_reason(fetched: Fetched) -> str:
    status = fetched.status
    if status == 304:
        return "HTTP 304 but no earlier reading to reuse"
    if status == 429:
        return "HTTP 429 Too Many Requests (rate-limited)"
    if status == 404:
        return "HTTP 404: feed not found (RSSHub route broken, or account gone?)"
    if status in (401, 403):
        return f"HTTP {status}: access refused (anti-crawler?)"
    if status is not None and status >= 500:
        return f"HTTP {status}: the feed source failed" + _error_page_hint(fetched.body)
    return f"HTTP {status}"


_RSSHUB_MESSAGE = re.compile(rb"Error message:\s*([^<]{1,160})")


def _error_page_hint(body: bytes) -> str:
    """RSSHub's error page names the failure ("Error message: …"); other pages have a title."""
    if m := _RSSHUB_MESSAGE.search(body[:65536]):
        return f" «{m.group(1).decode('utf-8', 'replace').strip()}»"
    title = html_title(body)
    return f" «{title[:120]}»" if title else ""


# --- backoff -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    until: float
    strikes: int
    reason: str = ""

    @classmethod
    def load(cls, raw: Any) -> Backoff | None:
        if not isinstance(raw, dict):
            return None
        try:
            return cls(float(raw["until"]), int(raw["strikes"]), str(raw.get("reason", "")))
        except (KeyError, TypeError, ValueError):
            return None

    def dump(self) -> dict[str, Any]:
        return {"until": self.until, "strikes": self.strikes, "reason": self.reason}


def backoff_key(url: str, rsshub: str) -> str:
    """Who we are polite to: the feed's host, or for RSSHub routes the RSSHub host and the
    route's platform namespace (``/weibo``): the platform is what rate-limits RSSHub."""
    parts, hub = urlsplit(url), urlsplit(rsshub)
    key = parts.netloc.lower()
    if parts.netloc.lower() == hub.netloc.lower():
        rest = parts.path[len(hub.path.rstrip("/")) :] if parts.path.startswith(hub.path.rstrip("/")) else parts.path
        namespace = rest.strip("/").split("/", 1)[0]
        if namespace:
            key += "/" + namespace
    return key


def next_backoff(
    prev: Backoff | None, status: int | None, failure: Failure | None, retry_after: str | None, now: float
) -> Backoff | None:
    """The host's backoff after one answer; None when the host answered normally."""
    overloaded = status == 429 or (status is not None and status >= 500)
    unreachable = bool(failure) and failure is not Failure.TOO_LARGE
    if not overloaded and not unreachable:
        return None
    strikes = (prev.strikes if prev else 0) + 1
    wait = _retry_after(retry_after, now) if overloaded else None
    if status == 429 or wait is not None:
        delay = wait if wait is not None else min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (strikes - 1))
    elif strikes >= STRIKES:
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (strikes - STRIKES))
    else:
        delay = 0.0  # counted, not yet backing off
    what = f"HTTP {status}" if overloaded else "unreachable"
    return Backoff(now + delay, strikes, f"{what}, {strikes} in a row")


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return min(max(0.0, when - now), RETRY_AFTER_CAP)


def _today(now: float) -> date:
    return datetime.fromtimestamp(now, BEIJING).date()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- results -------------------------------------------------------------------------


def _base_details(account: Account, memo: Memo) -> dict[str, Any]:
    # Kept small: one of these lives in memory per account (bench/bench_feed.py).
    return {"last_success": memo.last_success}


def _result(account: Account, r: Reading, memo: Memo, started: float, t0: float, *, status: int | None) -> FeedResult:
    counts = {
        "undated_entries": r.undated,
        "dated_on_sight": r.dated_on_sight,
        "future_dates": r.future,
        "ancient_dates": r.ancient,
    }
    details = _base_details(account, memo) | {"newest_title": r.newest_title, "newest_link": r.newest_link}
    details |= {k: v for k, v in counts.items() if v}
    flagged = not_deregistered(account, True, r.entries)
    if flagged:
        details["not_deregistered"] = _finding(account, r.last_entry, r.entries, r.entries_recent)
    if r.posts != NO_POSTS:
        details["posts"] = r.posts.dump()
    return FeedResult(
        success=True,
        reason="; ".join(r.notes),
        started=started,
        duration_seconds=time.perf_counter() - t0,
        url=account.feed,
        status_code=status,
        last_entry=r.last_entry,
        entries=r.entries,
        entries_recent=r.entries_recent,
        not_deregistered=flagged,
        serious_errors=r.posts.serious_errors,
        privacy_leaks=r.posts.privacy_leaks,
        format=r.format,
        details=details,
    )


def _from_memo(
    account: Account,
    memo: Memo,
    started: float,
    t0: float,
    *,
    success: bool,
    reason: str,
    recent_seconds: float,
    status: int | None = None,
    extra: dict[str, Any] | None = None,
) -> FeedResult:
    """A result that reuses the remembered reading: after a 304, or when the feed failed
    (then only ``last_entry`` is kept — the counts of a feed we could not read are unknown)."""
    now = started
    entries = memo.entries if success else 0
    recent = sum(1 for d in memo.dates if d >= now - recent_seconds) if success else 0
    flagged = not_deregistered(account, success, entries)
    details = _base_details(account, memo) | (extra or {})
    if flagged:
        details["not_deregistered"] = _finding(account, memo.last_entry, entries, recent)
    # After a 304 the last reading's posts stand; a feed we could not read shows nothing (unknown).
    found = memo.posts if success else NO_POSTS
    if found != NO_POSTS:
        details["posts"] = found.dump()
    return FeedResult(
        success=success,
        reason=reason,
        started=started,
        duration_seconds=time.perf_counter() - t0,
        url=account.feed,
        status_code=status,
        last_entry=memo.last_entry,
        entries=entries,
        entries_recent=recent,
        not_deregistered=flagged,
        serious_errors=found.serious_errors,
        privacy_leaks=found.privacy_leaks,
        format=memo.format,
        unchanged=bool(extra and extra.get("unchanged")),
        backoff_until=(extra or {}).get("backoff_until"),
        details=details,
    )


def _finding(account: Account, last_entry: float | None, entries: int, recent: int) -> dict[str, Any]:
    return {
        "finding": "stopped account not deregistered (停用未注销)",
        "unit": account.unit,
        "platform": account.platform,
        "name": account.name,
        "entries": entries,
        "entries_recent": recent,
        "still_posting": recent > 0,
        "last_entry": last_entry,
    }
