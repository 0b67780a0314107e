"""deploy/alertmanager/alertmanager.yml: amtool accepts it, routes by province and region, groups per
site, and inhibits (checked against a real Alertmanager on loopback)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from promtool.harness import render, shipped_alert  # noqa: E402
from promtool.stack import (  # noqa: E402
    ALERTMANAGER,
    Recorder,
    SmtpSink,
    Webhook,
    channel_alertmanager_config,
    get_json,
    local_alertmanager_config,
    post_json,
    start_alertmanager,
)

SHIPPED = Path(__file__).resolve().parents[1] / "deploy" / "alertmanager" / "alertmanager.yml"
needs_amtool = pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")


def amtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["amtool", *args], capture_output=True, text=True, timeout=30)


@needs_amtool
def test_amtool_check_config_accepts_the_shipped_file() -> None:
    proc = amtool("check-config", str(SHIPPED))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


@needs_amtool
def test_amtool_check_config_rejects_a_route_to_a_missing_receiver(tmp_path: Path) -> None:
    bad = tmp_path / "am.yml"
    bad.write_text(
        SHIPPED.read_text(encoding="utf-8").replace("receiver: shantou-office", "receiver: nobody"), encoding="utf-8"
    )
    assert amtool("check-config", str(bad)).returncode != 0


@needs_amtool
def test_amtool_check_config_parses_the_templates_and_rejects_a_broken_one(tmp_path: Path) -> None:
    """The shipped templates are checked too: a copy with a template syntax error is refused."""
    (tmp_path / "alertmanager.yml").write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    good = (SHIPPED.parent / "xuncha.tmpl").read_text(encoding="utf-8")
    (tmp_path / "xuncha.tmpl").write_text(good, encoding="utf-8")
    assert amtool("check-config", str(tmp_path / "alertmanager.yml")).returncode == 0
    (tmp_path / "xuncha.tmpl").write_text(good.replace("{{ end }}", "", 1), encoding="utf-8")
    proc = amtool("check-config", str(tmp_path / "alertmanager.yml"))
    assert proc.returncode != 0 and "xuncha.tmpl" in proc.stdout + proc.stderr


@needs_amtool
@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        # a city office's alerts also reach its province
        (
            {"province": "广东省", "region": "广东省汕头市龙湖区", "code": "4405070010", "severity": "critical"},
            "shantou-office,guangdong-office",
        ),
        ({"province": "广东省", "region": "广东省潮州市", "code": "4451000001"}, "chaozhou-office,guangdong-office"),
        ({"province": "广东省", "region": "广东省广州市天河区", "code": "4401060001"}, "guangdong-office"),
        ({"province": "湖南省", "region": "湖南省长沙市", "code": "4301000001"}, "changsha-office,hunan-office"),
        ({"province": "湖南省", "region": "湖南省株洲市", "code": "4302000001"}, "hunan-office"),
        ({"province": "国务院部门", "region": "国务院部门", "code": "bm55000001"}, "central-office"),
        ({"province": "四川省", "region": "四川省成都市", "code": "5101000001"}, "xuncha-default"),
        # accounts: the new-media office, and by their region the city and province offices
        ({"account": "chaozhou-police-wechat", "platform": "wechat"}, "newmedia-office"),
        (
            {"account": "chaozhou-police-wechat", "platform": "wechat", "region": "广东省潮州市", "province": "广东省"},
            "newmedia-office,chaozhou-office,guangdong-office",
        ),
        ({"indicator": "agent", "instance": "agent-0:9725", "severity": "critical"}, "xuncha-ops"),
    ],
)
def test_routes_send_each_region_to_its_office(labels: dict[str, str], receiver: str) -> None:
    proc = amtool("config", "routes", "test", f"--config.file={SHIPPED}", *(f"{k}={v}" for k, v in labels.items()))
    assert proc.stdout.strip() == receiver, proc.stdout + proc.stderr


def _alert(alertname: str, severity: str, indicator: str, **labels: str) -> dict[str, object]:
    return {
        "labels": {"alertname": alertname, "severity": severity, "indicator": indicator, **labels},
        "annotations": {"summary": f"{alertname} {severity}"},
    }


SHANTOU = {"province": "广东省", "region": "广东省汕头市龙湖区", "name": "汕头市龙湖区人民政府"}
CHANGSHA = {"province": "湖南省", "region": "湖南省长沙市", "name": "长沙市人民政府"}


@pytest.mark.skipif(not Path(ALERTMANAGER).exists(), reason="prometheus-alertmanager not installed")
async def test_real_alertmanager_inhibits_and_groups_per_site(tmp_path: Path) -> None:
    hook = await Webhook().start()
    am = await start_alertmanager(local_alertmanager_config(SHIPPED, hook.url), tmp_path / "am")
    try:
        alerts = [
            # site A: the homepage veto silences its own warning, not the blank-columns warning
            _alert("XunchaHomepageNotUpdated", "warning", "homepage", code="4405070010", **SHANTOU),
            _alert("XunchaHomepageNotUpdated", "critical", "homepage", code="4405070010", **SHANTOU),
            _alert("XunchaColumnsBlank", "warning", "columns", code="4405070010", **SHANTOU),
            # site B is down: its staleness is not news
            _alert("XunchaSiteDown", "warning", "availability", code="4405070020", **SHANTOU),
            _alert("XunchaHomepageNotUpdated", "critical", "homepage", code="4405070020", **SHANTOU),
            # site C: an expired certificate is not also "expiring"
            _alert("XunchaCertificateExpired", "critical", "certificate", code="4301000001", **CHANGSHA),
            _alert("XunchaCertificateExpiring", "critical", "certificate", code="4301000001", **CHANGSHA),
            # a warning of another site is not inhibited by site A's critical
            _alert("XunchaHomepageNotUpdated", "warning", "homepage", code="4301000002", **CHANGSHA),
            _alert(
                "XunchaAccountSilent", "critical", "silence", account="longhu-weibo", unit="龙湖区", platform="weibo"
            ),
            _alert("XunchaAgentDown", "critical", "agent", instance="agent-0:9725", job="xuncha"),
        ]
        await post_json(f"{am.url}/api/v2/alerts", alerts)
        await hook.wait_for(12, timeout=20)
        await asyncio.sleep(1)  # and nothing more than those twelve
        state = await get_json(f"{am.url}/api/v2/alerts")
    finally:
        await am.stop()
        await hook.close()

    inhibited = {
        (a["labels"]["alertname"], a["labels"]["severity"], a["labels"].get("code", ""))
        for a in state
        if a["status"]["inhibitedBy"]
    }
    assert inhibited == {
        ("XunchaHomepageNotUpdated", "warning", "4405070010"),
        ("XunchaHomepageNotUpdated", "critical", "4405070020"),
        ("XunchaCertificateExpiring", "critical", "4301000001"),
    }
    # One notification per site (or account, or agent alert) and severity — warnings take their own
    # (office-hours) route — to its city office and its province, without the inhibited alerts.
    by_group: dict[tuple[str, tuple[tuple[str, str], ...], str], list[str]] = {}
    for r, p in hook.received:
        (severity,) = {a["labels"]["severity"] for a in p["alerts"]}
        key = (r, tuple(sorted(p["groupLabels"].items())), severity)
        assert key not in by_group, f"two notifications for {key}"
        by_group[key] = sorted(a["labels"]["alertname"] for a in p["alerts"])
    sites = {
        (office, (("code", code),), severity): names
        for offices, code, severity, names in (
            (("shantou-office", "guangdong-office"), "4405070010", "critical", ["XunchaHomepageNotUpdated"]),
            (("shantou-office", "guangdong-office"), "4405070010", "warning", ["XunchaColumnsBlank"]),
            (("shantou-office", "guangdong-office"), "4405070020", "warning", ["XunchaSiteDown"]),
            (("changsha-office", "hunan-office"), "4301000001", "critical", ["XunchaCertificateExpired"]),
            (("changsha-office", "hunan-office"), "4301000002", "warning", ["XunchaHomepageNotUpdated"]),
        )
        for office in offices
    }
    assert by_group == {
        **sites,
        ("newmedia-office", (("account", "longhu-weibo"),), "critical"): ["XunchaAccountSilent"],
        ("xuncha-ops", (("alertname", "XunchaAgentDown"), ("instance", "agent-0:9725")), "critical"): [
            "XunchaAgentDown"
        ],
    }


# --- office hours, real channels, Chinese messages ---------------------------------------------

DINGTALK = Path(__file__).resolve().parents[1] / "deploy" / "dingtalk"
needs_am = pytest.mark.skipif(not Path(ALERTMANAGER).exists(), reason="prometheus-alertmanager not installed")
STARTED = "2026-12-01T01:30:00Z"  # 09:30 Beijing time
SHANTOU_SITE = {
    "code": "4405070010",
    "name": "汕头市龙湖区人民政府",
    "region": "广东省汕头市龙湖区",
    "province": "广东省",
}
CHAOZHOU_ACCOUNT = {
    "account": "chaozhou-police-wechat",
    "unit": "潮州市公安局",
    "platform": "wechat",
    "name": "平安潮州",
    "region": "广东省潮州市",
    "province": "广东省",
}


def shipped(
    alertname: str, severity: str, labels: dict[str, str], value: float, started: str = STARTED
) -> dict[str, object]:
    """An alert as Prometheus would send it: the shipped rule's labels and annotations, rendered."""
    rule = shipped_alert(alertname, severity)
    full = {"alertname": alertname, **labels, **rule["labels"]}
    return {
        "labels": full,
        "annotations": {k: render(v, full, value) for k, v in rule["annotations"].items()},
        "startsAt": started,
    }


