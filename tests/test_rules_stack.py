"""deploy/compose.yml and deploy/k8s: what they reference exists and passes promtool / amtool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.registry import config as agent_config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
needs = {
    b: pytest.mark.skipif(shutil.which(b) is None, reason=f"{b} not installed")
    for b in ("promtool", "amtool", "kubectl")
}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yml").read_text(encoding="utf-8")))


def mounts(service: str) -> dict[str, Path]:
    """Container path → host path of a service's bind mounts (``${VAR:-default}`` takes the default)."""
    out = {}
    for volume in compose()["services"][service].get("volumes", []):
        host, container, *_ = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", volume).split(":")
        if host.startswith((".", "/")):
            out[container] = (DEPLOY / host).resolve()
    return out


def flag(service: str, name: str) -> str:
    for arg in compose()["services"][service]["command"]:
        if arg.startswith(f"--{name}="):
            return str(arg.split("=", 1)[1])
    raise KeyError(name)


def test_agent_is_built_from_the_repository_with_config_data_and_port() -> None:
    agent = compose()["services"]["agent"]
    assert (DEPLOY / agent["build"]["context"] / agent["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert "/etc/xuncha/xuncha.yml" in mounts("agent")
    assert any(v.split(":")[1] == "/var/lib/xuncha" for v in agent["volumes"])
    assert "9725:9725" in agent["ports"]
    cfg = agent_config.load(mounts("agent")["/etc/xuncha/xuncha.yml"])
    assert cfg.listen.endswith(":9725") and cfg.state_dir == "/var/lib/xuncha"


@needs["promtool"]
def test_prometheus_config_of_the_compose_passes_promtool(tmp_path: Path) -> None:
    """The mounted prometheus.yml, with its rule files where the container would see them."""
    m = mounts("prometheus")
    cfg = yaml.safe_load(m[flag("prometheus", "config.file")].read_text(encoding="utf-8"))
    assert cfg["rule_files"], "no rules loaded"
    cfg["rule_files"] = [str(m[f]) for f in cfg["rule_files"]]  # KeyError: a rule file not mounted
    assert {Path(f).name for f in cfg["rule_files"]} == {"xuncha-rules.yml", "xuncha-alerts.yml"}
    assert [j for j in cfg["scrape_configs"] if j["job_name"] == "xuncha"][0]["static_configs"][0]["targets"] == [
        "agent:9725"
    ]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    proc = subprocess.run(["promtool", "check", "config", str(local)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "xuncha-rules.yml" in proc.stdout and "xuncha-alerts.yml" in proc.stdout  # the rules were checked too


@needs["amtool"]
def test_alertmanager_config_of_the_compose_passes_amtool() -> None:
    path = mounts("alertmanager")[flag("alertmanager", "config.file")]
    proc = subprocess.run(["amtool", "check-config", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_grafana_provisions_the_datasource_and_the_generated_dashboards() -> None:
    m = mounts("grafana")
    provisioning = m["/etc/grafana/provisioning"]
    ds = yaml.safe_load((provisioning / "datasources" / "xuncha.yml").read_text(encoding="utf-8"))["datasources"][0]
    assert ds["type"] == "prometheus" and ds["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "xuncha.yml").read_text(encoding="utf-8"))["providers"][0]
    dashboards = m[provider["options"]["path"]]
    names = sorted(p.name for p in dashboards.glob("*.json"))
    assert names == ["fleet.json", "newmedia.json", "site.json"]
    for p in dashboards.glob("*.json"):
        variables = {v["name"]: v for v in json.loads(p.read_text(encoding="utf-8"))["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == ds["uid"]


def _k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for name in yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text(encoding="utf-8"))["resources"]:
        docs += [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text(encoding="utf-8")) if d]
    return docs


def test_statefulset_pods_take_their_shard_from_their_ordinal() -> None:
    (sts,) = [d for d in _k8s_docs() if d["kind"] == "StatefulSet"]
    container = sts["spec"]["template"]["spec"]["containers"][0]
    args = container["args"]
    shard = args[args.index("--shard") + 1]
    assert shard == f"auto/{sts['spec']['replicas']}", "replicas and --shard auto/N must agree"
    assert args[:3] == ["run", "-c", "/etc/xuncha/xuncha.yml"]
    mounts_ = {v["mountPath"] for v in container["volumeMounts"]}
    assert {"/etc/xuncha", "/var/lib/xuncha"} <= mounts_
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_service_monitor_scrapes_the_service_as_job_xuncha() -> None:
    docs = _k8s_docs()
    (svc,) = [d for d in docs if d["kind"] == "Service"]
    (sm,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    assert svc["metadata"]["name"] == "xuncha"  # the Operator names the job after the Service
    assert sm["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert svc["spec"]["selector"].items() <= sts["spec"]["template"]["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"][0]["port"] == svc["spec"]["ports"][0]["name"] == "metrics"
    cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
    assert agent_config.loads(cm["data"]["xuncha.yml"]).sites


@needs["kubectl"]
def test_kustomize_builds_every_manifest() -> None:
    proc = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(proc.stdout) if d)
    assert kinds == [
        "ConfigMap",
        "Namespace",
        "PodDisruptionBudget",
        "PrometheusRule",
        "Service",
        "ServiceMonitor",
        "StatefulSet",
    ]
