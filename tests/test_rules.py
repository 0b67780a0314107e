"""The shipped Prometheus rules: current, valid for promtool, built from the contract's names."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent import metric_names as M
from agent.durations import parse_duration
from dashboards import rules
from dashboards.generate import outputs
from domain.thresholds import THRESHOLDS

ROOT = Path(__file__).resolve().parents[1]
PROM = ROOT / "deploy" / "prometheus"
needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


def test_committed_files_are_up_to_date() -> None:
    """Run `python -m dashboards` after changing dashboards/*.py or the thresholds."""
    stale = [rel for rel, text in outputs().items()
             if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != text]
    assert stale == [], f"regenerate with `python -m dashboards`: {stale}"


@needs_promtool
def test_promtool_check_rules_accepts_the_shipped_files() -> None:
    proc = subprocess.run(["promtool", "check", "rules", str(PROM / "xuncha-rules.yml"),
                           str(PROM / "xuncha-alerts.yml")], capture_output=True, text=True, timeout=60)
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
    for line in (t.unreachable_ratio, t.homepage_age, t.stale_columns, t.stale_news_notice_columns,
                 t.blank_columns, t.interaction_age, t.account_silence):
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
    shipped = [yaml.safe_load((PROM / f).read_text(encoding="utf-8"))["groups"]
               for f in ("xuncha-rules.yml", "xuncha-alerts.yml")]
    assert doc["spec"]["groups"] == shipped[0] + shipped[1]
