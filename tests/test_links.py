"""The links probe against loopback servers: what is broken, what is not, and the bounds."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.registry.config import Config, loads
from agent.run.state import StateStore
from probes import links
from probes.context import ProbeContext
from probes.net import Network
from probes.results import LinksResult

HOST = "www.lh.gov.cn"


class Server:
    def __init__(self) -> None:
        self.home = ""
        self.hits: Counter[tuple[str, str]] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.base = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        self.hits[(method, path)] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(path, method)
        finally:
            self.in_flight -= 1

    async def _answer(self, path: str, method: str) -> web.StreamResponse:
        if path == "/":
            return web.Response(text=self.home, content_type="text/html", charset="gbk")
        if path == "/loop":
            raise web.HTTPFound("/loop")
        if path == "/slow.html":
            await asyncio.sleep(5)
        if path.startswith("/busy"):
            await asyncio.sleep(0.05)
            return web.Response(text="ok")
        if path == "/no-head.html" and method == "HEAD":
            return web.Response(status=405)
        if path == "/head-404.pdf" and method == "HEAD":
            return web.Response(status=404)  # a server that mishandles HEAD; GET works
        if path in ("/missing.html", "/img/gone.png"):
            return web.Response(status=404, text="not found")
        if path == "/error.html":
            return web.Response(status=500, text="error")
        if path == "/big.zip":
            return web.Response(body=b"z" * 3_000_000, content_type="application/zip")
        return web.Response(text="fine page", content_type="text/html")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", s.handle)
    async with await hostile.serve_app(app) as served:
        s.base = f"http://{HOST}:{served.port}"
        yield s


@pytest.fixture
async def dns() -> AsyncIterator[DnsServer]:
    server = DnsServer(records={HOST: ["127.0.0.1"], "other.lh.gov.cn": ["127.0.0.1"]})
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def config(server: Server, dns: DnsServer, **links_cfg: Any) -> Config:
    opts = {"timeout": "1s", **links_cfg}
    section = ", ".join(f"{k}: {v}" for k, v in opts.items())
    return loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
links: {{{section}}}
sites:
  - {{code: "4405070010", name: 龙湖区, url: "{server.base}/"}}
  - {{code: "4405070020", name: 龙湖区某局, url: "{server.base.replace(HOST, "other.lh.gov.cn")}/"}}
""")


@pytest.fixture
async def probe() -> AsyncIterator[Any]:
    nets: list[Network] = []
    shared: list[links.LinkChecks] = []  # one cache for the test's runs, as the agent keeps one

    async def run(cfg: Config, site: int = 0, net: Network | None = None) -> LinksResult:
        if net is None:
            net = Network(cfg.dns, cfg.tls, cfg.http)
            nets.append(net)
        checks = shared[0].with_bounds(cfg.links) if shared else links.LinkChecks.of(cfg.links)
        shared[:] = [checks]
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(None), links=checks)
        return await links.probe(cfg.sites[site], ctx)

    yield run
    for net in nets:
        await net.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_broken_links_are_found_with_their_reason(server: Server, dns: DnsServer, probe: Any) -> None:
    refused = f"http://127.0.0.1:{closed_port()}/x.html"
    server.home = (
        "<a href=/ok.html>好</a><a href=/no-head.html>只许GET</a><a href=/head-404.pdf>附件</a><a href=/big.zip>大附件</a>"
        "<a href=/missing.html>缺</a><a href=/error.html>错</a><img src=/img/gone.png><a href=/loop>环</a>"
        f"<a href={refused}>拒</a><a href=http://nowhere.lh.gov.cn/>无</a><a href=/slow.html>慢</a>"
        "<script src=/s.js></script><link rel=stylesheet href=/c.css><a href='mailto:x@lh.gov.cn'>信</a>"
        "<a href='javascript:void(0)'>空</a><a href=#top>顶</a><a href=tel:12345>电</a>"
    )
    r = await probe(config(server, dns))
    assert r.success and r.checked == 13 and r.found == 13 and not r.capped
    reasons = {b["url"].removeprefix(server.base): (b["status"], b["reason"].split(":")[0]) for b in r.broken_links}
    assert reasons == {
        "/missing.html": (404, "HTTP 404"),
        "/error.html": (500, "HTTP 500"),
        "/img/gone.png": (404, "HTTP 404"),
        "/loop": (None, "redirect loop"),
        refused: (None, "connect"),
        "http://nowhere.lh.gov.cn/": (None, "dns"),
        "/slow.html": (None, "timeout"),
    }
    assert r.broken == 7 and all(b["found_on"] == server.base + "/" for b in r.broken_links)
    assert server.hits[("GET", "/no-head.html")] == 1 and server.hits[("GET", "/ok.html")] == 0  # HEAD sufficed


async def test_a_clean_homepage_has_no_broken_link(server: Server, dns: DnsServer, probe: Any) -> None:
    server.home = "<a href=/ok.html>好</a><img src=/i.png><a href=/f/guide.docx>办事指南</a>"
    r = await probe(config(server, dns))
    assert (r.success, r.checked, r.broken, r.reason) == (True, 3, 0, "")


async def test_links_shared_by_sites_are_checked_once(server: Server, dns: DnsServer, probe: Any) -> None:
    server.home = f"<a href={server.base}/shared.html>国务院</a>"
    cfg = config(server, dns)
    first, second = await probe(cfg, 0), await probe(cfg, 1)
    assert first.checked == second.checked == 1
    assert server.hits[("HEAD", "/shared.html")] == 1 and second.details["cached"] == 1


async def test_a_hundred_thousand_links_are_capped_with_a_reason(server: Server, dns: DnsServer, probe: Any) -> None:
    server.home = "".join(f"<a href=/p{i}.html>x</a>" for i in range(100_000))
    r = await asyncio.wait_for(probe(config(server, dns, max_links=20)), 20)
    assert r.checked == 20 and r.capped and r.found == 100_000
    assert "100000 links on the homepage: checked the first 20" in r.reason


async def test_checks_are_bounded_per_host(server: Server, dns: DnsServer, probe: Any) -> None:
    server.home = "".join(f"<a href=/busy{i}.html>x</a>" for i in range(30))
    r = await probe(config(server, dns, per_host=2, total=10))
    assert r.checked == 30 and r.broken == 0
    assert server.max_in_flight == 2  # the homepage fetch is over before the checks start


async def test_an_unreachable_homepage_is_a_failed_probe(server: Server, dns: DnsServer, probe: Any) -> None:
    cfg = loads(f"""
dns: {{nameservers: ["{dns.address}"]}}
sites:
  - {{code: "4405070010", name: 龙湖区, url: "http://127.0.0.1:{closed_port()}/"}}
""")
    r = await probe(cfg)
    assert not r.success and r.reason.startswith("homepage: connect") and r.checked == 0
