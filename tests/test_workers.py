"""Worker processes (agent.workers.supervisor): real processes, real Unix sockets, a real SIGKILL.

- the workers together cover every target exactly once (the split, and what running workers hold);
- the merged /metrics is what one process renders for the same results;
- a killed worker comes back with its targets, and with their state (the shared SQLite file);
- a reload reaches every worker, and a failed one reaches none;
- no worker outlives its supervisor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import http.client
import json
import os
import signal
import socket
import sys
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from promtool.stack import PROMETHEUS, get_json, start_prometheus

from agent.cli import _parser
from agent.exposition.collector import FAMILIES, TargetExposition, gzip_body, plain_body
from agent.kinds import KINDS
from agent.registry.config import Config, ConfigError, loads
from agent.run.results import ResultStore, target_key
from agent.run.runtime import shard_view
from agent.workers.supervisor import (
    TARGETS_PER_WORKER,
    _inflate,
    count_of,
    cpu_cores,
    pack_exposition,
    split,
    sum_families,
    unpack_exposition,
    worker_of,
)
from domain import metric_names as m
from domain.registry import Account, Column, Site
from probes.content import dates
from probes.results import ColumnFinding, ContentResult, DnsResult, FeedResult, HttpResult, TlsResult

ROOT = Path(__file__).resolve().parents[1]


# --- the split -------------------------------------------------------------------------------


def _registry(sites: int, accounts: int) -> Config:
    return Config(
        sites=tuple(
            Site(code=f"bm{i:08d}", name=f"站点{i}", url=f"http://s{i}.gov.cn/", columns=()) for i in range(sites)
        ),
        accounts=tuple(
            Account(id=f"a{i}", unit=f"单位{i}", platform="weibo", name=f"号{i}", feed=f"http://f/{i}")
            for i in range(accounts)
        ),
    )


@pytest.mark.parametrize("workers", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shard", [(0, 1), (0, 3), (2, 3)])
def test_the_workers_cover_every_target_exactly_once(workers: int, shard: tuple[int, int]) -> None:
    cfg = shard_view(_registry(3000, 3000), shard)
    parts = split(cfg, workers, "/state")
    assert len(parts) == workers
    sites = [s.code for p in parts for s in p.sites]
    accounts = [a.id for p in parts for a in p.accounts]
    assert sorted(sites) == sorted(s.code for s in cfg.sites) and len(set(sites)) == len(sites)
    assert sorted(accounts) == sorted(a.id for a in cfg.accounts) and len(set(accounts)) == len(accounts)
    position = {s.code: i for i, s in enumerate(cfg.sites)}
    for i, part in enumerate(parts):
        assert [position[s.code] for s in part.sites] == sorted(position[s.code] for s in part.sites)  # registry order
        assert all(worker_of(s.code, workers) == i for s in part.sites)
        assert part.state_dir == "/state" and part.workers == 1 and part.web.config_file is None
        # Even, also inside a --shard: the unsalted jump hash would put all of shard 0/3 on one worker.
        expected = len(cfg.sites) / workers
        assert abs(len(part.sites) - expected) < 0.2 * expected + 10


def test_workers_setting_and_flag() -> None:
    assert Config().workers is None and loads("").workers is None  # auto
    assert loads("workers: auto").workers is None and loads("workers: 1").workers == 1
    assert loads("workers: 3").workers == 3
    for bad in ("0", "-1", "many", "1.5", "true"):
        with pytest.raises(ConfigError, match="workers"):
            loads(f"workers: {bad}")
    assert count_of(2) == 2 and count_of(2, 10) == 2 and count_of(None) == cpu_cores()
    assert 1 <= cpu_cores() <= len(os.sched_getaffinity(0))
    # auto: one per core, but a small registry stays in one process (as every existing test runs it)
    assert count_of(None, 0) == 1 and count_of(None, TARGETS_PER_WORKER - 1) == 1
    assert count_of(None, 14_000 + 150_000) == cpu_cores()
    assert _parser().parse_args(["run", "--workers", "auto"]).workers is None
    assert _parser().parse_args(["run", "--workers", "4"]).workers == 4
    assert "workers" not in _parser().parse_args(["run"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["run", "--workers", "0"])


# --- the merged exposition ---------------------------------------------------------------------


def _results(cfg: Config) -> ResultStore:
    """Every kind of result, varied per target, some failures, some labels that need escaping."""
    store = ResultStore()
    for i, s in enumerate(cfg.sites):
        key = target_key(s)
        ok = i % 5 != 0
        store.record(
            key,
            HttpResult(
                success=ok,
                started=1.7e9 + i,
                status_code=200 if ok else None,
                phases={"connect": 0.001 * i, "processing": 0.25},
            ),
        )
        if i % 3:
            store.record(key, HttpResult(success=True, started=1.7e9 + i + 1, status_code=301))
        store.record(key, DnsResult(success=ok, ipv4=("10.0.0.1",) * (i % 3), lookup_seconds=0.002))
        if i % 2:
            store.record(
                key,
                TlsResult(
                    success=True, not_after=1.8e9 + i, not_before=1.6e9, chain_valid=True, hostname_match=i % 3 == 0
                ),
            )
        else:
            store.record(key, KINDS["tls"].fails("handshake failed", started=1.7e9))
        if i % 4 != 3:
            store.record(
                key,
                ContentResult(
                    success=ok,
                    homepage_success=ok,
                    homepage_last_update=1.79e9 - i if ok else None,
                    columns_success=True,
                    columns=tuple(
                        ColumnFinding(
                            name=c.name, category=c.category, url=c.url, success=True, last_update=1.78e9, blank=j == 1
                        )
                        for j, c in enumerate(s.columns)
                    ),
                    compliance={"icp_shown": True, "site_code_shown": i % 2 == 0},
                    serious_errors=i % 3,
                    privacy_leaks=int(i % 11 == 1),
                    hidden_links=2 * (i % 13 == 2),
                    closed_but_online=s.status == "closed" and ok,
                ),
            )
    for i, a in enumerate(cfg.accounts):
        if i % 7:
            ok = i % 2 == 0
            feed = FeedResult(
                success=ok, last_entry=1.79e9 - i, entries_recent=i % 9, not_deregistered=ok and a.status == "stopped"
            )
            for _ in range(1 + i % 2):  # the findings counters count every check, an equal result too
                store.record(target_key(a), feed)
    return store


def _columns(i: int) -> tuple[Column, ...]:
    return tuple(Column(name=f'栏目"{j}"\\', url=f"http://s{i}.gov.cn/c{j}/", category="dynamic") for j in range(i % 3))


def test_merged_metrics_equal_what_one_process_renders_for_the_same_results() -> None:
    base = _registry(500, 400)
    cfg = dataclasses.replace(
        base,
        sites=tuple(
            dataclasses.replace(s, columns=_columns(i), status="closed" if i % 9 == 4 else "active")
            for i, s in enumerate(base.sites)
        ),
        accounts=tuple(
            dataclasses.replace(a, status="stopped" if i % 5 == 2 else "active") for i, a in enumerate(base.accounts)
        ),
    )
    results = _results(cfg)
    one = TargetExposition().render(cfg.sites, cfg.accounts, results).encode()
    for workers in (2, 3, 5):
        parts = split(cfg, workers, "/state")
        # Each worker renders its part from its own results, and sends them as over its socket.
        per_worker = []
        for part in parts:
            mine = ResultStore()
            for t in (*part.sites, *part.accounts):
                for r in results.latest(target_key(t)).values():
                    mine._latest.setdefault(target_key(t), {})[r.kind] = r
                counters = results.http_counters(target_key(t))
                if counters is not None:
                    mine._http[target_key(t)] = counters
                findings = results.finding_counts(target_key(t))
                if findings is not None:
                    mine._findings[target_key(t)] = findings
            members = asyncio.run(TargetExposition().deflated(part.sites, part.accounts, mine))
            wire = pack_exposition(members, [])
            per_worker.append(unpack_exposition(wire)[0])
        # What the supervisor sends a scraper that accepts gzip: the workers' members as they came.
        merged = gzip.decompress(gzip_body(b"", per_worker))
        # And one that does not: the same text.
        assert plain_body(b"", _inflate(per_worker)) == merged

        # Byte for byte: one process whose registry lists the targets worker by worker.
        by_worker = dataclasses.replace(
            cfg,
            sites=tuple(s for p in parts for s in p.sites),
            accounts=tuple(a for p in parts for a in p.accounts),
        )
        assert merged == TargetExposition().render(by_worker.sites, by_worker.accounts, results).encode()

        # And against the registry's own order: the same families, in the same order, once each,
        # with the same samples (only their order within a family differs).
        assert _families(merged) == _families(one)
        for f in FAMILIES:
            assert merged.count(f"# TYPE {f.name} ".encode()) == 1
        parsed = {f.name: sorted(map(str, f.samples)) for f in text_string_to_metric_families(merged.decode())}
        expected = {f.name: sorted(map(str, f.samples)) for f in text_string_to_metric_families(one.decode())}
        assert parsed == expected and sum(map(len, parsed.values())) > 8000
        # the findings counters are among them, moved for some targets and at 0 for others
        for name in (m.SITE_FINDINGS_TOTAL, m.ACCOUNT_FINDINGS_TOTAL):
            values = [line.rsplit(b" ", 1)[1] for line in merged.splitlines() if line.startswith(name.encode() + b"{")]
            assert b"0" in values and {b"1", b"2"} & set(values), name


def _families(text: bytes) -> list[tuple[str, list[str]]]:
    """Each family's header and its sorted sample lines, in exposition order."""
    out: list[tuple[str, list[str]]] = []
    for line in text.decode().splitlines():
        if line.startswith("# HELP"):
            out.append((line, []))
        elif not line.startswith("#"):
            out[-1][1].append(line)
    return [(h, sorted(lines)) for h, lines in out]


