"""Prometheus recording and alerting rules, generated from the metric names and thresholds.

``python -m dashboards`` writes them to ``deploy/prometheus/xuncha-rules.yml`` (recording)
and ``deploy/prometheus/xuncha-alerts.yml`` (alerting), and into the Kubernetes
``PrometheusRule``.  Nothing here is spelled twice: metric names come from
:mod:`domain.metric_names`, numbers from :mod:`dashboards.thresholds`.

Conventions (an SRE reading the YAML should find no surprises):

* recording rules are named ``level:metric:operation``; per-site series keep only ``code``,
  per-account series only ``account``; descriptive labels are joined from the ``_info``
  series at the end, so alerts carry ``name``, ``region`` and ``province`` for routing;
* every alert has ``severity`` (``warning`` at the early-warning line, ``critical`` at the
  veto line, with the *same* alert name so Alertmanager can inhibit one by the other),
  ``indicator`` and ``code`` or ``account``; annotations ``summary`` (中文) and
  ``description`` (English) say what is wrong and when it becomes a veto, ``line`` the
  lines it is judged by and ``veto`` by when (or whether) it becomes a veto (中文, for the
  notification templates in ``deploy/alertmanager/xuncha.tmpl``), ``dashboard_url`` the
  Grafana dashboard of the site (account, agent) and ``runbook_url`` what to do
  (``docs/runbook.md``, one section per alert name);
* a site registered ``closed`` gets no alert but ``XunchaClosedSiteOnline``; an account
  registered ``stopped`` gets no alert but ``XunchaAccountNotDeregistered``.

:class:`Options` makes a test variant: ``for_scale`` shrinks every ``for:`` and ``window``
shortens the 7-day availability window, so an end-to-end test can see alerts fire in seconds.
The rule names stay the same in the variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from domain import metric_names as M
from domain.durations import format_duration
from domain.thresholds import DAY, THRESHOLDS, Line, Thresholds

# --- recorded series (the dashboards read these too) -----------------------------------------
SITE_INFO = "code:xuncha_site_info:max"
ACCOUNT_INFO = "account:xuncha_account_info:max"
HTTP_CHECKS_7D = "code:xuncha_http_checks:increase7d"
HTTP_FAILURES_7D = "code:xuncha_http_failures:increase7d"
UNREACHABLE_RATIO = "code:xuncha_http_unreachable:ratio7d"
HOMEPAGE_AGE = "code:xuncha_homepage_age:seconds"
COLUMN_AGE = "code_column_category:xuncha_column_age:seconds"
COLUMN_STALE = "code_column_category:xuncha_column_stale:bool"
COLUMNS_STALE_BY_CATEGORY = "code_category:xuncha_columns_stale:count"
COLUMNS_STALE = "code:xuncha_columns_stale:count"
COLUMNS_STALE_NEWS_NOTICE = "code:xuncha_columns_stale_news_notice:count"
COLUMNS_BLANK = "code:xuncha_columns_blank:count"
INTERACTION_AGE = "code:xuncha_interaction_age:seconds"
CONSULTATION_CHANNELS = "code:xuncha_consultation_channels:min"
LINKS_BROKEN = "code:xuncha_links_broken:max"
COMPLIANCE_FAILURES = "code:xuncha_compliance_failures:count"
# 服务不实用 (issue 18): guides read in the latest services run missing any element, and incomplete ones.
SERVICE_GUIDES_MISSING = "code:xuncha_service_guides_missing:count"
SERVICE_GUIDES_INCOMPLETE = "code:xuncha_service_guides_incomplete:count"
CERT_REMAINING = "code:xuncha_tls_cert_remaining:seconds"
ACCOUNT_SILENCE = "account:xuncha_feed_silence:seconds"
SITE_LEVEL_BY_INDICATOR = "code_indicator:xuncha_status:level"  # 0 ok, 1 warning, 2 veto
SITE_LEVEL = "code:xuncha_status:level"
ACCOUNT_LEVEL_BY_INDICATOR = "account_indicator:xuncha_status:level"
ACCOUNT_LEVEL = "account:xuncha_status:level"
SITES_VETO_BY_INDICATOR = "indicator:xuncha_sites_veto:count"
SITES_WARNING_BY_INDICATOR = "indicator:xuncha_sites_warning:count"
SITES_VETO_BY_REGION_INDICATOR = "region_indicator:xuncha_sites_veto:count"
SITES_WARNING_BY_REGION_INDICATOR = "region_indicator:xuncha_sites_warning:count"
ACCOUNTS_VETO_BY_INDICATOR = "indicator:xuncha_accounts_veto:count"
ACCOUNTS_WARNING_BY_INDICATOR = "indicator:xuncha_accounts_warning:count"
SITES_BY_REGION = "region:xuncha_sites:count"
SITES_VETO_BY_REGION = "region:xuncha_sites_veto:count"
PASS_RATE_BY_REGION = "region:xuncha_pass_rate:ratio"
SITES_BY_PROVINCE = "province:xuncha_sites:count"
SITES_VETO_BY_PROVINCE = "province:xuncha_sites_veto:count"
PASS_RATE_BY_PROVINCE = "province:xuncha_pass_rate:ratio"
PASS_RATE = "fleet:xuncha_pass_rate:ratio"

SITE_LABELS = ("name", "region", "province")
ACCOUNT_LABELS = ("unit", "platform", "name", "region", "province")
# Grafana dashboards by uid (dashboards/site.py, newmedia.py, fleet.py use these), for dashboard_url.
DASHBOARD_UIDS = {"site": "xuncha-site", "newmedia": "xuncha-newmedia", "fleet": "xuncha-fleet"}
GRAFANA_URL = "http://localhost:3000"  # the compose stack's Grafana; `python -m dashboards --grafana-url`
RUNBOOK_URL = "https://github.com/xuncha/xuncha/blob/main/docs/runbook.md"
ACCOUNT_INDICATORS_ALL = ("silence", "deregistration", "feed")


@dataclass(frozen=True, slots=True)
class Options:
    thresholds: Thresholds = THRESHOLDS
    job: str = "xuncha"  # the scrape job of the agents
    for_scale: float = 1.0  # multiplies every ``for:`` (test variant only)
    window: float | None = None  # the availability window; None: thresholds.unreachable_window
    grafana_url: str = GRAFANA_URL  # where dashboard_url points
    runbook_url: str = RUNBOOK_URL  # where runbook_url points (+ #alertname)


@dataclass(frozen=True, slots=True)
class AlertSpec:
    """One alerting rule, before it becomes YAML."""

    name: str
    severity: str
    indicator: str
    expr: str
    summary: str  # 中文
    description: str  # English
    labels: dict[str, str] = field(default_factory=dict)
    line: str = ""  # 中文: the lines it is judged by ("预警 10 天，否决 14 天")
    veto: str = ""  # 中文: by when, or whether, it becomes a veto (单项否决)
    # "account" for an account's alert under an indicator word sites share (serious): its group and dashboard.
    subject: str = "site"

    def rule(self, opts: Options) -> dict[str, Any]:
        seconds = opts.thresholds.for_seconds[self.name] * opts.for_scale
        notes = {"line": self.line, "veto": self.veto}
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": format_duration(max(1.0, round(seconds))) if seconds else "0s",
            "labels": {"severity": self.severity, "indicator": self.indicator, **self.labels},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                **{k: v for k, v in notes.items() if v},
                "dashboard_url": self.dashboard_url(opts),
                "runbook_url": f"{opts.runbook_url}#{self.name.lower()}",
            },
        }

    def dashboard_url(self, opts: Options) -> str:
        base = opts.grafana_url.rstrip("/")
        if self.indicator == "agent":
            return f"{base}/d/{DASHBOARD_UIDS['fleet']}/"
        if self.indicator in ACCOUNT_INDICATORS_ALL or self.subject == "account":
            return f"{base}/d/{DASHBOARD_UIDS['newmedia']}/?var-platform={{{{ $labels.platform }}}}"
        return f"{base}/d/{DASHBOARD_UIDS['site']}/?var-code={{{{ $labels.code }}}}"


# --- small PromQL helpers -----------------------------------------------------------------------


def num(x: float) -> str:
    """A number as PromQL reads it back exactly: 1209600, 0.05."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def dur(seconds: float) -> str:
    return format_duration(seconds)


