"""Headline figures for the Summary sheet.

Requires the views ``epics``, ``changes``, ``effort`` and ``hygiene``; ``allocation_window_days`` optional.

Columns: ``measure`` (active_epics, strategy_share, ktlo_share, epics_at_risk, slipped_this_week,
hygiene), ``label``, ``value``, ``kind`` (count / share), ``detail``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import allocation
from rollup.views import hygiene as hygiene_view
from rollup.views._common import report_options
from rollup.views.pillars import ALLOCATION_WINDOW_DAYS
from rollup.views.registry import View

COLUMNS = ["measure", "label", "value", "kind", "detail"]

KTLO_RULE = ("Strategy = effort in capex (capitalizable) buckets; KTLO = effort in opex buckets that are "
             "maintenance-like (maintenance / KTLO, defects and support; or a bucket marked ktlo: true). "
             "Other opex work such as tech debt, and unmapped work, is in neither figure.")


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, changes: pd.DataFrame, effort: pd.DataFrame, hygiene: pd.DataFrame,
    allocation_window_days: int | None,
) -> pd.DataFrame:
    """The five headline figures (strategy and KTLO are two rows of the same figure)."""
    epic_rows = epics
    window = int(allocation_window_days or ALLOCATION_WINDOW_DAYS)
    work = allocation.window_effort(mapped_issues, mappings, start=as_of - timedelta(days=window), end=as_of,
                                    work=effort)
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
    score = hygiene_view.total(hygiene)
    hygiene_score = float(score["hygiene"]) if score is not None else float("nan")
    hygiene_detail = hygiene_view.detail(score, report_options(mappings).hygiene_min_severity)
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
        ("hygiene", "Hygiene score", hygiene_score, "share", hygiene_detail),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("headline", requires=("epics", "changes", "effort", "hygiene", "allocation_window_days"), compute=compute)


__all__ = ["VIEW", "compute", "KTLO_RULE"]
