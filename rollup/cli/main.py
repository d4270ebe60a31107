"""The ``rollup`` command line: thin commands over library functions.

Exit codes: 0 success; 1 the operation failed (Jira unreachable, store refused, sync failed);
2 bad input (mappings.yaml, an option, a missing JIRA_* variable); 3 Jira refused the
credentials (check JIRA_EMAIL/JIRA_API_TOKEN or JIRA_PAT).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from rollup.cli.errors import handle_errors
from rollup.cli.options import config_option, database_option, format_option, out_option
from rollup.config import load_config
from rollup.dates import out_of_range
from rollup.jobs.sync import SyncProgress, SyncResult

_STAGE_LABELS = {
    "sweep": "Sweeping issue ids",
    "fetch": "Fetching issues",
    "worklogs": "Reading worklogs",
    "deletions": "Deletion sweep",
}




# ---------------------------------------------------------------------------------------- progress


class RateColumn(ProgressColumn):
    """Items per second of a task."""

    def render(self, task) -> Text:
        """The task's items per second, blank until the first item is done."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class ProgressBar:
    """Turns :class:`SyncProgress` events into a rich progress bar on stderr."""

    def __init__(self, enabled: bool = True):
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: SyncProgress) -> None:
        """Start, advance or finish the bar of the event's stage."""
        task = self.tasks.get(event.stage)
        if task is None:
            site, _, stage = event.stage.rpartition(": ")  # a sync of several sites: "<site>: <stage>"
            label = _STAGE_LABELS.get(stage, stage)
            task = self.tasks[event.stage] = self.progress.add_task(
                f"{site}: {label}" if site else label, total=event.total
            )
        self.progress.update(task, completed=event.done, total=event.total)


# ---------------------------------------------------------------------------------------- output


def summary_lines(result: SyncResult) -> list[str]:
    """The closing summary of a sync, one line per fact."""
    counted = "" if result.server_count is None else f" (the server counts {result.server_count})"
    lines = [
        f"Sync ({result.mode}) finished in {result.elapsed:.1f}s",
        f"  issues: {result.new} new, {result.changed} changed, {result.deleted} deleted, {result.unchanged} unchanged"
        + (f", {result.failed} failed (retried next sync)" if result.failed else ""),
        f"  swept: {result.swept} issues{counted}",
        f"  worklogs: {result.worklogs} written, {result.worklogs_deleted} deleted",
        f"  requests: {result.requests} ({result.retries} retries, {result.throttled} throttled)",
        f"  store: {result.store}",
    ]
    lines += [f"  warning: {w}" for w in result.field_warnings]
    if result.fields_changed:
        lines.append("  warning: field roles changed since the last sync, so every issue was read again: "
                     + "; ".join(result.fields_changed))
    for site in result.sites:
        counted = "" if site.server_count is None else f" (the server counts {site.server_count})"
        lines.append(f"  site {site.site} ({site.mode}): {site.new} new, {site.changed} changed, {site.deleted} "
                     f"deleted, {site.unchanged} unchanged; swept {site.swept}{counted}; {site.requests} requests"
                     + (f"; failed: {site.error}" if site.error else ""))
    return lines


def _emit(payload: dict[str, Any], lines: list[str], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(payload, default=str))
    else:
        for line in lines:
            click.echo(line)


# ---------------------------------------------------------------------------------------- commands


@click.group(
    help="""Jira portfolio rollup: sync Jira into a local store and build the portfolio views.

    Exit codes: 0 ok, 1 failed, 2 bad input (mappings.yaml, options, JIRA_* variables),
    3 Jira refused the credentials.

    \b
    Example:
      rollup demo                 # sample organisation, no Jira account needed
      rollup sync --config mappings.yaml
    """
)
@click.version_option(package_name="jira-portfolio-rollup")
def cli() -> None:
    """Turn Jira into the portfolio view leadership, product ops and finance read."""
    pass


@cli.command("sync")
@click.option("--full", is_flag=True, help="Re-sweep the whole scope and run the deletion sweep.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Re-read issues updated since this UTC date/time instead of the stored cursor.",
)
@config_option("The mappings.yaml with the jira: and sync: sections.")
@database_option()
@format_option("json", help="json prints one JSON object to stdout.")
@click.option("--allow-mass-delete", is_flag=True,
              help="Let the deletion sweep delete more than sync.max_delete_share of the stored scope.")
