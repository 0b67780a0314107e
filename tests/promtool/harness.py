"""Build ``promtool test rules`` files from Python, so test values follow the thresholds.

A :class:`Group` is one promtool test group (its own input series and clock); ``expect``
adds an ``alert_rule_test``.  Expected annotations are rendered from the shipped rule's
templates with the expected labels and value — the small subset of Go templating the
rules use (``$labels.x``, ``$value`` piped to ``humanizeDuration``, ``humanizePercentage``
or ``printf "%.0f"``) is reimplemented here, so a wrong value or a wrong label fails.
"""

from __future__ import annotations

import functools
import math
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboards.rules import group_names
from domain.durations import format_duration

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "deploy" / "prometheus"
RULE_FILES = ("xuncha-rules.yml", "xuncha-alerts.yml")
STEP = 300.0  # input series interval and evaluation interval (5m), unless a group says otherwise

SITES = {
    # code: (name, region, province)
    "4405070010": ("汕头市龙湖区人民政府", "广东省汕头市龙湖区", "广东省"),
    "4405070020": ("汕头市龙湖区教育局", "广东省汕头市龙湖区", "广东省"),
    "4451000001": ("潮州市人民政府", "广东省潮州市", "广东省"),
    "4301000001": ("长沙市人民政府", "湖南省长沙市", "湖南省"),
    "4301000002": ("长沙市教育局", "湖南省长沙市", "湖南省"),
    "4301000003": ("长沙市卫生健康委员会", "湖南省长沙市", "湖南省"),
    "4301000004": ("长沙市交通运输局", "湖南省长沙市", "湖南省"),
    "4301000005": ("长沙市民政局", "湖南省长沙市", "湖南省"),
    "bm55000001": ("某部委网站", "国务院部门", "国务院部门"),
    "4301000099": ("长沙市已关停网站", "湖南省长沙市", "湖南省"),
}
ACCOUNTS = {
    # id: (unit, platform, name, region, province) — region "" when the agent knows none
    "chaozhou-police-wechat": ("潮州市公安局", "wechat", "平安潮州", "广东省潮州市", "广东省"),
    "longhu-weibo": ("汕头市龙湖区人民政府", "weibo", "龙湖发布", "广东省汕头市龙湖区", "广东省"),
    "longhu-douyin": ("汕头市龙湖区人民政府", "douyin", "龙湖抖音", "广东省汕头市龙湖区", "广东省"),
    "changsha-toutiao": ("长沙市人民政府", "toutiao", "长沙发布", "湖南省长沙市", "湖南省"),
    "old-wechat": ("某民政旧号运营单位", "wechat", "长沙民政旧号", "", ""),
}


