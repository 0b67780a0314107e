"""Bytes → text for Chinese government pages.

Pages are GBK/GB2312/GB18030 or UTF-8; the ``Content-Type`` header and the
``<meta charset>`` often disagree, some have a BOM, some declare nothing.  The
order below is what survives real sites:

1. a BOM wins (it cannot be there by accident);
2. a body that is valid UTF-8 and has non-ASCII bytes *is* UTF-8 — GBK text
   practically never validates as UTF-8, while UTF-8 text often "decodes" as
   GB18030 garbage, so a stale ``gb2312`` declaration must not win over it;
3. the declared charsets (header, then meta), GBK and GB2312 read as their
   superset GB18030;
4. GB18030, then UTF-8 with the odd damaged byte replaced (a body cut at the
   size cap ends mid-character) when at most 1 % of the characters are damaged.

Anything else is undecodable: a failed probe with a reason.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# GBK and GB2312 are subsets of GB18030; sites that say gb2312 use GBK characters.
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "hz",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]{2,32})""", re.I)
_HEADER = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]{2,32})", re.I)
_MAX_DAMAGE = 0.01


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str | None  # None: undecodable
    encoding: str = ""  # the codec that read it
    note: str = ""  # why it was not simply the declared charset, or why it failed


def normalize(name: str) -> str | None:
    """A Python codec name for a declared charset, or None if unknown."""
    name = name.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared(content_type: str | None, body: bytes) -> tuple[str | None, str | None]:
    """(header charset, meta charset) as written, each None when absent."""
    header = None
    if content_type and (hm := _HEADER.search(content_type)):
        header = hm.group(1)
    meta = None
    if mm := _META.search(body[:4096]):
        meta = mm.group(1).decode("ascii", "replace")
    return header, meta


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode an HTML body; see the module docstring for the order tried."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return _strict(body, codec, "BOM") or Decoded(
                None, codec, f"undecodable: BOM says {codec} but bytes are not"
            )
    if b"\x00" in body[:1024] and body.count(b"\x00", 0, 4096) > 16:
        return Decoded(None, "", "undecodable: binary content (NUL bytes), not an HTML page")
    header, meta = declared(content_type, body)
    said: list[tuple[str, str]] = [(c, where) for c, where in ((header, "header"), (meta, "meta")) if c]
    if not body.isascii() and (got := _strict(body, "utf-8", "")) is not None:
        wrong = [f"{where} says {c}" for c, where in said if normalize(c) not in ("utf-8", None)]
        # (an unknown declared charset is not worth a note when the bytes are plainly UTF-8)
        return Decoded(got.text, "utf-8", ("; ".join(wrong) + ": content is valid UTF-8") if wrong else "")
    tried: list[str] = []
    for charset, where in said:
        wanted = normalize(charset)
        if wanted is None:
            tried.append(f"{where} charset {charset!r} unknown")
            continue
        if (got := _strict(body, wanted, "")) is not None:
            note: str = "; ".join(tried)
            if header and meta and normalize(header) != normalize(meta):
                note = (note + "; " if note else "") + f"header says {header}, meta says {meta}; {where} fits"
            return Decoded(got.text, wanted, note)
        tried.append(f"{where} says {charset} but bytes are not {wanted}")
    fallback_note = "; ".join(tried) or "no charset declared"
    if (got := _strict(body, "gb18030", "")) is not None:
        return Decoded(got.text, "gb18030", f"{fallback_note}; read as GB18030")
    for lenient in ("utf-8", "gb18030"):
        text = body.decode(lenient, errors="replace")
        damaged = text.count("\ufffd")
        if damaged <= max(4, len(text) * _MAX_DAMAGE):
            return Decoded(text, lenient, f"{fallback_note}; read as {lenient} with {damaged} damaged character(s)")
    return Decoded(None, "", f"undecodable: neither UTF-8 nor GB18030 ({fallback_note})")


def _strict(body: bytes, codec: str, note: str) -> Decoded | None:
    # final=False: a body cut at the size cap may end mid-character; that tail is dropped.
    try:
        return Decoded(codecs.getincrementaldecoder(codec)().decode(body, final=False), codec, note)
    except (UnicodeDecodeError, LookupError):
        return None