def test_the_shipped_office_hours_are_weekdays_0830_to_1800_beijing_time() -> None:
    cfg = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    (interval,) = cfg["time_intervals"]
    assert interval == {
        "name": "office-hours",
        "time_intervals": [
            {
                "weekdays": ["monday:friday"],
                "times": [{"start_time": "08:30", "end_time": "18:00"}],
                "location": "Asia/Shanghai",
            }
        ],
    }
    # every office's warnings, and only its warnings, wait for office hours; criticals never do
    for route in cfg["route"]["routes"]:
        assert route["routes"] == [{"matchers": ['severity="warning"'], "active_time_intervals": ["office-hours"]}]
        assert "active_time_intervals" not in route and "mute_time_intervals" not in route


@needs_am
@pytest.mark.parametrize("office_hours", [True, False])
async def test_warnings_wait_for_office_hours_criticals_do_not(tmp_path: Path, office_hours: bool) -> None:
    hook = await Webhook().start()
    am = await start_alertmanager(
        local_alertmanager_config(SHIPPED, hook.url, office_hours=office_hours), tmp_path / "am"
    )
    try:
        await post_json(
            f"{am.url}/api/v2/alerts",
            [
                shipped("XunchaColumnsBlank", "warning", SHANTOU_SITE, 3),
                shipped("XunchaSeriousError", "critical", SHANTOU_SITE, 1),
            ],
        )
        await hook.wait_for(4 if office_hours else 2, timeout=20)
        await asyncio.sleep(3)  # three group_waits: a muted warning would have been sent by now
    finally:
        await am.stop()
        await hook.close()
    sent = sorted((r, a["labels"]["alertname"]) for r, a in hook.alerts("firing"))
    critical = [("guangdong-office", "XunchaSeriousError"), ("shantou-office", "XunchaSeriousError")]
    warning = [("guangdong-office", "XunchaColumnsBlank"), ("shantou-office", "XunchaColumnsBlank")]
    assert sent == sorted(critical + warning if office_hours else critical)


