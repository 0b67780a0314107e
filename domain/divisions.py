"""The region of a site, from its 网站标识码 (site identifier).

A local site's code is the 6-digit administrative division code (行政区划代码) of
its region followed by a 4-digit sequence: 4405070010 → 440507 → 广东省汕头市龙湖区.
Central departments use ``bm`` + 8 digits.  The division table ships with the
agent (``data/divisions.csv``) rather than being guessed from digits.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from domain.registry import Region

SITE_CODE = re.compile(r"(?:\d{10}|bm\d{8})")
CENTRAL = "国务院部门"
_TABLE = Path(__file__).with_name("data") / "divisions.csv"


@functools.cache
def _table() -> dict[str, tuple[str, str, str]]:
    with _TABLE.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(line for line in f if not line.startswith("#"))
        next(rows)  # header
        return {code: (province, city, county) for code, province, city, county in rows}


def division_known(division: str) -> bool:
    return division in _table()


def region_of(code: str) -> Region:
    """The region of site code ``code`` (assumed well-formed, see ``SITE_CODE``)."""
    if code.startswith("bm"):
        return Region("bm", CENTRAL, "", "")
    division = code[:6]
    table = _table()
    if division in table:
        return Region(division, *table[division])
    # An unknown county of a known city (codes change over the years): keep what we know.
    for parent in (division[:4] + "00", division[:2] + "0000"):
        if parent in table:
            province, city, _ = table[parent]
            return Region(division, province, city, "")
    return Region(division, "", "", "")


# --- regions by name: an account's ``region`` field, or its unit's name (issue 10) ------------


@functools.cache
def _by_tail() -> dict[str, frozenset[str]]:
    """Every way a region's name may be written → its division codes: 广东省汕头市龙湖区,
    汕头市龙湖区, 龙湖区 (a tail of the full name, down to its last part)."""
    out: dict[str, set[str]] = {}
    for code, (province, city, county) in _table().items():
        parts = [p for p in (province, city, county) if p]
        if len(parts) > 1 and parts[0] == parts[1]:
            parts = parts[1:]  # 北京市北京市 is 北京市
        for i in range(len(parts)):
            out.setdefault("".join(parts[i:]), set()).add(code)
    # A municipality and its one city row (110000, 110100) are one region: keep the shorter code list.
    return {name: frozenset(_widest(codes)) for name, codes in out.items()}


def _widest(codes: set[str]) -> set[str]:
    names = {_full(c) for c in codes}
    if len(names) == 1:
        return {min(codes, key=lambda c: (not c.endswith("0000"), not c.endswith("00"), c))}
    return codes


def _full(code: str) -> str:
    province, city, county = _table()[code]
    return (province + (city if city != province else "") + county) or code


def region_named(text: str) -> Region:
    """The region a ``region:`` value names: a 6-digit division code, a full name (广东省潮州市)
    or a unique tail of one (潮州市, 龙湖区).  ``ValueError`` says why not."""
    text = text.strip()
    if re.fullmatch(r"\d{6}", text):
        if not division_known(text):
            raise ValueError(f"{text!r} is not a division code (行政区划代码) in the shipped table")
        return region_of(text + "0000")
    if text == CENTRAL:
        return region_of("bm00000000")
    codes = _by_tail().get(text)
    if not codes:
        raise ValueError(f"{text!r} is not a region name or 6-digit division code (e.g. 广东省潮州市, 445100)")
    if len(codes) > 1:
        names = "、".join(sorted(_full(c) for c in codes)[:5])
        raise ValueError(f"{text!r} is ambiguous ({names}…): write the full name or the 6-digit code")
    return region_of(next(iter(codes)) + "0000")


def region_of_unit(unit: str) -> Region | None:
    """The region a unit's name starts with (潮州市公安局 → 广东省潮州市), when exactly one fits."""
    index = _by_tail()
    for end in range(min(len(unit), 16), 1, -1):  # the longest written prefix wins
        codes = index.get(unit[:end])
        if codes is not None:
            return region_of(next(iter(codes)) + "0000") if len(codes) == 1 else None
    return None
