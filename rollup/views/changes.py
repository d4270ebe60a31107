"""Week-over-week: what changed in the epics since the snapshot stored about a week ago.

``ctx['snapshots']``: the stored per-run epic snapshots, columns ``run_id``, ``taken_at``,
``issue_id``, ``key``, ``payload`` (the dict from :func:`rollup.views.epics.snapshot_payload`).
``ctx['epics']``: the current epic view (computed when absent). ``ctx['current_run_id']``:
snapshots of that run are the current state, never the baseline.
``ctx['scope_growth_threshold']``: relative growth of an epic's size reported as scope growth
(default 0.2 = 20 %).

The baseline is the latest snapshot taken at least 6 days before ``as_of``; when none is that
old, the earliest snapshot before ``as_of`` (a partial week, named in ``baseline``).

Columns:

=================  ==================================================================
``change``         new epic / completed / target date slipped / target date pulled in /
                   scope growth / status changed / pillar changed / bucket changed
``key``, ``summary``, ``pillar``, ``team_id``  the epic now
``before``, ``after``  the value then and now, as text
``days_slipped``   for target date changes: new − old target date in days
``scope_growth``   for scope growth: relative growth of size (points, else child count)
``size``           the epic's size now (for "biggest first")
``baseline``       ISO date of the baseline snapshot
=================  ==================================================================
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rollup.views import epics as epics_view
from rollup.views._common import empty

COLUMNS = ["change", "key", "summary", "pillar", "team_id", "before", "after", "days_slipped", "scope_growth",
           "size", "baseline"]

SCOPE_GROWTH_THRESHOLD = 0.2

#: Change kinds in the order they are listed.
KINDS = ["new epic", "completed", "target date slipped", "target date pulled in", "scope growth",
         "status changed", "pillar changed", "bucket changed"]


def baseline_run(snapshots: pd.DataFrame, *, as_of: date, current_run_id: Any = None) -> pd.DataFrame:
    """The snapshot rows of the baseline run (empty when there is none)."""
    if snapshots is None or len(snapshots) == 0:
        return pd.DataFrame(columns=["run_id", "taken_at", "issue_id", "key", "payload"])
    snaps = snapshots.assign(day=_snap_day(snapshots["taken_at"]))
    if current_run_id is not None:
        snaps = snaps[snaps["run_id"] != current_run_id]
    runs = snaps.groupby("run_id")["day"].max().sort_values()
    old_enough = runs[runs.le(pd.Timestamp(as_of - timedelta(days=6)))]
    earlier = runs[runs.lt(pd.Timestamp(as_of))]
    if len(old_enough):
        run = old_enough.index[-1]
    elif len(earlier):
        run = earlier.index[0]
    else:
        return snaps.iloc[0:0]
    return snaps[snaps["run_id"] == run]


def _snap_day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True).dt.tz_localize(None).dt.normalize()


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """Changes between the baseline snapshot and the current epics."""
    threshold = float(ctx.get("scope_growth_threshold") or SCOPE_GROWTH_THRESHOLD)
    base_rows = baseline_run(ctx.get("snapshots"), as_of=as_of, current_run_id=ctx.get("current_run_id"))
    if base_rows.empty:
        return empty(COLUMNS)
    now = ctx.get("epics")
    if now is None:
        now = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    baseline_day = base_rows["day"].max().date().isoformat()
    before = pd.DataFrame(list(base_rows["payload"]), index=base_rows["issue_id"].astype(int).to_numpy())
    now_payload = pd.DataFrame([p for _, _, p in epics_view.snapshot_payload(now)],
                               index=now["id"].astype(int).to_numpy() if len(now) else None)
    if now_payload.empty:
        return empty(COLUMNS)
    both = now_payload.join(before, suffixes=("", "_was"), how="left")
    had = both.index.isin(before.index)
    size_now = pd.to_numeric(both["size"], errors="coerce")
    rows = []

    def add(kind: str, mask: np.ndarray, before_col: str | None, after_col: str | None, **extra: Any) -> None:
        if not mask.any():
            return
        part = both[mask]
        frame = pd.DataFrame({
            "change": kind,
            "key": part["key"],
            "summary": part["summary"],
            "pillar": part["pillar"],
            "team_id": part["team_id"],
            "before": part[before_col].astype("object") if before_col else None,
            "after": part[after_col].astype("object") if after_col else None,
            "size": size_now[mask],
        })
        for col, values in extra.items():
            frame[col] = values[mask]
        rows.append(frame)

    add("new epic", ~had, None, "status")
    was_done = both["status_category_was"].eq("done").to_numpy()
    is_done = both["status_category"].eq("done").to_numpy()
    add("completed", had & is_done & ~was_done, "status_was", "status")

    target_now = pd.to_datetime(both["target_date"], errors="coerce")
    target_was = pd.to_datetime(both["target_date_was"], errors="coerce")
    moved = (target_now - target_was).dt.days
    add("target date slipped", (had & moved.gt(0)).to_numpy(), "target_date_was", "target_date",
        days_slipped=moved.to_numpy())
    add("target date pulled in", (had & moved.lt(0)).to_numpy(), "target_date_was", "target_date",
        days_slipped=moved.to_numpy())

    size_was = pd.to_numeric(both["size_was"], errors="coerce")
    growth = (size_now - size_was) / size_was.where(size_was > 0)
    add("scope growth", (had & growth.gt(threshold)).to_numpy(), "size_was", "size", scope_growth=growth.to_numpy())
    add("status changed", (had & both["status"].ne(both["status_was"]) & ~(is_done & ~was_done)).to_numpy(),
        "status_was", "status")
    for attr in ("pillar", "bucket"):
        differs = both[attr].fillna("").astype(str).ne(both[f"{attr}_was"].fillna("").astype(str))
        add(f"{attr} changed", (had & differs).to_numpy(), f"{attr}_was", attr)
    if not rows:
        return empty(COLUMNS)
    out = pd.concat(rows, ignore_index=True).reindex(columns=COLUMNS)
    out["baseline"] = baseline_day
    for col in ("before", "after"):
        out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    out["change"] = pd.Categorical(out["change"], categories=KINDS, ordered=True)
    return out.sort_values(["change", "size", "key"], ascending=[True, False, True], kind="stable").reset_index(drop=True)
