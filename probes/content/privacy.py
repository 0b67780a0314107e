"""Leaked personal data: 18-digit resident identity numbers (GB 11643-1999).

A number counts only when all of these hold, so that order numbers and phone
strings do not: 17 digits and a check character (digit or X) standing alone,
a known province prefix, a real birth date between 1900 and today, and the
ISO 7064 MOD 11-2 check character.  Matches are reported masked.
"""

from __future__ import annotations

import re
from datetime import date

_ID = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})((?:18|19|20)\d{2})(\d{2})(\d{2})(\d{3})([0-9Xx])(?![0-9A-Za-z])")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the province-level division (GB/T 2260), plus 71/81/82/83 (Taiwan, Hong Kong, Macao).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
MAX_FOUND = 100


def check_char(first17: str) -> str:
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def valid(number: str, today: date) -> bool:
    m = _ID.fullmatch(number)
    return m is not None and _plausible(m, today)


def _plausible(m: re.Match[str], today: date) -> bool:
    if m.group(1)[:2] not in PROVINCES:
        return False
    try:
        born = date(int(m.group(2)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= today:
        return False
    number = m.group(0)
    return check_char(number[:17]) == number[17].upper()


def mask(number: str) -> str:
    """440507********123X: the division and the last four, never the birth date."""
    return number[:6] + "*" * 8 + number[14:].upper()


def find(text: str, today: date) -> list[str]:
    """Masked valid ID numbers in ``text`` (each once, up to ``MAX_FOUND``)."""
    seen: dict[str, str] = {}
    for m in _ID.finditer(text):
        if _plausible(m, today):
            seen.setdefault(m.group(0).upper(), mask(m.group(0)))
            if len(seen) >= MAX_FOUND:
                break
    return list(seen.values())


def find_spans(text: str, today: date) -> list[tuple[str, int]]:
    """Each valid ID number in ``text`` (upper case) and where it starts, in order (up to ``MAX_FOUND``):
    for texts joined from several posts, where each number is told which post it is in."""
    out: list[tuple[str, int]] = []
    for m in _ID.finditer(text):
        if _plausible(m, today):
            out.append((m.group(0).upper(), m.start()))
            if len(out) >= MAX_FOUND:
                break
    return out