@handle_errors
def sync_command(full: bool, since: datetime | None, config_path: Path, database: str | None, fmt: str,
                 allow_mass_delete: bool) -> None:
    """Sync Jira into the local store: only what changed since the last sync.

    Jira is read from JIRA_URL with JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data
    Center) — or, with a sites: list in mappings.yaml, from every site listed there, in parallel,
    each with the credential variables it names; the store is --database, else
    ROLLUP_DATABASE_URL, else .rollup/rollup.db.

    \b
    Example:
      export JIRA_URL=https://acme.atlassian.net JIRA_EMAIL=me@acme.com JIRA_API_TOKEN=...
      rollup sync --config mappings.yaml
      rollup sync --since 2025-01-01 --format json
    """
    from rollup.jobs.sync import run_sync

    config = load_config(config_path)
    since_utc = since.replace(tzinfo=timezone.utc) if since else None
    if since_utc is not None and since_utc > datetime.now(timezone.utc):
        raise click.BadParameter(f"{since:%Y-%m-%d %H:%M} is in the future; give a past UTC date/time",
                                 param_hint="--since")
    if since is not None and out_of_range(since.date()):
        raise click.BadParameter(out_of_range(since.date()) or "", param_hint="--since")
    with ProgressBar(enabled=sys.stderr.isatty()) as bar:
        result = run_sync(config, database_url=database, full=full, since=since_utc, progress=bar,
                          allow_mass_delete=allow_mass_delete)
    _emit(result.to_dict(), summary_lines(result), fmt)


@cli.command("demo")
@click.option("--flavour", type=click.Choice(["cloud", "datacenter"]), default="cloud", show_default=True,
              help="Which Jira the local server imitates.")
@click.option("--issues", type=click.IntRange(min=300), default=3000, show_default=True,
              help="Size of the sample organisation.")
@config_option("The mappings.yaml that maps the sample organisation.")
@database_option("emptied first, and refused when it holds data from a real Jira")
@out_option("Folder for the workbook and charts.")
@click.option("--weeks", type=click.IntRange(min=1, max=26), default=6, show_default=True,
              help="Weeks of history to live through before the workbook (1: one sync, no week-over-week).")
@click.option("--schedules", "schedules_path", type=click.Path(path_type=Path, exists=True), default=None,
              help="After the weeks, run the enabled jobs of this schedule file or folder once, in this process, "
                   "and let them write the portfolio workbook (make demo: schedules/demo).")
@format_option("json", help="json prints one JSON object to stdout.")
@handle_errors
def demo_command(flavour: str, issues: int, config_path: Path, database: str | None, out_dir: Path, weeks: int,
                 schedules_path: Path | None, fmt: str) -> None:
    """Sync the sample organisation from a local Jira and write its portfolio workbook: no Jira account needed.

    Generates the sample organisation (seed 7), serves it on 127.0.0.1 like a real Jira and
    lives --weeks weeks of it: each week the local Jira's clock moves a week (teams work, epic
    owners add, close, re-date and re-tag epics), the store (--database, else ROLLUP_DATABASE_URL,
    else .rollup/rollup.db) is synced and that week's portfolio snapshot is stored; one line per week
    goes to stderr. The last week (2026-11-23) writes the weekly portfolio workbook and charts
    under outputs/, with real week-over-week changes and trends; then it stops the server and
    prints what it wrote.

    With --schedules the last week writes the lint workbook and stores its snapshot, and then the
    enabled jobs of that file or folder run once in this process, as `rollup run JOB` would run
    them (a dated run folder, latest/, delivery): they write the portfolio workbook, once.

    \b
    Example:
      rollup demo
      rollup demo --flavour datacenter --issues 1000
      rollup demo --schedules schedules/demo      # what make demo runs
    """
    from rollup.jobs.demo import run_demo

    config = load_config(config_path)
    jobs = _demo_jobs(schedules_path) if schedules_path is not None else []
    with ProgressBar(enabled=sys.stderr.isatty()) as bar:
        demo = run_demo(config, database, flavour=flavour, issues=issues, out_dir=out_dir, weeks=weeks, progress=bar,
                        on_week=lambda week: click.echo(week.line(), err=True), write_portfolio=not jobs)
    lines = demo_sync_lines(demo)
    if demo.report is not None:
        lines.append(f"Wrote the portfolio workbook: {demo.report.workbook}")
        lines += [f"  chart: {path}" for path in demo.report.paths[1:]]
    if demo.lint is not None:
        lines.append(f"Wrote the lint workbook: {demo.lint.workbook}")
    runs = []
    if jobs:
        from rollup.cli.schedule import run_lines
        from rollup.schedule.runner import plan_steps
        from rollup.schedule.scheduler import run_here

        for job in jobs:
            click.echo(f"job {job.name}: {', '.join(p.step for p in plan_steps(job))}", err=True)
            runs += run_here([job], database_url=database)
        lines += [line for run in runs for line in run_lines(run, every_file=True)]
    lines += where_to_look(demo, runs)
    _emit({**demo.to_dict(), **({"runs": [run.to_dict() for run in runs]} if jobs else {})}, lines, fmt)
    codes = [run.exit_code for run in runs]
    if any(codes):
        sys.exit(130 if 130 in codes else 1)


