"""Monte Carlo completion forecasts: P50/P85/P95 dates for epics, initiatives and key results.

>>> result = forecast(mapped_issues, config.forecast, as_of=date(2026, 11, 23))   # doctest: +SKIP
>>> result.epics[["key", "p50", "p85", "chance_by_target"]]                       # doctest: +SKIP

:mod:`~rollup.forecast.montecarlo` is the numeric core (numpy arrays in and out),
:mod:`~rollup.forecast.plan` turns the mapped issues into what it runs (throughput, WIP, split
rate, remaining items, backlog order), :mod:`~rollup.forecast.engine` runs it per team and rolls it
up. Pure: no I/O. The model and its rules are in docs/forecasting.md.
"""

from rollup.forecast.engine import Forecast, forecast

__all__ = ["Forecast", "forecast"]
