"""The evidence pack: one row per capitalized epic of a month, with what its capitalization rests on.

Since ASU 2025-06 (ASC 350-40) an auditor asks of every capitalized project: when was funding
authorized and by what, when did completion become probable and how was that known, when was the
software ready for use, was it abandoned — and how to re-run the figure. :func:`evidence_table`
answers from the month's detail rows (what was capitalized, under which clause) and each epic's window
(:func:`rollup.finance.policy.epic_evidence`), with the configuration hash and a JQL query that lists
the issues whose effort makes up the figure. Pure: frames in, a frame out.

The table is worked out when a month's figures are and, for a closed month, stored with it, so a closed
month's Evidence sheet is the one it was closed with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rollup.finance.allocation import NONE
from rollup.finance.calendar import day_date
from rollup.finance.policy import NO_DAY, OPEN_END

#: A JQL query longer than this is not put in one cell (Excel's cell holds 32,767 characters).
JQL_LIMIT = 30_000


def evidence_columns(bases: list[str]) -> list[str]:
    """The Evidence table's columns, in order."""
    return ["period", "epic", "summary", "team_id", "pillar", "bucket", "window", "authorized_on", "authorized_by",
            "probable", "probable_basis", "probable_as_of", "ready_for_use_on", "ready_for_use_by", "abandoned",
            "issues", "hours", "cost", *(f"{b}_capex" for b in bases), *(f"{b}_clauses" for b in bases),
            "jql", "mappings_sha256"]


def capitalized(detail: pd.DataFrame, bases: list[str]) -> np.ndarray:
    """True for the detail rows capitalized on at least one basis (an adjustment may reverse capex: it counts)."""
    if not len(detail):
        return np.zeros(0, dtype=bool)
    return np.logical_or.reduce([detail[f"{b}_capex"].to_numpy(dtype=np.float64) != 0 for b in bases])


def evidence_table(month: str, detail: pd.DataFrame, per_epic: pd.DataFrame, mapped_issues: pd.DataFrame,
                   bases: list[str], *, mappings_sha256: str, as_of: str) -> pd.DataFrame:
    """One row per epic with capitalized rows in ``detail`` (sorted by epic key).

    ``per_epic``: :func:`rollup.finance.policy.epic_evidence`; ``as_of``: the data's as-of date, the day the
    probable-to-complete test was made on (it tests the epic as Jira shows it then).
    """
    columns = evidence_columns(bases)
    rows = detail[capitalized(detail, bases)]
    rows = rows[rows["epic"].astype(str) != NONE]
    if not len(rows):
        return pd.DataFrame(columns=columns)
    epics = mapped_issues[mapped_issues["hierarchy_level"] == 1].drop_duplicates("key").set_index("key")
    keys_of = (detail.loc[detail["epic"].astype(str).isin(set(rows["epic"].astype(str)))]
               .groupby(detail["epic"].astype(str), observed=True)["issue_key"]
               .agg(lambda ks: sorted({str(k) for k in ks if str(k)})))
    out: list[dict[str, Any]] = []
    for epic, group in rows.groupby(rows["epic"].astype(str), sort=True, observed=True):
        window = per_epic.loc[epic] if epic in per_epic.index else None
        info = epics.loc[epic] if epic in epics.index else None
        start = int(window["window_start"]) if window is not None else NO_DAY  # type: ignore[arg-type]
        end = int(window["window_end"]) if window is not None else OPEN_END  # type: ignore[arg-type]
        kind = str(window["window_kind"]) if window is not None else "no-epic"
        row: dict[str, Any] = {
            "period": month,
            "epic": epic,
            "summary": "" if info is None or pd.isna(info.get("summary")) else str(info.get("summary")),
            "team_id": "" if info is None or pd.isna(info.get("team_id")) else str(info.get("team_id")),
            "pillar": "" if info is None or pd.isna(info.get("pillar")) else str(info.get("pillar")),
            "bucket": "" if info is None or pd.isna(info.get("bucket")) else str(info.get("bucket")),
            "window": kind,
            "authorized_on": day_date(start).isoformat() if start != NO_DAY else "",
            "authorized_by": "" if window is None else str(window["window_evidence"]),
            "probable": bool(window["probable"]) if window is not None else False,
            "probable_basis": "" if window is None else str(window["probable_basis"]),
            "probable_as_of": as_of,
            "ready_for_use_on": day_date(end - 1).isoformat() if end != OPEN_END else "",
            "ready_for_use_by": (str(window["release_source"]) if window is not None and end != OPEN_END
                                 else f"not released as of {as_of}"),
            "abandoned": bool(window["abandoned"]) if window is not None else False,
            "issues": len(keys_of.get(epic, [])),
            # + 0.0: a sum that rounds to -0.0 is 0.0 (PostgreSQL's JSON keeps no sign of zero; the bytes must agree).
            "hours": round(float(detail.loc[detail["epic"].astype(str) == epic, "hours"].sum()), 6) + 0.0,
            "cost": round(float(detail.loc[detail["epic"].astype(str) == epic, "cost"].sum()), 2) + 0.0,
        }
        for b in bases:
            row[f"{b}_capex"] = round(float(group[f"{b}_capex"].sum()), 2) + 0.0
        for b in bases:
            capex_rows = group[group[f"{b}_capex"].to_numpy(dtype=np.float64) != 0]
            row[f"{b}_clauses"] = ", ".join(sorted({str(c) for c in capex_rows[f"{b}_clause"]}))
        row["jql"] = issues_jql(keys_of.get(epic, []), epic)
        row["mappings_sha256"] = mappings_sha256
        out.append(row)
    return pd.DataFrame(out, columns=columns)


def issues_jql(keys: list[str], epic: str) -> str:
    """JQL that lists exactly ``keys`` (the issues whose effort makes up the epic's figure); when that query
    would not fit a cell, the one that lists the epic's children (their own sub-tasks are in ``detail.csv``)."""
    # A key from a second site carries its site ("dc:PAY-1"); Jira's own key is after the colon.
    plain = [k.rsplit(":", 1)[-1] for k in keys]
    query = f"key in ({', '.join(plain)}) ORDER BY key" if plain else f"key = {epic.rsplit(':', 1)[-1]}"
    if len(query) <= JQL_LIMIT:
        return query
    own = epic.rsplit(":", 1)[-1]
    return f'parent = {own} OR "Epic Link" = {own} ORDER BY key'
