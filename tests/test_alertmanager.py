"""deploy/alertmanager/alertmanager.yml: amtool accepts it, routes by province and region, groups per
site, and inhibits (checked against a real Alertmanager on loopback)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from promtool.stack import (  # noqa: E402
    ALERTMANAGER,
    Webhook,
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
    bad.write_text(SHIPPED.read_text(encoding="utf-8").replace("receiver: shantou-office", "receiver: nobody"),
                   encoding="utf-8")
    assert amtool("check-config", str(bad)).returncode != 0


@needs_amtool
@pytest.mark.parametrize(("labels", "receiver"), [
    ({"province": "广东省", "region": "广东省汕头市龙湖区", "code": "4405070010", "severity": "critical"},
     "shantou-office"),
    ({"province": "广东省", "region": "广东省潮州市", "code": "4451000001"}, "chaozhou-office"),
    ({"province": "广东省", "region": "广东省广州市天河区", "code": "4401060001"}, "guangdong-office"),
    ({"province": "湖南省", "region": "湖南省长沙市", "code": "4301000001"}, "changsha-office"),
    ({"province": "湖南省", "region": "湖南省株洲市", "code": "4302000001"}, "hunan-office"),
    ({"province": "国务院部门", "region": "国务院部门", "code": "bm55000001"}, "central-office"),
    ({"province": "四川省", "region": "四川省成都市", "code": "5101000001"}, "xuncha-default"),
    ({"account": "chaozhou-police-wechat", "platform": "wechat"}, "newmedia-office"),
    ({"indicator": "agent", "instance": "agent-0:9725", "severity": "critical"}, "xuncha-ops"),
])
def test_routes_send_each_region_to_its_office(labels: dict[str, str], receiver: str) -> None:
    proc = amtool("config", "routes", "test", f"--config.file={SHIPPED}", *(f"{k}={v}" for k, v in labels.items()))
    assert proc.stdout.strip() == receiver, proc.stdout + proc.stderr


def _alert(alertname: str, severity: str, indicator: str, **labels: str) -> dict[str, object]:
    return {"labels": {"alertname": alertname, "severity": severity, "indicator": indicator, **labels},
            "annotations": {"summary": f"{alertname} {severity}"}}


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
            _alert("XunchaAccountSilent", "critical", "silence", account="longhu-weibo", unit="龙湖区", platform="weibo"),
            _alert("XunchaAgentDown", "critical", "agent", instance="agent-0:9725", job="xuncha"),
        ]
        await post_json(f"{am.url}/api/v2/alerts", alerts)
        await hook.wait_for(6, timeout=20)
        await asyncio.sleep(1)  # and nothing more than those six
        state = await get_json(f"{am.url}/api/v2/alerts")
    finally:
        await am.stop()
        await hook.close()

    inhibited = {(a["labels"]["alertname"], a["labels"]["severity"], a["labels"].get("code", ""))
                 for a in state if a["status"]["inhibitedBy"]}
    assert inhibited == {
        ("XunchaHomepageNotUpdated", "warning", "4405070010"),
        ("XunchaHomepageNotUpdated", "critical", "4405070020"),
        ("XunchaCertificateExpiring", "critical", "4301000001"),
    }
    # one notification per site (or account, or agent alert), to its office, without the inhibited alerts
    by_group = {(r, tuple(sorted(p["groupLabels"].items()))): sorted(a["labels"]["alertname"] for a in p["alerts"])
                for r, p in hook.received}
    assert by_group == {
        ("shantou-office", (("code", "4405070010"),)): ["XunchaColumnsBlank", "XunchaHomepageNotUpdated"],
        ("shantou-office", (("code", "4405070020"),)): ["XunchaSiteDown"],
        ("changsha-office", (("code", "4301000001"),)): ["XunchaCertificateExpired"],
        ("changsha-office", (("code", "4301000002"),)): ["XunchaHomepageNotUpdated"],
        ("newmedia-office", (("account", "longhu-weibo"),)): ["XunchaAccountSilent"],
        ("xuncha-ops", (("alertname", "XunchaAgentDown"), ("instance", "agent-0:9725"))): ["XunchaAgentDown"],
    }
