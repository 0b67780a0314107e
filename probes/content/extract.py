"""HTML → what the content judges need: visible text, items, links, navigation.

Parsing uses selectolax's lexbor engine (fast, forgiving with broken HTML).  All
work is bounded: lexbor's cost grows with the square of the nesting depth, so
a page nested deeper than :data:`MAX_DEPTH` is cut where it gets that deep
(a partial result with a note); anchors, items and text are capped too.

An *item* is a link inside a list entry, table row or a small block that holds
only that link (``<li><a>标题</a><span>2026-11-20</span></li>``); failing that,
a block of at most three links (title, source, "more") or the link's following
sibling (``<a>标题</a><span>[11-20]</span>`` in a block of many links).  Its date
is the newest usable date written beside the title; a date inside the title
counts only when it ends the title (``<a>标题2018年03月20日</a>``).  Dates shown
for another reason never count: the header's "今天是2026年11月20日 星期五" (no
link beside it), copyright years (not a day), and dates after today (a meeting
announced for next month).  A month-day without a year (``[11-20]``) gets its
year from evidence (:mod:`probes.content.years`), never from today's calendar.

Text is the *visible* text (:mod:`probes.content.visible`): hidden and
off-screen elements, comments, ``<noscript>`` and ``<template>`` do not count as
shown; the links they hide are kept apart for :mod:`probes.content.hidden_links`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from probes.content import dates, embeds, meta, visible, years

MAX_DEPTH = 1500
MAX_ANCHORS = 5000  # anchors examined for items and navigation
MAX_ITEM_TEXT = 400  # a "container" longer than this is a block of content, not one item
MAX_TEXT = 200_000  # characters of visible text kept (head and tail: the footer matters)
MAX_IGNORED = 30
MAX_FRAMES = 200
MAX_HANDLERS = 50
MAX_INLINE_CODE = 500_000
MAX_BLOCK_LINKS = 3  # a block with this many links or fewer is one item (title, source, "more")

SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "#", "sms:", "vbscript:")
_ITEM_TAGS = frozenset(("li", "tr", "dd", "dt"))
_STOP_TAGS = frozenset(("body", "html", "ul", "ol", "table", "tbody", "thead", "nav", "dl", "form"))
_BLOCK_TAGS = frozenset(("div", "p", "td", "section", "article", "span", "h2", "h3", "h4", "h5", "h6", "em", "font"))
_VOID = "area base br col embed hr img input link meta param source track wbr"
# Tags the parser closes by itself (so an unclosed one does not deepen the tree), and formatting
# tags bounded by the adoption agency algorithm.
_SELF_CLOSING = (
    "p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption rb rt rp html head body "
    "b i u s em strong font small big tt strike nobr code a !doctype"
)
_FLAT = frozenset((_VOID + " " + _SELF_CLOSING).split())  # tags that do not deepen the tree
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,15})")
_TAG_NAME = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]{0,15})")  # the same tags: "div", "/div"


class _Steps(dict[str, int]):
    """Tag as matched by ``_TAG_NAME`` -> its depth step (+1, -1, 0 for flat tags); remembers the names seen
    (bounded), so the running depth of a page is a sum done in C: ``accumulate(map(steps.__getitem__, …))``."""

    def __missing__(self, key: str) -> int:
        closing = key[0] == "/"
        step = 0 if (key[1:] if closing else key).lower() in _FLAT else -1 if closing else 1
        if len(self) < 4096:
            self[key] = step
        return step


_STEPS = _Steps()
_DISPLAY = re.compile(r"今天|今日|当前|现在是|星期|礼拜|周[一二三四五六日天]|农历|天气")
_COPYRIGHT = re.compile(r"©|copyright|版权|\(c\)", re.I)
_NAV_HINTS = ("nav", "menu", "daohang", "lanmu", "column", "channel")
# Navigation containers: a <nav>, or an element whose class or id says so; their links are the navigation.
_NAV_CONTAINERS = ", ".join(["nav"] + [f"[{attr}*={hint} i]" for hint in _NAV_HINTS for attr in ("class", "id")])
_WS = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
# Utility links of the page header sit beside the header's date display; they are never items.
_UTILITY = re.compile(
    r"设为首页|加入收藏|收藏本站|无障碍|适老|关怀版|长者|登录|注册|繁體|繁体|简体|english|手机版|移动版|读屏|"
    r"智能问答|站内搜索|高级搜索",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Item:
    title: str
    url: str
    published: float | None = None
    date_text: str = ""
    month_day: dates.MonthDay | None = None  # a date written without a year, until its year is known
    year_from: str = ""  # "" (written), "item URL", "page evidence", "unknown"

    def as_dict(self) -> dict[str, Any]:
        out = {"title": self.title, "url": self.url, "published": self.published, "date": self.date_text}
        if self.year_from:
            out["year_from"] = self.year_from
        return out


@dataclass(frozen=True, slots=True)
class Page:
    title: str = ""
    text: str = ""  # visible text, capped (head and tail)
    items: tuple[Item, ...] = ()  # in document order; dated and undated
    anchors: tuple[tuple[str, str], ...] = ()  # (text, url) of every anchor examined, for the fingerprint
    nav: tuple[tuple[str, str], ...] = ()  # (name, url) of navigation links
    resource_urls: tuple[str, ...] = ()  # script/img/link/iframe sources (compliance marks)
    alt_text: str = ""  # alt/title attributes of images and links (the marks are often images)
    ignored_dates: tuple[dict[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())
    meta: dict[str, str] = field(default_factory=dict)  # the standard's meta tags (probes.content.meta)
    scripts: tuple[embeds.Script, ...] = ()  # external scripts and URLs written by inline scripts (resolved)
    hidden_anchors: tuple[
        dict[str, str], ...
    ] = ()  # links inside hidden elements: {"text", "url", "hidden_by", "element", "role"}
    hidden_elements: int = 0
    year_report: dict[str, Any] = field(default_factory=dict)  # how month-days got their year (years.resolve)
    frames: tuple[dict[str, str], ...] = ()  # iframes: {"url", "hidden_by" ("" when shown), "element"} (malware)
    # onclick handlers of the error-report entry (compliance): "<onclick> <img src>" of images with one, and
    # every handler that names jiucuo (``OpenUrl('…/exposure/jiucuo.html?site_code=…')``)
    handlers: tuple[str, ...] = ()
    inline_code: str = ""  # the code of the inline scripts, joined and capped (malware: miners' start calls)

    @property
    def dated_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.published is not None)

    @property
    def newest(self) -> float | None:
        return max((i.published for i in self.items if i.published is not None), default=None)


def depth_cut(html: str, limit: int = MAX_DEPTH) -> int | None:
    """Offset where the element nesting first exceeds ``limit`` (estimated), or None."""
    if html.count("<") < limit:  # cannot nest that deep
        return None
    if max(accumulate(map(_STEPS.__getitem__, _TAG_NAME.findall(html))), default=0) <= limit:
        return None
    # Rare (hostile) case: find where it happened.
    depth = 0
    for m in _TAG.finditer(html):
        if m.group(2).lower() in _FLAT:
            continue
        depth = depth - 1 if m.group(1) else depth + 1
        if depth > limit:
            return m.start()
    return None


def parse_tree(html: str) -> tuple[LexborHTMLParser, list[str]]:
    notes = []
    if (cut := depth_cut(html)) is not None:
        notes.append(f"HTML nested deeper than {MAX_DEPTH} elements: read the first {cut} characters only")
        html = html[:cut]
    return LexborHTMLParser(html), notes


def clean_url(href: str, base: str) -> str | None:
    """An absolute http(s) URL without fragment, or None for links that are not checkable pages."""
    # Fastest path, the commonest link: "/path" on a page whose origin is a well-formed http(s) one.
    if href[:1] == "/" and href[1:2] != "/" and (origin := _good_origin(base)):
        return origin + href.rstrip().partition("#")[0]
    href = href.strip()
    if not href or href.lower().startswith(SKIP_SCHEMES):
        return None
    # Fast paths for the two common forms (urljoin costs tens of microseconds a link).
    if href.startswith(("http://", "https://")) and " " not in href:
        url = href
    elif href.startswith("/") and not href.startswith("//") and (origin := _origin(base)):
        url = origin + href
    else:
        try:
            url = urljoin(base, href)
        except ValueError:
            return None
    url = url.partition("#")[0]
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https"):
        return None
    host, slash, _ = rest.partition("/")
    if not host or host.startswith((":", "@")):
        return None
    if not host.isascii() or "[" in host or "]" in host:
        # A broken IPv6 literal or a host that NFKC-normalises to a delimiter ("a／b"): urlsplit, which every
        # user of these URLs calls, would raise on it.  Not a checkable page.
        try:
            urlsplit(url)
        except ValueError:
            return None
    return url if slash else url + "/"


@lru_cache(maxsize=1024)
def _origin(base: str) -> str:
    try:
        parts = urlsplit(base)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


@lru_cache(maxsize=1024)
def _good_origin(base: str) -> str:
    """``_origin(base)`` when the general path of :func:`clean_url` would keep any "/path" on it unchanged."""
    origin = _origin(base)
    scheme, _, host = origin.partition("://")
    return origin if origin and "/" not in host and "#" not in host and not host.startswith((":", "@")) else ""


def visible_text(tree: LexborHTMLParser) -> str:
    tree.strip_tags(["script", "style", "noscript", "template", "svg"])
    root = tree.body or tree.root
    text = root.text(separator="\n", strip=True) if root is not None else ""
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT * 3 // 4] + "\n…\n" + text[-MAX_TEXT // 4 :]
    return text


def parse(
    html: str, base_url: str, now: float, last_modified: float | None = None, unchanged_since: float | None = None
) -> Page:
    """Read one page (already decoded).  Pure: no I/O, ``now`` for dates; ``last_modified`` (the HTTP
    header, when the server sent one) and ``unchanged_since`` (since when we have seen this item list
    unchanged) as evidence of the year of dates written without one."""
    tree, notes = parse_tree(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True)[:200] if title_node is not None else ""
    tags = meta.read(tree)
    resources, alts = _resources(tree, base_url)
    scripts = tuple(_resolved(embeds.scripts(tree, html), base_url))
    inline_code = _inline_code(tree)
    items, anchors, nav, ignored, anchor_notes = _anchors(tree, base_url, now)
    items, year_report, year_notes = years.resolve(items, now, tags.get("PubDate", ""), last_modified, unchanged_since)
    hidden = visible.hidden_elements(tree)
    hidden_anchors = _hidden_anchors(hidden, base_url)
    frames = _frames(tree, hidden, base_url)
    handlers = _handlers(tree)
    fragments = embeds.script_html(tree, html)
    visible.remove(hidden)
    text = visible_text(tree)
    if fragments:  # what inline scripts insert (a footer built as a string) is shown too
        written, written_links, written_hidden = _script_written(fragments, base_url)
        text = f"{text}\n{written}" if written else text
        scripts += tuple(written_links)
        hidden_anchors += written_hidden
    return Page(
        title=title,
        text=text,
        items=tuple(items),
        anchors=tuple(anchors),
        nav=tuple(nav),
        resource_urls=tuple(resources),
        alt_text=alts,
        ignored_dates=tuple(ignored[:MAX_IGNORED]),
        notes=tuple(notes + anchor_notes + year_notes),
        meta=tags,
        scripts=scripts,
        hidden_anchors=tuple(hidden_anchors),
        hidden_elements=len(hidden),
        year_report=year_report,
        frames=tuple(frames),
        handlers=tuple(handlers),
        inline_code=inline_code,
    )


def _inline_code(tree: LexborHTMLParser) -> str:
    """Inline scripts' code (scripts inside comments are no elements, so never here): searching it costs a
    tenth of searching the page, and words in the page's text are not code."""
    parts, size = [], 0
    for node in tree.css("script:not([src])")[: embeds.MAX_SCRIPTS]:
        code = node.text()
        parts.append(code)
        size += len(code)
        if size > MAX_INLINE_CODE:
            break
    return "\n".join(parts)[:MAX_INLINE_CODE]


