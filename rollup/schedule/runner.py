"""One run of one job — the code path shared by ``rollup run JOB`` and the scheduler.

1. At the door (bad input → :class:`~rollup.errors.ConfigError` naming the schedule file, line
   and job; exit 2, nothing written): ``mappings.yaml`` loads, the team ids a step names exist,
   a ``finance`` step's rates file reads cleanly, the environment the job needs
   (``ROLLUP_SMTP_*`` / ``CONFLUENCE_*`` to deliver; ``JIRA_*`` when the data is old enough
   that the job will sync) is there.
2. The job's lock (:mod:`rollup.schedule.locks`); when another process holds it, a ``locked``
   run naming the holder is recorded and :class:`~rollup.schedule.locks.JobLocked` raised.
3. A ``running`` row in ``job_runs``; rows of earlier runs of this job still ``running`` belong to
   processes that died and are marked so; their leftover work folders are removed.
4. The steps in order. Report steps run on fresh data: unless the job lists a ``sync`` step,
   one runs first, and it is skipped when the last successful sync is newer than
   ``max_data_age``. A failing step is recorded; ``on_failure: stop`` skips the rest (run
   ``failed``), ``continue`` goes on (run ``partial``). One log line per step, with its timing.
   A step may run on in a forked process while the next ones run (the portfolio workbook beside the
   team workbooks and the lint report); it is waited for before any other step, and its record,
   log line and ``on_failure`` are as if it had run alone (:func:`_run_steps`).
5. The finished steps' files are published into a dated run folder; for an ``ok`` or ``partial``
   run ``latest/`` is replaced and retention applied, then the outputs are delivered.
6. The row is closed with the status, outputs, error and delivery status.

SIGTERM (and Ctrl-C) abandon the current step: it raises :class:`JobInterrupted`, its folder is
removed (every writer writes to a temp file and renames, so no half-written file exists), the
remaining steps are skipped, what finished earlier is published, nothing is delivered, and the run
is recorded ``interrupted``. A signal that arrives between steps stops the run before the next one.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollup.errors import ConfigError, RollupError
from rollup.jobs.forked import can_fork
from rollup.schedule import delivery as delivery_mod
from rollup.schedule import history, outputs
from rollup.schedule.locks import JobLocked, job_lock
from rollup.schedule.logs import log_event, redact
from rollup.schedule.models import Job
from rollup.schedule.steps import (
    FinanceParams,
    Pending,
    StepContext,
    StepOutcome,
    StepParams,
    SyncParams,
    TeamReportsParams,
    step_for,
    team_ids,
)
from rollup.writers.safe import blocking_file

if TYPE_CHECKING:  # pragma: no cover
    from rollup.config.models import RollupConfig
    from rollup.store import Store

EXIT_INTERRUPTED = 130


class JobInterrupted(KeyboardInterrupt):
    """Raised inside the running step when the process is told to stop (SIGTERM)."""


@dataclass
class StopFlag:
    """Whether the process was told to stop, and whether the running step may be abandoned now."""

    requested: str | None = None
    abandonable: bool = False

    @contextmanager
    def abandonable_section(self) -> Iterator[None]:
        """While inside, a stop request raises :class:`JobInterrupted` at once."""
        if self.requested:
            raise JobInterrupted(self.requested)
        self.abandonable = True
        try:
            yield
        finally:
            self.abandonable = False

    def request(self, reason: str) -> None:
        """Ask the run to stop; abandons the current step when that is allowed."""
        self.requested = self.requested or reason
        if self.abandonable:
            self.abandonable = False
            raise JobInterrupted(reason)


@contextmanager
def stop_on_sigterm(flag: StopFlag) -> Iterator[None]:
    """Route SIGTERM to ``flag`` while inside (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda signum, frame: flag.request("SIGTERM"))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class JobRun:
    """What one run did (the same facts as its ``job_runs`` row)."""

    run_id: int
    job: str
    status: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    files: list[str] = field(default_factory=list)
    latest: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    delivery_status: str = "none"
    delivery: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """0 ok and delivered, or skipped (its fire time already run); 130 interrupted; 1 anything else
        (failed, partial, delivery failed)."""
        if self.status == "interrupted":
            return EXIT_INTERRUPTED
        if self.status == "skipped":
            return 0
        return 0 if self.status == "ok" and self.delivery_status in ("none", "sent", "outbox") else 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"run_id": self.run_id, "job": self.job, "status": self.status, "steps": self.steps,
                "run_dir": str(self.run_dir) if self.run_dir else None, "files": self.files,
                "latest": [str(p) for p in self.latest], "removed": [str(p) for p in self.removed],
                "delivery_status": self.delivery_status, "delivery": self.delivery, "error": self.error}


