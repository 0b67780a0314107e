"""What probes produce: one frozen, slotted result type per probe kind.

A failing target is data (``success=False`` plus a ``reason``), never an
exception; an exception escaping a probe is a bug, recorded by the scheduler as
a failed result whose reason starts with ``bug:``.  The collector and ``/api/``
read results; nothing mutates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The common part of every probe result."""

    kind: str
    success: bool
    reason: str = ""  # why it failed (or a note on a partial success); "" when clean
    started: float = 0.0  # Unix time the probe began
    duration_seconds: float = 0.0


# --- availability, DNS, TLS (issue 2) ---------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResult(Result):
    kind: str = "http"
    url: str = ""
    final_url: str = ""
    status_code: int | None = None
    redirects: int = 0
    address: str = ""  # the IP the final connection went to
    ip_version: int | None = None
    body_bytes: int = 0
    # resolve, connect, tls, processing (request sent → headers), transfer (body)
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsResult(Result):
    kind: str = "dns"
    host: str = ""
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    lookup_seconds: float = 0.0
    rcode: str = ""  # NOERROR, NXDOMAIN, SERVFAIL, TIMEOUT, NOANSWER


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsResult(Result):
    kind: str = "tls"
    host: str = ""
    port: int = 443
    address: str = ""
    not_before: float | None = None
    not_after: float | None = None
    subject: str = ""
    issuer: str = ""
    sans: tuple[str, ...] = ()
    serial: str = ""
    chain_valid: bool = False
    hostname_match: bool = False
    verify_error: str = ""
    tls_version: str = ""

    @property
    def cert_valid(self) -> bool:
        """1 in ``xuncha_tls_cert_valid``: the chain verifies and the host name matches."""
        return self.chain_valid and self.hostname_match


# --- content (issue 3) -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnFinding:
    name: str
    category: str
    url: str
    success: bool  # the column page could be fetched and read
    reason: str = ""
    last_update: float | None = None  # newest item's publication time
    blank: bool = False
    items: int = 0
    note: str = ""  # e.g. the placeholder text that made it blank
    items_year: int | None = None  # items dated within the last year (domain.scoring.ACTIVITY_WINDOW)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContentResult(Result):
    """One fetch of the homepage (and its configured columns), judged for
    homepage freshness, columns, required elements, serious errors and privacy.

    ``success`` is the homepage fetch and decode; the parts carry their own.
    """

    kind: str = "content"
    url: str = ""
    homepage_success: bool = False
    homepage_last_update: float | None = None
    homepage_update_source: str = ""  # "dated_items" | "fingerprint" | "remembered" | ""
    # Different dated items on the homepage within domain.scoring.UPDATE_WINDOW (None: none dated, or unread)
    homepage_updates: int | None = None
    columns_success: bool = False
    columns: tuple[ColumnFinding, ...] = ()
    compliance_success: bool = False
    compliance: dict[str, bool] = field(default_factory=dict)  # check -> passed
    serious_errors: int = 0
    privacy_leaks: int = 0
    hidden_links: int = 0  # 暗链 on the homepage (listed in details["hidden_links"])
    # 挂马 and mining scripts on the homepage and column pages (listed in details["malicious_scripts"])
    malicious_scripts: int = 0
    # 伪造发稿日期: column items that appeared after a check, dated before it (details["backdated_items"])
    backdated_items: int = 0
    closed_but_online: bool = False
    closure_notice_shown: bool | None = None  # None unless the site is `closing`
    details: dict[str, Any] = field(default_factory=dict)  # for /api/ only


@dataclass(frozen=True, slots=True, kw_only=True)
class LinksResult(Result):
    kind: str = "links"
    checked: int = 0
    broken: int = 0
    # [{"url", "found_on", "reason", "status"}] — served under /api/, never as labels
    broken_links: tuple[dict[str, Any], ...] = ()
    url: str = ""  # the homepage the links were found on
    found: int = 0  # distinct links on the homepage (checked is at most links.max_links of them)
    capped: bool = False  # more links than links.max_links: the rest were not checked
    details: dict[str, Any] = field(default_factory=dict)  # for /api/ only (cache hits, links by kind)
    # Other pages (issue 19): the configured column pages and the first article of each, their links
    # checked apart from the homepage's (the 2015 census deducts 0.1 each, the homepage's 1).
    other_pages: int = 0  # pages read (column pages and articles); 0 for a site without columns
    other_checked: int = 0
    other_broken: int = 0
    other_broken_links: tuple[dict[str, Any], ...] = ()  # as broken_links, found_on the other page
    # [{"url", "page": "column"|"article", "column", "missing": [tag, ...]}]: pages lacking the standard's tags
    page_tags: tuple[dict[str, Any], ...] = ()