def days(seconds: float) -> str:
    return num(seconds / DAY)


def level(series: str, line: Line, lower_is_worse: bool = False) -> str:
    """0 below the warning line, 1 at warning, 2 at veto (``>=``; ``<=`` when lower is worse)."""
    op = "<=" if lower_is_worse else ">="
    return f"({series} {op} bool {num(line.warning)}) + ({series} {op} bool {num(line.critical)})"


def interaction_last() -> str:
    """Per (code, column): the instant an interaction column's age counts from (see INTERACTION_AGE)."""
    oldest = f"max by (code, column) ({M.INTERACTION_OLDEST_UNANSWERED})"
    newest = f'max by (code, column) ({M.COLUMN_LAST_UPDATE}{{category="interaction"}})'
    judged = f"max by (code, column) ({M.INTERACTION_STATE_SHOWN}) == 1"
    excluded = f"max by (code, column) ({M.INTERACTION_CONSULTATION}) == 0"  # 信访, 访谈 …: not judged
    return f"{oldest} or ({newest} unless on (code, column) ({judged} or {excluded}))"


def active_sites() -> str:
    return f'{SITE_INFO}{{status!="closed"}}'


def active_accounts() -> str:
    return f'{ACCOUNT_INFO}{{status!="stopped"}}'


def site_join(expr: str, info: str | None = None) -> str:
    """``expr`` (labelled by code) with the site's name, region and province; drops closed sites."""
    info = info or active_sites()
    return f"({expr}) * on (code) group_left ({', '.join(SITE_LABELS)}) {info}"


def account_join(expr: str, info: str | None = None) -> str:
    info = info or active_accounts()
    return f"({expr}) * on (account) group_left ({', '.join(ACCOUNT_LABELS)}) {info}"


def _record(name: str, expr: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"record": name, "expr": expr}
    if labels:
        rule["labels"] = labels
    return rule


# --- recording rules ----------------------------------------------------------------------------


def recording_groups(opts: Options = Options()) -> list[dict[str, Any]]:
    t = opts.thresholds
    window = dur(opts.window or t.unreachable_window)
    stale_terms = " or ".join(
        f'({COLUMN_AGE}{{category="{cat}"}} >= bool {num(age)})' for cat, age in t.stale_age.items()
    )
    site_rules = [
        _record(SITE_INFO, f"max by (code, name, region, province, kind, status) ({M.SITE_INFO})"),
        _record(ACCOUNT_INFO, f"max by (account, {', '.join(ACCOUNT_LABELS)}, status) ({M.ACCOUNT_INFO})"),
        # 站点无法访问: visits that did not open within the timeout, over one week.
        _record(HTTP_CHECKS_7D, f"sum by (code) (increase({M.HTTP_CHECKS_TOTAL}[{window}]))"),
        _record(HTTP_FAILURES_7D, f"sum by (code) (increase({M.HTTP_FAILURES_TOTAL}[{window}]))"),
        _record(UNREACHABLE_RATIO, f"{HTTP_FAILURES_7D} / ({HTTP_CHECKS_7D} > 0)"),
        # 首页不更新 / 栏目不更新: ages from the newest publication dates.
        _record(HOMEPAGE_AGE, f"time() - max by (code) ({M.HOMEPAGE_LAST_UPDATE})"),
        _record(COLUMN_AGE, f"time() - max by (code, column, category) ({M.COLUMN_LAST_UPDATE})"),
        _record(COLUMN_STALE, stale_terms),
        _record(COLUMNS_STALE_BY_CATEGORY, f"sum by (code, category) ({COLUMN_STALE})"),
        _record(COLUMNS_STALE, f"sum by (code) ({COLUMN_STALE})"),
        _record(
            COLUMNS_STALE_NEWS_NOTICE,
            f'sum by (code) ({COLUMN_STALE}{{category=~"{"|".join(t.stale_veto_categories)}"}})',
        ),
        _record(COLUMNS_BLANK, f"sum by (code) (max by (code, column, category) ({M.COLUMN_BLANK}))"),
        # 互动回应差: the oldest unanswered message of a column read as messages; a column whose rows
        # show no state (xuncha_interaction_state_shown 0, or never read) by its newest item, as before.
        _record(INTERACTION_AGE, f"max by (code) (time() - ({interaction_last()}))"),
        _record(CONSULTATION_CHANNELS, f"min by (code) ({M.SITE_CONSULTATION_CHANNELS})"),
        _record(LINKS_BROKEN, f"max by (code) ({M.LINKS_BROKEN})"),
        _record(COMPLIANCE_FAILURES, f"sum by (code) (max by (code, check) ({M.COMPLIANCE_CHECK}) == bool 0)"),
        _record(CERT_REMAINING, f"min by (code) ({M.TLS_CERT_NOT_AFTER}) - time()"),
        _record(ACCOUNT_SILENCE, f"time() - max by (account) ({M.FEED_LAST_ENTRY})"),
        *_service_records(),
    ]
    return [
        {"name": "xuncha-indicators", "rules": site_rules},
        {"name": "xuncha-status", "rules": _status_rules(t)},
        {"name": "xuncha-fleet", "rules": _fleet_rules()},
    ]


def _service_records() -> list[dict[str, Any]]:
    guides = M.SITE_SERVICE_GUIDES
    return [
        _record(
            SERVICE_GUIDES_MISSING,
            f'sum by (code) (max by (code, state) ({guides}{{state=~"partial|incomplete"}}))',
        ),
        _record(SERVICE_GUIDES_INCOMPLETE, f'sum by (code) (max by (code, state) ({guides}{{state="incomplete"}}))'),
    ]


