"""Team view: the portfolio rollup per team.

``ctx['epics']`` reuses the epic view. ``ctx['team']`` (a team id or name) keeps one team.

Columns: ``team_id``, ``team``, ``epics_open``, ``epics_done``, ``epics_at_risk`` (at risk or
off track), ``epics_not_rated``, ``progress`` (mean epic progress), ``effort`` (window of
``allocation_window_days``, default 91), ``effort_share`` (of all teams' effort in the window),
``hygiene`` (share of epics with pillar, OKR, bucket, owner and target date).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from rollup.views import allocation
from rollup.views import epics as epics_view
from rollup.views._common import UNMAPPED, empty, names
from rollup.views.pillars import ALLOCATION_WINDOW_DAYS

COLUMNS = ["team_id", "team", "epics_open", "epics_done", "epics_at_risk", "epics_not_rated", "progress",
           "effort", "effort_share", "hygiene"]


def resolve_team(team: str, mappings: Any, mapped_issues: pd.DataFrame) -> str | None:
    """The team id a user typed (an id or a name, case-insensitive), or None when unknown."""
    wanted = str(team).strip().lower()
    for team_id, name in names(mappings, "teams").items():
        if wanted in {team_id.lower(), name.lower()}:
            return team_id
    known = {str(t).lower(): str(t) for t in mapped_issues.get("team_id", pd.Series(dtype=object)).dropna().unique()}
    return known.get(wanted)


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """One row per team that has epics or effort (declared teams first)."""
    epic_rows = ctx.get("epics")
    if epic_rows is None:
        epic_rows = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    window = int(ctx.get("allocation_window_days") or ALLOCATION_WINDOW_DAYS)
    work = allocation.effort(mapped_issues) if not mapped_issues.empty else pd.DataFrame()
    if epic_rows.empty and work.empty:
        return empty(COLUMNS)
    e = epic_rows.assign(
        team_id=epic_rows["team_id"].fillna(UNMAPPED).astype(str),
        done=epic_rows["rag"].eq("done"),
        risky=epic_rows["rag"].isin(["at risk", "off track"]),
        unrated=epic_rows["rag"].eq("not rated"),
    )
    per_team = e.groupby("team_id").agg(
        epics_open=("done", lambda s: int((~s).sum())),
        epics_done=("done", "sum"),
        epics_at_risk=("risky", "sum"),
        epics_not_rated=("unrated", "sum"),
        progress=("progress", "mean"),
        hygiene=("hygiene_ok", "mean"),
    ) if len(e) else pd.DataFrame()
    if len(work):
        start = pd.Timestamp(as_of - timedelta(days=window))
        work = work[work["resolved"].gt(start) & work["resolved"].le(pd.Timestamp(as_of))]
        effort = work.assign(team_id=work["team_id"].fillna(UNMAPPED).astype(str)).groupby("team_id")["effort"].sum()
    else:
        effort = pd.Series(dtype=float)
    out = per_team.join(effort.rename("effort"), how="outer")
    declared = list(names(mappings, "teams"))
    order = [t for t in declared if t in out.index] + sorted(t for t in out.index if t not in declared and t != UNMAPPED)
    order += [UNMAPPED] if UNMAPPED in out.index else []
    out = out.reindex(order)
    out["effort"] = out["effort"].fillna(0.0)
    total = out["effort"].sum()
    out["effort_share"] = out["effort"] / total if total else 0.0
    for col in ("epics_open", "epics_done", "epics_at_risk", "epics_not_rated"):
        out[col] = out[col].fillna(0).astype(int)
    out["team_id"] = out.index
    out["team"] = [names(mappings, "teams").get(t, t) for t in out.index]
    team = ctx.get("team")
    if team:
        team_id = resolve_team(team, mappings, mapped_issues) or team
        out = out[out["team_id"] == team_id]
    return out[COLUMNS].reset_index(drop=True)
