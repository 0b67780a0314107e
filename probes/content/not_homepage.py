"""A homepage answer whose body is not the homepage (issue 9).

A 200 whose body is a maintenance notice (网站维护中, 系统升级), a web-application
firewall's challenge or block page, a hosting provider's default page or an
expired domain's parking page did not open the homepage: an inspector's visit
fails, and so does ours, with the reason.  So does a short page told by its shape
(issue 22): a JavaScript challenge of an unnamed WAF (a page that is mostly script,
sets a cookie and reloads, with no links and no text), a web server's default body
for a redirect ("302 Found", "Object moved") and a page that is only a login form
(a webmail or single-sign-on login served at the portal's address).

Such pages are short, so only a body of at most :data:`MAX_BYTES` is looked at,
and the words must come with a page that has little else: a real homepage
whose news list mentions 系统升级 has far more text and links than a notice.
"""

from __future__ import annotations

import re

from probes.content.decode import decode

MAX_BYTES = 64 * 1024  # a notice, a block page or a default page is smaller than this; a homepage rarely is
MAX_TEXT = 600  # visible characters of a notice page
MAX_LINKS = 8

# (reason, pattern on the whole source, pattern on the visible text and title); either may match.
_KINDS: tuple[tuple[str, re.Pattern[str] | None, re.Pattern[str] | None], ...] = (
    (
        "a web application firewall's challenge or block page",
        re.compile(
            r"__jsl_clearance|acw_sc__v2|yunsuo_session_verify|safedog|/cdn-cgi/challenge-platform|"
            r"_waf_|waf\.js|cf-browser-verification|wzws_cid|__tst_status"
        ),
        re.compile(
            r"访问(?:被|已被)(?:拦截|阻断|拒绝)|拦截(?:了)?您的访问|网站防火墙|应用防火墙|安全狗|云锁|创宇盾|"
            r"(?:当前|您的)访问(?:疑似|存在)(?:黑客|攻击|异常)|Access Denied|Request (?:blocked|rejected)|"
            r"Web Application Firewall|Checking your browser",
            re.I,
        ),
    ),
    (
        "a hosting provider's default page",
        None,
        re.compile(
            r"Welcome to nginx|Apache2? (?:\w+ )?Default Page|Test Page for the (?:Apache|Nginx)|^It works!|"
            r"IIS Windows Server|Internet Information Services|Tomcat.{0,40}successfully|"
            r"恭喜[，,]?\s*站点创建成功|网站创建成功|宝塔(?:Linux)?面板|这是默认(?:站点|首页)|默认站点页面",
            re.I | re.M,
        ),
    ),
    (
        "an expired domain's parking page",
        None,
        re.compile(
            r"域名(?:已|已经)?(?:过期|到期)|此域名(?:正在)?出售|域名(?:停放|出售|转让)|"
            r"This domain (?:is|may be) for sale|Buy this domain|domain (?:has )?expired|parked (?:free|domain)",
            re.I,
        ),
    ),
    (
        "a maintenance notice",
        None,
        re.compile(
            r"(?:网站|系统|平台|服务器|本站)(?:正在|正)?(?:维护|升级|改版)(?:中|升级|维护)?|"
            r"(?:维护|升级)期间(?:暂停|无法)|暂停(?:访问|服务)|临时关闭|正在(?:维护|升级)|"
            r"under maintenance|temporarily (?:unavailable|closed)",
            re.I,
        ),
    ),
)
# Kinds judged on the shape of a short page rather than on a name (issue 22).
_REDIRECT_BODY = re.compile(
    r"\b30[12378] (?:Moved(?: Permanently| Temporarily)?|Found|See Other|Temporary Redirect|Permanent Redirect)\b|"
    r"Object moved|The document has moved|Document Moved|This document may be found",
    re.I,
)
_LOGIN_WORDS = re.compile(
    r"用户登录|登录系统|统一身份认证|邮件系统|企业邮箱|电子邮件系统|Coremail|请输入(?:用户名|账号|密码)|"
    r"Sign in|Log ?in to|User ?name|Password",
    re.I,
)
_PASSWORD_INPUT = re.compile(r"<input\b[^>]*type\s*=\s*[\"']?password", re.I)
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.I | re.S)
_SETS_COOKIE = re.compile(r"document\s*\.\s*cookie\s*=|\[\s*[\"']cookie[\"']\s*\]")
_RELOADS = re.compile(
    r"location\s*\.\s*(?:reload|replace|assign|href\s*=)|location\s*=|\[\s*[\"'](?:reload|replace)[\"']\s*\]"
)
MAX_CHALLENGE_TEXT = 40  # visible characters: a challenge shows at most "please wait" (请稍候…)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.I | re.S)
_WS = re.compile(r"\s+")


def reason(body: bytes, content_type: str | None = None) -> str:
    """Why this body is not a homepage ("" when it may well be one): "a maintenance notice: 网站维护中"."""
    if not body or len(body) > MAX_BYTES:
        return ""
    source = decode(body, content_type).text
    if source is None:
        return ""
    title_match = _TITLE.search(source)
    title = _WS.sub(" ", title_match.group(1)).strip() if title_match else ""
    # Cheap tests before building the text: a page of many links is not a notice.
    short = source.count("<a ") + source.count("<A ") <= MAX_LINKS
    text = _WS.sub(" ", _TAGS.sub(" ", source)).strip() if short else ""
    short = short and len(text) <= MAX_TEXT
    for why, in_source, in_text in _KINDS:
        if in_source is not None and (short or len(source) < MAX_BYTES // 4) and (m := in_source.search(source)):
            return f"{why}: {m.group(0)}"
        if in_text is not None and (short or (title and in_text.search(title))):
            if m := in_text.search(title) or in_text.search(text):
                return f"{why}: {m.group(0).strip()}"
    return _shape(source, title, text) if short else ""


def _shape(source: str, title: str, text: str) -> str:
    """The kinds told by what a short page is made of (issue 22): a script-only challenge, a web
    server's redirect body, a page that is only a login form."""
    scripts = _SCRIPT.findall(source)
    script_chars = sum(len(x) for x in scripts)
    if (
        len(text) - len(title) <= MAX_CHALLENGE_TEXT
        and "<a " not in source.lower()
        and script_chars * 2 >= len(source)
        and any(_SETS_COOKIE.search(x) for x in scripts)
        and any(_RELOADS.search(x) for x in scripts)
    ):
        return (
            "a JavaScript challenge page: a script of "
            f"{script_chars} characters that sets a cookie and reloads, no links, {len(text)} characters of text"
        )
    if m := _REDIRECT_BODY.search(title) or _REDIRECT_BODY.search(text):
        return f"a web server's redirect page: {m.group(0)}"
    if _PASSWORD_INPUT.search(source) and (m := _LOGIN_WORDS.search(title) or _LOGIN_WORDS.search(text)):
        return f"a login page: {m.group(0)}"
    return ""