def _service_level(t: Thresholds) -> str:
    """服务不实用: 2 with no services at all or incomplete guides at the veto line; 1 with a guide
    missing any element (the warning counts another series than the veto, so not ``level``)."""
    g = t.service_guides
    return (
        f"max by (code) ("
        f'label_replace(2 * (max by (code) ({M.SITE_NO_SERVICES}) > bool 0), "part", "none", "", "") or '
        f'label_replace(2 * ({SERVICE_GUIDES_INCOMPLETE} >= bool {num(g.critical)}), "part", "incomplete", "", "") or '
        f'label_replace({SERVICE_GUIDES_MISSING} >= bool {num(g.warning)}, "part", "missing", "", ""))'
    )


def _status_rules(t: Thresholds) -> list[dict[str, Any]]:
    """Per site and indicator: 0 ok, 1 early warning, 2 at the veto line (单项否决)."""

    def site(indicator: str, expr: str, info: str | None = None) -> dict[str, Any]:
        return _record(
            SITE_LEVEL_BY_INDICATOR, f"({expr}) and on (code) {info or active_sites()}", {"indicator": indicator}
        )

    def worst(parts: dict[str, str]) -> str:
        tagged = " or ".join(f'label_replace({e}, "part", "{p}", "", "")' for p, e in parts.items())
        return f"max by (code) ({tagged})"

    serious = f'{{__name__=~"{M.SERIOUS_ERRORS}|{M.PRIVACY_LEAKS}|{M.HIDDEN_LINKS}|{M.SITE_MALICIOUS_SCRIPTS}"}}'
    return [
        site(
            "availability",
            f"({level(UNREACHABLE_RATIO, t.unreachable_ratio)}) and on (code) "
            f"({HTTP_CHECKS_7D} >= {num(t.unreachable_min_checks)})",
        ),
        site("homepage", level(HOMEPAGE_AGE, t.homepage_age)),
        site(
            "columns",
            worst(
                {
                    "stale": level(COLUMNS_STALE, t.stale_columns),
                    "stale_news_notice": level(COLUMNS_STALE_NEWS_NOTICE, t.stale_news_notice_columns),
                    "blank": level(COLUMNS_BLANK, t.blank_columns),
                }
            ),
        ),
        site(
            "interaction",
            worst(
                {
                    "unanswered": level(INTERACTION_AGE, t.interaction_age),
                    "no_channel": f"2 * ({CONSULTATION_CHANNELS} == bool 0)",
                }
            ),
        ),
        site("serious", f"2 * (max by (code) ({serious}) > bool 0)"),
        site("service", _service_level(t)),
        # Deductions (扣分), not vetoes: at most a warning.
        site("links", f"{LINKS_BROKEN} > bool 0"),
        site("compliance", f"{COMPLIANCE_FAILURES} > bool 0"),
        # 总分 (issue 19): under the warning line 1, under 60 (more than 40 deducted) 2, as a veto counts.
        site("score", _score_level(t)),
        # 带病运行: judged for closed sites only.
        site("closed", f"2 * (max by (code) ({M.SITE_CLOSED_BUT_ONLINE}) > bool 0)", f"{SITE_INFO}"),
        _record(
            ACCOUNT_LEVEL_BY_INDICATOR,
            f"({level(ACCOUNT_SILENCE, t.account_silence)}) and on (account) {active_accounts()}",
            {"indicator": "silence"},
        ),
        _record(
            ACCOUNT_LEVEL_BY_INDICATOR,
            f"2 * (max by (account) ({M.ACCOUNT_NOT_DEREGISTERED}) > bool 0)",
            {"indicator": "deregistration"},
        ),
        # 严重表述错误 in posts (issue 18): a veto for accounts as for sites.
        _record(
            ACCOUNT_LEVEL_BY_INDICATOR,
            f'(2 * (max by (account) ({{__name__=~"{M.ACCOUNT_SERIOUS_ERRORS}|{M.ACCOUNT_PRIVACY_LEAKS}"}}) > bool 0)) '
            f"and on (account) {active_accounts()}",
            {"indicator": "serious"},
        ),
        _record(SITE_LEVEL, f"max by (code) ({SITE_LEVEL_BY_INDICATOR})"),
        _record(ACCOUNT_LEVEL, f"max by (account) ({ACCOUNT_LEVEL_BY_INDICATOR})"),
    ]


def _fleet_rules() -> list[dict[str, Any]]:
    """Fleet rollups: sites at veto / warning per indicator and region, and an estimated 合格率.

    The pass rate counts a site as unqualified (不合格) when any indicator is at its veto line, the
    score (总分 under 60, from the items the agent measures) included.
    """
    rules = []
    for lvl, by_ind, by_region_ind in (
        (2, SITES_VETO_BY_INDICATOR, SITES_VETO_BY_REGION_INDICATOR),
        (1, SITES_WARNING_BY_INDICATOR, SITES_WARNING_BY_REGION_INDICATOR),
    ):
        rules.append(_record(by_ind, f"sum by (indicator) ({SITE_LEVEL_BY_INDICATOR} == bool {lvl})"))
        rules.append(
            _record(
                by_region_ind,
                f"sum by (region, indicator) (({SITE_LEVEL_BY_INDICATOR} == bool {lvl}) "
                f"* on (code) group_left (region) {SITE_INFO})",
            )
        )
    rules.append(_record(ACCOUNTS_VETO_BY_INDICATOR, f"sum by (indicator) ({ACCOUNT_LEVEL_BY_INDICATOR} == bool 2)"))
    rules.append(_record(ACCOUNTS_WARNING_BY_INDICATOR, f"sum by (indicator) ({ACCOUNT_LEVEL_BY_INDICATOR} == bool 1)"))
    for key, sites, veto, rate in (
        ("region", SITES_BY_REGION, SITES_VETO_BY_REGION, PASS_RATE_BY_REGION),
        ("province", SITES_BY_PROVINCE, SITES_VETO_BY_PROVINCE, PASS_RATE_BY_PROVINCE),
    ):
        rules.append(_record(sites, f"count by ({key}) ({active_sites()})"))
        rules.append(
            _record(
                veto,
                f"sum by ({key}) (({SITE_LEVEL} == bool 2) * on (code) group_left ({key}) {active_sites()})",
            )
        )
        rules.append(_record(rate, f"1 - ({veto} or {sites} * 0) / {sites}"))
    rules.append(
        _record(
            PASS_RATE,
            f"1 - (sum({SITES_VETO_BY_REGION}) or vector(0)) / sum({SITES_BY_REGION})",
        )
    )
    return rules


# --- alerting rules -----------------------------------------------------------------------------