# ---------------------------------------------------------------------------------------- the door


def plan_steps(job: Job) -> list[StepParams]:
    """The steps to run: the job's, with a ``sync`` first when report steps need fresh data and none is listed."""
    steps = list(job.steps)
    if job.max_data_age is not None and not any(isinstance(s, SyncParams) for s in steps) \
            and any(step_for(s).reads_store for s in steps):
        steps.insert(0, SyncParams(step="sync"))
    return steps


@contextmanager
def _about(job: Job, what: str) -> Iterator[None]:
    """Prefix a ConfigError raised inside with the job's file, line and name, and ``what`` it was checking."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(f"{job.source}: job '{job.name}' {what}: {exc}") from None


def check_job(job: Job, config: RollupConfig) -> None:
    """Everything about ``job`` that can be checked before it runs; ConfigError naming the problem."""
    blocker = blocking_file(job.output_dir)
    if blocker is not None:
        raise ConfigError(f"{job.source}: job '{job.name}' writes to {job.output_dir}, but {blocker} is a file; "
                          "give 'output' a folder")
    known = {t.id for t in config.teams}
    for params in job.steps:
        if isinstance(params, TeamReportsParams) and params.teams != "all":
            unknown = [t for t in team_ids(params, config) if t not in known]
            if unknown:
                raise ConfigError(f"{job.source}: job '{job.name}' reports on team(s) {', '.join(unknown)}, "
                                  f"not declared in {job.config}; teams: {', '.join(sorted(known)) or 'none'}")
        if isinstance(params, FinanceParams):
            _check_rates(job, params, config)
    with _about(job, "delivers its outputs"):
        delivery_mod.check_settings(job.deliver)


def _check_rates(job: Job, params: FinanceParams, config: RollupConfig) -> None:
    """The finance step's rates CSV (``rates:``, else ROLLUP_RATES, else finance.rates_file) exists and reads."""
    rates = params.rates
    if rates and not Path(rates).is_file():
        raise ConfigError(f"{job.source}: job '{job.name}': rates file {rates} not found")
    from rollup.finance.rates import load_rates, rates_path

    with _about(job, "runs the finance export"):
        load_rates(rates_path(rates, config.finance), config.finance)


def jira_syncs(job: Job, store: Store | None = None, now: datetime | None = None) -> list[SyncParams]:
    """The job's syncs from Jira that will run: all of them, or with a store, those its data age calls for."""
    from rollup.schedule.steps import last_successful_sync

    syncs = [s for s in plan_steps(job) if isinstance(s, SyncParams) and s.source == "jira"]
    if store is None:
        return syncs
    last = last_successful_sync(store)
    now = now or datetime.now(timezone.utc)
    out = []
    for params in syncs:
        limit = params.max_age if params.max_age is not None else job.max_data_age
        if params.full or limit is None or last is None or now - last >= limit:
            out.append(params)
    return out