def labels_text(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def site_labels(code: str) -> dict[str, str]:
    name, region, province = SITES[code]
    return {"code": code, "name": name, "region": region, "province": province}


def account_labels(account: str) -> dict[str, str]:
    """The labels an account's alert carries; region and province only when known (as PromQL drops empty ones)."""
    unit, platform, name, region, province = ACCOUNTS[account]
    labels = {"account": account, "unit": unit, "platform": platform, "name": name}
    return {**labels, "region": region, "province": province} if region else labels


# --- Go template functions the rules use -------------------------------------------------------


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return f"{v:.4g}"
    if v == 0:
        return "0s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        d = int(abs(v))
        secs, mins, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {mins}m {secs}s"
        if hours:
            return f"{sign}{hours}h {mins}m {secs}s"
        if mins:
            return f"{sign}{mins}m {secs}s"
        return f"{sign}{abs(v):.4g}s"
    raise ValueError("sub-second durations are not used by the rules")


def render(template: str, labels: dict[str, str], value: float) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr.startswith("$labels."):
            return labels.get(expr[len("$labels.") :], "")
        if expr == "$value | humanizeDuration":
            return humanize_duration(value)
        if expr == "$value | humanizePercentage":
            return f"{value * 100:.4g}%"
        if expr == '$value | printf "%.0f"':
            return f"{value:.0f}"
        if expr == '$value | printf "%.1f"':  # the score (issue 19)
            return f"{value:.1f}"
        raise ValueError(f"template {expr!r} not known to the test harness")

    return re.sub(r"\{\{(.*?)\}\}", one, template)


@functools.cache
def _shipped_alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load((RULES_DIR / "xuncha-alerts.yml").read_text(encoding="utf-8"))
    return list(doc["groups"])


def shipped_alert(name: str, severity: str) -> dict[str, Any]:
    for group in _shipped_alerts():
        for rule in group["rules"]:
            if rule.get("alert") == name and rule["labels"]["severity"] == severity:
                return rule
    raise KeyError(f"{name}/{severity} is not a shipped alert")


# --- test groups ---------------------------------------------------------------------------------


def steps(until: float, step: float = STEP) -> int:
    return int(until // step) + 1


def const(value: float, until: float, step: float = STEP) -> str:
    """``value`` at every step from 0 to ``until``."""
    return f"{_n(value)}x{steps(until, step)}"


def switch(before: float, after: float, at: float, until: float, step: float = STEP) -> str:
    """``before`` up to (not including) time ``at``, then ``after`` until ``until``."""
    k = int(at // step)
    return f"{_n(before)}x{k - 1} {_n(after)}x{steps(until, step) - k}"


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass
class Group:
    name: str
    until: float  # the latest eval time; series run to here
    step: float = STEP  # series interval and evaluation interval
    series: list[dict[str, str]] = field(default_factory=list)
    alert_tests: list[dict[str, Any]] = field(default_factory=list)
    expr_tests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, metric: str, labels: dict[str, str], values: str) -> Group:
        self.series.append({"series": f"{metric}{{{labels_text(labels)}}}", "values": values})
        return self

    def site(self, code: str, status: str = "active", kind: str = "portal") -> Group:
        name, region, province = SITES[code]
        labels = {
            "code": code,
            "name": name,
            "region": region,
            "province": province,
            "kind": kind,
            "status": status,
            "url": f"https://{code}.example.gov.cn/",
            "instance": "agent-0:9725",
            "job": "xuncha",
        }
        return self.add("xuncha_site_info", labels, const(1, self.until, self.step))

    def account(self, account: str, status: str = "active") -> Group:
        unit, platform, name, region, province = ACCOUNTS[account]
        labels = {
            "account": account,
            "unit": unit,
            "platform": platform,
            "name": name,
            "status": status,
            "region": region,
            "province": province,
            "instance": "agent-0:9725",
            "job": "xuncha",
        }
        return self.add("xuncha_account_info", labels, const(1, self.until, self.step))

    def metric(self, metric: str, values: str, **labels: str) -> Group:
        return self.add(metric, {**labels, "instance": "agent-0:9725", "job": "xuncha"}, values)

    def expect(self, alertname: str, at: float, *alerts: tuple[str, dict[str, str], float]) -> Group:
        """At time ``at``, exactly ``alerts`` (severity, labels, $value) of ``alertname`` fire."""
        exp = []
        for severity, labels, value in alerts:
            rule = shipped_alert(alertname, severity)
            full = {**labels, **rule["labels"]}
            exp.append(
                {
                    "exp_labels": full,
                    "exp_annotations": {k: render(v, full, value) for k, v in rule["annotations"].items()},
                }
            )
        self.alert_tests.append(
            {"eval_time": format_duration(at) if at else "0s", "alertname": alertname, "exp_alerts": exp}
        )
        return self

    def expect_value(self, expr: str, at: float, *samples: tuple[dict[str, str], float]) -> Group:
        """``expr`` (a selector of one recorded series) has exactly ``samples`` at ``at``."""
        name = expr.split("{", 1)[0]
        samples = tuple(({"__name__": name, **labels}, v) for labels, v in samples)
        self.expr_tests.append(
            {
                "expr": expr,
                "eval_time": format_duration(at),
                "exp_samples": [
                    {"labels": labels_text(lb) and "{" + labels_text(lb) + "}", "value": v} for lb, v in samples
                ],
            }
        )
        return self

    def doc(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "interval": format_duration(self.step), "input_series": self.series}
        if self.alert_tests:
            out["alert_rule_test"] = self.alert_tests
        if self.expr_tests:
            out["promql_expr_test"] = self.expr_tests
        return out


def promtool_file(groups: list[Group], rules_dir: Path = RULES_DIR) -> str:
    (step,) = {g.step for g in groups}
    doc = {
        "rule_files": [str(rules_dir / f) for f in RULE_FILES],
        "evaluation_interval": format_duration(step),
        # Recording groups first, as they are listed: alerts read this evaluation's recorded values.
        # (A real Prometheus runs groups independently; there an alert may lag one evaluation.)
        "group_eval_order": group_names(),
        "tests": [g.doc() for g in groups],
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000)


def start_promtool(path: Path) -> subprocess.Popen[str]:
    """``promtool test rules path``, started; the caller collects it with ``communicate()``."""
    return subprocess.Popen(
        ["promtool", "test", "rules", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