@needs_am
async def test_real_alertmanager_sends_chinese_messages_to_wecom_email_and_the_dingtalk_relay(tmp_path: Path) -> None:
    wecom, relay, smtp = await Recorder(wecom=True).start(), await Recorder().start(), await SmtpSink().start()
    cfg = channel_alertmanager_config(
        SHIPPED, wecom_url=f"{wecom.url}/cgi-bin/", relay_url=relay.url, smtp=smtp.address
    )
    am = await start_alertmanager(cfg, tmp_path / "am")
    try:
        await post_json(
            f"{am.url}/api/v2/alerts",
            [
                shipped("XunchaHomepageNotUpdated", "warning", SHANTOU_SITE, 3 * 86400),
                shipped("XunchaAccountSilent", "critical", CHAOZHOU_ACCOUNT, 15 * 86400),
            ],
        )
        # site → Shantou (DingTalk) + Guangdong (WeCom, e-mail); account → new-media office (WeCom),
        # Chaozhou (DingTalk) + Guangdong (WeCom, e-mail)
        arrived = await asyncio.gather(wecom.wait_for(3, 30), relay.wait_for(2, 30), smtp.wait_for(2, 30))
        await asyncio.sleep(1)
    finally:
        await am.stop()
        await asyncio.gather(wecom.close(), relay.close(), smtp.close())
    assert all(arrived), (wecom.received, relay.received, smtp.messages, am.log.read_text())

    # 企业微信: Alertmanager's own wechat_configs, through the WeCom API stand-in
    assert [(m, p, q["access_token"], b["msgtype"], b["agentid"]) for m, p, q, b in wecom.received] == [
        ("POST", "/cgi-bin/message/send", "test-token", "text", "1000002")
    ] * 3
    site_msg = next(b["text"]["content"] for *_, b in wecom.received if "4405070010" in b["text"]["content"])
    assert site_msg.rstrip("\n") + "\n" == (
        "[巡查告警 1 项] 汕头市龙湖区人民政府（网站标识码 4405070010，广东省汕头市龙湖区）\n\n"
        "【预警】汕头市龙湖区人民政府（网站标识码 4405070010，广东省汕头市龙湖区）\n"
        "问题：汕头市龙湖区人民政府（广东省汕头市龙湖区，网站标识码 4405070010）首页已超过 10 天没有新内容，"
        "再过 3d 0h 0m 0s 达到单项否决线（14 天，首页不更新）。\n"
        "标准：首页无新内容：预警 10 天，否决 14 天\n"
        "否决：再过 3d 0h 0m 0s 成为单项否决（首页不更新）\n"
        "开始：2026-12-01 09:30（北京时间）\n"
        "看板：http://localhost:3000/d/xuncha-site/?var-code=4405070010\n"
        "处置：https://github.com/xuncha/xuncha/blob/main/docs/runbook.md#xunchahomepagenotupdated\n"
    )
    parties = sorted(b["toparty"] for *_, b in wecom.received)
    assert parties == ["10", "10", "2"]  # Guangdong twice (site, account), the new-media office once
    account_msgs = [b["text"]["content"] for *_, b in wecom.received if "平安潮州" in b["text"]["content"]]
    assert len(account_msgs) == 2 and all(
        "【严重·单项否决线】潮州市公安局「平安潮州」（wechat 账号 chaozhou-police-wechat，广东省潮州市）" in m
        and "否决：已达单项否决线（内容不更新）" in m
        and "var-platform=wechat" in m
        for m in account_msgs
    )

    # 钉钉: the relay receives Alertmanager's payload on each office's target path
    relayed = {path: body for _, path, _, body in relay.received}
    assert set(relayed) == {"/dingtalk/shantou/send", "/dingtalk/chaozhou/send"}
    (site_alert,) = relayed["/dingtalk/shantou/send"]["alerts"]
    assert site_alert["labels"]["code"] == "4405070010"
    assert site_alert["annotations"]["veto"] == "再过 3d 0h 0m 0s 成为单项否决（首页不更新）"
    assert site_alert["annotations"]["dashboard_url"].endswith("var-code=4405070010")

    # e-mail: a Chinese subject and HTML body to the province's office
    mails = [email.message_from_bytes(data, policy=email.policy.default) for _, _, data in smtp.messages]
    assert {m["To"] for m in mails} == {"zwgk@gd.example.gov.cn"}
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert subjects == [
        "[巡查告警 1 项] 汕头市龙湖区人民政府（网站标识码 4405070010，广东省汕头市龙湖区）",
        "[巡查告警 1 项] 潮州市公安局「平安潮州」（wechat 账号 chaozhou-police-wechat，广东省潮州市）",
    ]
    html = next(m.get_body(("html",)).get_content() for m in mails if "4405070010" in str(m["Subject"]))
    assert "否决：再过 3d 0h 0m 0s 成为单项否决（首页不更新）" in html
    assert '<a href="http://localhost:3000/d/xuncha-site/?var-code=4405070010">查看看板</a>' in html