def test_probe_series_are_summed_over_workers() -> None:
    from prometheus_client import CollectorRegistry

    from agent.exposition.selfmetrics import SelfMetrics
    from agent.workers.supervisor import probe_families

    one = SelfMetrics(CollectorRegistry())
    parts = [SelfMetrics(CollectorRegistry()) for _ in range(3)]
    for i, seconds in enumerate([0.003, 0.2, 0.2, 7.0, 0.02, 40.0]):
        for metrics in (one, parts[i % 3]):
            metrics.probe_duration.labels("http" if i % 2 else "dns").observe(seconds)
            metrics.scheduler_lag.labels("content").observe(seconds / 10)
            metrics.runs.labels("http", "success" if i % 2 else "failure").inc()
            metrics.in_flight.inc()
    # Through JSON, as the workers send them.
    summed = sum_families([json.loads(json.dumps(probe_families(p))) for p in parts])
    expected = json.loads(json.dumps(probe_families(one)))

    def flat(families: Any) -> dict[tuple[str, str], float]:
        return {(s.name, json.dumps(s.labels, sort_keys=True)): s.value for f in families for s in f.samples}

    want = flat([_metric(n, t, d, samples) for n, t, d, samples in expected])
    assert flat(summed) == pytest.approx(want)  # sums of floats added in another order
    assert {f.name for f in summed} == {m.PROBE_DURATION_SECONDS, m.SCHEDULER_LAG_SECONDS, "xuncha_probe_runs"} | {
        m.PROBES_IN_FLIGHT
    }


