"""The year of dates written without one (``[10-11]``), from evidence on the page (issue 9).

A homepage that prints ``10-11`` beside ``2023-10-11`` was made in 2023, whatever
today's calendar says; read against today, a homepage abandoned more than a year
ago would look fresh, the worst error for a tool that warns before the inspector.
So the year comes from evidence, in this order:

1. the item's own URL, when it carries its date: ``./202310/t20231011_2290635.html``,
   ``/art/2023/10/11/art_…``, ``/2023-10/11/``, or at least year and month
   (``/202310/…``) when the month agrees;
2. the article identifiers (:func:`article_id`: a CMS numbers articles in the order they are
   written): an item written before one whose date carries its year (a higher id of the same
   scheme) was published on or before that day, one written after a dated item (a lower id) on
   or after it.  A block abandoned for two years that prints ``[10-11]`` beside fresh dated items
   has lower ids than they: its year is read from the ids, not from the fresh items;
3. the newest instant the page is known to be from, the *reference*: full dates
   written beside other items, dates in item URLs, the standard's
   ``<meta name="PubDate">``, HTTP ``Last-Modified`` (unless the server stamps
   every answer with the time of the request), and our own history: when the
   item list was last seen to change (every item on an unchanged list was there,
   so published, by then).  A month-day takes the year that
   puts it on or before the reference plus :data:`SLACK` (a week: the blocks of a
   live homepage are updated within days of each other), so an inferred date is
   never more than a week newer than the page's own evidence;
4. nothing: the item stays without a date and the page says so (``notes``); the
   caller then falls back to when the item list last changed.  A guessed year is
   never presented as a publication.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from domain.clock import BEIJING
from probes.content import dates

if TYPE_CHECKING:
    from probes.content.extract import Item

# Dates in item URLs, as the common CMSs write them (TRS, 大汉 JCMS, 拓尔思/开普云 …).
_URL_FULL = (
    re.compile(r"/t(20\d{2})(\d{2})(\d{2})_\d+"),  # TRS: ./202310/t20231011_2290635.html
    re.compile(r"/art/(20\d{2})/(\d{1,2})/(\d{1,2})/"),  # JCMS: /art/2023/10/11/art_1234_5678.html
    re.compile(r"/(20\d{2})-(\d{2})/(\d{2})/"),  # /2023-10/11/c_1129910.htm
    re.compile(r"/(20\d{2})(\d{2})(\d{2})/"),  # /20231011/
    re.compile(r"/(20\d{2})-(\d{2})-(\d{2})/"),  # /2023-10-11/
)
_URL_MONTH = re.compile(r"/(20\d{2})-?(\d{2})/")  # /202310/f7747480….shtml, /2023-10/
# Article identifiers: a CMS numbers its articles in the order they are written (TRS ``t…_2290635``,
# JCMS ``art_1234_5678``, 博达 ``/info/1041/31887.htm``, ``show.asp?id=1234``), so a higher id was
# written later.  The last run of at least three digits of the URL's last segment, or an id parameter.
# The last segment's stem is a number, or a short prefix and numbers: ``t20231011_2290635``, ``art_12_5678``,
# ``content_16815``, ``31887``; a hex digest (``02264b867b4b….shtml``) holds digits but no id.
_ID_STEM = re.compile(r"^(?:[A-Za-z]{1,12}[-_]?)?(?:\d+[-_])*(\d{3,})$")
_ID_PARAM = re.compile(r"(?:^|&)(id|articleid|newsid|docid|infoid|contentid|messagekey|aid)=(\d{3,})(?:&|$)", re.I)
_DIGITS = re.compile(r"\d+")
FRESH_STAMP = 3600.0  # a Last-Modified within this of the request is the server's clock, not the page's
SLACK = 7 * 86400.0  # how much newer than the page's newest evidence an inferred date may be


@lru_cache(maxsize=8192)
def url_date(url: str) -> tuple[int, int, int] | None:
    """(year, month, day) an item's URL carries; day 0 when only year and month; None when nothing."""
    if "/20" not in url:
        return None
    for pattern in _URL_FULL:
        if m := pattern.search(url):
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if 1 <= mo <= 12 and 1 <= d <= 31 and dates.to_timestamp(y, mo, d) is not None:
                return y, mo, d
    if m := _URL_MONTH.search(url):
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            return y, mo, 0
    return None


