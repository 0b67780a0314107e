"""A throw-away certificate authority for loopback TLS (tests and the demo).

:class:`Pki` wraps a ``trustme`` CA and writes its certificate to ``ca_file`` so
an agent configured with ``tls.ca_file`` trusts it.  Server contexts come in the
shapes the TLS probe must tell apart: valid, expiring in N days, expired, issued
for another host, and self-signed (trusted by nobody).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ORGANIZATION = "Xuncha Demo CA (loopback only)"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Pki:
    """A CA whose certificate is written to ``ca_file`` (in ``directory``, or a temp dir)."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.ca = trustme.CA(organization_name=ORGANIZATION)
        self._tmp: str | None = None
        if directory is None:
            self._tmp = tempfile.mkdtemp(prefix="xuncha-pki-")
            directory = self._tmp
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = str(self.directory / "xuncha-demo-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)

    def issue(
        self,
        hostnames: str | Sequence[str],
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> trustme.LeafCert:
        names = [hostnames] if isinstance(hostnames, str) else list(hostnames)
        return self.ca.issue_cert(*names, not_before=not_before, not_after=not_after)

    def server_ssl_context(
        self,
        hostnames: str | Sequence[str],
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> ssl.SSLContext:
        """A server context presenting a leaf for ``hostnames`` (IPs allowed) and the CA chain."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.issue(hostnames, not_before, not_after).configure_cert(ctx)
        return ctx

    def valid(self, hostnames: str | Sequence[str]) -> ssl.SSLContext:
        return self.server_ssl_context(
            hostnames, not_before=_now() - dt.timedelta(days=30), not_after=_now() + dt.timedelta(days=365)
        )

    def expiring(self, hostnames: str | Sequence[str], days: float) -> ssl.SSLContext:
        """Valid now, expiring ``days`` from now."""
        return self.server_ssl_context(
            hostnames, not_before=_now() - dt.timedelta(days=355), not_after=_now() + dt.timedelta(days=days)
        )

    def expired(self, hostnames: str | Sequence[str], days_ago: float = 3) -> ssl.SSLContext:
        return self.server_ssl_context(
            hostnames,
            not_before=_now() - dt.timedelta(days=365 + days_ago),
            not_after=_now() - dt.timedelta(days=days_ago),
        )

    def not_yet_valid(self, hostnames: str | Sequence[str], days: float = 3) -> ssl.SSLContext:
        return self.server_ssl_context(
            hostnames, not_before=_now() + dt.timedelta(days=days), not_after=_now() + dt.timedelta(days=365)
        )

    def wrong_host(self, presented: str | Sequence[str] = "www.example-wrong.gov.cn") -> ssl.SSLContext:
        """A valid certificate from our CA, but for ``presented`` rather than the host asked for."""
        return self.valid(presented)

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context trusting only this CA (for tests talking to our servers)."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def self_signed_ssl_context(hostnames: str | Sequence[str], days: float = 365) -> ssl.SSLContext:
    """A server context with a self-signed leaf: correct names and dates, trusted by nobody."""
    names = [hostnames] if isinstance(hostnames, str) else list(hostnames)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Self-signed (untrusted)"),
        ]
    )
    sans: list[x509.GeneralName] = []
    for n in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            sans.append(x509.DNSName(n))
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="xuncha-selfsigned-") as d:
        cert_path, key_path = Path(d) / "cert.pem", Path(d) / "key.pem"
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        ctx.load_cert_chain(cert_path, key_path)
    return ctx
