"""The real Prometheus scrapes the agent over TLS with basic auth, using the shipped scrape config,
and files every family with the type the agent declared (its metadata API).

Also the exposition's own header lines, parsed without Prometheus: HELP and TYPE name the same
family (client_python writes ``# TYPE xuncha_http_checks_total counter`` in the 0.0.4 format).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import trustme
import yaml
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).parent))

from promtool.stack import PROMETHEUS, get_json, start_prometheus  # noqa: E402

from agent.http.webconfig import init_files  # noqa: E402
from agent.run.runtime import Agent  # noqa: E402
from domain import metric_names as m  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


async def _site() -> tuple[web.AppRunner, str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>ok</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]


async def _agent(tmp_path: Path, url: str, web_config: str | None) -> Agent:
    path = tmp_path / "xuncha.yml"
    path.write_text(
        f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 'state'}\n"
        "intervals: {http: 1s, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}\n"
        f'sites:\n  - {{code: "4405070010", name: 龙湖, url: "{url}"}}\n',
        encoding="utf-8",
    )
    agent = Agent(path, web_config_file=web_config)
    await agent.start()
    return agent


async def test_help_and_type_name_the_same_family_and_process_metrics_are_there(tmp_path: Path) -> None:
    runner, url = await _site()
    agent = await _agent(tmp_path, url, None)
    try:
        for _ in range(50):
            if agent.results.http_counters("site/4405070010"):
                break
            await asyncio.sleep(0.1)
        async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}/metrics") as r:
            text = await r.text()
    finally:
        await agent.stop()
        await runner.cleanup()
    helps = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")]
    types = {line.split()[2]: line.split()[3] for line in text.splitlines() if line.startswith("# TYPE ")}
    assert helps == list(types), "every HELP is followed by a TYPE of the same name"
    assert types[m.HTTP_CHECKS_TOTAL] == types[m.HTTP_FAILURES_TOTAL] == "counter"
    families = {f.name: f for f in text_string_to_metric_families(text)}
    checks = families[m.HTTP_CHECKS_TOTAL.removesuffix("_total")]
    assert checks.type == "counter" and checks.documentation and checks.samples[0].name == m.HTTP_CHECKS_TOTAL
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds", "process_max_fds"):
        assert name in families, name


@pytest.mark.e2e
@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="needs /usr/bin/prometheus")
async def test_prometheus_scrapes_over_tls_with_basic_auth_and_reads_the_metadata(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "server.crt"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.crt"))
    web_config, password_file, _ = init_files(tmp_path / "secrets", cost=4)
    with web_config.open("a", encoding="utf-8") as f:
        f.write(f"tls_server_config:\n  cert_file: {tmp_path / 'server.crt'}\n  key_file: {tmp_path / 'server.key'}\n")
    runner, url = await _site()
    agent = await _agent(tmp_path, url, str(web_config))
    shipped = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [j for j in shipped["scrape_configs"] if j["job_name"] == "xuncha"]
    job = {
        **job,
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "scheme": "https",
        "tls_config": {"ca_file": str(tmp_path / "ca.crt")},
        "basic_auth": {**job["basic_auth"], "password_file": str(password_file)},
        "static_configs": [{"targets": [agent.address]}],
    }
    prom = await start_prometheus({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}, tmp_path / "prom", {})
    try:
        deadline = time.monotonic() + 30
        metadata: dict[str, Any] = {}
        while time.monotonic() < deadline:
            targets = (await get_json(prom.url + "/api/v1/targets"))["data"]["activeTargets"]
            metadata = (await get_json(prom.url + "/api/v1/metadata"))["data"]
            if targets and targets[0]["health"] == "up" and m.HTTP_CHECKS_TOTAL in metadata:
                break
            await asyncio.sleep(0.5)
        assert targets[0]["health"] == "up", targets[0].get("lastError")
        assert metadata[m.HTTP_CHECKS_TOTAL][0]["type"] == "counter", metadata.get(m.HTTP_CHECKS_TOTAL)
        assert metadata[m.HTTP_FAILURES_TOTAL][0]["type"] == "counter"
        assert metadata[m.PROBE_RUNS_TOTAL][0]["type"] == "counter"
        assert metadata["process_cpu_seconds_total"][0]["type"] == "counter"
        assert metadata[m.SITE_INFO][0]["type"] == "gauge"
        assert metadata[m.HTTP_CHECKS_TOTAL][0]["help"].startswith("Homepage visits")
    finally:
        await prom.stop()
        await agent.stop()
        await runner.cleanup()
