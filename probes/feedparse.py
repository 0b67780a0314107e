"""Feed documents → entries with dates: RSS 0.9x/1.0/2.0, Atom, JSON Feed.

Pure functions, no I/O.  Two paths:

* a fast path with the standard library's ElementTree (expat: entity-expansion
  protection since expat 2.4) for well-formed RSS 2.0/0.9x, RSS 1.0/0.90 (RDF) and
  Atom 1.0 — about 50× cheaper than feedparser, which spends ~20 ms sanitising the
  HTML of a typical 50-entry feed we never look at (see ``bench/bench_feed.py``);
* feedparser for everything else (not well-formed XML, Atom 0.3, CDF, odd
  dialects), on documents up to :data:`LENIENT_MAX_BYTES` only, because its cost
  grows to seconds on a 4 MB feed.

JSON Feed (https://jsonfeed.org/version/1.1) is parsed here: feedparser does not.

Dates without a zone are read as Beijing time (UTC+8) **[ours]**: these are
Chinese government accounts, and RSSHub's Chinese routes often emit local times.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from domain.clock import BEIJING
from probes.content.decode import normalize

MAX_ENTRIES = 5000  # entries read per feed; feeds list newest first, a 50,000-entry feed costs no more
LENIENT_MAX_BYTES = 2 * 1024 * 1024  # feedparser only below this size (bounded CPU)
SUMMARY_CHARS = 2000  # of each entry's summary kept (a post's summary, not its article)

_DC = "{http://purl.org/dc/elements/1.1/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"
_RSS10 = "{http://purl.org/rss/1.0/}"
_RSS090 = "{http://my.netscape.com/rdf/simple/0.9/}"


@dataclass(frozen=True, slots=True)
class Entry:
    date: float | None  # Unix time as written in the feed (not yet judged); None: no usable date
    key: str  # a short stable hash of id/link/title, to recognise an undated entry again
    title: str = ""
    link: str = ""
    # The entry's summary as written (RSS description, Atom summary, JSON Feed summary, clipped to
    # SUMMARY_CHARS; often HTML): read for wrong expressions and ID numbers (probes.posts).
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A feed document read.  ``error`` set: not a usable feed (and ``entries`` is empty)."""

    format: str = ""  # rss2.0 | rss1.0 | rss0.90 | atom | json | feedparser:<version>
    entries: tuple[Entry, ...] = ()
    total_entries: int = 0  # entries in the document, including those beyond MAX_ENTRIES
    title: str = ""
    error: str = ""
    notes: tuple[str, ...] = ()  # partial reads: replaced bytes, entries skipped, bozo with entries
    parser: str = ""  # fast | json | feedparser
    lenient: bool = False  # read from a document that is not well-formed: entries may be debris


def parse(body: bytes, content_type: str = "") -> Parsed:
    """Read ``body`` as a feed; never raises."""
    try:
        return _parse(body, content_type.lower())
    except Exception as e:  # noqa: BLE001 — a hostile document is a finding, not a crash
        return Parsed(error=f"unreadable feed: {type(e).__name__}: {e}")


def _parse(body: bytes, content_type: str) -> Parsed:
    head = _head(body)
    if not head:
        return Parsed(error="empty response body")
    if _looks_html(head):
        title = html_title(body)
        return Parsed(
            error="an HTML page instead of a feed (error or anti-crawler page?)"
            + (f": «{title[:80]}»" if title else "")
        )
    if head.startswith(b"{") or head.startswith(b"[") or ("json" in content_type and not head.startswith(b"<")):
        return parse_json_feed(body)
    if b"<!entity" in head or b"<!ENTITY" in body[:65536]:
        # Feeds never declare entities; billion-laughs documents do (expat would stop them, after ~1 s of CPU).
        return Parsed(error="refused: the document declares its own XML entities (entity-expansion attack?)")
    text, notes = decode_xml(body, content_type)
    fast = _parse_xml_fast(text)
    if fast is not None:
        return _with_notes(fast, notes)
    if len(body) > LENIENT_MAX_BYTES:
        return Parsed(error=f"not well-formed XML, and at {len(body)} bytes too large for the lenient parser")
    return _with_notes(_parse_feedparser(body, content_type), notes)


def _with_notes(p: Parsed, notes: tuple[str, ...]) -> Parsed:
    if not notes or p.error:
        return p
    return Parsed(p.format, p.entries, p.total_entries, p.title, p.error, notes + p.notes, p.parser, p.lenient)


def _head(body: bytes) -> bytes:
    """The document's first bytes, lower-cased, without BOM, whitespace or XML declaration/comments."""
    head = body[:4096]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            head = head[len(bom) :]
            if bom is not codecs.BOM_UTF8:
                head = head.decode("utf-16", "ignore").encode("utf-8")
            break
    head = head.lstrip().lower()
    while head.startswith(b"<?") or head.startswith(b"<!--"):
        end = head.find(b"?>" if head.startswith(b"<?") else b"-->")
        if end < 0:
            break
        head = head[end + (2 if head.startswith(b"<?") else 3) :].lstrip()
    return head


