"""``rollup schedule run|list``, ``rollup run JOB`` and ``rollup runs``: thin commands over rollup.schedule."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import database_option, format_option
from rollup.schedule.models import DEFAULT_SCHEDULES_PATH

_schedules_option = click.option(
    "--schedules", "schedules_path", type=click.Path(path_type=Path), default=DEFAULT_SCHEDULES_PATH,
    show_default=True, help="A schedule file, or a folder whose *.yaml files are read.")
_format_option = format_option("json", help="json prints one JSON document to stdout.")
_database_option = database_option("the job store and run history are kept there")


def _json_value(value: Any) -> Any:
    """Dates and times as ISO 8601 (``2026-11-30T07:00:04+00:00``); anything else as text."""
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _emit(payload: Any, lines: list[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(payload, default=_json_value, indent=2))
    else:
        for line in lines:
            click.echo(line)


# ---------------------------------------------------------------------------------------- schedule


@click.group("schedule")
def schedule() -> None:
    """Run jobs from schedules/*.yaml on their schedule, or list them.

    Example: rollup schedule list
    """


@schedule.command("run")
@_schedules_option
@click.option("--once", is_flag=True, help="Run every enabled job (or each --job) once now, then exit.")
@click.option("--job", "job_names", multiple=True, help="With --once: only this job (repeatable).")
@_database_option
@handle_errors
def schedule_run_command(schedules_path: Path, once: bool, job_names: tuple[str, ...], database: str | None) -> None:
    """Run the scheduler: every job fires at its local time; runs missed while down run once on return.

    The job store is the project's database (--database, else ROLLUP_DATABASE_URL, else
    .rollup/rollup.db); each run
    is `rollup run JOB` in a child process. Logs go to stderr, one line per event. SIGTERM stops
    the running job cleanly and exits 0. Run it under systemd (see docs/scheduling.md).

    \b
    Example:
      rollup schedule run
      rollup schedule run --once --schedules schedules/demo   # one cycle of the demo job
    """
    from rollup.schedule import logs
    from rollup.schedule.models import load_schedules
    from rollup.schedule.scheduler import once_jobs, run_once, serve

    logs.configure()
    schedules = load_schedules(schedules_path)
    if database is not None:
        # Each run is a child process (`rollup run JOB`): it finds the same store through the environment.
        os.environ["ROLLUP_DATABASE_URL"] = database
    if not once:
        if job_names:
            raise click.BadParameter("--job only applies with --once", param_hint="--job")
        serve(schedules, schedules_path, database_url=database)
        return
    jobs = once_jobs(schedules, job_names)
    if not jobs:
        raise click.UsageError(f"no enabled jobs in {schedules_path}; name one with --job")
    codes = run_once([job.name for job in jobs], str(schedules_path.resolve()), str(Path.cwd()))
    if any(codes):
        sys.exit(130 if 130 in codes else 1)


@schedule.command("list")
@_schedules_option
@_database_option
@_format_option
@handle_errors
def schedule_list_command(schedules_path: Path, database: str | None, fmt: str) -> None:
    """Each job: when it fires, its next fire time (local and UTC), its steps and its last run.

    Example: rollup schedule list --format json
    """
    from rollup.schedule import history
    from rollup.schedule.models import load_schedules
    from rollup.schedule.runner import plan_steps
    from rollup.schedule.scheduler import next_fire_times
    from rollup.store import Store

    schedules = load_schedules(schedules_path)
    upcoming = next_fire_times(schedules)
    rows: list[dict[str, Any]] = []
    with Store.open(database) as store:
        for name, job in schedules.jobs.items():
            last = history.last_run(store, name)
            nxt = upcoming[name]
            rows.append({
                "job": name, "title": job.display_title, "enabled": job.enabled, "when": job.when,
                "next": nxt.isoformat() if nxt else None,
                "next_utc": nxt.astimezone(timezone.utc).isoformat() if nxt else None,
                "steps": [p.step for p in plan_steps(job)], "output": str(job.output_dir), "source": job.source,
                "last_run": ({"id": last["id"], "status": last["status"], "started": last["started"].isoformat()}
                             if last else None),
            })
    lines = []
    for row in rows:
        upcoming_text = (f"next {row['next'][:16].replace('T', ' ')} local ({row['next_utc'][11:16]} UTC)"
                         if row["next"] else "disabled")
        last_text = (f"last run {row['last_run']['id']} {row['last_run']['status']} {row['last_run']['started'][:16]}"
                     if row["last_run"] else "never run")
        lines.append(f"{row['job']}: {row['when']}; {upcoming_text}; steps {', '.join(row['steps'])}; {last_text}")
    _emit(rows, lines, fmt)


# ---------------------------------------------------------------------------------------- run / runs


@click.command("run")
@click.argument("job_name", metavar="JOB")
@_schedules_option
@click.option("--trigger", type=click.Choice(["manual", "schedule"]), default="manual", hidden=True)
@_database_option
@_format_option
@handle_errors
def run_command(job_name: str, schedules_path: Path, trigger: str, database: str | None, fmt: str) -> None:
    """Run one job now, exactly as the scheduler would (for cron, or by hand); print what it wrote.

    Exit codes: 0 ok and delivered, or (for the scheduler's runs) skipped because another
    scheduler already ran this fire time; 1 a step failed, delivery failed, or another process is
    running the job (the message names it); 2 bad input; 130 stopped by SIGTERM or Ctrl-C.

    \b
    Example:
      rollup run weekly-portfolio
      # the service user's crontab (docs/scheduling.md): the environment file, then the run
      0 7 * * 1  cd /srv/rollup && set -a && . /etc/rollup/rollup.env && set +a && .venv/bin/rollup run weekly-portfolio --schedules schedules >>/var/log/rollup/weekly-portfolio.log 2>&1
    """  # noqa: E501 - the crontab line is quoted whole, for copying
    from rollup.schedule import logs
    from rollup.schedule.models import load_schedules
    from rollup.schedule.runner import run_job

    logs.configure()
    job = load_schedules(schedules_path).get(job_name)
    run = run_job(job, trigger=trigger, database_url=database)
    _emit(run.to_dict(), run_lines(run), fmt)
    if run.exit_code:
        sys.exit(run.exit_code)


def run_lines(run: Any, *, every_file: bool = False) -> list[str]:
    """What a run (:class:`~rollup.schedule.runner.JobRun`) did, for people: its status, each step, the
    files it wrote (workbooks one per line, chart folders as a count; ``every_file``: each file, the
    workbooks first), the ``latest/`` copy, each delivery and the error."""
    from rollup.schedule.delivery import STATUS_WORDS, channel_line
    from rollup.schedule.outputs import file_lines

    lines = [f"Run {run.run_id} of {run.job}: {run.status}"
             + (f", delivery {STATUS_WORDS.get(run.delivery_status, run.delivery_status)}"
                if run.delivery_status != "none" else "")]
    for step in run.steps:
        detail = step.get("summary") or step.get("error") or ""
        lines.append(f"  {step['name']}: {step['status']}" + (f" — {detail}" if detail else ""))
    if run.run_dir is not None:
        files = sorted(run.files, key=lambda name: ("/" in name, name)) if every_file else file_lines(run.files)
        lines += [f"  {run.run_dir / line}" for line in files]
        latest = sorted({str(p.parent) for p in run.latest if p.parent.name == "latest"})
        lines += [f"  latest copy: {folder}" for folder in latest]
    for name, result in run.delivery.items():
        if isinstance(result, dict) and "status" in result:
            lines.append(f"  {channel_line(name, result)}")
    if run.error:
        lines.append(f"  error: {run.error}")
    return lines


@click.command("runs")
@click.option("--job", "job_name", default=None, help="Only this job's runs.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest runs to show.")
@_database_option
@_format_option
@handle_errors
def runs_command(job_name: str | None, limit: int, database: str | None, fmt: str) -> None:
    """Run history, newest first: start, end, status, outputs, error, delivery.

    Example: rollup runs --job weekly-portfolio --limit 5
    """
    from rollup.schedule import history
    from rollup.schedule.delivery import STATUS_WORDS
    from rollup.store import Store

    with Store.open(database) as store:
        rows = history.list_runs(store, job=job_name, limit=limit)
    lines = []
    for row in rows:
        end = row["finished"].isoformat(timespec="seconds") if row["finished"] else "-"
        lines.append(f"{row['id']:>5} {row['job']} {row['trigger']} {row['status']} "
                     f"{row['started'].isoformat(timespec='seconds')} → {end} "
                     f"delivery {STATUS_WORDS.get(row['delivery_status'], row['delivery_status'])} "
                     f"outputs {len(row['outputs'] or [])}" + (f" run_dir {row['run_dir']}" if row["run_dir"] else "")
                     + (f"\n      error: {row['error']}" if row["error"] else ""))
    if not rows:
        lines.append("no runs recorded" + (f" for job {job_name}" if job_name else ""))
    _emit(rows, lines, fmt)
