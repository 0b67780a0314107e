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
from probes.results import (
    ContentResult,
    DnsResult,
    FeedResult,
    HttpResult,
    InteractionResult,
    LinksResult,
    Result,
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
    """``families`` in exposition order, each knowing its place (a scrape joins lines by it)."""
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
CLOSED_ONLINE = Family(m.SITE_CLOSED_BUT_ONLINE, "1 if a site registered as closed still answers (带病运行).", _C)
CLOSURE_NOTICE = Family(
    m.SITE_CLOSURE_NOTICE_SHOWN, "For closing sites: 1 if the homepage shows a closure notice (关停公告).", _C
)
SITE_FINDINGS = Family(
    m.SITE_FINDINGS_TOTAL,
    "Content checks whose result showed the finding: serious_errors, privacy_leaks, hidden_links (the gauges "
    "above 0), blank_columns (at least one blank column), closed_but_online (a closed site answering). "
    "From the site's first content check on; a count that did not move between two instants means no check "
    "saw the finding between them.",
    ("code", "finding"),
    "counter",
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
    HIDDEN_LINKS, CLOSED_ONLINE, CLOSURE_NOTICE, SITE_FINDINGS,
    CONSULTATION_CHANNELS, INTERACTION_CONSULTATION, INTERACTION_STATE_SHOWN, INTERACTION_OLDEST, INTERACTION_MESSAGES,
    INTERACTION_ANSWERED, INTERACTION_OVERDUE, INTERACTION_REPLY,
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
ACCOUNT_FINDINGS = Family(
    m.ACCOUNT_FINDINGS_TOTAL,
    "For stopped accounts: feed checks whose result showed the finding (not_deregistered: still publishing). "
    "From the account's first feed check on; a count that did not move between two instants means no check "
    "saw the finding between them.",
    ("account", "finding"),
    "counter",
)

# Exposition order of the account families.
ACCOUNT_FAMILIES = _indexed(
    ACCOUNT_INFO, FEED_SUCCESS, FEED_LAST_ENTRY, FEED_RECENT, NOT_DEREGISTERED, ACCOUNT_FINDINGS
)

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
        out.add(SITE_FINDINGS, [site.code, finding], n)


def account_findings(out: Lines, account: Account, counts: Sequence[int]) -> None:
    """``counts`` in :data:`domain.metric_names.ACCOUNT_FINDINGS` order; stopped accounts only (an
    active account is never flagged: 150,000 series of 0 at national size)."""
    if account.status == "stopped":
        for finding, n in zip(m.ACCOUNT_FINDINGS, counts, strict=True):
            out.add(ACCOUNT_FINDINGS, [account.id, finding], n)


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


def emit_feed(out: Lines, account: Site | Account, r: Result) -> None:
    assert isinstance(account, Account) and isinstance(r, FeedResult)
    out.add(FEED_SUCCESS, [account.id], 1 if r.success else 0)
    if r.last_entry is not None:
        out.add(FEED_LAST_ENTRY, [account.id], r.last_entry)
    if r.success:
        out.add(FEED_RECENT, [account.id], r.entries_recent)
    if account.status == "stopped":  # never 1 for another account
        out.add(NOT_DEREGISTERED, [account.id], 1 if r.not_deregistered else 0)


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