def _metric(name: str, typ: str, doc: str, samples: list[Any]) -> Any:
    from prometheus_client.core import Metric

    metric = Metric(name, doc, typ)
    for sample, labels, value in samples:
        metric.add_sample(sample, labels, value)
    return metric


# --- real workers ------------------------------------------------------------------------------

HOME = (
    '<html><head><meta charset="utf-8"><title>人民政府</title></head><body>'
    "<ul class=list><li><a href=/a1.html>区政府召开安全生产工作会议</a><span>2026-11-19</span></li>"
    "<li><a href=/a2.html>关于开展消防检查的通知</a><span>2026-11-12</span></li></ul></body></html>"
)


class Pages:
    """Every site's homepage, on one loopback server; ``down`` makes them answer 503."""

    def __init__(self) -> None:
        self.down = False

    async def handle(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="维护中")
        return web.Response(text=HOME, content_type="text/html", charset="utf-8")


@dataclasses.dataclass
class Running:
    proc: asyncio.subprocess.Process
    url: str
    state: Path
    config: Path

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as s, s.get(self.url + path) as r:
            return r.status, await r.text()

    async def metrics(self) -> str:
        return (await self.get("/metrics"))[1]

    def socket(self, index: int) -> Path:
        return self.state / f"workers-{self.proc.pid}" / f"{index}.sock"

    async def status(self, index: int) -> dict[str, Any]:
        """Straight from the worker, over its own socket."""
        connector = aiohttp.UnixConnector(path=str(self.socket(index)))
        async with aiohttp.ClientSession(connector=connector) as s, s.get("http://worker/-/worker/status") as r:
            return dict(await r.json())


