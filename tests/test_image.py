"""The container image and the offline bundle, built and exercised (issue 20).

Marked ``image`` (not in the default run; ``make test-image``, which ``.ci/run`` calls): it
builds the Dockerfile with buildah on the stand-in base (deploy/container/standin-base.sh, made
once from Debian's packages where the official python image cannot be pulled), runs commands in
the image as its USER, runs the demo on a read-only root, and builds and installs the offline
bundle with no package index and no network.  Building needs root and the package index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VERSION = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)  # type: ignore[union-attr]
BUILDAH = ["buildah", "--storage-driver", os.environ.get("STORAGE_DRIVER", "vfs")]
RUN = [*BUILDAH, "run", "--isolation", "chroot", "--network", "host"]
NO_PIP_CONFIG = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}

_missing = [t for t in ("buildah", "debootstrap", "unshare", "ip") if shutil.which(t) is None]
pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(bool(_missing), reason=f"missing {', '.join(_missing)} (.ci/run installs them)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="buildah (vfs, chroot isolation) and unshare need root here"),
]


def sh(*cmd: str, timeout: float = 300, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, **kw)
    if check and run.returncode != 0:
        raise AssertionError(f"{cmd[:6]} exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return run


@dataclass(frozen=True, slots=True)
class Image:
    name: str
    config: dict[str, Any]  # the Docker image config: User, Env, Healthcheck, Labels, Volumes, …
    build_seconds: float
    size: str


@pytest.fixture(scope="module")
def image() -> Image:
    name = sh("make", "-s", "--no-print-directory", "print-image", cwd=ROOT).stdout.strip()
    started = time.monotonic()
    sh("make", "--no-print-directory", "image", cwd=ROOT, timeout=1800)  # the stand-in base: once, minutes
    seconds = time.monotonic() - started
    config = json.loads(sh(*BUILDAH, "inspect", "--type", "image", name).stdout)["Docker"]["config"]
    size = sh(*BUILDAH, "images", "--format", "{{.Size}}", name).stdout.split("\n")[0]
    print(f"\nimage {name}: built in {seconds:.0f} s, {size}")
    return Image(name, config, seconds, size)


@pytest.fixture(scope="module")
def container(image: Image) -> Iterator[str]:
    ctr = sh(*BUILDAH, "from", "--pull-never", image.name).stdout.strip()
    yield ctr
    sh(*BUILDAH, "rm", ctr, check=False)


# --- in the image, as its USER -----------------------------------------------------------------


def test_the_image_runs_as_uid_10001_and_says_its_version(image: Image, container: str) -> None:
    assert image.config["User"] == "10001"
    assert sh(*RUN, container, "--", "id", "-u").stdout.strip() == "10001"
    assert sh(*RUN, container, "--", "xuncha", "--version").stdout.strip() == f"xuncha {VERSION}"
    assert image.config["Entrypoint"] == ["xuncha"] and image.config["Cmd"] == ["run", "-c", "/etc/xuncha/xuncha.yml"]


def test_the_baked_configuration_passes_check_config_and_a_broken_one_does_not(container: str, tmp_path: Path) -> None:
    ok = sh(*RUN, container, "--", "xuncha", "check-config", "-c", "/etc/xuncha/xuncha.yml", check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "xuncha.yml"
    bad.write_text("listen: 0.0.0.0:9725\nsites: []\nlisten_twice: true\n", encoding="utf-8")
    bad.chmod(0o644)
    run = sh(*RUN, "-v", f"{bad}:/etc/xuncha/xuncha.yml:ro", container, "--", "xuncha", "check-config", check=False)
    assert run.returncode == 1 and "listen_twice" in run.stdout + run.stderr, run.stdout + run.stderr


def test_the_image_carries_its_labels_healthcheck_volume_and_port(image: Image) -> None:
    labels = image.config["Labels"]
    head = sh("git", "rev-parse", "HEAD", cwd=ROOT).stdout.strip()
    assert labels["org.opencontainers.image.title"] == "xuncha"
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.revision"] == head
    created = datetime.fromisoformat(labels["org.opencontainers.image.created"].replace("Z", "+00:00"))
    assert datetime.now(UTC) - created < timedelta(hours=2)
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert labels["org.opencontainers.image.base.name"] == "docker.io/library/python:3.11-slim-bookworm"
    # The Docker image format: the OCI one has no HEALTHCHECK field and buildah drops it there.
    assert image.config["Healthcheck"]["Test"][:2] == ["CMD", "xuncha"]
    assert "/var/lib/xuncha" in image.config["Volumes"] and "9725/tcp" in image.config["ExposedPorts"]


def test_the_image_stays_small(image: Image) -> None:
    # 149 MB of stand-in base (Debian's python3, pip, setuptools), ~67 MB of the agent's
    # dependencies (cryptography 16, lxml 13, aiohttp 9, selectolax 8 MB …); no wheels left over.
    number, unit = float(image.size.split()[0]), image.size.split()[1]
    assert unit == "MB" and number < 260, image.size


# --- the demo on a read-only root ------------------------------------------------------------

_PROBE = """
xuncha demo --fast --state-dir {state}/demo >/tmp/demo.log 2>&1 &
demo=$!
for i in $(seq 90); do xuncha healthcheck --url http://127.0.0.1:9725/healthz >/dev/null 2>&1 && break; sleep 1; done
sleep 8
{healthcheck}; echo "healthcheck-exit=$?"
python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:9725/healthz").read().decode())'
python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:9725/metrics").read().decode())'
touch /etc/xuncha/x 2>/dev/null && echo "root-writable" || echo "root-read-only"
kill $demo; wait $demo
echo "--- demo log"; cat /tmp/demo.log
echo "--- tmp"; ls -A /tmp
"""


def _read_only_run(image: Image, container: str, state: Path, script: str) -> str:
    """Like `docker run --read-only --tmpfs /tmp -v STATE:VOLUME --network none IMAGE`.

    buildah has no --read-only: the image's root is bind-mounted read-only in a private mount
    namespace, the state directory over the image's VOLUME, a tmpfs on /tmp, and the script runs
    there as the image's USER with the image's environment, in a network namespace of its own
    (its loopback only: port 9725, as the HEALTHCHECK says, without colliding with the host's).
    """
    rootfs = sh(*BUILDAH, "mount", container).stdout.strip()
    (volume,) = image.config["Volumes"]
    user = image.config["User"]
    env = " ".join(f"'{e}'" for e in image.config["Env"])
    top = state.parent / "root"
    top.mkdir()
    setup = f"""set -e
mount --bind {rootfs} {top}; mount -o remount,bind,ro {top}
mount --bind {state} {top}{volume}; mount -t tmpfs -o mode=1777 tmpfs {top}/tmp
mount -t proc proc {top}/proc; mount --rbind /dev {top}/dev
ip link set lo up
cd {top}{volume}
exec chroot --userspec={user}:{user} {top} env -i {env} HOME={volume} sh -c "$0"
"""
    try:
        run = sh("unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", setup, script, timeout=300)
    finally:
        sh(*BUILDAH, "umount", container, check=False)
    return run.stdout + run.stderr


def test_the_demo_serves_on_a_read_only_root_and_writes_only_its_volume(
    image: Image, container: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    os.chown(state, 10001, 10001)
    (volume,) = image.config["Volumes"]
    healthcheck = " ".join(image.config["Healthcheck"]["Test"][1:])  # CMD form, verbatim
    out = _read_only_run(image, container, state, _PROBE.format(state=volume, healthcheck=healthcheck))
    assert "healthcheck-exit=0" in out, out[-3000:]
    assert "root-read-only" in out, out[-3000:]
    assert serving(out), out[-3000:]
    log = out.split("--- demo log", 1)[1]
    assert "Read-only file system" not in log and "Permission denied" not in log and "Traceback" not in log, log[-3000:]
    written = [p for p in state.rglob("*")]
    assert any(p.suffix in (".db", ".sqlite", ".sqlite3") for p in written), written
    assert {p.stat().st_uid for p in written} == {10001}, "state written as the image's USER"


# --- the offline bundle ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bundle:
    archive: Path
    tree: Path  # extracted
    build_seconds: float


@pytest.fixture(scope="module")
def bundle(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    started = time.monotonic()
    sh(str(ROOT / "deploy/offline/make-dist.sh"), VERSION, image.name, cwd=ROOT, timeout=1800)
    seconds = time.monotonic() - started
    archive = ROOT / "dist" / f"xuncha-{VERSION}-offline.tar.gz"
    out = tmp_path_factory.mktemp("bundle")
    with tarfile.open(archive) as tar:
        tar.extractall(out, filter="data")
    print(f"\nbundle {archive.name}: {archive.stat().st_size / 1e6:.0f} MB, built in {seconds:.0f} s")
    return Bundle(archive, out / f"xuncha-{VERSION}-offline", seconds)


def test_the_bundle_holds_what_an_office_needs(bundle: Bundle) -> None:
    tree = bundle.tree
    names = {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}
    assert {"install.sh", "SHA256SUMS", "VERSION", f"image/xuncha-{VERSION}-image.tar"} <= names
    assert {"deploy/systemd/xuncha.service", "deploy/k8s/kustomization.yaml", "deploy/compose.yml"} <= names
    assert {"deploy/prometheus/xuncha-rules.yml", "deploy/prometheus/xuncha-alerts.yml"} <= names
    assert any(n.startswith("deploy/grafana/dashboards/") and n.endswith(".json") for n in names)
    summed = {line.split(None, 1)[1] for line in (tree / "SHA256SUMS").read_text().splitlines()}
    assert summed == names - {"SHA256SUMS"}
    sh("sha256sum", "--check", "--quiet", "SHA256SUMS", cwd=tree)


def test_a_damaged_bundle_is_refused_before_anything_is_installed(bundle: Bundle, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    sh("cp", "-al", str(bundle.tree), str(copy))
    (copy / "README.md").unlink()  # a hard link: replace, never write through to the original
    (copy / "README.md").write_text("tampered\n")
    run = sh("sh", str(copy / "install.sh"), "--prefix", str(tmp_path / "venv"), "--no-image", check=False)
    assert run.returncode == 1 and "damaged" in run.stderr and not (tmp_path / "venv").exists(), run.stderr


def serving(metrics: str) -> bool:
    """The demo's sites are registered and an HTTP probe has run."""
    sites = re.search(r'^xuncha_targets\{kind="site"\} [1-9]', metrics, re.M)
    return bool(sites and re.search(r'^xuncha_probe_runs_total\{kind="http",result="success"\} [1-9]', metrics, re.M))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_offline_install_needs_no_index_and_no_network_and_the_demo_serves(bundle: Bundle, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    started = time.monotonic()
    # A network namespace of its own: no route anywhere, so any index lookup would fail.
    run = sh(
        "unshare",
        "--net",
        "sh",
        str(bundle.tree / "install.sh"),
        "--prefix",
        str(venv),
        "--no-image",
        env={**os.environ, **NO_PIP_CONFIG},
        check=False,
        timeout=600,
    )
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"xuncha {VERSION}" in run.stdout
    print(f"\noffline install: {seconds:.0f} s")
    port = _free_port()
    demo = subprocess.Popen(
        [
            str(venv / "bin/xuncha"),
            "demo",
            "--fast",
            "--listen",
            f"127.0.0.1:{port}",
            "--state-dir",
            str(tmp_path / "st"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        metrics = ""
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                    metrics = r.read().decode()
                if serving(metrics):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert serving(metrics), metrics[-2000:]
    finally:
        demo.terminate()
        demo.wait(timeout=30)


def _resolve(wheels: Path, platform: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return sh(
        "unshare", "--net", str(ROOT / ".venv/bin/python"), "-m", "pip", "download", "--no-index", "--find-links", str(wheels),
        "--only-binary=:all:", "--platform", platform, "--python-version", "3.11", "--implementation", "cp",
        "--dest", str(dest), f"xuncha=={VERSION}",
        env={**os.environ, **NO_PIP_CONFIG}, check=False, timeout=300,
    )  # fmt: skip


def test_the_aarch64_wheel_set_resolves_completely(bundle: Bundle, tmp_path: Path) -> None:
    run = _resolve(bundle.tree / "wheels", "manylinux2014_aarch64", tmp_path / "arm")
    assert run.returncode == 0, run.stdout + run.stderr
    got = {p.name.split("-")[0].lower() for p in (tmp_path / "arm").iterdir()}
    assert {"xuncha", "cryptography", "aiohttp", "lxml", "selectolax", "bcrypt", "pyyaml"} <= got
    assert all("x86_64" not in p.name for p in (tmp_path / "arm").iterdir())


def test_a_missing_aarch64_wheel_fails_the_resolution(bundle: Bundle, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    sh("cp", "-al", str(bundle.tree / "wheels"), str(wheels))
    for whl in wheels.glob("cryptography-*aarch64*.whl"):
        whl.unlink()
    run = _resolve(wheels, "manylinux2014_aarch64", tmp_path / "arm")
    assert run.returncode != 0 and "cryptography" in run.stdout + run.stderr


def test_the_bundled_image_loads_with_its_healthcheck_and_labels(bundle: Bundle, image: Image) -> None:
    archive = bundle.tree / "image" / f"xuncha-{VERSION}-image.tar"
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest[0]["RepoTags"] == [image.name], "docker load names it as the manifests do"
    loaded = sh(*BUILDAH, "pull", "--quiet", f"docker-archive:{archive}").stdout.strip().splitlines()[-1]
    config = json.loads(sh(*BUILDAH, "inspect", "--type", "image", loaded).stdout)["Docker"]["config"]
    assert config["Healthcheck"] == image.config["Healthcheck"]
    assert config["Labels"] == image.config["Labels"]
