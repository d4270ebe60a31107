"""Fire times in local time across daylight-saving changes, and the Nth working day of a month."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rollup.schedule.triggers import WorkingDayTrigger, local_cron

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def fires(trigger, start: datetime, count: int) -> list[datetime]:
    out, previous, now = [], None, start
    for _ in range(count):
        moment = trigger.get_next_fire_time(previous, now)
        out.append(moment)
        previous = now = moment
    return out


def test_monday_0700_london_across_spring_forward():
    # Clocks go forward on Sunday 29 March 2026: 07:00 GMT is 07:00Z, 07:00 BST is 06:00Z.
    got = fires(local_cron("0 7 * * mon", "Europe/London"), datetime(2026, 3, 16, tzinfo=UTC), 3)
    assert [m.astimezone(UTC) for m in got] == [datetime(2026, 3, 16, 7, tzinfo=UTC),
                                                 datetime(2026, 3, 23, 7, tzinfo=UTC),
                                                 datetime(2026, 3, 30, 6, tzinfo=UTC)]
    assert {(m.astimezone(LONDON).hour, m.astimezone(LONDON).minute) for m in got} == {(7, 0)}


def test_monday_0700_london_across_fall_back():
    # Clocks go back on Sunday 25 October 2026.
    got = fires(local_cron("0 7 * * mon", "Europe/London"), datetime(2026, 10, 12, tzinfo=UTC), 3)
    assert [m.astimezone(UTC) for m in got] == [datetime(2026, 10, 12, 6, tzinfo=UTC),
                                                 datetime(2026, 10, 19, 6, tzinfo=UTC),
                                                 datetime(2026, 10, 26, 7, tzinfo=UTC)]


def test_new_york_time_the_clock_skips_fires_once_an_hour_later():
    # 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    got = fires(local_cron("30 2 * * *", "America/New_York"), datetime(2026, 3, 7, tzinfo=UTC), 3)
    assert [m.astimezone(UTC) for m in got] == [datetime(2026, 3, 7, 7, 30, tzinfo=UTC),
                                                 datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # 03:30 EDT
                                                 datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]
    assert [m.astimezone(NEW_YORK).strftime("%d %H:%M") for m in got] == ["07 02:30", "08 03:30", "09 02:30"]


def test_new_york_time_that_occurs_twice_fires_once():
    # 1 November 2026: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST); cron runs it once.
    got = fires(local_cron("30 1 * * *", "America/New_York"), datetime(2026, 10, 31, tzinfo=UTC), 3)
    assert [m.astimezone(UTC) for m in got] == [datetime(2026, 10, 31, 5, 30, tzinfo=UTC),
                                                 datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                                                 datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]


ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Europe/Berlin", "America/Los_Angeles", "UTC"]


@settings(max_examples=30, deadline=None)
@given(zone=st.sampled_from(ZONES), hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45]),
       start=st.dates(date(2025, 1, 1), date(2028, 1, 1)))
def test_a_daily_job_fires_exactly_once_every_local_day(zone, hour, minute, start):
    """Over 200 days, whatever the zone and its DST changes: one run per local day, at the local time when it exists."""
    tz = ZoneInfo(zone)
    begin = datetime.combine(start, time(0, 0), tzinfo=tz)
    got = fires(local_cron(f"{minute} {hour} * * *", zone), begin, 200)
    local_days = [m.astimezone(tz).date() for m in got]
    assert local_days == [start + timedelta(days=i) for i in range(200)]
    for moment in got:
        local = moment.astimezone(tz)
        wall = datetime.combine(local.date(), time(hour, minute), tzinfo=tz)
        exists = wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)
        if exists:
            assert (local.hour, local.minute) == (hour, minute)


def test_second_working_day_skips_weekends_and_holidays():
    trigger = WorkingDayTrigger(2, time(6, 0), "Europe/London", (date(2027, 1, 1),))
    got = fires(trigger, datetime(2026, 11, 20, tzinfo=UTC), 4)
    # Dec 2026: Tue 1, Wed 2. Jan 2027: Fri 1 is a holiday, so Mon 4, Tue 5. Feb: Mon 1, Tue 2.
    # Mar 2027: Mon 1, Tue 2.
    assert [m.astimezone(LONDON).date() for m in got] == [date(2026, 12, 2), date(2027, 1, 5),
                                                          date(2027, 2, 2), date(2027, 3, 2)]
    assert all(m.astimezone(LONDON).time() == time(6, 0) for m in got)
    # Summer time: 06:00 BST is 05:00Z.
    june = trigger.get_next_fire_time(None, datetime(2027, 5, 20, tzinfo=UTC))
    assert june.astimezone(UTC) == datetime(2027, 6, 2, 5, 0, tzinfo=UTC)


def test_working_day_of_a_month_starting_on_a_weekend():
    trigger = WorkingDayTrigger(2, time(6, 0), "UTC")
    # August 2026 starts on a Saturday: Mon 3, Tue 4.
    assert trigger.working_day(2026, 8) == date(2026, 8, 4)
    assert trigger.get_next_fire_time(None, datetime(2026, 8, 4, 6, 0, tzinfo=UTC)) == \
        datetime(2026, 8, 4, 6, 0, tzinfo=ZoneInfo("UTC"))
