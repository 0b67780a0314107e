"""The report's period: a quarter or two Beijing dates, as Unix times (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.clock import BEIJING

QUARTER = re.compile(r"^(\d{4})\s*[Qq]([1-4])$")
QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


class PeriodError(ValueError):
    """A period that cannot be judged: malformed, reversed, or in the future."""


@dataclass(frozen=True, slots=True)
class Period:
    """Beijing dates ``first`` .. ``last`` (inclusive); ``quarter`` when it is one (e.g. (2026, 4))."""

    first: date
    last: date
    quarter: tuple[int, int] | None = None

    @property
    def start(self) -> float:
        """00:00 Beijing time of the first day."""
        return midnight(self.first)

    @property
    def end(self) -> float:
        """24:00 Beijing time of the last day."""
        return midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def title(self) -> str:
        """``2026年第四季度`` or ``2026年10月1日至2026年11月15日``."""
        if self.quarter:
            return f"{self.quarter[0]}年{QUARTER_NAMES[self.quarter[1]]}"
        return f"{cn_date(self.first)}至{cn_date(self.last)}"

    def day_of(self, ts: float) -> date:
        """The Beijing day of ``ts``, within the period (the last evaluation falls on 24:00 of the last day)."""
        return min(max(beijing_date(ts), self.first), self.last)

    def previous(self) -> Period:
        """The period of the same length just before (the previous quarter for a quarter)."""
        if self.quarter:
            year, q = self.quarter
            return quarter(year - 1, 4) if q == 1 else quarter(year, q - 1)
        length = timedelta(days=self.days)
        return Period(self.first - length, self.first - timedelta(days=1))

    def clamp(self, now: float) -> Period:
        """The period, its end cut to ``now``'s Beijing date when it has not ended yet."""
        today = beijing_date(now)
        if self.first > today:
            raise PeriodError(
                f"the period starts on {self.first.isoformat()}, in the future (today is "
                f"{today.isoformat()} in Beijing): there is nothing to judge yet"
            )
        if self.last <= today:
            return self
        return Period(self.first, today, self.quarter)


def midnight(d: date) -> float:
    return datetime(d.year, d.month, d.day, tzinfo=BEIJING).timestamp()


def beijing_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, BEIJING).date()


def cn_date(d: date) -> str:
    """The seeds' way of writing a date: 2026年10月1日."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_month_day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def quarter(year: int, q: int) -> Period:
    first = date(year, 3 * q - 2, 1)
    nxt = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(first, nxt - timedelta(days=1), (year, q))


def parse(quarter_text: str | None, first: str | None, last: str | None) -> Period:
    """``--quarter 2026Q4`` or ``--from 2026-10-01 --to 2026-12-31``."""
    if quarter_text:
        m = QUARTER.match(quarter_text.strip())
        if not m:
            raise PeriodError(f"--quarter {quarter_text!r}: expected a year and quarter such as 2026Q4")
        return quarter(int(m.group(1)), int(m.group(2)))
    if not (first and last):
        raise PeriodError("give --quarter 2026Q4, or both --from YYYY-MM-DD and --to YYYY-MM-DD")
    try:
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as e:
        raise PeriodError(f"--from/--to: {e} (expected YYYY-MM-DD)") from None
    if b < a:
        raise PeriodError(f"--to {b.isoformat()} is before --from {a.isoformat()}")
    return Period(a, b)
