"""``rollup forecast backtest``: read the store, map it, and score past forecasts against what happened."""

from __future__ import annotations

from datetime import date

from rollup.config.models import RollupConfig
from rollup.forecast.backtest import Backtest, backtest
from rollup.jobs.report import read_mapped
from rollup.store import Store


def run_backtest(store: Store, config: RollupConfig, *, as_of: date, weeks: int = 24, every: int = 4,
                 trials: int = 2000) -> Backtest:
    """The backtest of the store's portfolio as of ``as_of`` (see :mod:`rollup.forecast.backtest`): a week whose
    stored snapshot holds its forecasts is scored on them, the others are rebuilt."""
    data = read_mapped(store, config)
    return backtest(data.issues, config, as_of=as_of, weeks=weeks, every=every, trials=trials,
                    snapshots=data.frames.snapshots if data.frames is not None else None)
