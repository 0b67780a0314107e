"""Every probe kind, declared once: what it probes, what it returns, how often, how long, what it exposes.

The scheduler, the configuration (``intervals:`` keys and their defaults), the
collector, the CLI (``xuncha probe --kind``) and the README's tables all read
:data:`KINDS`.  A new kind is one module in ``probes/`` with
``async def probe(target, ctx) -> Result``, a result type in
``probes/results.py``, an emitter in ``agent/exposition/families.py``, and one entry here
(``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from agent.exposition import families as x
from domain.registry import Account, Site
from probes.context import ProbeContext, Settings
from probes.results import (
    ContentResult,
    DnsResult,
    FeedResult,
    HttpResult,
    InteractionResult,
    LinksResult,
    Result,
    ServicesResult,
    TlsResult,
)

if TYPE_CHECKING:  # pragma: no cover
    from agent.registry.config import Config

Target = Site | Account
ProbeFn = Callable[[Target, ProbeContext], Awaitable[Result]]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    target: type[Site] | type[Account]
    result: type[Result]
    module: str  # the module in probes/ whose ``probe`` runs this kind
    interval: float  # default seconds between runs (``intervals.<name>`` overrides)
    deadline: Callable[[Settings, Target], float]  # a safety net over the probe's own timeouts
    emit: x.Emitter
    summary: str
    applies: Callable[[Target], bool] = lambda target: True  # kinds_by_target knows this default
    # Availability kinds always find a slot; background kinds share what is left (agent.run.scheduler).
    background: bool = False
    # At most this many seconds after start-up this kind's first runs fall (None: within
    # agent.run.scheduler.FIRST_RUN_SPREAD, a minute; with a value, spread by their number:
    # agent.run.scheduler.first_spread).  The 6-hourly page readers (links, services,
    # interaction) take up to 15 minutes: at national size their first runs all falling in the
    # first minute held the background slots, and feed and content lag rose to minutes (issue 21).
    first_within: float | None = None

    def probe(self) -> ProbeFn:
        """The probe function, imported on first use (a kind's heavy dependencies load only when it runs)."""
        fn: ProbeFn = importlib.import_module(self.module).probe
        return fn

    def fails(self, reason: str, *, started: float, duration: float = 0.0) -> Result:
        """A failed result of this kind (a probe cut off, or one that raised)."""
        result: Result = self.result(success=False, reason=reason, started=started, duration_seconds=duration)  # type: ignore[call-arg]  # each result type defaults its kind
        return result


def _content_deadline(s: Settings, target: Target) -> float:
    columns = len(target.columns) if isinstance(target, Site) else 0
    return s.content.timeout * (2 + columns) + 10


def _links_deadline(s: Settings, target: Target) -> float:
    from probes.links import budget  # the probe's own budget for its checks, plus the homepage

    return s.content.timeout + budget(s) + 30


def _services_deadline(s: Settings, target: Target) -> float:
    # the homepage, the service pages and the guides, one after the other (probes.services)
    return s.content.timeout * (1 + s.services.max_pages + s.services.max_guides) + 10


def _interaction_deadline(s: Settings, target: Target) -> float:
    # the homepage or the lists, then the detail pages, two at a time
    lists = 1 + (len(target.columns) if isinstance(target, Site) else 0) + s.interaction.discovered_lists
    return s.content.timeout * (lists * s.interaction.list_pages + s.interaction.detail_pages / 2 + 1) + 10


def _not_closed(target: Target) -> bool:
    return isinstance(target, Site) and target.status != "closed"


def _https(target: Target) -> bool:
    return isinstance(target, Site) and target.url.startswith("https://")


_DECLARED = (
    Kind("http", Site, HttpResult, "probes.http", 300.0, lambda s, t: s.http.timeout + 5, x.emit_http,
         "homepage visit within the timeout (站点无法访问)"),
    Kind("dns", Site, DnsResult, "probes.dns", 300.0, lambda s, t: s.dns.timeout * 2 + 5, x.emit_dns,
         "A/AAAA lookup of the homepage's host"),
    Kind("tls", Site, TlsResult, "probes.tls", 6 * 3600.0, lambda s, t: s.tls.timeout * 2 + 5, x.emit_tls,
         "leaf certificate: expiry, chain, host name", applies=_https),
    Kind("content", Site, ContentResult, "probes.content_probe", 3600.0, _content_deadline, x.emit_content,
         "homepage and column freshness, blank columns, required elements, serious errors, privacy",
         background=True),
    Kind("links", Site, LinksResult, "probes.links", 6 * 3600.0, _links_deadline, x.emit_links,
         "broken links on the homepage, and on the column pages and their first articles", background=True,
         first_within=900.0),
    # 服务不实用 (issue 18): guides change slowly and cost a few pages each, so every 6 h.
    Kind("services", Site, ServicesResult, "probes.services", 6 * 3600.0, _services_deadline, x.emit_services,
         "services offered, and a sample of service guides read for their ten element categories (服务不实用); "
         "not for `closed` sites",
         applies=_not_closed, background=True, first_within=900.0),
    Kind("interaction", Site, InteractionResult, "probes.interaction", 6 * 3600.0, _interaction_deadline,
         x.emit_interaction, "consultation channels read as messages: unanswered, reply times (互动回应差)",
         applies=_not_closed, background=True, first_within=900.0),
    Kind("feed", Account, FeedResult, "probes.feed", 3600.0, lambda s, t: s.feeds.timeout + 10, x.emit_feed,
         "an account's feed: fetched, newest entry, stopped but still posting, wrong expressions and ID numbers "
         "in posts", background=True),
)  # fmt: skip

KINDS: Mapping[str, Kind] = MappingProxyType({k.name: k for k in _DECLARED})
SITE_KINDS = tuple(k.name for k in _DECLARED if k.target is Site)


def of_target(target: Target) -> tuple[Kind, ...]:
    """The kinds that run for ``target``."""
    return tuple(k for k in _DECLARED if isinstance(target, k.target) and k.applies(target))


def jobs_for(cfg: Config) -> list[tuple[Target, str]]:
    """Every (target, kind name) the configuration asks for."""
    targets: list[Target] = [*cfg.sites, *cfg.accounts]
    return [(t, k.name) for t in targets for k in of_target(t)]


def kinds_by_target(cfg: Config) -> Iterator[tuple[Target, tuple[Kind, ...]]]:
    """:func:`jobs_for` grouped by target (the scheduler's start: 110,000 jobs a worker at national
    size).  While no account kind has an ``applies`` of its own, every account runs the same
    kinds, decided once."""
    for site in cfg.sites:
        yield site, of_target(site)
    everywhere = Kind.__dataclass_fields__["applies"].default
    if all(k.applies is everywhere for k in _DECLARED if k.target is Account) and cfg.accounts:
        account_kinds = of_target(cfg.accounts[0])
        for account in cfg.accounts:
            yield account, account_kinds
    else:
        for account in cfg.accounts:
            yield account, of_target(account)
