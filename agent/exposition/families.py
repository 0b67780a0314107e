"""The per-target metric families, and what each probe kind's result adds to them.

Text format 0.0.4 written straight from results (no client_python objects: a
country is ~400,000 series, see ``agent.exposition.collector.TargetExposition``).  Each
family is declared once here, in exposition order; each probe kind's emitter is
named by its declaration in :mod:`agent.kinds`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client.utils import floatToGoString

from agent.limits import MAX_LABEL_VALUE, clip
from domain import metric_names as m
from domain.registry import Account, Site
from domain.scoring import Score
from probes.results import (
    ContentResult,
    DnsResult,
    FeedResult,
    HttpResult,
    InteractionResult,
    LinksResult,
    Result,
    ServicesResult,
    TlsResult,
)


@dataclass(frozen=True, slots=True)
class Family:
    """One metric family: its name, help text, label names and type."""

    name: str
    doc: str
    labels: tuple[str, ...]
    type: str = "gauge"
    index: int = -1  # its place in SITE_FAMILIES or ACCOUNT_FAMILIES (set there)
    header: str = field(init=False)

    def __post_init__(self) -> None:
        # HELP and TYPE name the same family, the full sample name, as client_python writes the
        # 0.0.4 format: a TYPE for "xuncha_http_checks" left the _total samples untyped (issue 10).
        object.__setattr__(self, "header", f"# HELP {self.name} {self.doc}\n# TYPE {self.name} {self.type}\n")


def _escape(value: str) -> str:
    if len(value) > MAX_LABEL_VALUE:  # config validation bounds names; this bounds everything else
        value = clip(value, MAX_LABEL_VALUE)
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


class Lines:
    """The exposition lines of one target, per family (``by_family[family.index]``)."""

    __slots__ = ("by_family",)

    def __init__(self, families: tuple[Family, ...]) -> None:
        self.by_family: list[list[str]] = [[] for _ in families]

    def add(self, family: Family, values: Sequence[str], value: float) -> None:
        pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in zip(family.labels, values, strict=True))
        text = str(value) if type(value) is int else floatToGoString(value)
        line = f"{family.name}{{{pairs}}} {text}\n" if pairs else f"{family.name} {text}\n"
        self.by_family[family.index].append(line)


def _indexed(*families: Family) -> tuple[Family, ...]:
    """``families`` in exposition order, each knowing its place (a scrape joins lines by it).  A family
    listed twice would be exposed twice (a second HELP line: Prometheus refuses the whole scrape)."""
    names = [f.name for f in families]
    if len(set(names)) != len(names):
        raise ValueError(f"families listed twice: {sorted({n for n in names if names.count(n) > 1})}")
    for i, f in enumerate(families):
        object.__setattr__(f, "index", i)
    return families


_C = ("code",)
_COLUMN = ("code", "column", "category")

SITE_INFO = Family(
    m.SITE_INFO,
    "1 per registered site; descriptive labels live here only.",
    ("code", "name", "region", "province", "kind", "status", "url"),
)
PROBE_SUCCESS = Family(m.PROBE_SUCCESS, "1 if the latest run of the probe kind succeeded.", ("code", "probe"))
HTTP_CHECKS = Family(m.HTTP_CHECKS_TOTAL, "Homepage visits (availability checks).", _C, "counter")
HTTP_FAILURES = Family(
    m.HTTP_FAILURES_TOTAL, "Homepage visits without a final 2xx/3xx response within the timeout.", _C, "counter"
)
HTTP_STATUS = Family(m.HTTP_STATUS_CODE, "Status code of the latest homepage visit.", _C)
HTTP_DURATION = Family(m.HTTP_DURATION_SECONDS, "Phase durations of the latest homepage visit.", ("code", "phase"))
HTTP_LAST_CHECK = Family(m.HTTP_LAST_CHECK_TIMESTAMP, "When the homepage was last visited.", _C)
DNS_LOOKUP = Family(m.DNS_LOOKUP_SECONDS, "Duration of the latest DNS lookup.", _C)
DNS_ANSWERS = Family(m.DNS_ANSWERS, "Addresses in the latest DNS answer, by family.", ("code", "family"))
TLS_NOT_AFTER = Family(m.TLS_CERT_NOT_AFTER, "Expiry of the leaf certificate.", _C)
TLS_NOT_BEFORE = Family(m.TLS_CERT_NOT_BEFORE, "Start of the leaf certificate.", _C)
TLS_CERT_VALID = Family(m.TLS_CERT_VALID, "1 if the chain verifies and the host name matches.", _C)
TLS_CHAIN_VALID = Family(m.TLS_CHAIN_VALID, "1 if the certificate chain verifies.", _C)
TLS_HOST_MATCH = Family(m.TLS_HOSTNAME_MATCH, "1 if the certificate covers the host name.", _C)
HOMEPAGE = Family(m.HOMEPAGE_LAST_UPDATE, "Newest publication on the homepage.", _C)
COLUMN_UPDATE = Family(m.COLUMN_LAST_UPDATE, "Newest item of each configured column.", _COLUMN)
COLUMN_BLANK = Family(m.COLUMN_BLANK, "1 if the column is blank (空白栏目).", _COLUMN)
LINKS_CHECKED = Family(m.LINKS_CHECKED, "Links found on the homepage and checked.", _C)
LINKS_BROKEN = Family(m.LINKS_BROKEN, "Broken links on the homepage.", _C)
COMPLIANCE = Family(m.COMPLIANCE_CHECK, "1 pass / 0 fail per required element.", ("code", "check"))
SERIOUS = Family(m.SERIOUS_ERRORS, "Different wrong expressions of the dictionary found (严重错误).", _C)
PRIVACY = Family(m.PRIVACY_LEAKS, "Valid resident ID numbers found (个人信息泄露).", _C)
HIDDEN_LINKS = Family(m.HIDDEN_LINKS, "Links hidden on the homepage (暗链), listed under /api/.", _C)
MALICIOUS = Family(
    m.SITE_MALICIOUS_SCRIPTS, "Injected scripts and frames (挂马, crypto-mining) on the homepage and columns.", _C
)
BACKDATED = Family(
    m.SITE_BACKDATED_ITEMS, "Column items that appeared after a check, dated before it (伪造发稿日期, for review).", _C
)
CLOSED_ONLINE = Family(m.SITE_CLOSED_BUT_ONLINE, "1 if a site registered as closed still answers (带病运行).", _C)
CLOSURE_NOTICE = Family(
    m.SITE_CLOSURE_NOTICE_SHOWN, "For closing sites: 1 if the homepage shows a closure notice (关停公告).", _C
)
SITE_FINDINGS = Family(
    m.SITE_FINDINGS_TOTAL,
    "Content checks whose result showed the finding: serious_errors, privacy_leaks, hidden_links, "
    "malicious_scripts (the gauges above 0), blank_columns (at least one blank column), closed_but_online "
    "(a closed site answering). "
    "From the site's first content check on; a count that did not move between two instants means no check "
    "saw the finding between them.",
    ("code", "finding"),
    "counter",
)

# --- the score (issue 19) ---------------------------------------------------------------------------
COLUMN_LINKS_CHECKED = Family(
    m.COLUMN_LINKS_CHECKED,
    "Links found on the column pages and their first articles (not on the homepage), checked.",
    _C,
)
COLUMN_LINKS_BROKEN = Family(m.COLUMN_LINKS_BROKEN, "Broken links on the column pages and their first articles.", _C)
PAGE_TAGS_MISSING = Family(
    m.PAGE_TAGS_MISSING, "Column pages and first articles missing a meta tag of the standard (网页标签不规范).", _C
)
SITE_SCORE = Family(m.SITE_SCORE, "总分 from the measured items of the scoring table (under 60 is unqualified).", _C)
SITE_DEDUCTIONS = Family(m.SITE_DEDUCTIONS, "Points deducted per measured item of the scoring table.", ("code", "item"))
SCORE_FAMILIES = (COLUMN_LINKS_CHECKED, COLUMN_LINKS_BROKEN, PAGE_TAGS_MISSING, SITE_SCORE, SITE_DEDUCTIONS)

SERVICE_GUIDES = Family(
    m.SITE_SERVICE_GUIDES,
    "Service guides (办事指南) read in the latest services run, by state: complete (all ten element categories), "
    "partial, incomplete (at least services.missing_elements missing). Which and what is missing: /api/.",
    ("code", "state"),
)
NO_SERVICES = Family(
    m.SITE_NO_SERVICES, "1 if the site offers no services (no 办事服务 column, no way into the 政务服务网).", _C
)

# 互动回应差 (probes/interaction.py): consultation channels read as messages.
_MC = ("code", "column")
INTERACTION_STATE_SHOWN = Family(
    m.INTERACTION_STATE_SHOWN,
    "1 if the consultation column's rows show a state (judged by its messages); 0: judged by its newest item.",
    _MC,
)
INTERACTION_CONSULTATION = Family(
    m.INTERACTION_CONSULTATION,
    "Per configured interaction column: 1 if it is a consultation channel, 0 if not (信访, 纪检, 访谈, 调查征集).",
    _MC,
)
INTERACTION_OLDEST = Family(
    m.INTERACTION_OLDEST_UNANSWERED,
    "Question date of the oldest message of the past year still unanswered (互动回应差); absent when none.",
    _MC,
)
INTERACTION_MESSAGES = Family(
    m.INTERACTION_MESSAGES, "Messages read on the column's list, by state.", ("code", "column", "state")
)
INTERACTION_ANSWERED = Family(m.INTERACTION_ANSWERED, "Answered messages of the past year.", _MC)
INTERACTION_OVERDUE = Family(
    m.INTERACTION_OVERDUE, "Unanswered messages of the past year older than the veto line.", _MC
)
INTERACTION_REPLY = Family(
    m.INTERACTION_REPLY_SECONDS,
    "From question to reply over the answered messages showing both dates: stat=max or median.",
    ("code", "column", "stat"),
)
CONSULTATION_CHANNELS = Family(
    m.SITE_CONSULTATION_CHANNELS,
    "Effective consultation channels (configured, else discovered on the homepage); 0 is a veto.",
    _C,
)

# Exposition order of the site families.
SITE_FAMILIES = _indexed(
    SITE_INFO, PROBE_SUCCESS, HTTP_CHECKS, HTTP_FAILURES, HTTP_STATUS, HTTP_DURATION, HTTP_LAST_CHECK,
    DNS_LOOKUP, DNS_ANSWERS, TLS_NOT_AFTER, TLS_NOT_BEFORE, TLS_CERT_VALID, TLS_CHAIN_VALID, TLS_HOST_MATCH,
    HOMEPAGE, COLUMN_UPDATE, COLUMN_BLANK, LINKS_CHECKED, LINKS_BROKEN, COMPLIANCE, SERIOUS, PRIVACY,
    HIDDEN_LINKS, CLOSED_ONLINE, CLOSURE_NOTICE, SITE_FINDINGS, SERVICE_GUIDES, NO_SERVICES,
    MALICIOUS, BACKDATED,
    CONSULTATION_CHANNELS, INTERACTION_CONSULTATION, INTERACTION_STATE_SHOWN, INTERACTION_OLDEST, INTERACTION_MESSAGES,
    INTERACTION_ANSWERED, INTERACTION_OVERDUE, INTERACTION_REPLY,
    *SCORE_FAMILIES,
)  # fmt: skip

_A = ("account",)
ACCOUNT_INFO = Family(
    m.ACCOUNT_INFO,
    "1 per registered new-media account (政务新媒体).",
    ("account", "unit", "platform", "name", "status", "region", "province"),
)
FEED_SUCCESS = Family(m.FEED_SUCCESS, "1 if the account's feed could be fetched and parsed.", _A)
FEED_LAST_ENTRY = Family(m.FEED_LAST_ENTRY, "Newest trusted entry of the account's feed.", _A)
FEED_RECENT = Family(m.FEED_ENTRIES_RECENT, "Feed entries in the last 14 days.", _A)
NOT_DEREGISTERED = Family(
    m.ACCOUNT_NOT_DEREGISTERED,
    "For stopped accounts: 1 if the account still publishes (must be deregistered, 注销).",
    _A,
)
ACCOUNT_SERIOUS = Family(
    m.ACCOUNT_SERIOUS_ERRORS, "Different wrong expressions of the dictionary in the account's posts (严重表述错误).", _A
)
ACCOUNT_PRIVACY = Family(m.ACCOUNT_PRIVACY_LEAKS, "Valid resident ID numbers in the account's posts.", _A)
ACCOUNT_FINDINGS = Family(
    m.ACCOUNT_FINDINGS_TOTAL,
    "Feed checks whose result showed the finding: serious_errors, privacy_leaks (the gauges above 0), and for "
    "stopped accounts not_deregistered (still publishing). From the account's first feed check on; a count that "
    "did not move between two instants means no check saw the finding between them.",
    ("account", "finding"),
    "counter",
)

# Exposition order of the account families.
ACCOUNT_FAMILIES = _indexed(
    ACCOUNT_INFO, FEED_SUCCESS, FEED_LAST_ENTRY, FEED_RECENT, NOT_DEREGISTERED, ACCOUNT_SERIOUS, ACCOUNT_PRIVACY,
    ACCOUNT_FINDINGS,
)  # fmt: skip

# What one probe kind's latest result adds to its target's lines.
Emitter = Callable[[Lines, Site | Account, Result], None]


def site_info(out: Lines, site: Site) -> None:
    region = site.region
    out.add(SITE_INFO, [site.code, site.name, region.name, region.province, site.kind, site.status, site.url], 1)


def account_info(out: Lines, account: Account) -> None:
    region = account.region
    out.add(
        ACCOUNT_INFO,
        [account.id, account.unit, account.platform, account.name, account.status, region.name, region.province],
        1,
    )


def http_counters(out: Lines, code: str, checks: int, failures: int) -> None:
    out.add(HTTP_CHECKS, [code], checks)
    out.add(HTTP_FAILURES, [code], failures)


def site_findings(out: Lines, site: Site, counts: Sequence[int]) -> None:
    """``counts`` in :data:`domain.metric_names.SITE_FINDINGS` order (``ResultStore.finding_counts``),
    each written where its gauge can be: blank_columns for a site with columns, closed_but_online
    for a closed site."""
    for finding, n in zip(m.SITE_FINDINGS, counts, strict=True):
        if finding == "blank_columns" and not site.columns:
            continue
        if finding == "closed_but_online" and site.status != "closed":
            continue
        if finding in ("incomplete_guides", "no_services") and site.status == "closed":
            continue  # a closed site is judged for 带病运行 only (no services probe)
        out.add(SITE_FINDINGS, [site.code, finding], n)


def account_findings(out: Lines, account: Account, counts: Sequence[int]) -> None:
    """``counts`` in :data:`domain.metric_names.ACCOUNT_FINDINGS` order.  not_deregistered for stopped
    accounts only (an active account is never flagged: 150,000 series of 0 at national size);
    serious_errors and privacy_leaks once they moved (below)."""
    for finding, n in zip(m.ACCOUNT_FINDINGS, counts, strict=True):
        if finding == "not_deregistered" and account.status != "stopped":
            continue
        if finding in _SPARSE_ACCOUNT_FINDINGS and n == 0:
            continue
        out.add(ACCOUNT_FINDINGS, [account.id, finding], n)


# Issue 18's findings of posts: written once a check saw one (as their gauges, above 0 only).  The
# report reads a count that appeared within the period as moved, and an account with neither a
# count nor a gauge had nothing; at national size 150,000 accounts would otherwise carry 600,000
# series of 0 (+40 % of /metrics).
_SPARSE_ACCOUNT_FINDINGS = frozenset(("serious_errors", "privacy_leaks"))


def emit_http(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, HttpResult)
    out.add(PROBE_SUCCESS, [site.code, "http"], 1 if r.success else 0)
    out.add(HTTP_LAST_CHECK, [site.code], r.started)
    if r.status_code is not None:
        out.add(HTTP_STATUS, [site.code], r.status_code)
    for phase, seconds in r.phases.items():
        out.add(HTTP_DURATION, [site.code, phase], seconds)


def emit_dns(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, DnsResult)
    out.add(PROBE_SUCCESS, [site.code, "dns"], 1 if r.success else 0)
    out.add(DNS_LOOKUP, [site.code], r.lookup_seconds)
    out.add(DNS_ANSWERS, [site.code, "ipv4"], len(r.ipv4))
    out.add(DNS_ANSWERS, [site.code, "ipv6"], len(r.ipv6))


def emit_tls(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, TlsResult)
    out.add(PROBE_SUCCESS, [site.code, "tls"], 1 if r.success else 0)
    if r.not_after is None:
        return
    out.add(TLS_NOT_AFTER, [site.code], r.not_after)
    if r.not_before is not None:
        out.add(TLS_NOT_BEFORE, [site.code], r.not_before)
    out.add(TLS_CERT_VALID, [site.code], 1 if r.cert_valid else 0)
    out.add(TLS_CHAIN_VALID, [site.code], 1 if r.chain_valid else 0)
    out.add(TLS_HOST_MATCH, [site.code], 1 if r.hostname_match else 0)


def emit_content(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, ContentResult)
    code = site.code
    out.add(PROBE_SUCCESS, [code, "homepage"], 1 if r.homepage_success else 0)
    if r.homepage_last_update is not None:
        out.add(HOMEPAGE, [code], r.homepage_last_update)
    if site.columns:
        out.add(PROBE_SUCCESS, [code, "columns"], 1 if r.columns_success else 0)
    for col in r.columns:
        if col.last_update is not None:
            out.add(COLUMN_UPDATE, [code, col.name, col.category], col.last_update)
        if col.success:
            out.add(COLUMN_BLANK, [code, col.name, col.category], 1 if col.blank else 0)
    if r.homepage_success:
        out.add(PROBE_SUCCESS, [code, "compliance"], 1 if r.compliance_success else 0)
        for check, passed in r.compliance.items():
            out.add(COMPLIANCE, [code, check], 1 if passed else 0)
        out.add(SERIOUS, [code], r.serious_errors)
        out.add(PRIVACY, [code], r.privacy_leaks)
        out.add(HIDDEN_LINKS, [code], r.hidden_links)
        out.add(MALICIOUS, [code], r.malicious_scripts)
    if site.columns:
        out.add(BACKDATED, [code], r.backdated_items)
    if site.status == "closed":
        out.add(CLOSED_ONLINE, [code], 1 if r.closed_but_online else 0)
    if r.closure_notice_shown is not None:
        out.add(CLOSURE_NOTICE, [code], 1 if r.closure_notice_shown else 0)


def emit_links(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, LinksResult)
    out.add(PROBE_SUCCESS, [site.code, "links"], 1 if r.success else 0)
    if r.checked or r.success:
        out.add(LINKS_CHECKED, [site.code], r.checked)
        out.add(LINKS_BROKEN, [site.code], r.broken)
    if r.success and r.other_pages:
        out.add(COLUMN_LINKS_CHECKED, [site.code], r.other_checked)
        out.add(COLUMN_LINKS_BROKEN, [site.code], r.other_broken)
        out.add(PAGE_TAGS_MISSING, [site.code], len(r.page_tags))


def site_score(out: Lines, site: Site, score: Score) -> None:
    """The score and each measured item's deduction (bonus items are in the score only); nothing for
    a site with no item measured yet, or a closed one (not scored: listed apart)."""
    if site.status == "closed" or not (score.items or score.bonus_items):
        return
    out.add(SITE_SCORE, [site.code], score.total)
    for item, points in score.items.items():
        out.add(SITE_DEDUCTIONS, [site.code, item], points)


def emit_feed(out: Lines, account: Site | Account, r: Result) -> None:
    assert isinstance(account, Account) and isinstance(r, FeedResult)
    out.add(FEED_SUCCESS, [account.id], 1 if r.success else 0)
    if r.last_entry is not None:
        out.add(FEED_LAST_ENTRY, [account.id], r.last_entry)
    if r.success:
        out.add(FEED_RECENT, [account.id], r.entries_recent)
    if account.status == "stopped":  # never 1 for another account
        out.add(NOT_DEREGISTERED, [account.id], 1 if r.not_deregistered else 0)
    # Only while a read feed's posts show one (see _SPARSE_ACCOUNT_FINDINGS): absent is none, or not read.
    if r.success and r.serious_errors:
        out.add(ACCOUNT_SERIOUS, [account.id], r.serious_errors)
    if r.success and r.privacy_leaks:
        out.add(ACCOUNT_PRIVACY, [account.id], r.privacy_leaks)


def emit_services(out: Lines, site: Site | Account, r: Result) -> None:
    """服务不实用 (issue 18): the guides read by state, and whether the site offers services at all."""
    assert isinstance(site, Site) and isinstance(r, ServicesResult)
    out.add(PROBE_SUCCESS, [site.code, "services"], 1 if r.success else 0)
    if r.offered is not None:
        out.add(NO_SERVICES, [site.code], 0 if r.offered else 1)
    if r.guides or r.offered:
        for state in m.SERVICE_GUIDE_STATES:
            out.add(SERVICE_GUIDES, [site.code, state], r.count(state))


def emit_interaction(out: Lines, site: Site | Account, r: Result) -> None:
    assert isinstance(site, Site) and isinstance(r, InteractionResult)
    code = site.code
    out.add(PROBE_SUCCESS, [code, "interaction"], 1 if r.success else 0)
    if r.channels is not None:
        out.add(CONSULTATION_CHANNELS, [code], r.channels)
    for col in r.columns:
        if not col.discovered:
            out.add(INTERACTION_CONSULTATION, [code, col.name], 1)
    for excluded in r.excluded:
        out.add(INTERACTION_CONSULTATION, [code, excluded["column"]], 0)
    for col in r.columns:
        if not col.success and col.note == "":
            continue  # never read: nothing known
        labels = [code, col.name]
        out.add(INTERACTION_STATE_SHOWN, labels, 1 if col.state_shown else 0)
        if not col.state_shown:
            continue
        if col.oldest_unanswered is not None:
            out.add(INTERACTION_OLDEST, labels, col.oldest_unanswered)
        if col.success:
            for state in m.INTERACTION_STATES:
                out.add(INTERACTION_MESSAGES, [*labels, state], col.by_state.get(state, 0))
            out.add(INTERACTION_OVERDUE, labels, col.overdue)
        out.add(INTERACTION_ANSWERED, labels, col.answered_past_year)
        if col.reply_max is not None and col.reply_median is not None:
            out.add(INTERACTION_REPLY, [*labels, "max"], col.reply_max)
            out.add(INTERACTION_REPLY, [*labels, "median"], col.reply_median)
