"""Soak: the agent serves scrapes under load while hostile sites and feeds misbehave (issue 10).

    .venv/bin/python bench/soak.py [--healthy 40] [--tarpit-pages 60] [--scrapers 50] [--seconds 90]

One process (this one) runs the world on loopback: a DNS server for ``*.soak.gov.cn``;
``--healthy`` healthy sites whose homepages carry ordinary links; ``--tarpit-pages`` sites whose
homepages are full of links to a tarpit (it accepts and never answers); one each of the hostile
servers of ``agent.demo.hostile`` (silent, reset, slow, endless body, gzip bomb, redirect loop,
huge headers, TLS garbage, invalid UTF-8) as sites; and feeds that are endless, a gzip bomb,
garbage or silent.  The agent runs as its own process (``xuncha run``) with short intervals
(http 5 s, content 20 s, links 30 s, feeds 20 s) and ``links.allow_networks: [127.0.0.0/8]`` so
that the link checker does walk into the tarpit.  ``--scrapers`` clients scrape ``/metrics``
back to back on keep-alive connections for ``--seconds``.

Prints: the agent's peak RSS (VmHWM) and CPU, the p50/p99/max of ``/metrics`` under the
scrapers, and the health of the schedule for the healthy sites (visits done against the visits
their 5 s interval asks for).  Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _proc import cpu_and_hwm, tree  # noqa: E402

from agent.demo import hostile  # noqa: E402
from agent.demo.dnsserver import DnsServer  # noqa: E402

HTTP_INTERVAL = 5.0
ZONE = "soak.gov.cn"


def proc_figures(pid: int) -> tuple[float, float]:
    """(peak RSS MiB, CPU seconds) of ``pid`` and its children (worker processes)."""
    cpu, hwm, _ = cpu_and_hwm(tree(pid))
    return hwm / 2**20, cpu


async def healthy_app(links: list[str]) -> web.Application:
    page = "<html><head><title>政府网站</title></head><body><ul>" + "".join(
        f'<li><a href="{u}">通知{i}</a><span>2026-12-0{1 + i % 5}</span></li>' for i, u in enumerate(links)
    )
    page += "</ul><p>网站标识码4405070001 粤ICP备05080455号</p></body></html>"

    async def handler(request: web.Request) -> web.Response:
        if request.path.startswith("/a"):
            return web.Response(text="ok", content_type="text/html")
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def feeds_app() -> web.Application:
    async def garbage(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\xff<rss" * 5000, content_type="application/rss+xml")

    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await resp.prepare(request)
        chunk = b"<item><title>x</title></item>" * 2000
        while True:
            await resp.write(chunk)

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(body=hostile.gzip_bomb_bytes(64), headers={"Content-Encoding": "gzip"})

    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response()

    app = web.Application()
    for path, fn in (("/garbage", garbage), ("/endless", endless), ("/bomb", bomb), ("/silent", silent)):
        app.router.add_get(path, fn)
    return app


async def scraper(url: str, until: float, latencies: list[float], errors: list[str]) -> None:
    async with aiohttp.ClientSession(headers={"Accept-Encoding": "gzip"}) as http:
        while time.monotonic() < until:
            t0 = time.perf_counter()
            try:
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=30)) as r:
                    await r.read()
                    if r.status != 200:
                        errors.append(f"HTTP {r.status}")
                latencies.append(time.perf_counter() - t0)
            except (aiohttp.ClientError, TimeoutError) as e:
                errors.append(type(e).__name__)


async def checks_of(url: str, codes: set[str]) -> dict[str, float]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        text = await r.text()
    out = {}
    for line in text.splitlines():
        if line.startswith("xuncha_http_checks_total{"):
            code = line.split('code="', 1)[1].split('"', 1)[0]
            if code in codes:
                out[code] = float(line.rsplit(" ", 1)[1])
    return out


async def main_async(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="xuncha-soak-"))
    servers: list[hostile.Served] = []
    dns = DnsServer({})
    await dns.start()

    def name(label: str) -> str:
        host = f"{label}.{ZONE}"
        dns.set(host, ["127.0.0.1"])
        return host

    tarpit = await hostile.silent()
    servers.append(tarpit)
    tarpit_links = [tarpit.url_for(name("tarpit"), f"/t{i}.html") for i in range(40)]
    sites: list[tuple[str, str]] = []  # (code, url)
    healthy_codes: set[str] = set()
    for i in range(args.healthy):
        served = await hostile.serve_app(await healthy_app([f"/a{j}.html" for j in range(20)]))
        servers.append(served)
        code = f"440507{i:04d}"  # 汕头市龙湖区
        healthy_codes.add(code)
        sites.append((code, served.url_for(name(f"ok{i}"))))
    for i in range(args.tarpit_pages):
        served = await hostile.serve_app(await healthy_app(tarpit_links))
        servers.append(served)
        sites.append((f"440511{i:04d}", served.url_for(name(f"pit{i}"))))  # 金平区
    hostile_servers = {
        "silent": hostile.silent(),
        "reset": hostile.reset(),
        "slow": hostile.slow(delay=30),
        "endless": hostile.endless_body(),
        "bomb": hostile.gzip_bomb(),
        "loop": hostile.redirect_loop(),
        "headers": hostile.huge_headers(),
        "tlsgarbage": hostile.tls_garbage(),
        "utf8": hostile.invalid_utf8(),
    }
    for i, (label, start) in enumerate(hostile_servers.items()):
        served = await start
        servers.append(served)
        sites.append((f"440512{i:04d}", served.url_for(name(label))))  # 濠江区
    feeds = await hostile.serve_app(await feeds_app())
    servers.append(feeds)
    feed_host = name("rsshub")
    accounts = [(f"feed-{kind}-{i}", f"http://{feed_host}:{feeds.port}/{kind}") for kind in
                ("garbage", "endless", "bomb", "silent") for i in range(5)]  # fmt: skip

    port = hostile.free_port()
    rows = "".join(f'  - {{code: "{c}", name: 站点{c}, url: "{u}"}}\n' for c, u in sites)
    acc = "".join(f'  - {{id: {a}, unit: 测试单位, platform: weibo, name: {a}, feed: "{u}"}}\n' for a, u in accounts)
    (tmp / "xuncha.yml").write_text(
        f'listen: "127.0.0.1:{port}"\nstate_dir: {tmp / "state"}\n'
        f'dns: {{nameservers: ["{dns.address}"], timeout: 2s}}\n'
        f"intervals: {{http: {HTTP_INTERVAL:g}s, dns: 30s, tls: 1h, content: 20s, links: 30s, feed: 20s}}\n"
        "http: {timeout: 15s}\ncontent: {timeout: 15s}\n"
        "links: {timeout: 10s, allow_networks: [127.0.0.0/8]}\n"
        f"concurrency: {{total: 64, per_host: 4, hosts: {{{feed_host}: 16}}}}\n"
        "sites:\n" + rows + "accounts:\n" + acc,
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "agent", "run", "-c", str(tmp / "xuncha.yml"),
        stdout=asyncio.subprocess.DEVNULL, stderr=(tmp / "agent.log").open("wb"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        t0 = time.monotonic()
        while True:
            try:
                async with aiohttp.ClientSession() as http, http.get(url) as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                if proc.returncode is not None:
                    raise SystemExit(f"the agent exited: see {tmp / 'agent.log'}") from None
                await asyncio.sleep(0.2)
        ready = time.monotonic() - t0
        start = await checks_of(url, healthy_codes)
        t_start = time.monotonic()
        latencies: list[float] = []
        errors: list[str] = []
        until = time.monotonic() + args.seconds
        await asyncio.gather(*(scraper(url, until, latencies, errors) for _ in range(args.scrapers)))
        elapsed = time.monotonic() - t_start
        end = await checks_of(url, healthy_codes)
        hwm, cpu = proc_figures(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
        for s in servers:
            await s.close()
        await dns.close()
    done = sum(end.get(c, 0) - start.get(c, 0) for c in healthy_codes)
    due = len(healthy_codes) * elapsed / HTTP_INTERVAL
    lat = sorted(latencies)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    print(
        f"world: {args.healthy} healthy sites, {args.tarpit_pages} homepages full of tarpit links, "
        f"{len(hostile_servers)} hostile sites, {len(accounts)} hostile feeds; {args.scrapers} scrapers "
        f"for {elapsed:.0f} s"
    )
    print("| figure | value |\n|---|---|")
    print(f"| agent ready | {ready:.1f} s |")
    print(f"| agent peak RSS (VmHWM) | {hwm:.0f} MiB |")
    print(f"| agent CPU over the run | {cpu:.1f} s ({cpu / (elapsed + ready):.2f} cores) |")
    print(f"| /metrics scrapes | {len(lat)} ok, {len(errors)} failed |")
    if lat:
        print(
            f"| /metrics latency p50 / p99 / max | {statistics.median(lat) * 1000:.0f} / {p99 * 1000:.0f} / "
            f"{lat[-1] * 1000:.0f} ms |"
        )
    print(f"| healthy sites' visits done / due (5 s interval) | {done:.0f} / {due:.0f} ({done / due:.0%}) |")


def main() -> int:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # the agent cutting endless bodies short
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--healthy", type=int, default=40)
    ap.add_argument("--tarpit-pages", type=int, default=60)
    ap.add_argument("--scrapers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=90)
    asyncio.run(main_async(ap.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
