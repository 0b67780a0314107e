"""The probe settings: how probes resolve, connect, fetch and judge.

Each class is one section of ``xuncha.yml`` with its defaults; ``agent.registry.config``
parses the file into them.  Probes read them through their context.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.thresholds import DAY, THRESHOLDS


@dataclass(frozen=True, slots=True)
class DnsConfig:
    nameservers: tuple[str, ...] = ()  # "1.2.3.4" or "127.0.0.1:5353"; empty: resolv.conf
    timeout: float = 5.0
    preferred_ip_protocol: str = "ip4"  # ip4 | ip6
    ip_protocol_fallback: bool = True
    max_cache_ttl: float = 60.0  # answers used for connections are cached for min(TTL, this)


@dataclass(frozen=True, slots=True)
class TlsConfig:
    ca_file: str | None = None
    timeout: float = 15.0


@dataclass(frozen=True, slots=True)
class HttpConfig:
    timeout: float = THRESHOLDS.visit_timeout  # the inspection rule: the homepage opens within 15 s
    max_redirects: int = 10
    max_body_bytes: int = 10 * 1024 * 1024
    verify_certificate: bool = True
    user_agent: str = "Mozilla/5.0 (compatible; Xuncha/0.1; +https://github.com/xuncha/xuncha)"


@dataclass(frozen=True, slots=True)
class Concurrency:
    total: int = 64  # probes in flight across the agent
    per_host: int = 4  # probes in flight against one host (集约化平台 hosts many sites)
    # Hosts that take more (or must take fewer): your own RSSHub serves every account's feed,
    # and at 4 at a time 150,000 feeds an hour would never finish.
    hosts: Mapping[str, int] = field(default_factory=dict)

    def for_host(self, host: str) -> int:
        return self.hosts.get(host.lower(), self.per_host)


@dataclass(frozen=True, slots=True)
class ContentConfig:
    # Days without a new item before a column of each category is stale (indicators.md).
    stale_days: Mapping[str, float] = field(default_factory=lambda: dict(THRESHOLDS.stale_days()))
    homepage_stale_days: float = THRESHOLDS.homepage_age.critical / DAY
    max_page_bytes: int = 5 * 1024 * 1024
    timeout: float = 15.0
    # Extra wrong-expression dictionaries (TSV: wrong, right, note) besides the shipped one.
    dictionaries: tuple[str, ...] = ()
    # Hosts (and their subdomains) that hidden links of a homepage may point to without being 暗链, besides
    # government, state-media, national-service and platform hosts (probes.content.hosts): a partner
    # the office links from a carousel or a tab, a vendor whose credit line the platform hides.
    hidden_link_allow: tuple[str, ...] = ()
    # Extra blocklists of hosts, miner file names and start calls (probes/data/malicious_hosts.txt's format).
    blocklists: tuple[str, ...] = ()
    # 伪造发稿日期 [ours]: an item new since a check is back-dated when its day ended this long before that
    # check (pages regenerated late are not back-dating); findings are kept this long for review.
    backdated_grace_days: float = 1.0
    backdated_keep_days: float = 30.0


@dataclass(frozen=True, slots=True)
class LinksConfig:
    max_links: int = 1000  # per homepage
    timeout: float = 10.0
    per_host: int = 4
    total: int = 32
    # Non-public networks that links and redirects found on pages may still reach (probes.addresses):
    # by default none — a page must not make the agent probe the office's intranet.
    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedsConfig:
    rsshub: str = "http://127.0.0.1:1200"  # self-hosted RSSHub base URL
    routes: Mapping[str, str] = field(
        default_factory=lambda: {
            "weibo": "/weibo/user/{uid}",
            "douyin": "/douyin/user/{uid}",
            "bilibili": "/bilibili/user/video/{uid}",
            "toutiao": "/toutiao/user/{uid}",
            "wechat": "/wechat/mp/{uid}",
        }
    )
    timeout: float = 30.0
    max_bytes: int = 20 * 1024 * 1024
    recent_days: float = 14


@dataclass(frozen=True, slots=True)
class ServicesConfig:
    """服务不实用 (issue 18): how many service guides are read, and when one is incomplete.

    Neither number is confirmed by a public source: the rule (国办秘函〔2019〕19号) fails a site whose
    guides "lack key element categories" without a count we could read.  [ours] A guide missing at
    least half of the ten categories is incomplete (要素缺失); one incomplete guide among those read
    fails the site (``incomplete_guides``, the veto line); a guide missing any is an early warning."""

    max_guides: int = 5  # guide pages read per site and run (the sample rotates over the runs)
    max_pages: int = 3  # service pages (lists of guides) read per site and run, besides the homepage
    missing_elements: int = 5  # [ours] categories missing that make a guide incomplete
    incomplete_guides: int = int(THRESHOLDS.service_guides.critical)  # [ours] the veto line


@dataclass(frozen=True, slots=True)
class InteractionConfig:
    """The ``interaction`` probe: message lists read as messages (互动回应差)."""

    # [ours] Message detail pages read per site and run, oldest unanswered first: a list rarely shows
    # the reply date, and the detail page does; bounded so one run costs a few pages, not a crawl.
    detail_pages: int = 5
    # [ours] List pages read per column and run (下一页) while the messages read are all newer than the
    # veto line: an older unanswered message is on a later page.
    list_pages: int = 3
    # [ours] Consultation channels discovered on the homepage (when none is configured) read as lists.
    discovered_lists: int = 2
