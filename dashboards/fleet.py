"""Fleet overview: sites and accounts at veto / warning per indicator and region, the pass rate, the worst."""

from __future__ import annotations

from grafanalib import core as g

from dashboards import rules as R
from dashboards._common import Grid, bars, dashboard, query_variable, stat, steps, table, timeseries
from domain import metric_names as M

UID = R.DASHBOARD_UIDS["fleet"]
JOB = 'job="xuncha"'


def build() -> g.Dashboard:
    grid = Grid()
    region = 'region=~"$region"'
    active = f'{R.SITE_INFO}{{status!="closed", {region}}}'
    panels = [
        grid.row("巡查总览 Fleet"),
        grid.place(stat("Sites watched 在监网站", f"count({active}) or vector(0)"), 4, 4),
        grid.place(
            stat("Accounts watched 在监账号", f'count({R.ACCOUNT_INFO}{{status!="stopped"}}) or vector(0)'), 4, 4
        ),
        grid.place(
            stat(
                "Sites at veto 单项否决",
                f"sum(({R.SITE_LEVEL} == bool 2) * on (code) group_left () {active}) or vector(0)",
                thresholds=steps((None, "green"), (1, "red")),
                description="Sites with at least one indicator at its veto line (单项否决).",
            ),
            4,
            4,
        ),
        grid.place(
            stat(
                "Sites at warning 预警",
                f"sum(({R.SITE_LEVEL} == bool 1) * on (code) group_left () {active}) or vector(0)",
                thresholds=steps((None, "green"), (1, "orange")),
                description="Sites whose worst indicator is at the early-warning line.",
            ),
            4,
            4,
        ),
        grid.place(
            stat(
                "Accounts at veto 新媒体否决",
                f"sum({R.ACCOUNT_LEVEL} == bool 2) or vector(0)",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            4,
            4,
        ),
        grid.place(
            stat(
                "Estimated pass rate 合格率（估）",
                f"1 - (sum(({R.SITE_LEVEL} == bool 2) * on (code) group_left () {active}) or vector(0)) / count({active})",
                unit="percentunit",
                decimals=1,
                thresholds=steps((None, "red"), (0.8, "orange"), (0.95, "green")),
                description="Share of watched sites with no indicator at its veto line, the score (总分 under 60, "
                "from the items the agent measures) included.",
            ),
            4,
            4,
        ),
        grid.row("By indicator 分指标"),
        grid.place(
            bars(
                "Sites at veto per indicator",
                f"{R.SITES_VETO_BY_INDICATOR}",
                "{{indicator}}",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            12,
            8,
        ),
        grid.place(
            bars(
                "Sites at warning per indicator",
                f"{R.SITES_WARNING_BY_INDICATOR}",
                "{{indicator}}",
                thresholds=steps((None, "green"), (1, "orange")),
            ),
            12,
            8,
        ),
        grid.place(
            table(
                "Veto per region and indicator 分地区否决",
                (f"sum by (region, indicator) ({R.SITES_VETO_BY_REGION_INDICATOR}{{{region}}})", ""),
                rename={"Value": "sites at veto"},
                sort="sites at veto",
            ),
            12,
            9,
        ),
        grid.place(
            table(
                "Pass rate per region 分地区合格率",
                (f"{R.PASS_RATE_BY_REGION}{{{region}}}", ""),
                (f"{R.SITES_BY_REGION}{{{region}}}", ""),
                (f"{R.SITES_VETO_BY_REGION}{{{region}}}", ""),
                rename={"Value #A": "pass rate", "Value #B": "sites", "Value #C": "at veto"},
                thresholds=steps((None, "red"), (0.8, "orange"), (0.95, "green")),
            ),
            12,
            9,
        ),
        grid.row("Worst offenders 问题最多"),
        grid.place(
            table(
                "Worst sites 问题网站",
                (
                    f"topk(20, sum by (code) ({R.SITE_LEVEL_BY_INDICATOR}) > 0) * on (code) group_left (name, region) "
                    f"{active}",
                    "",
                ),
                rename={"Value": "score (2 per veto, 1 per warning)"},
                sort="score (2 per veto, 1 per warning)",
                description="Sum of indicator levels: 2 for each indicator at its veto line, 1 for each at warning. "
                "Open the site dashboard for details.",
            ),
            24,
            9,
        ),
        grid.place(
            table(
                "Hidden links 暗链",
                (f"(max by (code) ({M.HIDDEN_LINKS}) > 0) * on (code) group_left (name, region) {active}", ""),
                rename={"Value": "hidden links"},
                sort="hidden links",
                description="Sites whose homepage carries hidden links (暗链): links in hidden or off-screen elements, "
                "or to gambling, adult or private-server sites. A security veto; /api/sites/<code> lists "
                "each link and the element that hid it.",
            ),
            24,
            6,
        ),
        # --- issue 19: security findings ---
        grid.place(
            table(
                "Injected scripts 挂马/挖矿",
                (
                    f"(max by (code) ({M.SITE_MALICIOUS_SCRIPTS}) > 0) * on (code) group_left (name, region) {active}",
                    "",
                ),
                rename={"Value": "injected scripts"},
                sort="injected scripts",
                description="Sites whose pages load a script or frame from a blocklisted host, a crypto-miner, or a "
                "hidden frame to a host outside government (挂马). A security veto; /api/sites/<code> lists each.",
            ),
            24,
            6,
        ),
        grid.row("Agents 巡查代理"),
        grid.place(
            timeseries(
                "Probes per second",
                (f"sum by (kind) (rate({M.PROBE_RUNS_TOTAL}{{{JOB}}}[5m]))", "{{kind}}"),
                unit="ops",
            ),
            8,
            7,
        ),
        grid.place(
            timeseries(
                "Scheduler lag p90",
                (
                    f"histogram_quantile(0.9, sum by (kind, le) (rate({M.SCHEDULER_LAG_SECONDS}_bucket{{{JOB}}}[5m])))",
                    "{{kind}}",
                ),
                unit="s",
            ),
            8,
            7,
        ),
        grid.place(
            table(
                "Agents",
                (f"up{{{JOB}}}", ""),
                (f"sum by (instance) ({M.TARGETS}{{{JOB}}})", ""),
                rename={"Value #A": "up", "Value #B": "targets"},
            ),
            8,
            7,
        ),
    ]
    variables = [query_variable("region", "Region 地区", f"label_values({R.SITE_INFO}, region)")]
    return dashboard(
        UID,
        "巡查 Xuncha — fleet overview 总览",
        "Government websites and new-media accounts against the quarterly inspection indicators.",
        panels,
        variables,
    )
