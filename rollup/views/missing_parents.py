"""Parents not visible: the keys issues link to that the store does not hold, and what sits under them.

An epic, parent or initiative can be private, deleted or outside the synced scope; its children are
still synced. Nothing about them is dropped: their effort counts in every total (under the pillar
their own rules give them, usually Unmapped), the Epics sheet rolls them up under an "Epic not
visible" row per team (view ``epics_not_visible``), and this view lists each missing key for the
Data quality sheet. Lint rule EQ055 and ``rollup mapping check`` report the same keys
(:func:`rollup.datachecks.missing_parents`).

Columns, one row per missing key and team of the issues under it (most issues first):

=================  ==========================================================================
``missing_key``    the key the issues link to
``kind``           ``epic`` (stories, tasks, bugs), ``parent`` (sub-tasks), ``initiative`` (epics)
``team_id``        the team of those issues (None when unmapped) and ``team`` its name
``issues``         how many issues link to it; ``done`` how many of them are done
``points``         their story points (out-of-range points left out, as everywhere); ``points_done``
                   those of the done issues; ``estimated`` how many carry usable points
``effort``         their completed effort in the allocation window (``allocation.effort``)
``keys``           the first issue keys, comma separated (``…`` when there are more)
=================  ==========================================================================
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import missing_parents, usable_points
from rollup.views import allocation
from rollup.views._common import UNMAPPED, empty, key_order, names, report_options
from rollup.views.registry import View

COLUMNS = ["missing_key", "kind", "team_id", "team", "issues", "done", "points", "points_done", "estimated", "effort",
           "keys"]

#: Issue keys listed per missing key.
KEYS_SHOWN = 5

#: The RAG-like label of the per-team rows on the Epics sheet.
NOT_VISIBLE = "epic not visible"


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, effort: pd.DataFrame, allocation_window_days: int | None,
) -> pd.DataFrame:
    """One row per (missing key, team)."""
    rows = missing_parents(mapped_issues)
    if rows.empty:
        return empty(COLUMNS)
    options = report_options(mappings)
    window = int(allocation_window_days or options.allocation_window_days)
    work = allocation.window_effort(mapped_issues, mappings, start=as_of - timedelta(days=window), end=as_of,
                                    work=effort)
    issue_effort = work.set_index("key")["effort"] if len(work) else pd.Series(dtype=float)
    points = usable_points(rows["story_points"], options.max_story_points)
    rows = rows.assign(team_id=rows["team_id"].astype("object").fillna(UNMAPPED), points=points.fillna(0.0),
                       points_done=points.where(rows["done"], 0.0).fillna(0.0), estimated=points.notna(),
                       effort=rows["key"].map(issue_effort).fillna(0.0).astype(float))
    out = (rows.groupby(["missing_key", "kind", "team_id"], sort=False)
           .agg(issues=("key", "size"), done=("done", "sum"), points=("points", "sum"),
                points_done=("points_done", "sum"), estimated=("estimated", "sum"), effort=("effort", "sum"),
                keys=("key", _first_keys))
           .reset_index()
           .sort_values(["issues", "missing_key"], ascending=[False, True], kind="stable"))
    team_names = names(mappings, "teams")
    out["team"] = out["team_id"].map(lambda t: team_names.get(t, t))
    out["team_id"] = out["team_id"].where(out["team_id"].ne(UNMAPPED), None)
    out["done"] = out["done"].astype(int)
    out["estimated"] = out["estimated"].astype(int)
    return out[COLUMNS].reset_index(drop=True)


def _first_keys(keys: pd.Series) -> str:
    listed = sorted(keys, key=key_order)
    shown = ", ".join(listed[:KEYS_SHOWN])
    return shown + (", …" if len(listed) > KEYS_SHOWN else "")


def sentence(missing: pd.DataFrame) -> str | None:
    """``212 issues link to 20 epics that are not visible …`` — None when nothing is missing."""
    epics = missing[missing["kind"].eq("epic")] if len(missing) else missing
    if epics.empty:
        return None
    n, keys = int(epics["issues"].sum()), epics["missing_key"].nunique()
    return (f"{n:,} {'issue links' if n == 1 else 'issues link'} to {keys:,} "
            f"{'epic' if keys == 1 else 'epics'} not visible (private, deleted or outside the synced scope)")


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("missing_parents", requires=("effort", "allocation_window_days"), compute=compute)


__all__ = ["VIEW", "compute", "sentence", "COLUMNS", "NOT_VISIBLE"]
