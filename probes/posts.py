"""Wrong expressions and resident ID numbers in an account's posts (issue 18, item 3).

严重表述错误 is a veto for new-media accounts as for sites (国办秘函〔2019〕19号, indicators.md), so
each feed entry's title and summary — the visible text: tags, scripts, styles and comments
stripped, entities decoded — goes through the same wrong-expression dictionary
(:mod:`probes.content.serious`) and the same ID-number check (:mod:`probes.content.privacy`) as a
site's pages.  Pure functions.

Cost: one pass of the dictionary's alternation and one of the ID pattern over the joined text of
the newest :data:`MAX_POSTS` entries (each summary already clipped by the parser), with the
tag-stripping regex run only on summaries that hold a ``<`` and the ID check only on text with a
run of 17 digits (``bench/bench_feed.py``: about 0.3 ms a typical 50-entry feed).
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from probes.content import privacy, serious
from probes.feedparse import Entry

MAX_POSTS = 200  # newest entries read (a feed lists newest first); older posts were read when they were new
MAX_FINDINGS = 20  # listed per kind in /api/accounts/<id>
CONTEXT = 12
_SEP = "\n\x00\n"  # between posts: no dictionary word or ID number spans it
_INVISIBLE = re.compile(r"<(script|style|template|noscript)\b.*?</\1\s*>|<!--.*?-->", re.S | re.I)
_TAG = re.compile(r"<[^>]*>")
_MAYBE_ID = re.compile(r"[0-9]{17}")  # cheaper than the full check on text that has no ID-shaped run


def visible_text(fragment: str) -> str:
    """The text a reader sees of an HTML fragment (a post's summary).  Tags are removed, not replaced by
    a space: Chinese has no spaces between words, and inline markup (``开诚<b>不公</b>``) must not
    split one; spaces are left as they are (matching is on exact substrings; collapsing spaces over every
    summary cost a third of a millisecond a feed, bench/bench_feed.py)."""
    if "<" in fragment:
        fragment = _TAG.sub("", _INVISIBLE.sub("", fragment))
    if "&" in fragment:
        fragment = html.unescape(fragment)
    return fragment.strip()


@dataclass(frozen=True, slots=True)
class PostFindings:
    """What the posts show: the different wrong expressions, the valid ID numbers, and where."""

    serious_errors: int = 0  # different wrong expressions (as xuncha_serious_errors counts a site's)
    privacy_leaks: int = 0  # different valid ID numbers
    errors: tuple[dict[str, Any], ...] = ()  # {"wrong", "right", "note", "context", "title", "link"}
    leaks: tuple[dict[str, Any], ...] = ()  # {"id" (masked), "title", "link"}

    def dump(self) -> dict[str, Any]:
        return {
            "serious_errors": self.serious_errors,
            "privacy_leaks": self.privacy_leaks,
            "errors": list(self.errors),
            "leaks": list(self.leaks),
        }

    @classmethod
    def load(cls, raw: Any) -> PostFindings:
        if not isinstance(raw, dict):
            return cls()
        try:
            return cls(
                int(raw.get("serious_errors", 0)),
                int(raw.get("privacy_leaks", 0)),
                tuple(dict(e) for e in raw.get("errors", ())),
                tuple(dict(e) for e in raw.get("leaks", ())),
            )
        except (TypeError, ValueError):
            return cls()


NONE = PostFindings()


def scan(entries: Sequence[Entry], words: serious.Dictionary, today: date) -> PostFindings:
    """Every wrong expression and valid ID number in the titles and summaries of ``entries``."""
    posts = entries[:MAX_POSTS]
    if not posts:
        return NONE
    texts = [f"{e.title} {visible_text(e.summary)}" if e.summary else e.title for e in posts]
    text = _SEP.join(texts)
    starts = [0]
    for t in texts[:-1]:
        starts.append(starts[-1] + len(t) + len(_SEP))
    errors: list[dict[str, Any]] = []
    wrong: set[str] = set()
    if words.pattern is not None:
        for m in words.pattern.finditer(text):
            entry = words.entries[m.group(0)]
            wrong.add(entry.wrong)
            if len(errors) < MAX_FINDINGS:
                post = posts[bisect.bisect_right(starts, m.start()) - 1]
                context = text[max(0, m.start() - CONTEXT) : m.end() + CONTEXT].replace("\x00", " ").replace("\n", " ")
                errors.append(
                    {"wrong": entry.wrong, "right": entry.right, "note": entry.note, "context": context.strip()}
                    | _post(post)
                )
    leaks: list[dict[str, Any]] = []
    numbers: set[str] = set()
    if _MAYBE_ID.search(text):  # an ASCII run of 17 digits at least, else no ID number can be there
        for number, at in privacy.find_spans(text, today):
            numbers.add(number)
            if len(leaks) < MAX_FINDINGS:
                leaks.append({"id": privacy.mask(number)} | _post(posts[bisect.bisect_right(starts, at) - 1]))
    if not wrong and not numbers:
        return NONE
    return PostFindings(len(wrong), len(numbers), tuple(errors), tuple(leaks))


def _post(entry: Entry) -> dict[str, str]:
    return {"title": entry.title[:120], "link": entry.link}
