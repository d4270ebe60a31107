"""OKR view: each objective and each of its key results, with the epics that contribute and their progress.

An epic contributes to the objective of its OKR. It contributes to a key result when a mapping
rule names that key result — or when it names only the OKR and the OKR has exactly one key result
(the key result is implied, as lint rule EQ003 already treats it). An epic that names an OKR with
several key results but none of them counts towards the objective only.

Columns (one row per objective, followed by one row per key result of it, in declared order):

====================  ===========================================================================
``level``             ``objective`` or ``key result``
``okr``               OKR id; ``objective`` its text; ``quarter`` its quarter label
``pillar``            pillar id and ``pillar_name``
``key_result``        key result id (None on objective rows); ``key_result_name``; ``target`` and
                      ``target_unit`` as declared
``name``              what the row is about in words: the objective, or the key result's name
``epics``             contributing epic keys, comma separated
``epic_count``        how many
``implied``           of those, epics counted through the implied single key result (key result
                      rows), or epics that name no key result (objective rows)
``children``, ``children_done``, ``points_total``, ``points_done``  summed over those epics
``unit``              ``points`` when any child is estimated, ``issues`` otherwise, ``epics`` when the
                      epics have no children (progress = share of the epics done)
``progress``          points done / total, else children done / total, else epics done / epics
``expected``          share of the quarter elapsed at ``as_of`` (0 before it starts, 1 once it ended)
``behind_by``         expected − progress (positive: behind the calendar)
``status``            done / on track / behind / no work planned / missed (see :data:`STATUS_RULE`)
``why``               the status in words, with the figures
====================  ===========================================================================

:func:`summarise` counts the statuses (the ``okr_summary`` view) and :func:`headline` says them in
one line: the OKR chart's title, the Summary and the OKRs sheet all print that line.

``team``: a team report. It keeps only the objectives and key results the team's epics
contribute to: another team's key result, or one no epic contributes to, is not the team's, so it is
neither counted nor listed as "no work planned" (the portfolio report lists every declared one).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._common import (
    contributions,
    empty,
    names,
    quarter_bounds,
    report_options,
    safe_ratio,
    team_scope,
)
from rollup.views.registry import View

COLUMNS = ["level", "okr", "objective", "quarter", "pillar", "pillar_name", "key_result", "key_result_name",
           "target", "target_unit", "name", "epics", "epic_count", "implied", "children", "children_done",
           "points_total", "points_done", "unit", "progress", "expected", "behind_by", "status", "why"]

OBJECTIVE, KEY_RESULT = "objective", "key result"

#: Statuses, from best to worst.
STATUSES = ("done", "on track", "behind", "no work planned", "missed")
#: Statuses that are a risk to the OKR.
AT_RISK = ("behind", "no work planned", "missed")


def status_rule(tolerance: float) -> str:
    """The OKR status rule in the words printed in the workbook."""
    return ("OKR status — done: progress 100%. missed: the quarter has ended below 100%. no work planned: "
            "no epic contributes (a risk, never on track). behind: progress is more than "
            f"{tolerance * 100:g} percentage points (report.key_result_tolerance) below the share of the quarter "
            "elapsed. on track: everything else. An epic contributes to the key result its mapping names, or to "
            "its OKR's only key result when it names the OKR alone; an epic naming an OKR with several key "
            "results but none of them counts towards the objective only. Progress = story points done / total "
            "of the contributing epics' children, else issues done / issues, else epics done / epics.")


#: The rule with the default tolerance (what docs and notes print when no configuration is at hand).
STATUS_RULE = status_rule(0.1)


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, team: str | None,
) -> pd.DataFrame:
    """One row per objective and per key result declared in the mappings."""
    okrs = mappings.okrs
    if not okrs:
        return empty(COLUMNS)
    pillar_names = names(mappings, "pillars")
    rows: list[dict[str, Any]] = []
    for o in okrs:
        base = {"okr": str(o.id), "objective": o.objective, "quarter": o.quarter, "pillar": o.pillar,
                "pillar_name": pillar_names.get(str(o.pillar), o.pillar)}
        rows.append({**base, "level": OBJECTIVE, "key_result": None, "key_result_name": None, "target": None,
                     "target_unit": None, "name": o.objective})
        rows += [{**base, "level": KEY_RESULT, "key_result": str(kr.id), "key_result_name": kr.name,
                  "target": kr.target, "target_unit": kr.unit or None, "name": kr.name} for kr in o.key_results]
    out = pd.DataFrame(rows)
    epic_rows = epics
    sums = _sums(epic_rows, mappings)
    row_id = np.where(out["level"].eq(OBJECTIVE), "okr:" + out["okr"], "kr:" + out["key_result"].fillna(""))
    # pandas-stubs take only column names for ``on``; pandas also takes an array of keys.
    out = out.join(sums, on=pd.Series(row_id, index=out.index).rename("row_id"))  # type: ignore[arg-type]
    for col in ("epic_count", "implied", "children", "children_done", "points_total", "points_done", "epics_done"):
        out[col] = out[col].fillna(0)
    by_points = out["points_total"].gt(0)
    by_issues = ~by_points & out["children"].gt(0)
    progress = safe_ratio(out["points_done"], out["points_total"]).where(
        by_points, safe_ratio(out["children_done"], out["children"]).where(by_issues, safe_ratio(out["epics_done"],
                                                                                                 out["epic_count"])))
    out["unit"] = np.select([by_points, by_issues], ["points", "issues"], default="epics")
    out["progress"] = progress.fillna(0.0)
    out["expected"] = out["quarter"].map(lambda q: _elapsed(q, as_of)).astype(float)
    out["behind_by"] = out["expected"] - out["progress"]
    tolerance = report_options(mappings).key_result_tolerance
    out["status"], out["why"] = _status(out, tolerance)
    out["epics"] = out["epics"].fillna("")
    for col in ("epic_count", "implied", "children", "children_done"):
        out[col] = out[col].astype(int)
    team_id = team_scope(mappings, mapped_issues, team)
    if team_id is not None:
        out = out[out["epic_count"].gt(0)]
    out = out[COLUMNS].reset_index(drop=True)
    out.attrs["team"] = team_id
    return out


def _sums(epic_rows: pd.DataFrame, mappings: RollupConfig) -> pd.DataFrame:
    """Per ``okr:<id>`` and ``kr:<id>``: contributing epics, how many are implied, and their children's sums."""
    columns = ["epics", "epic_count", "implied", "children", "children_done", "points_total", "points_done",
               "epics_done"]
    if epic_rows.empty:
        return pd.DataFrame(columns=columns)
    goal = contributions(epic_rows["okr"], epic_rows["key_result"], mappings)
    base = epic_rows.assign(done=epic_rows["status_category"].astype("object").eq("done").astype(int))
    to_okr = base.assign(row_id="okr:" + goal["okr"].astype(str), implied=goal["key_result"].isna().astype(int))
    to_okr = to_okr[goal["okr"].notna()]
    to_kr = base.assign(row_id="kr:" + goal["key_result"].astype(str), implied=goal["implied"].astype(int))
    to_kr = to_kr[goal["key_result"].notna()]
    both = pd.concat([to_okr, to_kr])
    if both.empty:
        return pd.DataFrame(columns=columns)
    return both.groupby("row_id").agg(
        epics=("key", lambda s: ", ".join(sorted(s))),
        epic_count=("key", "size"),
        implied=("implied", "sum"),
        children=("children", "sum"),
        children_done=("children_done", "sum"),
        points_total=("points_total", "sum"),
        points_done=("points_done", "sum"),
        epics_done=("done", "sum"),
    )


