"""The deploy files as what they promise, not as text: the systemd unit verified by systemd,
the Kubernetes manifests rendered by kubectl and checked object by object (issue 20).

Each check is a function returning the broken promises, run on the shipped files (none) and on
a twin with one promise broken (it must name it).  Skipped, with the reason, where
systemd-analyze or kubectl is missing; `.ci/run` installs both.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "systemd" / "xuncha.service"
XUNCHA = Path(sys.executable).with_name("xuncha")

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze missing (apt-get install systemd)"
)
needs_kubectl = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl missing (apt-get install kubernetes-client)"
)


# --- systemd ---------------------------------------------------------------------------------


def _installed_unit(tmp_path: Path, text: str) -> Path:
    """The unit as install.sh writes it (the prefix replaced): verify checks ExecStart exists."""
    unit = tmp_path / "xuncha.service"
    unit.write_text(text.replace("/opt/xuncha/", f"{XUNCHA.parent.parent}/"), encoding="utf-8")
    return unit


def _verify(unit: Path) -> str:
    run = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60
    )
    # systemd-analyze warns (unknown keys, bad values) on stderr and still exits 0.
    return (run.stderr + ("" if run.returncode == 0 else f"exit {run.returncode}")).strip()


@needs_systemd
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    assert _verify(_installed_unit(tmp_path, UNIT.read_text(encoding="utf-8"))) == ""


@needs_systemd
def test_verify_catches_a_misspelt_hardening_key(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8").replace("ProtectHome=yes", "ProtectHomes=yes")
    assert "ProtectHomes" in _verify(_installed_unit(tmp_path, text))


def _exposure(unit: Path) -> float:
    run = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", run.stdout)
    assert match, run.stdout[-500:] + run.stderr
    return float(match.group(1))


@needs_systemd
def test_the_unit_is_hardened_as_systemd_scores_it(tmp_path: Path) -> None:
    # systemd's scale: 0 safest … 10 unprotected; below 2 is "OK".  The bare unit (same ExecStart,
    # no hardening) is the twin: the score must come from the unit's settings.
    text = UNIT.read_text(encoding="utf-8")
    hardened = _exposure(_installed_unit(tmp_path, text))
    bare = text.split("# Hardening:")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
    (tmp_path / "bare").mkdir()
    assert hardened < 2.0 < _exposure(_installed_unit(tmp_path / "bare", bare))


def test_the_unit_has_what_the_issue_asks() -> None:
    settings = _unit_settings(UNIT.read_text(encoding="utf-8"))
    assert settings["StateDirectory"] == ["xuncha"]
    assert settings["ProtectSystem"] == ["strict"] and settings["ProtectHome"] == ["yes"]
    assert settings["NoNewPrivileges"] == ["yes"] and settings["PrivateTmp"] == ["yes"]
    assert settings["CapabilityBoundingSet"] == [""], "an empty bounding set: no capability at all"
    assert settings["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert int(settings["LimitNOFILE"][0]) >= 4 * 512, "the agent's port gets a quarter: 512 connections"
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert "User" in settings or settings.get("DynamicUser") == ["yes"]
    exec_start = settings["ExecStart"][0].split()
    assert exec_start[:4] == ["/opt/xuncha/bin/xuncha", "run", "-c", "/etc/xuncha/xuncha.yml"]


def _unit_settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_systemd_configuration_passes_check_config(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "systemd" / "xuncha.yml").read_text(encoding="utf-8")
    config = tmp_path / "xuncha.yml"
    config.write_text(text.replace("/var/lib/xuncha", str(tmp_path / "state")), encoding="utf-8")
    run = subprocess.run([str(XUNCHA), "check-config", "-c", str(config)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


# --- Kubernetes ------------------------------------------------------------------------------


def _render() -> list[dict[str, Any]]:
    run = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return [d for d in yaml.safe_load_all(run.stdout) if d]


def _image() -> str:
    run = subprocess.run(
        ["make", "-s", "--no-print-directory", "print-image"], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def _broken_promises(objects: list[dict[str, Any]], image: str) -> list[str]:
    """What the README's "Sharding and Kubernetes" promises, checked on the rendered objects."""
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    broken = [
        f"{k}/{n} not in namespace xuncha"
        for (k, n), o in by_kind.items()
        if k != "Namespace" and o["metadata"].get("namespace") != "xuncha"
    ]
    sts = by_kind[("StatefulSet", "xuncha")]["spec"]
    pod = sts["template"]["spec"]
    (ctr,) = pod["containers"]
    if ctr["image"] != image:
        broken.append(f"image {ctr['image']} is not the built image {image}")
    shard = ctr["args"][ctr["args"].index("--shard") + 1]
    if shard != f"auto/{sts['replicas']}":
        broken.append(f"--shard {shard} with {sts['replicas']} replicas: one shard per replica")
    for probe in ("readinessProbe", "livenessProbe"):
        get = ctr.get(probe, {}).get("httpGet", {})
        if (get.get("path"), get.get("port")) != ("/healthz", "metrics"):
            broken.append(f"{probe} is not GET /healthz on the metrics port")
    res = ctr.get("resources", {})
    if not (
        res.get("requests", {}).get("cpu")
        and res.get("requests", {}).get("memory")
        and res.get("limits", {}).get("memory")
    ):
        broken.append("resources: cpu and memory requests and a memory limit")
    sc, psc = ctr.get("securityContext", {}), pod.get("securityContext", {})
    if not (
        sc.get("readOnlyRootFilesystem")
        and sc.get("allowPrivilegeEscalation") is False
        and sc.get("capabilities", {}).get("drop") == ["ALL"]
    ):
        broken.append("container securityContext: read-only root, no privilege escalation, no capabilities")
    if not (
        psc.get("runAsNonRoot")
        and psc.get("runAsUser") == 10001
        and psc.get("fsGroup") == 10001
        and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault"
    ):
        broken.append("pod securityContext: non-root uid 10001 (the image's USER), fsGroup, RuntimeDefault seccomp")
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    if "/tmp" not in mounts or "emptyDir" not in volumes.get(mounts["/tmp"], {}):
        broken.append("a writable /tmp (emptyDir): the root is read-only")
    if mounts.get("/var/lib/xuncha") not in {t["metadata"]["name"] for t in sts.get("volumeClaimTemplates", [])}:
        broken.append("the state directory on a volume claim of its own per shard")
    web_flag = next((a.split("=", 1)[1] for a in ctr["args"] if a.startswith("--web.config.file=")), "")
    web_dir = os.path.dirname(web_flag)
    secret = volumes.get(mounts.get(web_dir, ""), {}).get("secret", {})
    if secret.get("secretName") != "xuncha-web" or os.path.basename(web_flag) not in {
        i["path"] for i in secret.get("items", [])
    }:
        broken.append(f"--web.config.file={web_flag} is not the web-config.yml of the Secret xuncha-web")
    auth = by_kind[("ServiceMonitor", "xuncha")]["spec"]["endpoints"][0].get("basicAuth", {})
    if {auth.get("username", {}).get("name"), auth.get("password", {}).get("name")} != {"xuncha-web"}:
        broken.append("the ServiceMonitor's basicAuth from the Secret xuncha-web")
    if by_kind[("PodDisruptionBudget", "xuncha")]["spec"].get("maxUnavailable") != 1:
        broken.append("PodDisruptionBudget maxUnavailable 1")
    return broken


