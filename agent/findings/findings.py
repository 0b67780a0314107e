"""Findings: what is wrong with a site or account now, judged from its latest results.

Pure functions over results and the configuration's lines (gatus: gather, then
judge), for ``/api/findings`` — the list an office works through, with what the
metrics cannot carry (which link, which words, which column).  The alert rules
judge the same facts in Prometheus, with the early-warning and veto lines of
``domain/thresholds.py``; here the configuration's ``content`` lines apply.
"""

from __future__ import annotations

from typing import Any

from agent.registry.config import Account, ContentConfig, Site
from probes.results import ContentResult, FeedResult, InteractionResult, LinksResult, Result, ServicesResult, TlsResult

DAY = 86400.0
# Where the content probe says why a required element failed (details["compliance_found"]).
_PROBLEM = {
    "site_code_shown": "site_code_problem",
    "conac_mark_shown": "conac_problem",
    "error_report_entry": "error_report_problem",
    "site_meta_tags": "meta_problem",
}


def site_findings(site: Site, latest: dict[str, Result], lines: ContentConfig, now: float) -> list[dict[str, Any]]:
    """Every current finding of ``site``, each a dict with ``finding`` and what it is about."""
    base = {"code": site.code, "name": site.name, "region": site.region.name}
    out: list[dict[str, Any]] = []
    for kind, r in latest.items():
        if not r.success:
            out.append({**base, "finding": "probe_failed", "probe": kind, "reason": r.reason})
        elif isinstance(r, TlsResult) and not r.cert_valid:
            out.append({**base, "finding": "certificate_invalid", "probe": kind, "reason": r.reason})
    links = latest.get("links")
    if isinstance(links, LinksResult):
        out += [{**base, "finding": "broken_link", **link} for link in links.broken_links]
        # issue 19: links of the column pages and their first articles (扣分: 0.1 each), and the pages
        # lacking the standard's tags (网页标签不规范), each with the tags it lacks
        out += [{**base, "finding": "broken_link", "where": "other_page", **link} for link in links.other_broken_links]
        out += [{**base, "finding": "page_tags_missing", **page} for page in links.page_tags]
    content = latest.get("content")
    if isinstance(content, ContentResult):
        out += _content(base, content, lines, now)
    found = latest.get("services")
    if isinstance(found, ServicesResult):
        out += _services(base, found)
    interaction = latest.get("interaction")
    if isinstance(interaction, InteractionResult):
        out = _judged_by_messages(out, interaction) + _interaction(base, interaction, lines, now)
    return out


def _judged_by_messages(out: list[dict[str, Any]], r: InteractionResult) -> list[dict[str, Any]]:
    """A consultation column whose rows show states is judged by its answers, not by its newest
    question; a column that is no consultation channel (信访, 访谈 …) is not judged by this rule."""
    skip = {c.name for c in r.columns if c.state_shown} | {e["column"] for e in r.excluded}
    return [
        f
        for f in out
        if not (f["finding"] == "column_stale" and f.get("category") == "interaction" and f.get("column") in skip)
    ]


def _interaction(base: dict[str, Any], r: InteractionResult, lines: ContentConfig, now: float) -> list[dict[str, Any]]:
    """互动回应差: no consultation channel; a message unanswered past the line (its messages listed)."""
    out: list[dict[str, Any]] = []
    if r.channels == 0:
        out.append({**base, "finding": "no_consultation_channel", "excluded": list(r.excluded)})
    limit = lines.stale_days.get("interaction", 90.0) * DAY
    for col in r.columns:
        if col.oldest_unanswered is None or now - col.oldest_unanswered <= limit:
            continue
        late = [m for m in col.unanswered if m.get("asked") is not None and now - m["asked"] > limit]
        out.append(
            {
                **base,
                "finding": "interaction_unanswered",
                "column": col.name,
                "url": col.url,
                "days": _days(now - col.oldest_unanswered),
                "overdue": max(col.overdue, len(late)),
                "messages": late,
            }
        )
    return out


def _services(base: dict[str, Any], r: ServicesResult) -> list[dict[str, Any]]:
    """服务不实用 (issue 18): no services at all, and each guide read with elements missing."""
    if r.offered is False:
        return [{**base, "finding": "no_services"}]
    return [
        {
            **base,
            "finding": "service_guide_incomplete",
            "url": g.url,
            "title": g.title,
            "found_on": g.found_on,
            "state": g.state,  # partial | incomplete (services.missing_elements)
            "missing": list(g.missing),
            **({"note": g.note} if g.note else {}),
        }
        for g in r.guides
        if g.success and g.missing
    ]


def _content(base: dict[str, Any], r: ContentResult, lines: ContentConfig, now: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if r.closed_but_online:
        out.append({**base, "finding": "closed_but_online"})
    if r.closure_notice_shown is False:
        out.append({**base, "finding": "closure_notice_missing"})
    if r.homepage_last_update is not None and now - r.homepage_last_update > lines.homepage_stale_days * DAY:
        out.append(
            {
                **base,
                "finding": "homepage_stale",
                "days": _days(now - r.homepage_last_update),
                "source": r.homepage_update_source,
            }
        )
    for col in r.columns:
        where = {"column": col.name, "category": col.category, "url": col.url}
        if col.blank:
            out.append({**base, "finding": "column_blank", **where, "note": col.note})
        limit = lines.stale_days.get(col.category)
        if col.last_update is not None and limit is not None and now - col.last_update > limit * DAY:
            out.append({**base, "finding": "column_stale", **where, "days": _days(now - col.last_update)})
    found = r.details.get("compliance_found", {})
    for check, passed in r.compliance.items():
        if not passed:
            out.append(
                {
                    **base,
                    "finding": "required_element_missing",
                    "check": check,
                    **({"problem": found[_PROBLEM[check]]} if found.get(_PROBLEM.get(check, "")) else {}),
                    **({"note": found["footer_script"]} if found.get("footer_script") else {}),
                }
            )
    out += [{**base, "finding": "serious_error", **hit} for hit in r.details.get("serious_errors", ())]
    out += [{**base, "finding": "hidden_link", **link} for link in r.details.get("hidden_links", ())]
    out += [{**base, "finding": "privacy_leak", **leak} for leak in r.details.get("privacy_leaks", ())]
    out += [{**base, "finding": "malicious_script", **f} for f in r.details.get("malicious_scripts", ())]
    out += [{**base, "finding": "backdated_item", **f} for f in r.details.get("backdated_items", ())]
    return out


def account_findings(account: Account, feed: Result | None) -> list[dict[str, Any]]:
    base = {
        "account": account.id,
        "name": account.name,
        "unit": account.unit,
        "platform": account.platform,
        "region": account.region.name,
    }
    if not isinstance(feed, FeedResult):
        return []
    out: list[dict[str, Any]] = []
    if not feed.success:
        out.append({**base, "finding": "feed_failed", "reason": feed.reason})
    if feed.not_deregistered:
        out.append({**base, "finding": "not_deregistered", "last_entry": feed.last_entry})
    found = feed.details.get("posts", {}) if feed.success else {}
    out += [{**base, "finding": "serious_error", **hit} for hit in found.get("errors", ())]
    out += [{**base, "finding": "privacy_leak", **leak} for leak in found.get("leaks", ())]
    return out


def _days(seconds: float) -> float:
    return round(seconds / DAY, 1)