@needs_am
async def test_a_wecom_message_lists_three_alerts_and_says_how_many_more(tmp_path: Path) -> None:
    wecom, relay, smtp = await Recorder(wecom=True).start(), await Recorder().start(), await SmtpSink().start()
    cfg = channel_alertmanager_config(
        SHIPPED, wecom_url=f"{wecom.url}/cgi-bin/", relay_url=relay.url, smtp=smtp.address
    )
    site = {"code": "4301000001", "name": "长沙市人民政府", "region": "湖南省长沙市", "province": "湖南省"}
    # Started now: Alertmanager flushes a new group at once when its first alert started more than a
    # group_wait ago, and on a loaded machine that flush once went out with four of the five alerts.
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    am = await start_alertmanager(cfg, tmp_path / "am")
    try:
        await post_json(
            f"{am.url}/api/v2/alerts",
            [
                shipped("XunchaSeriousError", "critical", site, 2, now),
                shipped("XunchaPrivacyLeak", "critical", site, 1, now),
                shipped("XunchaColumnsBlank", "critical", site, 6, now),
                shipped("XunchaCertificateExpired", "critical", site, -1, now),
                shipped("XunchaHomepageNotUpdated", "critical", site, 20 * 86400, now),
            ],
        )
        assert await wecom.wait_for(1, 20), am.log.read_text()  # Changsha: WeCom; Hunan: e-mail and DingTalk
        await smtp.wait_for(1, 20)
    finally:
        await am.stop()
        await asyncio.gather(wecom.close(), relay.close(), smtp.close())
    (message,) = [b["text"]["content"] for *_, b in wecom.received]
    assert message.startswith("[巡查告警 5 项] 长沙市人民政府（网站标识码 4301000001，湖南省长沙市）")
    assert message.count("【严重·单项否决线】") == 3 and "……共 5 项，其余见看板或邮件。" in message
    assert len(message.encode()) <= 2048
    html = email.message_from_bytes(smtp.messages[0][2], policy=email.policy.default).get_body(("html",))
    assert html is not None and html.get_content().count("【严重·单项否决线】") == 5  # e-mail lists them all


