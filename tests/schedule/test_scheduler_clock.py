"""The real scheduler (APScheduler, SQLAlchemy job store in the project's database, coalesce,
misfire grace) driven by a controlled clock: fire times across daylight-saving changes, one run
after downtime, a missed run recorded, and the stored jobs reconciled with the schedule files.

The clock replaces ``datetime.now`` in APScheduler's scheduler and executor modules; jobs run
inline (``DebugExecutor``) through :func:`rollup.schedule.scheduler.fire` and the real runner.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from schedule_helpers import job_yaml, write_schedule

from rollup.schedule import history
from rollup.schedule.models import load_schedules
from rollup.schedule.scheduler import JOBSTORE, build_scheduler, reconcile
from rollup.store import Store

UTC = timezone.utc
#: A cheap job: its one step is a sync that the fresh test store skips.
STEPS = "[{step: sync, source: local-demo, issues: 600}]"


class Clock:
    """The time APScheduler sees."""

    def __init__(self, now: datetime):
        self.now = now


@pytest.fixture
def clock(monkeypatch):
    import apscheduler.executors.base as executors_base
    import apscheduler.schedulers.base as schedulers_base

    current = Clock(datetime(2026, 1, 1, tzinfo=UTC))

    class ControlledDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return current.now.astimezone(tz) if tz else current.now.replace(tzinfo=None)

    monkeypatch.setattr(schedulers_base, "datetime", ControlledDatetime)
    monkeypatch.setattr(executors_base, "datetime", ControlledDatetime)
    return current


class SteppedScheduler(BaseScheduler):
    """A scheduler that processes due jobs only when the test says so."""

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def wakeup(self):
        pass


def start(project, store, fired: list | None = None) -> BaseScheduler:
    scheduler = build_scheduler(store, scheduler_cls=SteppedScheduler, executor=DebugExecutor())
    if fired is not None:
        scheduler.add_listener(lambda event: fired.append(event.scheduled_run_time.astimezone(UTC)),
                               EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    schedules = load_schedules(project / "schedules")
    changes = reconcile(scheduler, schedules.jobs.values(), schedules_path=str(project / "schedules"),
                        workdir=str(project), in_process=True)
    scheduler.resume()
    scheduler.changes = changes
    return scheduler


def tick(scheduler: BaseScheduler, clock: Clock, begin: datetime, end: datetime,
         step: timedelta = timedelta(minutes=15)) -> None:
    """Move the clock from ``begin`` to ``end`` in steps, letting the scheduler run what is due."""
    clock.now = begin
    while clock.now <= end:
        scheduler._process_jobs()
        clock.now += step


CASES = {
    # Europe/London: clocks go forward on 29 March 2026 and back on 25 October 2026.
    "london-spring-forward": ("0 7 * * mon", "Europe/London", datetime(2026, 3, 15, tzinfo=UTC),
                              [datetime(2026, 3, 16, 7, tzinfo=UTC), datetime(2026, 3, 23, 7, tzinfo=UTC),
                               datetime(2026, 3, 30, 6, tzinfo=UTC)]),
    "london-fall-back": ("0 7 * * mon", "Europe/London", datetime(2026, 10, 11, tzinfo=UTC),
                         [datetime(2026, 10, 12, 6, tzinfo=UTC), datetime(2026, 10, 19, 6, tzinfo=UTC),
                          datetime(2026, 10, 26, 7, tzinfo=UTC)]),
    # America/New_York: 02:30 does not exist on 8 March 2026; 01:30 happens twice on 1 November 2026.
    "new-york-skipped-time": ("30 2 * * *", "America/New_York", datetime(2026, 3, 7, tzinfo=UTC),
                              [datetime(2026, 3, 7, 7, 30, tzinfo=UTC), datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
                               datetime(2026, 3, 9, 6, 30, tzinfo=UTC)]),
    "new-york-repeated-time": ("30 1 * * *", "America/New_York", datetime(2026, 10, 31, tzinfo=UTC),
                               [datetime(2026, 10, 31, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
                                datetime(2026, 11, 2, 6, 30, tzinfo=UTC)]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_jobs_fire_at_their_local_time_across_daylight_saving_changes(case, project, clock):
    cron, zone, begin, expected = CASES[case]
    write_schedule(project, job_yaml(steps=STEPS, cron=cron, timezone=zone, extra="max_data_age: 1d"))
    fired: list[datetime] = []
    clock.now = begin
    with Store.open() as store:
        scheduler = start(project, store, fired)
        tick(scheduler, clock, begin, expected[-1] + timedelta(hours=2))
        scheduler.shutdown()
        runs = history.list_runs(store, job="weekly", limit=None)
    assert fired == expected
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "ok")] * len(expected)


def test_after_downtime_a_missed_job_runs_once(project, clock):
    write_schedule(project, job_yaml(steps=STEPS, extra="max_data_age: 1d\nmisfire_grace: 3d"))
    with Store.open() as store:
        clock.now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday, an hour before the run
        first = start(project, store)
        assert first.changes == {"weekly": "added"}
        assert first.get_job("weekly").next_run_time == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
        first.shutdown()  # the machine goes down, and stays down for two weeks

        clock.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # Tuesday: missed 23 Nov, 30 Nov and 7 Dec
        fired: list[datetime] = []
        second = start(project, store, fired)
        assert second.changes == {"weekly": "kept"}  # the stored next fire time survived the restart
        second._process_jobs()
        second._process_jobs()
        assert fired == [datetime(2026, 12, 7, 7, 0, tzinfo=UTC)]  # once, for the latest missed time
        assert second.get_job("weekly").next_run_time == datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
        second.shutdown()
        runs = history.list_runs(store, job="weekly", limit=None)
    assert [(r["trigger"], r["status"]) for r in runs] == [("schedule", "ok")]


def test_a_run_missed_by_more_than_the_grace_is_recorded_not_run(project, clock):
    write_schedule(project, job_yaml(steps=STEPS, extra="max_data_age: 1d\nmisfire_grace: 12h"))
    with Store.open() as store:
        clock.now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
        start(project, store).shutdown()
        clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 26 hours late
        fired: list[datetime] = []
        scheduler = start(project, store, fired)
        scheduler._process_jobs()
        scheduler.shutdown()
        runs = history.list_runs(store, job="weekly", limit=None)
    assert fired == []
    assert [(r["status"], r["started"]) for r in runs] == [("missed", datetime(2026, 11, 23, 7, 0, tzinfo=UTC))]
    assert "misfire_grace" in runs[0]["error"]


def test_stored_jobs_follow_the_schedule_files(project, clock):
    clock.now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    write_schedule(project, job_yaml(steps=STEPS) + job_yaml("daily", steps=STEPS, cron="0 6 * * *")[5:])
    with Store.open() as store:
        first = start(project, store)
        assert first.changes == {"weekly": "added", "daily": "added"}
        first.shutdown()
        write_schedule(project, job_yaml(steps=STEPS, cron="0 8 * * mon"))  # daily removed, weekly moved
        second = start(project, store)
        assert second.changes == {"daily": "removed", "weekly": "replaced"}
        assert [j.id for j in second.get_jobs(jobstore=JOBSTORE)] == ["weekly"]
        assert second.get_job("weekly").next_run_time == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        job = second.get_job("weekly")
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 86400)
        second.shutdown()