def _handlers(tree: LexborHTMLParser) -> list[str]:
    out = []
    for node in tree.css("img[onclick], [onclick*=jiucuo i]")[:MAX_HANDLERS]:
        attrs = node.attrs
        onclick, src = (attrs.get("onclick") or "")[:200], (attrs.get("src") or "")[:200]
        if "jiucuo" in onclick.lower() or "jiucuo" in src.lower():
            out.append(f"{onclick} {src}".strip())
    return out


def _frames(tree: LexborHTMLParser, hidden: list[visible.Hidden], base: str) -> list[dict[str, str]]:
    """Every frame, and how it is hidden (for :mod:`probes.content.malware`).  An ancestor hidden by a
    style sheet's class does not hide it: that is often a tab panel a script opens (``visible.remove``)."""
    nodes = tree.css("iframe[src], frame[src]")
    if not nodes:
        return []
    hiding = {h.node.mem_id: h.how for h in hidden if not h.by_style_sheet}
    out = []
    for node in nodes[:MAX_FRAMES]:
        if (url := clean_url(node.attrs.get("src") or "", base)) is not None:
            out.append({"url": url, "hidden_by": visible.frame_hidden(node, hiding), "element": visible.describe(node)})
    return out


def _script_written(fragments: str, base: str) -> tuple[str, list[embeds.Script], list[dict[str, str]]]:
    """Visible text and links of the HTML that inline scripts carry, and the links it hides."""
    tree = LexborHTMLParser(fragments)
    hidden = visible.hidden_elements(tree)
    hidden_anchors = _hidden_anchors(hidden, base, written=True) if hidden else []
    visible.remove(hidden)
    links = []
    for a in tree.css("a[href]")[:MAX_ANCHORS]:
        url = clean_url(a.attrs.get("href") or "", base)
        if url is not None:
            links.append(embeds.Script(url, "link written by an inline script"))
    return visible_text(tree), links, hidden_anchors


