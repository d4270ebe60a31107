"""When a job fires: a cron expression read in local time, or the Nth working day of the month.

Both are APScheduler 3 triggers (picklable, so the SQLAlchemy job store keeps them):

* :class:`LocalCronTrigger` — a five-field crontab line in the job's time zone. A local time
  the clock skips (spring forward) fires one hour later on the wall clock that day; a local time
  that occurs twice (fall back) fires once, at its first occurrence, as cron does.
* :class:`WorkingDayTrigger` — the Nth weekday (Monday to Friday) of every month that is not a
  listed holiday, at a local time: finance's "second working day".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger


class LocalCronTrigger(BaseTrigger):
    """A five-field cron expression matched against the local wall clock of ``tz``.

    The fields are matched on naive wall-clock time (APScheduler's ``CronTrigger`` in UTC, where no
    clock change exists), then each match is placed in the zone: a skipped wall time is the instant
    that wall time names before the change (02:30 EST = 03:30 EDT); a repeated one is its first
    occurrence, and the second is never returned. Matching in the zone itself, as ``CronTrigger``
    does, skipped a whole day after the New York spring-forward and fired repeated times twice.
    """

    def __init__(self, expression: str, tz: str | tzinfo):
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(f"{expression!r} is not a cron expression: give five fields "
                             "(minute hour day-of-month month day-of-week), e.g. '0 7 * * mon'")
        self.expression = " ".join(fields)
        self.timezone = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._wall = _wall_trigger(self.expression)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The next matching wall time after ``previous_fire_time`` (or from ``now``), placed in the zone."""
        # As CronTrigger: from just after the previous fire time, or from now when there is none.
        start = now
        if previous_fire_time is not None:
            start = min(now, previous_fire_time + timedelta(microseconds=1))
            if start <= previous_fire_time:
                start = previous_fire_time + timedelta(microseconds=1)
        probe = start.astimezone(self.timezone).replace(tzinfo=timezone.utc)  # the wall clock, as if UTC
        for _ in range(8):
            match = self._wall.get_next_fire_time(None, probe)
            if match is None:
                return None
            instant = match.replace(tzinfo=self.timezone, fold=0).astimezone(timezone.utc)
            if instant >= start:
                return instant.astimezone(self.timezone)
            probe = match + timedelta(seconds=1)  # a repeated wall time whose first occurrence is past
        return None  # pragma: no cover - a wall time is passed at most once per clock change

    def __getstate__(self) -> dict:
        return {"version": 1, "expression": self.expression, "timezone": str(self.timezone)}

    def __setstate__(self, state: dict) -> None:
        self.expression = state["expression"]
        self.timezone = ZoneInfo(state["timezone"])
        self._wall = _wall_trigger(self.expression)

    def __repr__(self) -> str:
        return f"<LocalCronTrigger (expression='{self.expression}', timezone='{self.timezone}')>"

    def __str__(self) -> str:
        return f"cron '{self.expression}' {self.timezone}"


def _wall_trigger(expression: str) -> CronTrigger:
    minute, hour, day, month, day_of_week = expression.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week,
                       timezone=timezone.utc)


def local_cron(expression: str, tz: str | tzinfo) -> LocalCronTrigger:
    """A :class:`LocalCronTrigger`; ``ValueError`` when ``expression`` is not five valid crontab fields."""
    return LocalCronTrigger(expression, tz)


class WorkingDayTrigger(BaseTrigger):
    """Fires on the ``day``-th working day (Mon–Fri, not in ``holidays``) of each month at ``at``, local time."""

    def __init__(self, day: int, at: time, tz: str | tzinfo, holidays: tuple[date, ...] = ()):
        if not 1 <= day <= 20:
            raise ValueError(f"working day {day} is out of range: give 1 to 20")
        self.day = day
        self.at = at
        self.timezone = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.holidays = tuple(sorted(set(holidays)))

    def working_day(self, year: int, month: int) -> date:
        """The date of the ``day``-th working day of that month."""
        holidays = set(self.holidays)
        current, seen = date(year, month, 1), 0
        while True:
            if current.weekday() < 5 and current not in holidays:
                seen += 1
                if seen == self.day:
                    return current
            current += timedelta(days=1)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The next working-day fire time after ``previous_fire_time`` (or from ``now``)."""
        start = previous_fire_time + timedelta(microseconds=1) if previous_fire_time else now
        local = start.astimezone(self.timezone)
        year, month = local.year, local.month
        for _ in range(14):
            moment = datetime.combine(self.working_day(year, month), self.at, tzinfo=self.timezone)
            if moment.astimezone(timezone.utc) >= start.astimezone(timezone.utc):
                return moment
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None  # pragma: no cover - a working day exists every month

    def __getstate__(self) -> dict:
        return {"version": 1, "day": self.day, "at": self.at.isoformat(), "timezone": str(self.timezone),
                "holidays": [d.isoformat() for d in self.holidays]}

    def __setstate__(self, state: dict) -> None:
        self.day = state["day"]
        self.at = time.fromisoformat(state["at"])
        self.timezone = ZoneInfo(state["timezone"])
        self.holidays = tuple(date.fromisoformat(d) for d in state["holidays"])

    def __repr__(self) -> str:
        holidays = ", ".join(d.isoformat() for d in self.holidays)
        return (f"<WorkingDayTrigger (day={self.day}, at='{self.at:%H:%M}', timezone='{self.timezone}', "
                f"holidays=[{holidays}])>")

    def __str__(self) -> str:
        return f"working day {self.day} of the month at {self.at:%H:%M}"
