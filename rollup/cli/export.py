"""``rollup export``: the BI feed — long, tidy tables as CSV and Parquet with their data dictionary, and the same
tables as views in the store — a thin command over :mod:`rollup.jobs.feed`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import as_of_option, config_option, database_option, format_option
from rollup.cli.params import OutputFolder


@click.command("export")
@click.option("--out", "out_dir", type=OutputFolder(), default=Path("outputs") / "feed", show_default=True,
              help="The feed's folder, replaced whole: a new or empty folder, or that of an earlier export.")
@as_of_option("The date the lint, the forecast and the allocation are as of (YYYY-MM-DD); default today.")
@config_option("The mappings file (pillars, OKRs, buckets, teams, rules, lint:, forecast:).")
@database_option("its feed_* tables and rollup_* views are refreshed")
@format_option("json", help="json prints one JSON object to stdout.")
@handle_errors
def export_command(out_dir: Path, as_of: date | None, config_path: Path, database: str | None, fmt: str) -> None:
    """Write the BI feed: issues, epics, allocation, lint findings, snapshots and forecasts as CSV and Parquet.

    Each table is long and tidy (one fact per row, stable columns, UTC ISO dates, no index column),
    described in dictionary.csv beside them (table, column, type, meaning, source). The folder is
    swapped in whole, and the store's feed_* tables are refreshed in one transaction, so Power BI,
    Tableau or Metabase can also read the rollup_* views of the database directly. Prints each
    table's rows and files. See docs/feed.md.

    \b
    Example:
      rollup export
      rollup export --out outputs/feed --as-of 2026-11-23 --format json
    """
    from rollup.config import load_config
    from rollup.jobs.feed import run_feed_export
    from rollup.store import Store

    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        result = run_feed_export(store, config, out_dir=out_dir, as_of=as_of)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict()))
        return
    for line in result.lines():
        click.echo(line)
