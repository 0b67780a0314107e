"""Where a government page has reason to link: the hosts a hidden or outside link may point to (issue 22).

Shared by the judges that ask "does this link (frame, script) leave the government's own web?":
:mod:`probes.content.hidden_links` (暗链) and, after the merge, the 挂马 checks.  Pure and cheap: a
host name in, a reason (or "") out.

* **government** hosts: ``.gov.cn`` and the other suffixes of :func:`probes.content.compliance.gov_domain`;
* the **site's own** host and its siblings under the same registered name (``www.x.com`` and ``m.x.com``);
* the **national services** every footer links to (党政机关 mark, error-report entry, record numbers,
  reporting centres);
* **state media**, the central news sites that government pages reprint and link in their carousels
  and "media reports" tabs (the 中央重点新闻网站 and the Party's own sites);
* the **platforms** government sites are built and hosted on (集约化平台 and CMS vendors), whose credit
  link many pages carry, often hidden;
* the hosts an office adds in ``xuncha.yml`` (``content.hidden_link_allow``).

A host matches a listed name when it is that name or ends with ``.name``.  The lists are ours, from
reading real homepages (``tests/fixtures/real/``) and the vendors' own credit lines; they are a
configurable default, not a published rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from probes.content.compliance import gov_domain

# 党政机关网站标识 (conac), 我为政府网站找错 (kaipuyun, zfwzgl.www.gov.cn), ICP and police records, the
# illegal-content reporting centre (12377) and the cyber police (网警).
NATIONAL_SERVICES = ("conac.cn", "kaipuyun.cn", "beian.gov.cn", "12377.cn", "cyberpolice.cn", "12321.cn")

# 中央重点新闻网站 and the Party's sites: what a carousel slide or a 媒体报道 tab of a government homepage
# points to when it does not point to a government host.
STATE_MEDIA = (
    "xinhuanet.com",
    "news.cn",
    "people.com.cn",
    "people.cn",
    "cctv.com",
    "cctv.cn",
    "cntv.cn",
    "cri.cn",
    "cnr.cn",
    "chinadaily.com.cn",
    "china.com.cn",
    "gmw.cn",
    "ce.cn",
    "chinanews.com",
    "chinanews.com.cn",
    "youth.cn",
    "cyol.com",
    "qstheory.cn",
    "12371.cn",
    "wenming.cn",
    "81.cn",
    "chinamil.com.cn",
    "workercn.cn",
    "legaldaily.com.cn",
    "chinacourt.org",
    "china.org.cn",
    "dangjian.cn",
)

# The builders and hosts of government sites whose name appears in their pages' credit lines:
# 大汉网络 (hanweb, the JCMS of many provinces' 集约化平台), 拓尔思 (TRS WCM), 开普云, 中国软件 (UCAP),
# 南威软件, 万户网络, 博达 (webber), 政府网站集约化 vendors' own hosts.
PLATFORMS = (
    "hanweb.com",
    "hanweb.com.cn",
    "trs.com.cn",
    "trs.cn",
    "kaipuyun.com",
    "ucap.com.cn",
    "cs2c.com.cn",
    "linewell.com",
    "wanhu.com.cn",
    "webber.cn",
    "sudytech.com",
    "dameng.com",
    "foresee.com.cn",
)


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def registrable(host: str) -> str:
    """The name a site registers: ``example.com``, ``example.com.cn``."""
    labels = host.split(".")
    n = 3 if len(labels) >= 3 and labels[-1] == "cn" and labels[-2] in ("com", "net", "org", "edu", "ac") else 2
    return ".".join(labels[-n:])


def own(host: str, site_host: str) -> bool:
    """The site's own host, or a sibling under the same registered name (www.x.com and m.x.com)."""
    return host == site_host or registrable(host) == registrable(site_host)


def under(host: str, names: Iterable[str]) -> bool:
    return any(host == n or host.endswith("." + n) for n in names)


@lru_cache(maxsize=4096)
def expected(host: str, site_host: str, allow: tuple[str, ...] = ()) -> str:
    """Why a government page may well link to ``host`` ("" when nothing says so): ``"government host"``,
    ``"the site's own host"``, ``"national service"``, ``"state media"``, ``"platform vendor"``,
    ``"allowed in content.hidden_link_allow"``."""
    if not host:
        return "no host"
    if gov_domain(host):
        return "government host"
    if site_host and own(host, site_host):
        return "the site's own host"
    if under(host, NATIONAL_SERVICES):
        return "national service"
    if under(host, STATE_MEDIA):
        return "state media"
    if under(host, PLATFORMS):
        return "platform vendor"
    if allow and under(host, allow):
        return "allowed in content.hidden_link_allow"
    return ""
