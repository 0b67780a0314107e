"""暗链: hidden links injected into a government homepage (issue 9).

One of the commonest serious security findings of the inspections: an attacker
plants links to gambling, lottery, adult or game-private-server sites in a
homepage, hidden from visitors (``display:none``, a block positioned at
``left:-9999px``, a one-pixel marquee) so that only search engines see them.

A link is reported when it points away from government hosts (not ``.gov.cn``,
not the site's own host, not the national services of the footer) and either

* sits, with text of its own, inside an element its own markup hides or puts
  off-screen (:mod:`probes.content.visible`), or
* its text or title holds a word of the dictionary ``probes/data/hidden_link_words.txt``.

A hidden tab panel full of the site's own news is not 暗链: its links stay on
the site.  Each finding names the element that hid the link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from probes.content.compliance import gov_domain

MAX_FOUND = 50


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


def _registrable(host: str) -> str:
    """The name a site registers: ``example.com``, ``example.com.cn``."""
    labels = host.split(".")
    n = 3 if len(labels) >= 3 and labels[-1] == "cn" and labels[-2] in ("com", "net", "org", "edu", "ac") else 2
    return ".".join(labels[-n:])


def _own(host: str, site_host: str) -> bool:
    """The site's own host, or a sibling under the same registered name (www.x.com and m.x.com)."""
    return host == site_host or _registrable(host) == _registrable(site_host)


def _foreign(url: str, site_host: str) -> str:
    """The host of a link that leaves government hosts, or ""."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    if not host or gov_domain(host) or _own(host, site_host):
        return ""
    return host


# National services every government footer links to, sometimes inside a hidden pop-up or share box.
_SERVICES = ("conac.cn", "kaipuyun.cn", "beian.gov.cn")


def find(
    anchors: Iterable[tuple[str, str]],
    hidden_anchors: Sequence[dict[str, str]],
    site_host: str,
    words: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """The 暗链 of a page: ``[{"url", "host", "text", "hidden_by", "element", "words"}]``.

    A hidden link counts on its own when the element's own markup hides it (an inline style, the
    ``hidden`` attribute, ``<noscript>``, a one-pixel marquee) and it has text (a 暗链 is there for
    its words; hidden share buttons are icons); hidden by a style sheet's class (often undone by a
    script), only with a dictionary word."""
    pattern = _pattern(default_words() if words is None else words)
    site_host = site_host.lower()
    found: dict[str, dict[str, Any]] = {}
    for h in hidden_anchors:
        host = _foreign(h["url"], site_host)
        if not host or host.endswith(_SERVICES):
            continue
        hits = sorted(set(pattern.findall(h["text"]))) if pattern else []
        own_markup = not h["hidden_by"].startswith(("class ", "id "))
        if hits or (own_markup and len(h["text"].strip()) >= 2):
            found.setdefault(
                h["url"],
                {
                    "url": h["url"],
                    "host": host,
                    "text": h["text"][:80],
                    "hidden_by": h["hidden_by"],
                    "element": h["element"],
                    "words": hits,
                },
            )
            if len(found) >= MAX_FOUND:
                return list(found.values())
    anchors = list(anchors)
    if pattern is not None and pattern.search("\n".join(t for t, _ in anchors)):
        for text, url in anchors:
            if url in found or not pattern.search(text):
                continue
            host = _foreign(url, site_host)
            if host:
                found[url] = {
                    "url": url,
                    "host": host,
                    "text": text[:80],
                    "hidden_by": "",
                    "element": "",
                    "words": sorted(set(pattern.findall(text))),
                }
                if len(found) >= MAX_FOUND:
                    break
    return list(found.values())
