"""Bounded text: what a hostile page, feed or file can make the agent store, log or expose.

Issue 10: an alias bomb became a 7.2 MB error body; a 100,000-character name became a
100 KB label value.  Each place that takes text from outside clips it here, once, with
a visible mark, so a reader sees that something was cut and how much.
"""

from __future__ import annotations

from typing import Any

MAX_ERROR = 1024  # a probe's reason, a config issue's message, an /api/ error
MAX_NAME = 256  # a site, column, unit or account name (a label value on the _info series)
MAX_URL = 2048  # a registered URL (the url label of xuncha_site_info)
MAX_LABEL_VALUE = 2048  # the collector's last line of defence for any label value
MAX_ISSUES = 200  # config issues listed in one reload error (the rest are counted)


def clip(text: Any, limit: int = MAX_ERROR) -> str:
    """``text`` as a string of at most about ``limit`` characters, marked when cut."""
    s = text if isinstance(text, str) else str(text)
    if len(s) <= limit:
        return s
    return f"{s[:limit]}… [{len(s) - limit:,} more characters]"


def clip_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for an error message, without building the repr of a huge value."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit]) + ("…" if len(value) > limit else "")
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__} of {len(value)} item(s)"
    return clip(repr(value), limit)


def bounded(limit: int, what: str = "text") -> Any:
    """A config parser step: the value as a string, refused when longer than ``limit``."""

    def check(v: Any) -> str:
        if isinstance(v, bool) or not isinstance(v, (str, int)):
            raise ValueError(f"{clip_repr(v)} is not a string")
        s = str(v)
        if len(s) > limit:
            raise ValueError(f"{what} of {len(s):,} characters is longer than the {limit} allowed")
        return s

    return check


def bounded_result(result: Any) -> Any:
    """A probe result with its free text clipped: what a hostile server said ends up in
    ``/api/``, the logs and ``xuncha report``.  Unchanged (the same object) when nothing is long."""
    import dataclasses

    changes: dict[str, Any] = {}
    reason = getattr(result, "reason", "")
    if isinstance(reason, str) and len(reason) > MAX_ERROR:
        changes["reason"] = clip(reason)
    columns = getattr(result, "columns", ())
    if any(len(c.reason) > MAX_ERROR for c in columns):
        changes["columns"] = tuple(
            dataclasses.replace(c, reason=clip(c.reason)) if len(c.reason) > MAX_ERROR else c for c in columns
        )
    broken = getattr(result, "broken_links", ())
    if any(_long_link(b) for b in broken):
        changes["broken_links"] = tuple(_clip_link(b) for b in broken)
    guides = getattr(result, "guides", ())  # the services probe's (issue 18): URLs and errors of crawled pages
    if any(len(g.reason) > MAX_ERROR or len(g.url) > MAX_URL or len(g.found_on) > MAX_URL for g in guides):
        changes["guides"] = tuple(
            dataclasses.replace(g, reason=clip(g.reason), url=clip(g.url, MAX_URL), found_on=clip(g.found_on, MAX_URL))
            for g in guides
        )
    entries = getattr(result, "entries", ())  # a services result's ways in (a feed's ``entries`` is a count)
    if isinstance(entries, tuple) and any(_long_link(e) for e in entries):
        changes["entries"] = tuple(_clip_link(e) for e in entries)
    return dataclasses.replace(result, **changes) if changes else result


def _long_link(b: Any) -> bool:
    return isinstance(b, dict) and any(isinstance(v, str) and len(v) > MAX_URL for v in b.values())


def _clip_link(b: Any) -> Any:
    if not isinstance(b, dict):
        return b
    return {k: clip(v, MAX_URL) if isinstance(v, str) else v for k, v in b.items()}
