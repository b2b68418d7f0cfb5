"""The daily feed: which days a request covers, and the papers listed in them.

Ordering (most upvoted first, then newest) is done by the store's query; this
module turns ``--date``, ``--week`` and ``--month`` into a date range.

``datetime.date`` ends at 0001-01-01 and 9999-12-31: a period that would run
past either end (the week of 9999-12-31, the month before 0001-01) is an
:class:`OutOfCalendar` error, never an ``OverflowError``. The feed takes days
from :data:`FIRST_DAY` to :data:`LAST_DAY` only (:func:`check_day`): whatever
the period asked for, it and the periods before and after it are all dates.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_DAY = date(2, 1, 1)  # the days a feed can show: every period of them has both neighbours
LAST_DAY = date(9998, 12, 31)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # only this form (fromisoformat also takes 20250301, 2025-W12-1)


class OutOfCalendar(ValueError):
    """A period that would begin before 0001-01-01 or end after 9999-12-31."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    kind: str  # "day" | "week" | "month"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year:04d}-W{week:02d} ({self.start.isoformat()} to {self.end.isoformat()})"
        return f"{self.start.year:04d}-{self.start.month:02d}"  # strftime("%Y") leaves year 1 as "1"

    def previous(self) -> "Period":
        return _shift(self, -1)

    def next(self) -> "Period":
        return _shift(self, +1)


def day(d: date) -> Period:
    return Period(d, d, "day")


def week(d: date) -> Period:
    """The ISO week (Monday to Sunday) that contains ``d``."""
    try:
        start = d - timedelta(days=d.weekday())
        return Period(start, start + timedelta(days=6), "week")
    except OverflowError:
        raise OutOfCalendar(f"the week of {d.isoformat()} runs past the calendar's end ({date.max})") from None


def month(year: int, month_: int) -> Period:
    last = calendar.monthrange(year, month_)[1]
    return Period(date(year, month_, 1), date(year, month_, last), "month")


def parse_month(text: str) -> Period:
    """``YYYY-MM`` to a month period; ValueError with a clear message otherwise."""
    try:
        year, month_ = (int(x) for x in text.split("-"))
        return month(year, month_)
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise ValueError(f"not a month (YYYY-MM): {text!r}") from exc


def parse_day(text: str) -> date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def check_day(d: date) -> date:
    """``d`` if a feed can show it (:data:`FIRST_DAY` to :data:`LAST_DAY`), else :class:`OutOfCalendar`."""
    if not FIRST_DAY <= d <= LAST_DAY:
        raise OutOfCalendar(f"{d.isoformat()} is not from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return d


def _shift(p: Period, step: int) -> Period:
    """The period ``step`` periods away; :class:`OutOfCalendar` past 0001-01-01 or 9999-12-31."""
    try:
        if p.kind == "day":
            return day(p.start + timedelta(days=step))
        if p.kind == "week":
            return week(p.start + timedelta(days=7 * step))
        y, m = p.start.year, p.start.month + step
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return month(y, m)
    except (OverflowError, ValueError):  # timedelta past the ends; date() or monthrange() of year 0 or 10000
        side = "before" if step < 0 else "after"
        raise OutOfCalendar(f"the calendar has no {p.kind} {side} {p.label}") from None