@needs_kubectl
def test_the_kubernetes_manifests_render_and_keep_their_promises() -> None:
    assert _broken_promises(_render(), _image()) == []


@needs_kubectl
def test_the_promise_check_notices_each_broken_promise() -> None:
    objects, image = _render(), _image()

    def broken(change: Any) -> list[str]:
        twin = copy.deepcopy(objects)
        sts = next(o for o in twin if o["kind"] == "StatefulSet")
        change(sts["spec"], sts["spec"]["template"]["spec"]["containers"][0])
        return _broken_promises(twin, image)

    assert any("one shard per replica" in b for b in broken(lambda s, c: s.update(replicas=5)))
    assert any("read-only root" in b for b in broken(lambda s, c: c["securityContext"].pop("readOnlyRootFilesystem")))
    assert any("built image" in b for b in broken(lambda s, c: c.update(image="ghcr.io/xuncha/xuncha:0.0.9")))
    assert any("/healthz" in b for b in broken(lambda s, c: c.pop("livenessProbe")))
    assert any(
        "Secret xuncha-web" in b
        for b in broken(lambda s, c: c["args"].__setitem__(-1, "--web.config.file=/etc/x/w.yml"))
    )


@needs_kubectl
def test_the_configmap_registry_passes_check_config(tmp_path: Path) -> None:
    cm = next(o for o in _render() if o["kind"] == "ConfigMap")
    text = cm["data"]["xuncha.yml"].replace("/var/lib/xuncha", str(tmp_path / "state"))
    (tmp_path / "xuncha.yml").write_text(text, encoding="utf-8")
    run = subprocess.run(
        [str(XUNCHA), "check-config", "-c", str(tmp_path / "xuncha.yml")], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
