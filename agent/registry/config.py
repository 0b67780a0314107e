"""The registry: ``xuncha.yml`` plus the CSV files it names, validated.

Every problem becomes a :class:`ConfigIssue` naming the file, the entry and the
field; :func:`load` collects them all and raises one :class:`ConfigError`, so
``xuncha check-config`` can print every error at once (gatus: fail fast, but say
everything).  Unknown keys are errors: a typo must not silently fall back to a
default.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

import yaml

from agent import limits
from agent.kinds import KINDS
from agent.registry import csvsafe
from agent.registry import scoring as scoring_mod
from domain.divisions import SITE_CODE, division_known, region_named, region_of, region_of_unit
from domain.durations import parse_duration
from domain.registry import (
    ACCOUNT_STATUSES,
    COLUMN_CATEGORIES,
    SITE_KINDS,
    SITE_STATUSES,
    Account,
    Column,
    Site,
)
from domain.scoring import DEFAULT_TABLE, Table
from domain.settings import (
    Concurrency,
    ContentConfig,
    DnsConfig,
    FeedsConfig,
    HttpConfig,
    InteractionConfig,
    LinksConfig,
    ServicesConfig,
    TlsConfig,
)
from domain.thresholds import DAY, THRESHOLDS, Line, Thresholds

if TYPE_CHECKING:
    from agent.quarterly import Settings as ReportSettings

DEFAULT_LISTEN = "0.0.0.0:9725"
DEFAULT_STATE_DIR = "./data"


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    entry: str  # e.g. "sites[3] (4405070010)", "row 7", or "" for top level
    field: str
    message: str

    def __str__(self) -> str:
        where = ": ".join(limits.clip(p, 200) for p in (self.file, self.entry, self.field) if p)
        return f"{where}: {limits.clip(self.message)}"


class ConfigError(Exception):
    """The configuration is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        if len(issues) > limits.MAX_ISSUES:  # a 100,000-row CSV of bad rows: say how many, list some
            more = len(issues) - limits.MAX_ISSUES
            issues = [*issues[: limits.MAX_ISSUES], ConfigIssue(issues[-1].file, "", "", f"… and {more:,} more errors")]
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


# --- the typed configuration -------------------------------------------------


class Intervals:
    """``intervals:``: seconds between runs of each probe kind; defaults from :data:`agent.kinds.KINDS`."""

    __slots__ = ("_seconds",)

    def __init__(self, **seconds: float) -> None:
        unknown = set(seconds) - set(KINDS)
        if unknown:
            raise TypeError(f"unknown probe kind(s): {', '.join(sorted(unknown))}")
        self._seconds = {name: float(seconds.get(name, kind.interval)) for name, kind in KINDS.items()}

    def of(self, kind: str) -> float:
        return self._seconds[kind]

    def __getattr__(self, kind: str) -> float:  # cfg.intervals.http
        try:
            return self._seconds[kind]
        except KeyError:
            raise AttributeError(kind) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Intervals) and self._seconds == other._seconds

    def __hash__(self) -> int:
        return hash(tuple(self._seconds.items()))

    def __repr__(self) -> str:
        return f"Intervals({', '.join(f'{k}={v:g}' for k, v in self._seconds.items())})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickled to worker processes (agent.workers.supervisor)
        return _intervals, (dict(self._seconds),)


def _intervals(seconds: dict[str, float]) -> Intervals:
    return Intervals(**seconds)


@dataclass(frozen=True, slots=True)
class WebSettings:
    """``web:``: the exporter-toolkit web configuration file and the port's own limits (agent.http.web)."""

    config_file: str | None = None
    healthz_open: bool = False  # /healthz answers without authentication (for kubelet probes)
    max_connections: int = 512
    header_timeout: float = 10.0
    idle_timeout: float = 75.0


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """``report:``: the Prometheus that scrapes the agents, for the quarterly report at ``/report``."""

    prometheus: str | None = None  # None: no /report
    refresh: float = 3600.0  # how long a computed report is served before it is computed again
    timeout: float = 120.0  # per Prometheus query
    username: str | None = None  # basic auth of that Prometheus (with password_file)
    password_file: str | None = None
    ca_file: str | None = None  # the CA of an https:// Prometheus


