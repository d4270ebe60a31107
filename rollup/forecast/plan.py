"""From the mapped issues to what the Monte Carlo runs: each team's throughput, WIP, split rate and backlog.

All pure pandas over the mapped issues frame (``docs/architecture.md``, "Frames and mapping"):

* **Throughput**: the team's children of epics (story level) finished per week over the last
  ``throughput_weeks`` weeks to the as-of date, weeks with none included as zeros.
* **WIP**: ``forecast.team_wip`` for the team, else ``forecast.wip`` when a number, else observed —
  the median, over those weeks, of how many of the team's epics had an item finished that week
  (weeks with nothing finished left out; at least 1).
* **Split rate**: over the team's *done* epics (whole lifetimes) that had a child when they
  started, children created after the epic started ÷ children created by then (0 without such
  epics; at most :data:`MAX_SPLIT_RATE`). An epic started on its start date, else on the day its
  first child was finished.
* **Remaining items** of each open epic: its open children; when it has fewer children than
  ``min_children``, at least ``default_size`` for its status (the allowance); then, for an epic not
  started yet, grown by the split rate (rounded up) when ``split_rate`` is on. An epic in progress
  is not grown: the children added since it started are already among its open children.
* **Backlog order**: target date (none last), then key (Jira rank is not synced).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from rollup.config.forecast import ForecastOptions

#: Status category keys (Jira's): not started, in progress, finished.
TO_DO, IN_PROGRESS, DONE = "new", "indeterminate", "done"
#: The columns of the mapped issues the forecast reads.
COLUMNS_READ = ["key", "hierarchy_level", "epic", "initiative", "team_id", "status_category", "resolved", "created",
                "start_date", "target_date"]
#: The most a split rate is taken to be (children added after start per child at start).
MAX_SPLIT_RATE = 3.0


@dataclass
class TeamPlan:
    """What one team's simulation needs, and how each figure was arrived at."""

    team_id: str
    throughput: np.ndarray
    wip: int
    wip_source: str
    split_rate: float
    #: The team's open epics in backlog order: key, open_children, allowance, growth, remaining, target_date.
    backlog: pd.DataFrame = field(default_factory=pd.DataFrame)