def _config(tmp: Path, port: int, codes: list[str], accounts: list[str], extra: str = "") -> str:
    sites = "\n".join(f'  - {{code: "{c}", name: 站点{c}, url: "http://127.0.0.1:{port}/{c}/"}}' for c in codes)
    feeds = "\n".join(
        f'  - {{id: "{a}", unit: 单位{a}, platform: weibo, name: 号{a}, feed: "http://127.0.0.1:{port}/f/{a}"}}'
        for a in accounts
    )
    return f"""
listen: 127.0.0.1:0
state_dir: {tmp / "state"}
http: {{timeout: 2s}}
intervals: {{http: 1s, dns: 1h, tls: 1h, content: 1s, links: 1h, feed: 1h}}
{extra}
sites:
{sites}
accounts:
{feeds}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running(config: Path, tmp: Path, workers: int) -> AsyncIterator[Running]:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent",
        "run",
        "-c",
        str(config),
        "--listen",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--web.enable-lifecycle",
        cwd=ROOT,
    )
    agent = Running(proc, f"http://127.0.0.1:{port}", tmp / "state", config)

    async def up() -> bool:
        assert proc.returncode is None, "the agent exited"
        try:
            return (await agent.get("/healthz"))[0] == 200
        except aiohttp.ClientError:
            return False

    try:
        await _until(up, what="the agent to answer /healthz")
        yield agent
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def pages() -> AsyncIterator[tuple[Pages, int]]:
    p = Pages()
    app = web.Application()
    app.router.add_get("/{tail:.*}", p.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield p, port
    finally:
        await runner.cleanup()


CODES = [f"bm{i:08d}" for i in range(24)]
ACCOUNTS = [f"acct{i}" for i in range(9)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by a dead parent's reaper) is not running either.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


async def test_running_workers_hold_every_target_once_and_answer_as_one_agent(
    pages: tuple[Pages, int], tmp_path: Path
) -> None:
    _, port = pages
    path = tmp_path / "xuncha.yml"
    path.write_text(_config(tmp_path, port, CODES, ACCOUNTS), encoding="utf-8")
    async with running(path, tmp_path, 3) as agent:
        statuses = [await agent.status(i) for i in range(3)]
        assert [s["worker"] for s in statuses] == [0, 1, 2]
        held = [c for s in statuses for c in s["sites"]]
        assert sorted(held) == CODES and len(set(held)) == len(held)
        assert sorted(a for s in statuses for a in s["accounts"]) == sorted(ACCOUNTS)
        assert all(s["sites"] and s["pid"] != agent.proc.pid for s in statuses)
        assert len({s["pid"] for s in statuses}) == 3
        for s in statuses:  # glibc malloc tuned for the workers (agent.workers.supervisor.MALLOC_ENV)
            environ = Path(f"/proc/{s['pid']}/environ").read_bytes().split(b"\0")  # noqa: ASYNC240
            assert b"MALLOC_ARENA_MAX=2" in environ and b"MALLOC_MMAP_THRESHOLD_=131072" in environ

        async def probed() -> bool:
            text = await agent.metrics()
            return all(
                f'{m.PROBE_SUCCESS}{{code="{c}",probe="{kind}"}}' in text
                for c in CODES
                for kind in ("http", "homepage")
            )

        await _until(probed, what="every site's http and homepage results")
        text = await agent.metrics()
        families = {f.name: f for f in text_string_to_metric_families(text)}  # the text parses
        assert {s.labels["code"] for s in families[m.SITE_INFO].samples} == set(CODES)
        assert len(families[m.SITE_INFO].samples) == len(CODES)
        assert len(families[m.ACCOUNT_INFO].samples) == len(ACCOUNTS)
        for f in FAMILIES:  # one group per family
            assert text.count(f"# TYPE {f.name} ") == 1, f.name
        assert text.count("# TYPE xuncha_probe_duration_seconds ") == 1
        assert families[m.WORKERS].samples[0].value == 3 and families[m.WORKERS_UP].samples[0].value == 3
        rss = {s.labels["worker"]: s.value for s in families[m.WORKER_RESIDENT_MEMORY_BYTES].samples}
        assert set(rss) == {"0", "1", "2"} and all(v > 10e6 for v in rss.values())
        targets = {s.labels["kind"]: s.value for s in families[m.TARGETS].samples}
        assert targets == {"site": len(CODES), "account": len(ACCOUNTS)}
        runs = sum(s.value for s in families["xuncha_probe_runs"].samples)
        assert runs >= 2 * len(CODES)  # summed over the workers

        # Compressed, the body is one gzip member (curl --compressed and browsers read only the first
        # one) holding the same families; and the real Prometheus reads it whole.
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.get(agent.url + "/metrics", headers={"Accept-Encoding": "gzip"}) as r,
        ):
            assert r.headers["Content-Encoding"] == "gzip"
            wire = await r.read()
        member = zlib.decompressobj(31)
        unzipped = member.decompress(wire)
        assert member.eof and member.unused_data == b"" and len(unzipped) > 2 * len(wire)
        zipped = {f.name: f for f in text_string_to_metric_families(unzipped.decode())}
        assert {s.labels["code"] for s in zipped[m.SITE_INFO].samples} == set(CODES)
        assert len(zipped[m.ACCOUNT_INFO].samples) == len(ACCOUNTS)
        await _scraped_by_prometheus(agent.url, tmp_path / "prom", len(CODES), len(ACCOUNTS))

        # /api/ as from one agent: lists in registry order, one target from the worker that owns it.
        status, body = await agent.get("/api/sites")
        assert status == 200 and [s["code"] for s in json.loads(body)] == CODES
        status, body = await agent.get("/api/accounts")
        assert [a["account"]["id"] for a in json.loads(body)] == ACCOUNTS
        for code in CODES:
            status, body = await agent.get(f"/api/sites/{code}")
            assert status == 200 and json.loads(body)["site"]["code"] == code
        status, body = await agent.get(f"/api/accounts/{ACCOUNTS[4]}")
        assert status == 200 and json.loads(body)["account"]["id"] == ACCOUNTS[4]
        assert (await agent.get("/api/sites/bm99999999"))[0] == 404
        status, body = await agent.get("/api/findings")
        assert status == 200 and isinstance(json.loads(body), list)

        # SIGTERM: everybody stops, cleanly.
        pids = [s["pid"] for s in statuses]
        agent.proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(agent.proc.wait(), 20) == 0
        await _until(_async(lambda: not any(map(_alive, pids))), timeout=5, what="the workers to stop")
        assert not (agent.state / f"workers-{agent.proc.pid}").exists()


HAVE_PROMETHEUS = Path(PROMETHEUS).exists()


async def _scraped_by_prometheus(url: str, workdir: Path, sites: int, accounts: int) -> None:
    if not HAVE_PROMETHEUS:
        return  # the Debian package is installed by .ci/run; without it the rest of the test still runs
    target = url.split("//")[1]
    job = {"job_name": "xuncha", "scrape_interval": "1s", "static_configs": [{"targets": [target]}]}
    prom = await start_prometheus({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]}, workdir, {})
    try:

        async def counted() -> bool:
            api = prom.url + "/api/v1/query"
            got = []
            for q in ("count(xuncha_site_info)", "count(xuncha_account_info)", 'up{job="xuncha"}'):
                result = (await get_json(api, query=q))["data"]["result"]
                got.append(float(result[0]["value"][1]) if result else None)
            return got == [sites, accounts, 1.0]

        await _until(counted, timeout=30, what="Prometheus to scrape every site and account")
    finally:
        await prom.stop()


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def wrapped() -> bool:
        return check()

    return wrapped


async def test_a_killed_worker_comes_back_with_its_targets_and_their_state(
    pages: tuple[Pages, int], tmp_path: Path
) -> None:
    server, port = pages
    path = tmp_path / "xuncha.yml"
    path.write_text(_config(tmp_path, port, CODES, []), encoding="utf-8")
    async with running(path, tmp_path, 2) as agent:
        victim = await agent.status(0)
        theirs = victim["sites"]
        assert theirs

        async def dated() -> bool:
            text = await agent.metrics()
            return all(f'{m.HOMEPAGE_LAST_UPDATE}{{code="{c}"}}' in text for c in CODES)

        await _until(dated, what="every homepage judged")

        # The sites go down; then the worker that watches some of them is killed.
        server.down = True

        async def failing() -> bool:
            text = await agent.metrics()
            return all(f'{m.PROBE_SUCCESS}{{code="{c}",probe="homepage"}} 0' in text for c in theirs)

        await _until(failing, what="the homepages to fail")
        os.kill(victim["pid"], signal.SIGKILL)

        async def back() -> bool:
            try:
                text = await agent.metrics()
                return (
                    f'{m.WORKER_RESTARTS_TOTAL}{{worker="0"}} 1.0' in text
                    and (await agent.status(0))["pid"] != victim["pid"]
                )
            except (aiohttp.ClientError, OSError):
                return False

        await _until(back, what="worker 0 to be started again")
        assert not _alive(victim["pid"])
        again = await agent.status(0)
        assert again["sites"] == theirs and again["generation"] == victim["generation"]
        text = await agent.metrics()
        assert f"{m.WORKERS_UP} 2.0" in text
        assert all(f'{m.SITE_INFO}{{code="{c}"' in text for c in CODES)  # its targets are served again

        # A new process, no memory of its own: the dates it serves come from the shared state file.
        async def remembered() -> bool:
            for code in theirs:
                _, body = await agent.get(f"/api/sites/{code}")
                content = json.loads(body)["results"].get("content")
                if not content or content["homepage_update_source"] != "remembered":
                    return False
                assert content["homepage_success"] is False
                assert content["homepage_last_update"] == dates.to_timestamp(2026, 11, 19)
            return True

        await _until(remembered, what="the restarted worker to serve its sites' remembered dates")


async def test_a_reload_reaches_every_worker_and_a_failed_one_none(pages: tuple[Pages, int], tmp_path: Path) -> None:
    _, port = pages
    path = tmp_path / "xuncha.yml"
    path.write_text(_config(tmp_path, port, CODES[:12], ACCOUNTS[:3]), encoding="utf-8")
    async with running(path, tmp_path, 2) as agent:
        before = [await agent.status(i) for i in range(2)]
        assert [s["generation"] for s in before] == [1, 1]

        new_codes, new_accounts = CODES[4:], ACCOUNTS
        path.write_text(_config(tmp_path, port, new_codes, new_accounts), encoding="utf-8")
        async with aiohttp.ClientSession() as s, s.post(agent.url + "/-/reload") as r:
            assert r.status == 200 and (await r.json())["reloaded"] is True
        after = [await agent.status(i) for i in range(2)]
        assert [s["generation"] for s in after] == [2, 2]  # every worker took it
        parts = split(loads(path.read_text(encoding="utf-8"), path=str(path)), 2, "")
        for status, part in zip(after, parts, strict=True):
            assert status["sites"] == [s.code for s in part.sites]
            assert status["accounts"] == [a.id for a in part.accounts]
        assert sorted(c for st in after for c in st["sites"]) == sorted(new_codes)
        text = await agent.metrics()
        assert text.count(f"{m.SITE_INFO}{{") == len(new_codes)
        assert f"{m.CONFIG_LAST_RELOAD_SUCCESSFUL} 1.0" in text

        # An invalid configuration: refused by the supervisor, so no worker changes.
        path.write_text(_config(tmp_path, port, CODES, ACCOUNTS, extra="workers: many"), encoding="utf-8")
        async with aiohttp.ClientSession() as s, s.post(agent.url + "/-/reload") as r:
            assert r.status == 400 and any("workers" in e for e in (await r.json())["errors"])
        unchanged = [await agent.status(i) for i in range(2)]
        assert unchanged == after
        assert f"{m.CONFIG_LAST_RELOAD_SUCCESSFUL} 0.0" in await agent.metrics()

        # SIGKILL of the supervisor: the workers do not outlive it.
        pids = [s["pid"] for s in after]
        agent.proc.kill()
        await agent.proc.wait()
        await _until(_async(lambda: not any(map(_alive, pids))), timeout=10, what="orphaned workers to exit")


def test_the_configuration_is_read_in_a_short_lived_process(tmp_path: Path) -> None:
    """What ``xuncha run`` and the supervisor's reloads use: the same Config, the same errors."""
    from agent.registry.config import load
    from agent.workers.supervisor import load_split

    path = tmp_path / "xuncha.yml"
    path.write_text(_config(tmp_path, 9, CODES[:5], ACCOUNTS[:2], extra="workers: 3"), encoding="utf-8")
    assert load_split(path, 1) == load(path)  # one worker process: the whole configuration
    path.write_text("workers: 0\nsites: [{code: nope}]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as here:
        load(path)
    with pytest.raises(ConfigError) as isolated:
        load_split(path, None)
    assert isolated.value.issues == here.value.issues and len(here.value.issues) >= 2
    assert str(isolated.value) == str(here.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_split(tmp_path / "missing.yml", 2)


def test_a_supervisor_gets_the_registry_split_and_packed_never_whole(tmp_path: Path) -> None:
    """With worker processes the reading process splits the registry: the supervisor keeps its
    order and each worker's part packed, the same parts ``split`` makes."""
    from agent.registry.config import load
    from agent.workers.supervisor import load_split, unpack_view

    path = tmp_path / "xuncha.yml"
    path.write_text(_config(tmp_path, 9, CODES, ACCOUNTS, extra="workers: 3"), encoding="utf-8")
    full = load(path)
    loaded = load_split(path, None, state_dir=str(tmp_path / "st"))
    assert isinstance(loaded, tuple)
    settings, packed = loaded
    assert settings.sites == () and settings.accounts == () and settings.intervals == full.intervals
    assert packed.sites == tuple(s.code for s in full.sites) and packed.accounts == tuple(a.id for a in full.accounts)
    assert packed.wanted == 3 and len(packed.parts) == 3
    assert [unpack_view(p) for p in packed.parts] == split(full, 3, str((tmp_path / "st").resolve()))
    # --workers 2 on the command line beats workers: 3; --shard 1/2 keeps half the registry.
    forced = load_split(path, 2, shard=(1, 2))
    assert isinstance(forced, tuple) and len(forced[1].parts) == 2 and forced[1].wanted == 3
    half = shard_view(full, (1, 2))
    assert forced[1].sites == tuple(s.code for s in half.sites) and 0 < len(half.sites) < len(full.sites)


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("worker", timeout=10)
        self.unix_path = str(path)

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)


def _exposition_text(path: Path) -> bytes:
    from agent.workers.gzipjoin import inflate
    from agent.workers.supervisor import EXPOSITION_PATH

    conn = _UnixHTTP(path)
    conn.request("GET", EXPOSITION_PATH)
    reply = conn.getresponse()
    assert reply.status == 200
    blocks, _ = unpack_exposition(reply.read())
    conn.close()
    return b"".join(inflate(b) for b in blocks)


async def test_a_workers_exposition_is_answered_while_its_loop_is_busy(tmp_path: Path) -> None:
    """At national size a worker's loop is saturated by probes; its exposition thread answers anyway."""
    from agent.workers.supervisor import metrics_socket
    from agent.workers.worker import WorkerAgent

    closed = _free_port()
    cfg = loads(
        f"state_dir: {tmp_path}\nintervals: {{http: 1s}}\nhttp: {{timeout: 1s}}\nsites:\n"
        + "".join(f'  - {{code: "{c}", name: s, url: "http://127.0.0.1:{closed}/"}}\n' for c in CODES[:4])
    )
    worker = WorkerAgent(cfg, tmp_path / "0.sock", (0, 1))
    await worker.start()
    try:
        await _until(_async(lambda: worker.results.seq >= 8), what="two rounds of visits")
        pool = ThreadPoolExecutor(1)
        try:
            asked = pool.submit(_exposition_text, metrics_socket(worker.socket))
            time.sleep(2.0)  # noqa: ASYNC251 — the point: the loop is blocked, as a saturated one is
            assert asked.done(), "the exposition waited for the event loop"
            text = asked.result()
            assert text.count(b"xuncha_site_info{") == 4 and b"xuncha_http_checks_total{" in text

            # A change not rendered yet (here: rendered by nobody) is brought in by the loop first.
            assert worker.scheduler is not None
            await worker.scheduler.stop()  # no visit may replace the result below
            worker.results.listener = None
            site = worker.config.sites[0]
            worker.results.record(target_key(site), HttpResult(success=True, status_code=418, started=time.time()))
            text = await asyncio.get_running_loop().run_in_executor(
                pool, _exposition_text, metrics_socket(worker.socket)
            )
            assert f'xuncha_http_status_code{{code="{site.code}"}} 418'.encode() in text
        finally:
            pool.shutdown()
    finally:
        await worker.stop()