_SITE = "{{ $labels.name }}（{{ $labels.region }}，网站标识码 {{ $labels.code }}）"
_SITE_EN = "{{ $labels.name }} ({{ $labels.region }}, site code {{ $labels.code }})"
_ACCOUNT = "{{ $labels.unit }}「{{ $labels.name }}」（{{ $labels.platform }}，{{ $labels.account }}）"
_ACCOUNT_EN = '{{ $labels.unit }} "{{ $labels.name }}" ({{ $labels.platform }}, {{ $labels.account }})'
_DURATION = "{{ $value | humanizeDuration }}"
_PERCENT = "{{ $value | humanizePercentage }}"
_COUNT = '{{ $value | printf "%.0f" }}'


def pct(x: float) -> str:
    return f"{x * 100:g} %"


def alert_groups(opts: Options = Options()) -> list[dict[str, Any]]:
    specs = site_alerts(opts.thresholds) + account_alerts(opts.thresholds) + agent_alerts(opts)
    notes = notification_notes(opts.thresholds)
    groups: dict[str, list[dict[str, Any]]] = {"xuncha-sites": [], "xuncha-accounts": [], "xuncha-agent": []}
    for spec in specs:
        line, veto = notes.get((spec.name, spec.severity), ("", ""))
        spec = replace(spec, line=line, veto=veto)
        group = {
            "agent": "xuncha-agent",
            "silence": "xuncha-accounts",
            "deregistration": "xuncha-accounts",
            "feed": "xuncha-accounts",
        }.get(spec.indicator, "xuncha-accounts" if spec.subject == "account" else "xuncha-sites")
        groups[group].append(spec.rule(opts))
    return [{"name": name, "rules": rules} for name, rules in groups.items()]


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.3g} 小时"


def notification_notes(t: Thresholds) -> dict[tuple[str, str], tuple[str, str]]:
    """(alert, severity) → (line, veto): the lines an alert is judged by, and by when it becomes
    a veto — the two lines of every notification after "what is wrong" (xuncha.tmpl)."""
    r, h, s, nn, b = t.unreachable_ratio, t.homepage_age, t.stale_columns, t.stale_news_notice_columns, t.blank_columns
    i, c, a = t.interaction_age, t.cert_remaining, t.account_silence
    window = t.unreachable_window
    ratio_line = f"一周内 15 秒未打开的访问占比：预警 {pct(r.warning)}，否决 {pct(r.critical)}"
    # Visits are evenly spread: being down for this long makes that share of one week's visits.
    down_veto = f"连续无法访问约 {hours(window * r.critical)} 即达一周 {pct(r.critical)} 否决线（站点无法访问）"
    down_line = f"一周不可访问比例否决线 {pct(r.critical)}"
    cert_veto = f"证书失效后首页无法打开；{down_veto}"
    now = "已达单项否决线"
    return {
        ("XunchaSiteUnreachable", "warning"): (ratio_line, f"一周占比达 {pct(r.critical)} 即单项否决（站点无法访问）"),
        ("XunchaSiteUnreachable", "critical"): (ratio_line, f"{now}（站点无法访问）"),
        ("XunchaSiteDown", "warning"): (down_line, down_veto),
        ("XunchaDNSFailing", "warning"): (down_line, down_veto),
        ("XunchaHomepageNotUpdated", "warning"): (
            f"首页无新内容：预警 {days(h.warning)} 天，否决 {days(h.critical)} 天",
            f"再过 {_DURATION} 成为单项否决（首页不更新）",
        ),
        ("XunchaHomepageNotUpdated", "critical"): (f"首页无新内容：否决 {days(h.critical)} 天", f"{now}（首页不更新）"),
        ("XunchaColumnsNotUpdated", "warning"): (
            f"超期栏目：动态/通知类预警 {num(nn.warning)} 个、否决 {num(nn.critical)} 个；全部栏目预警 {num(s.warning)} 个、"
            f"否决 {num(s.critical)} 个",
            f"动态/通知类栏目超期达 {num(nn.critical)} 个或栏目超期达 {num(s.critical)} 个即单项否决（栏目不更新）",
        ),
        ("XunchaColumnsNotUpdated", "critical"): (
            f"超期栏目：动态/通知类否决 {num(nn.critical)} 个，全部栏目否决 {num(s.critical)} 个",
            f"{now}（栏目不更新）",
        ),
        ("XunchaColumnsBlank", "warning"): (
            f"空白栏目：预警 {num(b.warning)} 个，否决 {num(b.critical)} 个",
            f"空白栏目达 {num(b.critical)} 个即单项否决（栏目不更新）",
        ),
        ("XunchaColumnsBlank", "critical"): (f"空白栏目：否决 {num(b.critical)} 个", f"{now}（空白栏目）"),
        ("XunchaInteractionUnanswered", "warning"): (
            f"留言未回复：预警 {days(i.warning)} 天，否决 {days(i.critical)} 天（一年内的留言）",
            f"再过 {_DURATION} 成为单项否决（互动回应差）",
        ),
        ("XunchaInteractionUnanswered", "critical"): (
            f"留言未回复：否决 {days(i.critical)} 天（一年内的留言）",
            f"{now}（互动回应差）",
        ),
        ("XunchaNoConsultationChannel", "critical"): (
            "无有效咨询渠道（网上信访、纪检举报、在线访谈、调查征集不算）",
            f"{now}（互动回应差）",
        ),
        ("XunchaCertificateExpiring", "warning"): (
            f"证书剩余：预警 {days(c.warning)} 天，严重 {days(c.critical)} 天",
            cert_veto,
        ),
        ("XunchaCertificateExpiring", "critical"): (f"证书剩余：严重 {days(c.critical)} 天", cert_veto),
        ("XunchaCertificateExpired", "critical"): ("证书应在有效期内", cert_veto),
        ("XunchaCertificateInvalid", "critical"): ("证书链可信且域名匹配", cert_veto),
        ("XunchaHomepageLinksBroken", "warning"): ("首页链接应全部可用", "不属单项否决：链接可用性扣分"),
        ("XunchaRequiredElementMissing", "warning"): ("首页应展示全部必备要素", "不属单项否决：扣分项"),
        ("XunchaSeriousError", "critical"): ("严重表述错误：0 处", f"{now}（严重问题），请立即更正"),
        ("XunchaPrivacyLeak", "critical"): ("公民身份号码泄露：0 个", f"{now}（严重问题），请立即处理"),
        ("XunchaHiddenLinks", "critical"): ("暗链：0 个", f"{now}（安全严重问题），请立即清除并排查篡改"),
        ("XunchaMaliciousScripts", "critical"): (
            "挂马、挖矿脚本：0 处",
            f"{now}（安全严重问题），请立即清除并排查篡改",
        ),
        ("XunchaBackdatedItems", "warning"): (
            "栏目新增信息的发布日期不应早于上次检查",
            "不属单项否决：疑似伪造发稿日期，待人工核实",
        ),
        ("XunchaClosedSiteOnline", "critical"): ("已关停网站应无法访问", "带病运行，通报点名"),
        ("XunchaClosureNoticeMissing", "warning"): ("关停前首页公示关停公告一个月", "未公示即关停，通报点名"),
        ("XunchaSiteScoreLow", "warning"): (
            f"总分：预警 {num(t.site_score.warning)} 分，不合格 低于 {num(t.site_score.critical)} 分",
            f"低于 {num(t.site_score.critical)} 分即不合格（扣分大于 {num(100 - t.site_score.critical)} 分）",
        ),
        ("XunchaSiteScoreLow", "critical"): (
            f"总分：不合格 低于 {num(t.site_score.critical)} 分",
            f"{now}（扣分大于 {num(100 - t.site_score.critical)} 分）",
        ),
        ("XunchaProbeFailing", "warning"): ("检查应能完成", "检查失败期间无法判断相关指标，可能掩盖单项否决"),
        ("XunchaAccountSilent", "warning"): (
            f"账号无更新：预警 {days(a.warning)} 天，否决 {days(a.critical)} 天",
            f"再过 {_DURATION} 成为单项否决（内容不更新）",
        ),
        ("XunchaAccountSilent", "critical"): (f"账号无更新：否决 {days(a.critical)} 天", f"{now}（内容不更新）"),
        ("XunchaFeedFailing", "warning"): ("订阅源应能获取并解析", "订阅源失败期间无法判断账号是否停更"),
        ("XunchaAccountNotDeregistered", "critical"): ("停用账号应注销", "停用未注销，通报点名"),
        ("XunchaServiceGuidesIncomplete", "warning"): (
            f"办事指南要素：缺少任一类即预警；要素缺失（缺少设定数量以上类别）的指南达 {num(t.service_guides.critical)} 个即否决",
            f"要素缺失的办事指南达 {num(t.service_guides.critical)} 个即单项否决（服务不实用）",
        ),
        ("XunchaServiceGuidesIncomplete", "critical"): (
            f"要素缺失的办事指南：否决 {num(t.service_guides.critical)} 个",
            f"{now}（服务不实用）",
        ),
        ("XunchaNoServices", "critical"): ("应提供办事服务或政务服务网入口", f"{now}（服务不实用）"),
        ("XunchaAccountSeriousError", "critical"): ("发布内容严重表述错误：0 处", f"{now}（严重问题），请立即更正"),
        ("XunchaAccountPrivacyLeak", "critical"): ("发布内容公民身份号码泄露：0 个", f"{now}（严重问题），请立即处理"),
    }


