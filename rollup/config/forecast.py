"""The ``forecast:`` section of mappings.yaml: how the Monte Carlo completion forecast is run.

Every key has a default, so a file without the section forecasts with them. The models check
shapes and ranges; :func:`cross_check` checks that every team named under ``wip`` is declared.
See docs/forecasting.md for the model these settings drive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from rollup.config.names import unknown_name

if TYPE_CHECKING:  # pragma: no cover
    from rollup.config.models import RollupConfig


class DefaultSize(BaseModel):
    """Items assumed for an epic that is not broken down yet, by its status category."""

    model_config = ConfigDict(extra="forbid")

    to_do: int = Field(8, ge=1, le=1000, description="An epic not started (status category *To Do*).")
    in_progress: int = Field(5, ge=1, le=1000, description="An epic in progress.")


class ForecastOptions(BaseModel):
    """How each team's Monte Carlo forecast runs: trials, the history it draws from, work in progress, sizes."""

    model_config = ConfigDict(extra="forbid")

    trials: int = Field(10000, ge=100, le=100000, description="Monte Carlo trials per team.")
    seed: int = Field(7, ge=0, description="Random seed: the same seed and data give the same forecast.")
    throughput_weeks: int = Field(
        12, ge=2, le=104,
        description="Weeks of the team's finished items (children of epics) the trials draw from, ending on the "
                    "as-of date; weeks with nothing finished count as zero.")
    horizon_weeks: int = Field(
        156, ge=4, le=1040,
        description="Weeks simulated; an epic not done within them is reported as beyond the horizon.")
    wip: Literal["observed"] | int = Field(
        "observed",
        description="Epics a team works on at once: a number for every team, or `observed` — the median over the "
                    "throughput weeks of the number of the team's epics that had an item finished that week.")
    team_wip: dict[str, int] = Field(
        default_factory=dict,
        description="Epics in parallel for named teams (team id: number), overriding `wip`.")
    min_children: int = Field(
        3, ge=0, le=1000,
        description="An open epic with fewer children than this is not broken down yet: its remaining work is "
                    "at least `default_size` for its status.")
    default_size: DefaultSize = Field(default_factory=DefaultSize,
                                      description="Items an epic with fewer than `min_children` counts as at least.")
    rag: bool = Field(
        True,
        description="Rate epics (RAG) and rank the decision list by the forecast's chance of making the target "
                    "date; false keeps the linear projection's rule (remaining work ÷ the epic's recent throughput).")
    backtest_weeks: int = Field(
        12, ge=0, le=104,
        description="How far back the report's accuracy check (Data quality) forecasts from: as of every "
                    "`backtest_every` weeks up to this many weeks ago, scored against what happened; 0 leaves it "
                    "out. `rollup forecast backtest` takes its own `--weeks`.")
    backtest_every: int = Field(4, ge=1, le=52, description="Weeks between the accuracy check's as-of dates.")
    backtest_trials: int = Field(1000, ge=100, le=100000, description="Trials per team in the accuracy check.")
    split_rate: bool = Field(
        True,
        description="Grow each epic not started yet by the team's own rate of children added after an epic "
                    "started (measured over its done epics in the store).")


def cross_check(config: RollupConfig, where: Callable[..., str]) -> list[str]:
    """Problems between ``forecast:`` and the rest of the file; ``where(*path)`` gives 'file, line N'."""
    forecast: ForecastOptions = config.forecast
    known = [t.id for t in config.teams]
    problems: list[str] = []
    for team, wip in forecast.team_wip.items():
        if team not in known:
            problems.append(unknown_name(where("forecast", "team_wip", team), f"forecast.team_wip.{team}", "team",
                                         team, known))
        elif wip < 1:
            problems.append(f"{where('forecast', 'team_wip', team)}: 'forecast.team_wip.{team}': {wip} epics in "
                            "parallel; give 1 or more")
    if isinstance(forecast.wip, int) and forecast.wip < 1:
        problems.append(f"{where('forecast', 'wip')}: 'forecast.wip': {forecast.wip} epics in parallel; give 1 or "
                        "more, or 'observed'")
    return problems
