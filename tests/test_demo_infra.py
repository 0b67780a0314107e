"""The loopback world itself: DNS server, CA, hostile servers and the demo fleet do what they claim."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import re
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.nameserver
import dns.rcode
import dns.resolver
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.fleet import EXPIRING_DAYS, STALE_DAYS, WRONG_HOST_CERT, DemoSite, Fleet
from agent.demo.pki import Pki, self_signed_ssl_context
from agent.registry.config import loads
from agent.run.state import StateStore
from domain.divisions import division_known
from probes import content_probe
from probes import http as http_probe
from probes.context import ProbeContext
from probes.net import Network

HOST = "www.longhu.gov.cn"


def resolver_for(server: DnsServer, *, lifetime: float = 1.0) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers = [dns.nameserver.Do53Nameserver(server.host, server.port)]
    r.lifetime = lifetime
    r.timeout = lifetime
    return r


# --- DNS ---------------------------------------------------------------------------


async def test_a_name_in_the_zone_answers_a_and_aaaa(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1", "::1"])
    r = resolver_for(dns_server)
    assert [x.to_text() for x in await r.resolve(HOST, "A")] == ["127.0.0.1"]
    assert [x.to_text() for x in await r.resolve(HOST, "AAAA")] == ["::1"]


async def test_names_are_case_insensitive_and_the_trailing_dot_optional(dns_server: DnsServer) -> None:
    dns_server.set("WWW.Longhu.gov.cn.", ["127.0.0.2"])
    r = resolver_for(dns_server)
    assert [x.to_text() for x in await r.resolve("www.LONGHU.gov.cn", "A")] == ["127.0.0.2"]


async def test_an_unknown_name_is_nxdomain_with_an_soa(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    q = dns.message.make_query("nope.longhu.gov.cn", "A")
    reply = await dns.asyncquery.udp(q, dns_server.host, port=dns_server.port, timeout=1)
    assert reply.rcode() == dns.rcode.NXDOMAIN
    assert reply.flags & dns.flags.AA
    assert [rr.rdtype for rr in reply.authority] == [dns.rdatatype.SOA]
    with pytest.raises(dns.resolver.NXDOMAIN):
        await resolver_for(dns_server).resolve("nope.longhu.gov.cn", "A")


async def test_a_name_without_that_family_answers_nodata(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    with pytest.raises(dns.resolver.NoAnswer):
        await resolver_for(dns_server).resolve(HOST, "AAAA")


async def test_servfail_fault_and_healing(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    dns_server.fault(HOST, "servfail")
    with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
        await resolver_for(dns_server).resolve(HOST, "A")
    dns_server.fault(HOST, None)
    assert [x.to_text() for x in await resolver_for(dns_server).resolve(HOST, "A")] == ["127.0.0.1"]


async def test_refused_fault(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    dns_server.fault(HOST, "refused")
    reply = await dns.asyncquery.udp(dns.message.make_query(HOST, "A"), "127.0.0.1", port=dns_server.port, timeout=1)
    assert reply.rcode() == dns.rcode.REFUSED


async def test_drop_fault_never_answers_but_other_names_do(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    dns_server.set("www.st.gov.cn", ["127.0.0.1"])
    dns_server.fault(HOST, "drop")
    start = time.monotonic()
    with pytest.raises(dns.exception.Timeout):
        await resolver_for(dns_server, lifetime=0.3).resolve(HOST, "A")
    assert time.monotonic() - start >= 0.25
    assert await resolver_for(dns_server).resolve("www.st.gov.cn", "A")


async def test_runtime_changes_are_seen_at_once(dns_server: DnsServer) -> None:
    r = resolver_for(dns_server)
    dns_server.set(HOST, ["127.0.0.1"])
    assert [x.to_text() for x in await r.resolve(HOST, "A")] == ["127.0.0.1"]
    dns_server.set(HOST, ["127.0.0.9"])  # the answer cache must not keep the old address
    assert [x.to_text() for x in await r.resolve(HOST, "A")] == ["127.0.0.9"]
    dns_server.remove(HOST)
    with pytest.raises(dns.resolver.NXDOMAIN):
        await r.resolve(HOST, "A")


async def test_tcp_answers_and_big_answers_truncate_over_udp(dns_server: DnsServer) -> None:
    many = [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100)]
    dns_server.set(HOST, many)
    q = dns.message.make_query(HOST, "A", use_edns=False)
    udp = await dns.asyncquery.udp(q, "127.0.0.1", port=dns_server.port, timeout=1)
    assert udp.flags & dns.flags.TC and not udp.answer
    tcp = await dns.asyncquery.tcp(q, "127.0.0.1", port=dns_server.port, timeout=1)
    assert len(tcp.answer[0]) == 100
    # The resolver retries over TCP by itself.
    assert len(await resolver_for(dns_server).resolve(HOST, "A")) == 100


async def test_garbage_packets_do_not_stop_the_server(dns_server: DnsServer) -> None:
    dns_server.set(HOST, ["127.0.0.1"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"", b"\x00", b"\xff" * 11, bytes(range(256)) * 2, b"\x12\x34" + b"\x81\x80" + b"\x00" * 8):
            s.sendto(junk, ("127.0.0.1", dns_server.port))
    reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
    writer.write(b"\x00\x05hello\x00\x01")  # a framed garbage message, then a half frame
    await writer.drain()
    writer.close()
    assert [x.to_text() for x in await resolver_for(dns_server).resolve(HOST, "A")] == ["127.0.0.1"]


async def test_address_is_usable_as_a_configured_nameserver(dns_server: DnsServer, config_factory: Any) -> None:
    cfg = config_factory()
    assert cfg.dns.nameservers == (f"127.0.0.1:{dns_server.port}",)


# --- PKI -------------------------------------------------------------------------


async def _peer_cert(url: str, server_hostname: str, ctx: ssl.SSLContext) -> x509.Certificate:
    port = int(url.rsplit(":", 1)[1].strip("/"))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=server_hostname)
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    return x509.load_der_x509_certificate(der)


def _unverified() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_a_valid_certificate_verifies_against_the_ca_file(pki: Pki, site_factory: Any) -> None:
    url = await site_factory(_ok, tls=pki.valid(HOST))
    trusting = ssl.create_default_context(cafile=pki.ca_file)
    cert = await _peer_cert(url, HOST, trusting)
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=300)


async def test_an_expiring_certificate_verifies_and_ends_in_n_days(pki: Pki, site_factory: Any) -> None:
    url = await site_factory(_ok, tls=pki.expiring(HOST, days=10))
    cert = await _peer_cert(url, HOST, pki.client_ssl_context())
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=9, hours=23) < left <= dt.timedelta(days=10)


async def test_an_expired_certificate_fails_verification(pki: Pki, site_factory: Any) -> None:
    url = await site_factory(_ok, tls=pki.expired(HOST))
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        await _peer_cert(url, HOST, pki.client_ssl_context())
    assert (await _peer_cert(url, HOST, _unverified())).not_valid_after_utc < dt.datetime.now(dt.UTC)


async def test_a_certificate_for_another_host_fails_hostname_check(pki: Pki, site_factory: Any) -> None:
    url = await site_factory(_ok, tls=pki.wrong_host("www.other.gov.cn"))
    with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname mismatch"):
        await _peer_cert(url, HOST, pki.client_ssl_context())
    assert await _peer_cert(url, "www.other.gov.cn", pki.client_ssl_context())


async def test_a_self_signed_certificate_is_not_trusted(pki: Pki, site_factory: Any) -> None:
    url = await site_factory(_ok, tls=self_signed_ssl_context(HOST))
    with pytest.raises(ssl.SSLCertVerificationError, match="self.signed"):
        await _peer_cert(url, HOST, pki.client_ssl_context())
    cert = await _peer_cert(url, HOST, _unverified())
    assert cert.issuer == cert.subject


# --- hostile servers ----------------------------------------------------------------


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_silent_server_accepts_and_never_answers() -> None:
    async with await hostile.silent() as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)
        writer.close()


async def test_refused_port_refuses() -> None:
    async with await hostile.refused() as srv:
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", srv.port)


async def test_reset_server_resets() -> None:
    async with await hostile.reset() as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        writer.write(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            await writer.drain()
            await asyncio.wait_for(reader.read(1), 1)
            await asyncio.wait_for(reader.read(1), 1)  # pragma: no cover — the reset comes first


async def test_redirect_loop_never_settles(session: aiohttp.ClientSession) -> None:
    async with await hostile.redirect_loop() as srv:
        hops = []
        url = srv.url
        for _ in range(4):
            async with session.get(url, allow_redirects=False) as r:
                assert r.status == 302
                url = srv.url.rstrip("/") + r.headers["Location"]
                hops.append(r.headers["Location"])
        assert hops == ["/a", "/b", "/a", "/b"]
        with pytest.raises(aiohttp.TooManyRedirects):
            await session.get(srv.url + "chain/0", max_redirects=20)


async def test_endless_body_announces_2_gib_and_stops_when_the_client_leaves(session: aiohttp.ClientSession) -> None:
    srv = await hostile.endless_body()
    async with session.get(srv.url) as r:
        assert int(r.headers["Content-Length"]) == 2 * hostile.GIB
        got = 0
        async for chunk in r.content.iter_chunked(1 << 16):
            got += len(chunk)
            if got >= 8 << 20:
                break
    start = time.monotonic()
    await srv.close()
    assert time.monotonic() - start < 2


async def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(session: aiohttp.ClientSession) -> None:
    assert gzip.decompress(hostile.gzip_bomb_bytes(3)) == bytes(3 << 20)  # a valid stream, CRC and size
    async with await hostile.gzip_bomb() as srv:
        async with session.get(srv.url, auto_decompress=False) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            wire = int(r.headers["Content-Length"])
            assert wire < 2 << 20  # about 1 MB on the wire for 1 GiB inflated
            head = await r.content.read(1 << 16)
        inflated = gzip.GzipFile(fileobj=__import__("io").BytesIO(head)).read1(1 << 20)
        assert inflated and set(inflated) == {0}


async def test_invalid_utf8_page_claims_utf8_and_is_not(session: aiohttp.ClientSession) -> None:
    async with await hostile.invalid_utf8() as srv, session.get(srv.url) as r:
        assert r.charset == "utf-8"
        body = await r.read()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


async def test_slow_server_sends_headers_only_after_the_delay(session: aiohttp.ClientSession) -> None:
    async with await hostile.slow(0.5) as srv:
        with pytest.raises(TimeoutError):
            await session.get(srv.url, timeout=aiohttp.ClientTimeout(total=0.2))
        start = time.monotonic()
        async with session.get(srv.url, timeout=aiohttp.ClientTimeout(total=3)) as r:
            assert r.status == 200
        assert time.monotonic() - start >= 0.45


async def test_garbage_instead_of_a_tls_handshake(pki: Pki) -> None:
    async with await hostile.tls_garbage() as srv:
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            await asyncio.open_connection("127.0.0.1", srv.port, ssl=pki.client_ssl_context(), server_hostname=HOST)


async def test_status_server_answers_500(session: aiohttp.ClientSession) -> None:
    async with await hostile.status(500) as srv, session.get(srv.url + "any/path") as r:
        assert r.status == 500


async def test_huge_headers_send_a_megabyte_of_header_lines() -> None:
    async with await hostile.huge_headers() as srv:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port, limit=4 << 20)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert len(head) > 1 << 20


# --- the fleet ---------------------------------------------------------------------


class _ZoneResolver(AbstractResolver):
    """aiohttp resolution through the fleet's DNS server only (never the system's)."""

    def __init__(self, server: DnsServer) -> None:
        self.r = resolver_for(server)

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        answer = await self.r.resolve(host, "A")
        return [
            ResolveResult(hostname=host, host=a.to_text(), port=port, family=socket.AF_INET, proto=0, flags=0)
            for a in answer
        ]

    async def close(self) -> None:
        pass


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    async with Fleet.start(tmp_path, fast=True, feeds=None, slow_seconds=5) as f:
        yield f


@pytest.fixture
async def fleet_session(fleet: Fleet) -> AsyncIterator[aiohttp.ClientSession]:
    assert fleet.pki is not None
    conn = aiohttp.TCPConnector(resolver=_ZoneResolver(fleet.dns), ssl=fleet.pki.client_ssl_context(), force_close=True)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=1)) as s:
        yield s


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int | None, bytes, str]:
    try:
        async with session.get(url) as r:
            return r.status, await r.read(), ""
    except (aiohttp.ClientError, TimeoutError, OSError, dns.exception.DNSException) as e:
        return None, b"", f"{type(e).__name__}: {e}"


async def test_fleet_starts_and_closes_within_seconds(tmp_path: Path) -> None:
    start = time.monotonic()
    fleet = await Fleet.create(tmp_path, feeds=None)
    ports = [s.port for s in fleet.sites]
    await fleet.close()
    assert time.monotonic() - start < 5
    assert len(fleet.sites) >= 12 and all(ports)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", fleet.site("4451000001").port)


async def test_fleet_config_is_valid_and_points_at_the_fleet(fleet: Fleet) -> None:
    cfg = loads(fleet.config_yaml(), path=str(Path(fleet.state_dir) / "xuncha.yml"))
    assert cfg.dns.nameservers == (fleet.dns.address,)
    assert fleet.pki is not None and cfg.tls.ca_file == fleet.pki.ca_file
    assert cfg.intervals.http == 15
    assert [s.code for s in cfg.sites] == [s.code for s in fleet.sites]
    assert all(division_known(s.code[:6]) for s in cfg.sites)
    assert all(s.host.endswith(".gov.cn") for s in cfg.sites)
    assert all(c.url.startswith(s.url) for s in cfg.sites for c in s.columns)


async def test_only_slow_intervals_without_fast(tmp_path: Path) -> None:
    async with Fleet.start(tmp_path, feeds=None) as fleet:
        assert loads(fleet.config_yaml()).intervals.http == 300


async def test_fleet_sites_behave_as_their_expectations_say(fleet: Fleet, fleet_session: aiohttp.ClientSession) -> None:
    errors = {}
    for site in fleet.sites:
        status, _, error = await _get(fleet_session, site.url)
        assert (status is not None and status < 400) == site.expect_http_answer, (site.code, status, error)
        assert status == site.expect_http_status, (site.code, status, error)
        errors[site.code] = error
    assert "NXDOMAIN" in errors["1529000017"]
    assert "Timeout" in errors["4106000054"]  # the slow site
    assert "Connect" in errors["1402210003"]  # refused
    assert "CERTIFICATE_VERIFY_FAILED" in errors["5325280002"] and "expired" in errors["5325280002"]
    assert "CERTIFICATE_VERIFY_FAILED" in errors["3306830026"] and "mismatch" in errors["3306830026"].lower()


async def test_fleet_dns_answers_every_site_but_the_nxdomain_one(fleet: Fleet) -> None:
    r = resolver_for(fleet.dns)
    for site in fleet.sites:
        if site.expect_dns == "NXDOMAIN":
            with pytest.raises(dns.resolver.NXDOMAIN):
                await r.resolve(site.host, "A")
        else:
            assert [a.to_text() for a in await r.resolve(site.host, "A")] == ["127.0.0.1"]


async def test_fleet_certificates_match_their_expectations(fleet: Fleet) -> None:
    assert fleet.pki is not None
    now = dt.datetime.now(dt.UTC)
    seen = set()
    for site in fleet.sites:
        if site.expect_tls is None:
            continue
        seen.add(site.expect_tls)
        cert = await _peer_cert(site.url, site.host, _unverified())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
        after = cert.not_valid_after_utc
        if site.expect_tls == "expiring":
            assert now + dt.timedelta(days=EXPIRING_DAYS - 1) < after <= now + dt.timedelta(days=EXPIRING_DAYS)
        elif site.expect_tls == "expired":
            assert after < now
        elif site.expect_tls == "wrong_host":
            assert names == [WRONG_HOST_CERT] != [site.host]
        else:
            assert after > now + dt.timedelta(days=300) and names == [site.host]
    assert seen == {"valid", "expiring", "expired", "wrong_host"}


def _dates(text: str) -> list[dt.date]:
    found = re.findall(r"(\d{4})[-年/](\d{2})[-月/](\d{2})日?</span>", text)
    return [dt.date(int(y), int(m), int(d)) for y, m, d in found]


async def test_homepages_carry_todays_date_and_dated_items(fleet: Fleet, fleet_session: aiohttp.ClientSession) -> None:
    today = dt.date.today()
    for site in fleet.sites:
        if not site.expect_http_ok:
            continue
        _, body, _ = await _get(fleet_session, site.url)
        text = body.decode("gbk" if site.encoding == "gbk" else "utf-8")
        assert f"今天是：{today.year}年{today.month}月{today.day}日" in text
        newest = max(_dates(text))
        age = (today - newest).days
        assert (age > 14) == site.expect_homepage_stale, (site.code, age)
    stale = fleet.site("1307320007")
    _, body, _ = await _get(fleet_session, stale.url)
    assert (today - max(_dates(body.decode()))).days == STALE_DAYS


async def test_the_gbk_site_is_gbk_and_says_so_only_in_meta(fleet: Fleet, fleet_session: aiohttp.ClientSession) -> None:
    site = next(s for s in fleet.sites if s.encoding == "gbk")
    async with fleet_session.get(site.url) as r:
        assert r.headers["Content-Type"] == "text/html"
        body = await r.read()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "charset=gb2312" in body.decode("gbk") and site.name in body.decode("gbk")


async def test_blank_columns_show_placeholders_and_others_list_items(
    fleet: Fleet, fleet_session: aiohttp.ClientSession
) -> None:
    site = fleet.site("4405070010")
    assert len(site.expect_blank_columns) >= 5
    for col in site.columns:
        _, body, _ = await _get(fleet_session, site.url.rstrip("/") + col.path)
        text = body.decode()
        items = re.findall(r'<li><a href="/art/', text)
        if col.name in site.expect_blank_columns:
            assert not items
            assert col.blank_text in text
        else:
            assert len(items) >= 5


async def test_footer_marks_present_except_on_the_incomplete_site(
    fleet: Fleet, fleet_session: aiohttp.ClientSession
) -> None:
    marks = ("网站标识码", "ICP备", "公网安备", "我为政府网站找错", "党政机关")
    for site in fleet.sites:
        if not site.expect_http_ok or site.encoding == "gbk":
            continue
        text = (await _get(fleet_session, site.url))[1].decode()
        present = [m for m in marks if m in text]
        assert (present == list(marks)) == (not site.expect_compliance_missing), site.code


async def test_wrong_expression_only_where_expected(fleet: Fleet, fleet_session: aiohttp.ClientSession) -> None:
    for site in fleet.sites:
        if not site.expect_http_ok or site.encoding == "gbk":
            continue
        text = (await _get(fleet_session, site.url))[1].decode()
        assert ("开诚不公" in text) == ("开诚不公" in site.expect_serious_errors), site.code


def _links(text: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"#]+)"', text)


async def test_homepage_links_work_except_the_intended_broken_ones(
    fleet: Fleet, fleet_session: aiohttp.ClientSession
) -> None:
    for site in fleet.sites:
        if not site.expect_http_ok:
            continue
        body = (await _get(fleet_session, site.url))[1]
        text = body.decode("gbk" if site.encoding == "gbk" else "utf-8")
        broken = []
        for link in set(_links(text)):
            url = link.replace("&amp;", "&")
            url = url if url.startswith("http") else site.url.rstrip("/") + url
            status, _, _ = await _get(fleet_session, url)
            if status != 200:
                broken.append(link)
        assert len(broken) == site.broken_links, (site.code, broken)


async def test_feeds_hook_serves_its_app_and_adds_accounts(tmp_path: Path) -> None:
    async def feed(request: web.Request) -> web.Response:
        return web.Response(
            text="<rss version='2.0'><channel><title>t</title></channel></rss>", content_type="application/rss+xml"
        )

    def hook(base_url: str) -> tuple[web.Application, list[dict[str, str]]]:
        app = web.Application()
        app.router.add_get("/wechat/mp/pingan", feed)
        return app, [
            {
                "id": "pingan-wechat",
                "unit": "潮州市公安局",
                "platform": "wechat",
                "name": "平安潮州",
                "feed": f"{base_url}/wechat/mp/pingan",
            }
        ]

    async with Fleet.start(tmp_path, feeds=hook) as fleet:
        cfg = loads(fleet.config_yaml())
        assert [a.id for a in cfg.accounts] == ["pingan-wechat"]
        assert cfg.feeds.rsshub == fleet.feeds_url
        assert fleet.pki is not None
        conn = aiohttp.TCPConnector(resolver=_ZoneResolver(fleet.dns))
        async with aiohttp.ClientSession(connector=conn) as s, s.get(cfg.accounts[0].feed) as r:
            assert r.status == 200 and b"<rss" in await r.read()


async def test_without_a_hook_the_fleet_has_no_accounts(tmp_path: Path) -> None:
    async with Fleet.start(tmp_path, feeds=None) as fleet:
        assert "accounts" not in fleet.config_dict() and "feeds" not in fleet.config_dict()


async def test_default_fleet_config_with_the_optional_feeds_module_loads(tmp_path: Path) -> None:
    async with Fleet.start(tmp_path) as fleet:
        cfg = loads(fleet.config_yaml())
        assert len(cfg.sites) == len(fleet.sites)
        assert len(cfg.accounts) == len(fleet.accounts)


def test_demo_site_expectations_follow_behaviour() -> None:
    ok = DemoSite("4405070010", "x", "x", "a.gov.cn")
    assert ok.expect_http_ok and ok.expect_tls == "valid" and ok.expect_dns == "NOERROR"
    assert not DemoSite("4405070010", "x", "x", "a.gov.cn", tls="expired").expect_http_ok
    assert DemoSite("4405070010", "x", "x", "a.gov.cn", tls="expiring").expect_http_ok
    nx = DemoSite("4405070010", "x", "x", "a.gov.cn", in_zone=False)
    assert not nx.expect_http_ok and nx.expect_dns == "NXDOMAIN" and nx.expect_tls is None


async def test_the_content_probe_finds_the_planted_hidden_links_and_only_there(fleet: Fleet) -> None:
    """The demo's 暗链 site carries three off-screen links to gambling hosts; a healthy site carries none.
    Both are judged by the real content probe over the fleet's DNS and TLS, as the agent would."""
    cfg = loads(fleet.config_yaml())
    net = Network(cfg.dns, cfg.tls, cfg.http)
    try:
        for code in ("4408020007", "4451000001"):
            site = next(s for s in cfg.sites if s.code == code)
            r = await content_probe.probe(site, ProbeContext(config=cfg, net=net, state=StateStore(None)))
            assert r.homepage_success, r.reason
            assert r.hidden_links == fleet.site(code).expect_hidden_links, r.details["hidden_links"]
            assert r.malicious_scripts == fleet.site(code).expect_malicious_scripts, r.details["malicious_scripts"]
            assert all(r.compliance.values()), r.details["compliance_found"]
    finally:
        await net.close()