def check_jira(job: Job, store: Store | None = None, now: datetime | None = None,
               config: RollupConfig | None = None) -> None:
    """The JIRA_* variables (with ``sites:``, each site's credential variables) are set when the job will sync
    from Jira (ConfigError, exit 2, otherwise)."""
    if jira_syncs(job, store, now):
        from connectors.jira import JiraSettings
        from connectors.jira.errors import JiraConfigError
        from rollup.jobs.sync import site_settings

        try:
            if config is not None and config.sites:
                for site in config.sites:
                    site_settings(site)
            else:
                JiraSettings.from_env()
        except JiraConfigError as exc:
            raise ConfigError(f"{job.source}: job '{job.name}' syncs from Jira: {exc}") from None


def prepare(job: Job, *, require_jira: bool = False) -> RollupConfig:
    """Load the job's ``mappings.yaml`` and check the job against it and the environment; return the config.

    ``require_jira`` checks the JIRA_* variables for every sync the job could run (the scheduler's
    start); otherwise :func:`run_job` checks them once it knows whether the data is fresh.
    """
    from rollup.config import load_config

    if Path(job.config).is_dir():
        raise ConfigError(f"{job.source}: job '{job.name}': 'config: {job.config}' is a folder; name the mappings "
                          "file, e.g. mappings.yaml")
    if not Path(job.config).is_file():
        raise ConfigError(f"{job.source}: job '{job.name}': mappings file {job.config} not found in {Path.cwd()} "
                          "(the job's 'config:' key, default mappings.yaml; relative paths are read from the "
                          "working directory)")
    config = load_config(job.config)
    check_job(job, config)
    if require_jira:
        check_jira(job, config=config)
    return config


# ---------------------------------------------------------------------------------------- a run


def _error_text(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, RollupError) else f"{type(exc).__name__}: {exc}"
    return redact(text)


def run_job(
    job: Job,
    *,
    trigger: str = "manual",
    database_url: str | None = None,
    config: RollupConfig | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stop: StopFlag | None = None,
) -> JobRun:
    """Run ``job`` once; see the module docstring. Raises ConfigError (bad input) or JobLocked."""
    from rollup.store import Store

    config = config if config is not None else prepare(job)
    stop = stop or StopFlag()
    with Store.open(database_url) as store, stop_on_sigterm(stop):
        check_jira(job, store, now, config)
        try:
            with job_lock(store, job.name):
                if trigger == "schedule":
                    earlier = _served_elsewhere(job, store, now)
                    if earlier is not None:
                        return earlier
                return _run_locked(job, store, config, trigger=trigger, database_url=database_url, now=now,
                                   sleep=sleep, stop=stop)
        except JobLocked as exc:
            run_id = history.record_run(store, job.name, trigger, "locked", error=str(exc))
            log_event("run.locked", level=30, job=job.name, run=run_id, error=str(exc))
            raise


def due_fire_time(job: Job, now: datetime) -> datetime | None:
    """The fire time a scheduled run at ``now`` serves: the latest one at or before ``now`` within the
    job's misfire grace (None when there is none)."""
    trigger = job.trigger()
    due, moment = None, trigger.get_next_fire_time(None, now - job.misfire_grace)
    for _ in range(100_000):  # a job firing every minute has 4,320 fire times in a 3-day grace
        if moment is None or moment > now:
            break
        due, moment = moment, trigger.get_next_fire_time(moment, moment)
    return due


def _served_elsewhere(job: Job, store: Store, now: datetime | None) -> JobRun | None:
    """A ``skipped`` run when another scheduler already ran this fire time (checked under the job's lock).

    The lock keeps two runs from overlapping; this keeps a second daemon on the same database from
    running the same fire time again after the first has finished (a second email to the CEO).
    """
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    due = due_fire_time(job, now)
    if due is None:
        return None
    earlier = history.scheduled_run_since(store, job.name, due)
    if earlier is None:
        return None
    error = (f"the fire time {due.astimezone(job.zone()).isoformat()} was already run by run {earlier['id']} "
             f"(host {earlier['host']}, pid {earlier['pid']}, {earlier['status']}); not run again")
    run_id = history.record_run(store, job.name, "schedule", "skipped", error=error, started=now)
    log_event("run.skipped", level=30, job=job.name, run=run_id, reason=error)
    return JobRun(run_id=run_id, job=job.name, status="skipped", error=error)


