"""Hygiene: the one hygiene score — the share of epics with no lint finding at or above a severity.

The severity is ``report.hygiene_min_severity`` (default ``info``: every finding counts, which is the
lint report's own score). The findings come from :class:`LintRun`: the stored lint run of the
report's as-of date, or a lint run made with the report (see :func:`rollup.jobs.report.lint_for_report`).
The Summary, the Teams sheet, team workbooks and the Data quality sheet all read this view; the
Epics sheet shows each epic's part of it (``hygiene_ok`` of the epic view, from :func:`failing`).

``epics``: the epic view (its ``hygiene_ok``, ``team_id``, ``team``). ``lint_previous``:
an earlier :class:`LintRun` (with ``teams``), for each team's change since then; None without one.

Columns:

=================  ==========================================================================
``team_id``        the team (None for epics without a team, and for the total row)
``team``           its name; ``Unmapped`` for epics without a team; ``All teams`` for the total
``total``          True on the last row, which totals every team
``epics``          epics in scope
``clean``          epics with no finding at or above ``min_severity``
``failing``        epics with such a finding (``epics - clean``)
``hygiene``        clean / epics (NaN without epics, or without a lint run)
``previous``       the same score at ``previous_as_of`` (NaN without an earlier run)
``change``         hygiene − previous, as a fraction (−0.1 = 10 pp lower); ``change_pp`` in points
``previous_as_of`` as-of date of the earlier run (None without one)
``newly_failing``  failing epics with no such finding in the earlier run, comma separated
``min_severity``   the severity threshold
``source``         which lint run the findings come from, in words
=================  ==========================================================================
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._common import UNMAPPED, empty, key_order, report_options
from rollup.views._lint import LintRun, at_or_above, definition, failing
from rollup.views.registry import View

COLUMNS = ["team_id", "team", "total", "epics", "clean", "failing", "hygiene", "previous", "change", "change_pp",
           "previous_as_of", "newly_failing", "min_severity", "source"]

#: The ``team`` of the total row.
ALL_TEAMS = "All teams"

def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, lint: LintRun | None, lint_previous: LintRun | None,
) -> pd.DataFrame:
    """One row per team with epics (declared order, Unmapped last), then the total row."""
    epic_rows = epics
    if epic_rows.empty:
        return empty(COLUMNS)
    severity = report_options(mappings).hygiene_min_severity
    previous = lint_previous
    team_key = epic_rows["team_id"].astype("object").where(epic_rows["team_id"].notna(), UNMAPPED)
    ok = epic_rows["hygiene_ok"].astype("object")
    per_epic = pd.DataFrame({"team_id": team_key.to_numpy(), "team": epic_rows["team"].to_numpy(),
                             "key": epic_rows["key"].astype(str).to_numpy(),
                             "clean": ok.eq(True).to_numpy(), "failing": ok.eq(False).to_numpy()})
    declared = [str(t.id) for t in mappings.teams]
    present = list(dict.fromkeys(per_epic["team_id"]))
    order = ([t for t in declared if t in present] + sorted(t for t in present if t not in declared and t != UNMAPPED)
             + ([UNMAPPED] if UNMAPPED in present else []))
    teams = (per_epic.groupby("team_id", sort=False)
             .agg(team=("team", "first"), epics=("key", "size"), clean=("clean", "sum"), failing=("failing", "sum"))
             .reindex(order))
    total = pd.DataFrame({"team": [ALL_TEAMS], "epics": [teams["epics"].sum()], "clean": [teams["clean"].sum()],
                          "failing": [teams["failing"].sum()]}, index=pd.Index([None], name="team_id"))
    out = pd.concat([teams, total])
    out["total"] = [False] * len(teams) + [True]
    out["hygiene"] = out["clean"] / out["epics"].where(out["epics"].gt(0)) if lint is not None else np.nan
    before = _previous(previous, severity)
    out["previous"] = [before.get(t, np.nan) for t in teams.index] + [before.get(None, np.nan)]
    out["change"] = out["hygiene"] - out["previous"]
    out["change_pp"] = out["change"] * 100
    out["previous_as_of"] = previous.as_of if previous is not None else None
    was_failing = set(failing(previous, severity).index) if previous is not None else set()
    newly = (per_epic[per_epic["failing"] & ~per_epic["key"].isin(was_failing)] if previous is not None
             else per_epic.iloc[0:0])
    by_team = newly.groupby("team_id")["key"].agg(lambda s: ", ".join(sorted(s, key=key_order)))
    out["newly_failing"] = [by_team.get(t, "") for t in teams.index] + [", ".join(sorted(newly["key"], key=key_order))]
    out["min_severity"] = severity
    out["source"] = lint.label if lint is not None else "no lint run"
    out = out.reset_index()
    out["team_id"] = out["team_id"].astype("object").where(out["team_id"].ne(UNMAPPED) & out["team_id"].notna(), None)
    for col in ("epics", "clean", "failing"):
        out[col] = out[col].fillna(0).astype(int)
    return out[COLUMNS]


def _previous(run: LintRun | None, severity: str) -> dict[Any, float]:
    """Team id (None: total) → the earlier run's hygiene at ``severity``, from its epic counts and findings."""
    if run is None or not len(run.teams):
        return {}
    team_id = run.teams["team_id"].astype("object")
    teams = run.teams.assign(team_id=team_id.where(run.teams["team_id"].notna(), UNMAPPED))
    epics = teams.groupby("team_id")["epics"].sum()
    counted = at_or_above(run.findings, severity)
    team_of = counted["team_id"].astype("object").where(counted["team_id"].notna(), UNMAPPED)
    bad = counted.assign(team_id=team_of).groupby("team_id")["key"].nunique()
    out: dict[Any, float] = {}
    for team, n in epics.items():
        if n:
            out[team] = 1 - bad.get(team, 0) / n
    if epics.sum():
        out[None] = 1 - bad.sum() / epics.sum()
    return out


def total(hygiene: pd.DataFrame | None) -> pd.Series | None:
    """The total row of the hygiene view (None when it is empty)."""
    if hygiene is None or hygiene.empty:
        return None
    return hygiene[hygiene["total"]].iloc[0]


def detail(score: pd.Series | None, min_severity: str) -> str:
    """What the score is and where its findings come from, e.g. "share of epics with no lint finding;
    lint run 3 of 2026-11-23" (the email puts it in parentheses)."""
    if score is None:
        return f"{definition(min_severity)}: no epics"
    return f"{definition(min_severity)}; {score['source']}"


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("hygiene", requires=("epics", "lint", "lint_previous"), compute=compute)


__all__ = ["VIEW", "compute", "total", "detail", "COLUMNS", "ALL_TEAMS"]
