"""Serving the agent's port safely: TLS, basic auth, headers, limits, lifecycle, access log.

An adapter at the edge: :mod:`agent.http.server` defines the endpoints; this module wraps
them with what the exporter-toolkit web configuration (:mod:`agent.http.webconfig`) asks
for, and with defences the issue-10 battery showed were missing:

- every endpoint authenticated when ``basic_auth_users`` is set (``/healthz`` open only
  with ``web.healthz_open``); bcrypt results cached, as the toolkit does, so a scrape
  costs one hash lookup and not 70 ms of bcrypt;
- state-changing requests (``POST /-/reload``) refused with 403 unless
  ``--web.enable-lifecycle``, as Prometheus does, and rate-limited when enabled;
- a header timeout and a connection cap that evicts idle connections first, so 1,100
  idle sockets cannot take the descriptors probes and scrapes need;
- an access log (remote address, user, method, path, status) for reload, ``/api/`` and
  refused requests — the audit trail 等保 2.0 asks for.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import os
import resource
import ssl
import tempfile
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from agent.http.webconfig import OPEN, TlsServerConfig, WebConfig

log = logging.getLogger(__name__)
access_log = logging.getLogger("xuncha.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Who the request authenticated as, for the access log (a typed key where aiohttp has them).
USER: Any = web.RequestKey("user", str) if hasattr(web, "RequestKey") else "user"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Protection of the agent's own port (``web:`` in xuncha.yml)."""

    max_connections: int = 512  # further connections evict idle ones, then are refused
    header_timeout: float = 10.0  # a connection must send a whole request head within this
    idle_timeout: float = 75.0  # keep-alive connections idle this long are closed
    lifecycle_burst: int = 5  # POST /-/reload: this many at once …
    lifecycle_interval: float = 2.0  # … then one per this many seconds


# --- TLS -------------------------------------------------------------------------------


def ssl_context(tls: TlsServerConfig) -> ssl.SSLContext:
    """A server context from ``tls_server_config``; ``OSError``/``ValueError`` if it cannot load."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    load_into(ctx, tls)
    return ctx


def load_into(ctx: ssl.SSLContext, tls: TlsServerConfig) -> None:
    """(Re)load certificates and policy into ``ctx``: new connections see them at once."""
    ctx.minimum_version = _TLS_VERSIONS[tls.min_version]
    ctx.maximum_version = _TLS_VERSIONS[tls.max_version]
    if tls.cipher_suites:
        ctx.set_ciphers(":".join(tls.cipher_suites))
    if tls.prefer_server_cipher_suites:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    if tls.curve_preferences:
        ctx.set_ecdh_curve(tls.curve_preferences[0])  # OpenSSL through Python takes one
    with _pem_files(tls) as (cert, key):
        ctx.load_cert_chain(cert, key)
    if tls.verifies_clients:
        if tls.client_ca_file:
            ctx.load_verify_locations(cafile=tls.client_ca_file)
        if tls.client_ca:
            ctx.load_verify_locations(cadata=tls.client_ca)
        required = tls.client_auth_type == "RequireAndVerifyClientCert"
        ctx.verify_mode = ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL
    else:
        ctx.verify_mode = ssl.CERT_NONE


@contextlib.contextmanager
def _pem_files(tls: TlsServerConfig) -> Any:
    """Paths for ``load_cert_chain``: inline PEM goes through private temporary files."""
    made: list[str] = []
    try:
        paths = []
        for path, inline in ((tls.cert_file, tls.cert), (tls.key_file, tls.key)):
            if inline:
                fd, path = tempfile.mkstemp(prefix="xuncha-web-", suffix=".pem")
                made.append(path)
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(inline)
            paths.append(path)
        yield paths[0], paths[1]
    finally:
        for path in made:
            with contextlib.suppress(OSError):
                os.unlink(path)


def _sans(peercert: dict[str, Any] | None) -> set[str]:
    return {str(value) for _, value in (peercert or {}).get("subjectAltName", ())}


# --- rate limits and the bcrypt cache ---------------------------------------------------------


class TokenBucket:
    """``burst`` requests at once, then one per ``interval`` seconds."""

    def __init__(self, interval: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.burst, self._clock = interval, max(burst, 1), clock
        self._tokens = float(self.burst)
        self._last = clock()

    def take(self) -> float:
        """0 if a request may go now, else the seconds until one may."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) / self.interval)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) * self.interval


