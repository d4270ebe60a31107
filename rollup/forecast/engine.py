"""The forecast of a portfolio: every open epic's P50/P85/P95 dates and its chance of making its target date.

:func:`forecast` plans each team (:mod:`rollup.forecast.plan`), simulates it
(:mod:`rollup.forecast.montecarlo`) and rolls the epics up to their initiatives and key results,
which take the latest of their epics in each trial. Pure: frames and settings in, frames out.
Each team's trials are drawn from a generator seeded with ``forecast.seed`` and the team id, so a
team's forecast does not change when another team is added.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from rollup.config.forecast import ForecastOptions
from rollup.forecast import montecarlo
from rollup.forecast.plan import TeamPlan, epic_frames, team_plans

#: Columns of :attr:`Forecast.epics`.
EPIC_COLUMNS = ["key", "team_id", "status_category", "children", "open_children", "allowance", "growth",
                "remaining", "wip", "target_date", "p50", "p85", "p95", "chance_by_target", "note"]
#: Columns of :attr:`Forecast.teams`.
TEAM_COLUMNS = ["team_id", "weeks", "items_finished", "per_week_mean", "wip", "wip_source", "split_rate",
                "open_epics", "forecast_epics"]
#: Columns of :attr:`Forecast.rollups` (initiatives and key results).
ROLLUP_COLUMNS = ["kind", "id", "epics", "forecast_epics", "target_date", "p50", "p85", "p95", "chance_by_target",
                  "note", "share_done"]

NO_THROUGHPUT = "no finished items in the throughput weeks: not forecast"
NO_TEAM = "no team mapped: not forecast"


@dataclass
class Forecast:
    """Per epic, per team and per initiative / key result; ``as_of`` and the settings used."""

    as_of: date
    options: ForecastOptions
    epics: pd.DataFrame
    teams: pd.DataFrame
    rollups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ROLLUP_COLUMNS))


def week_end(as_of: date, index: np.ndarray, horizon: int) -> pd.DatetimeIndex:
    """Dates that week indexes end on (NaT for ``horizon``: beyond it)."""
    index = np.asarray(index, dtype=np.int64)
    days = np.where(index >= horizon, np.nan, 7.0 * (index + 1))
    return pd.DatetimeIndex(pd.Timestamp(as_of) + pd.to_timedelta(days, unit="D"))


def whole_weeks(as_of: date, target: pd.Series) -> np.ndarray:
    """Whole weeks from ``as_of`` to each target date (a week must end on or before it): 0 for a date
    already past, -1 without one."""
    days = (pd.to_datetime(target) - pd.Timestamp(as_of)).dt.days
    return np.where(days.isna(), -1, np.floor(days.fillna(0).clip(lower=0) / 7)).astype(np.int64)


def _rng(options: ForecastOptions, team_id: str) -> np.random.Generator:
    return np.random.default_rng([options.seed, zlib.crc32(team_id.encode("utf-8"))])


def forecast(mapped_issues: pd.DataFrame, options: ForecastOptions, *, as_of: date,
             key_results: pd.DataFrame | None = None, rollups: bool = True) -> Forecast:
    """Forecast every open epic with a team; roll up to initiatives and (given ``key_results``) key results.

    ``rollups=False``: the epics and teams only (the backtest scores epics; its roll-ups would be unread).

    ``key_results``: rows of ``key`` (an epic) and ``key_result`` (an id it contributes to).
    Teams are simulated one at a time and each run is dropped once its figures are read, so memory
    holds one team's trials, plus one done-share curve per initiative or key result and team.
    """
    plans = team_plans(mapped_issues, options, as_of=as_of)
    groups = _groups(mapped_issues, key_results) if rollups else []
    lane: dict[str, tuple[str, float]] = {}
    for plan in plans:
        if plan.throughput.sum() > 0:
            targets = montecarlo.lane_targets(plan.backlog["remaining"].to_numpy(), plan.wip)
            lane.update({key: (plan.team_id, float(q)) for key, q in zip(plan.backlog["key"], targets)})
    # Per team, the largest target among each group's epics of that team: the group's latest epic there.
    wanted: dict[str, set[float]] = {}
    for _kind, _ident, keys in groups:
        for team, target in _team_maxima(keys, lane).items():
            wanted.setdefault(team, set()).add(target)
    epic_rows, team_rows = [], []
    curves: dict[str, dict[float, np.ndarray]] = {}
    for plan in plans:
        backlog = plan.backlog.copy()
        backlog["team_id"] = plan.team_id
        backlog["wip"] = plan.wip
        finished = float(plan.throughput.sum())
        team_rows.append({"team_id": plan.team_id, "weeks": int(plan.throughput.size), "items_finished": finished,
                          "per_week_mean": finished / plan.throughput.size, "wip": plan.wip,
                          "wip_source": plan.wip_source, "split_rate": plan.split_rate,
                          "open_epics": len(backlog), "forecast_epics": 0 if finished == 0 else len(backlog)})
        if finished == 0:
            backlog["note"] = NO_THROUGHPUT
            epic_rows.append(backlog)
            continue
        run = montecarlo.simulate(plan.throughput, trials=options.trials, horizon=options.horizon_weeks,
                                  rng=_rng(options, plan.team_id))
        epic_rows.append(_dated(run, plan, backlog, as_of))
        if plan.team_id in wanted:
            unique = np.array(sorted(wanted[plan.team_id]))
            share = montecarlo.done_share(run, unique)
            curves[plan.team_id] = {float(q): share[i] for i, q in enumerate(unique)}
        del run
    all_epics, _ = epic_frames(mapped_issues)
    no_team = all_epics[all_epics["team_id"].isna() & ~all_epics["status_category"].astype(str).eq("done")]
    if not no_team.empty:  # counted and named, not dropped
        epic_rows.append(pd.DataFrame({"key": no_team["key"].astype(str).to_numpy(), "team_id": None,
                                       "status_category": no_team["status_category"].astype(str).to_numpy(),
                                       "target_date": pd.to_datetime(no_team["target_date"]).to_numpy(),
                                       "note": NO_TEAM}))
    epics = (pd.concat(epic_rows, ignore_index=True) if epic_rows else pd.DataFrame(columns=EPIC_COLUMNS))
    epics = epics.reindex(columns=EPIC_COLUMNS)
    teams = pd.DataFrame(team_rows, columns=TEAM_COLUMNS)
    rolled = (_rollups(mapped_issues, groups, lane, curves, epics, options, as_of) if rollups
              else pd.DataFrame(columns=ROLLUP_COLUMNS))
    return Forecast(as_of=as_of, options=options, epics=epics, teams=teams, rollups=rolled)


def _dated(run: montecarlo.TeamRun, plan: TeamPlan, backlog: pd.DataFrame, as_of: date) -> pd.DataFrame:
    targets = montecarlo.lane_targets(backlog["remaining"].to_numpy(), plan.wip)
    weeks = montecarlo.percentile_weeks(run, targets)
    for row, p in enumerate(montecarlo.PERCENTILES):
        backlog[f"p{p}"] = week_end(as_of, weeks[row], run.horizon).to_numpy()
    target_weeks = whole_weeks(as_of, backlog["target_date"])
    chance = montecarlo.chance_by(run, targets, np.maximum(target_weeks, 0))
    backlog["chance_by_target"] = np.where(target_weeks < 0, np.nan, chance)
    beyond = weeks[-1] >= run.horizon
    backlog["note"] = np.where(beyond, f"P95 beyond the {run.horizon}-week horizon", "")
    return backlog


def _groups(mapped_issues: pd.DataFrame, key_results: pd.DataFrame | None) -> list[tuple[str, str, list[str]]]:
    """``(kind, id, epic keys)`` of every initiative (from its epics) and key result (from ``key_results``)."""
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    under = mapped_issues[level.eq(1) & mapped_issues["initiative"].notna()]
    groups = _split("initiative", under["initiative"].astype(str).to_numpy(), under["key"].astype(str).to_numpy())
    if key_results is not None and not key_results.empty:
        groups += _split("key_result", key_results["key_result"].astype(str).to_numpy(),
                         key_results["key"].astype(str).to_numpy())
    return groups


def _split(kind: str, ids: np.ndarray, keys: np.ndarray) -> list[tuple[str, str, list[str]]]:
    """The keys grouped by id, ids in sorted order, keys in their order (one sort, no per-group filtering)."""
    if ids.size == 0:
        return []
    order = np.argsort(ids, kind="stable")
    ids, keys = ids[order], keys[order]
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return [(kind, str(ident), chunk.tolist()) for ident, chunk in zip(ids[starts], np.split(keys, starts[1:]))]


def _rollups(mapped_issues: pd.DataFrame, groups: list[tuple[str, str, list[str]]],
             lane: dict[str, tuple[str, float]], curves: dict[str, dict[float, np.ndarray]],
             epics: pd.DataFrame, options: ForecastOptions, as_of: date) -> pd.DataFrame:
    if not groups:
        return pd.DataFrame(columns=ROLLUP_COLUMNS)
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    parents = mapped_issues[level.ge(2)]
    parent_target = pd.Series(pd.to_datetime(parents["target_date"], errors="coerce").to_numpy(),
                              index=parents["key"].astype(str))
    open_keys = set(epics["key"].astype(str))
    noted = dict(zip(epics["key"].astype(str), epics["note"].fillna("")))
    rows: list[dict[str, object]] = []
    dated: list[int] = []
    shares: list[np.ndarray] = []
    for kind, ident, keys in groups:
        open_here = [k for k in keys if k in open_keys]
        unforecast = [k for k in open_here if k not in lane]
        target = parent_target.get(ident, pd.NaT) if kind == "initiative" else pd.NaT
        row: dict[str, object] = {"kind": kind, "id": ident, "epics": len(keys),
                                  "forecast_epics": len(open_here) - len(unforecast), "target_date": target, "note": ""}
        if unforecast:
            row["note"] = (f"{len(unforecast)} open epic(s) not forecast ({noted.get(unforecast[0]) or 'no team'}, "
                           f"e.g. {unforecast[0]}): no date")
        elif not open_here:
            row["note"] = "every epic done"
        else:
            # Done when its latest epic is: per team the one with the largest target; teams independent.
            share = np.ones(options.horizon_weeks)
            for team, q in _team_maxima(keys, lane).items():
                share = share * curves[team][q]
            dated.append(len(rows))
            shares.append(share)
        rows.append(row)
    frame = pd.DataFrame(rows).reindex(columns=ROLLUP_COLUMNS)
    for p in montecarlo.PERCENTILES:
        frame[f"p{p}"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    frame["target_date"] = pd.to_datetime(frame["target_date"])
    frame["chance_by_target"] = frame["chance_by_target"].astype(float)
    if dated:
        matrix = np.stack(shares)  # [groups, weeks]: share of trials done by the end of each week
        pct = montecarlo.first_week(matrix)
        for i, p in enumerate(montecarlo.PERCENTILES):
            frame.loc[dated, f"p{p}"] = week_end(as_of, pct[i], options.horizon_weeks).to_numpy()
        targets = pd.to_datetime(frame.loc[dated, "target_date"])
        within = whole_weeks(as_of, targets)
        chance = matrix[np.arange(len(dated)), np.clip(within - 1, 0, options.horizon_weeks - 1)]
        frame.loc[dated, "chance_by_target"] = np.where(within < 0, np.nan, np.where(within == 0, 0.0, chance))
        frame.loc[dated, "note"] = np.where(pct[-1] >= options.horizon_weeks,
                                            f"P95 beyond the {options.horizon_weeks}-week horizon", "")
    # The whole curve of each dated group: the share of trials done by the end of each week.
    by_row = dict(zip(dated, shares))
    frame["share_done"] = pd.Series([by_row.get(i) for i in range(len(frame))], index=frame.index, dtype=object)
    return frame


def _team_maxima(keys: list[str], trials_by_epic: dict[str, tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in keys:
        if key in trials_by_epic:
            team, target = trials_by_epic[key]
            out[team] = max(out.get(team, 0.0), target)
    return out
