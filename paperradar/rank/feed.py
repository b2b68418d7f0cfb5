"""The daily feed: which days a request covers, and the papers listed in them.

Ordering (most upvoted first, then newest) is done by the store's query; this
module turns ``--date``, ``--week`` and ``--month`` into a date range.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


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
            return f"{year}-W{week:02d} ({self.start.isoformat()} to {self.end.isoformat()})"
        return self.start.strftime("%Y-%m")

    def previous(self) -> "Period":
        return _shift(self, -1)

    def next(self) -> "Period":
        return _shift(self, +1)


def day(d: date) -> Period:
    return Period(d, d, "day")


def week(d: date) -> Period:
    """The ISO week (Monday to Sunday) that contains ``d``."""
    start = d - timedelta(days=d.weekday())
    return Period(start, start + timedelta(days=6), "week")


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
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _shift(p: Period, step: int) -> Period:
    if p.kind == "day":
        return day(p.start + timedelta(days=step))
    if p.kind == "week":
        return week(p.start + timedelta(days=7 * step))
    y, m = p.start.year, p.start.month + step
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return month(y, m)
