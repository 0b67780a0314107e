"""What the report measures, as PromQL over the raw series the agents export (pure).

Recording rules have no history from before they were loaded, so every measure is
written again here from the raw metrics — by the same lines as the alerts
(``domain.thresholds``) and under the alert rules' ``indicator`` words.  Each
expression is labelled by ``code`` (sites) or ``account`` (accounts) and takes
extra label matchers, so a ``--region`` report or a chart asks only for what it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from domain import metric_names as M
from domain.thresholds import DAY, THRESHOLDS, Line, Thresholds

# The alert rules' ``indicator`` label values (dashboards/rules.py); tests check they agree.
AVAILABILITY, HOMEPAGE, COLUMNS, INTERACTION, SERIOUS = "availability", "homepage", "columns", "interaction", "serious"
SERVICE = "service"  # 服务不实用 (issue 18)
LINKS, COMPLIANCE, CLOSED = "links", "compliance", "closed"
SILENCE, DEREGISTRATION = "silence", "deregistration"
SCORE = "score"  # 总分 under 60 (issue 19; judged in engine._judge_scores, lower being worse)

NEVER = math.inf  # a deduction (扣分), never a veto on its own


@dataclass(frozen=True, slots=True)
class Measure:
    key: str  # what is measured, e.g. "blank_columns"
    indicator: str  # the alert rules' word
    subject: str  # "site" | "account"
    line: Line  # higher is worse; ``critical`` NEVER for deductions
    unit: str  # "ratio" | "days" | "count"
    expr: Callable[[str], str]  # extra matchers -> PromQL; None for availability (judged from daily counts)
    applies_to: str = "active"  # "active" sites/accounts, or "closed" / "stopped" ones only
    # The raw series when the measure is its largest value a subject (``max by (code) (metric)``): its
    # worst over the period is then ``max_over_time`` of the series, with no subquery (see engine).
    gauge: str | None = None
    gauge_matchers: str = ""  # label matchers of ``gauge`` (one state of a state-labelled family)
    # Column counts.  ``stale``: the categories whose stale columns are counted (each column's age
    # against its category's line, ``Thresholds.stale_age``); the count is judged from the columns'
    # ages at Beijing midnights (engine).  ``column_gauge``: a 0/1 series per column whose simultaneous
    # sum is the measure; the sum of each column's ``max_over_time`` over the period bounds it, so
    # only the sites that bound reaches are judged again (engine).
    stale: tuple[str, ...] = ()
    column_gauge: str | None = None
    # Ages (``unit`` "days"): the last-update time, ``expr`` being ``time() - last``.  At an instant
    # ``t``, ``age >= b`` is ``last <= t - b``, which spares Prometheus a subtraction over every series.
    last: Callable[[str], str] | None = None

    @property
    def veto(self) -> bool:
        return math.isfinite(self.line.critical)

    @property
    def ages(self) -> bool:
        """True when the value grows by itself with time, so "days left" before the veto is known."""
        return self.unit == "days"

    def scale(self, value: float) -> float:
        """A value as the report shows it: ages in days."""
        return value / DAY if self.unit == "days" else value


def sel(metric: str, matchers: str, *extra: str) -> str:
    inner = ",".join(x for x in (*extra, matchers) if x)
    return f"{metric}{{{inner}}}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def aged(last: Callable[[str], str]) -> Callable[[str], str]:
    """The age of a last-update time: ``time()`` less it."""
    return lambda m: f"time() - {last(m)}"


def site_measures(t: Thresholds = THRESHOLDS) -> list[Measure]:
    def newest(metric: str) -> Callable[[str], str]:
        return lambda m: f"max by (code) ({sel(metric, m)})"

    def stale(categories: tuple[str, ...]) -> Callable[[str], str]:
        def expr(m: str) -> str:
            terms = " or ".join(f"({column_age(c)(m)} >= {_num(t.stale_age[c])})" for c in categories)
            return f"count by (code) ({terms})"

        return expr

    def answered(m: str) -> str:
        """Per site, the instant its worst consultation column's age counts from: the oldest message of the
        past year still unanswered, or, for a column whose rows show no state (or never read as messages),
        its newest item (as dashboards/rules.py's INTERACTION_AGE)."""
        oldest = f"max by (code, column) ({sel(M.INTERACTION_OLDEST_UNANSWERED, m)})"
        category = 'category="interaction"'
        newest = f"max by (code, column) ({sel(M.COLUMN_LAST_UPDATE, m, category)})"
        judged = f"max by (code, column) ({sel(M.INTERACTION_STATE_SHOWN, m)}) == 1"
        excluded = f"max by (code, column) ({sel(M.INTERACTION_CONSULTATION, m)}) == 0"
        return f"min by (code) ({oldest} or ({newest} unless on (code, column) ({judged} or {excluded})))"

    def no_channel(m: str) -> str:  # 1 while the site has no effective consultation channel
        return f"(min by (code) ({sel(M.SITE_CONSULTATION_CHANNELS, m)}) == bool 0)"

    def gauge(metric: str) -> Callable[[str], str]:
        return lambda m: f"max by (code) ({sel(metric, m)})"

    any_hit = Line(warning=1, critical=1)
    homepage = newest(M.HOMEPAGE_LAST_UPDATE)
    news_notice = tuple(c for c in t.stale_veto_categories if c in t.stale_age)
    return [
        Measure("homepage_age", HOMEPAGE, "site", t.homepage_age, "days", aged(homepage), last=homepage),
        Measure(
            "stale_news_notice_columns",
            COLUMNS,
            "site",
            t.stale_news_notice_columns,
            "count",
            stale(news_notice),
            stale=news_notice,
        ),
        Measure(
            "stale_columns",
            COLUMNS,
            "site",
            t.stale_columns,
            "count",
            stale(tuple(t.stale_age)),
            stale=tuple(t.stale_age),
        ),
        Measure(
            "blank_columns",
            COLUMNS,
            "site",
            t.blank_columns,
            "count",
            lambda m: f"sum by (code) (max by (code, column, category) ({sel(M.COLUMN_BLANK, m)}))",
            column_gauge=M.COLUMN_BLANK,
        ),
        Measure("interaction_age", INTERACTION, "site", t.interaction_age, "days", aged(answered), last=answered),
        Measure("no_consultation_channel", INTERACTION, "site", any_hit, "count", no_channel),
        Measure("serious_errors", SERIOUS, "site", any_hit, "count", gauge(M.SERIOUS_ERRORS), gauge=M.SERIOUS_ERRORS),
        Measure("privacy_leaks", SERIOUS, "site", any_hit, "count", gauge(M.PRIVACY_LEAKS), gauge=M.PRIVACY_LEAKS),
        Measure("hidden_links", SERIOUS, "site", any_hit, "count", gauge(M.HIDDEN_LINKS), gauge=M.HIDDEN_LINKS),
        # issue 19: 挂马 and crypto-mining, a security veto like 暗链
        Measure(
            "malicious_scripts",
            SERIOUS,
            "site",
            any_hit,
            "count",
            gauge(M.SITE_MALICIOUS_SCRIPTS),
            gauge=M.SITE_MALICIOUS_SCRIPTS,
        ),
        Measure(
            "closed_but_online",
            CLOSED,
            "site",
            any_hit,
            "count",
            gauge(M.SITE_CLOSED_BUT_ONLINE),
            "closed",
            gauge=M.SITE_CLOSED_BUT_ONLINE,
        ),
        # 服务不实用 (issue 18): incomplete guides at the configured line; no services at all.
        Measure(
            "incomplete_guides",
            SERVICE,
            "site",
            Line(1, t.service_guides.critical),
            "count",
            lambda m: f"max by (code) ({sel(M.SITE_SERVICE_GUIDES, m, 'state=' + chr(34) + 'incomplete' + chr(34))})",
            gauge=M.SITE_SERVICE_GUIDES,
            gauge_matchers='state="incomplete"',
        ),
        Measure("no_services", SERVICE, "site", any_hit, "count", gauge(M.SITE_NO_SERVICES), gauge=M.SITE_NO_SERVICES),
        Measure("broken_links", LINKS, "site", Line(1, NEVER), "count", gauge(M.LINKS_BROKEN), gauge=M.LINKS_BROKEN),
        Measure(
            "compliance_failures",
            COMPLIANCE,
            "site",
            Line(1, NEVER),
            "count",
            lambda m: f"count by (code) (max by (code, check) ({sel(M.COMPLIANCE_CHECK, m)}) == 0)",
        ),
    ]


def account_measures(t: Thresholds = THRESHOLDS) -> list[Measure]:
    def posted(m: str) -> str:
        return f"max by (account) ({sel(M.FEED_LAST_ENTRY, m)})"

    return [
        Measure(
            "silence",
            SILENCE,
            "account",
            t.account_silence,
            "days",
            aged(posted),
            last=posted,
        ),
        Measure(
            "not_deregistered",
            DEREGISTRATION,
            "account",
            Line(1, 1),
            "count",
            lambda m: f"max by (account) ({sel(M.ACCOUNT_NOT_DEREGISTERED, m)})",
            "stopped",
            gauge=M.ACCOUNT_NOT_DEREGISTERED,
        ),
        # 严重表述错误 in posts (issue 18): a veto for accounts as for sites, under the same word.
        Measure(
            "serious_errors",
            SERIOUS,
            "account",
            Line(1, 1),
            "count",
            lambda m: f"max by (account) ({sel(M.ACCOUNT_SERIOUS_ERRORS, m)})",
            gauge=M.ACCOUNT_SERIOUS_ERRORS,
        ),
        Measure(
            "privacy_leaks",
            SERIOUS,
            "account",
            Line(1, 1),
            "count",
            lambda m: f"max by (account) ({sel(M.ACCOUNT_PRIVACY_LEAKS, m)})",
            gauge=M.ACCOUNT_PRIVACY_LEAKS,
        ),
    ]


def availability(t: Thresholds = THRESHOLDS) -> Measure:
    """站点无法访问: judged per Beijing day from daily increases of the visit counters (see engine)."""
    return Measure("unreachable_ratio", AVAILABILITY, "site", t.unreachable_ratio, "ratio", lambda m: "")


def column_last(category: str) -> Callable[[str], str]:
    """Each column's newest item in ``category``."""
    return lambda m: (
        f"max by (code, column, category) ({sel(M.COLUMN_LAST_UPDATE, m, f'category={chr(34)}{category}{chr(34)}')})"
    )


def column_age(category: str) -> Callable[[str], str]:
    """Each column's age (``time()`` less its newest item) in ``category``: what ``stale`` counts against its line."""
    return aged(column_last(category))


def region_matchers(prefix: str | None) -> str:
    return f'code=~"{prefix}.*"' if prefix else ""
