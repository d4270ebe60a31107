"""Flow: how epics move — age of each epic in progress, epic cycle time per team, epics in progress against finished.

``transitions``: the store's status changes (:mod:`rollup.frames`; None: children's first starts are not
known, and an epic's start is its start date or its first child's resolution).

The rules:

* An epic **started** on the earliest of its start date and the first day one of its children moved into
  an *In Progress* status (or, without that change in the store, was done).
* An epic in progress has an **age**: days from its start to the as-of date.
* An epic's **cycle time** is days from its start to the day it was done (its resolution date). An epic
  that reopened and was done again is measured to its last done date; one that moved backwards (from
  in progress to to-do) keeps its first start. Cycle times are of the epics done in the last
  :data:`WINDOW_DAYS` days.
* **In progress against finished**: the team's epics in progress now against its epics done per
  four weeks in that window; their ratio × 4 is the weeks the work in progress would take at that
  pace (Little's law).

One frame in two parts, by ``level``: ``team`` rows (per team, then ``all``) and ``epic`` rows (each
epic in progress, oldest first).

Columns: ``level``, ``team_id``, ``team``, ``key``, ``summary`` (epic rows), ``started`` (epic rows),
``age_days`` (epic rows), ``in_progress`` (team rows: epics in progress now), ``done_in_window``,
``done_per_4_weeks``, ``cycle_p50_days``, ``cycle_p85_days`` (team rows), ``weeks_of_wip`` (team rows:
in progress ÷ done per 4 weeks × 4; NaN when nothing was done).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._common import UNMAPPED, empty, names, to_day
from rollup.views.registry import View

COLUMNS = ["level", "team_id", "team", "key", "summary", "started", "age_days", "in_progress", "done_in_window",
           "done_per_4_weeks", "cycle_p50_days", "cycle_p85_days", "weeks_of_wip"]

#: Days behind the as-of date whose done epics make the cycle times and the pace.
WINDOW_DAYS = 182


def starts(mapped_issues: pd.DataFrame, transitions: pd.DataFrame | None) -> pd.Series:
    """Each epic's start (see the module docstring), by epic key; NaT when it has not started."""
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    epics = mapped_issues[level.eq(1)]
    kids = mapped_issues[level.eq(0) & mapped_issues["epic"].notna()]
    candidates = [pd.Series(to_day(epics["start_date"]).to_numpy(), index=epics["key"].astype(str))]
    done_kids = kids[kids["status_category"].astype(str).eq("done")]
    candidates.append(to_day(done_kids["resolved"]).groupby(done_kids["epic"].astype(str).to_numpy()).min())
    if transitions is not None and len(transitions):
        moved = transitions[transitions["field"].astype(str).eq("status")
                            & transitions["to_category"].astype(str).eq("indeterminate")]
        epic_of = pd.Series(kids["epic"].astype(str).to_numpy(), index=kids["id"].to_numpy())
        moved = moved[moved["issue_id"].isin(epic_of.index)]
        if len(moved):
            first = to_day(moved["at"]).groupby(moved["issue_id"].map(epic_of).to_numpy()).min()
            candidates.append(first)
    combined = pd.concat(candidates, axis=1).min(axis=1)
    return combined.reindex(epics["key"].astype(str).to_numpy())


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date,
            transitions: pd.DataFrame | None) -> pd.DataFrame:
    """Team rows, then the epics in progress (see the module docstring)."""
    if mapped_issues.empty:
        return empty(COLUMNS)
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    epics = mapped_issues[level.eq(1)].copy()
    if epics.empty:
        return empty(COLUMNS)
    today = pd.Timestamp(as_of)
    epics["key"] = epics["key"].astype(str)
    epics["started"] = starts(mapped_issues, transitions).to_numpy()
    epics["done_on"] = to_day(epics["resolved"]).where(epics["status_category"].astype(str).eq("done")).to_numpy()
    epics["team_id"] = epics["team_id"].astype("object").where(epics["team_id"].notna(), UNMAPPED)
    team_names = {**names(mappings, "teams"), UNMAPPED: UNMAPPED}
    active = epics[epics["status_category"].astype(str).eq("indeterminate")
                   | (epics["started"].notna() & ~epics["status_category"].astype(str).eq("done"))]
    window_start = today - pd.Timedelta(days=WINDOW_DAYS)
    finished = epics[epics["done_on"].notna() & epics["done_on"].gt(window_start) & epics["done_on"].le(today)]
    cycle = (finished["done_on"] - finished["started"]).dt.days
    finished = finished.assign(cycle=cycle.where(cycle >= 0))
    rows = []
    for team, label in [*sorted((t, team_names.get(t, t)) for t in set(epics["team_id"])), ("all", "All teams")]:
        mine_active = active if team == "all" else active[active["team_id"].eq(team)]
        mine_done = finished if team == "all" else finished[finished["team_id"].eq(team)]
        per_4 = len(mine_done) / (WINDOW_DAYS / 28)
        times = mine_done["cycle"].dropna()
        rows.append({
            "level": "team", "team_id": team, "team": label, "in_progress": len(mine_active),
            "done_in_window": len(mine_done), "done_per_4_weeks": per_4,
            "cycle_p50_days": float(np.percentile(times, 50)) if len(times) else np.nan,
            "cycle_p85_days": float(np.percentile(times, 85)) if len(times) else np.nan,
            "weeks_of_wip": len(mine_active) / per_4 * 4 if per_4 else np.nan,
        })
    ages = active.assign(age_days=(today - active["started"]).dt.days)
    ages = ages.sort_values(["age_days", "key"], ascending=[False, True], na_position="last")
    epic_rows = pd.DataFrame({
        "level": "epic", "team_id": ages["team_id"].to_numpy(), "team": ages["team_id"].map(team_names).to_numpy(),
        "key": ages["key"].to_numpy(), "summary": ages["summary"].to_numpy(), "started": ages["started"].to_numpy(),
        "age_days": ages["age_days"].to_numpy(dtype=float),
    })
    return pd.concat([pd.DataFrame(rows), epic_rows], ignore_index=True).reindex(columns=COLUMNS)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("flow", compute=compute, requires=("transitions",))