def _resolved(found: list[embeds.Script], base: str) -> list[embeds.Script]:
    out = []
    for s in found:
        url = clean_url(s.url, base)
        if url is not None:
            out.append(embeds.Script(url, s.how, s.sitecode))
    return out


def _hidden_anchors(hidden: list[visible.Hidden], base: str, written: bool = False) -> list[dict[str, str]]:
    """The links of hidden elements (the element itself when it is the link), each with how it is hidden
    and the element's role (:func:`probes.content.visible.role`).  ``written``: the elements come from
    HTML that an inline script writes into the page, itself a way to hide a block from a source reader."""
    out: list[dict[str, str]] = []
    seen: set[int] = set()
    for h in hidden:
        role: str | None = None
        for a in h.node.css("a[href]"):  # the element itself too, when it is the link
            if a.mem_id in seen:
                continue  # inside two hidden elements: named after the outer one
            seen.add(a.mem_id)
            url = clean_url(a.attrs.get("href") or "", base)
            if url is None:
                continue
            if role is None:
                role = visible.role(h.node)
            text = _anchor_text(a, _squeeze(a.text(strip=True)))
            how = f"written by an inline script, {h.how}" if written else h.how
            out.append({"text": text, "url": url, "hidden_by": how, "element": h.where, "role": role})
            if len(out) >= MAX_ANCHORS:
                return out
    return out


