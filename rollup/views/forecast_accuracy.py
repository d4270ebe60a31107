"""Forecast accuracy: the forecast and the linear projection, made as of past weeks, scored against what happened.

Computed by :func:`rollup.forecast.backtest.backtest` over ``forecast.backtest_weeks`` weeks, one as-of
date every ``forecast.backtest_every`` weeks, ``forecast.backtest_trials`` trials per team (empty when
``backtest_weeks`` is 0). One row per team, then ``all``.

Columns: ``team_id``, ``team`` (its name; ``All teams``), ``forecasts`` (epic forecasts made),
``p85_scored`` (those whose outcome is known), ``p85_hits``, ``p85_hit_rate`` (share done by the P85
date), ``p50_median_error_days``, ``linear_dated``, ``linear_scored``, ``linear_hits``,
``linear_hit_rate`` (share done by the linear projection's date), ``linear_median_error_days``,
``dates`` (the as-of dates, as text, each saying whether its forecasts are the ones the weekly snapshot
of that week stored — "as forecast then" — or were rebuilt from the store's rows).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.forecast.backtest import REBUILT, STORED, TEAM_COLUMNS, backtest
from rollup.views._common import empty, names
from rollup.views.registry import View

COLUMNS = ["team_id", "team", *TEAM_COLUMNS[1:], "dates"]

#: How each as-of date's forecasts were had, as the ``dates`` column says it.
SOURCE_WORDS = {STORED: "as forecast then", REBUILT: "rebuilt"}


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, snapshots: Any) -> pd.DataFrame:
    """Backtest figures per team (see the module docstring)."""
    options = mappings.forecast
    if options.backtest_weeks < options.backtest_every or mapped_issues.empty:
        return empty(COLUMNS)
    result = backtest(mapped_issues, mappings, as_of=as_of, weeks=options.backtest_weeks,
                      every=options.backtest_every, trials=options.backtest_trials, snapshots=snapshots)
    teams = result.teams.copy()
    team_names = names(mappings, "teams")
    teams.insert(1, "team", teams["team_id"].map(team_names).fillna(teams["team_id"]))
    teams.loc[teams["team_id"].eq("all"), "team"] = "All teams"
    sources = result.sources or {}
    teams["dates"] = ", ".join(f"{d.isoformat()} ({SOURCE_WORDS[sources.get(d, REBUILT)]})"
                               for d in sorted(result.dates))
    return teams.reindex(columns=COLUMNS)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("forecast_accuracy", compute=compute, requires=("snapshots",))
