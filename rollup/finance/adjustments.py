"""Adjustments: what today's data says about closed months, minus what was booked for them.

A closed month's figures never change. When Jira changes in a way that would alter one (a late
worklog, an epic re-bucketed, a backdated transition, a rate corrected), the difference appears in
the first open month as ``adjustment`` rows: ``effort_month`` names the closed month, the figures
are today's minus the booked ones (the month's frozen rows plus adjustments already booked for
it), and ``cause`` says what changed. A row whose attributes changed (say its bucket) is reversed
under the old attributes and booked under the new ones.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from rollup.finance.allocation import HOURS_DP, canonical, key_columns, money_columns

#: Attributes whose change is named in the cause, in order.
_NAMED = ("bucket", "pillar", "team_id", "epic", "initiative", "window", "issue_type")


def compute_adjustments(fresh: pd.DataFrame, booked: pd.DataFrame, *, period: str, bases: list[str],
                        closed_at: Mapping[str, datetime], worklogs: pd.DataFrame,
                        issue_updated: Mapping[str, Any]) -> pd.DataFrame:
    """Adjustment rows booked in ``period`` for every closed month in ``fresh`` / ``booked``.

    ``fresh``: today's detail rows of the closed months; ``booked``: every frozen row whose
    ``effort_month`` is a closed month. ``worklogs`` (issue_key, author_id, started_month,
    updated, id) and ``issue_updated`` (issue key → last update) give the evidence for causes.
    """
    keys = key_columns(bases)
    numbers = ["hours", "fte", *money_columns(bases)]
    carried = ["person", "team", "bucket_source", "pillar_source", "team_source", "confidence", "rate_source",
               "hourly_rate", "currency", "work_location", "location", "location_source"]
    if fresh.empty and booked.empty:
        return canonical(pd.DataFrame(), bases).iloc[0:0]
    # Plain text from here on: today's rows are categorical, the frozen ones are not.
    fresh, booked = _plain(fresh), _plain(booked)

    def grouped(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return pd.DataFrame(columns=[*keys, *numbers, *carried])
        sums = frame.groupby(keys, sort=True, observed=True)[numbers].sum()
        firsts = frame.groupby(keys, sort=True, observed=True)[carried].first()
        return sums.join(firsts).reset_index()

    merged = grouped(fresh).merge(grouped(booked), on=keys, how="outer", suffixes=("", "_booked"),
                                  indicator=True)
    for column in numbers:
        merged[column] = merged[column].astype(float).fillna(0.0) - merged[f"{column}_booked"].astype(float).fillna(0.0)
    for column in carried:
        merged[column] = merged[column].where(merged[column].notna(), merged[f"{column}_booked"])
    merged["hours"] = merged["hours"].round(HOURS_DP)
    merged["fte"] = merged["fte"].round(HOURS_DP)
    for column in money_columns(bases):
        merged[column] = merged[column].round(2)
    changed = (merged["hours"].abs() >= 5e-5) | (merged["cost"].abs() >= 0.005)
    out = merged[changed].copy()
    if out.empty:
        return canonical(pd.DataFrame(), bases).iloc[0:0]
    out["period"] = period
    out["row_type"] = "adjustment"
    by = ["effort_month", "person_id", "issue_key"]
    was_groups = {k: g for k, g in booked.groupby(by, sort=False)} if len(booked) else {}
    now_groups = {k: g for k, g in fresh.groupby(by, sort=False)} if len(fresh) else {}
    empty = fresh.iloc[0:0] if len(fresh) else booked.iloc[0:0]
    out["cause"] = [
        _cause(row, was_groups.get(key, empty), now_groups.get(key, empty), closed_at, worklogs, issue_updated)
        for row, key in zip(out.to_dict("records"), zip(out["effort_month"], out["person_id"], out["issue_key"]))
    ]
    return canonical(out, bases)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})


def _cause(row: Mapping[Hashable, Any], was: pd.DataFrame, now: pd.DataFrame, closed_at: Mapping[str, datetime],
           worklogs: pd.DataFrame, issue_updated: Mapping[str, Any]) -> str:
    """What changed for one person on one issue in one closed month: booked rows ``was``, today's ``now``."""
    month, person, key = row["effort_month"], row["person_id"], row["issue_key"]
    prefix = f"adjusts closed {month}: "
    if len(was) and len(now):
        changes = []
        for column in _NAMED:
            before, after = sorted(set(was[column])), sorted(set(now[column]))
            if before != after:
                text = f"{column} {', '.join(before)} → {', '.join(after)}"
                if column == "bucket":
                    text += f" ({', '.join(sorted(set(now['bucket_source'])))})"
                changes.append(text)
        clauses = [c for c in map(str, row) if c.endswith("_clause")]
        for column in clauses:
            before, after = sorted(set(was[column])), sorted(set(now[column]))
            if before != after and not changes:
                changes.append(f"{column[:-len('_clause')]} clause {', '.join(before)} → {', '.join(after)}")
        if changes:
            return prefix + "; ".join(changes)
    if abs(row["hours"]) < 5e-5:
        before = sorted(set(np.round(was["hourly_rate"], 4))) if len(was) else []
        after = sorted(set(np.round(now["hourly_rate"], 4))) if len(now) else []
        return prefix + f"rate changed {before} → {after} per hour ({row['rate_source']})"
    sign = f"{row['hours']:+.2f} h"
    method = row["method"]
    since = closed_at.get(month)
    if not key:
        return prefix + f"unallocated days of this person changed ({sign}): their in-progress days changed after close"
    if method == "worklogs":
        late = worklogs[(worklogs["issue_key"] == key) & (worklogs["author_id"] == person)
                        & (worklogs["started_month"] == month)]
        if since is not None:
            late = late[late["updated"] > pd.Timestamp(since)]
        ids = ", ".join(str(i) for i in sorted(late["id"]))
        if ids:
            return prefix + f"worklog(s) {ids} added or changed after the close ({sign})"
        if row["hours"] > 0:
            return prefix + f"worklogs added or changed after the close ({sign})"
        return prefix + f"worklogs deleted or shortened after the close ({sign})"
    if method == "person-days":
        updated = issue_updated.get(key)
        if since is not None and updated is not None and pd.Timestamp(updated) > pd.Timestamp(since):
            return prefix + (f"{key}'s status or assignee history changed after the close "
                             f"(updated {pd.Timestamp(updated):%Y-%m-%d %H:%M} UTC; {sign})")
        return prefix + f"person-day split changed: another issue of this person changed its history ({sign})"
    if not len(now):
        return prefix + f"effort removed after the close ({sign})"
    return prefix + f"completed points changed after the close ({sign})"
