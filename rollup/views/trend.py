"""Week-over-week trend: the portfolio at each stored weekly snapshot up to the as-of week.

``snapshots`` as in :mod:`rollup.views.changes` (one snapshot per ISO week);
``epics`` the current epic view. One row per week up to and including the as-of week. The
as-of week's row is the current epic view, unless that week is in the past (a later week's snapshot
is stored), when its stored snapshot is used: ``--as-of`` of a past week draws the trend it drew then.
``team``: a team report, whose weeks count the epics of the team in each week's snapshot.

Columns:

======================  ==============================================================
``day``                 the as-of date of the week's report (datetime64)
``week``                its ISO week (``2026-W48``)
``epics_open``, ``epics_done``, ``epics_at_risk``  epic counts (at risk: at risk or off track)
``points_total``, ``points_done``, ``progress``    story points of the epics' children; done / total
``hygiene``             share of epics fit to roll up (NaN for snapshots stored without it)
``strategy_share``      share of effort completed in the :data:`MIX_WINDOW_DAYS` days up to ``day``
                        that went to capex (strategy) buckets
``share_<bucket id>``   the same window's share of effort per declared bucket (the allocation mix)
======================  ==============================================================

``frame.attrs['labels']``: ``{share_<bucket id>: bucket name}``, the words a writer heads those columns with.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import allocation
from rollup.views._common import bucket_ids, empty, names, safe_ratio, team_scope
from rollup.views.changes import iso_week, weekly
from rollup.views.registry import View

COLUMNS = ["day", "week", "epics_open", "epics_done", "epics_at_risk", "points_total", "points_done", "progress",
           "hygiene", "strategy_share"]

#: Days of completed work behind each point's allocation mix (four weeks: one week is too noisy).
MIX_WINDOW_DAYS = 28


def mix_columns(mappings: RollupConfig) -> list[str]:
    """The ``share_<bucket id>`` columns, in the order the buckets are declared."""
    return [f"share_{b}" for b in bucket_ids(mappings)]


def mix_labels(mappings: RollupConfig) -> dict[str, str]:
    """``{share_<bucket id>: bucket name}`` for the :func:`mix_columns`."""
    bucket_names = names(mappings, "buckets")
    return {f"share_{b}": bucket_names[b] for b in bucket_ids(mappings)}


def _summarise(frame: pd.DataFrame) -> pd.DataFrame:
    done = frame["status_category"].eq("done")
    hygiene = (frame["hygiene_ok"].map(lambda v: np.nan if v is None or pd.isna(v) else float(bool(v)))
               if "hygiene_ok" in frame else pd.Series(np.nan, index=frame.index))
    parts = pd.DataFrame({
        "day": frame["day"],
        "week": frame["week"],
        "epics_open": (~done).astype(int),
        "epics_done": done.astype(int),
        "epics_at_risk": frame["rag"].isin(["at risk", "off track"]).astype(int),
        "points_total": pd.to_numeric(frame["points_total"], errors="coerce").fillna(0.0),
        "points_done": pd.to_numeric(frame["points_done"], errors="coerce").fillna(0.0),
        "hygiene": hygiene.astype(float),
    })
    sums = parts.drop(columns="hygiene").groupby(["day", "week"]).sum()
    sums["hygiene"] = parts.groupby(["day", "week"])["hygiene"].mean()
    return sums.reset_index()


def _mix(mapped_issues: pd.DataFrame, mappings: RollupConfig, days: pd.Series) -> pd.DataFrame:
    """Strategy share and the share per bucket of the effort completed in the window up to each day."""
    columns = mix_columns(mappings)
    out = pd.DataFrame(np.nan, index=days.index, columns=["strategy_share", *columns])
    work = allocation.effort(mapped_issues) if len(mapped_issues) else pd.DataFrame()
    if work.empty:
        return out
    strategy = work["bucket"].isin(allocation.strategy_buckets(mappings))
    for i, day in days.items():
        end = pd.Timestamp(day)
        in_window = work["resolved"].gt(end - pd.Timedelta(days=MIX_WINDOW_DAYS)) & work["resolved"].le(end)
        total = float(work.loc[in_window, "effort"].sum())
        if not total:
            continue
        out.at[i, "strategy_share"] = float(work.loc[in_window & strategy, "effort"].sum()) / total
        by_bucket = work[in_window].groupby(work["bucket"].astype("object"))["effort"].sum()
        for bucket, column in zip(bucket_ids(mappings), columns):
            out.at[i, column] = float(by_bucket.get(bucket, 0.0)) / total
    return out


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, snapshots: Any, team: str | None,
) -> pd.DataFrame:
    """Portfolio totals per stored week up to ``as_of``'s week, that week last."""
    week = iso_week(as_of)
    stored = weekly(snapshots)
    past = bool(stored["week"].gt(week).any())
    snaps = stored[stored["week"].le(week)]
    frames = []
    if not (past and snaps["week"].eq(week).any()):
        snaps = snaps[snaps["week"].ne(week)]
        now = epics
        if len(now):
            frames.append(_summarise(now.assign(day=pd.Timestamp(as_of), week=week)))
    if len(snaps):
        payload = pd.DataFrame(list(snaps["payload"]))
        payload["day"] = pd.to_datetime(snaps["day"]).to_numpy()
        payload["week"] = snaps["week"].to_numpy()
        team_id = team_scope(mappings, mapped_issues, team)
        if team_id is not None:
            payload = payload[payload["team_id"].eq(team_id)]
        if len(payload):
            frames.insert(0, _summarise(payload))
    columns = COLUMNS + mix_columns(mappings)
    if not frames:
        out = empty(columns)
    else:
        out = pd.concat(frames, ignore_index=True).sort_values("day", kind="stable").reset_index(drop=True)
        out["progress"] = safe_ratio(out["points_done"], out["points_total"])
        out = out.join(_mix(mapped_issues, mappings, out["day"])).reindex(columns=columns)
    out.attrs["labels"] = mix_labels(mappings)
    return out


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("trend", requires=("epics", "snapshots", "team"), compute=compute)
