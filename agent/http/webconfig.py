"""The web configuration file of Prometheus' exporter-toolkit (``--web.config.file``).

The same file node_exporter, blackbox_exporter and Prometheus itself read
(https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md),
so an office that already has one for its exporters can point Xuncha at it, and
Prometheus' scrape configs (``basic_auth``, ``tls_config``) speak to it unchanged.

Loading is pure (files are read, nothing is served): :func:`load` returns a
:class:`WebConfig` or raises :class:`~agent.registry.config.ConfigError` whose issues name
the file and the field (``web.yml: tls_server_config.cert_file: …``), so a bad
file is refused at start and a bad reload keeps the running one.

Differences from the Go toolkit, each refused with a clear error rather than
accepted and silently weakened: ``client_auth_type`` ``RequestClientCert`` and
``RequireAnyClientCert`` (a certificate that is never verified proves nothing;
Python's ``ssl`` cannot express them); ``cipher_suites`` names outside the table
below.  ``http2`` is accepted and ignored (the agent speaks HTTP/1.1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.registry.config import ConfigError, ConfigIssue
from domain.durations import parse_duration

CLIENT_AUTH_TYPES = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
_UNVERIFIED_CLIENT_AUTH = ("RequestClientCert", "RequireAnyClientCert")
TLS_VERSIONS = ("TLS10", "TLS11", "TLS12", "TLS13")
# Go's names (crypto/tls constants) → OpenSSL's.  TLS 1.3 suites are not configurable in Go
# either; they are accepted and left to OpenSSL's defaults.
CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}
CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1", "X25519": "X25519"}
# The toolkit's header names and, where it restricts them, their accepted values.
HEADERS: dict[str, tuple[str, ...] | None] = {
    "Content-Security-Policy": None,
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-Content-Type-Options": ("nosniff",),
    "X-XSS-Protection": None,
    "Strict-Transport-Security": None,
}
_BCRYPT = re.compile(r"\$2[abxy]\$(\d\d)\$[./A-Za-z0-9]{53}")


@dataclass(frozen=True, slots=True)
class TlsServerConfig:
    cert_file: str = ""
    key_file: str = ""
    cert: str = ""  # inline PEM
    key: str = ""
    client_auth_type: str = "NoClientCert"
    client_ca_file: str = ""
    client_ca: str = ""
    client_allowed_sans: tuple[str, ...] = ()
    min_version: str = "TLS12"
    max_version: str = "TLS13"
    cipher_suites: tuple[str, ...] = ()  # OpenSSL names
    prefer_server_cipher_suites: bool = True
    curve_preferences: tuple[str, ...] = ()  # OpenSSL names

    @property
    def verifies_clients(self) -> bool:
        return self.client_auth_type in ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert")


@dataclass(frozen=True, slots=True)
class RateLimit:
    interval: float = 0.0  # seconds between requests; 0: no limit
    burst: int = 0


@dataclass(frozen=True, slots=True)
class WebConfig:
    path: str = ""
    tls: TlsServerConfig | None = None
    basic_auth_users: Mapping[str, str] = field(default_factory=dict)  # user → bcrypt hash
    headers: Mapping[str, str] = field(default_factory=dict)
    http2: bool = True
    rate_limit: RateLimit = RateLimit()

    @property
    def auth_required(self) -> bool:
        return bool(self.basic_auth_users)


OPEN = WebConfig()  # no file: plain HTTP, no authentication (the demo, loopback)


class _Reader:
    """Collects issues for one file; every key is checked against the toolkit's."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[ConfigIssue] = []

    def add(self, fld: str, message: str) -> None:
        self.issues.append(ConfigIssue(self.path, "", fld, message))

    def mapping(self, raw: Any, where: str, known: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.add(where, "must be a mapping")
            return {}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            name = f"{where}.{key}" if where else str(key)
            parse = known.get(str(key))
            if parse is None:
                self.add(name, f"unknown key (known: {', '.join(known)})")
                continue
            try:
                out[str(key)] = parse(value)
            except ValueError as e:
                self.add(name, str(e))
        return out


def _string(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"must be a string, not {type(v).__name__}")
    return v


def _strings(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError("must be a list of strings")
    return tuple(_string(x) for x in v)


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError("must be true or false")
    return v


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ValueError(f"{str(v)[:80]!r} is not one of {', '.join(options)}")
        return str(v)

    return check


def _file(base: Path) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        p = Path(_string(v))
        if not p.is_absolute():
            p = base / p  # relative to the web configuration file, as the toolkit does
        if not p.is_file():
            raise ValueError(f"{str(p)!r} is not a readable file")
        return str(p)

    return check


def _ciphers(v: Any) -> tuple[str, ...]:
    out = []
    for name in _strings(v):
        if name not in CIPHER_SUITES:
            raise ValueError(f"unknown or unsupported cipher suite {name[:80]!r} (known: {', '.join(CIPHER_SUITES)})")
        if CIPHER_SUITES[name]:
            out.append(CIPHER_SUITES[name])
    return tuple(out)


def _curves(v: Any) -> tuple[str, ...]:
    names = _strings(v)
    for name in names:
        if name not in CURVES:
            raise ValueError(f"unknown curve {name[:80]!r} (known: {', '.join(CURVES)})")
    return tuple(CURVES[n] for n in names)


def _bcrypt_users(v: Any) -> dict[str, str]:
    if not isinstance(v, Mapping):
        raise ValueError("must be a mapping of user name to bcrypt hash")
    out = {}
    for user, hashed in v.items():
        if not isinstance(user, str) or not user or ":" in user:
            raise ValueError(f"user {str(user)[:80]!r}: a user name is a non-empty string without ':'")
        if not isinstance(hashed, str) or not _BCRYPT.fullmatch(hashed):
            raise ValueError(
                f"user {user[:80]!r}: the password must be a bcrypt hash ($2y$10$…, see "
                "`xuncha hash-password`), not the password itself"
            )
        out[user] = hashed
    return out


def _headers(v: Any) -> dict[str, str]:
    if not isinstance(v, Mapping):
        raise ValueError("must be a mapping")
    out = {}
    for name, value in v.items():
        if name not in HEADERS:
            raise ValueError(f"header {str(name)[:80]!r} is not supported (known: {', '.join(HEADERS)})")
        text = _string(value) if value is not None else ""
        allowed = HEADERS[name]
        if text and allowed is not None and text.lower() not in allowed:
            raise ValueError(f"{name}: {text[:80]!r} is not one of {', '.join(allowed)}")
        if "\n" in text or "\r" in text:
            raise ValueError(f"{name}: a header value cannot contain a line break")
        if text:  # blank: unset, as in the toolkit
            out[str(name)] = text
    return out


def _interval(v: Any) -> float:
    if v in (0, "0", "0s"):
        return 0.0
    return parse_duration(_string(v))


def _burst(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError("must be a non-negative integer")
    return v


def _pem(v: Any) -> str:
    text = _string(v)
    if "-----BEGIN" not in text:
        raise ValueError("must be PEM text (-----BEGIN …)")
    return text


def _tls(r: _Reader, raw: Any, base: Path) -> TlsServerConfig | None:
    if raw is None:
        return None
    values = r.mapping(
        raw,
        "tls_server_config",
        {
            "cert_file": _file(base),
            "key_file": _file(base),
            "cert": _pem,
            "key": _pem,
            "client_auth_type": _one_of(CLIENT_AUTH_TYPES),
            "client_ca_file": _file(base),
            "client_ca": _pem,
            "client_allowed_sans": _strings,
            "min_version": _one_of(TLS_VERSIONS),
            "max_version": _one_of(TLS_VERSIONS),
            "cipher_suites": _ciphers,
            "prefer_server_cipher_suites": _boolean,
            "curve_preferences": _curves,
        },
    )
    if not isinstance(raw, Mapping):
        return None
    where = "tls_server_config."
    for inline, file in (("cert", "cert_file"), ("key", "key_file"), ("client_ca", "client_ca_file")):
        if inline in raw and file in raw:
            r.add(where + inline, f"give {inline} or {file}, not both")
    has_cert = "cert" in raw or "cert_file" in raw
    has_key = "key" in raw or "key_file" in raw
    if not has_cert:
        r.add(where + "cert_file", "is required (or cert)")
    if not has_key:
        r.add(where + "key_file", "is required (or key)")
    auth = values.get("client_auth_type", "NoClientCert")
    if auth in _UNVERIFIED_CLIENT_AUTH:
        r.add(
            where + "client_auth_type",
            f"{auth} accepts certificates it never verifies; use "
            "RequireAndVerifyClientCert (or VerifyClientCertIfGiven)",
        )
    elif auth != "NoClientCert" and not ("client_ca_file" in raw or "client_ca" in raw):
        r.add(where + "client_ca_file", f"is required with client_auth_type {auth}")
    if values.get("client_allowed_sans") and auth != "RequireAndVerifyClientCert":
        r.add(where + "client_allowed_sans", "needs client_auth_type RequireAndVerifyClientCert")
    lo, hi = values.get("min_version", "TLS12"), values.get("max_version", "TLS13")
    if TLS_VERSIONS.index(lo) > TLS_VERSIONS.index(hi):
        r.add(where + "min_version", f"{lo} is above max_version {hi}")
    try:
        return TlsServerConfig(**values)
    except TypeError:  # pragma: no cover — every key is known
        return None


def loads(text: str, *, path: str = "web.yml") -> WebConfig:
    from agent.registry.yamlsafe import YamlError, safe_load

    try:
        raw = safe_load(text)
    except YamlError as e:
        raise ConfigError([ConfigIssue(path, e.where, "", str(e))]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([ConfigIssue(path, "", "", "the top level must be a mapping")])
    r = _Reader(path)
    base = Path(path).parent
    top = r.mapping(
        raw,
        "",
        {
            "tls_server_config": lambda v: v,
            "http_server_config": lambda v: v,
            "basic_auth_users": _bcrypt_users,
            "rate_limit": lambda v: v,
        },
    )
    tls = _tls(r, top.get("tls_server_config"), base)
    http = r.mapping(top.get("http_server_config"), "http_server_config", {"http2": _boolean, "headers": _headers})
    limit = r.mapping(top.get("rate_limit"), "rate_limit", {"interval": _interval, "burst": _burst})
    if r.issues:
        raise ConfigError(r.issues)
    return WebConfig(
        path=path,
        tls=tls,
        basic_auth_users=top.get("basic_auth_users") or {},
        headers=http.get("headers", {}),
        http2=http.get("http2", True),
        rate_limit=RateLimit(**limit),
    )


def load(path: str | Path) -> WebConfig:
    """Read and validate the web configuration file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([ConfigIssue(str(path), "", "", f"cannot read the web configuration: {e}")]) from None
    cfg = loads(text, path=str(path))
    _check_tls_material(cfg)
    return cfg


def _check_tls_material(cfg: WebConfig) -> None:
    """Certificates that do not load are an error now, not at the first connection."""
    if cfg.tls is None:
        return
    from agent.http.web import ssl_context  # the serving side builds the context; one code path

    try:
        ssl_context(cfg.tls)
    except (OSError, ValueError) as e:
        raise ConfigError(
            [ConfigIssue(cfg.path, "", "tls_server_config", f"cannot load the certificate, key or client CA: {e}")]
        ) from None


def init_files(out: str | Path, user: str = "prometheus", cost: int = 10) -> tuple[Path, Path, bool]:
    """Write ``web-config.yml`` (bcrypt hash of a random password) and ``xuncha-password`` into ``out``.

    For the compose stack: a one-shot container makes both on first start, the agent reads the
    first, Prometheus' ``basic_auth.password_file`` the second — no password ships in the
    repository.  Existing files are kept.  Returns (web config, password file, created).
    """
    import secrets

    import bcrypt

    out = Path(out)
    web, password_file = out / "web-config.yml", out / "xuncha-password"
    if web.exists() and password_file.exists():
        return web, password_file, False
    out.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()
    password_file.write_text(password, encoding="utf-8")
    # Readable by Prometheus' container user (nobody), which shares only this volume.
    password_file.chmod(0o644)
    web.write_text(
        "# Made by `xuncha init-web-config`; the password is in xuncha-password next to this file.\n"
        "# Format: https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md\n"
        f"basic_auth_users:\n  {user}: '{hashed}'\n"
        "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n    X-Frame-Options: deny\n",
        encoding="utf-8",
    )
    return web, password_file, True
