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
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
ICP = re.compile(rf"[{_PROVINCES}]\s*ICP\s*[备证]\s*[：:]?\s*\d{{6,10}}\s*号?(?:\s*-\s*\d{{1,3}})?", re.I)
POLICE = re.compile(rf"[{_PROVINCES}]\s*公网安备\s*[：:]?\s*\d{{10,16}}\s*号?")
# The 党政机关网站标识 is an image linked to its registration on conac.cn (bszs.conac.cn / dcs.conac.cn).
_CONAC_URL = re.compile(r"conac\.cn", re.I)
_CONAC_TEXT = re.compile(r"党政机关")
# 我为政府网站找错: the entry links to (or its script comes from) the national platform.
_JIUCUO_URL = re.compile(r"jiucuo|zfwzzc\.www\.gov\.cn|zfwzgl\.www\.gov\.cn|pucha\.kaipuyun\.cn", re.I)
_JIUCUO_TEXT = re.compile(r"政府网站找错")
GOV_SUFFIXES = (".gov.cn", ".政务", ".xn--zfr164b")


def gov_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host.endswith(GOV_SUFFIXES) or host in ("gov.cn", "政务")


def check(page: Page, urls: list[str], site_code: str, host: str) -> tuple[dict[str, bool], dict[str, Any]]:
    """(check → passed, what was found) for the six checks of ``COMPLIANCE_CHECKS``.

    ``urls`` are the page's anchors and resources (the marks are links and images)."""
    text = page.text
    found: dict[str, Any] = {}
    codes = [m.group(1).lower() for m in SITE_CODE.finditer(text)]
    found["site_code"] = sorted(set(codes))
    if codes and site_code.lower() not in codes:
        found["site_code_problem"] = f"shows {', '.join(sorted(set(codes)))}, the registry says {site_code}"
    icp = ICP.search(text)
    police = POLICE.search(text)
    found["icp"] = _squash(icp.group(0)) if icp else ""
    found["police_record"] = _squash(police.group(0)) if police else ""
    conac = any(_CONAC_URL.search(u) for u in urls) or bool(_CONAC_TEXT.search(page.alt_text))
    jiucuo = any(_JIUCUO_URL.search(u) for u in urls) or bool(_JIUCUO_TEXT.search(text + " " + page.alt_text))
    checks = {
        "site_code_shown": site_code.lower() in codes,
        "icp_shown": icp is not None,
        "police_record_shown": police is not None,
        "conac_mark_shown": conac,
        "error_report_entry": jiucuo,
        "gov_cn_domain": gov_domain(host),
    }
    return checks, found


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)
