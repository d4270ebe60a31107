"""The scheduler daemon: APScheduler 3 with its job store in the project's database.

``rollup schedule run`` starts a ``BackgroundScheduler`` whose jobs live in the store's
``apscheduler_jobs`` table (SQLAlchemyJobStore), so the next fire time of every job survives a
restart. Each job is scheduled with ``coalesce=True`` (runs missed while the machine was down
collapse into one), ``max_instances=1`` and the job's ``misfire_grace``: a run missed by less
than that runs once when the scheduler comes back; one missed by more is recorded as ``missed``.

On start the stored jobs are reconciled with ``schedules/*.yaml``: a job whose trigger is
unchanged keeps its stored next fire time (that is how a missed run is noticed), a changed one is
replaced, a removed or disabled one is dropped.

When a job fires, :func:`fire` runs ``rollup run JOB --trigger schedule`` in a child process — the
same code path as a manual run, a fresh process per run (memory returned, a crash contained), and
the job's lock keeps it from overlapping a manual run. SIGTERM (systemd stop) is forwarded to the
running children, which abandon their step cleanly; the daemon then exits 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import base as scheduler_base
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from rollup.errors import RollupError
from rollup.schedule import history
from rollup.schedule.logs import log_event
from rollup.schedule.models import Job, Schedules, load_schedules
from rollup.schedule.values import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from rollup.schedule.runner import JobRun
    from rollup.store import Store

#: The job store's table in the project's database.
JOBSTORE_TABLE = "apscheduler_jobs"
#: The job store's alias.
JOBSTORE = "default"
#: The exit code of a run stopped by SIGTERM or Ctrl-C (as ``rollup run``).
EXIT_INTERRUPTED = 130

# Child processes running jobs right now, so SIGTERM can be forwarded to them.
_children: set[subprocess.Popen] = set()
_children_lock = threading.RLock()  # re-entrant: a signal handler may forward while the main thread holds it


def run_command(job_name: str, schedules_path: str, trigger: str = "schedule") -> list[str]:
    """The command line :func:`fire` runs: ``rollup run JOB --schedules PATH --trigger schedule``."""
    return [sys.executable, "-m", "rollup.cli", "run", job_name, "--schedules", schedules_path,
            "--trigger", trigger]


def fire(job_name: str, schedules_path: str, workdir: str, in_process: bool = False) -> int:
    """What the scheduler calls when a job is due: run it (in a child process); return its exit code."""
    log_event("job.fire", job=job_name)
    if in_process:
        return _fire_in_process(job_name, schedules_path, workdir)
    process = subprocess.Popen(run_command(job_name, schedules_path), cwd=workdir)
    with _children_lock:
        _children.add(process)
    try:
        code = process.wait()
    finally:
        with _children_lock:
            _children.discard(process)
    log_event("job.exit", level=20 if code == 0 else 40, job=job_name, exit=code)
    return code


def _fire_in_process(job_name: str, schedules_path: str, workdir: str) -> int:
    from rollup.schedule.runner import run_job

    path = Path(schedules_path)
    path = path if path.is_absolute() else Path(workdir) / path
    # The run takes the scheduler's clock (APScheduler's), so a run fired for a time is stamped with it.
    now = scheduler_base.datetime.now(timezone.utc)
    try:
        run = run_job(load_schedules(path).get(job_name), trigger="schedule", now=now)
    except RollupError as exc:
        log_event("job.error", level=40, job=job_name, error=str(exc))
        return exc.exit_code
    return run.exit_code


def forward_sigterm() -> int:
    """Send SIGTERM to every running job process; return how many."""
    with _children_lock:
        children = list(_children)
    for child in children:
        try:
            child.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    return len(children)


def run_once(job_names: Iterable[str], schedules_path: str, workdir: str) -> list[int]:
    """Fire each job now, one after another (``rollup schedule run --once``); return their exit codes.

    SIGTERM or SIGINT is forwarded to the running job, which abandons its step cleanly (exit 130),
    and the jobs not yet started are not started (130 each): stopping the command never leaves a
    job running on its own.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        forward_sigterm()

    previous = _install_stop_handlers(stop, on_signal)
    codes: list[int] = []
    try:
        for name in job_names:
            if stop.is_set():
                log_event("job.skipped", level=30, job=name, reason="stopped before it started")
                codes.append(EXIT_INTERRUPTED)
                continue
            result: list[int] = []
            worker = threading.Thread(target=lambda n=name: result.append(fire(n, schedules_path, workdir)),
                                      name=f"rollup-{name}", daemon=True)
            worker.start()
            signalled = False
            while worker.is_alive():
                worker.join(0.2)
                # A signal that came before the child started found no one to tell: tell it now.
                if stop.is_set() and not signalled and forward_sigterm():
                    signalled = True
            codes.append(result[0] if result else 1)
    finally:
        _restore_handlers(previous)
    return codes


def once_jobs(schedules: Schedules, job_names: Sequence[str] = ()) -> list[Job]:
    """The jobs a run ``--once`` runs — each of ``job_names``, else every enabled job — each checked at the
    door (:func:`rollup.schedule.runner.prepare`: bad input is a ConfigError before any job runs)."""
    from rollup.schedule.runner import prepare

    jobs = [schedules.get(n) for n in job_names] if job_names else [j for j in schedules.jobs.values() if j.enabled]
    for job in jobs:
        prepare(job)
    return jobs


