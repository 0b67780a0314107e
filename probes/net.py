"""The agent's one path to the network: DNS resolution and HTTP fetches.

Every probe resolves names through :class:`Network` (dnspython's async resolver
with the configured nameservers), and the HTTP, TLS, content, link and feed
probes connect to the addresses it returns.  So a test fleet on a private zone
works, and a DNS finding agrees with the HTTP finding for the same site.

Connections: the availability visit (and anything not asking for ``reuse``) opens a fresh
connection, as a browser's first visit and blackbox_exporter do.  Fetches with ``reuse=True``
(content pages and columns, feeds, link checks) take keep-alive connections from a pool; see
:meth:`Network.session_for` for how the pools are keyed and why a reused connection can never
take a fetch where its own address policy would refuse to go.

Nothing here raises for a failing target: :meth:`Network.fetch` returns a
:class:`Fetched` whose ``error`` says what went wrong, in words an operator can
act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

import aiohttp
import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDictProxy

from domain.settings import DnsConfig, HttpConfig, TlsConfig
from probes.addresses import Guard, Policy
from probes.tlsresume import ResumingContext

_DNS_CACHE_ENTRIES = 100_000
# Idle keep-alive connections are dropped after this (aiohttp's sweep runs at this period, so
# an idle one lives at most twice as long).  Short on purpose: a site's content pages and link
# checks, and the stream of feeds to one RSSHub, follow each other within milliseconds, while
# every idle TLS connection holds asyncio's 256 KiB read buffer — at 4 s the start-up burst of
# the 1,500-site benchmark peaked 145 MiB higher (bench/README.md).  Far below Apache's default
# KeepAliveTimeout (5 s), so a server seldom closes a connection just as we reuse it; when it
# does, aiohttp sends the GET or HEAD again on a new connection.
_KEEPALIVE_SECONDS = 1.0
# The address policy of the fetch in progress (probes.addresses): the connector asks it about
# every connection, redirects included, after resolution — so it judges resolved addresses.
_GUARD: ContextVar[Guard | None] = ContextVar("xuncha_address_guard", default=None)


class Blocked(OSError):
    """A connection the address policy refused (``probes.addresses``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"blocked: {reason}")


class ResolveError(OSError):
    """A name could not be resolved; ``rcode`` is NXDOMAIN, SERVFAIL, TIMEOUT or NOANSWER."""

    def __init__(self, host: str, rcode: str, detail: str = "") -> None:
        self.host, self.rcode = host, rcode
        super().__init__(f"dns: {host}: {rcode}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True, slots=True)
class Lookup:
    host: str
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()
    rcode: str = "NOERROR"
    seconds: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.ipv4 or self.ipv6)


class Failure(StrEnum):
    """Why an exchange gave no complete response.  Callers match on these; ``Fetched.error``
    is the same fact worded for people, and may be reworded freely."""

    TIMEOUT = "timeout"  # no complete response within the timeout
    DNS = "dns"  # the name did not resolve
    REFUSED = "refused"  # nothing listens
    CONNECT = "connect"  # no connection for another reason (unreachable, reset while connecting)
    TLS = "tls"  # handshake failed or the certificate is not trusted
    REDIRECT_LOOP = "redirect_loop"  # more redirects than allowed
    DISCONNECTED = "disconnected"  # the server closed the connection mid-answer
    CONNECTION = "connection"  # the connection failed after it was made
    BAD_RESPONSE = "bad_response"  # not HTTP we can read (bad status line, header too long)
    BAD_URL = "bad_url"  # the URL or a redirect target is not a URL we can request
    BLOCKED = "blocked"  # the address is not public and the policy does not allow it (probes.addresses)
    TOO_LARGE = "too_large"  # the (decoded) body is over the byte limit; status and headers are known
    BODY = "body"  # the body could not be read (bad chunking, bad compression)
    OTHER = "other"


# Failures of the host or the path to it, not of the request: asking again another way repeats them.
HOST_FAILURES = frozenset(
    {
        Failure.TIMEOUT,
        Failure.DNS,
        Failure.REFUSED,
        Failure.CONNECT,
        Failure.TLS,
        Failure.REDIRECT_LOOP,
        Failure.BLOCKED,
    }
)