def _status(out: pd.DataFrame, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Status and why, checked in the order of ``np.select`` (done, missed, no work planned, behind, on track)."""
    progress, expected = out["progress"], out["expected"].fillna(0)
    ended = out["expected"].ge(1)
    none = out["epic_count"].eq(0)
    pct = (progress * 100).round().astype(int).astype(str) + "%"
    gone = (expected * 100).round().astype(int).astype(str) + "%"
    conditions = [~none & progress.ge(1), ended, none, (expected - progress).gt(tolerance + 1e-9)]
    status = np.select(conditions, ["done", "missed", "no work planned", "behind"], default="on track")
    why = np.select(conditions, [
        "every contributing epic's work is done",
        np.where(none, "the quarter ended with no work planned", "the quarter ended at " + pct),
        "no epic contributes",
        "progress " + pct + " with " + gone + " of the quarter gone",
    ], default="progress " + pct + " with " + gone + " of the quarter gone")
    return status.astype(object), why.astype(object)


def _elapsed(quarter: Any, as_of: date) -> float:
    """Share of the quarter elapsed at ``as_of`` (NaN when the label cannot be read)."""
    bounds = quarter_bounds(quarter) if quarter else None
    if bounds is None:
        return float("nan")
    start, end = bounds
    total = (end - start).days + 1
    return float(min(max((as_of - start).days + 1, 0), total) / total)


# ---------------------------------------------------------------------------------------- counts

SUMMARY_COLUMNS = ["level", "status", "count", "of", "ids", "names"]


def summarise(okrs: pd.DataFrame) -> pd.DataFrame:
    """The ``okr_summary`` view: per level (key result, objective) and status, how many and which.

    Columns: ``level``, ``status`` (every one of :data:`STATUSES`, also when none has it), ``count``,
    ``of`` (rows of that level), ``ids`` (key result ids, or OKR ids for objectives, comma separated)
    and ``names`` (their names, ``; `` separated). ``attrs['team']``: the OKR view's (a team report's team).
    """
    rows = []
    for level in (KEY_RESULT, OBJECTIVE):
        part = okrs[okrs["level"].eq(level)] if len(okrs) else okrs
        ids = part["key_result"] if level == KEY_RESULT else part["okr"]
        for status in STATUSES:
            mask = part["status"].eq(status) if len(part) else pd.Series(dtype=bool)
            rows.append({"level": level, "status": status, "count": int(mask.sum()), "of": len(part),
                         "ids": ", ".join(ids[mask].astype(str)) if len(part) else "",
                         "names": "; ".join(part.loc[mask, "name"].astype(str)) if len(part) else ""})
    out = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    out.attrs["team"] = okrs.attrs.get("team")
    return out


def counts(summary: pd.DataFrame, level: str = KEY_RESULT) -> dict[str, int]:
    """``{status: count}`` of one level of :func:`summarise`, plus ``of`` (how many in all)."""
    part = summary[summary["level"].eq(level)]
    out = dict(zip(part["status"], part["count"].astype(int)))
    out["of"] = int(part["of"].iloc[0]) if len(part) else 0
    return out


def headline(summary: pd.DataFrame) -> str:
    """The key results in one line — the OKR chart's title and the Summary's OKR line.

    A key result with no work planned is never counted as on track or "not behind": every risk
    status is named with its count.
    """
    c = counts(summary)
    if not c["of"]:
        if summary.attrs.get("team"):
            return "Key results: none that this team's epics contribute to"
        return "No key results declared in mappings.yaml"
    parts = [f"{c['behind']} behind the calendar" if c["behind"] else "",
             f"{c['no work planned']} with no work planned" if c["no work planned"] else "",
             f"{c['missed']} missed (quarter over)" if c["missed"] else ""]
    parts = [p for p in parts if p]
    if not parts:
        return f"Key results: all {c['of']} on track or done"
    return f"Key results: {', '.join(parts)} — of {c['of']}"


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("okrs", requires=("epics", "team"), compute=compute)


__all__ = ["VIEW", "compute", "summarise", "counts", "headline", "status_rule", "STATUS_RULE", "STATUSES", "AT_RISK",
           "COLUMNS", "SUMMARY_COLUMNS", "OBJECTIVE", "KEY_RESULT"]
