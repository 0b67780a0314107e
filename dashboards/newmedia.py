"""New-media accounts (政务新媒体): silent accounts, failing feeds, stopped but still live, wrong
expressions and ID numbers in posts."""

from __future__ import annotations

from grafanalib import core as g

from dashboards import rules as R
from dashboards._common import Grid, bars, dashboard, query_variable, stat, steps, table
from domain import metric_names as M

UID = R.DASHBOARD_UIDS["newmedia"]


def build() -> g.Dashboard:
    grid = Grid()
    platform = 'platform=~"$platform"'
    info = f"{R.ACCOUNT_INFO}{{{platform}}}"
    active = f'{R.ACCOUNT_INFO}{{status!="stopped", {platform}}}'
    joined = f"* on (account) group_left (unit, platform, name) {active}"
    s = R.ACCOUNT_LEVEL_BY_INDICATOR
    panels = [
        grid.row("政务新媒体 New media"),
        grid.place(stat("Accounts watched 在监账号", f"count({active}) or vector(0)"), 6, 4),
        grid.place(
            stat(
                "Silent ≥ 14 days 否决",
                f'sum(({s}{{indicator="silence"}} == bool 2) {joined}) or vector(0)',
                thresholds=steps((None, "green"), (1, "red")),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Silent ≥ 7 days 预警",
                f'sum(({s}{{indicator="silence"}} == bool 1) {joined}) or vector(0)',
                thresholds=steps((None, "green"), (1, "orange")),
            ),
            6,
            4,
        ),
        grid.place(
            stat(
                "Stopped but live 停更未注销",
                f"sum(max by (account) ({M.ACCOUNT_NOT_DEREGISTERED}) * on (account) group_left () {info}) or vector(0)",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            6,
            4,
        ),
        grid.place(
            table(
                "Silence per account 账号停更时长",
                (f"sort_desc({R.ACCOUNT_SILENCE} {joined})", ""),
                unit="s",
                rename={"Value": "silent for"},
                sort="silent for",
                thresholds=steps((None, "green"), (7 * 86400, "orange"), (14 * 86400, "red")),
            ),
            24,
            10,
        ),
        grid.place(
            table(
                "Feeds 订阅源",
                (f"min by (account) ({M.FEED_SUCCESS}) {joined}", ""),
                rename={"Value": "feed ok"},
                thresholds=steps((None, "red"), (1, "green")),
                description="A failing feed (RSSHub route broken) is not a silent account.",
            ),
            12,
            8,
        ),
        grid.place(
            table(
                "Stopped accounts 已停止账号",
                (
                    f"max by (account) ({M.ACCOUNT_NOT_DEREGISTERED}) * on (account) group_left (unit, platform, name) "
                    f'{R.ACCOUNT_INFO}{{status="stopped", {platform}}}',
                    "",
                ),
                rename={"Value": "still live"},
                thresholds=steps((None, "green"), (1, "red")),
                description="Stopped accounts must be deregistered (注销); 1 means still reachable.",
            ),
            12,
            8,
        ),
        grid.place(bars("Accounts per platform 平台", f"count by (platform) ({info})", "{{platform}}"), 12, 7),
        grid.place(
            bars(
                "Silent (veto) per platform",
                f'sum by (platform) (({s}{{indicator="silence"}} == bool 2) {joined})',
                "{{platform}}",
                thresholds=steps((None, "green"), (1, "red")),
            ),
            12,
            7,
        ),
        *_posts(grid, joined, s),
    ]
    variables = [query_variable("platform", "Platform 平台", f"label_values({R.ACCOUNT_INFO}, platform)")]
    return dashboard(UID, "巡查 Xuncha — new media 政务新媒体", "Government new-media accounts.", panels, variables)


def _posts(grid: Grid, joined: str, level: str) -> list[g.Panel]:
    """Issue 18: the content probe's dictionaries on posts; which posts: /api/accounts/<id>."""
    both = " or ".join(
        f'label_replace(max by (account) ({metric}), "what", "{what}", "", "")'
        for metric, what in ((M.ACCOUNT_SERIOUS_ERRORS, "严重表述错误"), (M.ACCOUNT_PRIVACY_LEAKS, "身份证号"))
    )
    return [
        grid.row("Posts 发布内容"),
        grid.place(
            stat(
                "Serious problems in posts 严重问题 否决",
                f'sum(({level}{{indicator="serious"}} == bool 2) {joined}) or vector(0)',
                thresholds=steps((None, "green"), (1, "red")),
                description="Accounts whose posts hold a wrong expression of the dictionary or a resident ID number.",
            ),
            6,
            6,
        ),
        grid.place(
            table(
                "Wrong expressions and ID numbers in posts 严重表述错误 / 身份证号",
                (f"(({both}) > 0) {joined}", ""),
                rename={"Value": "found"},
                thresholds=steps((None, "green"), (1, "red")),
                description="Each post's link and the correct form: /api/accounts/<id> (details.posts).",
            ),
            18,
            6,
        ),
    ]
