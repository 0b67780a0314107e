"""Hostile clients on the agent's own port (issue 10): idle floods, slowloris, reload storms.

Each attack is made for real on loopback against a real agent; each has its twin in which a
legitimate scraper or reloader still gets through.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from agent.demo.hostile import free_port
from agent.run.runtime import Agent

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def healthy_site() -> AsyncIterator[str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>巡查 ok</body></html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/"
    await runner.cleanup()


def _limit_descriptors() -> None:
    # The usual default of a service without LimitNOFILE: the limit issue 10 exhausted.
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


async def _scrape(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as s, s.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
        assert r.status == 200
        text = await r.text()
    return {
        s.name + str(sorted(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }


async def test_1100_idle_connections_neither_exhaust_descriptors_nor_starve_probes_and_scrapes(
    tmp_path: Path, healthy_site: str
) -> None:
    port = free_port()
    config = tmp_path / "xuncha.yml"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\nstate_dir: {tmp_path / "state"}\n'
        "web: {header_timeout: 60s}\n"  # the cap, not the timeout, must save us here
        "intervals: {http: 1s, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}\n"
        f'sites:\n  - {{code: "4405070010", name: 龙湖, url: "{healthy_site}"}}\n',
        encoding="utf-8",
    )
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent",
            "run",
            "-c",
            str(config),
            stdout=out,
            stderr=out,
            preexec_fn=_limit_descriptors,
            cwd=tmp_path,
        )
    held: list[asyncio.StreamWriter] = []
    metrics = f"http://127.0.0.1:{port}/metrics"
    try:
        checks = "xuncha_http_checks_total[('code', '4405070010')]"
        failures = "xuncha_http_failures_total[('code', '4405070010')]"
        deadline = time.monotonic() + 20
        while True:
            try:
                before = await _scrape(metrics)
                if checks in before:
                    break
            except (aiohttp.ClientError, OSError):
                pass
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.2)
        for _ in range(1100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                held.append(writer)
            except OSError:
                pass
        await asyncio.sleep(1.0)
        fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        scrapes = []
        for _ in range(3):
            t0 = time.monotonic()
            after = await _scrape(metrics)
            scrapes.append(time.monotonic() - t0)
        await asyncio.sleep(3.0)
        after = await _scrape(metrics)
        print(
            f"\nagent fds with 1,100 idle connections held: {fds}; scrapes {[round(s, 3) for s in scrapes]} s; "
            f"visits {before[checks]:.0f} → {after[checks]:.0f}, failures {after[failures]:.0f}; "
            f"log {log.stat().st_size} bytes"
        )
        assert fds < 400, fds  # the cap: a quarter of 1,024 for the port, the rest for probes
        assert after[checks] >= before[checks] + 3, "the availability probe starved"
        assert after[failures] == before.get(failures, 0), "healthy visits failed"
        assert proc.returncode is None
        assert "Too many open files" not in log.read_text(encoding="utf-8", errors="replace")
        assert log.stat().st_size < 100_000
    finally:
        for w in held:
            w.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    (tmp_path / "xuncha.yml").write_text(
        f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 'state'}\nweb: {{header_timeout: 1s, max_connections: 20}}\n",
        encoding="utf-8",
    )
    a = Agent(tmp_path / "xuncha.yml", enable_lifecycle=True)
    await a.start()
    yield a
    await a.stop()


async def test_a_slowloris_is_cut_off_at_the_header_timeout_while_a_scraper_is_served(agent: Agent) -> None:
    host, port = agent.address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    closed = None
    for _ in range(40):  # a header byte every 0.1 s, never finishing the head
        writer.write(b"X")
        await asyncio.sleep(0.1)
        if reader.at_eof() or writer.is_closing():
            closed = time.monotonic() - t0
            break
        try:
            if await asyncio.wait_for(reader.read(1), 0.01) == b"":
                closed = time.monotonic() - t0
                break
        except TimeoutError:
            pass
    writer.close()
    assert closed is not None and closed < 2.5, closed
    async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}/metrics") as r:
        assert r.status == 200


async def test_at_the_cap_idle_connections_make_room_for_a_scrape(agent: Agent) -> None:
    host, port = agent.address.rsplit(":", 1)
    idle = [await asyncio.open_connection(host, int(port)) for _ in range(60)]
    await asyncio.sleep(0.1)
    runner = agent._runner
    assert runner is not None and runner.guard is not None  # type: ignore[attr-defined]
    guard = runner.guard  # type: ignore[attr-defined]
    assert len(guard.live) <= 20 and guard.evicted >= 40
    async with aiohttp.ClientSession() as s, s.get(f"http://{agent.address}/metrics") as r:
        assert r.status == 200
    for _, w in idle:
        w.close()


async def test_a_keep_alive_scraper_is_not_cut_by_the_header_timeout(agent: Agent) -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(3):
            async with s.get(f"http://{agent.address}/metrics") as r:
                assert r.status == 200
            await asyncio.sleep(0.6)  # 1.8 s on one connection, past the 1 s header timeout


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def test_200_reloads_are_cheap(tmp_path: Path) -> None:
    sites = "".join(
        f'  - {{code: "440507{i:04d}", name: 站点{i}, url: "http://127.0.0.1:9/s{i}/"}}\n' for i in range(2000)
    )
    config = tmp_path / "xuncha.yml"
    head = (
        f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 'state'}\n"
        "intervals: {http: 1h, dns: 1h, tls: 1h, content: 1h, links: 1h, feed: 1h}\n"
    )
    config.write_text(head + "sites:\n" + sites, encoding="utf-8")
    agent = Agent(config, enable_lifecycle=True, watch_interval=3600)
    await agent.start()
    try:
        cpu0, rss0 = time.process_time(), _rss_mib()
        results = await asyncio.gather(*(agent.reload() for _ in range(200)))  # SIGHUP storm
        assert all(ok for ok, _ in results)
        for _ in range(200):  # unchanged files: nothing to parse
            assert (await agent.reload())[0]
        storm_cpu = time.process_time() - cpu0
        for i in range(5):  # changed every time: parsed every time, but the network is kept
            config.write_text(head + f"# edit {i}\nsites:\n" + sites, encoding="utf-8")
            assert (await agent.reload())[0]
        changed_cpu = time.process_time() - cpu0 - storm_cpu
        rss = _rss_mib() - rss0
        async with aiohttp.ClientSession() as s:
            codes = [(await s.post(f"http://{agent.address}/-/reload")).status for _ in range(200)]
            t0 = time.monotonic()
            async with s.get(f"http://{agent.address}/healthz") as r:
                assert r.status == 200
            healthz = time.monotonic() - t0
        print(
            f"\n400 reloads of unchanged files: {storm_cpu:.2f} CPU-s; 5 changed: {changed_cpu:.2f} CPU-s; "
            f"RSS {rss:+.1f} MiB; 200 POSTs → {codes.count(200)} reloaded, {codes.count(429)} refused (429); "
            f"/healthz {healthz * 1000:.0f} ms"
        )
        assert storm_cpu < 3.0
        assert rss < 60
        assert not agent._retiring, "a reload with unchanged network settings must keep the network"
        assert codes.count(200) <= 10 and codes.count(429) >= 190
        assert healthz < 0.5
    finally:
        await agent.stop()


async def test_a_reload_is_skipped_only_when_no_file_it_reads_changed(tmp_path: Path) -> None:
    (tmp_path / "words.tsv").write_text("开诚不公\t开诚布公\t\n", encoding="utf-8")
    config = tmp_path / "xuncha.yml"
    config.write_text(
        f"listen: 127.0.0.1:0\nstate_dir: {tmp_path / 's'}\ncontent: {{dictionaries: [words.tsv]}}\n", encoding="utf-8"
    )
    agent = Agent(config, watch_interval=3600)
    await agent.start()
    try:
        loaded = agent.reload_success_timestamp
        await asyncio.sleep(0.01)
        assert (await agent.reload())[0] and agent.reload_success_timestamp == loaded  # nothing changed: skipped
        (tmp_path / "words.tsv").write_text("开诚不公\t开诚布公\t\n不径而走\t不胫而走\t\n", encoding="utf-8")
        assert (await agent.reload())[0] and agent.reload_success_timestamp > loaded  # a dictionary edit + SIGHUP
    finally:
        await agent.stop()


def _low_soft_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))


async def test_the_agent_raises_its_soft_descriptor_limit_to_the_hard_limit(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "xuncha.yml"
    config.write_text(f'listen: "127.0.0.1:{port}"\nstate_dir: {tmp_path / "s"}\n', encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent",
        "run",
        "-c",
        str(config),
        stderr=asyncio.subprocess.DEVNULL,
        preexec_fn=_low_soft_limit,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                await _scrape(f"http://127.0.0.1:{port}/metrics")
                break
            except (aiohttp.ClientError, OSError):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
        limits = await asyncio.to_thread(Path(f"/proc/{proc.pid}/limits").read_text)
        (line,) = [x for x in limits.splitlines() if x.startswith("Max open files")]
        assert line.split()[3:5] == ["4096", "4096"], line
        metrics = await _scrape(f"http://127.0.0.1:{port}/metrics")
        assert metrics["process_max_fds[]"] == 4096  # and the process_* metrics say so
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


def _starved_descriptors() -> None:
    # So few that the agent's own descriptors (about 12) and the connection cap's 16 slots exhaust them: accept()
    # fails with EMFILE, which asyncio logs (with a traceback) on every attempt.
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, 24))


async def test_too_many_open_files_does_not_flood_the_log_and_the_agent_recovers(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "xuncha.yml"
    config.write_text(
        f'listen: "127.0.0.1:{port}"\nstate_dir: {tmp_path / "s"}\n'
        "intervals: {http: 1s, dns: 1s, tls: 1h, content: 1h, links: 1h, feed: 1h}\n"
        'sites:\n  - {code: "4405070010", name: a, url: "http://127.0.0.1:9/"}\n',
        encoding="utf-8",
    )
    log = tmp_path / "agent.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "agent",
            "run",
            "-c",
            str(config),
            stdout=out,
            stderr=out,
            preexec_fn=_starved_descriptors,
        )
    held: list[asyncio.StreamWriter] = []
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                await _scrape(f"http://127.0.0.1:{port}/metrics")
                break
            except (aiohttp.ClientError, OSError, AssertionError):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
        for _ in range(200):  # far more than the descriptors left: accept() fails with EMFILE, again and again
            try:
                held.append((await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1))[1])
            except (OSError, TimeoutError):
                pass
        # What was held back is written on a line of its own when the 10-s window ends (agent/logs.py).
        summary = re.compile(r"msg=\"?(\d+) more like this not logged")
        for _ in range(60):
            await asyncio.sleep(0.25)
            text = log.read_text(encoding="utf-8", errors="replace")
            if summary.search(text):
                break
        suppressed = [int(n) for n in summary.findall(text)]
        print(
            f"\nlog {len(text.encode())} bytes, {text.count('out of system resource')} EMFILE lines written, "
            f"{sum(suppressed)} more suppressed"
        )
        assert "out of system resource" in text, "the test did not provoke EMFILE"
        assert sum(suppressed) > 0, "the flood filter had nothing to hold back: the test proves nothing"
        assert len(text.encode()) < 150_000  # 10 records per 10 s window, each with its traceback
        for w in held:
            w.close()
        held.clear()
        for _ in range(30):  # serving again once the flood is gone (asyncio retries accept after 1 s)
            try:
                await _scrape(f"http://127.0.0.1:{port}/metrics")
                break
            except (aiohttp.ClientError, OSError, AssertionError):
                await asyncio.sleep(0.2)
        else:
            raise AssertionError("the agent did not serve again")
    finally:
        for w in held:
            w.close()
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