def _looks_html(head: bytes) -> bool:
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<script", b"<div"))


_TITLE = re.compile(rb"<title[^>]*>([^<]{1,200})</title>", re.I)


def html_title(body: bytes) -> str:
    """The ``<title>`` of an HTML page (an error or anti-crawler page served instead of a feed), or ""."""
    m = _TITLE.search(body[:65536])
    if not m:
        return ""
    raw = m.group(1)
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc).strip()
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace").strip()


# --- encodings -----------------------------------------------------------------

_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._-]+)")


def decode_xml(body: bytes, content_type: str) -> tuple[str, tuple[str, ...]]:
    """Text of an XML document: BOM, then the HTTP charset (RFC 7303), then the XML
    declaration, then UTF-8 and GB18030 — the first that decodes strictly.  When none
    does, the first candidate with replacement characters, and a note saying so."""
    candidates: list[str] = []
    if body.startswith(codecs.BOM_UTF8):
        candidates.append("utf-8-sig")
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.append("utf-16")
    if m := _CHARSET.search(content_type):
        candidates.append(m.group(1))
    if declared := _XML_ENCODING.match(body[:512]):
        candidates.append(declared.group(1).decode("ascii"))
    candidates += ["utf-8", "gb18030"]
    # (normalize reads GB2312 and GBK as GB18030, their superset: documents routinely need it.)
    codecs_ = [c for c in dict.fromkeys(normalize(n) for n in candidates) if c]
    for codec in codecs_:
        try:
            return body.decode(codec), ()
        except UnicodeDecodeError:
            continue
    bad = body.decode(codecs_[0], errors="replace").count("\ufffd")
    return body.decode(codecs_[0], errors="replace"), (f"not valid {codecs_[0]}: {bad} undecodable bytes replaced",)


# --- dates ---------------------------------------------------------------------

_CN_DATE = re.compile(
    r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})\s*日?(?:\D{0,3}(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)


def parse_date(text: str | None) -> float | None:
    """Unix time of an RFC 822, ISO 8601 / RFC 3339 or 2024年5月1日-style date; None if unreadable."""
    if not text:
        return None
    text = text.strip()
    if not text:
        return None
    dt: datetime | None = None
    try:
        dt = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            dt = None
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=BEIJING)
        try:
            return dt.timestamp()
        except (OverflowError, ValueError, OSError):
            return None
    return _parse_date_lenient(text)


def _parse_date_lenient(text: str) -> float | None:
    m = _CN_DATE.search(text)
    if m:
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        try:
            return datetime(y, mo, d, h, mi, s, tzinfo=BEIJING).timestamp()
        except (ValueError, OverflowError):
            return None
    from feedparser.datetimes import _parse_date  # the many dialects feedparser knows

    return _struct_time(_parse_date(text))


def _struct_time(parsed: Any) -> float | None:
    """A UTC ``time.struct_time`` (feedparser's dates) as Unix time."""
    if parsed is None:
        return None
    try:
        return float(calendar.timegm(parsed))
    except (ValueError, OverflowError, TypeError):
        return None


def entry_key(*parts: str | None) -> str:
    ident = next((p for p in parts if p), "")
    return hashlib.blake2b(ident.encode("utf-8", "replace"), digest_size=6).hexdigest()


