"""DNS probe: A and AAAA for the site's host, through the configured nameservers."""

from __future__ import annotations

from domain.registry import Site
from probes.context import ProbeContext
from probes.net import Lookup, is_ip
from probes.results import DnsResult


async def probe(site: Site, ctx: ProbeContext) -> DnsResult:
    started = ctx.clock()
    if is_ip(site.host):
        # Nothing to resolve: a success with no answers counted.
        return DnsResult(success=True, started=started, host=site.host, rcode="NOERROR")
    return judge(await ctx.net.lookup(site.host), started=started)


def judge(lookup: Lookup, *, started: float) -> DnsResult:
    reason = ""
    if not lookup.ok:
        reason = f"{lookup.rcode}" + (f": {lookup.detail}" if lookup.detail else "")
    return DnsResult(
        success=lookup.ok,
        reason=reason,
        started=started,
        duration_seconds=lookup.seconds,
        host=lookup.host,
        ipv4=lookup.ipv4,
        ipv6=lookup.ipv6,
        lookup_seconds=lookup.seconds,
        rcode=lookup.rcode,
    )
