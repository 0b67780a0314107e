"""TLS probe: the leaf certificate of the site's HTTPS endpoint, and whether it verifies.

An expired, untrusted or wrong-host certificate is data (``chain_valid``,
``hostname_match``, ``verify_error``), not an exception.  One handshake when the
chain verifies; a second, unverified one to read the certificate when it does not.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import time
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from cryptography import x509

from domain.registry import Site
from probes.context import ProbeContext
from probes.net import ResolveError
from probes.results import TlsResult


@dataclass(frozen=True, slots=True)
class Handshake:
    der: bytes = b""
    version: str = ""
    verify_error: str = ""  # set when the verifying handshake rejected the chain
    error: str = ""  # set when no certificate could be read at all


async def probe(site: Site, ctx: ProbeContext) -> TlsResult:
    started, t0 = ctx.clock(), time.perf_counter()
    parts = urlsplit(site.url)
    host, port = parts.hostname or "", parts.port or 443
    timeout = ctx.config.tls.timeout
    try:
        address = (await ctx.net.addresses(host))[0][0]
    except ResolveError as e:
        return TlsResult(
            success=False,
            reason=str(e),
            started=started,
            host=host,
            port=port,
            duration_seconds=time.perf_counter() - t0,
        )
    hs = await _handshake(address, port, host, ctx.net.chain_ssl, timeout)
    if hs.verify_error:
        unverified = await _handshake(address, port, host, ctx.net.unverified_ssl, timeout)
        hs = Handshake(unverified.der, unverified.version, hs.verify_error, unverified.error)
    return judge(host, port, address, hs, started=started, duration=time.perf_counter() - t0, now=ctx.clock())


async def _handshake(address: str, port: int, host: str, context: ssl.SSLContext, timeout: float) -> Handshake:
    writer = None
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(address, port, ssl=context, server_hostname=host)
            sslobj = writer.get_extra_info("ssl_object")
            return Handshake(der=sslobj.getpeercert(binary_form=True) or b"", version=sslobj.version() or "")
    except ssl.SSLCertVerificationError as e:
        return Handshake(verify_error=e.verify_message or str(e))
    except TimeoutError:
        return Handshake(error=f"tls: no handshake within {timeout:g}s")
    except ssl.SSLError as e:
        return Handshake(error=f"tls: handshake failed: {e.reason or e}")
    except ConnectionRefusedError:
        return Handshake(error="connect: connection refused")
    except OSError as e:
        return Handshake(error=f"connect: {e.strerror or e}")
    finally:
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 1)
            except (OSError, ssl.SSLError, TimeoutError):
                pass


def judge(
    host: str, port: int, address: str, hs: Handshake, *, started: float, duration: float, now: float
) -> TlsResult:
    base = TlsResult(success=False, started=started, duration_seconds=duration, host=host, port=port, address=address)
    if hs.error or not hs.der:
        return replace(base, reason=hs.error or "tls: the server sent no certificate")
    try:
        cert = x509.load_der_x509_certificate(hs.der)
    except ValueError as e:
        return replace(base, reason=f"tls: unreadable certificate: {e}")
    sans = subject_alt_names(cert)
    match = hostname_matches(host, sans)
    not_after = cert.not_valid_after_utc.timestamp()
    reasons = []
    if hs.verify_error:
        reasons.append(f"chain: {hs.verify_error}")
    if not match:
        reasons.append(f"host name {host} not in the certificate ({', '.join(sans) or 'no SAN'})")
    return replace(
        base,
        # The probe succeeds when it read a certificate; validity is in the fields.
        success=True,
        reason="; ".join(reasons),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=not_after,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=tuple(sans),
        serial=format(cert.serial_number, "x"),
        chain_valid=not hs.verify_error and now <= not_after,
        hostname_match=match,
        verify_error=hs.verify_error,
        tls_version=hs.version,
    )


def subject_alt_names(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    names = list(ext.get_values_for_type(x509.DNSName))
    names += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    return names


def hostname_matches(host: str, sans: list[str]) -> bool:
    """RFC 6125: exact match, or a wildcard in the left-most label only (``*.gov.cn``
    matches ``www.gov.cn``, not ``a.b.gov.cn``).  IP hosts match IP SANs only."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
        return any(_same_ip(ip, s) for s in sans)
    except ValueError:
        pass
    for san in (s.lower().rstrip(".") for s in sans):
        if san == host:
            return True
        if san.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == san[2:] and rest.count(".") >= 1:
                return True
    return False


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, san: str) -> bool:
    try:
        return ipaddress.ip_address(san) == ip
    except ValueError:
        return False
