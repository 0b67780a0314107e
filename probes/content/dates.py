"""Publication dates as Chinese government sites write them.

``2026-11-20``, ``2026/11/20``, ``2026.11.20``, ``2026年11月20日``, each with an
optional time, and the short ``11-20`` / ``[11-20]`` / ``11月20日`` that need a year.
A month-day's year is inferred against a *reference*: the newest instant the page
is known to be from (see :mod:`probes.content.years`, which finds that evidence);
a month-day later than the reference belongs to the year before.  Today's
calendar is not evidence: a page abandoned two years ago prints the same
``[10-11]``.  Times are read in
Asia/Shanghai (UTC+8, no daylight saving), the time zone of every site we watch.

Invalid dates (``2026-13-45``) are ignored; dates after today are reported as
``future`` so that the caller can set them aside (a meeting announced for next
month is not a publication).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from domain.clock import BEIJING, EARLIEST_YEAR

_TIME = r"(?:[\sT]*(?P<h>[01]?\d|2[0-3])[:：](?P<mi>[0-5]\d)(?:[:：](?P<s>[0-5]\d))?)?"
_FULL = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.年])\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)\s*日?" + _TIME
)
# Month-day alone is only trusted when it is (nearly) all the fragment says: "[11-20]", "11-20", "11月20日".
_SHORT = re.compile(
    r"^\s*[\[\(（【]?\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?" + _TIME + r"\s*[\]\)）】]?\s*$"
)
# ... or a token of its own beside the title: "标题 [11-20]", "标题 11-20 09:30".
_SHORT_TOKEN = re.compile(
    r"(?:^|(?<=\s))[\[\(（【]?(?P<m>\d{1,2})(?:-|/|\.|月)(?P<d>\d{1,2})日?" + _TIME + r"[\]\)）】]?(?=\s|$)"
)


@dataclass(frozen=True, slots=True)
class FoundDate:
    timestamp: float
    text: str  # as written
    start: int  # offset in the text searched
    problem: str = ""  # "" when usable; "future" | "invalid" | "too old"


@lru_cache(maxsize=64)
def today(now: float) -> date:
    return datetime.fromtimestamp(now, BEIJING).date()


@lru_cache(maxsize=4096)  # pages repeat the same few dates; datetime construction is the cost
def to_timestamp(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> float | None:
    """Unix time of a Shanghai wall-clock time, or None when the date does not exist."""
    try:
        return datetime(y, m, d, h, mi, s, tzinfo=BEIJING).timestamp()
    except ValueError:
        return None


def _judge(y: int, m: int, d: int, match: re.Match[str], now: float, text_offset: int = 0) -> FoundDate:
    h, mi, s = match.group("h", "mi", "s")
    ts, problem = _verdict(y, m, d, int(h or 0), int(mi or 0), int(s or 0), now)
    return FoundDate(ts, match.group(0).strip(), match.start() + text_offset, problem)


@lru_cache(maxsize=4096)  # a page repeats the same few dates, and ``now`` is fixed while it is read
def _verdict(y: int, m: int, d: int, h: int, mi: int, s: int, now: float) -> tuple[float, str]:
    """(timestamp, problem) of one written date; see :class:`FoundDate`."""
    ts = to_timestamp(y, m, d, h, mi, s)
    if ts is None:
        return 0.0, "invalid"
    if y < EARLIEST_YEAR:
        return ts, "too old"
    # A date after today (Shanghai) is not a publication; same-day times may run a little ahead of our clock.
    if (y, m, d) > today(now).timetuple()[:3] or ts > now + 3600:
        return ts, "future"
    return ts, ""


def find_full(text: str, now: float) -> list[FoundDate]:
    """Every year-month-day date in ``text`` (including unusable ones, with their problem)."""
    out = []
    for m in _FULL.finditer(text):
        y, sep, month, day, h, mi, s = m.groups()
        raw = m.group(0)
        if sep == "年" and "月" not in raw:
            continue  # 2026年11.20 is not a way anyone writes a date
        ts, problem = _verdict_written(y, month, day, h, mi, s, now)
        out.append(FoundDate(ts, raw.strip(), m.start(), problem))
    return out


@lru_cache(maxsize=4096)
def _verdict_written(
    y: str, m: str, d: str, h: str | None, mi: str | None, s: str | None, now: float
) -> tuple[float, str]:
    return _verdict(int(y), int(m), int(d), int(h or 0), int(mi or 0), int(s or 0), now)


def infer_year(month: int, day: int, reference: float) -> int:
    """The year of a month-day shown without one, given the newest instant the page is known to be
    from: that instant's year, unless the month-day falls after it."""
    t = today(reference)
    return t.year - 1 if (month, day) > (t.month, t.day) else t.year


@dataclass(frozen=True, slots=True)
class MonthDay:
    """A month-day written without a year, waiting for evidence of its year."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    text: str
    start: int


def find_month_days(text: str) -> tuple[list[MonthDay], list[FoundDate]]:
    """Month-days standing as tokens of their own in ``text``; and the invalid ones (``13-45``)."""
    out: list[MonthDay] = []
    invalid: list[FoundDate] = []
    for m in _SHORT_TOKEN.finditer(text):
        month, day = int(m.group("m")), int(m.group("d"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            invalid.append(FoundDate(0.0, m.group(0).strip(), m.start(), "invalid"))
            continue
        h, mi, s = m.group("h", "mi", "s")
        out.append(MonthDay(month, day, int(h or 0), int(mi or 0), int(s or 0), m.group(0).strip(), m.start()))
    return out, invalid


def judge_month_day(md: MonthDay, year: int, now: float) -> tuple[float, str]:
    """(timestamp, problem) of a month-day once its year is known (see :class:`FoundDate`)."""
    return _verdict(year, md.month, md.day, md.hour, md.minute, md.second, now)


def find_short(fragment: str, now: float) -> FoundDate | None:
    """A month-day that is the whole fragment (``[11-20]``, ``11-20 09:30``, ``11月20日``), its year
    inferred against ``now`` taken as the reference (callers with better evidence use :func:`find_month_days`)."""
    m = _SHORT.match(fragment)
    if m is None:
        return None
    month, day = int(m.group("m")), int(m.group("d"))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return FoundDate(0.0, m.group(0).strip(), 0, "invalid")
    return _judge(infer_year(month, day, now), month, day, m, now)


def find_short_tokens(text: str, now: float) -> list[FoundDate]:
    """Month-days standing as tokens of their own in ``text`` (fragments joined by spaces), their year
    inferred against ``now`` as the reference."""
    out = []
    for m in _SHORT_TOKEN.finditer(text):
        month, day = int(m.group("m")), int(m.group("d"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            out.append(FoundDate(0.0, m.group(0).strip(), m.start(), "invalid"))
            continue
        out.append(_judge(infer_year(month, day, now), month, day, m, now))
    return out