# --- new media (issue 4) -----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedResult(Result):
    kind: str = "feed"
    url: str = ""
    status_code: int | None = None
    last_entry: float | None = None  # newest trusted entry date (survives failures via state)
    entries: int = 0
    entries_recent: int = 0  # entries in the last 14 days
    not_deregistered: bool = False  # status `stopped` and the feed still has entries
    # In the posts' titles and summaries (probes.posts; which posts: details["posts"]); 0 when the
    # feed could not be read (then the emitter writes neither).
    serious_errors: int = 0  # different wrong expressions of the dictionary
    privacy_leaks: int = 0  # different valid resident ID numbers
    format: str = ""  # rss2.0 | rss1.0 | atom | json1.1 | feedparser:<version> (last successful reading)
    unchanged: bool = False  # a 304 Not Modified, or the same body as last time: the last reading was reused
    backoff_until: float | None = None  # Unix time until which the feed's host is left alone
    details: dict[str, Any] = field(default_factory=dict)


# --- services (issue 18: 服务不实用) ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GuideFinding:
    """One service guide (办事指南) read: the element categories it shows with a value, those missing."""

    url: str
    success: bool  # fetched and read
    reason: str = ""
    title: str = ""
    found_on: str = ""  # the service page that links to it ("" for a guide the registry names)
    present: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # of the ten categories (probes.guides.ELEMENTS), in that order
    empty: tuple[str, ...] = ()  # labelled, without a value (a subset of ``missing``)
    state: str = ""  # complete | partial | incomplete (services.missing_elements); "" when not read
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicesResult(Result):
    """The site's ways to services and a bounded sample of its guides, read for their elements.

    ``success`` is the homepage read (discovery); ``offered`` is known only then, or from the registry."""

    kind: str = "services"
    url: str = ""
    offered: bool | None = None  # None: not known (homepage unreadable and nothing in the registry)
    sources: tuple[str, ...] = ()  # where services come from: "registry", "columns", "homepage"
    entries: tuple[dict[str, str], ...] = ()  # ways in found on the homepage: {"url", "text"}
    guides: tuple[GuideFinding, ...] = ()  # the guides read this run
    guides_known: int = 0  # guide links known this run (the sample is drawn from them)

    def count(self, state: str) -> int:
        return sum(1 for g in self.guides if g.state == state)


# --- 互动回应差 (issue 18) ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageColumn:
    """One consultation column read as messages."""

    name: str
    url: str
    success: bool  # the list page could be fetched and read
    reason: str = ""
    discovered: bool = False  # found on the homepage, not configured
    state_shown: bool = False  # some row shows a state; False: judged by its newest item (the fallback)
    messages: int = 0
    by_state: dict[str, int] = field(default_factory=dict)  # answered | unanswered | unknown
    oldest_unanswered: float | None = None  # question date of the oldest unanswered one of the past year
    overdue: int = 0  # unanswered past the veto line (content.stale_days.interaction)
    answered_past_year: int = 0
    reply_max: float | None = None  # seconds from question to reply, over those showing both dates
    reply_median: float | None = None
    newest: float | None = None  # newest question date (what the fallback judges)
    detail_pages: int = 0  # detail pages read this run
    note: str = ""
    unanswered: tuple[dict[str, Any], ...] = ()  # the unanswered messages of the past year, oldest first


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionResult(Result):
    """The site's consultation channels (互动回应差): how many count, and each one's messages.

    ``channels`` is None when it could not be told (the homepage could not be read for discovery)."""

    kind: str = "interaction"
    url: str = ""
    channels: int | None = None
    columns: tuple[MessageColumn, ...] = ()
    excluded: tuple[dict[str, str], ...] = ()  # interaction columns that are not consultation channels, and why
    discovered: tuple[dict[str, str], ...] = ()  # consultation channels found on the homepage
    detail_pages: int = 0
    details: dict[str, Any] = field(default_factory=dict)
