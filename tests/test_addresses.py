"""Link and redirect safety (issue 10, item 2): decided on the resolved address, never the name.

The policy alone is pure (``probes.addresses``).  Wired in, it is tested with the project's
own DNS server answering non-public addresses for innocent-looking names, and a canary
server on 127.0.0.2 that must receive nothing — and, so that the tests can fail, does
receive the requests once ``links.allow_networks`` lets them through.  No traffic is ever
sent to the private, link-local or CGNAT addresses named here: the policy refuses them
before a connection is made (the canary cases prove that path on loopback).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.hostile import free_port
from agent.registry.config import ConfigError, loads
from agent.run.state import StateStore
from probes import http, links
from probes.addresses import Policy, allowed, category, policy_of
from probes.context import ProbeContext
from probes.net import Network

HOST = "www.lh.gov.cn"
CANARY = "127.0.0.2"  # loopback, but not the sites' address: non-public and not trusted


# --- the policy, pure ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local (cloud metadata service)"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared address space (CGNAT 100.64.0.0/10)"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("fd12::1", "private"),
        ("::ffff:10.0.0.1", "private"),
    ],
)
def test_a_non_public_address_is_refused_with_its_kind(address: str, why: str) -> None:
    assert category(address) == why
    reason = allowed(address, Policy())
    assert reason is not None and why in reason and "links.allow_networks" in reason


@pytest.mark.parametrize("address", ["202.96.128.86", "114.114.114.114", "2400:3200::1"])
def test_a_public_address_is_allowed(address: str) -> None:
    assert allowed(address, Policy()) is None


def test_allow_networks_and_the_homepage_address_let_a_private_address_through() -> None:
    policy = Policy(allow_networks=(ipaddress.ip_network("10.20.0.0/16"),))
    assert allowed("10.20.3.4", policy) is None
    assert allowed("10.21.3.4", policy) is not None
    assert allowed("192.168.5.5", policy.trusting(["192.168.5.5"])) is None
    assert allowed("192.168.5.6", policy.trusting(["192.168.5.5"])) is not None


def test_the_agents_own_listen_address_is_never_allowed_not_even_when_trusted() -> None:
    policy = policy_of([ipaddress.ip_network("127.0.0.0/8")], "0.0.0.0:9725").trusting(["127.0.0.1"])
    assert "own listen address" in (allowed("127.0.0.1", policy, 9725) or "")
    assert allowed("127.0.0.1", policy, 8080) is None  # the homepage's address, another port
    assert "own listen address" in (allowed("10.0.0.5", policy_of([], "10.0.0.5:9725"), 9725) or "")


def test_allow_networks_is_parsed_and_bad_entries_are_named() -> None:
    cfg = loads('links: {allow_networks: ["10.20.0.0/16", "192.168.1.7"]}\n')
    assert cfg.links.allow_networks == (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("192.168.1.7/32"))
    with pytest.raises(ConfigError) as e:
        loads('links: {allow_networks: ["10.20.0.1/16", "intranet"]}\n')
    text = str(e.value)
    assert "links.allow_networks" in text and "'10.20.0.1/16'" in text


# --- wired in: a loopback DNS zone answering hostile addresses, a canary that must hear nothing --


class Canary:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[f"{request.method} {request.path}"] += 1
        return web.Response(text="internal")


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    c = Canary()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", c.handle)
    async with await hostile.serve_app(app, host=CANARY) as served:
        c.port = served.port
        yield c


class Site:
    def __init__(self) -> None:
        self.home = ""
        self.redirect = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/go" and self.redirect:
            raise web.HTTPFound(self.redirect)
        if request.path == "/":
            return web.Response(text=self.home, content_type="text/html")
        return web.Response(text="fine")


@pytest.fixture
async def site() -> AsyncIterator[tuple[Site, int]]:
    s = Site()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", s.handle)
    async with await hostile.serve_app(app) as served:
        yield s, served.port


@pytest.fixture
async def zone() -> AsyncIterator[DnsServer]:
    server = DnsServer(
        records={
            HOST: ["127.0.0.1"],
            "intranet.lh.gov.cn": [CANARY],  # an innocent name for an internal address
            "metadata.lh.gov.cn": ["169.254.169.254"],
            "oa.lh.gov.cn": ["10.9.8.7"],
            "cgnat.lh.gov.cn": ["100.64.1.1"],
        }
    )
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


def _ctx(
    zone: DnsServer,
    port: int,
    nets: list[Network],
    allow: str = "[]",
    listen: str = "127.0.0.1:9725",
    url: str | None = None,
) -> tuple[Any, ProbeContext]:
    cfg = loads(f"""
