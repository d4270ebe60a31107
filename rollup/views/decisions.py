"""The epics that need a decision: at risk, off track or slipped this week, biggest first.

``epics``: the epic view; ``changes``: the week-over-week view (its "target date
slipped" rows); ``snapshots``: for which epics are newly at risk.

Every such epic is a row, ranked; the Summary shows the first :data:`SHOWN` (``shown``) and says how
many there are in all (the length of this frame).

Columns:

================  ===========================================================================
``rank``          1 = biggest (size, then off track before at risk, then key)
``shown``         True for the first :data:`SHOWN`, the ones the Summary lists
``key``, ``summary``, ``pillar_name``, ``team``, ``owner``, ``rag``, ``target_date``, ``size``, ``unit``  the epic
``why``           RAG and reason; "slipped N days this week" when its target date moved later
``slipped_days``  days the target date moved later this week (NaN when it did not)
``new_this_week`` True when the epic was not at risk or off track in last week's snapshot (or was
                  not in it); False without a snapshot to compare with
================  ===========================================================================
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._baseline import baseline
from rollup.views._common import UNMAPPED, empty
from rollup.views.registry import View

COLUMNS = ["rank", "shown", "key", "summary", "pillar_name", "team", "owner", "rag", "why", "target_date", "size",
           "unit", "slipped_days", "new_this_week"]

#: How many the Summary lists.
SHOWN = 7

RISKY = ("at risk", "off track")


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, changes: pd.DataFrame, snapshots: Any,
) -> pd.DataFrame:
    """Every epic at risk, off track or slipped this week, ranked biggest first."""
    epic_rows = epics
    if epic_rows is None or epic_rows.empty:
        return empty(COLUMNS)
    slipped = pd.Series(dtype=float)
    if changes is not None and len(changes):
        s = changes[changes["change"].astype(str) == "target date slipped"]
        slipped = s.groupby("key")["days_slipped"].max()
    e = epic_rows.assign(slipped_days=epic_rows["key"].map(slipped))
    e = e[e["rag"].isin(RISKY) | e["slipped_days"].gt(0)]
    if e.empty:
        return empty(COLUMNS)
    why = e["rag"].astype(str) + ": " + e["rag_reason"].astype(str)
    why = why.where(~e["slipped_days"].gt(0),
                    why + "; slipped " + e["slipped_days"].fillna(0).astype(int).astype(str) + " days this week")
    before = baseline(as_of, snapshots)
    if before.empty:
        new = pd.Series(False, index=e.index)
    else:
        was = {str(k): p.get("rag") for k, p in zip(before["key"], before["payload"])}
        new = e["rag"].isin(RISKY) & e["key"].map(lambda k: was.get(str(k)) not in RISKY)
    e = e.assign(why=why, severity=e["rag"].map({"off track": 0, "at risk": 1}).fillna(2), new_this_week=new)
    e = e.sort_values(["size", "severity", "key"], ascending=[False, True, True], kind="stable")
    e["pillar_name"] = e["pillar_name"].fillna(UNMAPPED)
    e["rank"] = range(1, len(e) + 1)
    e["shown"] = e["rank"].le(SHOWN)
    return e[COLUMNS].reset_index(drop=True)


def heading(decisions: pd.DataFrame) -> str:
    """The line over the Summary's list: how many it shows of how many, and where the rest are."""
    n = len(decisions)
    if not n:
        return "Epics that need a decision: none this week (nothing at risk, off track or slipped)"
    shown = int(decisions["shown"].sum())
    which = f"the {shown} biggest of {n} — all {n} on the Epics sheet" if shown < n else f"all {n} listed"
    return f"Epics that need a decision (at risk, off track or slipped; biggest first): {which}"


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("decisions", requires=("epics", "changes", "snapshots"), compute=compute)


__all__ = ["VIEW", "compute", "heading", "SHOWN", "COLUMNS"]