def _resources(tree: LexborHTMLParser, base: str) -> tuple[list[str], str]:
    urls: list[str] = []
    alts: list[str] = []
    for i, node in enumerate(tree.css("script[src], img, link[href], iframe[src], embed[src]")):
        if i >= MAX_ANCHORS:
            break
        attrs = node.attrs
        src = attrs.get("src") or attrs.get("href")
        if src and (url := clean_url(src, base)):
            urls.append(url)
        if v := attrs.get("alt"):
            alts.append(v[:100])
        if v := attrs.get("title"):
            alts.append(v[:100])
    return urls, " ".join(alts)


def _tag_ids(names: frozenset[str]) -> frozenset[int]:
    # Standard HTML tags have fixed lexbor ids (unknown ones get per-document ids that cannot collide);
    # comparing ids spares building a tag-name string for each ancestor looked at.
    maker = LexborHTMLParser("")
    return frozenset(maker.create_node(name).tag_id for name in names)


_ITEM_IDS = _tag_ids(_ITEM_TAGS)
_STOP_IDS = _tag_ids(_STOP_TAGS)
_BLOCK_IDS = _tag_ids(_BLOCK_TAGS)
_SIBLING_IDS = _tag_ids(frozenset(("span", "em", "i", "font", "small", "b", "label", "time", "cite")))


