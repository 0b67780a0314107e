"""Which addresses the agent may connect to on a page's say-so (issue 10, item 2).

A link found on a crawled page, or a redirect, is chosen by whoever wrote the page — and a
hostile or defaced page (暗链 are common) could point the agent at the office's intranet, the
cloud metadata service or the agent's own port.  So such a connection is decided on the
*resolved* address, never the host name (a public name may resolve to 10.0.0.1):

* the agent's own listen address (and port) is never requested;
* the site's own homepage address is allowed (a site links to itself), and so is anything
  inside ``links.allow_networks``;
* any other non-public address — loopback, private, link-local (169.254.169.254, cloud
  metadata), shared/CGNAT 100.64/10, multicast, unspecified, reserved — is refused with a
  reason an operator can act on.

Addresses the registry names (homepages, columns, feeds) are trusted as configured: the
caller marks the first hop of such a fetch as trusted (``probes.net``).  This module is pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 6598 shared address space (carrier-grade NAT): neither private nor global to ipaddress.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


@dataclass(frozen=True, slots=True)
class Policy:
    """What may be connected to besides public addresses."""

    allow_networks: tuple[IPNetwork, ...] = ()  # ``links.allow_networks``
    trusted: frozenset[str] = frozenset()  # addresses always allowed: the site's own homepage
    own: tuple[tuple[str, int], ...] = ()  # the agent's own listen address(es): never

    def trusting(self, addresses: Iterable[str]) -> Policy:
        """This policy, also allowing ``addresses`` (those of a registry-named target)."""
        return replace(self, trusted=self.trusted | {_canonical(a) for a in addresses if a})

    def exceptions(self) -> tuple[str, ...]:
        """The trusted addresses this policy admits and would refuse without them (beyond
        ``allow_networks``): when there are none, it answers exactly as the network's base policy."""
        base = replace(self, trusted=frozenset())
        return tuple(sorted(a for a in self.trusted if allowed(a, base) is not None))

    def non_public_trusted(self) -> tuple[str, ...]:
        """The trusted addresses the policy would otherwise refuse (they change its answers)."""
        return tuple(sorted(a for a in self.trusted if category(a) is not None))


def _canonical(address: str) -> str:
    try:
        return str(_unmapped(ipaddress.ip_address(address.split("%", 1)[0])))
    except ValueError:
        return address


def _unmapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return ip


def category(address: str) -> str | None:
    """Why ``address`` is not a public address ("loopback", "private", …), or None if it is."""
    try:
        ip = _unmapped(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return "not an IP address"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip in _METADATA:
        return "link-local (cloud metadata service)"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "shared address space (CGNAT 100.64.0.0/10)"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:  # before private: Python files 240.0.0.0/4 under both
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "not globally routable"
    return None


def _is_own(ip: str, port: int | None, own: Iterable[tuple[str, int]]) -> bool:
    for host, own_port in own:
        if port is not None and port != own_port:
            continue
        if ip == _canonical(host):
            return True
        # Listening on 0.0.0.0 / :: is listening on every local address: loopback at least.
        if category(host) == "unspecified" and category(ip) in ("loopback", "unspecified"):
            return True
    return False


def allowed(address: str, policy: Policy, port: int | None = None) -> str | None:
    """None when the agent may connect to ``address`` (on ``port``); otherwise the reason."""
    ip = _canonical(address)
    if _is_own(ip, port, policy.own):
        return f"{ip}:{port} is the agent's own listen address"
    if ip in policy.trusted:
        return None
    why = category(ip)
    if why is None:
        return None
    if why != "not an IP address" and _inside(ipaddress.ip_address(ip), policy.allow_networks):
        return None
    return f"{ip} is a {why} address (not requested; allow it with links.allow_networks)"


def _inside(ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


def parse_listen(listen: str) -> tuple[str, int] | None:
    """``host:port`` of the agent's listen setting, for :attr:`Policy.own` (None if unusable)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        return (host if host != "localhost" else "127.0.0.1"), int(port)
    except ValueError:
        return None


def policy_of(allow_networks: Iterable[IPNetwork], listen: str | None = None) -> Policy:
    own = parse_listen(listen) if listen else None
    return Policy(allow_networks=tuple(allow_networks), own=(own,) if own else ())


@dataclass
class Guard:
    """One fetch's policy: the first hop trusted (a registry target) or not (a link).

    :class:`probes.net.Network` asks it about every connection the fetch makes, redirects
    included; with ``trust_first`` the addresses of the first connection join the trusted set.
    """

    policy: Policy
    trust_first: bool = True
    connections: int = 0
    refused: list[str] = field(default_factory=list)

    def admit(self, host: str, port: int, addresses: list[str]) -> list[str]:
        """The addresses of ``host`` that may be connected to (in order); [] if none."""
        self.connections += 1
        if self.connections == 1 and self.trust_first:
            self.policy = self.policy.trusting(addresses)  # as configured, even the agent itself
            return list(addresses)
        kept = []
        for a in addresses:
            reason = allowed(a, self.policy, port)
            if reason is None:
                kept.append(a)
            else:
                hop = "redirect to " if self.connections > 1 else ""
                self.refused.append(f"{hop}{host}: {reason}")
        return kept
