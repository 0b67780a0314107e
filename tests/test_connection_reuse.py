"""Keep-alive connections (issue 12): reused where the measurement allows, never past the guard.

Real loopback servers count the connections they accept (distinct client ports); a canary on
127.0.0.2 (loopback, not trusted) records every request that reaches it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.registry.config import Config, loads
from agent.run.state import StateStore
from probes import content_probe, feed, http, links
from probes.addresses import Guard, Policy, policy_of
from probes.context import ProbeContext
from probes.net import Failure, Network

HOST = "www.lh.gov.cn"
CANARY = "127.0.0.2"


class Server:
    """Counts connections (by client port) and requests per path."""

    def __init__(self, redirect: str = "") -> None:
        self.ports: set[int] = set()
        self.hits: Counter[str] = Counter()
        self.redirect = redirect
        self.port = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.ports.add(peer[1])
        self.hits[f"{request.method} {request.path}"] += 1
        if request.path == "/go" and self.redirect:
            raise web.HTTPFound(self.redirect)
        if request.path.startswith("/rss/"):
            return web.Response(
                text="<rss version='2.0'><channel><title>t</title><item><title>a</title>"
                "<link>https://weibo.com/1/1</link><pubDate>Mon, 30 Nov 2026 08:00:00 +0800</pubDate></item>"
                "</channel></rss>",
                content_type="application/rss+xml",
            )
        return web.Response(text="<html><body><p>龙湖区人民政府</p></body></html>", content_type="text/html")


async def _serve(server: Server, host: str = "127.0.0.1") -> AsyncIterator[Server]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    async with await hostile.serve_app(app, host=host) as served:
        server.port = served.port
        yield server


@pytest.fixture
async def site() -> AsyncIterator[Server]:
    async for s in _serve(Server()):
        yield s


@pytest.fixture
async def canary() -> AsyncIterator[Server]:
    async for s in _serve(Server(), host=CANARY):
        yield s


@pytest.fixture
async def zone() -> AsyncIterator[DnsServer]:
    server = DnsServer(records={HOST: ["127.0.0.1"], "intranet.lh.gov.cn": [CANARY]})
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def nets() -> AsyncIterator[list[Network]]:
    made: list[Network] = []
    yield made
    for n in made:
        await n.close()


def _ctx(zone: DnsServer, nets: list[Network], port: int, columns: int = 0) -> tuple[Config, ProbeContext]:
    cols = ", ".join(f"{{name: 栏目{i}, url: 'http://{HOST}:{port}/col{i}/'}}" for i in range(columns))
    cfg = loads(f"""
listen: "127.0.0.1:9725"
dns: {{nameservers: ["{zone.address}"]}}
links: {{timeout: 2s}}
feeds: {{rsshub: "http://{HOST}:{port}", routes: {{weibo: "/rss/{{uid}}"}}}}
sites:
  - {{code: "4405070010", name: 龙湖区, url: "http://{HOST}:{port}/", columns: [{cols}]}}
accounts:
  - {{id: a1, unit: 龙湖区政府, platform: weibo, name: 龙湖发布, uid: "1"}}
  - {{id: a2, unit: 龙湖区政府, platform: weibo, name: 龙湖发布2, uid: "2"}}
