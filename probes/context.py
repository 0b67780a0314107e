"""What a probe may use besides its target: settings, network, state, clock.

A probe is ``async def probe(target, ctx) -> Result`` (``probes/__init__.py``
maps kinds to probes).  The context is built by the app once per
configuration; probes see it only through the small protocols below, so this
library knows nothing of the app that runs it (``docs/architecture.md``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

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

if TYPE_CHECKING:  # pragma: no cover
    from probes.links import LinkChecks
    from probes.net import Network


class Clock(Protocol):
    """Wall clock for timestamps; tests swap in a fixed one."""

    def __call__(self) -> float: ...


class Intervals(Protocol):
    def of(self, kind: str) -> float: ...


class Settings(Protocol):
    """The probe settings a probe reads (``agent.registry.config.Config`` is one)."""

    @property
    def dns(self) -> DnsConfig: ...
    @property
    def tls(self) -> TlsConfig: ...
    @property
    def http(self) -> HttpConfig: ...
    @property
    def content(self) -> ContentConfig: ...
    @property
    def links(self) -> LinksConfig: ...
    @property
    def feeds(self) -> FeedsConfig: ...
    @property
    def interaction(self) -> InteractionConfig: ...
    @property
    def concurrency(self) -> Concurrency: ...
    @property
    def intervals(self) -> Intervals: ...
    @property
    def services(self) -> ServicesConfig: ...


class StateStore(Protocol):
    """Small JSON records that outlive a restart, by namespace and key (``agent.run.state`` keeps them
    in SQLite; a dict does for tests)."""

    def get(self, namespace: str, key: str) -> Any | None: ...
    def put(self, namespace: str, key: str, value: Any) -> None: ...
    def delete(self, namespace: str, key: str) -> None: ...
    def items(self, namespace: str) -> Iterator[tuple[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """Everything a probe may use besides its target.  Built once per configuration."""

    config: Settings
    net: Network
    state: StateStore
    clock: Clock = time.time
    links: LinkChecks | None = None  # shared by every site's link checks; None: each run checks alone
