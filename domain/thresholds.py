"""Every line the findings, the report, alerts, recording rules and dashboards draw — in one place.

The veto (单项否决) lines are the published indicators (国办秘函〔2019〕19号, see
``shared/docs/indicators.md``); the early-warning lines are the vendors' practice
(预警: 3 %, 10 days, more than 2 blank, more than 6 stale).  Change a number here
and run ``python -m dashboards``: rules, alerts, rule tests and dashboards follow;
the agent's findings and report take their defaults from here too, and
``content.stale_days``, ``content.homepage_stale_days`` and ``http.timeout`` in
``xuncha.yml`` override them (``agent.registry.config.thresholds_of``).

Counts are written as the smallest value that trips the line ("more than 2
blank columns" is ``3``), so every comparison in the rules is ``>=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Line:
    """An early-warning value and a veto value of one measure."""

    warning: float
    critical: float


def _frozen(d: dict[str, float]) -> Mapping[str, float]:
    return MappingProxyType(d)


@dataclass(frozen=True, slots=True)
class Thresholds:
    # 站点无法访问 [rule]: ≥ 5 % of one week's visits did not open within 15 s. [practice] warn at 3 %.
    unreachable_ratio: Line = Line(warning=0.03, critical=0.05)
    unreachable_window: float = 7 * DAY
    # [rule] "did not open within 15 s": the availability visit's timeout (``http.timeout``).
    visit_timeout: float = 15.0
    # [ours] The rule's minimum cadence is 20 visits a day; fewer visits in the window are not a ratio yet.
    unreachable_min_checks: float = 20
    # 首页不更新 [rule]: nothing new in the 2 weeks before the check. [practice] warn at 10 days.
    homepage_age: Line = Line(warning=10 * DAY, critical=14 * DAY)
    # 栏目不更新 [rule]: a column is stale after this long without a new item, by category.
    stale_age: Mapping[str, float] = field(
        default_factory=lambda: _frozen({"news": 14 * DAY, "notice": 180 * DAY, "longterm": 365 * DAY})
    )
    # [ours] 服务不实用: a service column with nothing new for a year is worth a look (not a veto).
    service_age: float = 365 * DAY
    # [rule] ≥ 5 stale news (动态/要闻) or notice (通知公告/政策文件) columns is a veto.
    stale_veto_categories: tuple[str, ...] = ("news", "notice")
    # [ours] warn at 3, the vendors' blank-column line applied to this count.
    stale_news_notice_columns: Line = Line(warning=3, critical=5)
    # [rule] ≥ 10 columns long not updated (any stale category) is a veto; [practice] warn at more than 6.
    stale_columns: Line = Line(warning=7, critical=10)
    # [rule] ≥ 5 blank columns (空白栏目) is a veto; [practice] warn at more than 2.
    blank_columns: Line = Line(warning=3, critical=5)
    # 互动回应差 [rule]: a consultation left unanswered for more than 3 months. [ours] warn at 2 months.
    interaction_age: Line = Line(warning=60 * DAY, critical=90 * DAY)
    # 服务不实用 [rule]: guides lacking key element categories; the counts are not confirmed by a public
    # source. [ours] warning: a guide read missing any of the ten categories; veto: this many guides read
    # missing at least ``services.missing_elements`` (incomplete). ``services.incomplete_guides`` sets it.
    service_guides: Line = Line(warning=1, critical=1)
    # 政务新媒体 内容不更新 [rule]: nothing in the 2 weeks before the check; [practice] provinces warn at 1 week.
    account_silence: Line = Line(warning=7 * DAY, critical=14 * DAY)
    # Certificates [ours]: time left before expiry (lower is worse).
    cert_remaining: Line = Line(warning=30 * DAY, critical=7 * DAY)
    # 总分 (domain.scoring) [rule]: under 60 is unqualified (more than 40 deducted; 国办秘函〔2019〕19号,
    # 2015 普查). [ours] warn under 70. Lower is worse: a score *below* the value trips the line.
    site_score: Line = Line(warning=70.0, critical=60.0)
    # [ours] The agent's scheduler is late: 90th percentile lag.
    scheduler_lag_seconds: float = 300.0
    # How long a condition must hold before its alert fires (Prometheus ``for:``), per alert name.
    for_seconds: Mapping[str, float] = field(
        default_factory=lambda: _frozen(
            {
                "XunchaSiteUnreachable": 15 * 60,
                "XunchaSiteDown": 15 * 60,
                "XunchaDNSFailing": 15 * 60,
                "XunchaHomepageNotUpdated": 3600,
                "XunchaColumnsNotUpdated": 3600,
                "XunchaColumnsBlank": 3600,
                "XunchaInteractionUnanswered": 3600,
                "XunchaNoConsultationChannel": 3600,
                "XunchaProbeFailing": 3 * 3600,
                "XunchaCertificateExpiring": 3600,
                "XunchaCertificateExpired": 5 * 60,
                "XunchaCertificateInvalid": 30 * 60,
                "XunchaHomepageLinksBroken": 3600,
                "XunchaRequiredElementMissing": 3600,
                "XunchaSeriousError": 5 * 60,
                "XunchaPrivacyLeak": 5 * 60,
                "XunchaHiddenLinks": 5 * 60,
                "XunchaMaliciousScripts": 5 * 60,
                "XunchaBackdatedItems": 5 * 60,
                "XunchaClosedSiteOnline": 3600,
                "XunchaClosureNoticeMissing": 3600,
                "XunchaSiteScoreLow": 3600,
                "XunchaAccountSilent": 3600,
                "XunchaFeedFailing": 3 * 3600,
                "XunchaAccountNotDeregistered": 3600,
                "XunchaServiceGuidesIncomplete": 3600,
                "XunchaNoServices": 3600,
                "XunchaAccountSeriousError": 5 * 60,
                "XunchaAccountPrivacyLeak": 5 * 60,
                "XunchaAgentDown": 5 * 60,
                "XunchaAgentAbsent": 15 * 60,
                "XunchaAgentNotProbing": 15 * 60,
                "XunchaAgentLagging": 15 * 60,
                "XunchaConfigReloadFailed": 10 * 60,
            }
        )
    )

    def stale_days(self) -> dict[str, float]:
        """Days without a new item before a column of each category is stale (``content.stale_days``)."""
        days = {cat: age / DAY for cat, age in self.stale_age.items()}
        days["interaction"] = self.interaction_age.critical / DAY
        days["service"] = self.service_age / DAY
        return days


THRESHOLDS = Thresholds()
