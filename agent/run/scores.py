"""The score's measures from a site's latest results: the adapter between the probes and
``domain.scoring`` (pure).

:func:`measures` turns what the agent has — the latest ``content`` and ``links`` results, the
registry's columns, the week's visits (``ResultStore.visits_week``) — into the mapping
:func:`domain.scoring.score` takes, ``None`` for what it has not measured.  A new measure is a key of
``domain.scoring.MEASURES`` and one entry here (as the message lists' consultation channels and
answered messages of issue 18 are, from the ``interaction`` result).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.registry import Site
from domain.scoring import DEFAULT_TABLE, Score, Table, score
from domain.thresholds import THRESHOLDS, Thresholds
from probes.results import ContentResult, InteractionResult, LinksResult, Result


def measures(
    site: Site,
    latest: Mapping[str, Result],
    week: tuple[int, int] | None,
    t: Thresholds = THRESHOLDS,
) -> dict[str, float | None]:
    """Each key of ``domain.scoring.MEASURES`` the agent measures → its value (None: not measured)."""
    content = latest.get("content")
    links = latest.get("links")
    c = content if isinstance(content, ContentResult) and content.homepage_success else None
    lk = links if isinstance(links, LinksResult) and links.success else None
    out: dict[str, float | None] = {
        "unreachable_percent": _unreachable(week, t),
        "homepage_links_broken": None if lk is None else lk.broken,
        # a site without columns has no other page the agent reads: not measured
        "other_links_broken": lk.other_broken if lk is not None and lk.other_pages else None,
        "homepage_updates": None if c is None else c.homepage_updates,
        "page_tags_missing": _tags(site, c, lk),
        **_consultation(latest.get("interaction")),
    }
    for category in ("survey", "interview"):
        out[f"{category}_columns"], out[f"{category}_items_year"] = _activity(site, content, category)
    return out


def _consultation(r: Result | None) -> dict[str, float | None]:
    """The message lists (issue 18, probes/interaction.py): effective consultation channels, and the
    messages of the past year answered in the columns whose rows show a state (None: not read yet,
    the homepage could not be read to find a channel, or no column shows states)."""
    if not isinstance(r, InteractionResult):
        return {"consultation_columns": None, "consultation_answered_year": None}
    judged = [c for c in r.columns if c.state_shown]
    answered = sum(c.answered_past_year for c in judged) if judged else None
    return {"consultation_columns": r.channels, "consultation_answered_year": answered}


def _unreachable(week: tuple[int, int] | None, t: Thresholds) -> float | None:
    # As the veto's ratio: not a ratio yet below the rule's minimum of visits (domain.thresholds).
    if week is None or week[0] < t.unreachable_min_checks:
        return None
    visits, failed = week
    return 100.0 * failed / visits


def _tags(site: Site, c: ContentResult | None, lk: LinksResult | None) -> float | None:
    """Pages missing a tag of the standard: the homepage (check site_meta_tags), the column pages
    and first articles (the links probe)."""
    home = None if c is None or "site_meta_tags" not in c.compliance else int(not c.compliance["site_meta_tags"])
    others = None if lk is None or (site.columns and not lk.other_pages) else len(lk.page_tags)
    if home is None and others is None:
        return None
    return (home or 0) + (others or 0)


def _activity(site: Site, content: Result | None, category: str) -> tuple[float | None, float | None]:
    """(columns of ``category`` configured, their items dated within a year).

    No such column configured but one in the homepage's navigation (a candidate column): the
    registry is incomplete, not the site, so neither is measured."""
    configured = [col for col in site.columns if col.category == category]
    if not configured:
        if isinstance(content, ContentResult) and _candidate(content.details, category):
            return None, None
        return (0.0 if isinstance(content, ContentResult) and content.homepage_success else None), None
    if not isinstance(content, ContentResult):
        return float(len(configured)), None
    found = {col.name: col for col in content.columns}
    counts = [found[c.name].items_year if c.name in found and found[c.name].success else None for c in configured]
    if any(n is None for n in counts):
        return float(len(configured)), None
    return float(len(configured)), float(sum(n or 0 for n in counts))


def _candidate(details: Mapping[str, Any], category: str) -> bool:
    return any(isinstance(c, dict) and c.get("category") == category for c in details.get("candidate_columns", ()))


def site_score(
    site: Site,
    latest: Mapping[str, Result],
    week: tuple[int, int] | None,
    table: Table = DEFAULT_TABLE,
    t: Thresholds = THRESHOLDS,
) -> Score:
    return score(table, site.kind, measures(site, latest, week, t))
