"""Required elements of a government site's homepage (indicators.md, "identity and required elements").

Each check is a pure function of the homepage's text, its resource URLs and the
registry entry.  In practice all of them sit in the footer, which is why the
page text keeps its tail when it is capped.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from domain.registry import COMPLIANCE_CHECKS
from probes.content import meta
from probes.content.extract import Page

# 网站标识码: 10 digits (division code + sequence) or bm + 8 digits for central departments.
SITE_CODE = re.compile(r"(?:网站)?标识码\s*[：:]?\s*((?:bm|BM)\d{8}|\d{10})(?!\d)")
# The same codes, found faster: a pattern that starts with a literal is searched for that literal first.
_SITE_CODE_AT = re.compile(SITE_CODE.pattern.removeprefix("(?:网站)?"))
# Record numbers use the provinces' one-character names, several of them other than the
# common ones: 滇 (云南), 黔 (贵州), 陇 (甘肃), 蜀 (四川), 秦 (陕西) — e.g. 滇ICP备05001234号.
_PROVINCES = "京津沪渝冀豫云滇辽黑湘皖鲁新苏浙赣鄂桂甘陇晋蒙陕秦吉闽贵黔粤青藏川蜀宁琼"
ICP = re.compile(rf"[{_PROVINCES}]\s*ICP\s*[备证]\s*(?:案\s*)?[：:]?\s*\d{{6,10}}\s*号?(?:\s*-\s*\d{{1,3}})?", re.I)
# 公网安备 and its variants in use: 京公网安备 11010202000001号, 赣公安备案 36040202000107号, 京公网安备案…
POLICE = re.compile(rf"[{_PROVINCES}]\s*公网?安备案?\s*(?:号\s*)?[：:]?\s*\d{{10,16}}\s*号?")
# The 党政机关网站标识 links to its registration on conac.cn (bszs.conac.cn), or is written by CONAC's
# script (dcs.conac.cn/js/…), often itself written by an inline ``document.write(unescape(…))``.
_CONAC_HOST = "conac.cn"
_CONAC_TEXT = re.compile(r"党政机关")
# 我为政府网站找错: the national platform's script (…/exposure/jiucuo.js with a sitecode) or a link to it.
# Every host the official script and its form were served from, as government pages in public
# repositories load them (issue 19): today's platform; the 2015 national census platform (全国政府网站
# 普查, run by 开普云) that served jiucuo.js until 2018, and its address, from which the script's
# image (exposure/images/jiucuo.png?v=<sitecode>) and form (exposure/jiucuo.html?site_code=) came and
# which pages still link to; and the census platform's check_web address.
_JIUCUO_HOSTS = (
    "zfwzgl.www.gov.cn",
    "zfwzzc.www.gov.cn",
    "pucha.kaipuyun.cn",
    "121.43.68.40",
    "121.40.115.217",
)
# A page saved with a browser keeps its scripts as local files: "jiucuo.js.下载" (Chinese Chrome), ".download".
_SAVED_SUFFIXES = (".下载", ".download")
# The site code an error-report link or the script's image carries (site_code=, term=, the image's v=),
# and the image's handler as the script writes it: <img onclick="Link('3702000025')" src=…jiucuo.png>.
_CODE_IN_URL = re.compile(r"[?&](?:site_?code|term|v)=((?:bm|BM)\d{8}|\d{10})(?![0-9])")
_LINK_CALL = re.compile(r"Link\(\s*(?:&#39;|['\"])?((?:bm|BM)\d{8}|\d{10})")
_JIUCUO_TEXT = re.compile(r"政府网站找错")
GOV_SUFFIXES = (".gov.cn", ".政务", ".xn--zfr164b")
CHECKS = COMPLIANCE_CHECKS


def gov_domain(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host.endswith(GOV_SUFFIXES) or host in ("gov.cn", "政务")


def check(page: Page, urls: list[str], site_code: str, host: str) -> tuple[dict[str, bool], dict[str, Any]]:
    """(check → passed, what was found) for the checks of ``CHECKS``; ``found`` names the evidence each
    check used (``conac_evidence``, ``error_report_evidence``, ``meta``) and why one failed (``…_problem``).

    ``urls`` are the page's anchors and resources (kept for callers; the marks are judged on the page's
    anchors, scripts and frames)."""
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
    conac, found["conac_evidence"] = _conac(page)
    if not conac:
        found["conac_problem"] = _conac_problem(page)
    jiucuo, found["error_report_evidence"], problem = _jiucuo(page, site_code)
    if problem:
        found["error_report_problem"] = problem
    found["meta"] = {k: v for k, v in page.meta.items() if k in meta.SITE_TAGS}
    meta_problems = meta.site_problems(page.meta, site_code)
    if meta_problems:
        found["meta_problem"] = "; ".join(meta_problems)
    footer = _footer_script(page)
    if footer and not (codes and icp and police):
        # Many portals write their footer from an external script; the agent runs none, so say where to look.
        found["footer_script"] = f"the footer may be written by {footer}, which the agent does not run"
    checks = {
        "site_code_shown": site_code.lower() in codes,
        "icp_shown": icp is not None,
        "police_record_shown": police is not None,
        "conac_mark_shown": conac,
        "error_report_entry": jiucuo,
        "gov_cn_domain": gov_domain(host),
        "site_meta_tags": not meta_problems,
    }
    return checks, found


_FOOTER_SCRIPT = re.compile(r"(?:^|[/_.-])(?:foot|footer|bottom|dibu|copyright|banquan)[\w.-]*\.js$", re.I)


def _footer_script(page: Page) -> str:
    """The external script most likely to write the footer (the shortest name: foot.js before foothelp.js)."""
    paths = [urlsplit(s.url).path for s in page.scripts if s.how == "script src"]
    found = [p for p in paths if _FOOTER_SCRIPT.search(p)]
    return min(found, key=lambda p: len(p.rsplit("/", 1)[-1])) if found else ""


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _conac(page: Page) -> tuple[bool, str]:
    for text, url in page.anchors:
        if _CONAC_HOST in url.lower():  # a substring test first: parsing every URL of a page costs milliseconds
            host = _host(url)
            if host == _CONAC_HOST or host.endswith("." + _CONAC_HOST):
                return True, f"link to {host} ({text[:20] or 'image'})"
    for s in page.scripts:
        host = _host(s.url)
        if host.endswith(_CONAC_HOST):
            return True, f"{s.how}: {s.url[:90]}"
    return False, ""


def _conac_problem(page: Page) -> str:
    if _CONAC_TEXT.search(page.alt_text) or any(_CONAC_TEXT.search(t) for t, _ in page.anchors):
        return "the 党政机关 mark is shown without its link to the registration (bszs.conac.cn) or CONAC's script"
    return "no 党政机关 mark: neither a link to bszs.conac.cn nor CONAC's script"


def _jiucuo(page: Page, site_code: str) -> tuple[bool, str, str]:
    """(passed, evidence, problem) of the 我为政府网站找错 entry."""
    for s in page.scripts:
        path = urlsplit(s.url).path.lower() if "://" in s.url else s.url.lower()
        for suffix in _SAVED_SUFFIXES:
            path = path.removesuffix(suffix)
        if path.endswith("jiucuo.js") or _host(s.url) in _JIUCUO_HOSTS:
            evidence = f"error-report {s.how}: {s.url[:90]}"
            if s.sitecode:
                evidence += f", sitecode {s.sitecode}"
                if s.sitecode.lower() != site_code.lower():
                    return (
                        False,
                        evidence,
                        f"the error-report script's sitecode {s.sitecode} is not this site's {site_code}",
                    )
            return True, evidence, ""
    for text, url in page.anchors:
        low = url.lower()
        if "jiucuo" in low or any(h in low for h in _JIUCUO_HOSTS) or "找错" in text:
            if "jiucuo" in low or _host(url) in _JIUCUO_HOSTS or _JIUCUO_TEXT.search(text):
                return _coded(f"link to {url[:90]}", url, site_code)
    # What the script wrote, saved with the page (its image and handler), or a handler opening the form.
    for handler in page.handlers:
        m = _LINK_CALL.search(handler) or _CODE_IN_URL.search(handler)
        if m or any(h in handler for h in _JIUCUO_HOSTS):
            return _coded(f"what the error-report script writes: {handler[:90]}", handler, site_code, m)
    for url in page.resource_urls:
        low = url.lower()
        if "jiucuo" in low and (
            not low.endswith((".png", ".gif", ".jpg", ".jpeg", ".svg")) or _host(url) in _JIUCUO_HOSTS
        ):
            return _coded(f"embedded {url[:90]}", url, site_code)
    if _JIUCUO_TEXT.search(page.text + " " + page.alt_text):
        return False, "", "我为政府网站找错 is shown without a link to the national platform or its script"
    return False, "", ""


def _coded(evidence: str, where: str, site_code: str, m: re.Match[str] | None = None) -> tuple[bool, str, str]:
    """An error-report entry found at ``where``; failed when the site code it carries is another site's."""
    m = m or _CODE_IN_URL.search(where)
    if m is None:
        return True, evidence, ""
    code = m.group(1)
    evidence += f", sitecode {code}"
    if code.lower() != site_code.lower():
        return False, evidence, f"the error-report entry's site code {code} is not this site's {site_code}"
    return True, evidence, ""


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)
