"""One source of lines: findings, the report and alerts read domain/thresholds.py, and the
configuration's overrides reach the alert text (``xuncha rules -c``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from agent.cli import main
from agent.registry.config import Config, loads, thresholds_of
from domain.settings import ContentConfig, HttpConfig
from domain.thresholds import DAY, THRESHOLDS

ROOT = Path(__file__).resolve().parent.parent


def test_the_findings_defaults_are_the_alerts_veto_lines() -> None:
    content = ContentConfig()
    assert content.homepage_stale_days * DAY == THRESHOLDS.homepage_age.critical
    for category, age in THRESHOLDS.stale_age.items():
        assert content.stale_days[category] * DAY == age
    assert content.stale_days["interaction"] * DAY == THRESHOLDS.interaction_age.critical
    assert HttpConfig().timeout == THRESHOLDS.visit_timeout


def test_without_overrides_the_configured_lines_are_the_shipped_ones() -> None:
    assert thresholds_of(Config()) == THRESHOLDS


def test_configured_lines_move_the_veto_and_keep_the_warning_below_it() -> None:
    cfg = loads("http: {timeout: 10s}\ncontent: {homepage_stale_days: 7d, stale_days: {news: 7d}}\n")
    t = thresholds_of(cfg)
    assert t.visit_timeout == 10
    assert t.homepage_age.critical == 7 * DAY and t.homepage_age.warning < t.homepage_age.critical
    assert t.stale_age["news"] == 7 * DAY and t.stale_age["notice"] == THRESHOLDS.stale_age["notice"]


def alert_texts(path: Path) -> str:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return "\n".join(
        rule["annotations"]["summary"] + rule["annotations"]["description"]
        for group in doc["groups"]
        for rule in group["rules"]
    )


def test_xuncha_rules_without_a_configuration_writes_the_shipped_rules(tmp_path: Path) -> None:
    assert main(["rules", "--out", str(tmp_path)]) == 0
    for name in ("xuncha-rules.yml", "xuncha-alerts.yml"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (ROOT / "deploy/prometheus" / name).read_text(
            encoding="utf-8"
        )


def test_the_alert_text_says_the_configured_timeout_not_15_s(tmp_path: Path) -> None:
    config = tmp_path / "xuncha.yml"
    config.write_text("http: {timeout: 10s}\ncontent: {homepage_stale_days: 7d}\n", encoding="utf-8")
    assert main(["rules", "-c", str(config), "--out", str(tmp_path)]) == 0
    text = alert_texts(tmp_path / "xuncha-alerts.yml")
    assert "10 秒内打开首页" in text and "within 10 s" in text
    assert "15 秒" not in text and "within 15 s" not in text
    rules = (tmp_path / "xuncha-rules.yml").read_text(encoding="utf-8")
    assert f">= bool {7 * 86400}" in rules  # the homepage veto at 7 days


def test_a_bad_configuration_writes_no_rules(tmp_path: Path) -> None:
    config = tmp_path / "xuncha.yml"
    config.write_text("http: {timeout: 10}\n", encoding="utf-8")
    assert main(["rules", "-c", str(config), "--out", str(tmp_path / "out")]) == 1
    assert not (tmp_path / "out").exists()