def site_alerts(t: Thresholds) -> list[AlertSpec]:
    return _availability(t) + _homepage(t) + _columns(t) + _certificates(t) + _content(t) + _services(t) + _score(t)


# --- the score (issue 19: domain/scoring.py) ----------------------------------------------------


def _score_level(t: Thresholds) -> str:
    """0 at or above the warning line, 1 below it, 2 below the veto line (lower is worse, strictly:
    exactly 60 is qualified, "more than 40 deducted" is not)."""
    s, score = t.site_score, f"min by (code) ({M.SITE_SCORE})"
    return f"({score} < bool {num(s.warning)}) + ({score} < bool {num(s.critical)})"


_SCORE = '{{ $value | printf "%.1f" }}'


def _score(t: Thresholds) -> list[AlertSpec]:
    s, score = t.site_score, f"min by (code) ({M.SITE_SCORE})"
    return [
        AlertSpec(
            "XunchaSiteScoreLow",
            "warning",
            "score",
            site_join(f"{score} < {num(s.warning)} and {score} >= {num(s.critical)}"),
            f"{_SITE}得分 {_SCORE} 分（预警线 {num(s.warning)} 分），低于 {num(s.critical)} 分即不合格；扣分项见 /api/sites/{{{{ $labels.code }}}}。",
            f"{_SITE_EN}: scored {_SCORE} (warning below {num(s.warning)}); below {num(s.critical)} the site is "
            "unqualified — the deductions are under /api/sites/<code>.",
        ),
        AlertSpec(
            "XunchaSiteScoreLow",
            "critical",
            "score",
            site_join(f"{score} < {num(s.critical)}"),
            f"{_SITE}得分 {_SCORE} 分，低于 {num(s.critical)} 分（扣分大于 {num(100 - s.critical)} 分），季度抽查将判为不合格；扣分项见 /api/sites/{{{{ $labels.code }}}}。",
            f"{_SITE_EN}: scored {_SCORE}, below {num(s.critical)} (more than {num(100 - s.critical)} points "
            "deducted): unqualified at the quarterly inspection — the deductions are under /api/sites/<code>.",
        ),
    ]


def _services(t: Thresholds) -> list[AlertSpec]:
    """服务不实用 (issue 18): guides lacking element categories, and a site offering no services."""
    g = t.service_guides
    return [
        AlertSpec(
            "XunchaServiceGuidesIncomplete",
            "warning",
            "service",
            site_join(
                f"({SERVICE_GUIDES_MISSING} >= {num(g.warning)}) unless on (code) "
                f"({SERVICE_GUIDES_INCOMPLETE} >= {num(g.critical)})"
            ),
            f"{_SITE}有 {_COUNT} 个办事指南缺少要素（事项名称、设定依据、申请条件、办理材料、办理地点、办理机构、收费标准、办理时间、联系电话、办理流程；详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} service guides read lack element categories (which: /api/).",
        ),
        AlertSpec(
            "XunchaServiceGuidesIncomplete",
            "critical",
            "service",
            site_join(f"{SERVICE_GUIDES_INCOMPLETE} >= {num(g.critical)}"),
            f"{_SITE}有 {_COUNT} 个办事指南要素严重缺失，达到单项否决线（服务不实用，详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} service guides read lack many element categories; a veto "
            "(services not practical; which: /api/).",
        ),
        AlertSpec(
            "XunchaNoServices",
            "critical",
            "service",
            site_join(f"max by (code) ({M.SITE_NO_SERVICES}) > 0"),
            f"{_SITE}未提供办事服务（无办事服务栏目，也无政务服务网入口），属单项否决（服务不实用）。",
            f"{_SITE_EN}: offers no services (no service column, no way into the 政务服务网); a veto "
            "(services not practical).",
        ),
    ]