@needs_am
async def test_the_dingtalk_template_renders_the_same_message_in_markdown(tmp_path: Path) -> None:
    """deploy/dingtalk/xuncha.tmpl, rendered by the real Alertmanager's Go templates (the relay
    renders it from the same payload; the template uses only built-ins both have)."""
    wecom = await Recorder(wecom=True).start()
    cfg = {
        "global": {"wechat_api_url": f"{wecom.url}/cgi-bin/", "wechat_api_corp_id": "ww1", "wechat_api_secret": "s"},
        "templates": [str(DINGTALK / "xuncha.tmpl")],
        "route": {"receiver": "render", "group_by": ["code"], "group_wait": "1s", "group_interval": "1s"},
        "receivers": [
            {
                "name": "render",
                "wechat_configs": [
                    {
                        "to_party": "1",
                        "agent_id": "1",
                        "message_type": "markdown",
                        "message": '{{ template "xuncha.dingtalk.title" . }}\n---\n{{ template "xuncha.dingtalk.text" . }}',
                    }
                ],
            }
        ],
    }
    am = await start_alertmanager(cfg, tmp_path / "am")
    try:
        await post_json(f"{am.url}/api/v2/alerts", [shipped("XunchaColumnsBlank", "critical", SHANTOU_SITE, 5)])
        assert await wecom.wait_for(1, 20), am.log.read_text()
    finally:
        await am.stop()
        await wecom.close()
    text = wecom.received[0][3]["markdown"]["content"]
    title, body = text.split("\n---\n")
    assert title == "巡查告警 1 项：汕头市龙湖区人民政府（网站标识码 4405070010，广东省汕头市龙湖区）"
    assert body.startswith(f"#### {title}\n")
    for line in (
        "**【严重·单项否决线】汕头市龙湖区人民政府（网站标识码 4405070010，广东省汕头市龙湖区）**",
        "- 问题：汕头市龙湖区人民政府（广东省汕头市龙湖区，网站标识码 4405070010）有 5 个空白栏目，已达单项否决线（5 个）。",
        "- 标准：空白栏目：否决 5 个",
        "- 否决：已达单项否决线（空白栏目）",
        "- 开始：2026-12-01 09:30（北京时间）",
        "[查看看板](http://localhost:3000/d/xuncha-site/?var-code=4405070010) · "
        "[处置手册](https://github.com/xuncha/xuncha/blob/main/docs/runbook.md#xunchacolumnsblank)",
    ):
        assert line in body.splitlines(), body


