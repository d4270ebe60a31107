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


def throughput_history(kids: pd.DataFrame, *, as_of: date, weeks: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Items finished per week (oldest first) in the ``weeks`` weeks ending on ``as_of``, and the finished rows."""
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)  # the as-of day included
    start = end - pd.Timedelta(days=7 * weeks)
    resolved = _days(kids["resolved"])
    finished = kids["status_category"].astype(str).eq(DONE) & resolved.ge(start) & resolved.lt(end)
    rows = kids[finished].assign(week=((resolved[finished] - start).dt.days // 7).astype(int))
    counts = np.bincount(rows["week"].to_numpy(dtype=np.int64), minlength=weeks)[:weeks]
    return counts.astype(np.float64), rows


def observed_wip(finished: pd.DataFrame) -> int:
    """Median over weeks with finished items of the distinct epics they belong to (at least 1)."""
    if finished.empty:
        return 1
    per_week = finished.groupby("week")["epic"].nunique()
    return max(1, int(round(float(np.median(per_week.to_numpy())))))


def split_rate(epics: pd.DataFrame, kids: pd.DataFrame) -> float:
    """Children created after their epic started ÷ children created by then, over done epics (0–3)."""
    epics = epics[epics["status_category"].astype(str).eq(DONE)]
    if epics.empty or kids.empty:
        return 0.0
    first_done = _days(kids["resolved"]).where(kids["status_category"].astype(str).eq(DONE)).groupby(
        kids["epic"].astype(str)).min()
    started = _days(epics["start_date"]).set_axis(epics["key"].astype(str))
    started = started.fillna(first_done.reindex(started.index))
    started = started.dropna()
    if started.empty:
        return 0.0
    mine = kids[kids["epic"].astype(str).isin(started.index)]
    created = _days(mine["created"])
    start_of = mine["epic"].astype(str).map(started)
    counts = pd.DataFrame({"epic": mine["epic"].astype(str), "later": created.gt(start_of),
                           "before": created.le(start_of)}).groupby("epic")[["later", "before"]].sum()
    counts = counts[counts["before"].gt(0)]  # an epic with no child at its start says nothing of splitting
    if counts.empty:
        return 0.0
    return float(min(MAX_SPLIT_RATE, counts["later"].sum() / counts["before"].sum()))


def remaining_items(epics: pd.DataFrame, kids: pd.DataFrame, options: ForecastOptions,
                    rate: float) -> pd.DataFrame:
    """Open epics with ``open_children``, ``allowance``, ``growth`` and ``remaining`` items, in backlog order."""
    open_epics = epics[~epics["status_category"].astype(str).eq(DONE)]
    keys = open_epics["key"].astype(str)
    by_epic = kids.groupby(kids["epic"].astype(str))
    children = by_epic.size().reindex(keys).fillna(0).astype(int).to_numpy()
    open_kids = kids[~kids["status_category"].astype(str).eq(DONE)]
    open_children = (open_kids.groupby(open_kids["epic"].astype(str)).size().reindex(keys).fillna(0)
                     .astype(int).to_numpy())
    status = open_epics["status_category"].astype(str).to_numpy()
    default = np.where(status == IN_PROGRESS, options.default_size.in_progress, options.default_size.to_do)
    short = children < options.min_children
    allowance = np.where(short, np.maximum(default - open_children, 0), 0)
    base = open_children + allowance
    grows = (status == TO_DO) & options.split_rate
    growth = np.where(grows, np.ceil(base * rate), 0).astype(int)
    frame = pd.DataFrame({
        "key": keys.to_numpy(),
        "status_category": status,
        "children": children,
        "open_children": open_children,
        "allowance": allowance.astype(int),
        "growth": growth.astype(int),
        "remaining": (base + growth).astype(int),
        "target_date": _days(open_epics["target_date"]).to_numpy(),
    })
    frame["_order"] = _key_order(frame["key"])
    frame = frame.sort_values(["target_date", "_order"], na_position="last", kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def team_plans(mapped_issues: pd.DataFrame, options: ForecastOptions, *, as_of: date) -> list[TeamPlan]:
    """One :class:`TeamPlan` per team that has an open epic (epics without a team are not planned)."""
    epics, kids = epic_frames(mapped_issues[COLUMNS_READ])
    epics = epics[epics["team_id"].notna()]
    # A child belongs to its epic's team: each frame is grouped by team once.
    team_of_epic = pd.Series(epics["team_id"].astype(str).to_numpy(), index=epics["key"].astype(str).to_numpy())
    kid_team = kids["epic"].astype(str).map(team_of_epic)
    kids_by_team = dict(tuple(kids[kid_team.notna()].groupby(kid_team[kid_team.notna()], sort=False)))
    no_kids = kids.iloc[0:0]
    plans = []
    for team_id, team_epics in epics.groupby(epics["team_id"].astype(str), sort=True):
        team_kids = kids_by_team.get(team_id, no_kids)
        throughput, finished = throughput_history(team_kids, as_of=as_of, weeks=options.throughput_weeks)
        if team_id in options.team_wip:
            wip, source = options.team_wip[team_id], "forecast.team_wip"
        elif isinstance(options.wip, int):
            wip, source = options.wip, "forecast.wip"
        else:
            wip, source = observed_wip(finished), "observed"
        rate = split_rate(team_epics, team_kids) if options.split_rate else 0.0
        backlog = remaining_items(team_epics, team_kids, options, rate)
        if backlog.empty:
            continue
        plans.append(TeamPlan(team_id=str(team_id), throughput=throughput, wip=int(wip), wip_source=source,
                              split_rate=rate, backlog=backlog))
    return plans