@lru_cache(maxsize=8192)
def article_id(url: str) -> tuple[str, int] | None:
    """(scheme, number) of an item's article identifier; ids compare only within one scheme (the host and
    the shape of the last segment: ``t#_#.html``), as different CMSs of one site number apart."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    host, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    last = path.partition("#")[0].rsplit("/", 1)[-1]
    if query and (m := _ID_PARAM.search(query.partition("#")[0])):
        return f"{host.lower()}|{_DIGITS.sub('#', last)}?{m.group(1).lower()}", int(m.group(2))
    if m := _ID_STEM.match(last.rsplit(".", 1)[0]):
        return f"{host.lower()}|{_DIGITS.sub('#', last)}", int(m.group(1))
    return None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, BEIJING).date().isoformat()


def reference(
    items: Sequence[Item],
    now: float,
    pubdate: str = "",
    last_modified: float | None = None,
    unchanged_since: float | None = None,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The newest instant the page is known to be from, and every piece of evidence considered."""
    evidence: list[dict[str, Any]] = []
    written = [i for i in items if i.published is not None]
    if written:
        best = max(written, key=lambda i: i.published or 0.0)
        evidence.append(
            {
                "source": "full dates beside items",
                "timestamp": best.published,
                "count": len(written),
                "example": f"{best.date_text} {best.title[:40]}",
            }
        )
    in_urls = []
    for i in items:
        if (ud := url_date(i.url)) and ud[2]:
            ts, problem = dates._verdict(ud[0], ud[1], ud[2], 0, 0, 0, now)
            if not problem:
                in_urls.append((ts, i.url))
    if in_urls:
        ts, url = max(in_urls)
        evidence.append({"source": "dates in item URLs", "timestamp": ts, "count": len(in_urls), "example": url})
    if pubdate:
        usable = [d for d in dates.find_full(pubdate, now) if not d.problem]
        if usable:
            evidence.append({"source": "meta PubDate", "timestamp": usable[0].timestamp, "example": pubdate[:40]})
    if last_modified is not None:
        if last_modified < now - FRESH_STAMP:
            evidence.append(
                {"source": "HTTP Last-Modified", "timestamp": last_modified, "example": _iso(last_modified)}
            )
        else:
            evidence.append(
                {
                    "source": "HTTP Last-Modified",
                    "timestamp": None,
                    "example": "the time of the request: the server's clock, not evidence",
                }
            )
    if unchanged_since is not None:
        evidence.append(
            {
                "source": "our history: the item list unchanged since",
                "timestamp": unchanged_since,
                "example": _iso(unchanged_since),
            }
        )
    usable_evidence = [e for e in evidence if e["timestamp"] is not None]
    best_evidence = max(usable_evidence, key=lambda e: e["timestamp"]) if usable_evidence else None
    return best_evidence, evidence