def _run_locked(job: Job, store: Store, config: RollupConfig, *, trigger: str, database_url: str | None,
                now: datetime | None, sleep: Callable[[float], None], stop: StopFlag) -> JobRun:
    started = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    started_local = started.astimezone(job.zone())
    as_of: date = job.as_of or started_local.date()
    clock = time.monotonic()
    plan = plan_steps(job)
    run_id = history.start_run(store, job.name, trigger, started=started)
    run = JobRun(run_id=run_id, job=job.name, status="running",
                 steps=[{"name": p.step, "status": "pending", "on_failure": p.on_failure} for p in plan])
    job_out = job.output_dir
    staging = outputs.staging_dir(job_out, run_id)
    log_event("run.start", job=job.name, run=run_id, trigger=trigger, as_of=as_of,
              steps=",".join(p.step for p in plan))
    try:
        died = history.mark_died(store, job.name, keep=run_id)
        if died:
            log_event("run.died", level=30, job=job.name, runs=",".join(map(str, died)))
        outputs.clean_leftovers(job_out)
        ctx = StepContext(job=job, config=config, store=store, out_dir=staging, as_of=as_of, now=started,
                          database_url=database_url)
        finished_dirs = _run_steps(run, plan, ctx, staging, stop, store)
        _publish(run, job, staging, finished_dirs, started_local)
        if run.status in ("ok", "partial") and run.run_dir is not None:
            run.latest = outputs.update_latest(job_out, outputs.Published(run.run_dir, run.files))
            run.removed = outputs.apply_retention(job_out, job.name, keep_last=job.retention.keep_last,
                                                  max_age=job.retention.max_age, now_local=started_local,
                                                  protect=run.run_dir)
        _deliver(run, job, as_of, sleep, stop)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        run.status = "interrupted" if interrupted else "failed"
        run.error = run.error or ("interrupted" if interrupted else _error_text(exc))
        if run.run_dir is None:
            outputs.discard(staging)
        history.finish_run(store, run_id, run.status, steps=run.steps, outputs=run.files,
                           run_dir=str(run.run_dir) if run.run_dir else None, error=run.error,
                           delivery_status=run.delivery_status, delivery=run.delivery)
        log_event("run.end", level=40, job=job.name, run=run_id, status=run.status,
                  seconds=time.monotonic() - clock, error=run.error)
        raise
    history.finish_run(store, run_id, run.status, steps=run.steps, outputs=run.files,
                       run_dir=str(run.run_dir) if run.run_dir else None, error=run.error,
                       delivery_status=run.delivery_status, delivery=run.delivery)
    log_event("run.end", level=20 if run.exit_code == 0 else 40, job=job.name, run=run_id, status=run.status,
              seconds=time.monotonic() - clock, files=len(run.files), delivery=run.delivery_status,
              run_dir=run.run_dir, error=run.error)
    return run


@dataclass
class _Running:
    """A step whose work is still under way in another process (its outcome was :attr:`StepOutcome.pending`)."""

    index: int
    params: StepParams
    folder: Path
    began: float
    pending: Pending


