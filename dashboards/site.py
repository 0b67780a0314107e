"""One site, indicator by indicator, against its lines (templated by region and site)."""

from __future__ import annotations

from grafanalib import core as g

from dashboards import rules as R
from dashboards._common import Grid, bars, dashboard, query_variable, stat, steps, table, timeseries
from domain import metric_names as M
from domain.thresholds import THRESHOLDS as T

UID = R.DASHBOARD_UIDS["site"]


def build() -> g.Dashboard:
    grid = Grid()
    site = 'code=~"$code"'
    ua, ha, ba = T.unreachable_ratio, T.homepage_age, T.blank_columns
    ca, ia = T.cert_remaining, T.interaction_age
    panels = [
        grid.row("Site 网站"),
        grid.place(
            table(
                "Site 网站信息", (f"{M.SITE_INFO}{{{site}}}", ""), hide=("Time", "__name__", "instance", "job", "Value")
            ),
            16,
            4,
        ),
        grid.place(
            stat(
                "Worst level 最差状态",
                f"max({R.SITE_LEVEL}{{{site}}})",
                thresholds=steps((None, "green"), (1, "orange"), (2, "red")),
                description="0 ok, 1 early warning, 2 at a veto line (单项否决).",
            ),
            8,
            4,
        ),
        grid.place(
            stat(
                "Probes 检查",
                f"min by (probe) ({M.PROBE_SUCCESS}{{{site}}})",
                legend="{{probe}}",
                thresholds=steps((None, "red"), (1, "green")),
            ),
            24,
            4,
        ),
        grid.row("站点无法访问 Availability"),
        grid.place(
            timeseries(
                "Unreachable over 7 days 一周不可访问比例",
                (f"{R.UNREACHABLE_RATIO}{{{site}}}", "{{code}}"),
                unit="percentunit",
                minimum=0,
                lines=steps((None, "green"), (ua.warning, "orange"), (ua.critical, "red")),
                description=f"Visits that did not open the homepage within {T.visit_timeout:g} s, over the last 7 days. "
                f"Veto at {ua.critical:.0%}, warning at {ua.warning:.0%}.",
            ),
            12,
            8,
        ),
        grid.place(
            timeseries("Homepage response 首页响应", (f"{M.HTTP_DURATION_SECONDS}{{{site}}}", "{{phase}}"), unit="s"),
            12,
            8,
        ),
        grid.row("首页/栏目不更新 Updates"),
        grid.place(
            timeseries(
                "Homepage age 首页更新",
                (f"{R.HOMEPAGE_AGE}{{{site}}}", "homepage"),
                unit="s",
                minimum=0,
                lines=steps((None, "green"), (ha.warning, "orange"), (ha.critical, "red")),
            ),
            12,
            8,
        ),
        grid.place(
            table(
                "Column ages 栏目更新",
                (f"{R.COLUMN_AGE}{{{site}}}", ""),
                unit="s",
                rename={"Value": "age"},
                sort="age",
                description="Stale after: "
                + ", ".join(f"{k} {v / 86400:g} d" for k, v in T.stale_age.items())
                + "; interaction columns whose rows show no state: 90 d (else judged by their messages, below).",
            ),
            12,
            8,
        ),
        grid.place(
            stat(
                "Stale columns 不更新栏目",
                f"sum({R.COLUMNS_STALE}{{{site}}})",
                thresholds=steps(
                    (None, "green"), (T.stale_columns.warning, "orange"), (T.stale_columns.critical, "red")
                ),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Stale news/notice 动态/通知类",
                f"sum({R.COLUMNS_STALE_NEWS_NOTICE}{{{site}}})",
                thresholds=steps(
                    (None, "green"),
                    (T.stale_news_notice_columns.warning, "orange"),
                    (T.stale_news_notice_columns.critical, "red"),
                ),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Blank columns 空白栏目",
                f"sum({R.COLUMNS_BLANK}{{{site}}})",
                thresholds=steps((None, "green"), (ba.warning, "orange"), (ba.critical, "red")),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Indicators 指标状态",
                f"max by (indicator) ({R.SITE_LEVEL_BY_INDICATOR}{{{site}}})",
                legend="{{indicator}}",
                thresholds=steps((None, "green"), (1, "orange"), (2, "red")),
            ),
            6,
            4,
        ),
        grid.row("互动回应差 Interaction"),
        grid.place(
            stat(
                "Consultation channels 咨询渠道",
                f"min({M.SITE_CONSULTATION_CHANNELS}{{{site}}})",
                thresholds=steps((None, "red"), (1, "green")),
                description="Effective online consultation channels; 0 is a veto (网上信访, 纪检举报, 在线访谈, "
                "调查征集 do not count).",
            ),
            6,
            8,
        ),
        grid.place(
            timeseries(
                "Unanswered for 留言未回复",
                (f"{R.INTERACTION_AGE}{{{site}}}", "oldest unanswered"),
                unit="s",
                minimum=0,
                lines=steps((None, "green"), (ia.warning, "orange"), (ia.critical, "red")),
                description="Age of the oldest message of the past year still unanswered (a column whose rows show "
                f"no state: its newest item). Veto at {ia.critical / 86400:g} d, warning at {ia.warning / 86400:g} d.",
            ),
            18,
            8,
        ),
        grid.place(
            table(
                "Messages by state 留言状态",
                (f"max by (column, state) ({M.INTERACTION_MESSAGES}{{{site}}})", ""),
                rename={"Value": "messages"},
            ),
            8,
            8,
        ),
        grid.place(
            table(
                "Reply time 回复用时",
                (f"max by (column, stat) ({M.INTERACTION_REPLY_SECONDS}{{{site}}})", ""),
                unit="s",
                rename={"Value": "seconds"},
                description="From question to reply, over the answered messages showing both dates.",
            ),
            8,
            8,
        ),
        grid.place(
            table(
                "Overdue and answered 超期未回复 / 一年内已回复",
                (f"max by (column) ({M.INTERACTION_OVERDUE}{{{site}}})", "overdue"),
                rename={"Value": "overdue"},
                description="Unanswered messages of the past year older than the veto line (which ones: "
                "/api/sites/<code>, /api/findings).",
            ),
            8,
            8,
        ),
        grid.row("证书、链接、要素 Certificate, links, elements"),
        grid.place(
            stat(
                "Certificate expires in 证书剩余",
                f"min({R.CERT_REMAINING}{{{site}}})",
                unit="s",
                thresholds=steps((None, "red"), (ca.critical, "orange"), (ca.warning, "green")),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Certificate valid 证书有效",
                f"min({M.TLS_CERT_VALID}{{{site}}})",
                thresholds=steps((None, "red"), (1, "green")),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Broken homepage links 首页坏链",
                f"max({M.LINKS_BROKEN}{{{site}}})",
                thresholds=steps((None, "green"), (1, "orange")),
            ),
            6,
            4,
        ),
        grid.place(stat("Links checked 已检链接", f"max({M.LINKS_CHECKED}{{{site}}})"), 6, 4),
        grid.place(
            table(
                "Required elements 必备要素",
                (f"min by (check) ({M.COMPLIANCE_CHECK}{{{site}}})", ""),
                rename={"Value": "pass"},
                thresholds=steps((None, "red"), (1, "green")),
            ),
            12,
            7,
        ),
        grid.place(
            stat(
                "Serious errors 严重错误",
                f"max({M.SERIOUS_ERRORS}{{{site}}})",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            6,
            7,
        ),
        grid.place(
            stat(
                "Privacy leaks 隐私泄露",
                f"max({M.PRIVACY_LEAKS}{{{site}}})",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            6,
            7,
        ),
        grid.place(
            stat(
                "Hidden links 暗链", f"max({M.HIDDEN_LINKS}{{{site}}})", thresholds=steps((None, "green"), (1, "red"))
            ),
            6,
            7,
        ),
        # --- issue 19: security findings ---
        grid.place(
            stat(
                "Injected scripts 挂马/挖矿",
                f"max({M.SITE_MALICIOUS_SCRIPTS}{{{site}}})",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            6,
            7,
        ),
        grid.place(
            stat(
                "Back-dated items 伪造发稿日期 (review)",
                f"max({M.SITE_BACKDATED_ITEMS}{{{site}}})",
                thresholds=steps((None, "green"), (1, "orange")),
            ),
            6,
            7,
        ),
        *_services(grid, site),
        *_score_panels(grid, site),
    ]
    variables = [
        query_variable("region", "Region 地区", f"label_values({R.SITE_INFO}, region)"),
        query_variable(
            "code",
            "Site 网站",
            f'{R.SITE_INFO}{{region=~"$region"}}',
            regex='/code="(?<value>[^"]+)".*name="(?<text>[^"]+)"/',
            include_all=False,
            multi=False,
        ),
    ]
    return dashboard(UID, "巡查 Xuncha — site 网站", "One site against the inspection lines.", panels, variables)


# --- the score (issue 19: domain/scoring.py) -------------------------------------------------------


def _score_panels(grid: Grid, site: str) -> list[g.Panel]:
    sc = T.site_score
    return [
        grid.row("得分 Score"),
        grid.place(
            timeseries(
                "Score 总分",
                (f"min({M.SITE_SCORE}{{{site}}})", "总分"),
                minimum=0,
                lines=steps((None, "red"), (sc.critical, "orange"), (sc.warning, "green")),
                description=f"100 less the deductions of the items the agent measures (domain/scoring.py), plus the "
                f"bonus; under {sc.critical:g} unqualified, warning under {sc.warning:g}. "
                "Which items were not measured: /api/sites/<code>.",
            ),
            12,
            8,
        ),
        grid.place(
            table(
                "Deductions 扣分项",
                (f"max by (item) ({M.SITE_DEDUCTIONS}{{{site}}}) > 0", ""),
                rename={"Value": "points"},
                sort="points",
                description="Points deducted per item of the scoring table; items at 0 are left out.",
            ),
            6,
            8,
        ),
        grid.place(
            stat(
                "Column pages' broken links 栏目页坏链",
                f"max({M.COLUMN_LINKS_BROKEN}{{{site}}})",
                thresholds=steps((None, "green"), (1, "orange")),
                description="Links of the column pages and their first articles (not on the homepage).",
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Pages missing tags 网页标签不规范",
                f"max({M.PAGE_TAGS_MISSING}{{{site}}})",
                thresholds=steps((None, "green"), (1, "orange")),
                description="Column pages (ColumnName/ColumnType/ColumnDescription) and first articles "
                "(ArticleTitle/PubDate/ContentSource) missing a tag; which: /api/findings.",
            ),
            6,
            4,
        ),
    ]


def _services(grid: Grid, site: str) -> list[g.Panel]:
    """服务不实用 (issue 18): the guides read in the latest services run by state, and whether the site
    offers services; which guides miss what: /api/sites/<code>."""
    return [
        grid.row("Services 办事服务"),
        grid.place(
            stat(
                "No services 未提供办事服务",
                f"max({M.SITE_NO_SERVICES}{{{site}}})",
                thresholds=steps((None, "green"), (1, "red")),
                description="1: no 办事服务 column and no way into the 政务服务网 (a veto).",
            ),
            6,
            6,
        ),
        grid.place(
            bars(
                "Service guides read 办事指南要素",
                f"max by (state) ({M.SITE_SERVICE_GUIDES}{{{site}}})",
                "{{state}}",
                description="Guides read in the latest services run: complete, partial (some of the ten element "
                "categories missing), incomplete (at least services.missing_elements missing). Which: /api/.",
            ),
            18,
            6,
        ),
    ]
