"""What the three dashboards share: the datasource variable, panel shorthands, a grid layout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

DATASOURCE = "${datasource}"
DATASOURCE_UID = "xuncha-prometheus"  # the provisioned datasource (deploy/grafana/provisioning)
COLORS = {"ok": "green", "warning": "orange", "critical": "red"}


def datasource_variable() -> g.Template:
    return g.Template(
        name="datasource", label="Prometheus", query="prometheus", type="datasource", default=DATASOURCE_UID
    )


def query_variable(
    name: str, label: str, query: str, *, regex: str = "", include_all: bool = True, multi: bool = True
) -> g.Template:
    t = g.Template(
        name=name,
        label=label,
        query=query,
        dataSource=DATASOURCE,
        regex=regex,
        includeAll=include_all,
        multi=multi,
        allValue=".+",
        refresh=2,
        sort=1,
    )
    if include_all:  # Grafana's own spelling of "All" selected
        t._current = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return t


def target(expr: str, legend: str = "", *, instant: bool = False, table: bool = False, ref: str = "A") -> g.Target:
    return g.Target(
        expr=expr,
        legendFormat=legend,
        instant=instant or table,
        refId=ref,
        format="table" if table else "time_series",
        datasource=DATASOURCE,
    )


def steps(*pairs: tuple[float | None, str]) -> list[dict[str, Any]]:
    """Threshold steps: (None, "green"), (3, "orange"), (5, "red")."""
    return [{"value": v, "color": c} for v, c in pairs]


def stat(
    title: str,
    expr: str,
    *,
    unit: str = "none",
    thresholds: list[dict[str, Any]] | None = None,
    description: str = "",
    legend: str = "",
    decimals: int | None = None,
) -> g.Stat:
    return g.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, legend, instant=True)],
        format=unit,
        reduceCalc="lastNotNull",
        graphMode="none",
        colorMode="background" if thresholds else "value",
        decimals=decimals,
        thresholds=thresholds or steps((None, "blue")),
        noValue="0",
    )


def timeseries(
    title: str,
    *exprs: tuple[str, str],
    unit: str = "none",
    description: str = "",
    lines: list[dict[str, Any]] | None = None,
    minimum: float | None = None,
) -> g.TimeSeries:
    return g.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(e, legend, ref=chr(ord("A") + i)) for i, (e, legend) in enumerate(exprs)],
        unit=unit,
        thresholds=lines or steps((None, "green")),
        thresholdsStyleMode="line" if lines else "off",
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["lastNotNull", "max"],
        valueMin=minimum,
    )


def table(
    title: str,
    *exprs: tuple[str, str],
    description: str = "",
    unit: str = "none",
    hide: tuple[str, ...] = ("Time", "__name__", "instance", "job"),
    rename: dict[str, str] | None = None,
    thresholds: list[dict[str, Any]] | None = None,
    sort: str | None = None,
) -> g.Table:
    transformations: list[dict[str, Any]] = []
    if len(exprs) > 1:
        transformations.append({"id": "merge", "options": {}})
    transformations.append(
        {"id": "organize", "options": {"excludeByName": {h: True for h in hide}, "renameByName": rename or {}}}
    )
    return g.Table(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(e, legend, table=True, ref=chr(ord("A") + i)) for i, (e, legend) in enumerate(exprs)],
        transformations=transformations,
        unit=unit,
        displayMode="color-background-solid" if thresholds else "auto",
        thresholds=thresholds or steps((None, "transparent")),
        filterable=True,
        sortBy=[g.TableSortByField(displayName=sort, desc=True)] if sort else [],
    )


def bars(
    title: str,
    expr: str,
    legend: str,
    *,
    description: str = "",
    unit: str = "none",
    thresholds: list[dict[str, Any]] | None = None,
) -> g.BarGauge:
    return g.BarGauge(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, legend, instant=True)],
        format=unit,
        orientation="horizontal",
        displayMode="gradient",
        calc="lastNotNull",
        min=0,
        max=None,
        thresholds=thresholds or steps((None, "green")),
    )


@dataclass
class Grid:
    """Places panels left to right in rows of 24 columns."""

    x: int = 0
    y: int = 0
    row_height: int = 0

    def place(self, panel: Any, w: int, h: int) -> Any:
        if self.x + w > 24:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel.gridPos = g.GridPos(h=h, w=w, x=self.x, y=self.y)
        self.x += w
        self.row_height = max(self.row_height, h)
        return panel

    def row(self, title: str) -> g.RowPanel:
        if self.x:
            self.x, self.y, self.row_height = 0, self.y + self.row_height, 0
        panel = g.RowPanel(title=title, gridPos=g.GridPos(h=1, w=24, x=0, y=self.y))
        self.y += 1
        return panel


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: list[Any],
    variables: list[g.Template],
    tags: tuple[str, ...] = ("xuncha",),
    time_from: str = "now-7d",
) -> g.Dashboard:
    links = [
        g.DashboardLink(
            uri="",
            title="Xuncha",
            type="dashboards",
            tags=["xuncha"],
            asDropdown=True,
            keepTime=True,
            includeVars=False,
        )
    ]
    return g.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=list(tags),
        timezone="browser",
        time=g.Time(time_from, "now"),
        refresh="1m",
        editable=True,
        links=links,
        templating=g.Templating(list=[datasource_variable(), *variables]),
        panels=panels,
    ).auto_panel_ids()


def to_json(dash: g.Dashboard) -> str:
    return json.dumps(dash.to_json_data(), cls=DashboardEncoder, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def panel_queries(dashboard_json: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query in a generated dashboard (the e2e test runs them all)."""
    out = []
    for panel in dashboard_json.get("panels", []):
        for t in panel.get("targets", []) or []:
            if t.get("expr"):
                out.append((panel.get("title", ""), t["expr"]))
    return out