def _demo_jobs(schedules_path: Path) -> list[Any]:
    """The jobs ``rollup demo --schedules`` runs, checked before the weeks are lived."""
    from rollup.errors import ConfigError
    from rollup.schedule.models import load_schedules
    from rollup.schedule.scheduler import once_jobs

    jobs = once_jobs(load_schedules(schedules_path))
    if not jobs:
        raise ConfigError(f"no enabled jobs in {schedules_path}; enable one (enabled: true) or leave out --schedules")
    return jobs


def demo_sync_lines(demo: Any) -> list[str]:
    """The demo's closing summary: where it synced from, what the store holds, the weeks' syncs, the last one."""
    weeks, counts = demo.weeks, demo.store_counts
    first, last = weeks[0], weeks[-1]
    plural = "" if len(weeks) == 1 else "s"
    snapshots = sum(1 for w in weeks if w.snapshot)
    lines = [
        f"Synced the sample organisation ({demo.issues_in_org:,} issues) from a local Jira ({demo.flavour}) at "
        f"{demo.jira_url}, once a week for {len(weeks)} week{plural} ({first.week} to {last.week})",
        f"  store: {counts['issues']:,} issues, {counts['transitions']:,} transitions, {counts['worklogs']:,} "
        f"worklogs" + (f" and {snapshots} weekly epic snapshot{'' if snapshots == 1 else 's'}" if snapshots else "")
        + f" in {demo.store}",
    ]
    syncs = [w.sync for w in weeks]
    if len(syncs) > 1:
        later = syncs[1:]
        lines.append(f"  syncs: the first {first.sync.mode} ({first.sync.new:,} new), then {len(later)} more "
                     f"({sum(s.new for s in later):,} new, {sum(s.changed for s in later):,} changed, "
                     f"{sum(s.deleted for s in later):,} deleted); {sum(s.requests for s in syncs):,} requests "
                     f"in {sum(s.elapsed for s in syncs):.1f}s")
    result = last.sync
    lines.append(f"  {'last week' if len(syncs) > 1 else 'the week'}'s sync ({last.week}, {result.mode}): "
                 f"{result.new:,} new, {result.changed:,} changed, {result.deleted:,} deleted, "
                 f"{result.unchanged:,} unchanged" + (f", {result.failed} failed (retried next sync)" if result.failed
                                                      else "")
                 + f"; {result.requests} requests in {result.elapsed:.1f}s")
    lines += [f"  warning: {w}" for w in result.field_warnings]
    if result.fields_changed:
        lines.append("  warning: field roles changed since the last sync, so every issue was read again: "
                     + "; ".join(result.fields_changed))
    for site in result.sites:
        counted = "" if site.server_count is None else f" (the server counts {site.server_count})"
        lines.append(f"  site {site.site} ({site.mode}): {site.new} new, {site.changed} changed, {site.deleted} "
                     f"deleted, {site.unchanged} unchanged; swept {site.swept}{counted}; {site.requests} requests"
                     + (f"; failed: {site.error}" if site.error else ""))
    return lines


def where_to_look(demo: Any, runs: list[Any]) -> list[str]:
    """The demo's last line: the workbook to open first, then the rest of what it wrote."""
    latest = [p for run in runs for p in run.latest if p.suffix == ".xlsx"]
    portfolio = next((p for p in latest if p.name.startswith("portfolio")), None)
    if portfolio is None and demo.report is not None:
        portfolio = demo.report.workbook
    emails = [r["detail"]["outbox"] for run in runs for r in run.delivery.values()
              if isinstance(r, dict) and r.get("status") == "outbox" and (r.get("detail") or {}).get("outbox")]
    rest = [str(p) for p in latest if p != portfolio]
    feeds = sorted({p.parent for run in runs for p in run.latest if p.name == "feed.json"})
    rest += [f"the BI feed {folder}{os.sep} (CSV, Parquet, dictionary.csv; the store's rollup_* views)"
             for folder in feeds]
    rest += [f"the lint workbook {demo.lint.workbook}"] if demo.lint is not None else []
    rest += [f"the email {path}" for path in emails]
    rest += ["`rollup runs` for the run history"] if runs else []
    if portfolio is None:
        return [f"Where to look: {', '.join(rest)}"] if rest else []
    return [f"Open {portfolio} first (its Summary sheet is the week on one page)"
            + (f"; then {', '.join(rest)}" if rest else "")]


def _add_command_groups() -> None:
    """The command groups, one module each in this package (and the local Jira's own)."""
    from rollup.cli.doctor import doctor_command
    from rollup.cli.export import export_command
    from rollup.cli.finance import finance
    from rollup.cli.forecast import forecast
    from rollup.cli.lint import lint
    from rollup.cli.mapping import mapping
    from rollup.cli.report import report
    from rollup.cli.schedule import run_command, runs_command, schedule
    from rollup.localjira.cli import localjira

    for group in (doctor_command, export_command, finance, forecast, lint, localjira, mapping, report, schedule,
                  run_command, runs_command):
        cli.add_command(group)


_add_command_groups()


def main() -> None:
    """Console script entry point (``rollup``)."""
    cli(prog_name="rollup")