def _run_steps(run: JobRun, plan: list[StepParams], ctx: StepContext, staging: Path, stop: StopFlag,
               store: Store) -> list[Path]:
    """Run the plan's steps in order; the folders of those that finished, in plan order.

    A step may leave its work running in a forked process when the next step can run beside it
    (:attr:`Step.runs_beside`: the portfolio workbook while the team workbooks and the lint are written);
    it is waited for before any other step, and at the end. Its record, its log line and what its
    failure means (``on_failure``) are as if it had run alone: the steps after it are logged after it,
    and when it fails with ``on_failure: stop`` what they wrote is not kept.
    """
    finished: dict[int, Path] = {}
    run.status = "ok"
    state = _Steps(run=run, plan=plan, stop=stop, store=store, finished=finished)
    try:
        for index, params in enumerate(plan):
            record = run.steps[index]
            step = step_for(params)
            if state.running and not step.runs_beside:
                state.settle()
            if stop.requested and run.status != "interrupted":
                # Stopped between steps: the run is incomplete, so it is neither published as latest nor delivered.
                run.status, run.error = "interrupted", f"stopped by {stop.requested} before step '{params.step}'"
            if stop.requested or state.halted:
                record.update(status="skipped", summary=f"not run: {stop.requested or state.halted}")
                continue
            folder = outputs.step_dir(staging, index, params.step)
            ctx.out_dir = folder
            ctx.may_defer = can_fork() and index + 1 < len(plan) and step_for(plan[index + 1]).runs_beside
            record["started"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
            began = time.monotonic()
            try:
                with stop.abandonable_section():
                    outcome = step.run(ctx, params)
            except KeyboardInterrupt as exc:
                reason = str(exc) or stop.requested or "SIGINT"
                stop.requested = stop.requested or reason
                outputs.discard(folder)
                record.update(status="abandoned", error=f"stopped by {reason}")
                run.status, run.error = "interrupted", f"stopped by {reason} during step '{params.step}'"
                state.abandon(reason)
            except Exception as exc:  # noqa: BLE001 - a step's failure is recorded, then on_failure decides
                state.failed(index, params, folder, exc)
            else:
                if outcome.pending is not None:
                    record["status"] = "running"
                    state.running.append(_Running(index, params, folder, began, outcome.pending))
                    history.update_run(store, run.run_id, steps=run.steps)
                    continue
                state.succeeded(index, folder, outcome)
            state.closed(index, began)
        if state.running:
            state.settle()
    finally:
        state.abandon(stop.requested or "an error")
    return [finished[i] for i in sorted(finished)]


@dataclass
class _Steps:
    """The bookkeeping of :func:`_run_steps`: records, folders kept, steps still running, log lines held back."""

    run: JobRun
    plan: list[StepParams]
    stop: StopFlag
    store: Store
    finished: dict[int, Path]
    halted: str | None = None
    running: list[_Running] = field(default_factory=list)
    #: Steps closed while an earlier one still runs: logged once it is done, so the log keeps plan order.
    held: list[int] = field(default_factory=list)

    def succeeded(self, index: int, folder: Path, outcome: StepOutcome) -> None:
        record = self.run.steps[index]
        record.update(status=outcome.status, summary=outcome.summary,
                      outputs=[str(Path(p).relative_to(folder)) for p in outcome.paths])
        if outcome.facts:
            record["facts"] = outcome.facts
        self.finished[index] = folder

    def failed(self, index: int, params: StepParams, folder: Path, exc: Exception) -> None:
        record, run = self.run.steps[index], self.run
        outputs.discard(folder)
        record.update(status="failed", error=_error_text(exc))
        if params.on_failure == "stop":
            self.halted = f"step '{params.step}' failed"
            run.status = "failed"
            # Steps that ran beside it keep nothing: a stop skips what comes after the failing step.
            for later in range(index + 1, len(self.plan)):
                if later in self.finished:
                    outputs.discard(self.finished.pop(later))
                if self.run.steps[later].get("status") in ("ok", "failed"):
                    self.run.steps[later].update(status="skipped", summary=f"not kept: {self.halted}", outputs=[])
                    for key in ("facts", "error"):
                        self.run.steps[later].pop(key, None)
        elif run.status == "ok":
            run.status = "partial"
        if not run.error or run.error.startswith("step '"):
            # The first failing step in plan order is named, whichever finished first.
            first = next(i for i, r in enumerate(run.steps) if r.get("status") == "failed")
            run.error = f"step '{self.plan[first].step}' failed: {run.steps[first]['error']}"

    def closed(self, index: int, began: float) -> None:
        self.run.steps[index]["seconds"] = round(time.monotonic() - began, 3)
        history.update_run(self.store, self.run.run_id, steps=self.run.steps)
        if self.running:
            self.held.append(index)
        else:
            self._log(index)

    def settle(self) -> None:
        """Wait for every step still running, in plan order; then log what was held back."""
        while self.running:
            current = self.running[0]
            try:
                with self.stop.abandonable_section():
                    outcome = current.pending.wait()
            except KeyboardInterrupt as exc:
                reason = str(exc) or self.stop.requested or "SIGINT"
                self.stop.requested = self.stop.requested or reason
                self.abandon(reason)
                return
            except Exception as exc:  # noqa: BLE001 - as a failure of the step itself
                self.running.pop(0)
                self.failed(current.index, current.params, current.folder, exc)
            else:
                self.running.pop(0)
                self.succeeded(current.index, current.folder, outcome)
            self.closed(current.index, current.began)
        self._release()

    def abandon(self, reason: str) -> None:
        """Stop every step still running (the run was interrupted, or the runner is leaving on an error)."""
        if not self.running:
            return
        first = self.running[0]
        while self.running:
            current = self.running.pop(0)
            current.pending.cancel()
            outputs.discard(current.folder)
            self.run.steps[current.index].update(status="abandoned", error=f"stopped by {reason}")
            self.run.steps[current.index]["seconds"] = round(time.monotonic() - current.began, 3)
            self.held.append(current.index)
        if self.run.status == "interrupted" or self.stop.requested:
            self.run.status = "interrupted"
            self.run.error = f"stopped by {reason} during step '{first.params.step}'"
        history.update_run(self.store, self.run.run_id, steps=self.run.steps)
        self._release()

    def _release(self) -> None:
        for index in sorted(set(self.held)):
            self._log(index)
        self.held.clear()

    def _log(self, index: int) -> None:
        record, run = self.run.steps[index], self.run
        log_event("step", level=20 if record["status"] in ("ok", "skipped") else 40, job=run.job, run=run.run_id,
                  step=self.plan[index].step, status=record["status"], seconds=record.get("seconds"),
                  outputs=len(record.get("outputs", [])), summary=record.get("summary"), error=record.get("error"))


def _publish(run: JobRun, job: Job, staging: Path, finished: list[Path], started_local: datetime) -> None:
    if not any(p.is_file() for folder in finished for p in folder.rglob("*")):
        outputs.discard(staging)
        return
    published = outputs.publish(staging, job.output_dir, job=job.name, run_id=run.run_id,
                                 started_local=started_local, step_dirs=finished)
    run.run_dir, run.files = published.run_dir, published.files
    log_event("publish", job=job.name, run=run.run_id, run_dir=published.run_dir, files=len(published.files))


def _deliver(run: JobRun, job: Job, as_of: date, sleep: Callable[[float], None], stop: StopFlag) -> None:
    channels = job.deliver.email is not None or job.deliver.confluence is not None
    if not channels:
        return
    if run.status not in ("ok", "partial") or run.run_dir is None:
        run.delivery_status = "skipped"
        run.delivery = {"reason": f"run {run.status}" if run.run_dir else "no outputs"}
        return
    facts: dict[str, Any] = next((s["facts"] for s in run.steps if s.get("facts", {}).get("headline")), {})
    summary = delivery_mod.RunSummary(job=job.name, title=job.display_title, run_id=run.run_id, status=run.status,
                                      as_of=as_of, steps=run.steps, run_dir=run.run_dir, files=run.files,
                                      headline=facts.get("headline", []), insights=facts.get("insights", []))
    results = delivery_mod.deliver(summary, job.deliver, sleep=sleep, should_stop=lambda: bool(stop.requested))
    run.delivery = {name: result.to_dict() for name, result in results.items()}
    run.delivery_status = delivery_mod.overall_status(results)
    for name, result in results.items():
        log_event("delivery", level=20 if result.status != "failed" else 40, job=job.name, run=run.run_id,
                  channel=name, status=result.status, attempts=result.attempts, error=result.error)
