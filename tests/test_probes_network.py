"""HTTP, DNS and TLS probes against real loopback servers, a local DNS zone and a trustme CA."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.pki import Pki, self_signed_ssl_context
from agent.registry.config import Config, Site, loads
from agent.run.state import StateStore
from domain.divisions import region_of
from probes import dns as dns_probe
from probes import http as http_probe
from probes import tls as tls_probe
from probes.context import ProbeContext
from probes.net import Network

HOST = "www.longhu.gov.cn"


@pytest.fixture
async def zone() -> AsyncIterator[DnsServer]:
    server = DnsServer(records={HOST: ["127.0.0.1"], "v6only.longhu.gov.cn": ["::1"]})
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def pki() -> object:
    p = Pki()
    yield p
    p.close()


def _config(zone: DnsServer, pki: Pki, *, timeout: str = "3s", extra: str = "") -> Config:
    return loads(
        f"""
dns: {{nameservers: ["{zone.address}"], timeout: 1s}}
tls: {{ca_file: "{pki.ca_file}", timeout: 2s}}
http: {{timeout: {timeout}, max_body_bytes: 1048576, max_redirects: 5}}
{extra}
"""
    )


@pytest.fixture
async def ctx(zone: DnsServer, pki: Pki) -> AsyncIterator[ProbeContext]:
    cfg = _config(zone, pki)
    net = Network(cfg.dns, cfg.tls, cfg.http)
    yield ProbeContext(config=cfg, net=net, state=StateStore(None))
    await net.close()


def site(url: str) -> Site:
    return Site(code="4405070010", name="汕头市国土资源局龙湖分局", url=url, region=region_of("4405070010"))


def homepage_app(body: str = "<html><body>龙湖区政府</body></html>") -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", handler)
    return app


# --- HTTP availability -----------------------------------------------------------


async def test_a_homepage_that_opens_is_a_successful_visit(ctx: ProbeContext) -> None:
    async with await hostile.serve_app(homepage_app()) as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert result.success, result.reason
    assert result.status_code == 200
    assert result.address == "127.0.0.1" and result.ip_version == 4
    assert result.body_bytes == len("<html><body>龙湖区政府</body></html>".encode())
    assert {"connect", "processing", "transfer"} <= set(result.phases)


async def test_a_redirect_to_the_homepage_is_followed(ctx: ProbeContext) -> None:
    app = homepage_app()

    async def old(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/")

    app.router.add_get("/old", old)
    async with await hostile.serve_app(app) as served:
        result = await http_probe.probe(site(served.url_for(HOST, "/old")), ctx)
    assert result.success and result.redirects == 1 and result.final_url.endswith(f":{served.port}/")


@pytest.mark.parametrize("code", [404, 500, 503])
async def test_an_error_status_is_a_failed_visit(ctx: ProbeContext, code: int) -> None:
    async with await hostile.status(code) as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and result.status_code == code and result.reason == f"status {code}"


async def test_a_refused_connection_is_a_failed_visit(ctx: ProbeContext) -> None:
    async with await hostile.refused() as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and "refused" in result.reason


async def test_an_unknown_name_is_a_failed_visit_naming_nxdomain(ctx: ProbeContext) -> None:
    result = await http_probe.probe(site("http://gone.longhu.gov.cn/"), ctx)
    assert not result.success and "NXDOMAIN" in result.reason


async def test_a_server_that_accepts_and_never_answers_fails_at_the_timeout(zone: DnsServer, pki: Pki) -> None:
    cfg = _config(zone, pki, timeout="1s")
    net = Network(cfg.dns, cfg.tls, cfg.http)
    ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
    try:
        async with await hostile.silent() as served:
            t0 = time.monotonic()
            result = await http_probe.probe(site(served.url_for(HOST)), ctx)
            elapsed = time.monotonic() - t0
    finally:
        await net.close()
    assert not result.success and result.reason.startswith("timeout")
    assert 0.9 < elapsed < 2.5


async def test_a_slow_homepage_past_the_timeout_fails_but_within_it_succeeds(zone: DnsServer, pki: Pki) -> None:
    cfg = _config(zone, pki, timeout="1s")
    net = Network(cfg.dns, cfg.tls, cfg.http)
    ctx = ProbeContext(config=cfg, net=net, state=StateStore(None))
    try:
        async with await hostile.slow(delay=1.5) as too_slow, await hostile.slow(delay=0.3) as slow_ok:
            late = await http_probe.probe(site(too_slow.url_for(HOST)), ctx)
            in_time = await http_probe.probe(site(slow_ok.url_for(HOST)), ctx)
    finally:
        await net.close()
    assert not late.success and late.reason.startswith("timeout")
    assert in_time.success, in_time.reason


async def test_a_redirect_loop_is_a_failed_visit_with_a_reason(ctx: ProbeContext) -> None:
    async with await hostile.redirect_loop() as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and "redirect loop" in result.reason


async def test_a_2gb_body_is_cut_at_the_cap(ctx: ProbeContext) -> None:
    async with await hostile.endless_body() as served:
        t0 = time.monotonic()
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and "limit" in result.reason
    assert time.monotonic() - t0 < 3


async def test_a_gzip_bomb_is_cut_at_the_cap_of_decoded_bytes(ctx: ProbeContext) -> None:
    async with await hostile.gzip_bomb() as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and "limit" in result.reason


async def test_invalid_utf8_does_not_fail_the_availability_visit(ctx: ProbeContext) -> None:
    # Decoding is the content probe's business; the homepage did open.
    async with await hostile.invalid_utf8() as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert result.success, result.reason


async def test_a_header_line_over_the_limit_is_a_failed_visit_not_a_crash(ctx: ProbeContext) -> None:
    # 64 KiB in one header line; browsers and our client stop well before.
    async with await hostile.huge_headers(line_bytes=64 * 1024, count=4) as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and result.reason


async def test_https_with_a_trusted_certificate_opens(ctx: ProbeContext, pki: Pki) -> None:
    async with await hostile.serve_app(homepage_app(), ssl_context=pki.valid([HOST])) as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert result.success, result.reason


async def test_https_with_an_expired_certificate_is_a_failed_visit(ctx: ProbeContext, pki: Pki) -> None:
    async with await hostile.serve_app(homepage_app(), ssl_context=pki.expired([HOST])) as served:
        result = await http_probe.probe(site(served.url_for(HOST)), ctx)
    assert not result.success and result.reason.startswith("tls:") and "expired" in result.reason


async def test_ipv6_is_the_fallback_when_there_is_no_a_record(ctx: ProbeContext) -> None:
    try:
        served = await hostile.serve_app(homepage_app(), host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    async with served:
        result = await http_probe.probe(site(f"http://v6only.longhu.gov.cn:{served.port}/"), ctx)
    assert result.success, result.reason
    assert result.ip_version == 6


# --- DNS -------------------------------------------------------------------------


async def test_dns_answers_are_reported(ctx: ProbeContext) -> None:
    result = await dns_probe.probe(site(f"http://{HOST}/"), ctx)
    assert result.success and result.ipv4 == ("127.0.0.1",) and result.rcode == "NOERROR"


async def test_nxdomain_is_a_failed_dns_probe(ctx: ProbeContext) -> None:
    result = await dns_probe.probe(site("http://nope.longhu.gov.cn/"), ctx)
    assert not result.success and result.rcode == "NXDOMAIN"


async def test_servfail_is_a_failed_dns_probe(ctx: ProbeContext, zone: DnsServer) -> None:
    zone.fault(HOST, "servfail")
    result = await dns_probe.probe(site(f"http://{HOST}/"), ctx)
    assert not result.success and result.rcode == "SERVFAIL"


async def test_a_nameserver_that_never_answers_times_out(ctx: ProbeContext, zone: DnsServer) -> None:
    zone.fault(HOST, "drop")
    t0 = time.monotonic()
    result = await dns_probe.probe(site(f"http://{HOST}/"), ctx)
    assert not result.success and result.rcode == "TIMEOUT"
    assert time.monotonic() - t0 < 3  # dns.timeout is 1s


# --- TLS -------------------------------------------------------------------------


async def _tls(ctx: ProbeContext, server_ctx: object) -> tls_probe.TlsResult:
    async with await hostile.serve_app(homepage_app(), ssl_context=server_ctx) as served:  # type: ignore[arg-type]
        return await tls_probe.probe(site(served.url_for(HOST)), ctx)


async def test_a_valid_certificate_is_valid(ctx: ProbeContext, pki: Pki) -> None:
    result = await _tls(ctx, pki.valid([HOST]))
    assert result.success and result.cert_valid and result.chain_valid and result.hostname_match
    assert result.not_after is not None and result.not_after > time.time() + 300 * 86400
    assert HOST in result.sans and "Xuncha" in result.issuer or result.issuer


async def test_an_expiring_certificate_is_still_valid_with_its_expiry(ctx: ProbeContext, pki: Pki) -> None:
    result = await _tls(ctx, pki.expiring([HOST], days=10))
    assert result.cert_valid
    assert result.not_after is not None and abs(result.not_after - (time.time() + 10 * 86400)) < 120


async def test_an_expired_certificate_is_data_not_an_exception(ctx: ProbeContext, pki: Pki) -> None:
    result = await _tls(ctx, pki.expired([HOST]))
    assert result.success and not result.cert_valid and not result.chain_valid
    assert result.hostname_match and "expired" in result.verify_error
    assert result.not_after is not None and result.not_after < time.time()


async def test_a_wrong_host_certificate_has_a_trusted_chain_and_no_match(ctx: ProbeContext, pki: Pki) -> None:
    result = await _tls(ctx, pki.wrong_host())
    assert result.success and result.chain_valid and not result.hostname_match and not result.cert_valid
    assert HOST in result.reason


async def test_a_self_signed_certificate_is_untrusted(ctx: ProbeContext) -> None:
    result = await _tls(ctx, self_signed_ssl_context([HOST]))
    assert result.success and not result.chain_valid and result.hostname_match


async def test_garbage_instead_of_a_handshake_is_a_failed_probe(ctx: ProbeContext) -> None:
    async with await hostile.tls_garbage() as served:
        result = await tls_probe.probe(site(f"https://{HOST}:{served.port}/"), ctx)
    assert not result.success and result.reason.startswith("tls:")


async def test_tls_probe_of_an_unknown_name_says_nxdomain(ctx: ProbeContext) -> None:
    result = await tls_probe.probe(site("https://nope.longhu.gov.cn/"), ctx)
    assert not result.success and "NXDOMAIN" in result.reason


@pytest.mark.parametrize(
    ("host", "sans", "expected"),
    [
        ("www.st.gov.cn", ["www.st.gov.cn"], True),
        ("WWW.ST.GOV.CN", ["www.st.gov.cn"], True),
        ("www.st.gov.cn", ["*.st.gov.cn"], True),
        ("a.www.st.gov.cn", ["*.st.gov.cn"], False),
        ("st.gov.cn", ["*.st.gov.cn"], False),
        ("www.st.gov.cn", ["*.gov.cn"], False),
        ("127.0.0.1", ["127.0.0.1"], True),
        ("127.0.0.1", ["www.st.gov.cn"], False),
    ],
)
def test_host_name_matching_follows_rfc_6125(host: str, sans: list[str], expected: bool) -> None:
    assert tls_probe.hostname_matches(host, sans) is expected


async def test_many_probes_at_once_do_not_wait_on_a_hanging_site(ctx: ProbeContext) -> None:
    # A hanging site costs its own timeout, never anyone else's.
    async with await hostile.silent() as hang, await hostile.serve_app(homepage_app()) as ok:
        hanging = asyncio.ensure_future(http_probe.probe(site(hang.url_for(HOST)), ctx))
        t0 = time.monotonic()
        good = await asyncio.gather(*(http_probe.probe(site(ok.url_for(HOST)), ctx) for _ in range(20)))
        assert time.monotonic() - t0 < 1.5
        assert all(r.success for r in good)
        assert not (await hanging).success


async def test_answers_for_connections_are_cached_but_failures_and_dns_probes_are_not(
    ctx: ProbeContext, zone: DnsServer
) -> None:
    async with await hostile.serve_app(homepage_app()) as served:
        url = served.url_for(HOST)
        assert (await http_probe.probe(site(url), ctx)).success
        asked = zone.queries
        assert (await http_probe.probe(site(url), ctx)).success
        assert zone.queries == asked  # second visit within the TTL: no query
        await dns_probe.probe(site(url), ctx)
        assert zone.queries == asked + 2  # the DNS probe always asks (A and AAAA)

        other = "www.chenghai.gov.cn"
        zone.fault(other, "servfail")
        assert "SERVFAIL" in (await http_probe.probe(site(served.url_for(other)), ctx)).reason
        zone.set(other, ["127.0.0.1"])  # healed: the failure was not cached
        assert (await http_probe.probe(site(served.url_for(other)), ctx)).success


async def test_failures_are_typed_so_callers_never_parse_the_message(ctx: ProbeContext) -> None:
    # Each kind of failure carries its Failure, whatever its wording for people.
    from probes.net import Failure

    async with await hostile.refused() as served:
        refused = await ctx.net.fetch(served.url_for(HOST))
    async with await hostile.redirect_loop() as served:
        loop = await ctx.net.fetch(served.url_for(HOST))
    async with await hostile.gzip_bomb() as served:
        bomb = await ctx.net.fetch(served.url_for(HOST))
    unknown = await ctx.net.fetch("http://gone.longhu.gov.cn/")
    async with await hostile.status(503) as served:
        answered = await ctx.net.fetch(served.url_for(HOST))
    assert [f.failure for f in (refused, loop, bomb, unknown)] == [
        Failure.REFUSED,
        Failure.REDIRECT_LOOP,
        Failure.TOO_LARGE,
        Failure.DNS,
    ]
    assert bomb.status == 200  # too large: the answer itself is known
    assert answered.failure is None and answered.ok and answered.status == 503  # a status is not a failed fetch


async def test_a_retired_network_closes_only_when_its_last_probe_ends(zone: DnsServer, pki: Pki) -> None:
    cfg = _config(zone, pki)
    net = Network(cfg.dns, cfg.tls, cfg.http)
    async with await hostile.serve_app(homepage_app()) as served:
        async with net.in_use():
            retiring = asyncio.create_task(net.retire())
            await asyncio.sleep(0.1)
            assert not retiring.done() and not net.closed  # a probe still holds it
            assert (await net.fetch(served.url_for(HOST))).ok  # and it still works for that probe
        await asyncio.wait_for(retiring, 2)
        assert net.closed
        with pytest.raises(RuntimeError, match="closed"):
            await net.fetch(served.url_for(HOST))  # never a new session nobody closes


async def test_an_idle_network_retires_at_once(zone: DnsServer, pki: Pki) -> None:
    cfg = _config(zone, pki)
    net = Network(cfg.dns, cfg.tls, cfg.http)
    await asyncio.wait_for(net.retire(), 1)
    assert net.closed


# --- TLS session resumption (issue 21) ---------------------------------------------------------


def reused_app(seen: list[tuple[str, bool]]) -> web.Application:
    """Records, per request, whether the server resumed the connection's TLS session; closes
    every connection after its response, so each fetch needs a new handshake."""

    async def handler(request: web.Request) -> web.Response:
        obj = request.transport.get_extra_info("ssl_object") if request.transport else None
        seen.append((request.path, bool(obj and obj.session_reused)))
        return web.Response(
            text="<html><body>龙湖区政府</body></html>", content_type="text/html", headers={"Connection": "close"}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


async def test_page_readers_resume_the_hosts_tls_session(ctx: ProbeContext, pki: Pki) -> None:
    seen: list[tuple[str, bool]] = []
    async with await hostile.serve_app(reused_app(seen), ssl_context=pki.valid([HOST])) as served:
        for path in ("/a", "/b", "/c"):
            fetched = await ctx.net.fetch(served.url_for(HOST, path), reuse=True)
            assert fetched.ok, fetched.error
    assert [p for p, _ in seen] == ["/a", "/b", "/c"]
    assert seen[0][1] is False and seen[1][1] and seen[2][1]  # the first handshake full, then resumed


async def test_the_availability_visit_never_resumes_a_session(ctx: ProbeContext, pki: Pki) -> None:
    """A visit measures what a visitor's first visit costs: a full handshake, always — even right
    after page readers left a resumable session with the same host."""
    seen: list[tuple[str, bool]] = []
    async with await hostile.serve_app(reused_app(seen), ssl_context=pki.valid([HOST])) as served:
        for path in ("/a", "/b"):
            assert (await ctx.net.fetch(served.url_for(HOST, path), reuse=True)).ok
        assert ctx.net.resuming_ssl.sessions() == 1  # type: ignore[attr-defined]
        for _ in range(3):
            result = await http_probe.probe(site(served.url_for(HOST)), ctx)
            assert result.success, result.reason
        tls = await tls_probe.probe(site(f"https://{HOST}:{served.port}/"), ctx)
    assert tls.success, tls.reason
    assert seen[1][1] is True  # resumption works on this server
    assert [reused for path, reused in seen if path == "/"] == [False, False, False]


async def test_a_session_older_than_servers_keep_theirs_is_not_offered(
    ctx: ProbeContext, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    from probes import tlsresume

    monkeypatch.setattr(tlsresume, "KEEP_SECONDS", 0.0)
    seen: list[tuple[str, bool]] = []
    async with await hostile.serve_app(reused_app(seen), ssl_context=pki.valid([HOST])) as served:
        for path in ("/a", "/b"):
            assert (await ctx.net.fetch(served.url_for(HOST, path), reuse=True)).ok
    assert [reused for _, reused in seen] == [False, False]
