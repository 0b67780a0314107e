"""The shipped Prometheus rules: current, valid for promtool, built from the contract's names."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards import rules
from dashboards.generate import outputs
from domain import metric_names as M
from domain.durations import parse_duration
from domain.thresholds import THRESHOLDS

ROOT = Path(__file__).resolve().parents[1]
PROM = ROOT / "deploy" / "prometheus"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


def test_committed_files_are_up_to_date() -> None:
    """Run `python -m dashboards` after changing dashboards/*.py or the thresholds."""
    stale = [
        rel
        for rel, text in outputs().items()
        if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != text
    ]
    assert stale == [], f"regenerate with `python -m dashboards`: {stale}"


@needs_promtool
def test_promtool_check_rules_accepts_the_shipped_files() -> None:
    proc = subprocess.run(
        ["promtool", "check", "rules", str(PROM / "xuncha-rules.yml"), str(PROM / "xuncha-alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@needs_promtool
def test_promtool_check_rules_rejects_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: a rule with a PromQL error is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text(rules.dump([{"name": "x", "rules": [{"record": "x:y:z", "expr": "sum by (code) ("}]}]))
    proc = subprocess.run(["promtool", "check", "rules", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0


def _metric_names_in(expr: str) -> set[str]:
    return set(re.findall(r"\bxuncha_[a-z_]+\b", expr)) - {"xuncha_"}


def test_rules_use_only_contract_metric_names() -> None:
    known = {v for k, v in vars(M).items() if k.isupper() and isinstance(v, str) and v.startswith("xuncha_")}
    histogram_parts = {f"{M.SCHEDULER_LAG_SECONDS}_bucket", f"{M.PROBE_DURATION_SECONDS}_bucket"}
    # the middle part of a recorded name (code:xuncha_x:op) is not a raw metric
    recorded_middles = {r["record"].split(":")[1] for g in rules.recording_groups() for r in g["rules"]}
    for group in rules.recording_groups() + rules.alert_groups():
        for rule in group["rules"]:
            for name in _metric_names_in(rule["expr"]) - recorded_middles:
                assert name in known | histogram_parts, f"{rule.get('alert') or rule['record']}: unknown {name}"


def test_alert_rules_read_only_series_that_are_recorded_or_exported() -> None:
    recorded = {r["record"] for g in rules.recording_groups() for r in g["rules"]}
    for group in rules.alert_groups():
        for rule in group["rules"]:
            for name in re.findall(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b", rule["expr"]):
                assert name in recorded, f"{rule['alert']} reads {name}, which no rule records"


def test_every_alert_has_severity_indicator_and_bilingual_annotations() -> None:
    for group in rules.alert_groups():
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["labels"]["indicator"]
            assert re.search(r"[\u4e00-\u9fff]", rule["annotations"]["summary"]), rule["alert"]
            assert re.search(r"[a-z]{3}", rule["annotations"]["description"]), rule["alert"]
            assert rule["alert"] in THRESHOLDS.for_seconds


def test_site_alerts_name_the_site_and_skip_closed_sites() -> None:
    for spec in rules.site_alerts(THRESHOLDS):
        assert "$labels.code" in spec.summary and "$labels.name" in spec.summary and "$labels.region" in spec.summary
        if spec.name == "XunchaClosedSiteOnline":
            assert 'status="closed"' in spec.expr
        else:
            assert 'status!="closed"' in spec.expr, spec.name


def test_account_alerts_skip_stopped_accounts_except_deregistration() -> None:
    for spec in rules.account_alerts(THRESHOLDS):
        assert ('status="stopped"' if spec.name == "XunchaAccountNotDeregistered" else 'status!="stopped"') in spec.expr


def test_warning_lines_come_before_veto_lines() -> None:
    t = THRESHOLDS
    for line in (
        t.unreachable_ratio,
        t.homepage_age,
        t.stale_columns,
        t.stale_news_notice_columns,
        t.blank_columns,
        t.interaction_age,
        t.account_silence,
    ):
        assert line.warning < line.critical
    assert t.cert_remaining.warning > t.cert_remaining.critical > 0


def test_veto_lines_are_the_published_ones() -> None:
    """indicators.md: 5 % of a week, 14 days, ≥ 5 blank, ≥ 5 stale news/notice or ≥ 10 stale, 14 days silent."""
    t = THRESHOLDS
    assert (t.unreachable_ratio.critical, t.unreachable_window) == (0.05, 7 * 86400)
    assert t.homepage_age.critical == 14 * 86400
    assert dict(t.stale_age) == {"news": 14 * 86400, "notice": 180 * 86400, "longterm": 365 * 86400}
    assert (t.blank_columns.critical, t.stale_news_notice_columns.critical, t.stale_columns.critical) == (5, 5, 10)
    assert t.account_silence.critical == 14 * 86400
    # early warning (预警) lines of the vendors: 3 %, 10 days, more than 2 blank, more than 6 stale, 7 days
    assert (t.unreachable_ratio.warning, t.homepage_age.warning) == (0.03, 10 * 86400)
    assert (t.blank_columns.warning, t.stale_columns.warning, t.account_silence.warning) == (3, 7, 7 * 86400)


def test_test_variant_shortens_for_and_window_but_keeps_names() -> None:
    short = rules.Options(for_scale=1 / 360, window=120)
    text = rules.dump(rules.recording_groups(short) + rules.alert_groups(short))
    assert "[2m]" in text and "[1w]" not in text
    fors = {r["for"] for g in rules.alert_groups(short) for r in g["rules"]}
    assert max(parse_duration(f) for f in fors) <= 30, fors
    assert [g["name"] for g in rules.recording_groups(short)] == [g["name"] for g in rules.recording_groups()]


def test_prometheus_rule_for_the_operator_carries_the_same_groups() -> None:
    doc = yaml.safe_load((ROOT / "deploy/k8s/prometheusrule.yaml").read_text(encoding="utf-8"))
    assert doc["kind"] == "PrometheusRule"
    shipped = [
        yaml.safe_load((PROM / f).read_text(encoding="utf-8"))["groups"]
        for f in ("xuncha-rules.yml", "xuncha-alerts.yml")
    ]
    assert doc["spec"]["groups"] == shipped[0] + shipped[1]


# --- what a notification needs (issue 10): links, lines, by when it becomes a veto -----------------


def _alert_rules() -> list[dict[str, object]]:
    return [r for g in rules.alert_groups() for r in g["rules"]]


def test_every_alert_links_its_dashboard_and_its_runbook_section() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (Xuncha\w+)$", runbook, flags=re.M))
    for rule in _alert_rules():
        name, ann, labels = rule["alert"], rule["annotations"], rule["labels"]
        assert isinstance(ann, dict) and isinstance(labels, dict) and isinstance(name, str)
        assert ann["runbook_url"] == f"{rules.RUNBOOK_URL}#{name.lower()}"
        assert name in sections, f"docs/runbook.md has no section for {name}"
        dash = ann["dashboard_url"]
        if labels["indicator"] == "agent":
            assert dash == "http://localhost:3000/d/xuncha-fleet/"
        elif labels["indicator"] in ("silence", "deregistration", "feed") or "by (account)" in str(rule["expr"]):
            assert dash == "http://localhost:3000/d/xuncha-newmedia/?var-platform={{ $labels.platform }}"
        else:
            assert dash == "http://localhost:3000/d/xuncha-site/?var-code={{ $labels.code }}"
    assert sections == {r["alert"] for r in _alert_rules()}  # and no section for an alert that is gone


def test_every_site_and_account_alert_says_its_lines_and_by_when_it_becomes_a_veto() -> None:
    for rule in _alert_rules():
        ann, labels = rule["annotations"], rule["labels"]
        assert isinstance(ann, dict) and isinstance(labels, dict)
        if labels["indicator"] == "agent":
            assert "line" not in ann and "veto" not in ann
            continue
        assert ann["line"] and ann["veto"], rule["alert"]
        if labels["severity"] == "critical" and labels["indicator"] in (
            "homepage",
            "columns",
            "interaction",
            "silence",
        ):
            assert ann["veto"].startswith("已达单项否决线"), rule["alert"]
    homepage = next(
        r for r in _alert_rules() if r["alert"] == "XunchaHomepageNotUpdated" and r["labels"]["severity"] == "warning"
    )  # type: ignore[index]
    h = THRESHOLDS.homepage_age
    assert homepage["annotations"] == {
        **homepage["annotations"],  # type: ignore[dict-item]
        "line": f"首页无新内容：预警 {h.warning / 86400:g} 天，否决 {h.critical / 86400:g} 天",
        "veto": "再过 {{ $value | humanizeDuration }} 成为单项否决（首页不更新）",
    }


def test_the_dashboard_and_runbook_links_follow_the_generator_options() -> None:
    opts = rules.Options(grafana_url="https://grafana.gd.example.gov.cn/", runbook_url="https://wiki.example/runbook")
    (rule,) = [r for g in rules.alert_groups(opts) for r in g["rules"] if r["alert"] == "XunchaSiteDown"]
    assert rule["annotations"]["dashboard_url"] == (
        "https://grafana.gd.example.gov.cn/d/xuncha-site/?var-code={{ $labels.code }}"
    )
    assert rule["annotations"]["runbook_url"] == "https://wiki.example/runbook#xunchasitedown"


def test_the_dashboard_uids_are_the_generated_dashboards_uids() -> None:
    from dashboards.generate import DASHBOARDS

    assert {name: build().uid for name, build in DASHBOARDS.items()} == rules.DASHBOARD_UIDS