listen: "{listen}"
dns: {{nameservers: ["{zone.address}"]}}
links: {{timeout: 2s, allow_networks: {allow}}}
sites:
  - {{code: "4405070010", name: 龙湖区, url: "{url or f"http://{HOST}:{port}/"}"}}
""")
    net = Network(cfg.dns, cfg.tls, cfg.http, policy=policy_of(cfg.links.allow_networks, cfg.listen))
    nets.append(net)
    return cfg, ProbeContext(config=cfg, net=net, state=StateStore(None))


async def test_links_to_internal_addresses_are_broken_and_never_requested(
    site: tuple[Site, int], canary: Canary, zone: DnsServer, nets: list[Network]
) -> None:
    page, port = site
    page.redirect = f"http://{CANARY}:{canary.port}/via-redirect"
    agent_port = free_port()
    own = f"http://{HOST}:{agent_port}/metrics"  # the homepage's address, but the agent's port
    page.home = (
        f"<a href=http://intranet.lh.gov.cn:{canary.port}/oa>内网</a>"  # a name resolving inside
        f"<img src=http://{CANARY}:{canary.port}/pixel.png>"  # an IP literal, as an image
        "<a href=/go>跳转</a>"  # a same-site link redirecting inside
        f"<a href={own}>自身</a>"
        "<a href=http://metadata.lh.gov.cn/latest/meta-data/>元数据</a>"
        "<a href=http://oa.lh.gov.cn/>OA</a><a href=http://cgnat.lh.gov.cn/>CGNAT</a>"
        "<a href=/fine.html>正常</a>"
    )
    cfg, ctx = _ctx(zone, port, nets, listen=f"0.0.0.0:{agent_port}")
    r = await links.probe(cfg.sites[0], ctx)
    reasons = {b["url"]: b["reason"] for b in r.broken_links}
    assert r.success and r.checked == 8 and r.broken == 7, reasons
    assert "loopback" in reasons[f"http://intranet.lh.gov.cn:{canary.port}/oa"]
    assert "loopback" in reasons[f"http://{CANARY}:{canary.port}/pixel.png"]
    assert reasons[f"http://{HOST}:{port}/go"].startswith("blocked: redirect to ")
    assert "own listen address" in reasons[own]
    assert "cloud metadata" in reasons["http://metadata.lh.gov.cn/latest/meta-data/"]
    assert "private" in reasons["http://oa.lh.gov.cn/"]
    assert "CGNAT" in reasons["http://cgnat.lh.gov.cn/"]
    assert all(why.startswith("blocked: ") for why in reasons.values())
    assert canary.hits == Counter()


async def test_allow_networks_lets_the_same_links_through(
    site: tuple[Site, int], canary: Canary, zone: DnsServer, nets: list[Network]
) -> None:
    page, port = site
    page.redirect = f"http://{CANARY}:{canary.port}/via-redirect"
    page.home = (
        f"<a href=http://intranet.lh.gov.cn:{canary.port}/oa>内网</a>"
        f"<img src=http://{CANARY}:{canary.port}/pixel.png><a href=/go>跳转</a>"
    )
    cfg, ctx = _ctx(zone, port, nets, allow=f'["{CANARY}/32"]')
    r = await links.probe(cfg.sites[0], ctx)
    assert (r.checked, r.broken) == (3, 0), r.broken_links
    assert canary.hits == Counter({"HEAD /oa": 1, "HEAD /pixel.png": 1, "HEAD /via-redirect": 1})


async def test_a_homepage_redirecting_inside_fails_the_visit(
    site: tuple[Site, int], canary: Canary, zone: DnsServer, nets: list[Network]
) -> None:
    page, port = site
    page.redirect = f"http://intranet.lh.gov.cn:{canary.port}/"
    cfg, ctx = _ctx(zone, port, nets, url=f"http://{HOST}:{port}/go")
    r = await http.probe(cfg.sites[0], ctx)
    assert not r.success and r.reason.startswith("blocked: redirect to intranet.lh.gov.cn: 127.0.0.2 is a loopback")
    assert canary.hits == Counter()


async def test_registry_targets_and_same_address_redirects_are_trusted_as_configured(
    site: tuple[Site, int], canary: Canary, zone: DnsServer, nets: list[Network]
) -> None:
    page, port = site
    page.redirect = f"http://{HOST}:{port}/elsewhere"  # same site: its homepage's own address
    cfg, ctx = _ctx(zone, port, nets, url=f"http://{HOST}:{port}/go")
    assert (await http.probe(cfg.sites[0], ctx)).success
    # a homepage the registry puts on an internal address is visited as configured
    cfg, ctx = _ctx(zone, port, nets, url=f"http://intranet.lh.gov.cn:{canary.port}/")
    r = await http.probe(cfg.sites[0], ctx)
    assert r.success and canary.hits == Counter({"GET /": 1})
