"""伪造发稿日期: items published with a date earlier than the day they appeared (issue 19).

A column that should have been updated and was not is sometimes "repaired" before an
inspection by publishing items dated weeks back, so that the column never looks
stale.  Nothing on the page tells; the agent's own history does: an item that
first appears in a column after a successful check that did not show it, dated
before that check, was put there later than its date says.

This is evidence for a person to review, never a verdict: an old notice pinned to
the top again (置顶), or a page restored from a backup, shows an old item anew.  So:

* the item's date must end at least ``grace`` before the check that did not show it (a
  page generated a few hours late is not back-dating; ``content.backdated_grace_days``);
* when the CMS numbers its articles (:func:`probes.content.years.article_id`), an item whose id
  is not above every id seen before in the column is an old article shown again, not a new one;
* a list most of whose items are new (a new CMS, new URLs) says nothing about any one item.

The history is small and bounded: per column, digests of the first :data:`MAX_ITEMS` items
shown at the last successful check, and the findings of the last ``content.backdated_keep_days``
(at most :data:`MAX_KEPT` a column), in the state namespace ``column_items``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.clock import BEIJING
from probes.content.years import article_id

if TYPE_CHECKING:
    from probes.content.extract import Item

NAMESPACE = "column_items"
MAX_ITEMS = 100
MAX_KEPT = 20
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Listings:
    """What each column showed at its last successful check (``before``, read from the state store), and what
    the judge saw now (``now``, filled by :func:`probes.content_probe.judge`, stored after it)."""

    before: Mapping[str, Any] = field(default_factory=dict)
    now: dict[str, Any] = field(default_factory=dict)


def digest(url: str) -> str:
    return hashlib.blake2b(url.encode("utf-8", "replace"), digest_size=6).hexdigest()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, BEIJING).isoformat(timespec="minutes")


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, BEIJING).date().isoformat()


def observe(
    column: str, items: Sequence[Item], before: Any, now: float, grace: float, keep: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record to store for ``column`` and its back-dated items (those found now and those kept)."""
    shown = items[:MAX_ITEMS]
    record: dict[str, Any] = {"checked": now, "seen": [digest(i.url) for i in shown], "found": []}
    if not _valid(before):
        return record, []
    kept = [f for f in before.get("found", ()) if isinstance(f, dict) and f.get("seen_at", 0) >= now - keep]
    checked, seen = float(before["checked"]), set(before["seen"])
    fresh = [i for i in shown if digest(i.url) not in seen]
    if fresh and (len(fresh) <= 3 or len(fresh) * 2 <= len(shown)):
        kept += _backdated(column, shown, fresh, seen, checked, now, grace)
    unique: dict[Any, dict[str, Any]] = {}
    for f in kept:
        unique.setdefault(f.get("url"), f)
    record["found"] = list(unique.values())[-MAX_KEPT:]
    return record, record["found"]


def _valid(before: Any) -> bool:
    return (
        isinstance(before, dict)
        and isinstance(before.get("checked"), (int, float))
        and isinstance(before.get("seen"), list)
        and all(isinstance(d, str) for d in before["seen"])
    )


def _backdated(
    column: str,
    shown: Sequence[Item],
    fresh: Sequence[Item],
    seen: set[str],
    checked: float,
    now: float,
    grace: float,
) -> list[dict[str, Any]]:
    highest: dict[str, int] = {}
    for i in shown:
        if digest(i.url) in seen and (aid := article_id(i.url)) is not None:
            highest[aid[0]] = max(highest.get(aid[0], aid[1]), aid[1])
    out = []
    for i in fresh:
        # The item's day ended at least ``grace`` before the check that did not show it.
        if i.published is None or i.published + DAY + grace > checked:
            continue
        aid = article_id(i.url)
        if aid is not None and aid[0] in highest:
            if aid[1] <= highest[aid[0]]:
                continue  # an older article shown again (置顶, a restored page): not written now
            why = f"its article id {aid[1]} is above every id the column showed before ({highest[aid[0]]})"
        else:
            why = "no article ids to tell a new article from an old one shown again: check the CMS's record"
        out.append(
            {
                "column": column,
                "title": i.title[:80],
                "url": i.url[:200],
                "published": _day(i.published),
                "previous_check": _iso(checked),
                "first_seen": _iso(now),
                "seen_at": now,
                "evidence": why,
            }
        )
    return out