async def test_the_maintenance_site_is_a_failed_visit_and_healthy_sites_are_not(fleet: Fleet) -> None:
    cfg = loads(fleet.config_yaml())
    net = Network(cfg.dns, cfg.tls, cfg.http)
    try:
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
        for s in cfg.sites:
            demo = fleet.site(s.code)
            if demo.behaviour not in ("ok", "maintenance") or not demo.expect_http_answer:
                continue
            r = await http_probe.probe(s, ctx)
            assert r.success == demo.expect_http_ok, (s.code, r.reason)
            if demo.behaviour == "maintenance":
                assert r.status_code == 200 and r.reason == "not the homepage: a maintenance notice: 系统维护"
    finally:
        await net.close()


async def test_the_interaction_probe_finds_the_demos_mailboxes_as_planted(fleet: Fleet) -> None:
    """互动回应差 in the demo: a 市长信箱 answering nothing for four months, one answering everything
    though nobody wrote for 100 days, a site without any consultation channel; the others clean."""
    from agent.findings.findings import site_findings
    from probes import interaction

    cfg = loads(fleet.config_yaml())
    net = Network(cfg.dns, cfg.tls, cfg.http)
    seen = {}
    try:
        ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
        for s in cfg.sites:
            demo = fleet.site(s.code)
            if not demo.expect_http_ok:
                continue
            r = await interaction.probe(s, ctx)
            assert r.success, (s.code, r.reason)
            found = {f["finding"] for f in site_findings(s, {"interaction": r}, cfg.content, time.time())}
            kinds = {"interaction_unanswered": "unanswered", "no_consultation_channel": "no_channel"}
            seen[s.code] = "".join(kinds[k] for k in sorted(found & set(kinds)))
            assert seen[s.code] == demo.expect_interaction, (s.code, r.columns)
            if any(c.mailbox == "answered" for c in demo.columns):
                box = r.columns[0]
                assert box.state_shown and box.oldest_unanswered is None and box.answered_past_year == 20
                assert box.reply_max == box.reply_median == 5 * 86400 and box.detail_pages == 0  # the list shows both
    finally:
        await net.close()
    assert sorted(seen.values()).count("unanswered") == 1 and "no_channel" in seen.values()
