"""Week-over-week trend: the portfolio at each stored snapshot, plus now.

``ctx['snapshots']`` as in :mod:`rollup.views.changes`; ``ctx['epics']`` the current epic view.
One row per snapshot day (the last run of a day wins), the current state last.

Columns: ``day`` (datetime64), ``epics_open``, ``epics_done``, ``epics_at_risk`` (at risk or
off track), ``points_total``, ``points_done``, ``progress`` (points_done / points_total).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.views import epics as epics_view
from rollup.views._common import empty, safe_ratio

COLUMNS = ["day", "epics_open", "epics_done", "epics_at_risk", "points_total", "points_done", "progress"]


def _summarise(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    done = frame["status_category"].eq("done")
    risky = frame["rag"].isin(["at risk", "off track"])
    parts = pd.DataFrame({
        by: frame[by],
        "epics_open": (~done).astype(int),
        "epics_done": done.astype(int),
        "epics_at_risk": risky.astype(int),
        "points_total": pd.to_numeric(frame["points_total"], errors="coerce").fillna(0.0),
        "points_done": pd.to_numeric(frame["points_done"], errors="coerce").fillna(0.0),
    })
    return parts.groupby(by).sum()


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """Portfolio totals per snapshot day, the current state as of ``as_of`` last."""
    now = ctx.get("epics")
    if now is None:
        now = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    frames = []
    snaps = ctx.get("snapshots")
    current_run = ctx.get("current_run_id")
    if snaps is not None and len(snaps):
        snaps = snaps[snaps["run_id"] != current_run] if current_run is not None else snaps
        taken = pd.to_datetime(snaps["taken_at"], utc=True).dt.tz_localize(None)
        snaps = snaps.assign(day=taken.dt.normalize(), taken=taken)
        snaps = snaps[snaps["day"].lt(pd.Timestamp(as_of))]
        if len(snaps):
            last_run = snaps.sort_values("taken").groupby("day")["run_id"].last()
            snaps = snaps[snaps["run_id"].isin(last_run.to_numpy())]
            payload = pd.DataFrame(list(snaps["payload"]))
            payload["day"] = snaps["day"].to_numpy()
            frames.append(_summarise(payload, "day"))
    if len(now):
        frames.append(_summarise(now.assign(day=pd.Timestamp(as_of)), "day"))
    if not frames:
        return empty(COLUMNS)
    out = pd.concat(frames).reset_index()
    out["progress"] = safe_ratio(out["points_done"], out["points_total"])
    return out[COLUMNS].sort_values("day").reset_index(drop=True)
