"""``rollup finance``: export, close, reopen and list months — thin commands over :mod:`rollup.jobs.finance`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import config_option, database_option, format_option
from rollup.cli.params import OutputFile, OutputFolder


def _rates_option(command):
    return click.option("--rates", "rates", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        help="The rates CSV (else ROLLUP_RATES, else finance.rates_file).")(command)


_config_option = config_option("The mappings.yaml with the finance: section.")
_database_option = database_option()


def _month(value: str) -> str:
    from rollup.finance.calendar import parse_month

    return parse_month(value).label


@click.group("finance")
def finance() -> None:
    """R&D allocation for finance: effort and cost by team, pillar, initiative and bucket, capex vs opex.

    Example: rollup finance export --month 2026-10 --rates rates.csv
    """


@finance.command("export")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--out", "out_dir", type=OutputFolder(), default=None,
              help="Folder; the month's files go in <out>/finance-<month>/ (default: finance.output_dir in "
                   "mappings.yaml, outputs/finance).")
@_rates_option
@_config_option
@_database_option
@format_option("json")
@handle_errors
def export_command(month: str, out_dir: Path | None, rates: Path | None, config_path: Path, database: str | None,
                   fmt: str) -> None:
    """Write the month's allocation workbook and CSVs (closed months: the frozen figures); print the paths.

    Example: rollup finance export --month 2026-10 --out outputs/ --rates rates.csv
    """
    from rollup.config import load_config
    from rollup.jobs.finance import run_export
    from rollup.store import Store

    label = _month(month)
    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        result = run_export(store, config, month=label, out_dir=out_dir or Path(config.finance.output_dir),
                            rates_path=rates)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict()))
        return
    click.echo(f"Finance export {result.month} ({result.status}): {result.rows} detail rows, "
               f"{result.adjustments} adjustments, " + (f"{result.evidence} capitalized epic(s) on the Evidence sheet"
                                                       if result.evidence_kept else "no evidence kept for this month "
                                                       "(closed before evidence was recorded)"))
    click.echo(f"Content hash of the data files {result.files_hash} (detail.csv {result.content_hash})")
    if result.matches_close is True:
        click.echo("The data files are those of the close, byte for byte")
    elif result.matches_close is False:
        click.echo("Note: data file(s) differ from those of the close (the figures, detail.csv, are checked and "
                   f"the same; the files' layout changed since): {', '.join(result.changed_since_close)}")
    if result.data_runs_to:
        click.echo(f"Partial month: the data runs to {result.data_runs_to} (the last sync), before the month ends")
    for path in result.paths:
        click.echo(str(path))


@finance.command("close")
@click.argument("month")
@_rates_option
@_config_option
@_database_option
@handle_errors
def close_command(month: str, rates: Path | None, config_path: Path, database: str | None) -> None:
    """Freeze a month: store its detail rows and content hash; later Jira edits become adjustments.

    Example: rollup finance close 2026-10 --rates rates.csv
    """
    from rollup.config import load_config
    from rollup.jobs.finance import close_month
    from rollup.store import Store

    label = _month(month)
    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        figures = close_month(store, config, label, rates_path=rates)
    click.echo(f"Closed {label}: {len(figures.detail)} detail rows, {figures.adjustments} adjustments")
    click.echo(f"Content hash of the data files {figures.meta['data_files_sha256']} (detail.csv {figures.digest})")


@finance.command("reopen")
@click.argument("month")
@click.option("--confirm", is_flag=True, help="Required: reopening changes booked figures.")
@click.option("--reason", default="", help="Why (recorded in the log with who ran it).")
@_database_option
@handle_errors
def reopen_command(month: str, confirm: bool, reason: str, database: str | None) -> None:
    """Reopen the latest closed month; needs --confirm and --reason, and is logged.

    Example: rollup finance reopen 2026-10 --confirm --reason "late invoices from the payments team"
    """
    from rollup.jobs.finance import reopen_month
    from rollup.store import Store

    label = _month(month)
    with Store.open(database) as store:
        old = reopen_month(store, label, reason=reason, confirm=confirm)
    click.echo(f"Reopened {label} (was content hash {old}); reason logged")


@finance.command("months")
@_database_option
@format_option("json")
@handle_errors
def months_command(database: str | None, fmt: str) -> None:
    """List closed months, the first open month and every close and reopen.

    Example: rollup finance months --format json
    """
    from rollup.jobs.finance import month_status
    from rollup.store import Store

    with Store.open(database) as store:
        status = month_status(store)
    if fmt == "json":
        click.echo(json.dumps(status))
        return
    if not status["closed"]:
        click.echo("No closed months.")
    for row in status["closed"]:
        files = f"  data files {row['data_files_hash']}" if row.get("data_files_hash") else ""
        click.echo(f"{row['month']}  closed {row['closed_at']}  {row['rows']} rows  detail.csv "
                   f"{row['content_hash']}{files}")
    if status["first_open"]:
        click.echo(f"First open month: {status['first_open']}")
    for entry in status["log"]:
        reason = f"  reason: {entry['reason']}" if entry.get("reason") else ""
        click.echo(f"{entry['at']}  {entry['action']:<6} {entry['month']}  by {entry['actor']}{reason}")


@finance.command("sample-rates")
@click.option("--out", "out_path", type=OutputFile(), required=True,
              help="Where to write the CSV.")
@click.option("--issues", type=click.IntRange(min=300), default=3000, show_default=True,
              help="Size of the sample organisation (its people are the same at any size).")
@click.option("--seed", type=int, default=7, show_default=True)
@handle_errors
def sample_rates_command(out_path: Path, issues: int, seed: int) -> None:
    """Write a rates CSV for the sample organisation's people and teams (for the demo and tests).

    Example: rollup finance sample-rates --out outputs/rates.csv
    """
    from rollup.jobs.sample_rates import run_sample_rates

    click.echo(str(run_sample_rates(out_path, seed=seed, issues=issues)))


