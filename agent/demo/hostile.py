"""Servers that misbehave on purpose, on 127.0.0.1 port 0.

Each function starts one server and returns a :class:`Served` with ``url``,
``port`` and ``close()``.  They are the faults of issue 2 ("Bad input and
faults"): a server that accepts and never answers, a redirect loop, a 2 GB body,
a gzip bomb, invalid UTF-8, a slow response, garbage instead of a TLS handshake,
a refused port, a 500, huge headers, a reset.  All are cheap on CPU: big bodies
repeat one precomputed chunk and stop as soon as the client goes away.

:func:`serve_app` (an aiohttp application on port 0) and :func:`serve_tcp` (a raw
asyncio handler) are the building blocks; the fleet and the tests use them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import ssl
import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

LOOPBACK = "127.0.0.1"
GIB = 1 << 30


@dataclass(eq=False)
class Served:
    """A started loopback server.  ``url`` is ``scheme://host:port/``."""

    port: int
    scheme: str = "http"
    host: str = LOOPBACK
    _closer: Callable[[], Awaitable[None]] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/"

    def url_for(self, host_name: str, path: str = "/") -> str:
        """The URL under another host name (one that our DNS server maps to 127.0.0.1)."""
        return f"{self.scheme}://{host_name}:{self.port}{path}"

    async def close(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None:
            await closer()

    async def __aenter__(self) -> Served:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --- building blocks -----------------------------------------------------------


async def serve_app(
    app: web.Application,
    *,
    ssl_context: ssl.SSLContext | None = None,
    host: str = LOOPBACK,
    port: int = 0,
    sock: socket.socket | None = None,
    shutdown_timeout: float = 0.25,
) -> Served:
    """Serve ``app`` on ``host:port`` (or an already bound ``sock``) until ``close()``.

    ``shutdown_timeout`` is short: a slow handler (sleeping 20 s on purpose) must not
    hold up closing.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout, handle_signals=False)
    await runner.setup()
    try:
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(runner, sock, ssl_context=ssl_context)
        else:
            site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_address=True)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0]
    return Served(port=bound[1], scheme="https" if ssl_context else "http", host=host, _closer=runner.cleanup)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve_tcp(handler: Handler, *, host: str = LOOPBACK, scheme: str = "http") -> Served:
    """Serve raw TCP connections with ``handler``; ``close()`` also drops open connections."""
    writers: set[asyncio.StreamWriter] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.add(writer)
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the loop is shutting down; Python 3.11's streams would log a cancelled callback
        finally:
            writers.discard(writer)
            writer.close()

    server = await asyncio.start_server(on_connect, host, 0, reuse_address=True)
    port = server.sockets[0].getsockname()[1]

    async def close() -> None:
        server.close()
        for w in list(writers):
            w.transport.abort()  # handlers see EOF or a reset and return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)

    return Served(port=port, scheme=scheme, host=host, _closer=close)


async def _read_request_head(reader: asyncio.StreamReader, limit: int = 65536) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.LimitOverrunError, asyncio.IncompleteReadError):
        return b""


# --- the faults ------------------------------------------------------------------


async def silent() -> Served:
    """Accepts TCP connections, reads whatever comes, never writes a byte."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass

    return await serve_tcp(handler)


def free_port() -> int:
    """A loopback port nothing listens on now (for a server a test starts in another process)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


async def refused() -> Served:
    """A port where connections are refused: bound, never listening (so nobody else takes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    port = sock.getsockname()[1]

    async def close() -> None:
        sock.close()

    return Served(port=port, _closer=close)


async def reset() -> Served:
    """Accepts, then resets the connection (RST) as soon as the request arrives."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    return await serve_tcp(handler)


async def tls_garbage(size: int = 4096) -> Served:
    """Random bytes instead of a TLS handshake (or an HTTP response), then close."""
    noise = os.urandom(size)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)  # wait for the ClientHello / request, then answer nonsense
        writer.write(noise)
        await writer.drain()

    return await serve_tcp(handler, scheme="https")


async def huge_headers(line_bytes: int = 16 * 1024, count: int = 64) -> Served:
    """A 200 whose header block is ``count`` lines of ``line_bytes`` each (1 MiB by default)."""
    line = b"X-Filler-%d: " + b"a" * line_bytes + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nConnection: close\r\n"
    block = head + b"".join(line % i for i in range(count)) + b"Content-Length: 2\r\n\r\nok"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request_head(reader)
        writer.write(block)
        await writer.drain()

    return await serve_tcp(handler)


async def status(code: int = 500, *, ssl_context: ssl.SSLContext | None = None) -> Served:
    """Every path answers ``code`` with a small error page."""

    async def handler(request: web.Request) -> web.Response:
        body = f"<html><head><title>{code}</title></head><body><h1>{code} 服务器内部错误</h1></body></html>"
        return web.Response(status=code, text=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return await serve_app(app, ssl_context=ssl_context)


async def redirect_loop(*, ssl_context: ssl.SSLContext | None = None) -> Served:
    """``/`` → ``/a`` → ``/b`` → ``/a`` … forever; ``/chain/N`` → ``/chain/N+1`` never ends either."""

    async def loop(request: web.Request) -> web.Response:
        target = {"/": "/a", "/a": "/b", "/b": "/a"}.get(request.path, "/a")
        raise web.HTTPFound(target)

    async def chain(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/chain/{n + 1}")

    app = web.Application()
    app.router.add_get(r"/chain/{n:\d+}", chain)
    app.router.add_get("/{tail:.*}", loop)
    return await serve_app(app, ssl_context=ssl_context)


async def slow(
    delay: float = 20.0, body: str = "<html><body>终于来了</body></html>", *, ssl_context: ssl.SSLContext | None = None
) -> Served:
    """Sends headers only after ``delay`` seconds (the 15 s inspection rule is exceeded by default)."""

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.Response(text=body, content_type="text/html", charset="utf-8")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return await serve_app(app, ssl_context=ssl_context)


INVALID_UTF8_PAGE = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>\xe6\x94\xbf\xe5\xba\x9c\xff\xfe</title></head>'
    b"<body><h1>\xe5\xb7\xa5\xe4\xbd\x9c\xe5\x8a\xa8\xe6\x80\x81</h1><ul>"
    b"<li><a href='/a.html'>\xc0\xaf\xed\xa0\x80 \x80\x81\x82 \xe5\xb7</a><span>2024-01-02</span></li>"
    b"<li><a href='/b.html'>\xf8\x88\x80\x80\x80 \xf4\x90\x80\x80</a><span>2024-01-01</span></li>"
    b"</ul></body></html>"
)


async def invalid_utf8(*, ssl_context: ssl.SSLContext | None = None) -> Served:
    """Declares UTF-8 (header and meta), sends overlong forms, surrogates, stray and truncated bytes."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=INVALID_UTF8_PAGE, headers={"Content-Type": "text/html; charset=utf-8"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return await serve_app(app, ssl_context=ssl_context)


_FILLER = (b"<p>\xe6\x94\xbf\xe5\xba\x9c\xe7\xbd\x91\xe7\xab\x99</p>\n" * 16384)[: 256 * 1024]


async def endless_body(size: int | None = 2 * GIB, *, ssl_context: ssl.SSLContext | None = None) -> Served:
    """A 200 whose body is ``size`` bytes (with Content-Length) or, for ``None``, endless chunked.

    The body repeats one 256 KiB chunk and stops as soon as the client goes away.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
        if size is not None:
            resp.content_length = size
        await resp.prepare(request)
        await _stream(resp, size, _FILLER)
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return await serve_app(app, ssl_context=ssl_context)


async def _stream(resp: web.StreamResponse, size: int | None, chunk: bytes) -> int:
    sent = 0
    try:
        while size is None or sent < size:
            part = chunk if size is None or size - sent >= len(chunk) else chunk[: size - sent]
            await resp.write(part)
            sent += len(part)
    except (ConnectionError, RuntimeError):
        pass  # the client went away: stop at once
    return sent


_MIB = 1 << 20


@functools.cache
def _gzip_parts() -> tuple[bytes, bytes]:
    """The 10-byte gzip header and one deflate block that inflates to 1 MiB of zeros.

    After a full flush the compressor forgets its window, so the block for the next
    MiB of zeros is byte-for-byte the same: the bomb is this block repeated.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = c.compress(bytes(_MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(_MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    assert first[10:] == block, "zlib produced a different block after a full flush"
    return first[:10], block


@functools.cache
def _gzip_trailer(mib: int) -> bytes:
    # Only computed when a client inflates the whole bomb (then it paid far more itself).
    crc, zeros = 0, bytes(_MIB)
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return b"\x03\x00" + struct.pack("<II", crc, (mib * _MIB) & 0xFFFFFFFF)  # empty final block, CRC, ISIZE


def gzip_bomb_bytes(mib: int) -> bytes:
    """A complete gzip stream of ``mib`` MiB of zeros (for small sizes in tests)."""
    header, block = _gzip_parts()
    return header + block * mib + _gzip_trailer(mib)


async def gzip_bomb(size: int = GIB, *, ssl_context: ssl.SSLContext | None = None) -> Served:
    """``Content-Encoding: gzip`` of ``size`` bytes of zeros (about 1 MB on the wire per GiB)."""
    mib = max(1, size // _MIB)
    header, block = _gzip_parts()
    batch = block * 64  # one write per 64 MiB inflated

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        resp.content_length = len(header) + len(block) * mib + 10
        await resp.prepare(request)
        try:
            await resp.write(header)
            left = mib
            while left:
                n = min(left, 64)
                await resp.write(batch if n == 64 else block * n)
                left -= n
            await resp.write(_gzip_trailer(mib))
        except (ConnectionError, RuntimeError):
            pass
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return await serve_app(app, ssl_context=ssl_context)