@dataclass(frozen=True, slots=True)
class Config:
    path: str = ""
    listen: str = DEFAULT_LISTEN
    web: WebSettings = WebSettings()
    state_dir: str = DEFAULT_STATE_DIR
    workers: int | None = (
        None  # worker processes (agent.workers.supervisor); None: "auto" (agent.workers.supervisor.count_of)
    )
    dns: DnsConfig = DnsConfig()
    tls: TlsConfig = TlsConfig()
    http: HttpConfig = HttpConfig()
    intervals: Intervals = field(default_factory=Intervals)
    concurrency: Concurrency = Concurrency()
    content: ContentConfig = ContentConfig()
    links: LinksConfig = LinksConfig()
    feeds: FeedsConfig = FeedsConfig()
    services: ServicesConfig = ServicesConfig()
    interaction: InteractionConfig = InteractionConfig()
    sites: tuple[Site, ...] = ()
    accounts: tuple[Account, ...] = ()
    site_files: tuple[str, ...] = ()
    account_files: tuple[str, ...] = ()
    report: ReportConfig = ReportConfig()
    scoring: Table = DEFAULT_TABLE  # the scoring table (domain.scoring; ``scoring:``, agent.registry.scoring)

    def files(self) -> tuple[Path, ...]:
        """Every file the configuration was read from (watched for changes)."""
        base = Path(self.path).parent if self.path else Path()
        return (
            ((Path(self.path),) if self.path else ())
            + ((Path(self.web.config_file),) if self.web.config_file else ())
            + tuple(base / f for f in self.site_files)
            + tuple(base / f for f in self.account_files)
        )


def thresholds_of(cfg: Config) -> Thresholds:
    """The lines of ``domain/thresholds.py`` with what ``xuncha.yml`` overrides: the visit timeout
    (``http.timeout``), the homepage's veto age and each column category's stale age
    (``content.homepage_stale_days``, ``content.stale_days``).  Findings use the same values, so
    ``xuncha rules -c xuncha.yml`` writes alerts that agree with ``/api/findings``."""
    t = THRESHOLDS
    days = cfg.content.stale_days
    homepage = cfg.content.homepage_stale_days * DAY
    interaction = days.get("interaction", t.interaction_age.critical / DAY) * DAY
    return replace(
        t,
        visit_timeout=cfg.http.timeout,
        # The early warning keeps its distance below the veto (10 of 14 days: 4 days' notice).
        homepage_age=Line(
            warning=max(DAY, homepage - (t.homepage_age.critical - t.homepage_age.warning)), critical=homepage
        ),
        stale_age=MappingProxyType({cat: days.get(cat, age / DAY) * DAY for cat, age in t.stale_age.items()}),
        interaction_age=Line(warning=min(t.interaction_age.warning, interaction * 2 / 3), critical=interaction),
        service_age=days.get("service", t.service_age / DAY) * DAY,
        service_guides=Line(warning=t.service_guides.warning, critical=cfg.services.incomplete_guides),
    )


def report_settings(cfg: Config) -> ReportSettings:
    """What the quarterly report needs of ``cfg`` (``report:`` and the lines), as the plain values it takes."""
    from agent.quarterly import Settings

    r = cfg.report
    password = Path(r.password_file).read_text(encoding="utf-8").strip() if r.password_file else ""
    return Settings(
        prometheus=r.prometheus,
        thresholds=thresholds_of(cfg),
        timeout=r.timeout,
        refresh=r.refresh,
        username=r.username,
        password=password,
        ca_file=r.ca_file,
        scoring=cfg.scoring,
    )


# --- loading -----------------------------------------------------------------


class _Issues:
    """Collects issues while a document is read."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[ConfigIssue] = []

    def add(self, entry: str, fld: str, message: str) -> None:
        self.items.append(ConfigIssue(self.file, limits.clip(entry, 200), fld, limits.clip(message)))


T = TypeVar("T")


def _duration(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise ValueError(f"{v!r} needs a unit, like {v}s")
    return parse_duration(v)


def _positive_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError(f"{v!r} is not a positive integer")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{v!r} is not true or false")
    return v


def _str(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise ValueError(f"{limits.clip_repr(v)} is not a string")
    return str(v)


def _str_list(v: Any) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise ValueError("must be a list")
    return tuple(_str(x) for x in v)


def _networks(v: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``links.allow_networks``: CIDRs ("10.20.0.0/16") or single addresses."""
    out = []
    for i, x in enumerate(_str_list(v)):
        try:
            out.append(ipaddress.ip_network(x.strip(), strict=True))
        except ValueError as e:
            raise ValueError(f"[{i}] {x!r} is not a network like 10.20.0.0/16 ({e})") from None
    return tuple(out)


