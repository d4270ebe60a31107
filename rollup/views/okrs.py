"""OKR view: each key result with its contributing epics and their progress.

Columns:

===================  ============================================================================
``okr``              OKR id
``objective``        the objective
``quarter``          the OKR's quarter label
``pillar``           pillar id and ``pillar_name``
``key_result``       key result id and ``key_result_name``; ``target`` its target as declared
``epics``            contributing epic keys, comma separated (epics mapped to that key result)
``epic_count``       how many
``children``, ``children_done``, ``points_total``, ``points_done``  summed over those epics
``unit``             ``points`` when any child is estimated, else ``issues``
``progress``         points done / total, falling back to children done / total
``expected``         share of the quarter elapsed at ``as_of`` (1 after it ends)
``status``           done / on track / at risk / off track / no epics
===================  ============================================================================

Status: done when progress is 100%; on track when progress ≥ expected − 10 points; at risk when
progress ≥ expected − 25 points; off track below that; no epics when none contribute.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.views import epics as epics_view
from rollup.views._common import empty, listed, names, quarter_bounds, safe_ratio

COLUMNS = ["okr", "objective", "quarter", "pillar", "pillar_name", "key_result", "key_result_name", "target",
           "epics", "epic_count", "children", "children_done", "points_total", "points_done", "unit", "progress",
           "expected", "status"]

STATUS_RULE = ("OKR status — done: progress 100%. on track: progress at least the share of the quarter elapsed "
               "minus 10 points. at risk: within 25 points. off track: further behind. no epics: nothing "
               "contributes. Progress = story points done / total of the contributing epics' children, "
               "falling back to issue counts when none is estimated.")


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """One row per key result declared in the mappings."""
    okrs = listed(mappings, "okrs")
    if not okrs:
        return empty(COLUMNS)
    krs = pd.DataFrame([
        {"okr": str(o.id), "objective": getattr(o, "objective", None), "quarter": getattr(o, "quarter", None),
         "pillar": getattr(o, "pillar", None), "key_result": str(kr.id),
         "key_result_name": getattr(kr, "name", None), "target": getattr(kr, "target", None)}
        for o in okrs for kr in (getattr(o, "key_results", None) or [])
    ])
    if krs.empty:
        return empty(COLUMNS)
    epic_rows = ctx.get("epics")
    if epic_rows is None:
        epic_rows = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    if epic_rows.empty:
        sums = pd.DataFrame(columns=["epics", "epic_count", "children", "children_done", "points_total", "points_done"])
    else:
        contributing = epic_rows[epic_rows["key_result"].notna()].assign(
            key_result=lambda f: f["key_result"].astype(str))
        sums = contributing.groupby("key_result").agg(
            epics=("key", lambda s: ", ".join(sorted(s))),
            epic_count=("key", "size"),
            children=("children", "sum"),
            children_done=("children_done", "sum"),
            points_total=("points_total", "sum"),
            points_done=("points_done", "sum"),
        )
    out = krs.join(sums, on="key_result")
    for col in ("epic_count", "children", "children_done", "points_total", "points_done"):
        out[col] = out[col].fillna(0)
    by_points = out["points_total"].gt(0)
    progress = safe_ratio(out["points_done"], out["points_total"]).where(
        by_points, safe_ratio(out["children_done"], out["children"]))
    out["unit"] = np.where(by_points, "points", "issues")
    out["progress"] = progress.fillna(0.0)
    out["expected"] = out["quarter"].map(lambda q: _elapsed(q, as_of))
    behind = out["expected"].fillna(0) - out["progress"]
    out["status"] = np.select(
        [out["epic_count"].eq(0), out["progress"].ge(1.0), behind.le(0.10), behind.le(0.25)],
        ["no epics", "done", "on track", "at risk"], default="off track")
    out["pillar_name"] = out["pillar"].map(lambda p: names(mappings, "pillars").get(str(p), p) if p else None)
    out["epics"] = out["epics"].fillna("")
    out["epic_count"] = out["epic_count"].astype(int)
    return out[COLUMNS].reset_index(drop=True)


def _elapsed(quarter: Any, as_of: date) -> float:
    """Share of the quarter elapsed at ``as_of`` (NaN when the label cannot be read)."""
    bounds = quarter_bounds(quarter) if quarter else None
    if bounds is None:
        return float("nan")
    start, end = bounds
    total = (end - start).days + 1
    return float(min(max((as_of - start).days + 1, 0), total) / total)