""")
    net = Network(cfg.dns, cfg.tls, cfg.http, policy=policy_of(cfg.links.allow_networks, cfg.listen))
    nets.append(net)
    return cfg, ProbeContext(config=cfg, net=net, state=StateStore(None))


async def test_two_content_fetches_to_one_host_use_one_connection(
    site: Server, zone: DnsServer, nets: list[Network]
) -> None:
    _, ctx = _ctx(zone, nets, site.port)
    first = await ctx.net.fetch(f"http://{HOST}:{site.port}/", reuse=True)
    second = await ctx.net.fetch(f"http://{HOST}:{site.port}/col0/", reuse=True)
    assert first.ok and second.ok, (first.error, second.error)
    assert site.hits == Counter({"GET /": 1, "GET /col0/": 1})
    assert len(site.ports) == 1
    assert second.address == "127.0.0.1"


async def test_a_content_probe_of_five_pages_takes_at_most_two_connections(
    site: Server, zone: DnsServer, nets: list[Network]
) -> None:
    cfg, ctx = _ctx(zone, nets, site.port, columns=4)
    result = await content_probe.probe(cfg.sites[0], ctx)
    assert sum(site.hits.values()) == 5, site.hits
    assert result.url == cfg.sites[0].url
    assert 1 <= len(site.ports) <= content_probe.COLUMNS_AT_ONCE


async def test_feeds_of_one_rsshub_share_a_connection(site: Server, zone: DnsServer, nets: list[Network]) -> None:
    cfg, ctx = _ctx(zone, nets, site.port)
    for account in cfg.accounts:
        result = await feed.probe(account, ctx)
        assert result.success, result.reason
    assert site.hits == Counter({"GET /rss/1": 1, "GET /rss/2": 1})
    assert len(site.ports) == 1


async def test_the_availability_visit_stays_a_fresh_connection(
    site: Server, zone: DnsServer, nets: list[Network]
) -> None:
    cfg, ctx = _ctx(zone, nets, site.port)
    await ctx.net.fetch(f"http://{HOST}:{site.port}/col0/", reuse=True)  # a pooled connection is there
    for _ in range(2):
        result = await http.probe(cfg.sites[0], ctx)
        assert result.success, result.reason
    assert len(site.ports) == 3


async def test_a_link_check_cannot_reach_a_loopback_canary_through_a_pooled_connection(
    canary: Server, zone: DnsServer, nets: list[Network]
) -> None:
    _, ctx = _ctx(zone, nets, canary.port)
    url = f"http://intranet.lh.gov.cn:{canary.port}/oa"
    # A registry target on the canary's address (trusted as configured) leaves a pooled connection.
    trusted = await ctx.net.fetch(url, reuse=True)
    assert trusted.ok, trusted.error
    assert canary.hits == Counter({"GET /oa": 1})
    # A link to the same host, found on some page: refused, over a pooled connection or a new one.
    assert ctx.net.policy is not None
    outcome = await links.check(ctx.net, url, timeout=2.0, policy=ctx.net.policy)
    assert not outcome.ok and "loopback" in outcome.reason, outcome
    assert canary.hits == Counter({"GET /oa": 1})  # the canary heard nothing more


async def test_a_reused_connection_is_judged_again_by_the_guard_of_the_fetch_reusing_it(
    site: Server, canary: Server, zone: DnsServer, nets: list[Network]
) -> None:
    """Within the registry's pool: a homepage redirecting to the canary's host must not ride on
    the connection that a trusted fetch of that host left in the pool."""
    _, ctx = _ctx(zone, nets, site.port)
    inside = f"http://intranet.lh.gov.cn:{canary.port}/oa"
    site.redirect = inside
    assert (await ctx.net.fetch(inside, reuse=True)).ok  # pooled, admitted as a registry target
    redirected = await ctx.net.fetch(f"http://{HOST}:{site.port}/go", reuse=True)
    assert redirected.failure == Failure.BLOCKED, redirected
    assert canary.hits == Counter({"GET /oa": 1})


async def test_link_checks_whose_policy_has_exceptions_are_not_pooled(
    site: Server, zone: DnsServer, nets: list[Network]
) -> None:
    _, ctx = _ctx(zone, nets, site.port)
    assert ctx.net.policy is not None
    base = ctx.net.policy
    exceptional = base.trusting(["127.0.0.1"])  # a homepage on a loopback/intranet address
    assert exceptional.exceptions() == ("127.0.0.1",) and base.exceptions() == ()
    untrusted = Guard(exceptional, trust_first=False)
    assert ctx.net.session_for(untrusted, reuse=True) is ctx.net.session()
    assert ctx.net.session_for(Guard(base, trust_first=False), reuse=True) is not ctx.net.session()
    registry = ctx.net.session_for(Guard(base, trust_first=True), reuse=True)
    assert registry is not ctx.net.session_for(Guard(base, trust_first=False), reuse=True)
    for _ in range(2):
        assert (await links.check(ctx.net, f"http://{HOST}:{site.port}/a", 2.0, exceptional)).ok
    assert len(site.ports) == 2  # a fresh connection for each check


async def test_public_link_checks_share_connections(site: Server, zone: DnsServer, nets: list[Network]) -> None:
    _, ctx = _ctx(zone, nets, site.port)
    allow = Policy(allow_networks=loads("links: {allow_networks: ['127.0.0.0/8']}").links.allow_networks)
    for path in ("/a", "/b", "/c"):
        assert (await links.check(ctx.net, f"http://{HOST}:{site.port}{path}", 2.0, allow)).ok
    assert len(site.ports) == 1


async def test_a_keep_alive_connection_the_server_drops_is_retried_once_on_a_fresh_one(
    zone: DnsServer, nets: list[Network]
) -> None:
    """Servers close idle keep-alive connections when they like (Apache after 5 s): a request that
    meets such a close is asked again on a new connection (aiohttp does it, RFC 9112), as a browser
    does — not reported as a failure of the site."""
    import asyncio

    connections = 0
    requests = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, requests
        connections += 1
        answered = 0
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            requests += 1
            if answered:  # the second request on a connection: drop it unanswered
                break
            answered += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        _, ctx = _ctx(zone, nets, port)
        first = await ctx.net.fetch(f"http://{HOST}:{port}/", reuse=True)
        second = await ctx.net.fetch(f"http://{HOST}:{port}/col0/", reuse=True)
    finally:
        server.close()
    assert first.ok and second.ok, (first.error, second.error)
    assert (connections, requests) == (2, 3)
