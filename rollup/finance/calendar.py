"""Months, day numbers and the working calendar.

Days are integers (days since 1970-01-01) in the calendar's time zone, so every model agrees on
which day a timestamp falls on. A :class:`Month` is ``YYYY-MM``; :func:`parse_month` turns bad
text into a :class:`~rollup.errors.ConfigError` (exit code 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import pandas as pd

from rollup.config.finance import WEEKDAYS, CalendarOptions
from rollup.dates import EARLIEST, LATEST
from rollup.errors import ConfigError

EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH.toordinal()
_NS_PER_DAY = 86_400 * 10**9
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @property
    def label(self) -> str:
        """``2026-10``."""
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def first(self) -> date:
        """The month's first date."""
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        """The month after."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def prev(self) -> Month:
        """The month before."""
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start_day(self) -> int:
        """Day number of the first day."""
        return day_number(self.first)

    @property
    def end_day(self) -> int:
        """Day number of the first day of the next month (exclusive end)."""
        return day_number(self.next().first)

    @property
    def index(self) -> int:
        """Months since year 0: consecutive months differ by one."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Month:
        """The month with this :attr:`index`."""
        return cls(int(index) // 12, int(index) % 12 + 1)


def parse_month(text: str | Month, what: str = "month") -> Month:
    """``2026-10`` → :class:`Month`; anything else is bad input naming ``what``."""
    if isinstance(text, Month):
        return text
    match = _MONTH.match(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ConfigError(f"{what} {text!r} is not a month; write it as YYYY-MM, e.g. 2026-10")
    if not EARLIEST.year <= int(match.group(1)) <= LATEST.year:
        raise ConfigError(f"{what} {text!r} is out of range: give a month from {EARLIEST:%Y-%m} to {LATEST:%Y-%m}")
    return Month(int(match.group(1)), int(match.group(2)))


def day_number(value: date) -> int:
    """Days since 1970-01-01."""
    return value.toordinal() - _EPOCH_ORDINAL


def day_date(day: int) -> date:
    """The date of a day number."""
    return EPOCH + timedelta(days=int(day))


class WorkCalendar:
    """Which days are working days, and how many hours one holds."""

    def __init__(self, options: CalendarOptions):
        self.options = options
        self.hours_per_day = float(options.hours_per_day)
        self.timezone = options.timezone
        self._weekdays = np.array([name in options.workdays for name in WEEKDAYS])
        self._holidays = np.array(sorted(day_number(d) for d in options.holidays), dtype=np.int64)

    def working(self, days: np.ndarray) -> np.ndarray:
        """Boolean mask: which of these day numbers are working days."""
        days = np.asarray(days, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        return self._weekdays[weekday] & ~np.isin(days, self._holidays)

    def working_days(self, month: Month) -> int:
        """Working days in ``month``."""
        return int(self.working(np.arange(month.start_day, month.end_day)).sum())

    def capacity_hours(self, month: Month) -> float:
        """Hours of one full-time person in ``month`` (its working days × hours per day)."""
        return self.working_days(month) * self.hours_per_day

    @cached_property
    def _utc(self) -> bool:
        return self.timezone.upper() == "UTC"

    def days_of(self, moments: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
        """UTC timestamps → local day numbers (int64); NaT → the minimum int64."""
        index = pd.DatetimeIndex(moments)
        if index.tz is None:
            index = index.tz_localize("UTC")
        if not self._utc:
            index = index.tz_convert(self.timezone)
        local = index.tz_localize(None).as_unit("ns").asi8
        out = np.floor_divide(local, _NS_PER_DAY)
        out[index.isna()] = np.iinfo(np.int64).min
        return out

    def local_ns(self, moments: pd.Series | pd.DatetimeIndex) -> np.ndarray:
        """UTC timestamps → local wall-clock nanoseconds (int64)."""
        index = pd.DatetimeIndex(moments)
        if index.tz is None:
            index = index.tz_localize("UTC")
        if not self._utc:
            index = index.tz_convert(self.timezone)
        return index.tz_localize(None).as_unit("ns").asi8


NS_PER_DAY = _NS_PER_DAY
