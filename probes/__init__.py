"""Probe kinds, chosen from a plain map (blackbox_exporter's prober map).

Each kind is one module exporting ``async def probe(target, ctx) -> Result``.
Site kinds take an :class:`agent.config.Site`, ``feed`` an :class:`agent.config.Account`.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

from probes.results import Result

ProbeFn = Callable[[Any, Any], Awaitable[Result]]

# kind -> module holding its `probe`; imported on first use so that a kind's
# heavy dependencies (feedparser, selectolax) load only when it runs.
_MODULES = {
    "http": "probes.http",
    "dns": "probes.dns",
    "tls": "probes.tls",
    "content": "probes.content_probe",
    "links": "probes.links",
    "feed": "probes.feed",
}
KINDS = tuple(_MODULES)


def get(kind: str) -> ProbeFn:
    """The probe function of ``kind`` (``KeyError`` for an unknown kind)."""
    fn: ProbeFn = importlib.import_module(_MODULES[kind]).probe
    return fn


def applies(kind: str, target: Any) -> bool:
    """Whether probe ``kind`` runs for ``target`` at all."""
    url = getattr(target, "url", "")
    if kind == "tls":
        return url.startswith("https://")
    return True
