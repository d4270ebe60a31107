"""``rollup lint``: epic-quality lint of the synced store, and ``rollup lint rules``, the rule reference.

Thin commands over :func:`rollup.jobs.lint.run_lint_report`. The chosen format goes to stdout;
progress and notes (files written, the recorded run, the write-back summary) go to stderr.

Exit codes: 0 no finding at or above ``--fail-on`` (always, with the default ``never``);
1 findings at or above ``--fail-on``, or the run failed; 2 bad input (mappings.yaml, an option,
an unknown rule or team); 3 Jira refused the credentials (``--apply``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import as_of_option, config_option, database_option, format_option, out_option
from rollup.cli.params import NAME, SITE_URL

FAIL_ON = ("error", "warning", "info", "never")


def _split(values: tuple[str, ...]) -> list[str]:
    """``--select EQ001,EQ002 --select size`` → ``['EQ001', 'EQ002', 'size']``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@click.group("lint", invoke_without_command=True)
@config_option("The mappings file with the lint: section (rules, thresholds, ignores, write-back).")
@database_option()
@format_option("json", "csv", help="What goes to stdout: text for people, json or csv (one row per finding) "
                                   "for machines.")
@out_option("Folder for the workbook lint-<date>.xlsx.")
@click.option("--no-workbook", is_flag=True, help="Do not write the Excel workbook.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="never", show_default=True,
              help="Exit 1 when there is a finding at or above this severity.")
@click.option("--select", "select", multiple=True, metavar="RULES",
              help="Only these rules: codes, names or groups, comma-separated or repeated (e.g. EQ001,size). "
                   "A narrowed run is not recorded in the history.")
@click.option("--team", type=NAME, default=None,
              help="Only this team (id or name, or Unassigned); not recorded in the history.")
@click.option("--by-owner", is_flag=True, help="Add one sheet per owner to the workbook, to route each list.")
@as_of_option("Lint date (YYYY-MM-DD) for date rules and the file name; default today.")
@click.option("--apply/--dry-run", "apply", default=False, show_default=True,
              help="--apply labels and comments the offending epics in Jira; --dry-run (the default) only "
                   "prints what it would do, when the JIRA_* variables are set.")
@click.option("--no-store", is_flag=True, help="Do not record this run in the lint history (trend, portfolio).")
@click.option("--base-url", type=SITE_URL, default=None,
              help="Jira site URL for links, when the store does not know it (e.g. https://acme.atlassian.net).")
@click.pass_context
@handle_errors
def lint(ctx: click.Context, config_path: Path, database: str | None, fmt: str, out_dir: Path, no_workbook: bool,
         fail_on: str, select: tuple[str, ...], team: str | None, by_owner: bool, as_of: date | None, apply: bool,
         no_store: bool, base_url: str | None) -> None:
    """Lint the synced epics: every epic that cannot roll up, per team and owner, with how to fix it.

    Writes outputs/lint-<date>.xlsx (Summary, a sheet per team, Trend, Ignores, Rules), records
    the run for the trend and the portfolio's Data quality sheet, and prints the findings.
    Exit codes: 0 clean (or below --fail-on), 1 findings at or above --fail-on, 2 bad input.

    \b
    Example:
      rollup lint
      rollup lint --fail-on error --format json > lint.json
      rollup lint --team Payments --by-owner --select strategy,EQ005
      rollup lint --apply            # label and comment the epics in Jira
      rollup lint rules --format markdown
    """
    if ctx.invoked_subcommand is not None:
        return
    from rollup.config import load_config
    from rollup.jobs.lint import run_lint_report
    from rollup.lint.formats import render
    from rollup.store import Store

    rules = _split(select)
    if select and not rules:
        raise click.BadParameter("give at least one rule code, name or group", param_hint="--select")
    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        report = run_lint_report(
            store, config, out_dir=out_dir, as_of=as_of, select=rules or None,
            team=team, by_owner=by_owner, formats=() if no_workbook else ("xlsx",), apply=apply, dry_run=not apply,
            record=not no_store, base_url=base_url,
        )
    for path in report.paths:
        click.echo(f"Wrote {path}", err=True)
    if report.run_id is not None:
        click.echo(f"Recorded lint run {report.run_id}", err=True)
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    extra: dict[str, Any] = {}
    if report.writeback is not None:
        if fmt == "json":
            extra["writeback"] = report.writeback.to_dict()
        else:
            click.echo(report.writeback.format_text().rstrip("\n"), err=True)
    if fmt == "json":
        extra["run_id"] = report.run_id
        extra["paths"] = [str(p) for p in report.paths]
    click.echo(render(report.result, fmt, **extra), nl=False)
    writeback = report.writeback if apply else None
    failed = writeback.failed if writeback is not None else 0
    if writeback is not None and failed:
        # Said whatever --fail-on decides: a failed write-back must never go unreported.
        epics = len({a.key for a in writeback.actions if a.status == "failed"})
        click.echo(f"Error: write-back failed on {epics} epic(s) ({failed} action(s)); the others were written",
                   err=True)
        ctx.exit(1)
    if fail_on != "never" and report.result.at_or_above(fail_on):
        ctx.exit(1)


@lint.command("rules")
@format_option("json", "markdown", help="markdown prints docs/lint-rules.md as generated from the rules.")
@handle_errors
def rules_command(fmt: str) -> None:
    """Print the rule reference: code, name, groups, default severity, settings, why and how to fix.

    \b
    Example:
      rollup lint rules
      rollup lint rules --format json
    """
    from rollup.lint import all_rules
    from rollup.lint.docs import generate
    from rollup.lint.formats import render_rules

    click.echo(generate() if fmt == "markdown" else render_rules(all_rules(), fmt), nl=False)
