"""暗链: hidden links injected into a government homepage (issues 9, 22).

One of the commonest serious security findings of the inspections: an attacker
plants links to gambling, lottery, adult or game-private-server sites in a
homepage, hidden from visitors, so that only search engines see them.

Hiding alone says little: tab panes, carousel slides, drop-down menus and
rotating adverts hide links by design, and the platforms hide their credit
line in every page.  A hidden link is judged by **where it points** and **how
it is hidden**:

1. *Expected destinations are never 暗链* (:func:`probes.content.hosts.expected`):
   government hosts, the site's own host, the national services, state media,
   the platforms' hosts and the hosts ``content.hidden_link_allow`` adds.  A
   vendor's credit line ("Produced By 大汉网络 大汉版通发布系统", "技术支持：…")
   without a dictionary word is not 暗链 either.
2. *What remains is scored*; it counts at :data:`COUNTS` points:

   ========================================================  ======
   a word of ``probes/data/hidden_link_words.txt`` in its text   +3
   hidden by an injection trick: off-screen, zero size, a        +2
   zero font or opacity, a one-pixel ``<marquee>``, a hidden
   container written by an inline script
   hidden by its own markup (``display:none``, ``hidden``)       +1
   hidden by a class of a style sheet (scripts often show it),    0
   or in ``<noscript>`` (shown to visitors without scripts)
   in a bare container (no tab, slide, menu or list role)        +1
   in a list item, a tab pane, a slide or a menu                 −1
   ========================================================  ======

   and it must have text (a 暗链 is there for its words; hidden share buttons
   are icons) or a dictionary word.  So a gambling word counts wherever it is
   hidden; an off-screen block or a bare ``display:none`` block of outside links
   counts; an inactive slide or tab pane linking outside does not, unless it
   carries dictionary words.

A *visible* link to an unexpected host whose text holds a dictionary word is
reported too.  Each finding says why it counted (``why``: the points), and the
result says how many hidden links were excused and why.  The points are ours
(from the real pages of ``tests/fixtures/real/`` and the injections the
inspections report), not a published rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from probes.content import hosts

MAX_FOUND = 50
COUNTS = 2  # points at which a hidden link to an unexpected host is 暗链
WORD_POINTS = 3
STRONG_POINTS = 2  # the injection tricks
OWN_MARKUP_POINTS = 1
BARE_POINTS = 1
ROLE_POINTS = -1

# How hidden_by (probes.content.visible) names the tricks injections use and pages rarely do.
_STRONG = re.compile(r"^(?:off-screen|zero size|<marquee|written by an inline script)|font-size|opacity")
# A vendor's credit line: what the CMS and the 集约化平台 print (often hidden) in every page they serve.
_CREDIT = re.compile(
    r"produced\s+by|powered\s+by|技术支持|技术服务|建设(?:与|和)?维护|网站建设|设计制作|制作维护|承建|"
    r"发布系统|内容管理系统|网站群|版通",
    re.I,
)


def load_words(text: str) -> tuple[str, ...]:
    return tuple(w for line in text.splitlines() if (w := line.strip()) and not w.startswith("#"))


@lru_cache(maxsize=1)
def default_words() -> tuple[str, ...]:
    return load_words(resources.files("probes").joinpath("data/hidden_link_words.txt").read_text("utf-8"))


@lru_cache(maxsize=8)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


@dataclass(frozen=True, slots=True)
class Verdict:
    found: list[dict[str, Any]] = field(default_factory=list)  # the 暗链, each with its "why"
    excused: dict[str, int] = field(default_factory=dict)  # hidden links not counted: reason -> how many


def technique(hidden_by: str) -> tuple[int, str]:
    """Points for how a link is hidden, and the words that say so."""
    if hidden_by.startswith(("class ", "id ")):
        return 0, f"hidden by a style sheet ({hidden_by})"
    if hidden_by == "<noscript>":  # what a visitor without scripts sees: counters' and players' fallbacks
        return 0, "shown without scripts (<noscript>)"
    if _STRONG.search(hidden_by):
        return STRONG_POINTS, f"an injection trick ({hidden_by})"
    return OWN_MARKUP_POINTS, f"hidden by its own markup ({hidden_by})"


def score(h: dict[str, str], hits: list[str]) -> tuple[int, str]:
    """A hidden link's points and why (pure; see the module's table)."""
    points, why = technique(h["hidden_by"])
    parts = [f"{why} {points:+d}"]
    role = h.get("role", "")
    if role:
        points += ROLE_POINTS
        parts.append(f"{role} {ROLE_POINTS:+d}")
    else:
        points += BARE_POINTS
        parts.append(f"in a bare container ({h['element'] or '?'}) {BARE_POINTS:+d}")
    if hits:
        points += WORD_POINTS
        parts.append(f"dictionary words {'、'.join(hits)} {WORD_POINTS:+d}")
    return points, "; ".join(parts) + f" = {points} (counts at {COUNTS})"


def judge(
    anchors: Iterable[tuple[str, str]],
    hidden_anchors: Sequence[dict[str, str]],
    site_host: str,
    words: tuple[str, ...] | None = None,
    allow: tuple[str, ...] = (),
) -> Verdict:
    """The 暗链 of a page and the hidden links excused.  ``hidden_anchors`` come from
    :func:`probes.content.extract.parse` (``text``, ``url``, ``hidden_by``, ``element``, ``role``)."""
    pattern = _pattern(default_words() if words is None else words)
    site_host = site_host.lower()
    found: dict[str, dict[str, Any]] = {}
    excused: dict[str, int] = {}
    for h in hidden_anchors:
        host = hosts.host_of(h["url"])
        hits = sorted(set(pattern.findall(h["text"]))) if pattern else []
        reason = hosts.expected(host, site_host, allow)
        if not reason and not hits and _CREDIT.search(h["text"]):
            reason = "vendor credit line"
        if reason:
            excused[reason] = excused.get(reason, 0) + 1
            continue
        points, why = score(h, hits)
        if points < COUNTS or not (hits or len(h["text"].strip()) >= 2):
            key = "no text" if points >= COUNTS else "scored below the line"
            excused[key] = excused.get(key, 0) + 1
            continue
        if h["url"] not in found:
            found[h["url"]] = _finding(h["url"], host, h["text"], h["hidden_by"], h["element"], hits, points, why)
            if len(found) >= MAX_FOUND:
                return Verdict(list(found.values()), excused)
    if pattern is not None:
        _visible(list(anchors), pattern, site_host, allow, found)
    return Verdict(list(found.values()), excused)


def _visible(
    anchors: list[tuple[str, str]],
    pattern: re.Pattern[str],
    site_host: str,
    allow: tuple[str, ...],
    found: dict[str, dict[str, Any]],
) -> None:
    """Visible links to unexpected hosts with a dictionary word (one search over all texts first: the
    common page has none)."""
    if not pattern.search("\n".join(t for t, _ in anchors)):
        return
    for text, url in anchors:
        if url in found or not pattern.search(text):
            continue
        host = hosts.host_of(url)
        if not hosts.expected(host, site_host, allow):
            hits = sorted(set(pattern.findall(text)))
            why = f"visible, dictionary words {'、'.join(hits)}"
            found[url] = _finding(url, host, text, "", "", hits, WORD_POINTS, why)
            if len(found) >= MAX_FOUND:
                return


def _finding(
    url: str, host: str, text: str, hidden_by: str, element: str, hits: list[str], points: int, why: str
) -> dict[str, Any]:
    return {
        "url": url,
        "host": host,
        "text": text[:80],
        "hidden_by": hidden_by,
        "element": element,
        "words": hits,
        "score": points,
        "why": why,
    }


def find(
    anchors: Iterable[tuple[str, str]],
    hidden_anchors: Sequence[dict[str, str]],
    site_host: str,
    words: tuple[str, ...] | None = None,
    allow: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The 暗链 of a page: ``[{"url", "host", "text", "hidden_by", "element", "words", "score", "why"}]``."""
    return judge(anchors, hidden_anchors, site_host, words, allow).found