def resolve(
    items: Sequence[Item],
    now: float,
    pubdate: str = "",
    last_modified: float | None = None,
    unchanged_since: float | None = None,
) -> tuple[list[Item], dict[str, Any], list[str]]:
    """Give each item dated only by a month-day its year from evidence (see the module's docstring).

    Returns the items, a report for ``/api/`` (which evidence, how many items each way) and notes."""
    pending = [i for i in items if i.month_day is not None and i.published is None]
    if not pending:
        return list(items), {}, []
    ref, evidence = reference(items, now, pubdate, last_modified, unchanged_since)
    known = _known(items) if any(article_id(i.url) for i in pending) else {}
    counts = {"item URL": 0, "article ids": 0, "page evidence": 0, "unknown": 0, "unusable": 0}
    out = []
    for item in items:
        md = item.month_day
        if md is None or item.published is not None:
            out.append(item)
            continue
        year, source = _year(item.url, md, ref, _bounds(item.url, known), now)
        if year is None:
            counts["unknown"] += 1
            out.append(replace(item, year_from="unknown"))
            continue
        ts, problem = dates.judge_month_day(md, year, now)
        if problem:
            counts["unusable"] += 1
            out.append(replace(item, year_from=f"{source}: {problem}"))
            continue
        counts[source] += 1
        out.append(replace(item, published=ts, date_text=f"{md.text} ({year})", year_from=source))
    report: dict[str, Any] = {
        "month_day_items": len(pending),
        "year_from_item_url": counts["item URL"],
        "year_from_article_ids": counts["article ids"],
        "year_from_page_evidence": counts["page evidence"],
        "year_unknown": counts["unknown"],
        "unusable": counts["unusable"],
        "reference": _public(ref) if ref else None,
        "evidence": [_public(e) for e in evidence],
    }
    notes = []
    if counts["unknown"]:
        notes.append(
            f"{counts['unknown']} items show dates without a year and the page gives no evidence of "
            "the year: they are not counted as updates"
        )
    return out, report, notes


def _year(
    url: str,
    md: dates.MonthDay,
    ref: dict[str, Any] | None,
    bounds: tuple[float | None, float | None],
    now: float,
) -> tuple[int | None, str]:
    ud = url_date(url)
    if ud is not None and ud[1] == md.month and (ud[2] in (0, md.day)):
        return ud[0], "item URL"
    after, before = bounds
    ceiling = ref["timestamp"] + SLACK if ref is not None else None
    if before is not None and (ceiling is None or before < ceiling):
        # Written before an item whose date carries its year: on or before that item's day.
        year, source, ceiling = dates.infer_year(md.month, md.day, before), "article ids", before
    elif ceiling is not None:
        year, source = dates.infer_year(md.month, md.day, ceiling), "page evidence"
    else:
        return None, "unknown"
    start = dates.to_timestamp(year, md.month, md.day)
    if after is not None and start is not None and start < after:
        # Written after an item of a later day than that: the year after, unless an item written later
        # says otherwise or it would be after today (then the ids of the page do not follow one sequence).
        later = dates.to_timestamp(year + 1, md.month, md.day)
        if later is not None and later <= (before if before is not None else now):
            return year + 1, "article ids"
    return year, source


def _known(items: Sequence[Item]) -> dict[str, list[tuple[int, float, float]]]:
    """Per article-id scheme: (id, first, last instant of its publication day or month) of the items whose
    date carries its year (written beside it, or in its URL)."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for i in items:
        if (aid := article_id(i.url)) is None:
            continue
        if i.published is not None:
            first = last = i.published
        elif (ud := url_date(i.url)) is not None:
            y, mo, d = ud
            first = dates.to_timestamp(y, mo, d or 1) or 0.0
            last = first if d else (dates.to_timestamp(y + mo // 12, mo % 12 + 1, 1) or first) - 1
        else:
            continue
        out.setdefault(aid[0], []).append((aid[1], first, last))
    return out


def _bounds(url: str, known: dict[str, list[tuple[int, float, float]]]) -> tuple[float | None, float | None]:
    """(published no earlier than, published no later than) an item, from the ids of the dated items around
    it: a lower id was written before it, a higher one after."""
    aid = article_id(url) if known else None
    if aid is None or aid[0] not in known:
        return None, None
    scheme, n = aid
    after = max((first for i, first, _ in known[scheme] if i < n), default=None)
    before = min((last for i, _, last in known[scheme] if i > n), default=None)
    return after, before


def _public(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in e.items() if k != "timestamp"}
    if e.get("timestamp") is not None:
        out["date"] = _iso(e["timestamp"])
    return out