def _days(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce", utc=True)
    return out.dt.tz_convert(None).dt.normalize()


def _key_order(keys: pd.Series) -> pd.Series:
    parts = keys.astype(str).str.extract(r"^(.*?)-?(\d+)$")
    return parts[0].fillna(keys.astype(str)) + parts[1].fillna("0").str.zfill(12)


def epic_frames(mapped_issues: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(epics, children)``: hierarchy level 1, and the story-level issues under an epic."""
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    epics = mapped_issues[level.eq(1)]
    kids = mapped_issues[level.eq(0) & mapped_issues["epic"].notna()]
    return epics, kids


def team_plans(mapped_issues: pd.DataFrame, options: ForecastOptions, *, as_of: date) -> list[TeamPlan]:
    """One :class:`TeamPlan` per team that has an open epic (epics without a team are not planned).

    Every figure of every team in one pass over the frame (grouped by team, not filtered per team).
    """
    epics, kids = epic_frames(mapped_issues[COLUMNS_READ])
    epics = epics[epics["team_id"].notna()]
    epic_key = epics["key"].astype(str).to_numpy()
    epic_team = epics["team_id"].astype(str).to_numpy()
    epic_done = epics["status_category"].astype(str).eq(DONE).to_numpy()
    # A child belongs to its epic's team.
    epic_of_kid = kids["epic"].astype(str)
    team_of_kid = epic_of_kid.map(pd.Series(epic_team, index=epic_key))
    mine = team_of_kid.notna().to_numpy()
    kids, kid_epic, kid_team = kids[mine], epic_of_kid[mine].to_numpy(), team_of_kid[mine].to_numpy()
    kid_done = kids["status_category"].astype(str).eq(DONE).to_numpy()
    resolved = _days(kids["resolved"])

    # Throughput: items finished per week in the weeks ending on the as-of day (included).
    weeks = options.throughput_weeks
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=7 * weeks)
    finished = kid_done & resolved.ge(start).to_numpy() & resolved.lt(end).to_numpy()
    done_rows = pd.DataFrame({"team": kid_team[finished], "epic": kid_epic[finished],
                              "week": ((resolved[finished] - start).dt.days // 7).astype(int).to_numpy()})
    per_week = done_rows.groupby(["team", "week"]).size()
    # Observed WIP: the median over weeks with finished items of the distinct epics they belong to.
    observed = done_rows.groupby(["team", "week"])["epic"].nunique().groupby(level=0).median()

    # Split rate: over done epics that had a child when they started, children created after ÷ before.
    first_done = resolved.where(kid_done).groupby(kid_epic).min()
    started = pd.Series(_days(epics["start_date"]).to_numpy(), index=epic_key)[epic_done]
    started = started.fillna(first_done.reindex(started.index)).dropna()
    rates = pd.Series(dtype=float)
    in_done = pd.Series(kid_epic).isin(started.index).to_numpy()  # hashed: np.isin sorts object arrays
    if options.split_rate and in_done.any():
        created = pd.Series(_days(kids["created"])[in_done].to_numpy())
        start_of = pd.Series(kid_epic[in_done]).map(started)
        counts = pd.DataFrame({"team": kid_team[in_done], "epic": kid_epic[in_done],
                               "later": created.gt(start_of).to_numpy(), "before": created.le(start_of).to_numpy()})
        counts = counts.groupby(["team", "epic"])[["later", "before"]].sum()
        counts = counts[counts["before"].gt(0)].groupby(level=0).sum()
        rates = (counts["later"] / counts["before"]).clip(upper=MAX_SPLIT_RATE)

    # Remaining items of each open epic, in backlog order within its team.
    children = pd.Series(kid_epic).value_counts()
    open_children = pd.Series(kid_epic[~kid_done]).value_counts()
    open_epics = epics[~epic_done]
    keys = open_epics["key"].astype(str)
    status = open_epics["status_category"].astype(str).to_numpy()
    teams = open_epics["team_id"].astype(str).to_numpy()
    n_children = children.reindex(keys).fillna(0).astype(int).to_numpy()
    n_open = open_children.reindex(keys).fillna(0).astype(int).to_numpy()
    default = np.where(status == IN_PROGRESS, options.default_size.in_progress, options.default_size.to_do)
    allowance = np.where(n_children < options.min_children, np.maximum(default - n_open, 0), 0)
    base = n_open + allowance
    rate = pd.Series(teams).map(rates).fillna(0.0).to_numpy() if options.split_rate else np.zeros(len(teams))
    growth = np.where((status == TO_DO) & options.split_rate, np.ceil(base * rate), 0).astype(int)
    backlog = pd.DataFrame({
        "team": teams, "key": keys.to_numpy(), "status_category": status, "children": n_children,
        "open_children": n_open, "allowance": allowance.astype(int), "growth": growth,
        "remaining": (base + growth).astype(int), "target_date": _days(open_epics["target_date"]).to_numpy(),
    })
    backlog["_order"] = _key_order(backlog["key"])
    backlog = backlog.sort_values(["team", "target_date", "_order"], na_position="last", kind="stable")

    plans = []
    for team_id, rows in backlog.groupby("team", sort=True):
        history = np.zeros(weeks, dtype=np.float64)
        if team_id in per_week.index.get_level_values(0):
            mine_weeks = per_week.xs(team_id, level=0)
            history[mine_weeks.index.to_numpy(dtype=np.int64)] = mine_weeks.to_numpy(dtype=np.float64)
        team_id = str(team_id)
        if team_id in options.team_wip:
            wip, source = options.team_wip[team_id], "forecast.team_wip"
        elif isinstance(options.wip, int):
            wip, source = options.wip, "forecast.wip"
        else:
            wip = max(1, int(round(float(observed.get(team_id, 1)))))
            source = "observed"
        plans.append(TeamPlan(team_id=str(team_id), throughput=history, wip=int(wip), wip_source=source,
                              split_rate=float(rates.get(team_id, 0.0)) if options.split_rate else 0.0,
                              backlog=rows.drop(columns=["team", "_order"]).reset_index(drop=True)))
    return plans
