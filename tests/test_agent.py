"""The running agent over a loopback fleet: /metrics values, reload, removal, /api/, scheduling."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.hostile import free_port as _free_port
from agent.demo.pki import Pki
from agent.run.runtime import Agent
from domain import metric_names as m

UP, DOWN, SLOW, NXDOMAIN, EXPIRED, WRONG_HOST = (
    "4405070010",
    "4405150006",
    "5328010055",
    "1307320007",
    "4312000009",
    "4453810038",
)


def page_app(body: str = "<html><body>首页</body></html>") -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    return app


@dataclass
class World:
    dns: DnsServer
    pki: Pki
    urls: dict[str, str]
    tmp: Path

    def config(self, codes: list[str] | None = None, extra: str = "") -> str:
        codes = codes if codes is not None else list(self.urls)
        sites = "\n".join(f'  - {{code: "{c}", name: 站点{c}, url: "{self.urls[c]}"}}' for c in codes)
        return f"""
listen: 127.0.0.1:0
state_dir: {self.tmp}
dns: {{nameservers: ["{self.dns.address}"], timeout: 1s}}
tls: {{ca_file: "{self.pki.ca_file}", timeout: 2s}}
http: {{timeout: 1s}}
intervals: {{http: 1s, dns: 1s, tls: 1s, content: 1h, links: 1h}}
{extra}
sites:
{sites}
"""


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        pki = Pki(tmp_path / "pki")
        stack.callback(pki.close)
        names = {c: f"www{c}.gov.cn" for c in (UP, DOWN, SLOW, NXDOMAIN, EXPIRED, WRONG_HOST)}
        dns = DnsServer({names[c]: ["127.0.0.1"] for c in names if c != NXDOMAIN})
        await dns.start()
        stack.push_async_callback(dns.close)
        up = await stack.enter_async_context(await hostile.serve_app(page_app()))
        down = await stack.enter_async_context(await hostile.refused())
        slow = await stack.enter_async_context(await hostile.slow(delay=3))
        expired = await stack.enter_async_context(
            await hostile.serve_app(page_app(), ssl_context=pki.expired([names[EXPIRED]]))
        )
        wrong = await stack.enter_async_context(await hostile.serve_app(page_app(), ssl_context=pki.wrong_host()))
        urls = {
            UP: up.url_for(names[UP]),
            DOWN: down.url_for(names[DOWN]),
            SLOW: slow.url_for(names[SLOW]),
            NXDOMAIN: f"http://{names[NXDOMAIN]}:{up.port}/",
            EXPIRED: expired.url_for(names[EXPIRED]),
            WRONG_HOST: wrong.url_for(names[WRONG_HOST]),
        }
        yield World(dns, pki, urls, tmp_path)


async def start_agent(world: World, text: str, **kwargs: object) -> Agent:
    path = world.tmp / "xuncha.yml"
    path.write_text(text, encoding="utf-8")
    agent = Agent(path, **kwargs)  # type: ignore[arg-type]
    await agent.start()
    return agent


async def scrape(agent: Agent) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}/metrics") as r:
        text = await r.text()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(samples: dict, metric: str, /, **labels: str) -> float | None:  # type: ignore[type-arg]
    return samples.get((metric, frozenset(labels.items())))


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_contract_metrics_for_up_down_slow_nxdomain_expired_and_wrong_host(world: World) -> None:
    agent = await start_agent(world, world.config())
    try:
        await until(
            lambda: (
                all(agent.results.latest(f"site/{c}").keys() >= {"http", "dns"} for c in world.urls)
                and "tls" in agent.results.latest(f"site/{EXPIRED}")
            ),
            timeout=15,
        )
        s = await scrape(agent)
    finally:
        await agent.stop()

    info = value(
        s,
        m.SITE_INFO,
        code=UP,
        name=f"站点{UP}",
        region="广东省汕头市龙湖区",
        province="广东省",
        kind="department",
        status="active",
        url=world.urls[UP],
    )
    assert info == 1
    expected_http = {UP: 1, DOWN: 0, SLOW: 0, NXDOMAIN: 0, EXPIRED: 0, WRONG_HOST: 0}
    for code, ok in expected_http.items():
        assert value(s, m.PROBE_SUCCESS, code=code, probe="http") == ok, code
        checks = value(s, m.HTTP_CHECKS_TOTAL, code=code)
        failures = value(s, m.HTTP_FAILURES_TOTAL, code=code)
        assert checks is not None and checks >= 1
        assert failures == (0 if ok else checks), code
    assert value(s, m.HTTP_STATUS_CODE, code=UP) == 200
    assert value(s, m.HTTP_STATUS_CODE, code=DOWN) is None  # no response, no status
    assert value(s, m.PROBE_SUCCESS, code=NXDOMAIN, probe="dns") == 0
    assert value(s, m.PROBE_SUCCESS, code=UP, probe="dns") == 1
    assert value(s, m.DNS_ANSWERS, code=UP, family="ipv4") == 1
    assert value(s, m.TLS_CERT_VALID, code=EXPIRED) == 0
    not_after = value(s, m.TLS_CERT_NOT_AFTER, code=EXPIRED)
    assert not_after is not None and not_after < time.time()
    assert value(s, m.TLS_CERT_VALID, code=WRONG_HOST) == 0
    assert value(s, m.TLS_CHAIN_VALID, code=WRONG_HOST) == 1
    assert value(s, m.TLS_HOSTNAME_MATCH, code=WRONG_HOST) == 0
    assert value(s, m.PROBE_SUCCESS, code=UP, probe="tls") is None  # http:// site: no TLS probe
    assert value(s, m.CONFIG_LAST_RELOAD_SUCCESSFUL) == 1
    assert value(s, m.TARGETS, kind="site") == 6


async def test_a_failed_reload_keeps_the_registry_and_a_good_one_removes_sites(world: World) -> None:
    agent = await start_agent(world, world.config([UP, DOWN]), enable_lifecycle=True)
    path = world.tmp / "xuncha.yml"
    try:
        await until(lambda: "http" in agent.results.latest(f"site/{DOWN}"))
        path.write_text(world.config([UP]) + "\nbogus_key: 1\n", encoding="utf-8")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://{agent.address}/-/reload") as r:
                assert r.status == 400
                body = await r.json()
        assert body["reloaded"] is False and any("bogus_key: unknown key" in e for e in body["errors"])
        s = await scrape(agent)
        assert value(s, m.CONFIG_LAST_RELOAD_SUCCESSFUL) == 0
        assert value(s, m.PROBE_SUCCESS, code=DOWN, probe="http") == 0  # still watched

        path.write_text(world.config([UP]), encoding="utf-8")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://{agent.address}/-/reload") as r:
                assert r.status == 200
        s = await scrape(agent)
        assert value(s, m.CONFIG_LAST_RELOAD_SUCCESSFUL) == 1
        assert not [k for k in s if ("code", DOWN) in k[1]], "a removed site must disappear from /metrics"
        assert value(s, m.PROBE_SUCCESS, code=UP, probe="http") == 1
    finally:
        await agent.stop()


async def test_a_changed_configuration_file_is_reloaded_by_itself(world: World) -> None:
    agent = await start_agent(world, world.config([UP]), watch_interval=0.2)
    try:
        (world.tmp / "xuncha.yml").write_text(world.config([UP, DOWN]), encoding="utf-8")
        await until(lambda: len(agent.config.sites) == 2, timeout=5)
        await until(lambda: "http" in agent.results.latest(f"site/{DOWN}"))
    finally:
        await agent.stop()


async def test_api_serves_a_sites_latest_results_as_json(world: World) -> None:
    agent = await start_agent(world, world.config([UP, DOWN]))
    try:
        await until(lambda: "http" in agent.results.latest(f"site/{DOWN}"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{agent.address}/api/sites/{DOWN}") as r:
                data = await r.json()
            async with http.get(f"http://{agent.address}/api/sites/0000000000") as r:
                assert r.status == 404
            async with http.get(f"http://{agent.address}/api/findings") as r:
                findings = await r.json()
            async with http.get(f"http://{agent.address}/healthz") as r:
                assert r.status == 200
    finally:
        await agent.stop()
    assert data["site"]["code"] == DOWN and data["site"]["region"]["county"] == "澄海区"
    assert data["results"]["http"]["success"] is False and "refused" in data["results"]["http"]["reason"]
    assert data["http_counters"]["failures"] >= 1
    # the score (issue 19): under 20 visits in the week and nothing read yet, no item is measured
    sc = data["score"]
    assert sc["week"]["visits"] == sc["week"]["failed"] == data["http_counters"]["failures"] < 20
    assert (sc["total"], sc["items"], sc["deductions"], sc["line"]) == (100, {}, [], {"warning": 70, "critical": 60})
    assert {"availability", "homepage_links", "other_links", "homepage_updates"} <= set(sc["not_measured"])
    assert sc["measures"]["unreachable_percent"] is None
    assert any(f["code"] == DOWN and f["probe"] == "http" for f in findings)
    assert not any(f.get("code") == UP and f.get("probe") == "http" for f in findings)


@pytest.mark.parametrize(
    ("bounds", "expected_peak"),
    [
        ("{per_host: 2, total: 50}", 2),  # the default bound for every host
        ("{per_host: 2, total: 50, hosts: {WWW.PLATFORM.GOV.CN: 5}}", 5),  # raised for this host
        ("{per_host: 8, total: 3}", 3),  # the global bound wins
    ],
)
async def test_the_per_host_bound_holds_when_many_sites_share_a_platform_host(
    world: World, bounds: str, expected_peak: int
) -> None:
    # 12 department sites on one 集约化平台 host, each visit taking 1 s, all due within 1 s.
    in_flight = peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(1.0)
        in_flight -= 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/{dept}/", handler)
    world.dns.set("www.platform.gov.cn", ["127.0.0.1"])
    async with await hostile.serve_app(app) as platform:
        codes = [f"44050700{n:02d}" for n in range(1, 13)]
        sites = "\n".join(
            f'  - {{code: "{c}", name: d{c}, url: "{platform.url_for("www.platform.gov.cn", f"/{c}/")}"}}'
            for c in codes
        )
        text = world.config([]).replace("http: {timeout: 1s}", "http: {timeout: 3s}")
        text = text.replace("sites:\n", f"concurrency: {bounds}\nsites:\n{sites}\n")
        agent = await start_agent(world, text)
        try:
            await until(lambda: all("http" in agent.results.latest(f"site/{c}") for c in codes), timeout=15)
        finally:
            await agent.stop()
    assert peak == expected_peak


async def test_sigterm_stops_the_agent_gracefully_and_sighup_reloads(world: World) -> None:
    path = world.tmp / "xuncha.yml"
    path.write_text(world.config([UP]), encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 — started once; the test then awaits HTTP
        [sys.executable, "-m", "agent", "run", "-c", str(path), "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        await _wait_http(f"http://127.0.0.1:{port}/healthz")
        path.write_text(world.config([UP, DOWN]), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)

        async def has_down() -> bool:
            async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/api/sites") as r:
                return any(site["code"] == DOWN for site in await r.json())

        deadline = time.monotonic() + 10
        while not await has_down():
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            await asyncio.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 15)
        assert code == 0 and time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.stdout.read() if proc.stdout else ""
    assert "shutting down" in out


async def _wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while True:
            try:
                async with s.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, f"{url} did not come up"
            await asyncio.sleep(0.1)


def test_the_container_entrypoint_runs_and_its_healthcheck_passes(tmp_path: Path) -> None:
    """Run what the image's ENTRYPOINT/CMD and HEALTHCHECK run (tests/test_image.py runs them in the image)."""
    root = Path(__file__).resolve().parents[1]
    dockerfile = (root / "Dockerfile").read_text()
    entry = json.loads(
        next(line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT")).split(None, 1)[1]
    )
    cmd = json.loads(next(line for line in dockerfile.splitlines() if line.startswith("CMD")).split(None, 1)[1])
    health_line = dockerfile.split("HEALTHCHECK", 1)[1].split("CMD", 1)[1].strip().splitlines()[0]
    health = json.loads(health_line)
    assert "COPY deploy/container/xuncha.yml /etc/xuncha/xuncha.yml" in dockerfile
    assert cmd[-2:] == ["-c", "/etc/xuncha/xuncha.yml"]
    port = _free_port()
    # Same command, with the baked-in config from the repository and a free port.
    argv = [
        sys.executable,
        "-m",
        "agent",
        *cmd[:-1],
        str(root / "deploy/container/xuncha.yml"),
        "--listen",
        f"127.0.0.1:{port}",
        "--state-dir",
        str(tmp_path),
    ]
    assert entry == ["xuncha"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        probe = [sys.executable, "-m", "agent", *health[1:]]
        probe[probe.index("--url") + 1] = f"http://127.0.0.1:{port}/healthz"
        deadline = time.monotonic() + 20
        while subprocess.run(probe, capture_output=True, timeout=10).returncode != 0:
            assert time.monotonic() < deadline and proc.poll() is None, "agent did not become healthy"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        # And unhealthy once it is gone.
        assert subprocess.run(probe, capture_output=True, timeout=10).returncode == 1
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "xuncha.db").exists()


def test_a_probe_url_prints_a_human_readable_result() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "probe", "http://127.0.0.1:1/"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 2
    assert "=== http: FAILURE — connect: connection refused" in proc.stdout
    assert "=== dns: SUCCESS" in proc.stdout


async def test_probe_kind_feed_reads_a_url_as_a_feed(tmp_path: Path) -> None:
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    rss = (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>平安潮州</title><item><title>警情通报</title>"
        f"<link>http://x/1</link><pubDate>{now}</pubDate></item></channel></rss>"
    )

    async def feed(request: web.Request) -> web.Response:
        return web.Response(text=rss, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed", feed)
    async with await hostile.serve_app(app) as served:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent",
            "probe",
            f"{served.url}feed",
            "--kind",
            "feed",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out
    assert "=== feed: SUCCESS" in out.decode() and "entries_recent: 1" in out.decode()


async def test_a_sharded_agent_probes_and_exports_only_its_share(world: World) -> None:
    from agent.workers.shard import in_shard

    agent = await start_agent(world, world.config(), shard=(1, 3))
    try:
        mine = {c for c in world.urls if in_shard(c, 1, 3)}
        assert mine and mine != set(world.urls)
        assert {s.code for s in agent.config.sites} == mine
        s = await scrape(agent)
    finally:
        await agent.stop()
    assert value(s, m.SHARD_INFO, shard="1", shards="3") == 1
    exported = {dict(labels)["code"] for name, labels in s if name == m.SITE_INFO}
    assert exported == mine


def test_shard_auto_takes_the_statefulset_ordinal_and_bad_shards_are_refused(tmp_path: Path) -> None:
    from agent.cli import parse_shard

    os.environ["HOSTNAME"], old = "xuncha-2", os.environ.get("HOSTNAME", "")
    try:
        assert parse_shard("auto/3") == (2, 3)
    finally:
        os.environ["HOSTNAME"] = old
    proc = subprocess.run(
        [sys.executable, "-m", "agent", "run", "--shard", "3/3"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and "shard index must be 0..2" in proc.stderr


async def test_metrics_are_gzipped_for_prometheus_and_plain_otherwise(world: World) -> None:
    agent = await start_agent(world, world.config([UP]))
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            async with http.get(f"http://{agent.address}/metrics", headers={"Accept-Encoding": "gzip"}) as r:
                zipped = await r.read()
                assert r.headers["Content-Encoding"] == "gzip"
                assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            async with http.get(f"http://{agent.address}/metrics", headers={"Accept-Encoding": "identity"}) as r:
                plain = await r.read()
                assert "Content-Encoding" not in r.headers
    finally:
        await agent.stop()
    import gzip

    assert gzip.decompress(zipped).split(b"\n")[0] == plain.split(b"\n")[0]
    assert b"xuncha_site_info{" in plain


async def test_a_reload_keeps_the_link_cache_and_retires_the_old_network(world: World) -> None:
    agent = await start_agent(world, world.config([UP]))
    try:
        old_net, checks = agent.net, agent.links
        assert old_net is not None and checks is not None
        ok, errors = await agent.reload()
        assert ok, errors and agent.net is old_net  # nothing changed: the same network (issue 10)
        # New network settings: a new network; the old one retires.
        (world.tmp / "xuncha.yml").write_text(
            world.config([UP]).replace("http: {timeout: 1s}", "http: {timeout: 2s}"), encoding="utf-8"
        )
        ok, errors = await agent.reload()
        assert ok, errors
        assert agent.net is not old_net and agent.links is checks  # same bounds: same cache and limits
        await until(lambda: old_net.closed, timeout=5)  # closed once its probes ended
        assert not agent.net.closed
        (world.tmp / "xuncha.yml").write_text(world.config([UP], extra="links: {total: 3}"), encoding="utf-8")
        ok, errors = await agent.reload()
        assert ok, errors
        assert agent.links is not checks and agent.links.cache is checks.cache  # new bounds, same cache
    finally:
        await agent.stop()
    assert agent.net.closed


async def test_the_demo_fleet_counts_its_findings_in_counters_beside_the_gauges(tmp_path: Path) -> None:
    """The real agent on the demo fleet: each veto finding the fleet is built to show is counted in
    ``xuncha_site_findings_total`` / ``xuncha_account_findings_total`` (counters, with HELP and TYPE),
    a healthy site's counts are there at 0, and an active account has no not-deregistered series."""
    from agent.demo.fleet import Fleet

    async with Fleet.start(tmp_path / "fleet", fast=True, slow_seconds=2) as fleet:
        cfg = fleet.config_dict()
        cfg["listen"] = "127.0.0.1:0"
        cfg["http"] = {"timeout": "1s"}
        cfg["intervals"] = {
            "http": "1h", "dns": "1h", "tls": "1h", "content": "1s", "links": "1h", "services": "1s", "feed": "1s"
        }  # fmt: skip
        path = tmp_path / "xuncha.yml"
        path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
        agent = Agent(path)
        await agent.start()
        try:
            content = {"5328010055", "4408020007", "4405070010", "5304230001", "4451000001"}
            services = {"4451020011", "4451220005", "4451000001"}  # 服务不实用 (issue 18), and the healthy portal
            await until(
                lambda: (
                    all(agent.results.latest(f"site/{c}").get("content") for c in content)  # checked once at least
                    and all(agent.results.latest(f"site/{c}").get("services") for c in services)
                    and (agent.results.finding_counts("account/chaoan-fda-wechat") or (0,))[0] >= 2
                    and agent.results.finding_counts("account/chaozhou-police-wechat") is not None
                    and (agent.results.finding_counts("account/chaozhou-culture-wechat") or (0, 0))[1] >= 1
                ),
                timeout=30,
            )
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://{agent.address}/metrics") as r:
                    text = await r.text()
                async with http.get(f"http://{agent.address}/api/sites/4451020011") as r:
                    mixed = await r.json()
                async with http.get(f"http://{agent.address}/api/accounts/chaozhou-culture-wechat") as r:
                    culture_api = await r.json()
                async with http.get(f"http://{agent.address}/api/findings") as r:
                    all_findings = await r.json()
        finally:
            await agent.stop()

    # /api/: each guide read with what it misses, and the post with its link (issue 18)
    read = mixed["results"]["services"]["guides"]
    assert {g["state"] for g in read} == {"complete", "partial", "incomplete"}
    assert ["办理时间", "联系电话"] in [g["missing"] for g in read]
    (hit,) = culture_api["results"]["feed"]["details"]["posts"]["errors"]
    assert (hit["wrong"], hit["link"]) == ("开诚不公", "https://mp.example.cn/chaozhou-culture-wechat/9")
    kinds = {(f.get("code") or f.get("account"), f["finding"]) for f in all_findings}
    assert {("4451020011", "service_guide_incomplete"), ("4451220005", "no_services")} <= kinds
    assert ("chaozhou-culture-wechat", "serious_error") in kinds
    assert not {k for k in kinds if k[0] == "4451000001"}  # the healthy portal: nothing

    lines = text.splitlines()
    for name in (m.SITE_FINDINGS_TOTAL, m.ACCOUNT_FINDINGS_TOTAL):
        assert f"# TYPE {name} counter" in lines
        (help_line,) = [line for line in lines if line.startswith(f"# HELP {name} ")]
        assert "checks whose result showed the finding" in help_line
    s = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            s[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def counted(code: str) -> dict[str, float]:
        return {
            dict(labels)["finding"]: v
            for (name, labels), v in s.items()
            if name == m.SITE_FINDINGS_TOTAL and dict(labels)["code"] == code
        }

    assert counted("5328010055")["serious_errors"] >= 1  # 开诚不公
    assert counted("4408020007")["hidden_links"] >= 1  # 暗链
    assert counted("4408020007")["malicious_scripts"] >= 1  # 挂马 (issue 19)
    assert counted("4405070010")["blank_columns"] >= 1  # 5 blank columns
    assert counted("5304230001")["closed_but_online"] >= 1  # 带病运行
    # the healthy portal: every count there, at 0; an open site has no closed_but_online
    assert counted("4451000001") == dict.fromkeys(
        (
            "serious_errors",
            "privacy_leaks",
            "hidden_links",
            "blank_columns",
            "incomplete_guides",
            "no_services",
            "malicious_scripts",
        ),
        0,
    )
    assert counted("4451020011")["incomplete_guides"] >= 1  # a guide missing seven of the ten elements
    assert counted("4451220005")["no_services"] >= 1  # no 办事服务 at all
    # a counter moved only where its gauge showed the finding
    for (name, labels), v in s.items():
        if name == m.SITE_FINDINGS_TOTAL and v > 0:
            code, finding = dict(labels)["code"], dict(labels)["finding"]
            assert (code, finding) in {
                ("5328010055", "serious_errors"),
                ("4408020007", "hidden_links"),
                ("4408020007", "malicious_scripts"),
                ("4405070010", "blank_columns"),
                ("5304230001", "closed_but_online"),
                ("4451020011", "incomplete_guides"),
                ("4451220005", "no_services"),
            }, (code, finding, v)
    fda = {"account": "chaoan-fda-wechat"}
    assert (value(s, m.ACCOUNT_FINDINGS_TOTAL, **fda, finding="not_deregistered") or 0) >= 2  # two checks
    assert value(s, m.ACCOUNT_NOT_DEREGISTERED, **fda) == 1
    stopped = {
        dict(labels)["account"] for (name, labels) in s if name == m.ACCOUNT_INFO and ("status", "stopped") in labels
    }
    not_deregistered = {
        dict(labels)["account"]
        for (name, labels) in s
        if name == m.ACCOUNT_FINDINGS_TOTAL and ("finding", "not_deregistered") in labels
    }
    assert not_deregistered == stopped
    assert {dict(labels)["account"] for (name, labels) in s if name == m.ACCOUNT_NOT_DEREGISTERED} == stopped
    # 严重表述错误 in posts (issue 18): counted for the account that posts one, at 0 for the others
    culture = {"account": "chaozhou-culture-wechat"}
    assert (value(s, m.ACCOUNT_FINDINGS_TOTAL, **culture, finding="serious_errors") or 0) >= 1
    assert value(s, m.ACCOUNT_SERIOUS_ERRORS, **culture) == 1
    police = {"account": "chaozhou-police-wechat"}  # clean posts: neither series (absent is none)
    assert value(s, m.ACCOUNT_FINDINGS_TOTAL, **police, finding="serious_errors") is None
    assert value(s, m.ACCOUNT_SERIOUS_ERRORS, **police) is None
    assert value(s, m.FEED_SUCCESS, account="chaozhou-police-wechat") == 1  # probed, active: no such series


async def test_the_demo_fleet_lists_unanswered_messages_and_missing_channels_in_the_api(tmp_path: Path) -> None:
    """互动回应差 through the real agent on the demo fleet: the 市长信箱 unanswered for four months in
    /api/sites/<code> and /api/findings with its messages, the site without a channel as a veto, the
    mailbox answering everything (though nobody wrote for 100 days) nowhere; and the series exported."""
    from agent.demo.fleet import Fleet

    unanswered, no_channel, answered = "1307320007", "3707040004", "5328010055"
    async with Fleet.start(tmp_path / "fleet", fast=True, slow_seconds=2) as fleet:
        cfg = fleet.config_dict()
        cfg["listen"] = "127.0.0.1:0"
        cfg["intervals"] = {"http": "1h", "dns": "1h", "tls": "1h", "content": "1s", "links": "1h", "feed": "1h"}
        cfg["intervals"]["interaction"] = "1s"
        path = tmp_path / "xuncha.yml"
        path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
        agent = Agent(path)
        await agent.start()
        try:
            codes = (unanswered, no_channel, answered)
            await until(
                lambda: all({"interaction", "content"} <= set(agent.results.latest(f"site/{c}")) for c in codes),
                timeout=30,
            )
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://{agent.address}/api/sites/{unanswered}") as r:
                    site = await r.json()
                async with http.get(f"http://{agent.address}/api/findings") as r:
                    findings = await r.json()
            s = await scrape(agent)
        finally:
            await agent.stop()
    box = site["results"]["interaction"]["columns"][0]
    assert box["name"] == "市长信箱" and box["state_shown"] and len(box["unanswered"]) == 40
    assert box["unanswered"][0]["title"].startswith("关于") and box["unanswered"][0]["state_text"] == "待回复"
    by_code: dict[str, set[str]] = {}
    for f in findings:
        by_code.setdefault(f.get("code", ""), set()).add(f["finding"])
    assert "interaction_unanswered" in by_code[unanswered]
    (late,) = [f for f in findings if f.get("code") == unanswered and f["finding"] == "interaction_unanswered"]
    assert late["overdue"] == len(late["messages"]) > 0 and late["days"] > 90
    assert "no_consultation_channel" in by_code[no_channel]
    # answered everything: neither unanswered nor stale by its newest question (100 days old)
    assert not {"interaction_unanswered", "no_consultation_channel", "column_stale"} & by_code.get(answered, set())
    assert value(s, m.SITE_CONSULTATION_CHANNELS, code=no_channel) == 0
    assert value(s, m.INTERACTION_STATE_SHOWN, code=answered, column="市长信箱") == 1
    assert value(s, m.INTERACTION_OLDEST_UNANSWERED, code=answered, column="市长信箱") is None
    oldest = value(s, m.INTERACTION_OLDEST_UNANSWERED, code=unanswered, column="市长信箱")
    assert oldest is not None and time.time() - oldest > 90 * 86400
    assert value(s, m.INTERACTION_ANSWERED, code=answered, column="市长信箱") == 20