def _availability(t: Thresholds) -> list[AlertSpec]:
    r = t.unreachable_ratio
    enough = f"and on (code) {HTTP_CHECKS_7D} >= {num(t.unreachable_min_checks)}"
    secs = num(t.visit_timeout)
    veto_zh = f"一周内 {secs} 秒未打开的访问达 {pct(r.critical)} 即单项否决（站点无法访问）"
    veto_en = f"{pct(r.critical)} of one week's visits is a veto (site unreachable)"
    return [
        AlertSpec(
            "XunchaSiteUnreachable",
            "warning",
            "availability",
            site_join(f"{UNREACHABLE_RATIO} >= {num(r.warning)} {enough}"),
            f"{_SITE}近 7 天有 {_PERCENT} 的访问未能在 {secs} 秒内打开首页，超过预警线 {pct(r.warning)}；{veto_zh}。",
            f"{_SITE_EN}: {_PERCENT} of the last 7 days' visits did not open the homepage within {secs} s, "
            f"above the early-warning line of {pct(r.warning)}; {veto_en}.",
        ),
        AlertSpec(
            "XunchaSiteUnreachable",
            "critical",
            "availability",
            site_join(f"{UNREACHABLE_RATIO} >= {num(r.critical)} {enough}"),
            f"{_SITE}近 7 天有 {_PERCENT} 的访问未能在 {secs} 秒内打开首页，已达单项否决线 {pct(r.critical)}（站点无法访问）。",
            f"{_SITE_EN}: {_PERCENT} of the last 7 days' visits did not open the homepage within {secs} s; "
            f"at {pct(r.critical)} this is a veto (site unreachable).",
        ),
        AlertSpec(
            "XunchaSiteDown",
            "warning",
            "availability",
            site_join(f'max by (code) ({M.PROBE_SUCCESS}{{probe="http"}}) == 0'),
            f"{_SITE}首页当前无法访问；每次失败都计入一周不可访问比例（{pct(r.critical)} 即单项否决）。",
            f"{_SITE_EN}: the homepage does not open now; every failed visit counts towards the weekly "
            f"unreachable ratio; {veto_en}.",
        ),
        AlertSpec(
            "XunchaDNSFailing",
            "warning",
            "availability",
            site_join(f'max by (code) ({M.PROBE_SUCCESS}{{probe="dns"}}) == 0'),
            f"{_SITE}域名解析失败；解析不到的访问计入一周不可访问比例（{pct(r.critical)} 即单项否决）。",
            f"{_SITE_EN}: DNS resolution of the site's host fails; visits that cannot resolve count as "
            f"unreachable; {veto_en}.",
        ),
    ]


def _homepage(t: Thresholds) -> list[AlertSpec]:
    h = t.homepage_age
    return [
        AlertSpec(
            "XunchaHomepageNotUpdated",
            "warning",
            "homepage",
            site_join(f"({num(h.critical)} - {HOMEPAGE_AGE}) and {HOMEPAGE_AGE} >= {num(h.warning)}"),
            f"{_SITE}首页已超过 {days(h.warning)} 天没有新内容，再过 {_DURATION} 达到单项否决线（{days(h.critical)} 天，首页不更新）。",
            f"{_SITE_EN}: nothing new on the homepage for over {days(h.warning)} days; it becomes a veto "
            f"(homepage not updated, {days(h.critical)} days) in {_DURATION}.",
        ),
        AlertSpec(
            "XunchaHomepageNotUpdated",
            "critical",
            "homepage",
            site_join(f"{HOMEPAGE_AGE} >= {num(h.critical)}"),
            f"{_SITE}首页已 {_DURATION} 没有新内容，达到单项否决线（{days(h.critical)} 天，首页不更新）。",
            f"{_SITE_EN}: nothing new on the homepage for {_DURATION}; {days(h.critical)} days is a veto "
            "(homepage not updated).",
        ),
    ]


def _columns(t: Thresholds) -> list[AlertSpec]:
    s, nn, b, i = t.stale_columns, t.stale_news_notice_columns, t.blank_columns, t.interaction_age
    stale_of = ", ".join(f"{cat} {days(age)} d" for cat, age in t.stale_age.items())
    veto_zh = (
        f"动态/通知类栏目不更新达 {num(nn.critical)} 个或栏目不更新达 {num(s.critical)} 个即单项否决（栏目不更新）"
    )
    veto_en = (
        f"{num(nn.critical)} stale news/notice columns or {num(s.critical)} stale columns "
        "are a veto (columns not updated)"
    )
    return [
        AlertSpec(
            "XunchaColumnsNotUpdated",
            "warning",
            "columns",
            site_join(f"{COLUMNS_STALE} >= {num(s.warning)} or {COLUMNS_STALE_NEWS_NOTICE} >= {num(nn.warning)}"),
            f"{_SITE}有 {_COUNT} 个栏目超期未更新（{stale_of}），已过预警线；{veto_zh}。",
            f"{_SITE_EN}: {_COUNT} columns have nothing new within their period ({stale_of}); {veto_en}.",
        ),
        AlertSpec(
            "XunchaColumnsNotUpdated",
            "critical",
            "columns",
            site_join(f"{COLUMNS_STALE_NEWS_NOTICE} >= {num(nn.critical)} or {COLUMNS_STALE} >= {num(s.critical)}"),
            f"{_SITE}有 {_COUNT} 个栏目超期未更新，已达单项否决线：{veto_zh}。",
            f"{_SITE_EN}: {_COUNT} stale columns reach the veto line: {veto_en}.",
        ),
        AlertSpec(
            "XunchaColumnsBlank",
            "warning",
            "columns",
            site_join(f"{COLUMNS_BLANK} >= {num(b.warning)}"),
            f"{_SITE}有 {_COUNT} 个空白栏目，超过预警线；空白栏目达 {num(b.critical)} 个即单项否决。",
            f"{_SITE_EN}: {_COUNT} blank columns, above the early-warning line; {num(b.critical)} blank "
            "columns are a veto.",
        ),
        AlertSpec(
            "XunchaColumnsBlank",
            "critical",
            "columns",
            site_join(f"{COLUMNS_BLANK} >= {num(b.critical)}"),
            f"{_SITE}有 {_COUNT} 个空白栏目，已达单项否决线（{num(b.critical)} 个）。",
            f"{_SITE_EN}: {_COUNT} blank columns; {num(b.critical)} is a veto.",
        ),
        AlertSpec(
            "XunchaInteractionUnanswered",
            "warning",
            "interaction",
            site_join(f"({num(i.critical)} - {INTERACTION_AGE}) and {INTERACTION_AGE} >= {num(i.warning)}"),
            f"{_SITE}有咨询留言超过 {days(i.warning)} 天未回复（栏目不显示回复状态时：超过该天数无新内容），"
            f"再过 {_DURATION} 达到单项否决线（{days(i.critical)} 天，互动回应差）。",
            f"{_SITE_EN}: a consultation message unanswered for over {days(i.warning)} days (a column showing no "
            f"states: nothing new for that long); it becomes a veto (poor interaction, {days(i.critical)} days) "
            f"in {_DURATION}.",
        ),
        AlertSpec(
            "XunchaInteractionUnanswered",
            "critical",
            "interaction",
            site_join(f"{INTERACTION_AGE} >= {num(i.critical)}"),
            f"{_SITE}有咨询留言已 {_DURATION} 未回复，达到单项否决线（{days(i.critical)} 天，互动回应差）。",
            f"{_SITE_EN}: a consultation message unanswered for {_DURATION}; {days(i.critical)} days is a "
            "veto (poor interaction).",
        ),
        AlertSpec(
            "XunchaNoConsultationChannel",
            "critical",
            "interaction",
            site_join(f"{CONSULTATION_CHANNELS} == 0"),
            f"{_SITE}没有有效的在线咨询渠道（网上信访、纪检举报、在线访谈、调查征集不算），单项否决（互动回应差）。",
            f"{_SITE_EN}: no effective online consultation channel (petition, discipline-report, interview and "
            "survey channels do not count); a veto (poor interaction).",
        ),
    ]


