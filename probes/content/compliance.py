"""Required elements of a government site's homepage (indicators.md, "identity and required elements").

Each check is a pure function of the homepage's text, its resource URLs and the
registry entry.  In practice all of them sit in the footer, which is why the
page text keeps its tail when it is capped.
"""

from __future__ import annotations

import re
from typing import Any

from probes.content.extract import Page

# 网站标识码: 10 digits (division code + sequence) or bm + 8 digits for central departments.
SITE_CODE = re.compile(r"(?:网站)?标识码\s*[：:]?\s*((?:bm|BM)\d{8}|\d{10})(?!\d)")
# The same codes, found faster: a pattern that starts with a literal is searched for that literal first.
_SITE_CODE_AT = re.compile(SITE_CODE.pattern.removeprefix("(?:网站)?"))
# Record numbers use the provinces' one-character names, several of them other than the
# common ones: 滇 (云南), 黔 (贵州), 陇 (甘肃), 蜀 (四川), 秦 (陕西) — e.g. 滇ICP备05001234号.
_PROVINCES = "京津沪渝冀豫云滇辽黑湘皖鲁新苏浙赣鄂桂甘陇晋蒙陕秦吉闽贵黔粤青藏川蜀宁琼"
ICP = re.compile(rf"[{_PROVINCES}]\s*ICP\s*[备证]\s*[：:]?\s*\d{{6,10}}\s*号?(?:\s*-\s*\d{{1,3}})?", re.I)
POLICE = re.compile(rf"[{_PROVINCES}]\s*公网安备\s*[：:]?\s*\d{{10,16}}\s*号?")
# The 党政机关网站标识 is an image linked to its registration on conac.cn (bszs.conac.cn / dcs.conac.cn).
_CONAC_URL = re.compile(r"conac\.cn", re.I)
_CONAC_TEXT = re.compile(r"党政机关")
# 我为政府网站找错: the entry links to (or its script comes from) the national platform.
_JIUCUO_URL = re.compile(r"jiucuo|zfwzzc\.www\.gov\.cn|zfwzgl\.www\.gov\.cn|pucha\.kaipuyun\.cn", re.I)
_JIUCUO_TEXT = re.compile(r"政府网站找错")
# Lower-case literals the two URL patterns are made of, for a plain substring test on ASCII URLs.
_CONAC_WORDS = ("conac.cn",)
_JIUCUO_WORDS = ("jiucuo", "zfwzzc.www.gov.cn", "zfwzgl.www.gov.cn", "pucha.kaipuyun.cn")
GOV_SUFFIXES = (".gov.cn", ".政务", ".xn--zfr164b")


def gov_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host.endswith(GOV_SUFFIXES) or host in ("gov.cn", "政务")


def check(page: Page, urls: list[str], site_code: str, host: str) -> tuple[dict[str, bool], dict[str, Any]]:
    """(check → passed, what was found) for the six checks of ``COMPLIANCE_CHECKS``.

    ``urls`` are the page's anchors and resources (the marks are links and images)."""
    text = page.text
    found: dict[str, Any] = {}
    codes = [m.group(1).lower() for m in _SITE_CODE_AT.finditer(text)]
    found["site_code"] = sorted(set(codes))
    if codes and site_code.lower() not in codes:
        found["site_code_problem"] = f"shows {', '.join(sorted(set(codes)))}, the registry says {site_code}"
    icp = ICP.search(text)
    police = POLICE.search(text)
    found["icp"] = _squash(icp.group(0)) if icp else ""
    found["police_record"] = _squash(police.group(0)) if police else ""
    joined = "\n".join(urls)  # the patterns are literals without a line break: one search for all URLs
    conac = _any_url(joined, _CONAC_URL, _CONAC_WORDS) or bool(_CONAC_TEXT.search(page.alt_text))
    jiucuo = _any_url(joined, _JIUCUO_URL, _JIUCUO_WORDS) or bool(_JIUCUO_TEXT.search(text + " " + page.alt_text))
    checks = {
        "site_code_shown": site_code.lower() in codes,
        "icp_shown": icp is not None,
        "police_record_shown": police is not None,
        "conac_mark_shown": conac,
        "error_report_entry": jiucuo,
        "gov_cn_domain": gov_domain(host),
    }
    return checks, found


def _any_url(joined: str, pattern: re.Pattern[str], words: tuple[str, ...]) -> bool:
    if joined.isascii():  # re.I on ASCII text is exactly str.lower(); a case-insensitive regex cannot skip ahead
        lowered = joined.lower()
        return any(w in lowered for w in words)
    return pattern.search(joined) is not None


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)