def _nav_ids(tree: LexborHTMLParser) -> set[int]:
    """mem_ids of the links inside a navigation container (``nav a[href]``, ``[class*=nav i] a[href]`` …)."""
    ids: set[int] = set()
    for box in tree.css(_NAV_CONTAINERS):
        links = box.css("a[href]")  # includes ``box`` itself when it is a link: that one is not inside it
        key = box.mem_id
        first = next((a.mem_id for a in links if a.mem_id != key), None)
        if first is None or first in ids:
            continue  # no link, or inside a container already taken (document order: that one holds this one)
        ids.update(a.mem_id for a in links if a.mem_id != key)
    return ids


def _squeeze(text: str) -> str:
    """``_WS.sub(" ", text)``, skipped when it would change nothing: every white-space character but the
    plain space is unprintable, so printable text without a double space has no run to squeeze."""
    return text if text.isprintable() and "  " not in text else _WS.sub(" ", text)


def _anchor_texts(anchors: list[LexborNode]) -> list[str]:
    """Each anchor's text with runs of white space made one space."""
    return [_squeeze(a.text(strip=True)) for a in anchors]


def _anchor_text(a: LexborNode, text: str) -> str:
    if not text or len(text) < 2:
        attrs = a.attrs
        text = (attrs.get("title") or "").strip()
        if not text:
            img = a.css_first("img")
            text = ((img.attrs.get("alt") or "") if img is not None else "").strip()
    return text[:200]


# Per page: what the text beside an item's title says about dates, computed once per distinct text
# (list pages repeat the same few "2026-11-20"): the problems in order, and the newest usable date.
_Beside = tuple[tuple[tuple[str, str], ...], tuple[float, str] | None, dates.MonthDay | None]


def _anchors(tree: LexborHTMLParser, base: str, now: float):  # type: ignore[no-untyped-def]
    items: list[Item] = []
    anchors: list[tuple[str, str]] = []
    nav: list[tuple[str, str]] = []
    ignored: list[dict[str, str]] = []
    notes: list[str] = []
    texts: dict[int, str | None] = {}  # container mem_id -> its text (None: not an item container)
    links: dict[int, int] = {}  # block mem_id -> number of <a> inside
    besides: dict[str, _Beside] = {}
    all_anchors = tree.css("a[href]")
    if len(all_anchors) > MAX_ANCHORS:
        notes.append(f"{len(all_anchors)} links on the page: examined the first {MAX_ANCHORS}")
        all_anchors = all_anchors[:MAX_ANCHORS]
    in_nav = _nav_ids(tree) if all_anchors else set()
    search_utility = _UTILITY.search
    for a, text in zip(all_anchors, _anchor_texts(all_anchors), strict=True):
        url = clean_url(a.attrs.get("href") or "", base)
        if url is None:
            continue
        if len(text) < 2 or len(text) > 200:
            text = _anchor_text(a, text)
        anchors.append((text, url))  # image-only links too: the 党政机关 mark is one
        if 2 <= len(text) <= 16 and a.mem_id in in_nav:
            nav.append((text, url))
        if len(text) < 4 or search_utility(text):
            continue
        container = _container(a, texts, links)
        loose = container is None
        if container is None:
            container = _few_links_container(a, texts, links) or _loose_container(a, text)
            if container is None:
                continue
        published, date_text, month_day = _item_date(text, container, now, ignored, besides)
        if loose and published is None and month_day is None:
            continue  # found only by the looser rules: an item when it carries a date, not a footer link
        items.append(Item(text, url, published, date_text, month_day))
    return items, anchors, nav, ignored, notes


def _container_text(node: LexborNode, texts: dict[int, str | None]) -> str | None:
    key = node.mem_id
    if key not in texts:
        text = _squeeze(node.text(separator=" ", strip=True))
        texts[key] = text if len(text) <= MAX_ITEM_TEXT else None
    return texts[key]


