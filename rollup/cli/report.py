"""``rollup report``: the portfolio workbook and per-team workbooks, as thin commands over rollup.jobs.report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import as_of_option, config_option, database_option, out_option
from rollup.cli.params import NAME, SITE_URL


def _options(command: Callable) -> Callable:
    for option in reversed([
        as_of_option("Report date (YYYY-MM-DD); default today. Names the workbook by its ISO week."),
        config_option("The mappings file (pillars, OKRs, buckets, teams, rules)."),
        database_option(),
        out_option("Folder for the workbook; charts go in <out>/charts (<out>/charts-<team> for a team)."),
        click.option("--base-url", type=SITE_URL, default=None,
                     help="Jira site URL for issue links, when the store does not know it (e.g. https://acme.atlassian.net)."),
    ]):
        command = option(command)
    return command


def _run(as_of: date | None, config_path: Path, database: str | None, out_dir: Path, base_url: str | None,
         team: str | None) -> None:
    from rollup.config import load_config
    from rollup.jobs.report import run_portfolio
    from rollup.store import Store

    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        result = run_portfolio(store, config, as_of=as_of or date.today(), team=team,
                               out_dir=out_dir, base_url=base_url)
    for path in result.paths:
        click.echo(str(path))


@click.group("report")
def report() -> None:
    """Write the portfolio workbook and charts from the synced store.

    Example: rollup report portfolio --as-of 2026-11-26
    """


@report.command("portfolio")
@_options
@click.option("--team", type=NAME, default=None, help="Only this team (id or name); writes team-<id>-<week>.xlsx.")
@handle_errors
def portfolio_command(as_of: date | None, config_path: Path, database: str | None, out_dir: Path,
                      base_url: str | None, team: str | None) -> None:
    """The executive workbook outputs/portfolio-<ISO week>.xlsx plus PNG/SVG charts; prints the paths.

    Example: rollup report portfolio --as-of 2026-11-26 --out outputs/
    """
    _run(as_of, config_path, database, out_dir, base_url, team)


@report.command("team")
@click.argument("team", type=NAME)
@_options
@handle_errors
def team_command(team: str, as_of: date | None, config_path: Path, database: str | None, out_dir: Path,
                 base_url: str | None) -> None:
    """One team's rollup workbook, outputs/team-<id>-<ISO week>.xlsx; prints the paths.

    Example: rollup report team payments --as-of 2026-11-26
    """
    _run(as_of, config_path, database, out_dir, base_url, team)