def test_the_dingtalk_relay_config_has_a_signed_robot_for_every_alertmanager_target() -> None:
    relay = yaml.safe_load((DINGTALK / "config.yml").read_text(encoding="utf-8"))
    am = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    targets = {
        re.fullmatch(r"http://dingtalk:8060/dingtalk/([A-Za-z][\w-]*)/send", h["url"]).group(1)  # type: ignore[union-attr]
        for r in am["receivers"]
        for h in r.get("webhook_configs", [])
    }
    assert targets and targets == set(relay["targets"])
    for name, target in relay["targets"].items():
        assert target["url"].startswith("https://oapi.dingtalk.com/robot/send?access_token="), name
        assert str(target["secret"]).startswith("SEC"), f"{name}: 加签 secret missing"
    defined = set(re.findall(r'define "([^"]+)"', (DINGTALK / "xuncha.tmpl").read_text(encoding="utf-8")))
    used = set(re.findall(r'template "([^"]+)"', " ".join(relay["default_message"].values())))
    assert used and used <= defined
    # compose mounts the config and the template where the relay looks for them
    compose = yaml.safe_load((SHIPPED.parents[1] / "compose.yml").read_text(encoding="utf-8"))
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1)[::-1] for v in compose["services"]["dingtalk"]["volumes"])
    assert (SHIPPED.parents[1] / mounts[relay["templates"][0]]).resolve() == DINGTALK / "xuncha.tmpl"
    assert "--config.file=/etc/prometheus-webhook-dingtalk/config.yml" in compose["services"]["dingtalk"]["command"]
    assert (
        SHIPPED.parents[1] / mounts["/etc/prometheus-webhook-dingtalk/config.yml"]
    ).resolve() == DINGTALK / "config.yml"
    alertmanager_mounts = compose["services"]["alertmanager"]["volumes"]
    assert "./alertmanager/xuncha.tmpl:/etc/alertmanager/xuncha.tmpl:ro" in alertmanager_mounts