def _container(a: LexborNode, texts: dict[int, str | None], links: dict[int, int]) -> str | None:
    """The text of the item an anchor belongs to, or None when it is not in one."""
    parent = node = a.parent
    for _ in range(4):
        if node is None:
            break
        tag = node.tag_id
        if tag in _STOP_IDS:
            break
        if tag in _ITEM_IDS:
            return _container_text(node, texts)
        node = node.parent
    # No list entry or row: the largest block around it (up to 3 levels) holding only this link.
    best = None
    node = parent
    for _ in range(3):
        if node is None or node.tag_id not in _BLOCK_IDS:
            break
        key = node.mem_id
        if key not in links:
            links[key] = len(node.css("a"))
        if links[key] != 1 or _container_text(node, texts) is None:
            break
        best = node
        node = node.parent
    return _container_text(best, texts) if best is not None else None


def _few_links_container(a: LexborNode, texts: dict[int, str | None], links: dict[int, int]) -> str | None:
    """The nearest block when it holds a few links (title, source, "more") and little text."""
    node = a.parent
    if node is None or node.tag_id not in _BLOCK_IDS:
        return None
    key = node.mem_id
    if key not in links:
        links[key] = len(node.css("a"))
    return _container_text(node, texts) if links[key] <= MAX_BLOCK_LINKS else None


def _loose_container(a: LexborNode, title: str) -> str | None:
    """An item in a block of many links: the link's own text and its next sibling element when that is
    short (``<a>标题</a><span>[11-20]</span>``), or the link's text alone when it holds a digit (a date
    that ends the title)."""
    node = a.next
    for _ in range(3):
        if node is None:
            break
        if node.tag == "-text":
            if (node.text_content or "").strip():
                break  # text between the link and the next element: say "| 更多", not this item's date
            node = node.next
            continue
        if node.tag_id in _SIBLING_IDS:
            sibling = _squeeze(node.text(strip=True))
            if 0 < len(sibling) <= 40 and _DIGIT.search(sibling):
                return f"{title} {sibling}"
        break
    return title if _DIGIT.search(title) else None


def _item_date(
    title: str, container: str, now: float, ignored: list[dict[str, str]], besides: dict[str, _Beside]
) -> tuple[float | None, str, dates.MonthDay | None]:
    inside = title in container
    beside = container.replace(title, " ", 1) if inside else container
    known = besides.get(beside)
    if known is None:
        known = besides[beside] = _dates_beside(beside, now)
    problems, best, month_day = known
    for text, problem in problems:
        if len(ignored) < MAX_IGNORED:
            ignored.append({"date": text, "reason": problem, "item": title[:60]})
    if best is None and inside and _DIGIT.search(title):
        # A date that ends the title: "<a>标题 2026-11-20</a>".
        usable = [d for d in dates.find_full(title, now) if not d.problem and d.start + len(d.text) >= len(title) - 2]
        if usable:
            d = max(usable, key=lambda d: d.timestamp)
            best = d.timestamp, d.text
    if best is not None:
        return best[0], best[1], None
    return (None, month_day.text, month_day) if month_day is not None else (None, "", None)


def _dates_beside(beside: str, now: float) -> _Beside:
    """Problems, the newest usable full date, and (when there is none) the first month-day without a year."""
    if not _DIGIT.search(beside):
        return (), None, None
    problems: list[tuple[str, str]] = []
    best: tuple[float, str] | None = None
    for d in dates.find_full(beside, now):
        problem = d.problem or _context_problem(beside, d)
        if problem:
            problems.append((d.text, problem))
        elif best is None or d.timestamp > best[0]:  # the first of equal dates, as max() would
            best = d.timestamp, d.text
    month_day = None
    if best is None:
        month_days, invalid = dates.find_month_days(beside)
        problems += [(d.text, d.problem) for d in invalid]
        for md in month_days:
            problem = _context_problem(beside, md)
            if problem:
                problems.append((md.text, problem))
            elif month_day is None:
                month_day = md
    return tuple(problems), best, month_day


def _context_problem(text: str, d: dates.FoundDate | dates.MonthDay) -> str:
    before = text[max(0, d.start - 8) : d.start]
    after = text[d.start + len(d.text) : d.start + len(d.text) + 6]
    around = before + after
    if not around or around.isspace():
        return ""  # nothing but white space around it (the usual "  2026-11-20"): neither pattern can match
    if _COPYRIGHT.search(before):
        return "copyright"
    if _DISPLAY.search(before) or _DISPLAY.search(after):
        return "display of today's date"
    return ""
