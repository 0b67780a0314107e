"""Scripts a page runs to show its required marks, read without running them (issue 9).

The 党政机关 mark is pasted as CONAC's snippet, which writes its script at run time::

    <span id="_ideConac"></span>
    <script>document.write(unescape("%3Cspan id='_ideConac' %3E%3C/span%3E%3Cscript
        src='http://dcs.conac.cn/js/33/000/0000/60497944/CA330000000604979440004.js' …%3E%3C/script%3E"));</script>

so the conac URL exists only percent-encoded inside an inline script.  The
national error-report entry (我为政府网站找错) is a script too:
``<script id="_jiucuo_" sitecode="4401000004" src="…/exposure/jiucuo.js">``.
This module lists external scripts (with their ``sitecode``) and the URLs that
inline scripts write, decoded.  Scripts inside HTML comments are not elements,
so a commented-out snippet never counts.

Some portals build their whole footer as an HTML string in an inline script
(``var footer = '<div class="footer">…粤ICP备05070829号…</div>'+ …``) and insert
it at run time; :func:`script_html` returns those fragments so that what they
show counts as shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from selectolax.lexbor import LexborHTMLParser

_INLINE_HINT = re.compile(r"document\.write|unescape\(|decodeURI")
_STRING_CALL = re.compile(r"(?:unescape|decodeURIComponent|decodeURI)\(\s*([\"'])(.{1,4000}?)\1\s*\)", re.S)
_WRITE_ARG = re.compile(r"document\.write(?:ln)?\(\s*([\"'])(.{1,4000}?)\1", re.S)
_URL_ATTR = re.compile(r"(?:src|href)\s*=\s*\\?[\"']?\s*([^\"'\s>\\]+)", re.I)
MAX_SCRIPTS = 300
MAX_DECODED = 100
MAX_SCRIPT_HTML = 200_000  # characters of HTML taken from inline scripts' string literals
_LITERAL = re.compile(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"")
_MARKUP = re.compile(r"<(?:div|p|span|a|li|ul|table|tr|td|br|img)\b", re.I)
_JS_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class Script:
    url: str  # as written in src (resolved by the caller) or decoded from an inline script
    how: str  # "script src" | "written by an inline script (percent-decoded)" | "written by an inline script"
    sitecode: str = ""  # the error-report script's site code attribute


def scripts(tree: LexborHTMLParser, html: str) -> list[Script]:
    """External scripts, and the script/link URLs inline scripts write (decoded)."""
    out: list[Script] = []
    # Plain substring tests: JavaScript's names are case-sensitive, and a case-insensitive regular
    # expression over a 100 KB page costs more than the rest of this module.
    inline = "document.write" in html or "unescape(" in html or "decodeURI" in html
    for i, node in enumerate(tree.css("script")):
        if i >= MAX_SCRIPTS:
            break
        attrs = node.attrs
        src = (attrs.get("src") or "").strip()
        if src:
            out.append(Script(src, "script src", (attrs.get("sitecode") or "").strip()[:20]))
        elif inline:
            out += _written(node.text())
    return out


def _written(code: str) -> list[Script]:
    if not _INLINE_HINT.search(code):
        return []
    found: list[Script] = []
    for m in _STRING_CALL.finditer(code):
        for url in _URL_ATTR.findall(unquote(m.group(2))):
            found.append(Script(url, "written by an inline script (percent-decoded)"))
    if not found:
        for m in _WRITE_ARG.finditer(code):
            for url in _URL_ATTR.findall(m.group(2)):
                found.append(Script(url, "written by an inline script"))
    return found[:MAX_DECODED]


def script_html(tree: LexborHTMLParser, html: str) -> str:
    """The HTML that inline scripts carry in string literals (a footer built as a string), joined."""
    if "'<" not in html and '"<' not in html:
        return ""  # no string literal starting with markup anywhere
    parts: list[str] = []
    size = 0
    for i, node in enumerate(tree.css("script:not([src])")):
        if i >= MAX_SCRIPTS:
            break
        code = node.text()
        if not _MARKUP.search(code):
            continue
        for m in _LITERAL.finditer(code):
            literal = m.group(1) if m.group(1) is not None else m.group(2)
            if "<" in literal or ">" in literal:
                parts.append(_JS_ESCAPE.sub(r"\1", literal))
                size += len(literal)
        if size > MAX_SCRIPT_HTML:
            break
    joined = "".join(parts)
    return joined if _MARKUP.search(joined) else ""
