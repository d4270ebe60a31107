"""Pillar summary: effort share actual vs target, epics open / done, progress.

Columns:

=================  ===================================================================
``pillar``         pillar id, in the order declared in ``mappings.yaml``; ``Unmapped`` last
``pillar_name``    its name
``target_share``   target share of effort (0–1; NaN for Unmapped)
``effort``         effort in the window (see ``allocation.effort``)
``actual_share``   effort / all effort in the window (Unmapped included in the total)
``gap``            actual_share − target_share
``epics_open``     epics not done
``epics_done``     epics done
``epics_at_risk``  epics at risk or off track
``progress``       mean progress of the pillar's epics (each epic in its own unit)
=================  ===================================================================

The window is the ``allocation_window_days`` (default 91) days up to and including ``as_of``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from rollup.views import allocation
from rollup.views import epics as epics_view
from rollup.views._common import UNMAPPED, empty, listed, names, pillar_ids

COLUMNS = ["pillar", "pillar_name", "target_share", "effort", "actual_share", "gap", "epics_open", "epics_done",
           "epics_at_risk", "progress"]

#: Days of completed work the actual share is measured over.
ALLOCATION_WINDOW_DAYS = 91


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """One row per pillar (declared order) plus Unmapped; ``ctx['epics']`` reuses the epic view."""
    order = pillar_ids(mappings)
    if mapped_issues.empty and not order:
        return empty(COLUMNS)
    window = int(ctx.get("allocation_window_days") or ALLOCATION_WINDOW_DAYS)
    epic_rows = ctx.get("epics")
    if epic_rows is None:
        epic_rows = epics_view.compute(mapped_issues, mappings, as_of=as_of)
    shares = allocation.pillar_shares(mapped_issues, mappings, start=as_of - timedelta(days=window), end=as_of)
    if epic_rows.empty:
        per_pillar = pd.DataFrame(columns=["epics_open", "epics_done", "epics_at_risk", "progress"])
    else:
        e = epic_rows.assign(
            done=epic_rows["rag"].eq("done"),
            risky=epic_rows["rag"].isin(["at risk", "off track"]),
            pillar=epic_rows["pillar"].astype(str),
        )
        per_pillar = e.groupby("pillar").agg(
            epics_open=("done", lambda s: int((~s).sum())),
            epics_done=("done", "sum"),
            epics_at_risk=("risky", "sum"),
            progress=("progress", "mean"),
        )
    targets = {str(p.id): _share(getattr(p, "target_share", None)) for p in listed(mappings, "pillars")}
    out = shares.set_index("pillar").join(per_pillar, how="outer")
    wanted = order + [p for p in out.index if p not in order and p != UNMAPPED] + [UNMAPPED]
    out = out.reindex(wanted)
    out = out.assign(
        pillar=out.index,
        pillar_name=[names(mappings, "pillars").get(p, p) for p in out.index],
        target_share=[targets.get(p, float("nan")) for p in out.index],
        effort=out["effort"].fillna(0.0),
        actual_share=out["share"].fillna(0.0),
        epics_open=out["epics_open"].fillna(0).astype(int),
        epics_done=out["epics_done"].fillna(0).astype(int),
        epics_at_risk=out["epics_at_risk"].fillna(0).astype(int),
    )
    out["gap"] = out["actual_share"] - out["target_share"]
    # An Unmapped row with nothing in it is noise on the CEO's table.
    empty_unmapped = (out["pillar"] == UNMAPPED) & (out["effort"] == 0) & (out["epics_open"] + out["epics_done"] == 0)
    return out.loc[~empty_unmapped, COLUMNS].reset_index(drop=True)


def _share(value: Any) -> float:
    """A target share as a fraction: 0.35 stays, 35 (percent) becomes 0.35."""
    if value is None:
        return float("nan")
    value = float(value)
    return value / 100 if value > 1 else value
