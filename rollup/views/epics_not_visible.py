"""Epics not visible, per team: the rows the Epics sheet adds under the epics so no work drops out.

The stories, tasks and bugs whose epic the store does not hold (see ``missing_parents``) rolled up
like an epic, one row per team: the Epics sheet lists them after the epics, so its points and
issue columns add up to all the work. Requires ``missing_parents``: that view.

Columns: ``key`` (None), ``summary`` (which epic keys, in words), ``team_id``, ``team``,
``pillar_name`` (``Unmapped``), ``children``, ``children_done``, ``points_total``, ``points_done``,
``progress`` (points done / total, else issues done / issues), ``unit``, ``rag``
(``epic not visible``), ``rag_reason``, ``size``, ``missing_keys`` (how many epic keys).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import missing_parents as missing_view
from rollup.views._common import UNMAPPED, empty, names, safe_ratio
from rollup.views.registry import View

COLUMNS = ["key", "summary", "team_id", "team", "pillar_name", "children", "children_done", "points_total",
           "points_done", "progress", "unit", "rag", "rag_reason", "size", "missing_keys"]


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date,
            missing_parents: pd.DataFrame) -> pd.DataFrame:
    """One row per team with story-level issues under an epic that is not visible."""
    missing = missing_parents
    rows = missing[missing["kind"].eq("epic")] if len(missing) else missing
    if rows.empty:
        return empty(COLUMNS)
    rows = rows.assign(team_id=rows["team_id"].astype("object").fillna(UNMAPPED))
    per_team = rows.groupby("team_id", sort=False).agg(
        children=("issues", "sum"), children_done=("done", "sum"), points_total=("points", "sum"),
        points_done=("points_done", "sum"), estimated=("estimated", "sum"),
        missing_keys=("missing_key", "nunique"), epic_keys=("missing_key", lambda s: sorted(set(s))))
    declared = list(names(mappings, "teams"))
    order = [t for t in declared if t in per_team.index] + sorted(t for t in per_team.index if t not in declared)
    out = per_team.reindex(order).reset_index()
    by_points = out["estimated"].gt(0)
    out["progress"] = safe_ratio(out["points_done"], out["points_total"]).where(
        by_points, safe_ratio(out["children_done"], out["children"]))
    out["unit"] = np.where(by_points, "points", "issues")
    out["size"] = out["points_total"].where(by_points, out["children"]).astype(float)
    shown = missing_view.KEYS_SHOWN
    out["summary"] = ["Epic not visible: " + ", ".join(keys[:shown]) + (", …" if len(keys) > shown else "")
                      + f" ({len(keys)} epic key{'s' if len(keys) != 1 else ''})" for keys in out["epic_keys"]]
    team_names = names(mappings, "teams")
    out["team"] = out["team_id"].map(lambda t: team_names.get(t, t))
    out["team_id"] = out["team_id"].where(out["team_id"].ne(UNMAPPED), None)
    out["key"] = None
    out["pillar_name"] = UNMAPPED
    out["rag"] = missing_view.NOT_VISIBLE
    out["rag_reason"] = "the epic is private, deleted or outside the synced scope; its issues still count"
    for col in ("children", "children_done", "missing_keys"):
        out[col] = out[col].astype(int)
    return out[COLUMNS]


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("epics_not_visible", requires=("missing_parents",), compute=compute)
