"""A small authoritative DNS server on loopback, for tests, the demo and the bench.

It answers A and AAAA from a mutable table of names, NXDOMAIN (with an SOA in the
authority section, as a real zone does) for everything else, and can be told to
misbehave per name: SERVFAIL, REFUSED, or no answer at all.  UDP and TCP share one
port, so ``server.address`` ("127.0.0.1:PORT") goes straight into
``dns.nameservers`` of an ``xuncha.yml``.

Garbage packets are ignored, never fatal.  Answers are cached as wire bytes keyed
on the query without its ID, so a hot loop of lookups costs one dict hit and a
two-byte patch per query.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Iterable, Mapping
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

FAULTS = ("servfail", "refused", "drop")
_TTL = 60
_CACHE_MAX = 4096
_TCP_IDLE = 10.0


def _key(name: str) -> str:
    """Names compare case-insensitively, with or without the trailing dot."""
    return name.strip().rstrip(".").lower()


class DnsServer:
    """Authoritative answers for ``records`` on 127.0.0.1 (UDP and TCP, one port).

    >>> server = DnsServer(records={"www.st.gov.cn": ["127.0.0.1"]})
    >>> await server.start(); server.address   # "127.0.0.1:40123"
    """

    def __init__(
        self,
        records: Mapping[str, Iterable[str]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ttl: int = _TTL,
    ) -> None:
        self.host, self.port, self.ttl = host, port, ttl
        self._v4: dict[str, tuple[str, ...]] = {}
        self._v6: dict[str, tuple[str, ...]] = {}
        self._faults: dict[str, str] = {}
        self._cache: dict[bytes, bytes | None] = {}
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_writers: set[asyncio.StreamWriter] = set()
        self.queries = 0  # every well-formed query received, answered or not
        for name, addrs in (records or {}).items():
            self.set(name, addrs)

    # --- the zone ------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def set(self, name: str, addresses: Iterable[str]) -> None:
        """Make ``name`` answer with ``addresses`` (A or AAAA by family); clears a fault."""
        v4: list[str] = []
        v6: list[str] = []
        for a in addresses:
            ip = ipaddress.ip_address(a)
            (v4 if ip.version == 4 else v6).append(str(ip))
        key = _key(name)
        self._v4[key], self._v6[key] = tuple(v4), tuple(v6)
        self._faults.pop(key, None)
        self._cache.clear()

    def remove(self, name: str) -> None:
        """Forget ``name``: it answers NXDOMAIN from now on (a fault set on it stays)."""
        key = _key(name)
        self._v4.pop(key, None)
        self._v6.pop(key, None)
        self._cache.clear()

    def fault(self, name: str, mode: str | None) -> None:
        """Make ``name`` answer SERVFAIL, REFUSED, or nothing ("drop"); ``None`` heals it."""
        if mode is not None and mode not in FAULTS:
            raise ValueError(f"fault {mode!r} is not one of {', '.join(FAULTS)}")
        key = _key(name)
        if mode is None:
            self._faults.pop(key, None)
        else:
            self._faults[key] = mode
        self._cache.clear()

    def names(self) -> list[str]:
        return sorted(set(self._v4) | set(self._v6))

    # --- answering -------------------------------------------------------------

    def answer(self, wire: bytes, *, max_size: int | None = 512) -> bytes | None:
        """The response to query ``wire``, or ``None`` to stay silent (garbage, or "drop")."""
        if len(wire) < 12:
            return None
        key = wire[2:] + (b"t" if max_size is None else b"u")
        if key in self._cache:
            cached = self._cache[key]
            self.queries += 1
            return None if cached is None else wire[:2] + cached[2:]
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # noqa: BLE001 — any parse failure is a garbage packet, ignored
            return None
        if query.flags & dns.flags.QR:
            return None  # a response, not a query: never answer those (no loops)
        self.queries += 1
        out = self._respond(query, max_size)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = out
        return out

    def _respond(self, query: dns.message.Message, max_size: int | None) -> bytes | None:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        if len(query.question) != 1 or query.opcode() != 0:
            response.set_rcode(dns.rcode.NOTIMP if query.opcode() != 0 else dns.rcode.FORMERR)
            return response.to_wire()
        q = query.question[0]
        key = _key(q.name.to_text())
        fault = self._faults.get(key)
        if fault == "drop":
            return None
        if fault is not None:
            response.set_rcode(dns.rcode.SERVFAIL if fault == "servfail" else dns.rcode.REFUSED)
            return response.to_wire()
        if q.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
            return response.to_wire()
        if key not in self._v4 and key not in self._v6:
            response.set_rcode(dns.rcode.NXDOMAIN)
            response.authority.append(self._soa(q.name))
            return response.to_wire()
        found = []
        if q.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            found.append(("A", self._v4.get(key, ())))
        if q.rdtype in (dns.rdatatype.AAAA, dns.rdatatype.ANY):
            found.append(("AAAA", self._v6.get(key, ())))
        for rdtype, addrs in found:
            if addrs:
                response.answer.append(dns.rrset.from_text_list(q.name, self.ttl, "IN", rdtype, list(addrs)))
        if not response.answer:
            response.authority.append(self._soa(q.name))  # NODATA: the name exists, not this type
        limit = max_size
        if limit is not None and query.edns >= 0:
            limit = max(512, min(query.payload, 4096))
        try:
            return response.to_wire(max_size=limit or 0)
        except dns.exception.TooBig:
            response.answer.clear()
            response.authority.clear()
            response.flags |= dns.flags.TC
            return response.to_wire()

    def _soa(self, qname: dns.name.Name) -> dns.rrset.RRset:
        labels = qname.labels
        zone = dns.name.Name(labels[-3:]) if len(labels) > 3 else qname  # e.g. gov.cn.
        return dns.rrset.from_text(
            zone, self.ttl, "IN", "SOA", f"ns.{zone.to_text()} hostmaster.{zone.to_text()} 1 3600 600 86400 {self.ttl}"
        )

    # --- serving ---------------------------------------------------------------

    async def start(self) -> DnsServer:
        loop = asyncio.get_running_loop()
        last: OSError | None = None
        for _ in range(20):  # port 0: UDP picks a port, TCP must get the same one
            transport, _proto = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, self.port), family=socket.AF_INET
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port, reuse_address=True)
            except OSError as e:
                transport.close()
                last = e
                if self.port:
                    raise
                continue
            self._udp = transport
            self.port = port
            return self
        raise OSError(f"could not bind UDP and TCP on one port: {last}")

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for w in list(self._tcp_writers):
                w.close()
            with contextlib.suppress(Exception):
                await self._tcp.wait_closed()
            self._tcp = None

    async def __aenter__(self) -> DnsServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tcp_writers.add(writer)
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), _TCP_IDLE)
                (length,) = struct.unpack("!H", head)
                wire = await asyncio.wait_for(reader.readexactly(length), _TCP_IDLE)
                out = self.answer(wire, max_size=None)
                if out is None:
                    continue  # "drop" (or garbage): say nothing, keep the line open
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self._tcp_writers.discard(writer)
            writer.close()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = self.server.answer(data)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable from a client that went away: nothing to do