def _certificates(t: Thresholds) -> list[AlertSpec]:
    c = t.cert_remaining
    return [
        AlertSpec(
            "XunchaCertificateExpiring",
            "warning",
            "certificate",
            site_join(f"{CERT_REMAINING} < {num(c.warning)} and {CERT_REMAINING} > 0"),
            f"{_SITE}的 HTTPS 证书将在 {_DURATION} 后过期（预警 {days(c.warning)} 天）；过期后首页无法打开，计入不可访问比例。",
            f"{_SITE_EN}: the HTTPS certificate expires in {_DURATION} (warning at {days(c.warning)} days); "
            "once expired, visits fail and count towards the unreachable ratio.",
        ),
        AlertSpec(
            "XunchaCertificateExpiring",
            "critical",
            "certificate",
            site_join(f"{CERT_REMAINING} < {num(c.critical)} and {CERT_REMAINING} > 0"),
            f"{_SITE}的 HTTPS 证书将在 {_DURATION} 后过期（不足 {days(c.critical)} 天）。",
            f"{_SITE_EN}: the HTTPS certificate expires in {_DURATION} (less than {days(c.critical)} days).",
        ),
        AlertSpec(
            "XunchaCertificateExpired",
            "critical",
            "certificate",
            site_join(f"{CERT_REMAINING} <= 0"),
            f"{_SITE}的 HTTPS 证书已过期；浏览器无法打开首页，计入不可访问比例。",
            f"{_SITE_EN}: the HTTPS certificate has expired; browsers refuse the homepage.",
        ),
        AlertSpec(
            "XunchaCertificateInvalid",
            "critical",
            "certificate",
            site_join(f"min by (code) ({M.TLS_CERT_VALID}) == 0"),
            f"{_SITE}的 HTTPS 证书无效（证书链或域名不匹配）；浏览器无法打开首页。",
            f"{_SITE_EN}: the HTTPS certificate does not verify (chain or host name); browsers refuse it.",
        ),
    ]


def _content(t: Thresholds) -> list[AlertSpec]:
    return [
        AlertSpec(
            "XunchaHomepageLinksBroken",
            "warning",
            "links",
            site_join(f"{LINKS_BROKEN} > 0"),
            f"{_SITE}首页有 {_COUNT} 个链接无法打开（链接可用性扣分）。",
            f"{_SITE_EN}: {_COUNT} links on the homepage are broken (deductions for link availability).",
        ),
        AlertSpec(
            "XunchaRequiredElementMissing",
            "warning",
            "compliance",
            site_join(f"min by (code, check) ({M.COMPLIANCE_CHECK}) == 0"),
            f"{_SITE}首页缺少必备要素：{{{{ $labels.check }}}}（网站标识码、ICP 备案号、公安备案号、党政机关标识、找错入口、gov.cn 域名、SiteName/SiteDomain/SiteIDCode 元数据）。",
            f"{_SITE_EN}: a required element is missing from the homepage: {{{{ $labels.check }}}}.",
        ),
        AlertSpec(
            "XunchaSeriousError",
            "critical",
            "serious",
            site_join(f"max by (code) ({M.SERIOUS_ERRORS}) > 0"),
            f"{_SITE}发现 {_COUNT} 处严重表述错误；严重错误属单项否决，请立即更正（详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} serious wrong expressions found; serious errors are a veto — fix them now "
            "(details under /api/).",
        ),
        AlertSpec(
            "XunchaPrivacyLeak",
            "critical",
            "serious",
            site_join(f"max by (code) ({M.PRIVACY_LEAKS}) > 0"),
            f"{_SITE}发现 {_COUNT} 个公民身份号码泄露；泄露个人信息属严重问题，单项否决，请立即处理。",
            f"{_SITE_EN}: {_COUNT} valid resident ID numbers are published; leaking personal data is a veto "
            "— remove them now.",
        ),
        AlertSpec(
            "XunchaHiddenLinks",
            "critical",
            "serious",
            site_join(f"max by (code) ({M.HIDDEN_LINKS}) > 0"),
            f"{_SITE}首页发现 {_COUNT} 个暗链（隐藏的外部链接或博彩、色情、私服等链接）；属安全严重问题，单项否决，请立即清除并排查网页篡改（详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} hidden links (暗链: hidden links to outside or gambling/adult/private-server sites) "
            "on the homepage; a security veto — remove them and look for the intrusion (details under /api/).",
        ),
        AlertSpec(
            "XunchaMaliciousScripts",
            "critical",
            "serious",
            site_join(f"max by (code) ({M.SITE_MALICIOUS_SCRIPTS}) > 0"),
            f"{_SITE}发现 {_COUNT} 处被植入的恶意脚本或隐藏框架（挂马、挖矿脚本）；属安全严重问题，单项否决，请立即清除并排查网页篡改（详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} injected scripts or hidden frames (挂马, crypto-mining); a security veto — "
            "remove them and look for the intrusion (details under /api/).",
        ),
        AlertSpec(
            "XunchaBackdatedItems",
            "warning",
            "backdated",
            site_join(f"max by (code) ({M.SITE_BACKDATED_ITEMS}) > 0"),
            f"{_SITE}栏目中有 {_COUNT} 条信息在上次检查后才出现，发布日期却早于那次检查（疑似伪造发稿日期），请人工核实（详见 /api/）。",
            f"{_SITE_EN}: {_COUNT} column items appeared after a check that did not show them, dated before it "
            "(possibly back-dated); for review, not a veto (details under /api/).",
        ),
        AlertSpec(
            "XunchaClosedSiteOnline",
            "critical",
            "closed",
            site_join(f"max by (code) ({M.SITE_CLOSED_BUT_ONLINE}) > 0", f'{SITE_INFO}{{status="closed"}}'),
            f"{_SITE}已登记关停，但仍可访问（带病运行），通报中会点名。",
            f"{_SITE_EN}: registered as closed but still online (带病运行); reports name such sites.",
        ),
        AlertSpec(
            "XunchaClosureNoticeMissing",
            "warning",
            "closed",
            site_join(f"min by (code) ({M.SITE_CLOSURE_NOTICE_SHOWN}) == 0"),
            f"{_SITE}正在关停，但首页没有关停公告（应公示一个月）。",
            f"{_SITE_EN}: the site is closing but its homepage shows no closure notice (due for a month).",
        ),
        AlertSpec(
            "XunchaProbeFailing",
            "warning",
            "probe",
            site_join(f'min by (code, probe) ({M.PROBE_SUCCESS}{{probe=~"homepage|columns|links|compliance"}}) == 0'),
            f"{_SITE}的 {{{{ $labels.probe }}}} 检查持续失败，相关指标无法判断。",
            f"{_SITE_EN}: the {{{{ $labels.probe }}}} check keeps failing, so its indicator cannot be judged.",
        ),
    ]