def _choice(options: Iterable[str]) -> Callable[[Any], str]:
    opts = tuple(options)

    def check(v: Any) -> str:
        if v not in opts:
            raise ValueError(f"{v!r} is not one of {', '.join(opts)}")
        return str(v)

    return check


def _url(v: Any) -> str:
    v = limits.bounded(limits.MAX_URL, "a URL")(v).strip()
    parts = urlsplit(v)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{v!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{v!r} has no host")
    try:
        parts.port  # noqa: B018 — raises on a bad port
    except ValueError as e:
        raise ValueError(f"{v!r}: {e}") from None
    return v


_HOST_NAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def _allowed_host(v: Any) -> str:
    """A host name of ``content.hidden_link_allow``: ``partner.example.com`` (its subdomains too)."""
    host = _str(v).strip().lower().rstrip(".")
    if host.startswith("*."):
        host = host[2:]
    if not _HOST_NAME.match(host):
        raise ValueError(f"{v!r} is not a host name (write partner.example.com, no scheme or path)")
    return host


def _nameserver(v: Any) -> str:
    v = _str(v)
    host, _, port = v.rpartition(":") if v.count(":") == 1 else (v, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"{v!r}: port must be 1-65535")
    return v


def _section(
    issues: _Issues,
    entry: str,
    raw: Any,
    cls: type[T],
    parsers: Mapping[str, Callable[[Any], Any]],
    *,
    prefix: str = "",
) -> T:
    """Read mapping ``raw`` into dataclass ``cls`` with one parser per key."""
    if raw is None:
        return cls()
    if not isinstance(raw, Mapping):
        issues.add(entry, prefix.rstrip("."), "must be a mapping")
        return cls()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = prefix + str(key)
        parse = parsers.get(str(key))
        if parse is None:
            issues.add(entry, name, f"unknown key (known: {', '.join(parsers)})")
            continue
        try:
            values[str(key)] = parse(value)
        except ValueError as e:
            issues.add(entry, name, str(e))
    return cls(**values)


def _mapping_of(parse: Callable[[Any], T], keys: Iterable[str] | None = None) -> Callable[[Any], dict[str, T]]:
    allowed = tuple(keys) if keys is not None else None

    def check(v: Any) -> dict[str, T]:
        if not isinstance(v, Mapping):
            raise ValueError("must be a mapping")
        out = {}
        for k, x in v.items():
            if allowed is not None and k not in allowed:
                raise ValueError(f"unknown key {k!r} (known: {', '.join(allowed)})")
            out[str(k)] = parse(x)
        return out

    return check


def _days(v: Any) -> float:
    return _duration(v) / 86400


_TOP_KEYS = (
    "listen",
    "state_dir",
    "workers",
    "dns",
    "tls",
    "http",
    "intervals",
    "concurrency",
    "content",
    "links",
    "feeds",
    "services",
    "interaction",
    "sites",
    "accounts",
    "site_files",
    "account_files",
    "web",
    "report",
    "scoring",
)


_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Plain scalars that can be something other than a string in YAML 1.1 start with one of these
# (numbers, booleans, null, timestamps, merge keys); every other scalar is a string.
_MAYBE_TYPED = frozenset("0123456789+-.~<=nNtTfFyYoO")


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """A safe loader, libyaml's when built, that decides "this is a string" without trying every
    implicit resolver: a national registry (20+ MB, 14,000 sites and 150,000 accounts) is mostly
    names and URLs, and the generic resolver was a third of its load time."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and value and (not implicit[0] or value[0] not in _MAYBE_TYPED):
            return self.DEFAULT_SCALAR_TAG
        return super().resolve(kind, value, implicit)


def load(path: str | Path, *, parse_cache: bool = False, state_dir: str | None = None) -> Config:
    """Read and validate ``path`` and the CSV files it names.

    ``parse_cache``: keep the parsed YAML in the state directory (``state_dir``, else the one the
    file declares, else the default) and take it from there when the text is the same
    (:mod:`agent.registry.parsecache`; ``xuncha run`` does, ``check-config`` does not)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([ConfigIssue(str(path), "", "", f"cannot read: {e}")]) from None
    cache = None
    if parse_cache:
        from agent.registry.parsecache import declared_state_dir

        cache = state_dir or declared_state_dir(text) or DEFAULT_STATE_DIR
    return loads(text, path=str(path), parse_cache_dir=cache)


def loads(text: str, *, path: str = "xuncha.yml", parse_cache_dir: str | None = None) -> Config:
    issues = _Issues(path)
    from agent.registry.parsecache import parsed
    from agent.registry.yamlsafe import YamlError, safe_load

    try:
        # refuses alias bombs (issue 10); a bomb is never kept, as it never parses
        raw = parsed(text, lambda s: safe_load(s, loader=_Loader), parse_cache_dir)
    except YamlError as e:
        raise ConfigError([ConfigIssue(path, e.where, "", str(e))]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError([ConfigIssue(path, "", "", "the top level must be a mapping")])

    for key in raw:
        if key not in _TOP_KEYS:
            issues.add("", str(key), f"unknown key (known: {', '.join(_TOP_KEYS)})")

    cfg = Config(
        path=path,
        listen=_top(issues, raw, "listen", _listen, DEFAULT_LISTEN),
        web=_section(
            issues,
            "",
            raw.get("web"),
            WebSettings,
            {
                "config_file": lambda v: None if v is None else _existing_file(path, v),
                "healthz_open": _bool,
                "max_connections": _positive_int,
                "header_timeout": _duration,
                "idle_timeout": _duration,
            },
            prefix="web.",
        ),
        state_dir=_top(issues, raw, "state_dir", _str, "./data"),
        workers=_top(issues, raw, "workers", _workers, cast(int | None, None)),
        dns=_section(
            issues,
            "",
            raw.get("dns"),
            DnsConfig,
            {
                "nameservers": lambda v: tuple(_nameserver(x) for x in _list(v)),
                "timeout": _duration,
                "preferred_ip_protocol": _choice(("ip4", "ip6")),
                "ip_protocol_fallback": _bool,
                "max_cache_ttl": _duration,
            },
            prefix="dns.",
        ),
        tls=_section(
            issues,
            "",
            raw.get("tls"),
            TlsConfig,
            {
                "ca_file": lambda v: None if v is None else _existing_file(path, v),
                "timeout": _duration,
            },
            prefix="tls.",
        ),
        http=_section(
            issues,
            "",
            raw.get("http"),
            HttpConfig,
            {
                "timeout": _duration,
                "max_redirects": _non_negative_int,
                "max_body_bytes": _positive_int,
                "verify_certificate": _bool,
                "user_agent": _str,
            },
            prefix="http.",
        ),
        intervals=_section(
            issues, "", raw.get("intervals"), Intervals, {k: _duration for k in KINDS}, prefix="intervals."
        ),
        concurrency=_section(
            issues,
            "",
            raw.get("concurrency"),
            Concurrency,
            {"total": _positive_int, "per_host": _positive_int, "hosts": _host_bounds},
            prefix="concurrency.",
        ),
        content=_section(
            issues,
            "",
            raw.get("content"),
            ContentConfig,
            {
                "stale_days": _merge_stale_days,
                "homepage_stale_days": lambda v: _days(v),
                "max_page_bytes": _positive_int,
                "timeout": _duration,
                "dictionaries": lambda v: tuple(_dictionary_file(path, x) for x in _list(v)),
                "hidden_link_allow": lambda v: tuple(_allowed_host(x) for x in _list(v)),
                "blocklists": lambda v: tuple(_blocklist_file(path, x) for x in _list(v)),
                "backdated_grace_days": lambda v: _days(v),
                "backdated_keep_days": lambda v: _days(v),
            },
            prefix="content.",
        ),
        links=_section(
            issues,
            "",
            raw.get("links"),
            LinksConfig,
            {
                "max_links": _positive_int,
                "timeout": _duration,
                "per_host": _positive_int,
                "total": _positive_int,
                "allow_networks": _networks,
            },
            prefix="links.",
        ),
        feeds=_section(
            issues,
            "",
            raw.get("feeds"),
            FeedsConfig,
            {
                "rsshub": _url,
                "routes": _merge_routes,
                "timeout": _duration,
                "max_bytes": _positive_int,
                "recent_days": _days,
            },
            prefix="feeds.",
        ),
        services=_section(
            issues,
            "",
            raw.get("services"),
            ServicesConfig,
            {
                "max_guides": _non_negative_int,
                "max_pages": _non_negative_int,
                "missing_elements": _elements_count,
                "incomplete_guides": _positive_int,
            },
            prefix="services.",
        ),
        interaction=_section(
            issues,
            "",
            raw.get("interaction"),
            InteractionConfig,
            {"detail_pages": _non_negative_int, "list_pages": _positive_int, "discovered_lists": _non_negative_int},
            prefix="interaction.",
        ),
        site_files=_top(issues, raw, "site_files", _str_list, ()),
        account_files=_top(issues, raw, "account_files", _str_list, ()),
        report=_section(
            issues,
            "",
            raw.get("report"),
            ReportConfig,
            {
                "prometheus": _url,
                "refresh": _duration,
                "timeout": _duration,
                "username": _str,
                "password_file": lambda v: None if v is None else _existing_file(path, v),
                "ca_file": lambda v: None if v is None else _existing_file(path, v),
            },
            prefix="report.",
        ),
        scoring=scoring_mod.parse(issues, raw.get("scoring")),
    )

    base = Path(path).parent
    sites = list(_sites_yaml(issues, raw.get("sites")))
    for f in cfg.site_files:
        sites.extend(_rows(issues, base / f, f, _site_from_row, _SITE_HEADERS))
    accounts = list(_accounts_yaml(issues, raw.get("accounts"), cfg.feeds))
    for f in cfg.account_files:
        accounts.extend(
            _rows(issues, base / f, f, lambda i, e, r: _account_from_row(i, e, r, cfg.feeds), _ACCOUNT_HEADERS)
        )

    _no_duplicates(issues, sites, "code")
    _no_duplicates(issues, accounts, "id")
    if issues.items:
        raise ConfigError(issues.items)
    return replace(cfg, sites=tuple(s for s, _ in sites), accounts=tuple(a for a, _ in accounts))


def _top(issues: _Issues, raw: Mapping[str, Any], key: str, parse: Callable[[Any], T], default: T) -> T:
    if key not in raw or raw[key] is None:
        return default
    try:
        return parse(raw[key])
    except ValueError as e:
        issues.add("", key, str(e))
        return default


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ValueError("must be a list")
    return v


def _non_negative_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{v!r} is not a non-negative integer")
    return v


def _elements_count(v: Any) -> int:
    """How many of the ten element categories of a service guide (probes.guides.ELEMENTS)."""
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10:
        raise ValueError(f"{v!r} is not a number of element categories (1 to 10)")
    return v


def _workers(v: Any) -> int | None:
    """``auto`` (one per core) or a positive integer."""
    if v == "auto":
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{v!r} is not auto or a positive integer")
    return v


def _listen(v: Any) -> str:
    v = _str(v)
    host, sep, port = v.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"{v!r} is not host:port")
    return v


def _existing_file(config_path: str, v: Any) -> str:
    p = Path(_str(v))
    if not p.is_absolute():
        p = Path(config_path).parent / p
    if not p.is_file():
        raise ValueError(f"{str(p)!r} is not a readable file")
    return str(p)


def _host_bounds(v: Any) -> dict[str, int]:
    return {host.lower(): n for host, n in _mapping_of(_positive_int)(v).items()}


def _parsed_file(config_path: str, v: Any, parse: Callable[[str, str], tuple[Any, list[str]]]) -> str:
    """A file the probe reads, read here once by the probe's own parser so its bad lines name file and line."""
    p = _existing_file(config_path, v)
    try:
        _, problems = parse(Path(p).read_text(encoding="utf-8"), p)
    except UnicodeDecodeError as e:
        raise ValueError(f"{p!r} is not UTF-8: {e}") from None
    if problems:
        raise ValueError("; ".join(problems))
    return p


def _dictionary_file(config_path: str, v: Any) -> str:
    from probes.content.serious import parse_tsv  # the probe's own reader: one format, one parser

    return _parsed_file(config_path, v, parse_tsv)


def _blocklist_file(config_path: str, v: Any) -> str:
    from probes.content.malware import parse_list  # the probe's own reader: one format, one parser

    return _parsed_file(config_path, v, parse_list)


def _merge_stale_days(v: Any) -> dict[str, float]:
    merged = dict(ContentConfig().stale_days)
    merged.update(_mapping_of(_days, COLUMN_CATEGORIES)(v))
    return merged


def _merge_routes(v: Any) -> dict[str, str]:
    merged = dict(FeedsConfig().routes)
    for platform, template in _mapping_of(_str)(v).items():
        if not template.startswith("/") or "{uid}" not in template:
            raise ValueError(f"route for {platform!r} must start with / and contain {{uid}}")
        merged[platform] = template
    return merged


# --- sites and accounts --------------------------------------------------------


# Names are label values of the _info series: a 100,000-character name must be an error
# naming the entry, not a 100 KB label on every scrape (issue 10).
_name = limits.bounded(limits.MAX_NAME, "a name")


def _site_code(v: Any) -> str:
    v = _str(v).strip()
    if not SITE_CODE.fullmatch(v):
        raise ValueError(f"{v!r} is not a 网站标识码: 10 digits, or bm + 8 digits")
    if not v.startswith("bm") and not division_known(v[:6]):
        raise ValueError(f"{v!r}: {v[:6]} is not an administrative division code (行政区划代码)")
    return v


def _column(v: Any) -> Column:
    if not isinstance(v, Mapping):
        raise ValueError("each column must be a mapping {name, url, category}")
    unknown = set(v) - {"name", "url", "category", "consultation"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r} (known: name, url, category, consultation)")
    for required in ("name", "url"):
        if not v.get(required):
            raise ValueError(f"column {v.get('name', '?')!r}: {required} is required")
    return Column(
        name=_name(v["name"]),
        url=_url(v["url"]),
        category=_choice(COLUMN_CATEGORIES)(v.get("category", "news")),
        # 互动回应差: whether an interaction column is a consultation channel; None: judged by its name.
        consultation=None if v.get("consultation") is None else _bool(v["consultation"]),
    )


_SITE_PARSERS: dict[str, Callable[[Any], Any]] = {
    "code": _site_code,
    "name": _name,
    "url": _url,
    "kind": _choice(SITE_KINDS),
    "status": _choice(SITE_STATUSES),
    "organizer": _name,
    "columns": lambda v: tuple(_column(c) for c in _list(v)),
    "services": lambda v: tuple(_url(u) for u in _list(v)),  # 办事服务 pages: guides or lists of guides
}


def _entry_name(kind: str, index: int, raw: Any, key: str) -> str:
    ident = raw.get(key) if isinstance(raw, Mapping) else None
    return f"{kind}[{index}]" + (f" ({ident})" if ident else "")


def _build(
    issues: _Issues, entry: str, raw: Any, parsers: Mapping[str, Callable[[Any], Any]], required: tuple[str, ...]
) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        issues.add(entry, "", "must be a mapping")
        return None
    before = len(issues.items)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        parse = parsers.get(str(key))
        if parse is None:
            issues.add(entry, str(key), f"unknown key (known: {', '.join(parsers)})")
            continue
        try:
            values[str(key)] = parse(value)
        except ValueError as e:
            issues.add(entry, str(key), str(e))
    for key in required:
        if key not in raw or raw[key] in (None, ""):
            issues.add(entry, key, "is required")
    return values if len(issues.items) == before else None


def _site(values: dict[str, Any]) -> Site:
    return Site(**values, region=region_of(values["code"]))


def _sites_yaml(issues: _Issues, raw: Any) -> Iterable[tuple[Site, tuple[str, str]]]:
    if raw is None:
        return
    if not isinstance(raw, list):
        issues.add("", "sites", "must be a list")
        return
    for i, item in enumerate(raw):
        entry = _entry_name("sites", i, item, "code")
        values = _build(issues, entry, item, _SITE_PARSERS, ("code", "name", "url"))
        if values is not None:
            yield _site(values), (issues.file, entry)


_SPACE = re.compile(r"\s")


def _account_id(v: Any) -> str:
    v = _str(v).strip()
    if not v or _SPACE.search(v):
        raise ValueError(f"{v!r} must be non-empty and without spaces")
    return v


_ACCOUNT_PARSERS: dict[str, Callable[[Any], Any]] = {
    "id": _account_id,
    "unit": _name,
    "platform": lambda v: _name(v).strip().lower(),
    "name": _name,
    "status": _choice(ACCOUNT_STATUSES),
    "feed": _url,
    "uid": _str,
    "region": lambda v: region_named(_str(v)),  # a division code or name; default: from the unit
}


def _account(issues: _Issues, entry: str, values: dict[str, Any], feeds: FeedsConfig) -> Account | None:
    if not values.get("feed"):
        template = feeds.routes.get(values.get("platform", ""))
        if not values.get("uid") or template is None:
            known = ", ".join(sorted(feeds.routes))
            issues.add(entry, "feed", f"give a feed URL, or a uid on a platform with a route template ({known})")
            return None
        values["feed"] = feeds.rsshub.rstrip("/") + template.format(uid=values["uid"])
    if "region" not in values and (region := region_of_unit(values.get("unit", ""))) is not None:
        values["region"] = region
    return Account(**values)


def _accounts_yaml(issues: _Issues, raw: Any, feeds: FeedsConfig) -> Iterable[tuple[Account, tuple[str, str]]]:
    if raw is None:
        return
    if not isinstance(raw, list):
        issues.add("", "accounts", "must be a list")
        return
    for i, item in enumerate(raw):
        entry = _entry_name("accounts", i, item, "id")
        values = _build(issues, entry, item, _ACCOUNT_PARSERS, ("id", "unit", "platform", "name"))
        if values is not None and (account := _account(issues, entry, values, feeds)) is not None:
            yield account, (issues.file, entry)


# CSV headers of the national reporting system (全国政府网站信息报送系统) → our fields.
_SITE_HEADERS = {
    "网站标识码": "code",
    "网站名称": "name",
    "首页网址": "url",
    "网站地址": "url",
    "主办单位": "organizer",
    "网站类型": "kind",
    "运行状态": "status",
}
_SITE_VALUES = {
    "kind": {
        "门户网站": "portal",
        "门户": "portal",
        "政府门户网站": "portal",
        "部门网站": "department",
        "部门": "department",
    },
    "status": {
        "正常运行": "active",
        "运行": "active",
        "正常": "active",
        "拟关停": "closing",
        "关停中": "closing",
        "已关停": "closed",
        "关停": "closed",
    },
}
_ACCOUNT_HEADERS = {
    "账号标识": "id",
    "编号": "id",
    "账号编号": "id",
    "单位名称": "unit",
    "主办单位": "unit",
    "开办主体": "unit",
    "账号类型": "platform",
    "平台": "platform",
    "平台类型": "platform",
    "账号名称": "name",
    "账号状态": "status",
    "状态": "status",
    "运营状态": "status",
    "订阅地址": "feed",
    "RSS地址": "feed",
    "RSS": "feed",
    "feed": "feed",
    "平台账号": "uid",
    "账号ID": "uid",
    "平台ID": "uid",
    "UID": "uid",
    "uid": "uid",
    "地区": "region",
    "所属地区": "region",
    "行政区划": "region",
    "行政区划代码": "region",
    "区划代码": "region",
}
# Columns of the annex tables that are read by people, not by us (序号 row number, 结果 verdict).
# 账号类型 as written in the seeds' annex tables → platform ids.
PLATFORMS = {
    "微信公众号": "wechat",
    "微信": "wechat",
    "微信订阅号": "wechat",
    "微信服务号": "wechat",
    "公众号": "wechat",
    "新浪微博": "weibo",
    "微博": "weibo",
    "政务微博": "weibo",
    "抖音": "douyin",
    "抖音号": "douyin",
    "今日头条": "toutiao",
    "头条号": "toutiao",
    "头条": "toutiao",
    "百家号": "baijiahao",
    "企鹅号": "qq",
    "南方号": "nanfang",
    "人民号": "people",
    "百度贴吧": "tieba",
    "贴吧": "tieba",
    "快手": "kuaishou",
    "快手号": "kuaishou",
    "哔哩哔哩": "bilibili",
    "B站": "bilibili",
    "视频号": "channels",
    "微信视频号": "channels",
    "小红书": "xiaohongshu",
    "APP": "app",
    "App": "app",
    "客户端": "app",
    "移动客户端": "app",
    "手机客户端": "app",
    "小程序": "miniprogram",
    "微信小程序": "miniprogram",
}
_ACCOUNT_VALUES = {
    "platform": PLATFORMS,
    "status": {
        "正常": "active",
        "正常运营": "active",
        "运营中": "active",
        "正常运行": "active",
        "在用": "active",
        "启用": "active",
        "已停更": "stopped",
        "停止更新": "stopped",
        "停更": "stopped",
        "已停止": "stopped",
        "停用": "stopped",
        "已停用": "stopped",
        "停止运营": "stopped",
        "已关停": "stopped",
        "关停": "stopped",
    },
}


def _rows(
    issues: _Issues, path: Path, name: str, build: Callable[..., Any], headers: Mapping[str, str]
) -> Iterable[tuple[Any, tuple[str, str]]]:
    file_issues = _Issues(name)
    try:
        data = path.read_bytes()
    except OSError as e:
        issues.add("", name, f"cannot read: {e}")
        return
    text = csvsafe.decode(data)
    if text is None:
        issues.add("", name, "not UTF-8, UTF-16 or GB18030 text")
        return
    reader = csv.DictReader(io.StringIO(text))
    try:
        yield from _read_rows(issues, file_issues, reader, name, build, headers)
    except csv.Error as e:
        # e.g. a field over csv.field_size_limit() (128 Ki characters): an error naming the
        # file and line, never an exception that kills the config watcher (issue 10).
        issues.items.extend(file_issues.items)
        issues.add("", name, f"line {reader.line_num + 1}: not readable as CSV: {limits.clip(e, 200)}")


def _read_rows(
    issues: _Issues,
    file_issues: _Issues,
    reader: csv.DictReader[str],
    name: str,
    build: Callable[..., Any],
    headers: Mapping[str, str],
) -> Iterable[tuple[Any, tuple[str, str]]]:
    known = {h for h in (reader.fieldnames or []) if h and h.strip() in headers}
    needed = set(headers.values()) & {"code", "name", "url", "unit", "platform"}
    have = {headers[h.strip()] for h in known}
    missing = needed - have
    if missing:
        wanted = [h for h, f in headers.items() if f in missing]
        issues.add("", name, f"missing column(s): {', '.join(wanted)}")
        return
    for line_no, row in enumerate(reader, start=2):
        entry = f"line {line_no}"
        values = {headers[h.strip()]: (row.get(h) or "").strip() for h in known}
        values = {k: v for k, v in values.items() if v}
        result = build(file_issues, entry, values)
        if result is not None:
            ident = getattr(result, "code", None) or getattr(result, "id", "")
            yield result, (name, f"{entry} ({ident})")
    issues.items.extend(file_issues.items)


def _translate(values: dict[str, Any], table: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    return {k: table.get(k, {}).get(v, v) for k, v in values.items()}


def _site_from_row(issues: _Issues, entry: str, values: dict[str, Any]) -> Site | None:
    if "code" in values:
        entry = f"{entry} ({values['code']})"
    built = _build(issues, entry, _translate(values, _SITE_VALUES), _SITE_PARSERS, ("code", "name", "url"))
    return _site(built) if built is not None else None


def _account_from_row(issues: _Issues, entry: str, values: dict[str, Any], feeds: FeedsConfig) -> Account | None:
    values = _translate(values, _ACCOUNT_VALUES)
    if "id" not in values and values.get("platform") and values.get("name"):
        # The seeds' annex tables have no id column: derive a stable one from platform and
        # name (text copied out of PDFs carries stray spaces inside names: drop them).
        values["id"] = "".join(f"{values['platform'].lower()}-{values['name']}".split())
    if "id" in values:
        entry = f"{entry} ({values['id']})"
    built = _build(issues, entry, values, _ACCOUNT_PARSERS, ("id", "unit", "platform", "name"))
    if built is None:
        return None
    if not built.get("feed") and (not built.get("uid") or built["platform"] not in feeds.routes):
        # Name the CSV's own columns: that is where the fix goes.
        routed = ", ".join(sorted(feeds.routes))
        issues.add(
            entry,
            "订阅地址",
            f"no feed: fill 订阅地址 with the feed URL, or 平台账号 with the account's id "
            f"on a platform with an RSSHub route ({routed}; feeds.routes adds more)",
        )
        return None
    return _account(issues, entry, built, feeds)


def _no_duplicates(issues: _Issues, items: list[tuple[Any, tuple[str, str]]], key: str) -> None:
    seen: dict[str, tuple[str, str]] = {}
    for item, (file, entry) in items:
        value = getattr(item, key)
        if value in seen:
            first_file, first_entry = seen[value]
            where = first_entry if first_file == file else f"{first_file}: {first_entry}"
            issues.items.append(ConfigIssue(file, entry, key, f"duplicate {value!r}, first defined at {where}"))
        else:
            seen[value] = (file, entry)
