"""The registry's types: the sites and accounts Xuncha watches.

Plain frozen values; ``agent.registry.config`` reads and validates them from ``xuncha.yml``
and the national-system CSV files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

SITE_KINDS = ("portal", "department")
SITE_STATUSES = ("active", "closing", "closed")
ACCOUNT_STATUSES = ("active", "stopped")
# survey (调查征集) and interview (在线访谈): scored by their activity in a year (domain.scoring), no stale line.
COLUMN_CATEGORIES = ("news", "notice", "longterm", "interaction", "service", "survey", "interview")

# The required elements a homepage is checked for (indicators.md), as `xuncha_compliance_check{check}`.
COMPLIANCE_CHECKS = (
    "site_code_shown",
    "icp_shown",
    "police_record_shown",
    "conac_mark_shown",
    "error_report_entry",
    "gov_cn_domain",
    "site_meta_tags",  # the standard's SiteName/SiteDomain/SiteIDCode meta tags (政府网站发展指引)
)

# Platform ids → 账号类型 as the inspection reports' annex tables write it (seed 003: 微信, 新浪微博, …).
PLATFORM_NAMES = {
    "wechat": "微信",
    "weibo": "新浪微博",
    "douyin": "抖音",
    "toutiao": "今日头条",
    "baijiahao": "百家号",
    "qq": "企鹅号",
    "nanfang": "南方号",
    "people": "人民号",
    "tieba": "百度贴吧",
    "bilibili": "哔哩哔哩",
    "kuaishou": "快手",
    "app": "APP",
    "miniprogram": "小程序",
}


@dataclass(frozen=True, slots=True)
class Region:
    """The region of a site, from the division code (行政区划代码) in its 网站标识码."""

    division: str  # 6-digit code, or "bm" for central departments
    province: str
    city: str
    county: str

    @property
    def name(self) -> str:
        """Full name, e.g. 广东省汕头市龙湖区; the division code when unknown."""
        return (self.province + self.city + self.county) or self.division

    def __reduce__(self) -> tuple[Any, ...]:
        return _positional(self)


NO_REGION = Region("", "", "", "")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    url: str
    category: str = "news"
    # For ``interaction`` columns: whether it is a consultation channel (咨询建言) that the 互动回应差
    # rule judges.  None: by its name (网上信访, 纪检举报, 在线访谈, 调查征集 are not; probes.interaction).
    consultation: bool | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return _positional(self)


@dataclass(frozen=True, slots=True)
class Site:
    code: str  # 网站标识码
    name: str
    url: str
    kind: str = "department"
    status: str = "active"
    organizer: str = ""  # 主办单位
    columns: tuple[Column, ...] = ()
    region: Region = field(default=NO_REGION, compare=False)
    # 办事服务 (issue 18): service pages of the site — a guide, or a page listing guides (服务不实用).
    services: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.code

    @property
    def host(self) -> str:
        return host_of(self.url)

    def __reduce__(self) -> tuple[Any, ...]:
        return _positional(self)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    unit: str  # 单位名称
    platform: str  # wechat | weibo | douyin | ...
    name: str  # 账号名称
    status: str = "active"
    feed: str = ""  # the feed URL, given or filled from the platform's route template
    uid: str = ""  # the account's id on its platform, for route templates
    # Whose office hears about it: the ``region`` field, else the region its unit's name starts with.
    region: Region = field(default=NO_REGION, compare=False)

    @property
    def host(self) -> str:
        return host_of(self.feed)

    def __reduce__(self) -> tuple[Any, ...]:
        return _positional(self)


def host_of(url: str) -> str:
    """``urlsplit(url).hostname or ""``, looked up by the URL's ``scheme://authority`` part.

    The scheduler asks every target for its host: at national size 150,000 feed URLs share one
    RSSHub host, and splitting each URL cost more than a second of every worker's start (issue 21)."""
    start = url.find("//")
    if start < 0:
        return urlsplit(url).hostname or ""
    end = len(url)
    for sep in "/?#":
        i = url.find(sep, start + 2)
        if 0 <= i < end:
            end = i
    return _authority_host(url[:end])


@lru_cache(maxsize=65_536)
def _authority_host(prefix: str) -> str:
    return urlsplit(prefix).hostname or ""


def _positional(value: Any) -> tuple[Any, ...]:
    """Pickle a frozen slotted dataclass by its fields in order: dataclasses' own ``__getstate__``
    walks ``fields()`` for every object, which was a third of splitting the national registry
    for the worker processes (issue 21).  Not ``astuple``: nested values keep their own types."""
    cls: type = type(value)
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in fields(cls))
    return cls, tuple(map(value.__getattribute__, names))


_NAMES: dict[type, tuple[str, ...]] = {}