class _TooLarge(aiohttp.ClientPayloadError):
    pass


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP exchange, redirects followed.  ``failure`` is None (and ``error`` "") on a
    complete response."""

    url: str
    final_url: str = ""
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    body_bytes: int = 0
    redirects: int = 0
    address: str = ""
    error: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    failure: Failure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def _rcode_of(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return "NXDOMAIN", ""
    if isinstance(exc, dns.resolver.NoAnswer):
        return "NOANSWER", ""
    if isinstance(exc, dns.resolver.NoNameservers):
        return "SERVFAIL", "no nameserver gave an answer"
    if isinstance(exc, (dns.exception.Timeout, dns.resolver.LifetimeTimeout)):
        return "TIMEOUT", "no answer within the lifetime"
    return "ERROR", f"{type(exc).__name__}: {exc}"


def _nameserver(spec: str) -> dns.nameserver.Do53Nameserver:
    host, port = spec, 53
    if spec.count(":") == 1:
        host, _, p = spec.partition(":")
        port = int(p)
    elif spec.startswith("[") and "]:" in spec:
        host, _, p = spec[1:].partition("]:")
        port = int(p)
    return dns.nameserver.Do53Nameserver(host, port)


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Network:
    """DNS and HTTP for probes.  Build one per configuration; ``await close()`` it."""

    def __init__(
        self, dns_cfg: DnsConfig, tls_cfg: TlsConfig, http_cfg: HttpConfig, policy: Policy | None = None
    ) -> None:
        self.dns_cfg, self.tls_cfg, self.http_cfg = dns_cfg, tls_cfg, http_cfg
        # Redirects of every fetch are judged by it (None: not judged); links pass their own.
        self.policy = policy
        self._resolver = dns.asyncresolver.Resolver(configure=not dns_cfg.nameservers)
        if dns_cfg.nameservers:
            self._resolver.nameservers = [_nameserver(s) for s in dns_cfg.nameservers]
        self._resolver.lifetime = dns_cfg.timeout
        self._resolver.timeout = min(dns_cfg.timeout, 2.0)
        self.verified_ssl = self._ssl_context(verify=True)
        self.unverified_ssl = self._ssl_context(verify=False)
        # Chain only: the TLS probe judges the host name itself, so that a wrong-host
        # certificate still tells whether its chain is trusted.
        self.chain_ssl = self._ssl_context(verify=True)
        self.chain_ssl.check_hostname = False
        # For fetches on keep-alive pools (page readers, never the availability visit): new
        # connections resume the host's last session (probes.tlsresume).
        self.resuming_ssl = self._ssl_context(verify=True, resuming=True)
        self.unverified_resuming_ssl = self._ssl_context(verify=False, resuming=True)
        self._session: aiohttp.ClientSession | None = None
        self._pools: dict[tuple[object, ...], aiohttp.ClientSession] = {}
        self._closed = False
        self._users = 0  # probes running on this network (see in_use, retire)
        self._idle = asyncio.Event()
        # host -> (expiry on the monotonic clock, addresses); see addresses()
        self._cache: dict[str, tuple[float, list[tuple[str, int]]]] = {}

    def _ssl_context(self, *, verify: bool, resuming: bool = False) -> ssl.SSLContext:
        cafile = self.tls_cfg.ca_file if verify else None
        if resuming:  # as create_default_context builds one, but resuming sessions
            ctx: ssl.SSLContext = ResumingContext(ssl.PROTOCOL_TLS_CLIENT)
            if cafile:
                ctx.load_verify_locations(cafile=cafile)
            else:
                ctx.load_default_certs()
        else:
            ctx = ssl.create_default_context(cafile=cafile)
        if verify and self.tls_cfg.ca_file:
            ctx.load_default_certs()  # the system store *and* the configured bundle
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    # --- DNS -----------------------------------------------------------------

    async def _query(self, host: str, rdtype: str) -> tuple[tuple[str, ...], str, str, float]:
        """Answers, rcode, detail and TTL of one query."""
        try:
            answer = await self._resolver.resolve(host, rdtype, search=False)
        except Exception as e:  # noqa: BLE001 — every resolver failure is a DNS finding
            rcode, detail = _rcode_of(e)
            return (), rcode, detail, 0.0
        ttl = float(answer.rrset.ttl) if answer.rrset is not None else 0.0
        return tuple(r.to_text() for r in answer), "NOERROR", "", ttl

    async def lookup(self, host: str) -> Lookup:
        """A and AAAA for ``host``, both asked at once and never cached (the DNS probe)."""
        start = time.perf_counter()
        (v4, rc4, d4, _), (v6, rc6, d6, _) = await asyncio.gather(self._query(host, "A"), self._query(host, "AAAA"))
        seconds = time.perf_counter() - start
        if v4 or v6:
            return Lookup(host, v4, v6, "NOERROR", seconds)
        # Neither family answered: report the more telling failure.
        for rcode, detail in ((rc4, d4), (rc6, d6)):
            if rcode not in ("NOERROR", "NOANSWER"):
                return Lookup(host, rcode=rcode, seconds=seconds, detail=detail)
        return Lookup(host, rcode="NOANSWER", seconds=seconds, detail="no A or AAAA record")

    async def addresses(self, host: str) -> list[tuple[str, int]]:
        """Addresses to connect to, preferred family first (blackbox's ip4 + fallback).

        Answers are cached for their TTL, at most ``dns.max_cache_ttl``, as a browser's
        resolver would: 150,000 feeds on a few RSSHub hosts, or the links of 14,000
        homepages, must not each cost a query.  Failures are not cached, so a broken
        name fails every visit; the DNS probe (``lookup``) always asks afresh."""
        if is_ip(host):
            return [(host, socket.AF_INET6 if ":" in host else socket.AF_INET)]
        now = time.monotonic()
        cached = self._cache.get(host)
        if cached is not None and cached[0] > now:
            return cached[1]
        found, ttl = await self._addresses(host)
        if len(self._cache) >= _DNS_CACHE_ENTRIES:
            self._cache.clear()  # crude but bounded; refills at one query per host
        self._cache[host] = (now + min(ttl, self.dns_cfg.max_cache_ttl), found)
        return found

    async def _addresses(self, host: str) -> tuple[list[tuple[str, int]], float]:
        first, second = ("A", "AAAA") if self.dns_cfg.preferred_ip_protocol == "ip4" else ("AAAA", "A")
        families = {"A": socket.AF_INET, "AAAA": socket.AF_INET6}
        found, rcode, detail, ttl = await self._query(host, first)
        if found:
            return [(a, families[first]) for a in found], ttl
        if not self.dns_cfg.ip_protocol_fallback or rcode not in ("NOANSWER", "NOERROR"):
            raise ResolveError(host, rcode, detail)
        found, rcode2, detail, ttl = await self._query(host, second)
        if found:
            return [(a, families[second]) for a in found], ttl
        raise ResolveError(host, rcode2 if rcode2 != "NOANSWER" else rcode, detail or "no A or AAAA record")

    def last_address(self, host: str) -> str:
        """The first address last resolved for ``host`` (for reports), or ``host`` itself."""
        cached = self._cache.get(host)
        return cached[1][0][0] if cached else host

    # --- HTTP ----------------------------------------------------------------

    def session(self) -> aiohttp.ClientSession:
        """The shared client session: our resolver, no pooling (each visit is a fresh one)."""
        if self._closed:
            raise RuntimeError("this network is closed: probes hold it with in_use() until they end")
        if self._session is None or self._session.closed:
            self._session = self._new_session(pooled=False)
        return self._session

    def session_for(self, guard: Guard | None, reuse: bool) -> aiohttp.ClientSession:
        """The session a fetch runs on: the fresh one, or a keep-alive pool for its trust context.

        A pooled connection was admitted by the guard of the fetch that opened it.  Two things
        keep a later fetch from reaching, over it, an address its own guard would refuse:

        * the pools are keyed by trust context.  Fetches whose first hop is a registry target
          (``Guard(trust_first=True)``: content pages, columns, feeds — trusted as configured,
          whatever the address) share one pool; fetches that trust no hop (link checks) share
          another, keyed by the policy's networks and own address, and only while their policy
          has no exceptions (no trusted address it would otherwise refuse, such as an intranet
          homepage's own address): a link check never reuses a connection made for a registry
          target, nor one made under another site's exceptions.  With exceptions, no pooling;
        * every connection a fetch takes from a pool, redirects included, is judged again by
          that fetch's guard before the request is written (``_GuardedConnector.connect``), on
          the address it is connected to; a refused one is closed and the fetch fails "blocked".
        """
        if not reuse:
            return self.session()
        if guard is None:
            key: tuple[object, ...] = ("unguarded",)
        elif guard.trust_first and guard.connections == 0:
            key = ("registry",)
        elif not guard.policy.exceptions():
            key = ("untrusted", guard.policy.allow_networks, guard.policy.own)
        else:
            return self.session()
        if self._closed:
            raise RuntimeError("this network is closed: probes hold it with in_use() until they end")
        pooled = self._pools.get(key)
        if pooled is None or pooled.closed:
            pooled = self._pools[key] = self._new_session(pooled=True)
        return pooled

    def _new_session(self, *, pooled: bool) -> aiohttp.ClientSession:
        trace = aiohttp.TraceConfig(trace_config_ctx_factory=_trace_ctx)  # type: ignore[arg-type]
        trace.on_dns_resolvehost_start.append(_mark("resolve_start"))
        trace.on_dns_resolvehost_end.append(_mark("resolve_end"))
        trace.on_connection_create_start.append(_mark("connect_start"))
        trace.on_connection_create_end.append(_mark("connect_end"))
        trace.on_request_headers_sent.append(_mark("sent"))
        trace.on_request_end.append(_mark("headers"))
        trace.on_request_redirect.append(_mark("headers"))
        # Unbounded here: the scheduler bounds probes per host, LinkChecks bounds link checks.
        connector = (
            _GuardedConnector(
                resolver=_AiohttpResolver(self),
                use_dns_cache=False,
                limit=0,
                keepalive_timeout=_KEEPALIVE_SECONDS,
                ssl=self.resuming_ssl,
            )
            if pooled
            else _GuardedConnector(
                resolver=_AiohttpResolver(self), use_dns_cache=False, force_close=True, limit=0, ssl=self.verified_ssl
            )
        )
        return aiohttp.ClientSession(
            connector=connector,
            trace_configs=[trace],
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": self.http_cfg.user_agent},
            max_line_size=16384,
            max_field_size=16384,
        )

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        timeout: float | None = None,
        max_bytes: int | None = None,
        keep_body: bool = True,
        verify: bool | None = None,
        headers: Mapping[str, str] | None = None,
        max_redirects: int | None = None,
        guard: Guard | None = None,
        reuse: bool = False,
    ) -> Fetched:
        """``method url`` with redirects followed, within ``timeout`` for the whole
        exchange and ``max_bytes`` of (decoded) body.  Never raises for the target's faults.

        Every connection is admitted by ``guard`` (default: :attr:`policy` with the first hop
        trusted, the registry's target as configured); a refused one fails the fetch.
        ``reuse``: a keep-alive connection from the pool of the guard's trust context
        (:meth:`session_for`).  A GET or HEAD that meets a reused connection just closed by the
        server is sent again on a new one by aiohttp itself (RFC 9112 §9.3.1), as a browser does."""
        if guard is None and self.policy is not None:
            guard = Guard(self.policy, trust_first=True)
        token = _GUARD.set(guard)
        try:
            session = self.session_for(guard, reuse)
            return await self._fetch(
                session, url, method, timeout, max_bytes, keep_body, verify, headers, max_redirects
            )
        finally:
            _GUARD.reset(token)

    async def _fetch(
        self,
        session: aiohttp.ClientSession,
        url: str,
        method: str,
        timeout: float | None,
        max_bytes: int | None,
        keep_body: bool,
        verify: bool | None,
        headers: Mapping[str, str] | None,
        max_redirects: int | None,
    ) -> Fetched:
        timeout = self.http_cfg.timeout if timeout is None else timeout
        max_bytes = self.http_cfg.max_body_bytes if max_bytes is None else max_bytes
        verify = self.http_cfg.verify_certificate if verify is None else verify
        max_redirects = self.http_cfg.max_redirects if max_redirects is None else max_redirects
        marks: dict[str, float] = {}
        ctx = SimpleNamespace(marks=marks, address="")
        start = time.perf_counter()
        state: dict[str, Any] = {"url": url}
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(
                    session, url, method, max_bytes, keep_body, verify, headers, max_redirects, ctx, state, start
                )
        except TimeoutError:
            failure, error = Failure.TIMEOUT, f"timeout: no complete response within {timeout:g}s"
        except Blocked as e:
            failure, error = Failure.BLOCKED, str(e)
        except ResolveError as e:
            failure, error = Failure.DNS, str(e)
        except aiohttp.TooManyRedirects:
            failure, error = Failure.REDIRECT_LOOP, f"redirect loop: more than {max_redirects} redirects"
        except aiohttp.ClientConnectorCertificateError as e:
            failure, error = Failure.TLS, f"tls: certificate not trusted: {e.certificate_error}"
        except (aiohttp.ClientConnectorSSLError, aiohttp.ClientSSLError) as e:
            failure, error = Failure.TLS, f"tls: handshake failed: {_os_reason(e)}"
        except aiohttp.ClientConnectorDNSError as e:
            if isinstance(e.os_error, Blocked):
                failure, error = Failure.BLOCKED, str(e.os_error)
            else:
                failure = Failure.DNS
                error = str(e.os_error) if isinstance(e.os_error, ResolveError) else f"dns: {e.os_error}"
        except aiohttp.ClientConnectorError as e:
            refused = isinstance(e.os_error, ConnectionRefusedError)
            failure, error = (Failure.REFUSED if refused else Failure.CONNECT), f"connect: {_os_reason(e)}"
        except aiohttp.ServerDisconnectedError:
            failure, error = Failure.DISCONNECTED, "server closed the connection without a complete response"
        except _TooLarge as e:
            failure, error = Failure.TOO_LARGE, f"body: {e}"
        except aiohttp.ClientPayloadError as e:
            failure, error = Failure.BODY, f"body: {e}"
        except aiohttp.ClientResponseError as e:
            failure, error = Failure.BAD_RESPONSE, f"bad response: {e.message}"
        except (aiohttp.InvalidURL, ValueError) as e:
            failure, error = Failure.BAD_URL, f"bad url or redirect target: {e}"
        except aiohttp.ClientOSError as e:
            if isinstance(e.__cause__, Blocked):  # a reused connection refused (_GuardedConnector.connect)
                failure, error = Failure.BLOCKED, str(e.__cause__)
            else:
                failure, error = Failure.CONNECTION, f"connection: {_os_reason(e)}"
        except aiohttp.ClientError as e:
            failure, error = Failure.OTHER, f"http: {type(e).__name__}: {e}"
        return Fetched(
            url=url,
            final_url=str(state.get("final_url", "")),
            status=state.get("status"),
            error=error,
            failure=failure,
            address=ctx.address,
            redirects=int(state.get("redirects", 0)),
            phases=_phases(marks, start, state.get("body_start")),
            seconds=time.perf_counter() - start,
        )

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        url: str,
        method: str,
        max_bytes: int,
        keep_body: bool,
        verify: bool,
        headers: Mapping[str, str] | None,
        max_redirects: int,
        ctx: SimpleNamespace,
        state: dict[str, Any],
        start: float,
    ) -> Fetched:
        pooled = session is not self._session
        if pooled:
            context = self.resuming_ssl if verify else self.unverified_resuming_ssl
        else:  # the fresh visit: a full handshake, as a visitor's first one
            context = self.verified_ssl if verify else self.unverified_ssl
        async with session.request(
            method,
            url,
            headers=headers,
            ssl=context,
            max_redirects=max_redirects,
            trace_request_ctx=ctx,
        ) as resp:
            state.update(final_url=str(resp.url), status=resp.status, redirects=len(resp.history))
            transport = resp.connection.transport if resp.connection else None
            peer = transport.get_extra_info("peername") if transport else None
            # A small body is read with the headers and its connection already released:
            # then the address is the first one our resolver gave for the final host.
            ctx.address = peer[0] if peer else self.last_address(resp.url.host or "")
            state["body_start"] = time.perf_counter()
            body, size = await _read_capped(resp, max_bytes, keep_body)
            if size > max_bytes:
                raise _TooLarge(f"larger than the {max_bytes}-byte limit")
            hdrs: CIMultiDictProxy[str] = resp.headers
            return Fetched(
                url=url,
                final_url=str(resp.url),
                status=resp.status,
                headers={k.lower(): v for k, v in hdrs.items()},
                body=body,
                body_bytes=size,
                redirects=len(resp.history),
                address=ctx.address,
                phases=_phases(ctx.marks, start, state["body_start"], time.perf_counter()),
                seconds=time.perf_counter() - start,
            )

    @contextlib.asynccontextmanager
    async def in_use(self) -> AsyncIterator[Network]:
        """Hold the network for one probe: :meth:`retire` waits for every holder."""
        self._users += 1
        try:
            yield self
        finally:
            self._users -= 1
            if not self._users:
                self._idle.set()

    async def retire(self) -> None:
        """Close once the last probe holding the network has ended (after a reload, a links run
        may go on for many minutes on the network it started with)."""
        while self._users:
            self._idle.clear()
            await self._idle.wait()
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
        for pooled in self._pools.values():
            await pooled.close()


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int, keep: bool) -> tuple[bytes, int]:
    # Read at most max_bytes + 1 (decoded) bytes: a 2 GB body or a gzip bomb costs
    # no more than the cap.  aiohttp inflates each chunk with a bounded output size.
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if keep:
            chunks.append(chunk)
        if size > max_bytes:
            break
    return b"".join(chunks), size


def _os_reason(e: Exception) -> str:
    os_error = getattr(e, "os_error", None) or e
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(os_error, ConnectionResetError):
        return "connection reset by peer"
    text = getattr(os_error, "strerror", None) or str(os_error)
    return text or type(os_error).__name__


def _phases(
    marks: dict[str, float], start: float, body_start: float | None, end: float | None = None
) -> dict[str, float]:
    """Phase durations of the last hop (blackbox_exporter's resolve/connect/processing/transfer)."""
    out: dict[str, float] = {}
    if "resolve_start" in marks and "resolve_end" in marks:
        out["resolve"] = marks["resolve_end"] - marks["resolve_start"]
    if "connect_start" in marks and "connect_end" in marks:
        # aiohttp's connection phase includes resolution and the TLS handshake.
        out["connect"] = marks["connect_end"] - marks["connect_start"] - out.get("resolve", 0.0)
    sent = marks.get("sent", marks.get("connect_end"))
    if sent is not None and "headers" in marks:
        out["processing"] = max(0.0, marks["headers"] - sent)
    if body_start is not None and end is not None:
        out["transfer"] = end - body_start
    return out


def _mark(name: str) -> Any:
    async def on_event(session: aiohttp.ClientSession, ctx: Any, params: Any) -> None:
        if ctx is None:
            return
        ctx.marks[name] = time.perf_counter()

    return on_event


class _GuardedConnector(aiohttp.TCPConnector):
    """Asks the fetch's guard about every connection's resolved addresses.

    ``_resolve_host`` is where aiohttp turns a host — a name through our resolver, or an IP
    literal, which skips the resolver — into the addresses it will connect to, once per new
    connection and so once per redirect hop.  A connection taken from a keep-alive pool is not
    resolved again: :meth:`connect` asks the guard about the address it is connected to before
    the request is written, so that every hop of every fetch is judged by that fetch's guard."""

    async def connect(self, req: Any, traces: Any, timeout: aiohttp.ClientTimeout) -> Any:
        guard = _GUARD.get()
        before = guard.connections if guard is not None else 0
        conn = await super().connect(req, traces, timeout)
        if guard is None or guard.connections != before:
            return conn  # no policy, or a new connection: _resolve_host has judged it
        transport = conn.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        host, port = req.url.host or "", req.url.port or 0
        if not peer or not guard.admit(host, port, [str(peer[0])]):
            conn.close()
            raise Blocked(guard.refused[-1] if guard.refused else f"{host}: reused connection has no address")
        return conn

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[ResolveResult]:
        hosts = await super()._resolve_host(host, port, traces=traces)
        guard = _GUARD.get()
        if guard is None:
            return hosts
        kept = guard.admit(host, port, [h["host"] for h in hosts])
        if not kept:
            raise Blocked(guard.refused[-1] if guard.refused else f"{host}: no address allowed")
        return [h for h in hosts if h["host"] in kept]


class _AiohttpResolver(AbstractResolver):
    """aiohttp resolves through the agent's DNS path, preferred family first."""

    def __init__(self, net: Network) -> None:
        self._net = net

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=addr, port=port, family=fam, proto=0, flags=socket.AI_NUMERICHOST)
            for addr, fam in await self._net.addresses(host)
        ]

    async def close(self) -> None:
        return None


def _trace_ctx(trace_request_ctx: Any = None) -> Any:
    # The per-request namespace passed as trace_request_ctx is the trace context itself.
    return trace_request_ctx