# --- the fast XML path -----------------------------------------------------------


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _parse_xml_fast(text: str) -> Parsed | None:
    """RSS/RDF/Atom 1.0 with ElementTree; None when not well-formed or not one of those."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    tag = root.tag
    if tag == "rss" or tag == "channel":
        channel = root.find("channel") if tag == "rss" else root
        if channel is None:
            return None
        version = root.get("version", "2.0") if tag == "rss" else "2.0"
        items = channel.findall("item") or root.findall("item")
        return _rss(f"rss{version}", _text(channel.find("title")), items, "")
    if tag == _RDF:
        for ns, fmt in ((_RSS10, "rss1.0"), (_RSS090, "rss0.90")):
            channel = root.find(f"{ns}channel")
            items = root.findall(f"{ns}item")
            if channel is not None or items:
                return _rss(fmt, _text(channel.find(f"{ns}title")) if channel is not None else "", items, ns)
        return None
    if tag == f"{_ATOM}feed":
        return _atom(root)
    return None


def _rss(fmt: str, title: str, items: list[ET.Element], ns: str) -> Parsed:
    entries = []
    for item in items[:MAX_ENTRIES]:
        date = parse_date(_text(item.find("pubDate")) or _text(item.find(f"{_DC}date")))
        link = _text(item.find(f"{ns}link"))
        t = _text(item.find(f"{ns}title"))
        guid = _text(item.find("guid"))
        summary = _text(item.find(f"{ns}description"))[:SUMMARY_CHARS]
        entries.append(Entry(date, entry_key(guid, link, t), t[:200], link[:500], summary))
    return Parsed(fmt, tuple(entries), len(items), title, notes=_skipped(len(items)), parser="fast")


def _atom(root: ET.Element) -> Parsed:
    items = root.findall(f"{_ATOM}entry")
    entries = []
    for item in items[:MAX_ENTRIES]:
        date = parse_date(_text(item.find(f"{_ATOM}published")) or _text(item.find(f"{_ATOM}updated")))
        link_el = item.find(f"{_ATOM}link[@rel='alternate']")
        if link_el is None:
            link_el = item.find(f"{_ATOM}link")
        link = link_el.get("href", "") if link_el is not None else ""
        t = _text(item.find(f"{_ATOM}title"))
        summary = _text(item.find(f"{_ATOM}summary"))[:SUMMARY_CHARS]
        entries.append(Entry(date, entry_key(_text(item.find(f"{_ATOM}id")), link, t), t[:200], link[:500], summary))
    return Parsed(
        "atom", tuple(entries), len(items), _text(root.find(f"{_ATOM}title")), notes=_skipped(len(items)), parser="fast"
    )


def _skipped(total: int) -> tuple[str, ...]:
    return (f"only the first {MAX_ENTRIES} of {total} entries read",) if total > MAX_ENTRIES else ()


# --- JSON Feed -------------------------------------------------------------------


def parse_json_feed(body: bytes) -> Parsed:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        return Parsed(error=f"not a feed: invalid JSON ({e})")
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith("https://jsonfeed.org/version/"):
        hint = ""
        if isinstance(doc, dict) and ("error" in doc or "message" in doc):
            hint = f": {str(doc.get('error') or doc.get('message'))[:120]}"
        return Parsed(error=f"JSON but not a JSON Feed (no jsonfeed.org version){hint}")
    items = doc.get("items")
    if not isinstance(items, list):
        return Parsed(error="JSON Feed without an items list")
    entries = []
    for item in items[:MAX_ENTRIES]:
        if not isinstance(item, dict):
            continue
        date = parse_date(_s(item.get("date_published")) or _s(item.get("date_modified")))
        link, t = _s(item.get("url")), _s(item.get("title"))
        summary = _s(item.get("summary"))[:SUMMARY_CHARS]
        entries.append(Entry(date, entry_key(_s(item.get("id")), link, t), t[:200], link[:500], summary))
    return Parsed(
        "json" + str(doc["version"]).rsplit("/", 1)[-1],
        tuple(entries),
        len(items),
        _s(doc.get("title")),
        notes=_skipped(len(items)),
        parser="json",
    )


def _s(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ""


# --- the lenient path --------------------------------------------------------------


def _parse_feedparser(body: bytes, content_type: str) -> Parsed:
    import feedparser  # heavy; only odd feeds need it

    d = feedparser.parse(
        body,
        response_headers={"content-type": content_type or "application/xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    items = d.entries
    if d.bozo and not items:
        exc = d.get("bozo_exception")
        return Parsed(error=f"not a feed: {_bozo(exc)}")
    if not d.version and not items:
        return Parsed(error="not a feed: no RSS, Atom or RDF structure found")
    entries = []
    debris = 0
    for item in items[:MAX_ENTRIES]:
        raw = item.get("published") or item.get("updated") or item.get("created")
        date = parse_date(raw)
        if date is None:
            date = _struct_time(item.get("published_parsed") or item.get("updated_parsed"))
        link, t, ident = str(item.get("link", "")), str(item.get("title", "")), str(item.get("id", ""))
        if not (link or t or ident or date):
            debris += 1  # the remains of a broken document, not an entry
            continue
        summary = str(item.get("summary", ""))[:SUMMARY_CHARS]
        entries.append(Entry(date, entry_key(ident, link, t), t[:200], link[:500], summary))
    if d.bozo and not entries:
        return Parsed(error=f"not a feed: {_bozo(d.get('bozo_exception'))}")
    notes = _skipped(len(items))
    if d.bozo:
        notes += (f"feed is not well-formed ({_bozo(d.get('bozo_exception'))}); entries read leniently",)
    return Parsed(
        f"feedparser:{d.version or 'unknown'}",
        tuple(entries),
        len(items) - debris,
        str(d.feed.get("title", "")),
        notes=notes,
        parser="feedparser",
        lenient=bool(d.bozo),
    )


def _bozo(exc: Any) -> str:
    if exc is None:
        return "malformed"
    text = str(getattr(exc, "getMessage", lambda: exc)())
    return f"malformed XML ({text[:120]})"
