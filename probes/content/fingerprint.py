"""When a navigation-only homepage last changed, kept across restarts.

A homepage without dated items (a navigation page, or dates we cannot read) is
judged by its item list: the hash of the link texts and link paths (queries
dropped, so a cache-busting ``?t=…`` does not count as new content).  The hash
and the time it last changed live in the state store, so a restart does not
make a stale site look fresh.

First sighting (nothing stored): the true last change is unknown but not later
than now.  We record ``first_seen`` and report the last change as the older of
``first_seen`` and the page's ``Last-Modified`` header when that is a plausible
past time (static CMS pages send a real one).  So a stale site is reported
stale at most ``homepage_stale_days`` after the agent first saw it, and never
made to look fresh again by a restart; reporting nothing instead would mean a
site that never changes never raises an alert.
"""

from __future__ import annotations

import hashlib
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from domain.clock import EARLIEST_TIMESTAMP

NAMESPACE = "homepage_fingerprint"
MAX_ENTRIES = 2000


def digest(anchors: tuple[tuple[str, str], ...]) -> str:
    h = hashlib.sha256()
    for text, url in anchors[:MAX_ENTRIES]:
        parts = urlsplit(url)
        h.update(f"{text}\t{parts.netloc}{parts.path}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def last_modified(value: str | None, now: float) -> float | None:
    if not value:
        return None
    try:
        ts = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return ts if EARLIEST_TIMESTAMP <= ts <= now else None


def observe(previous: dict[str, Any] | None, fp: str, now: float, modified: float | None) -> dict[str, Any]:
    """The record to store after seeing ``fp`` now (pure)."""
    if not isinstance(previous, dict) or not isinstance(previous.get("changed"), (int, float)):
        changed = min(now, modified) if modified is not None else now
        return {"digest": fp, "changed": changed, "first_seen": now, "checked": now, "changes": 0}
    if previous.get("digest") == fp:
        return {**previous, "checked": now}
    return {**previous, "digest": fp, "changed": now, "checked": now, "changes": int(previous.get("changes", 0)) + 1}
