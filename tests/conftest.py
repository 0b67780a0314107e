"""Shared fixtures: the loopback world (DNS zone, CA, sites) that tests run in.

- ``dns_server``: a started :class:`~agent.demo.dnsserver.DnsServer` (empty zone; ``set``/``fault`` names).
- ``pki``: a :class:`~agent.demo.pki.Pki` whose CA file lives in the test's tmp dir.
- ``site_factory``: ``await site_factory(app_or_handler, tls=..., name=...)`` serves on 127.0.0.1:0 and
  returns the base URL (``http://127.0.0.1:PORT/``, or ``https://NAME:PORT/`` with ``name``, which is
  then put in ``dns_server``'s zone).  Everything started is closed after the test.
- ``config_factory``: ``config_factory(sites=[...], accounts=[...], **sections)`` → a validated
  :class:`~agent.registry.config.Config` whose resolver is ``dns_server`` and whose ``tls.ca_file`` is ``pki``'s CA.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from aiohttp import web

from agent.demo import hostile
from agent.demo.dnsserver import DnsServer
from agent.demo.pki import Pki
from agent.registry.config import Config, loads

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SiteFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def dns_server() -> AsyncIterator[DnsServer]:
    server = DnsServer()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    p = Pki(tmp_path / "pki")
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
async def site_factory(request: pytest.FixtureRequest) -> AsyncIterator[SiteFactory]:
    """Serve an aiohttp app (or one handler answering every GET) on loopback; returns its base URL.

    ``tls``: ``None``/``False`` for plain HTTP, ``True`` for a valid certificate from ``pki`` (for
    ``name``, or 127.0.0.1), or a ready :class:`ssl.SSLContext` (e.g. ``pki.expired(name)``).
    ``name``: a host name put in ``dns_server``'s zone (→ 127.0.0.1) and used in the returned URL.
    """
    started: list[hostile.Served] = []

    async def factory(
        app_or_handler: web.Application | Handler,
        *,
        tls: bool | ssl.SSLContext | None = None,
        name: str | None = None,
    ) -> str:
        app = app_or_handler
        if not isinstance(app, web.Application):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", cast(Handler, app_or_handler))
        ctx: ssl.SSLContext | None
        if tls is True:
            ctx = request.getfixturevalue("pki").valid(name or "127.0.0.1")
        else:
            ctx = tls or None
        served = await hostile.serve_app(app, ssl_context=ctx)
        started.append(served)
        if name is not None:
            request.getfixturevalue("dns_server").set(name, ["127.0.0.1"])
            return served.url_for(name)
        return served.url

    try:
        yield factory
    finally:
        for served in reversed(started):
            await served.close()


ConfigFactory = Callable[..., Config]


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


@pytest.fixture
def config_factory(dns_server: DnsServer, pki: Pki, tmp_path: Path) -> ConfigFactory:
    """Build a validated Config on the loopback world; keyword sections merge over the defaults.

    >>> cfg = config_factory(sites=[{"code": "4405070010", "name": "…", "url": url}], http={"timeout": "2s"})
    """

    def make(
        *,
        sites: Sequence[Mapping[str, Any]] = (),
        accounts: Sequence[Mapping[str, Any]] = (),
        **sections: Any,
    ) -> Config:
        raw: dict[str, Any] = {
            "listen": "127.0.0.1:0",
            "state_dir": str(tmp_path / "state"),
            "dns": {"nameservers": [dns_server.address], "timeout": "2s"},
            "tls": {"ca_file": pki.ca_file, "timeout": "5s"},
            "http": {"timeout": "5s"},
        }
        raw = _merge(raw, sections)
        if sites:
            raw["sites"] = [dict(s) for s in sites]
        if accounts:
            raw["accounts"] = [dict(a) for a in accounts]
        path = tmp_path / "xuncha.yml"
        text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return loads(text, path=str(path))

    return make