class PasswordCache:
    """bcrypt checks, off the event loop, one at a time, results cached by a salted digest.

    A scrape every 15 s would otherwise spend ~70 ms of CPU (cost 10) on every request;
    the toolkit caches the same way.  One check at a time bounds what a flood of wrong
    passwords can cost: the loop stays free and cached (legitimate) users never wait.
    """

    def __init__(self, size: int = 1024) -> None:
        self._results: OrderedDict[bytes, bool] = OrderedDict()
        self._size = size
        self._salt = os.urandom(16)
        self._lock = asyncio.Lock()
        self._dummy: bytes | None = None

    async def check(self, user: str, password: str, hashed: str | None) -> bool:
        key = hashlib.sha256(b"\0".join((self._salt, user.encode(), (hashed or "").encode(), password.encode())))
        digest = key.digest()
        if digest in self._results:
            self._results.move_to_end(digest)
            return self._results[digest]
        async with self._lock:
            if digest in self._results:  # checked while this request waited for the lock
                return self._results[digest]
            ok = await asyncio.to_thread(self._checkpw, password, hashed)
        self._results[digest] = ok
        while len(self._results) > self._size:
            self._results.popitem(last=False)
        return ok

    def _checkpw(self, password: str, hashed: str | None) -> bool:
        import bcrypt

        if hashed is None:
            # An unknown user costs as much as a wrong password, so names cannot be probed by
            # timing (the toolkit does the same): check against a hash of a random secret.
            if self._dummy is None:
                self._dummy = bcrypt.hashpw(os.urandom(16), bcrypt.gensalt(10))
            bcrypt.checkpw(password.encode(), self._dummy)
            return False
        try:
            return bcrypt.checkpw(password.encode(), hashed.encode())
        except ValueError:  # a hash the library cannot read: no access, never a crash
            return False


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or len(value) > 4096:
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = text.partition(":")
    return (user, password) if sep else None


# --- the guard: middlewares over the current web configuration --------------------------------


