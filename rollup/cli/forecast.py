"""``rollup forecast backtest``: how accurate the Monte Carlo forecast and the linear projection have been."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import click

from rollup.cli.errors import handle_errors
from rollup.cli.options import as_of_option, config_option, database_option, format_option


@click.group("forecast")
def forecast() -> None:
    """Monte Carlo completion forecasts: check how accurate they have been.

    Example: rollup forecast backtest --weeks 24
    """


def _number(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


@forecast.command("backtest")
@config_option("The mappings.yaml (its forecast: section sets the model).")
@database_option()
@as_of_option("The date the backtest looks back from (YYYY-MM-DD); default today.")
@click.option("--weeks", type=click.IntRange(min=1, max=104), default=24, show_default=True,
              help="Forecast as of every --every weeks, back to this many weeks ago.")
@click.option("--every", type=click.IntRange(min=1, max=52), default=4, show_default=True,
              help="Weeks between the as-of dates forecast from.")
@click.option("--trials", type=click.IntRange(min=100, max=100000), default=2000, show_default=True,
              help="Trials per team for each past forecast.")
@format_option("json", "csv", help="text: a table per team; json: the figures; csv: every scored forecast.")
@handle_errors
def backtest_command(config_path: Path, database: str | None, as_of: date | None, weeks: int, every: int,
                     trials: int, fmt: str) -> None:
    """Forecast as of past weeks from the store's own history and score it against the actual done dates.

    For each team: the share of epics done by their P85 date and the median error of the P50 date, beside
    the same figures for the linear projection (remaining work / the epic's throughput of the last 28
    days). Nothing is written.

    \b
    Example:
      rollup forecast backtest
      rollup forecast backtest --weeks 26 --every 2 --format json
    """
    from rollup.config import load_config
    from rollup.forecast.backtest import STORED
    from rollup.jobs.forecast import run_backtest
    from rollup.store import Store

    if every > weeks:
        raise click.BadParameter(f"{every} is more than --weeks {weeks}: no past date to forecast from",
                                 param_hint="--every")
    config = load_config(config_path)
    with Store.open(database, must_exist=True) as store:
        result = run_backtest(store, config, as_of=as_of or date.today(), weeks=weeks, every=every, trials=trials)
    if fmt == "csv":
        click.echo(result.epics.to_csv(index=False, date_format="%Y-%m-%d"), nl=False)
        return
    teams = [{k: _number(v) for k, v in row.items()} for row in result.teams.to_dict(orient="records")]
    if fmt == "json":
        click.echo(json.dumps({"as_of": result.as_of.isoformat(), "dates": [d.isoformat() for d in result.dates],
                               "sources": {d.isoformat(): s for d, s in sorted((result.sources or {}).items())},
                               "teams": teams}, indent=2))
        return
    sources = result.sources or {}
    stored = [d for d in sorted(result.dates) if sources.get(d) == STORED]
    click.echo(f"Forecasts as of {', '.join(d.isoformat() for d in sorted(result.dates))}, scored on "
               f"{result.as_of.isoformat()}; "
               + (f"{', '.join(d.isoformat() for d in stored)} as forecast then (the weekly snapshot), the others "
                  if stored else "each ")
               + f"rebuilt from the store ({trials:,} trials per team)")
    click.echo(f"{'team':<20} {'forecasts':>9} {'scored':>6} {'done by P85':>12} {'P50 error':>10}   "
               f"{'linear':>6} {'scored':>6} {'done by date':>12} {'error':>7}")
    for row in teams:
        def pct(v: Any) -> str:
            return "n/a" if v is None else f"{v:.0%}"

        def days(v: Any) -> str:
            return "n/a" if v is None else f"{v:.0f} d"

        click.echo(f"{str(row['team_id']):<20} {row['forecasts']:>9} {row['p85_scored']:>6} "
                   f"{pct(row['p85_hit_rate']):>12} {days(row['p50_median_error_days']):>10}   "
                   f"{row['linear_dated']:>6} {row['linear_scored']:>6} {pct(row['linear_hit_rate']):>12} "
                   f"{days(row['linear_median_error_days']):>7}")
