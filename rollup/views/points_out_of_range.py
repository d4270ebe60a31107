"""Story points out of range: issues whose points are negative or above ``report.max_story_points``.

Such points are kept in the store as entered, but no sum uses them: the issue counts as
unestimated (in epic progress, effort and the OKR sheet alike, and in finance's points model, whose
Policy sheet names them). Lint rule EQ043 reports the epics they sit under, ``rollup mapping check``
lists them, and the Data quality sheet shows this view.

Columns: ``key``, ``story_points`` (as entered), ``problem`` (``negative`` / ``above <max>``),
``epic`` (the epic key, or None), ``team_id``, ``team``, ``status_category``; largest values first.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import points_problem
from rollup.views._common import empty, names, report_options
from rollup.views.registry import View

COLUMNS = ["key", "story_points", "problem", "epic", "team_id", "team", "status_category"]


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
    """One row per issue with story points out of range."""
    if mapped_issues.empty:
        return empty(COLUMNS)
    problem = points_problem(mapped_issues["story_points"], report_options(mappings).max_story_points)
    rows = mapped_issues[problem.notna()]
    if rows.empty:
        return empty(COLUMNS)
    team = rows["team_id"].astype("object")
    out = pd.DataFrame({
        "key": rows["key"].astype("object"),
        "story_points": pd.to_numeric(rows["story_points"], errors="coerce"),
        "problem": problem[problem.notna()],
        "epic": rows["epic"].astype("object").where(rows["epic"].notna(), None),
        "team_id": team.where(team.notna(), None),
        "team": team.map(names(mappings, "teams")).where(team.notna(), None),
        "status_category": rows["status_category"].astype("object"),
    })
    return out.sort_values(["story_points", "key"], ascending=[False, True], key=None, kind="stable")[COLUMNS] \
        .reset_index(drop=True)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("points_out_of_range", requires=(), compute=compute)