def run_here(jobs: Iterable[Job], *, trigger: str = "manual", database_url: str | None = None) -> list[JobRun]:
    """Run each job once now in this process, one after another, through the code path of ``rollup run JOB``
    (:func:`rollup.schedule.runner.run_job`); return the runs.

    For a caller that has just filled the store and has the modules loaded (``rollup demo --schedules``),
    where :func:`run_once`'s child processes would only start Python again. A run asked for by hand
    (``manual``) never stands in for the clock's: a scheduled run of the same morning still runs, and
    this one runs even when a scheduled run has served the job's latest fire time.
    """
    from rollup.schedule.runner import run_job

    return [run_job(job, trigger=trigger, database_url=database_url) for job in jobs]


def build_scheduler(store: Store, *, scheduler_cls: type[BaseScheduler] = BackgroundScheduler,
                    executor: Any = None) -> BaseScheduler:
    """A scheduler on the store's database (SQLAlchemyJobStore) that records missed runs in the history."""
    scheduler = scheduler_cls(
        jobstores={JOBSTORE: store.bind(lambda engine: SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE))},
        executors={"default": executor or ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=timezone.utc,
    )

    def on_event(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            when = event.scheduled_run_time
            error = (f"missed the run due {when.isoformat()}: the scheduler was not running then and came back "
                     "later than the job's misfire_grace")
            run_id = history.record_run(store, event.job_id, "schedule", "missed", error=error,
                                        started=when.astimezone(timezone.utc))
            log_event("job.missed", level=30, job=event.job_id, run=run_id, due=when.isoformat())
        elif event.code == EVENT_JOB_ERROR:
            log_event("job.error", level=40, job=event.job_id, error=f"{type(event.exception).__name__}: "
                                                                      f"{event.exception}")

    scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def reconcile(scheduler: BaseScheduler, jobs: Iterable[Job], *, schedules_path: str, workdir: str,
              in_process: bool = False) -> dict[str, str]:
    """Make the (started, paused) scheduler's stored jobs match ``jobs``; return name → what was done."""
    wanted = {job.name: job for job in jobs if job.enabled}
    done: dict[str, str] = {}
    for stored in scheduler.get_jobs(jobstore=JOBSTORE):
        if stored.id not in wanted:
            scheduler.remove_job(stored.id, jobstore=JOBSTORE)
            done[stored.id] = "removed"
    for name, job in wanted.items():
        trigger = job.trigger()
        args = (name, schedules_path, workdir, in_process)
        grace = int(job.misfire_grace.total_seconds())
        existing = scheduler.get_job(name, jobstore=JOBSTORE)
        if existing is not None and repr(existing.trigger) == repr(trigger) and tuple(existing.args) == args:
            scheduler.modify_job(name, jobstore=JOBSTORE, coalesce=True, max_instances=1, misfire_grace_time=grace,
                                 name=job.display_title)
            done[name] = "kept"
        else:
            scheduler.add_job(fire, trigger, args=args, id=name, name=job.display_title, jobstore=JOBSTORE,
                              replace_existing=True, coalesce=True, max_instances=1, misfire_grace_time=grace)
            done[name] = "replaced" if existing is not None else "added"
    return done


def next_fire_times(schedules: Schedules, now: datetime | None = None) -> dict[str, datetime | None]:
    """Each enabled job's next fire time after ``now`` (local to the job), by its trigger."""
    now = now or datetime.now(timezone.utc)
    return {name: job.trigger().get_next_fire_time(None, now) if job.enabled else None
            for name, job in schedules.jobs.items()}


def serve(schedules: Schedules, schedules_path: Path, *, database_url: str | None = None,
          stop: threading.Event | None = None) -> None:
    """Run the scheduler until SIGTERM/SIGINT (or ``stop`` is set); see the module docstring."""
    from rollup.schedule.runner import prepare
    from rollup.store import Store

    for job in schedules.jobs.values():
        if job.enabled:
            prepare(job, require_jira=True)  # bad input stops the daemon at the door, not at 07:00 on Monday
    stop = stop or threading.Event()
    workdir = os.getcwd()
    path = str(schedules_path.resolve())
    with Store.open(database_url) as store:
        scheduler = build_scheduler(store)
        scheduler.start(paused=True)
        try:
            changes = reconcile(scheduler, schedules.jobs.values(), schedules_path=path, workdir=workdir)
            for name, change in changes.items():
                stored = scheduler.get_job(name, jobstore=JOBSTORE)
                declared = schedules.jobs.get(name)
                log_event("scheduler.job", job=name, change=change,
                          next=stored.next_run_time.isoformat() if stored and stored.next_run_time else None,
                          grace=format_duration(declared.misfire_grace) if declared else None)
            previous = _install_stop_handlers(stop)
            log_event("scheduler.start", jobs=len([j for j in schedules.jobs.values() if j.enabled]),
                      store=store.location, pid=os.getpid())
            scheduler.resume()
            while not stop.wait(1.0):
                pass
            forwarded = forward_sigterm()
            log_event("scheduler.stop", running_jobs=forwarded)
        finally:
            scheduler.shutdown(wait=True)
            if "previous" in locals():
                _restore_handlers(previous)
    log_event("scheduler.exit")


def _install_stop_handlers(stop: threading.Event, handler: Any = None) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler or (lambda signum, frame: stop.set()))
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