def account_alerts(t: Thresholds) -> list[AlertSpec]:
    a = t.account_silence
    return [
        AlertSpec(
            "XunchaAccountSilent",
            "warning",
            "silence",
            account_join(f"({num(a.critical)} - {ACCOUNT_SILENCE}) and {ACCOUNT_SILENCE} >= {num(a.warning)}"),
            f"{_ACCOUNT}已超过 {days(a.warning)} 天未更新，再过 {_DURATION} 达到单项否决线（{days(a.critical)} 天，内容不更新）。",
            f"{_ACCOUNT_EN}: nothing published for over {days(a.warning)} days; it becomes a veto "
            f"(not updated, {days(a.critical)} days) in {_DURATION}.",
        ),
        AlertSpec(
            "XunchaAccountSilent",
            "critical",
            "silence",
            account_join(f"{ACCOUNT_SILENCE} >= {num(a.critical)}"),
            f"{_ACCOUNT}已 {_DURATION} 未更新，达到单项否决线（{days(a.critical)} 天，内容不更新）。",
            f"{_ACCOUNT_EN}: nothing published for {_DURATION}; {days(a.critical)} days is a veto (not updated).",
        ),
        AlertSpec(
            "XunchaFeedFailing",
            "warning",
            "feed",
            account_join(f"min by (account) ({M.FEED_SUCCESS}) == 0"),
            f"{_ACCOUNT}的订阅源无法获取或解析（不是账号停更：检查 RSSHub 路由）。",
            f"{_ACCOUNT_EN}: the feed cannot be fetched or parsed (not the same as a silent account: "
            "check the RSSHub route).",
        ),
        AlertSpec(
            "XunchaAccountNotDeregistered",
            "critical",
            "deregistration",
            account_join(f"max by (account) ({M.ACCOUNT_NOT_DEREGISTERED}) > 0", f'{ACCOUNT_INFO}{{status="stopped"}}'),
            f"{_ACCOUNT}已停止运维但未注销，仍可访问；通报中会点名。",
            f"{_ACCOUNT_EN}: stopped but not deregistered, still reachable; reports name such accounts.",
        ),
        *_account_posts(),
    ]


def _account_posts() -> list[AlertSpec]:
    """The content probe's dictionaries on an account's posts (issue 18): vetoes, as on a site."""
    return [
        AlertSpec(
            "XunchaAccountSeriousError",
            "critical",
            "serious",
            account_join(f"max by (account) ({M.ACCOUNT_SERIOUS_ERRORS}) > 0"),
            f"{_ACCOUNT}发布的内容中有 {_COUNT} 处严重表述错误；严重错误属单项否决，请立即更正（各条链接见 /api/accounts/）。",
            f"{_ACCOUNT_EN}: {_COUNT} serious wrong expressions in its posts; a veto — correct them now "
            "(each post's link under /api/accounts/).",
            subject="account",
        ),
        AlertSpec(
            "XunchaAccountPrivacyLeak",
            "critical",
            "serious",
            account_join(f"max by (account) ({M.ACCOUNT_PRIVACY_LEAKS}) > 0"),
            f"{_ACCOUNT}发布的内容中有 {_COUNT} 个公民身份号码；泄露个人信息属严重问题，单项否决，请立即处理。",
            f"{_ACCOUNT_EN}: {_COUNT} valid resident ID numbers in its posts; leaking personal data is a veto "
            "— remove them now.",
            subject="account",
        ),
    ]


def agent_alerts(opts: Options) -> list[AlertSpec]:
    job = f'job="{opts.job}"'
    lag = opts.thresholds.scheduler_lag_seconds
    return [
        AlertSpec(
            "XunchaAgentDown",
            "critical",
            "agent",
            f"up{{{job}}} == 0",
            "巡查代理 {{ $labels.instance }} 无法抓取；其负责的网站与账号不再受监测。",
            "Xuncha agent {{ $labels.instance }} cannot be scraped; its sites and accounts are unwatched.",
        ),
        AlertSpec(
            "XunchaAgentAbsent",
            "critical",
            "agent",
            f"absent(up{{{job}}})",
            f"Prometheus 中没有任何巡查代理（job {opts.job}）；检查抓取配置。",
            f"No Xuncha agent is scraped (job {opts.job}); check the scrape configuration.",
        ),
        AlertSpec(
            "XunchaAgentNotProbing",
            "critical",
            "agent",
            f"sum by (instance) (increase({M.PROBE_RUNS_TOTAL}{{{job}}}[1h])) == 0 "
            f"and on (instance) sum by (instance) ({M.TARGETS}{{{job}}}) > 0",
            "巡查代理 {{ $labels.instance }} 一小时内没有完成任何检查。",
            "Xuncha agent {{ $labels.instance }} has finished no probe in an hour.",
        ),
        AlertSpec(
            "XunchaAgentLagging",
            "warning",
            "agent",
            f"histogram_quantile(0.9, sum by (instance, le) (rate({M.SCHEDULER_LAG_SECONDS}_bucket{{{job}}}[15m]))) "
            f"> {num(lag)}",
            "巡查代理 {{ $labels.instance }} 的调度延迟 90 分位为 " + _DURATION + "，检查跟不上间隔。",
            "Xuncha agent {{ $labels.instance }}: 90th percentile scheduler lag is "
            + _DURATION
            + "; probes fall behind their intervals.",
        ),
        AlertSpec(
            "XunchaConfigReloadFailed",
            "warning",
            "agent",
            f"{M.CONFIG_LAST_RELOAD_SUCCESSFUL}{{{job}}} == 0",
            "巡查代理 {{ $labels.instance }} 的配置重载失败，仍在使用旧配置（运行 xuncha check-config 查看错误）。",
            "Xuncha agent {{ $labels.instance }} failed to reload its configuration and keeps the old one "
            "(run xuncha check-config).",
        ),
    ]


# --- output ------------------------------------------------------------------------------------

HEADER = (
    "# Generated by `python -m dashboards` from dashboards/rules.py and domain/thresholds.py.\n"
    "# Do not edit: change the thresholds and regenerate (tests/test_rules.py checks this file is current).\n"
)


def dump(groups: Iterable[dict[str, Any]]) -> str:
    body = yaml.safe_dump({"groups": list(groups)}, sort_keys=False, allow_unicode=True, width=1000)
    return HEADER + body


def group_names(opts: Options = Options()) -> list[str]:
    """Every group, recording first: the evaluation order ``promtool test rules`` should use."""
    return [g["name"] for g in recording_groups(opts) + alert_groups(opts)]


def render(opts: Options = Options()) -> dict[str, str]:
    """File name under ``deploy/prometheus/`` → content."""
    return {
        "xuncha-rules.yml": dump(recording_groups(opts)),
        "xuncha-alerts.yml": dump(alert_groups(opts)),
    }
