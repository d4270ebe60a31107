"""Team view: the portfolio rollup per team.

``epics`` reuses the epic view, ``hygiene`` the hygiene view and
``missing_parents`` the parents-not-visible view. ``team`` (a team id or name) keeps one team.

Columns: ``team_id``, ``team``, ``epics_open``, ``epics_done``, ``epics_at_risk`` (at risk or
off track), ``epics_not_rated``, ``progress`` (mean epic progress), ``effort`` (window of
``allocation_window_days``, default 91; issues whose epic is not visible included),
``effort_share`` (of all teams' effort in the window), ``issues_epic_not_visible`` (stories,
tasks and bugs of the team whose epic the store does not hold), ``hygiene`` (the hygiene view's
score of the team: share of its epics with no lint finding at or above ``report.hygiene_min_severity``).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import allocation
from rollup.views._common import UNMAPPED, empty, names, team_scope
from rollup.views.pillars import ALLOCATION_WINDOW_DAYS
from rollup.views.registry import View

COLUMNS = ["team_id", "team", "epics_open", "epics_done", "epics_at_risk", "epics_not_rated", "progress",
           "effort", "effort_share", "issues_epic_not_visible", "hygiene"]


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, effort: pd.DataFrame, missing_parents: pd.DataFrame, hygiene: pd.DataFrame,
    allocation_window_days: int | None, team: str | None,
) -> pd.DataFrame:
    """One row per team that has epics or effort (declared teams first)."""
    epic_rows = epics
    window = int(allocation_window_days or ALLOCATION_WINDOW_DAYS)
    work = allocation.window_effort(mapped_issues, mappings, start=as_of - timedelta(days=window), end=as_of,
                                    work=effort)
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
    ) if len(e) else pd.DataFrame()
    if len(work):
        team_effort = (work.assign(team_id=work["team_id"].fillna(UNMAPPED).astype(str))
                       .groupby("team_id")["effort"].sum())
    else:
        team_effort = pd.Series(dtype=float)
    out = per_team.join(team_effort.rename("effort"), how="outer")
    out = out.join(_not_visible(missing_parents).rename("issues_epic_not_visible"), how="outer")
    declared = list(names(mappings, "teams"))
    order = ([t for t in declared if t in out.index]
             + sorted(t for t in out.index if t not in declared and t != UNMAPPED))
    order += [UNMAPPED] if UNMAPPED in out.index else []
    out = out.reindex(order)
    out["effort"] = out["effort"].fillna(0.0)
    total = out["effort"].sum()
    out["effort_share"] = out["effort"] / total if total else 0.0
    for col in ("epics_open", "epics_done", "epics_at_risk", "epics_not_rated", "issues_epic_not_visible"):
        out[col] = out[col].fillna(0).astype(int)
    out["hygiene"] = out.index.map(_team_scores(hygiene))
    out["team_id"] = out.index
    out["team"] = [names(mappings, "teams").get(t, t) for t in out.index]
    team_id = team_scope(mappings, mapped_issues, team)
    if team_id is not None:
        out = out[out["team_id"] == team_id]
    return out[COLUMNS].reset_index(drop=True)


def _team_scores(hygiene: pd.DataFrame | None) -> dict[str, float]:
    """Team id (``Unmapped`` for no team) → the hygiene view's score."""
    if hygiene is None or hygiene.empty:
        return {}
    teams = hygiene[~hygiene["total"]]
    ids = teams["team_id"].astype("object").where(teams["team_id"].notna(), UNMAPPED)
    return dict(zip(ids, teams["hygiene"]))


def _not_visible(missing: pd.DataFrame | None) -> pd.Series:
    """Team id → story-level issues under an epic that is not visible."""
    if missing is None or missing.empty:
        return pd.Series(dtype=float)
    epics = missing[missing["kind"].eq("epic")]
    ids = epics["team_id"].astype("object").where(epics["team_id"].notna(), UNMAPPED)
    return epics.groupby(ids.to_numpy())["issues"].sum()


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("teams", compute=compute, requires=(
    "epics", "effort", "missing_parents", "hygiene", "allocation_window_days", "team",
))


__all__ = ["VIEW", "compute", "COLUMNS"]