class WebGuard:
    """Holds the live :class:`WebConfig`; a reload swaps it (users, headers, certificates)."""

    def __init__(
        self,
        config: WebConfig = OPEN,
        *,
        lifecycle: bool = False,
        healthz_open: bool = False,
        limits: ServerLimits = ServerLimits(),
    ) -> None:
        self.config = config
        self.lifecycle = lifecycle
        self.healthz_open = healthz_open
        self.limits = limits
        self.passwords = PasswordCache()
        self.ssl: ssl.SSLContext | None = ssl_context(config.tls) if config.tls else None
        self._bucket = self._global_bucket(config)
        self._lifecycle_bucket = TokenBucket(limits.lifecycle_interval, limits.lifecycle_burst)

    @staticmethod
    def _global_bucket(config: WebConfig) -> TokenBucket | None:
        r = config.rate_limit
        return TokenBucket(r.interval, r.burst) if r.interval > 0 else None

    def update(self, config: WebConfig, *, healthz_open: bool | None = None) -> list[str]:
        """Apply a reloaded web configuration; returns warnings for what needs a restart."""
        warnings = []
        if (config.tls is None) != (self.ssl is None):
            warnings.append(
                f"{config.path or 'web configuration'}: turning TLS on or off needs a restart; "
                "the listener keeps its current mode"
            )
        elif config.tls is not None and self.ssl is not None:
            load_into(self.ssl, config.tls)
        if config.rate_limit != self.config.rate_limit:
            self._bucket = self._global_bucket(config)
        self.config = config
        if healthz_open is not None:
            self.healthz_open = healthz_open
        return warnings

    def middlewares(self) -> list[Any]:
        return [self._access, self._headers, self._rate_limit, self._authenticate, self._lifecycle_gate]

    @web.middleware
    async def _access(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            if _audited(request.method, request.path, status):
                access_log.info(
                    "%s %s %s %d user=%s",
                    request.remote,
                    request.method,
                    request.path[:200],
                    status,
                    request.get(USER, "-"),
                    extra={
                        "remote": request.remote,
                        "user": request.get(USER, ""),
                        "method": request.method,
                        "path": request.path[:200],
                        "status": status,
                        "duration_seconds": round(time.perf_counter() - started, 4),
                    },
                )

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as e:
            e.headers.update(self.config.headers)
            raise
        response.headers.update(self.config.headers)
        return response

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._bucket is not None and (wait := self._bucket.take()) > 0:
            return _too_many(wait)
        return await handler(request)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        cfg = self.config
        if cfg.tls is not None and cfg.tls.client_allowed_sans:
            peercert = request.transport.get_extra_info("peercert") if request.transport else None
            if not _sans(peercert) & set(cfg.tls.client_allowed_sans):
                return web.Response(status=403, text="client certificate not allowed\n")
        if not cfg.auth_required or (self.healthz_open and request.path == "/healthz"):
            return await handler(request)
        creds = _basic_credentials(request.headers.get("Authorization", ""))
        if creds is not None:
            user, password = creds
            if await self.passwords.check(user, password, cfg.basic_auth_users.get(user)):
                request[USER] = user
                return await handler(request)
            request[USER] = f"{user[:64]} (rejected)"
        return web.Response(status=401, text="Unauthorized\n", headers={"WWW-Authenticate": 'Basic realm="xuncha"'})

    @web.middleware
    async def _lifecycle_gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in _READ_METHODS:
            return await handler(request)
        if not self.lifecycle:
            # Prometheus' words for the same refusal.
            return web.Response(status=403, text="Lifecycle API is not enabled (start with --web.enable-lifecycle).\n")
        if (wait := self._lifecycle_bucket.take()) > 0:
            return _too_many(wait)
        return await handler(request)


def _too_many(wait: float) -> web.Response:
    return web.Response(
        status=429, text="Too many requests; try again later.\n", headers={"Retry-After": str(max(1, round(wait)))}
    )


def _audited(method: str, path: str, status: int) -> bool:
    """Who called reload and /api, and every refusal — not every scrape."""
    return method not in _READ_METHODS or path.startswith("/api") or status in (401, 403, 429)


# --- the connection guard ---------------------------------------------------------------------


def raise_nofile_limit() -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to the hard limit (Go's runtime does the same at start).

    1,024 descriptors, the usual soft default, were exhausted by 1,100 idle connections in
    issue 10; probes then failed for want of sockets.  Returns (soft, hard) after the change.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard_target = max(soft, 1 << 20)
    else:
        hard_target = hard
    if soft != resource.RLIM_INFINITY and soft < hard_target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard_target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def connection_cap(configured: int) -> int:
    """At most a quarter of the descriptors go to the agent's own port; the rest are the probes'."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(16, min(configured, soft // 4))


class ConnectionGuard:
    """Counts connections on the server; enforces the cap and the header timeout.

    Hooks ``connection_made``/``connection_lost`` of an aiohttp :class:`web.Server`
    (the handlers call them on their manager).  At the cap a new connection evicts the
    oldest connection that has no request in progress (an idle keep-alive or a slowloris
    still sending its head); if every connection is busy the new one is closed at once.
    """

    def __init__(self, server: web.Server, max_connections: int, header_timeout: float) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.live: dict[Any, asyncio.TimerHandle | None] = {}
        self.evicted = 0
        self.refused = 0
        self.timed_out = 0
        self._made, self._lost = server.connection_made, server.connection_lost
        server.connection_made = self.connection_made  # type: ignore[method-assign,assignment]
        server.connection_lost = self.connection_lost  # type: ignore[method-assign,assignment]

    def connection_made(self, handler: Any, transport: asyncio.Transport) -> None:
        self._made(handler, transport)
        if len(self.live) >= self.max_connections:
            victim = next((h for h in self.live if not getattr(h, "_request_in_progress", False)), None)
            if victim is None:
                self.refused += 1
                transport.abort()
                return
            self.evicted += 1
            self._forget(victim)  # now: connection_lost comes later, and the next accept must not pick it again
            victim.force_close()
        loop = asyncio.get_running_loop()
        self.live[handler] = loop.call_later(self.header_timeout, self._head_due, handler)

    def _head_due(self, handler: Any) -> None:
        if handler in self.live:
            self.live[handler] = None
            if getattr(handler, "_request_count", 1) == 0:  # not one whole request head yet
                self.timed_out += 1
                handler.force_close()

    def _forget(self, handler: Any) -> None:
        timer = self.live.pop(handler, None)
        if timer is not None:
            timer.cancel()

    def connection_lost(self, handler: Any, exc: BaseException | None) -> None:
        self._forget(handler)
        self._lost(handler, exc)


class GuardedAppRunner(web.AppRunner):
    """An :class:`web.AppRunner` whose server is watched by a :class:`ConnectionGuard`."""

    def __init__(self, app: web.Application, limits: ServerLimits, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", limits.idle_timeout)
        super().__init__(app, **kwargs)
        self._limits = limits
        self.guard: ConnectionGuard | None = None

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        cap = connection_cap(self._limits.max_connections)
        self.guard = ConnectionGuard(server, cap, self._limits.header_timeout)
        return server


# --- the agent's web state: which file, loaded when, applied how -----------------------------


class WebState:
    """The web configuration of a running agent: ``--web.config.file`` or ``web.config_file``."""

    def __init__(self, flag_file: str | None = None, enable_lifecycle: bool = False) -> None:
        self.flag_file = flag_file
        self.enable_lifecycle = enable_lifecycle
        self.guard: WebGuard | None = None
        self.path: str | None = None

    def files(self) -> tuple[Any, ...]:
        """The web configuration named by the flag, and the certificate files it names (renewals)."""
        from pathlib import Path

        out = [Path(self.flag_file)] if self.flag_file else []
        tls = self.guard.config.tls if self.guard is not None else None
        if tls is not None:
            out += [Path(f) for f in (tls.cert_file, tls.key_file, tls.client_ca_file) if f]
        return tuple(out)

    def _read(self, settings: Any) -> tuple[WebConfig, ServerLimits]:
        from agent.http import webconfig

        self.path = self.flag_file or settings.web.config_file
        config = webconfig.load(self.path) if self.path else OPEN
        limits = ServerLimits(
            max_connections=settings.web.max_connections,
            header_timeout=settings.web.header_timeout,
            idle_timeout=settings.web.idle_timeout,
        )
        return config, limits

    def load(self, settings: Any) -> WebGuard:
        """At start: a bad file raises ConfigError (fail fast)."""
        config, limits = self._read(settings)
        self.guard = WebGuard(
            config, lifecycle=self.enable_lifecycle, healthz_open=settings.web.healthz_open, limits=limits
        )
        log.info(
            "web: %s, TLS %s, basic auth %s, lifecycle API %s, at most %d connections",
            self.path or "no web configuration file",
            "on" if config.tls else "off",
            f"{len(config.basic_auth_users)} user(s)" if config.auth_required else "off",
            "on" if self.enable_lifecycle else "off",
            connection_cap(limits.max_connections),
        )
        return self.guard

    def read(self, settings: Any) -> tuple[WebConfig, ServerLimits]:
        """At reload, off the event loop: a bad file raises ConfigError and the running one stays."""
        return self._read(settings)

    def apply(self, read: tuple[WebConfig, ServerLimits], settings: Any) -> list[str]:
        """On the event loop (the live SSL context is not touched from another thread); returns warnings."""
        config, limits = read
        assert self.guard is not None
        try:
            warnings = self.guard.update(config, healthz_open=settings.web.healthz_open)
        except (OSError, ValueError) as e:  # a certificate replaced again since it was checked
            return [f"{config.path}: tls_server_config: not reloaded, the running certificate stays: {e}"]
        if limits != self.guard.limits:
            warnings.append("web.max_connections, header_timeout and idle_timeout apply at the next restart")
        return warnings


class GuardedTCPSite(web.TCPSite):
    """A :class:`web.TCPSite` whose TLS handshakes must finish within the header timeout.

    asyncio waits 60 s for a handshake by default, and a connection still in its handshake is
    not yet the web server's to count: 1,100 connections that never say ClientHello would
    hold 1,100 descriptors for a minute.  Same ``create_server`` call as aiohttp's, plus
    ``ssl_handshake_timeout``.
    """

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, *, handshake_timeout: float, **kwargs: Any
    ) -> None:
        super().__init__(runner, host, port, **kwargs)
        self._handshake_timeout = handshake_timeout

    async def start(self) -> None:
        if self._ssl_context is None:
            return await super().start()
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
            ssl_handshake_timeout=self._handshake_timeout,
        )
        if hasattr(self, "_bound_port") and self._server.sockets:
            self._bound_port = self._server.sockets[0].getsockname()[1]
