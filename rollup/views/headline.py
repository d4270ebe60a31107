"""Headline figures and the epics that need a decision, for the Summary sheet.

Needs the other views in ``ctx``: ``epics``, ``changes``; ``allocation_window_days`` optional.

Columns: ``measure`` (active_epics, strategy_share, ktlo_share, epics_at_risk, slipped_this_week,
hygiene), ``label``, ``value``, ``kind`` (count / share), ``detail``.

:func:`decisions` lists the epics needing a decision.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rollup.views import allocation
from rollup.views import epics as epics_view
from rollup.views._common import UNMAPPED, empty, names
from rollup.views.pillars import ALLOCATION_WINDOW_DAYS

COLUMNS = ["measure", "label", "value", "kind", "detail"]

KTLO_RULE = ("Strategy = effort in capex (capitalizable) buckets; KTLO = effort in opex buckets that are "
             "maintenance-like (maintenance / KTLO, defects and support; or a bucket marked ktlo: true). "
             "Other opex work such as tech debt, and unmapped work, is in neither figure.")

DECISION_COLUMNS = ["key", "summary", "pillar_name", "team", "owner", "rag", "why", "target_date", "size"]


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """The five headline figures (strategy and KTLO are two rows of the same figure)."""
    epic_rows = ctx.get("epics")
    if epic_rows is None:
        epic_rows = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    changes = ctx.get("changes")
    window = int(ctx.get("allocation_window_days") or ALLOCATION_WINDOW_DAYS)
    work = allocation.effort(mapped_issues) if not mapped_issues.empty else pd.DataFrame()
    if len(work):
        work = work[work["resolved"].gt(pd.Timestamp(as_of - timedelta(days=window)))
                    & work["resolved"].le(pd.Timestamp(as_of))]
    total = float(work["effort"].sum()) if len(work) else 0.0
    bucket = work["bucket"].astype("object") if len(work) else pd.Series(dtype=object)
    strategy = float(work["effort"][bucket.isin(allocation.strategy_buckets(mappings))].sum()) if total else 0.0
    ktlo = float(work["effort"][bucket.isin(allocation.ktlo_buckets(mappings))].sum()) if total else 0.0
    active = int((epic_rows["status_category"] == "indeterminate").sum()) if len(epic_rows) else 0
    open_ = int((epic_rows["rag"] != "done").sum()) if len(epic_rows) else 0
    risky = int(epic_rows["rag"].isin(["at risk", "off track"]).sum()) if len(epic_rows) else 0
    slipped = 0
    if changes is not None and len(changes):
        slipped = int(changes.loc[changes["change"].astype(str) == "target date slipped", "key"].nunique())
    hygiene = float(epic_rows["hygiene_ok"].mean()) if len(epic_rows) else float("nan")
    rows = [
        ("active_epics", "Active epics", active, "count", f"in progress; {open_} not done in all"),
        ("strategy_share", "Effort on strategy", strategy / total if total else np.nan, "share",
         f"last {window} days; KTLO {ktlo / total:.0%}" if total else "no completed work in the window"),
        ("ktlo_share", "Effort keeping the lights on", ktlo / total if total else np.nan, "share",
         f"last {window} days"),
        ("epics_at_risk", "Epics at risk or off track", risky, "count", "RAG rule on the Epics sheet"),
        ("slipped_this_week", "Epics slipped this week", slipped, "count",
         "target date moved later since the last weekly snapshot" if changes is not None and len(changes)
         else "no snapshot a week old yet"),
        ("hygiene", "Hygiene score", hygiene, "share", "epics with pillar, OKR, bucket, owner and target date"),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def decisions(epic_rows: pd.DataFrame, changes: pd.DataFrame | None, *, limit: int = 7) -> pd.DataFrame:
    """Epics at risk, off track or slipped this week, biggest first (at most ``limit``)."""
    if epic_rows is None or epic_rows.empty:
        return empty(DECISION_COLUMNS)
    slipped = pd.Series(dtype=float)
    if changes is not None and len(changes):
        s = changes[changes["change"].astype(str) == "target date slipped"]
        slipped = s.groupby("key")["days_slipped"].max()
    e = epic_rows.assign(slipped_days=epic_rows["key"].map(slipped))
    wanted = e["rag"].isin(["at risk", "off track"]) | e["slipped_days"].gt(0)
    e = e[wanted]
    if e.empty:
        return empty(DECISION_COLUMNS)
    why = e["rag"].astype(str) + ": " + e["rag_reason"].astype(str)
    why = why.where(~e["slipped_days"].gt(0),
                    why + "; slipped " + e["slipped_days"].fillna(0).astype(int).astype(str) + " days this week")
    e = e.assign(why=why, severity=e["rag"].map({"off track": 0, "at risk": 1}).fillna(2))
    e = e.sort_values(["size", "severity", "key"], ascending=[False, True, True], kind="stable")
    e["pillar_name"] = e["pillar_name"].fillna(UNMAPPED)
    return e[DECISION_COLUMNS].head(limit).reset_index(drop=True)


__all__ = ["compute", "decisions", "KTLO_RULE", "names"]
