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
