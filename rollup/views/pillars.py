"""Pillar summary: effort share actual vs target, epics open / done, progress.

Columns:

==================  ===================================================================
``pillar``          pillar id, in the order declared in ``mappings.yaml``; ``Unmapped`` last
``pillar_name``     its name
``target_share``    target share of effort (0–1; NaN for Unmapped)
``effort``          effort in the window (see ``allocation.effort``)
``actual_share``    effort / all effort in the window (Unmapped included in the total)
``gap``             actual_share − target_share, as a fraction
``gap_pp``          the same gap in percentage points (gap × 100): what every sheet prints
``gap_previous_pp`` the gap a week ago, in percentage points: the same window ending on the day of
                    last week's snapshot (NaN without a snapshot to compare with)
``previous_as_of``  that day (None without a snapshot)
``epics_open``      epics not done
``epics_done``      epics done
``epics_at_risk``   epics at risk or off track
``progress``        mean progress of the pillar's epics (each epic in its own unit)
==================  ===================================================================

The window is the ``allocation_window_days`` (default 91) days up to and including ``as_of``. The frame's
``attrs["totals"]`` is :func:`totals` of its rows (the sheet's totals row).
:func:`furthest_from_target` and :func:`gap_sentence` say which pillar is furthest from its target:
the allocation chart's title, the Summary chart's title and the insight sentence use them.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from rollup.config.models import ALLOCATION_WINDOW_DAYS, RollupConfig
from rollup.views import allocation
from rollup.views._baseline import baseline_day
from rollup.views._common import UNMAPPED, empty, names, pillar_ids
from rollup.views.registry import View

COLUMNS = ["pillar", "pillar_name", "target_share", "effort", "actual_share", "gap", "gap_pp", "gap_previous_pp",
           "previous_as_of", "epics_open", "epics_done", "epics_at_risk", "progress"]


#: A gap within this share of the target (±5 pp) is fine: green on the sheets, no insight sentence.
GAP_TOLERANCE = 0.05


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, effort: pd.DataFrame, snapshots: Any, allocation_window_days: int | None,
) -> pd.DataFrame:
    """One row per pillar (declared order) plus Unmapped; ``epics`` is the epic view."""
    order = pillar_ids(mappings)
    if mapped_issues.empty and not order:
        return empty(COLUMNS)
    window = int(allocation_window_days or ALLOCATION_WINDOW_DAYS)
    epic_rows = epics
    work = effort
    shares = allocation.pillar_shares(mapped_issues, mappings, start=as_of - timedelta(days=window), end=as_of,
                                      work=work)
    then = baseline_day(as_of, snapshots)
    before = (allocation.pillar_shares(mapped_issues, mappings, start=then - timedelta(days=window), end=then,
                                       work=work)
              .set_index("pillar")["share"] if then is not None else pd.Series(dtype=float))
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
    targets = {str(p.id): float(p.target_share) for p in mappings.pillars}
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
    out["gap_pp"] = out["gap"] * 100
    out["gap_previous_pp"] = (out["pillar"].map(before).fillna(0.0) - out["target_share"]) * 100 \
        if then is not None else float("nan")
    out["previous_as_of"] = then
    # An Unmapped row with nothing in it is noise on the CEO's table.
    empty_unmapped = (out["pillar"] == UNMAPPED) & (out["effort"] == 0) & (out["epics_open"] + out["epics_done"] == 0)
    table = out.loc[~empty_unmapped, COLUMNS].reset_index(drop=True)
    table.attrs["totals"] = totals(table)  # the Pillars sheet's totals row
    return table



def totals(pillars: pd.DataFrame) -> dict[str, Any]:
    """The Pillars table's totals row: target and actual shares, effort and epic counts summed over its rows
    (the shares of all pillars, Unmapped included, are the whole window's effort: 100 % when there is any)."""
    if pillars.empty:
        return {}
    row: dict[str, Any] = {"pillar_name": "Total"}
    for column in ("target_share", "actual_share", "effort"):
        row[column] = float(pillars[column].fillna(0.0).sum())
    for column in ("epics_open", "epics_done", "epics_at_risk"):
        row[column] = int(pillars[column].sum())
    return row


def furthest_from_target(pillars: pd.DataFrame) -> pd.Series | None:
    """The pillar whose actual share is furthest from its target (the first one on a tie); None without targets."""
    if pillars is None or pillars.empty or not pillars["gap"].notna().any():
        return None
    return pillars.iloc[pillars["gap"].abs().argmax()]


def gap_sentence(row: pd.Series) -> str:
    """``Grow new practices: 18 pp over its 15 % target share`` — the gap in percentage points."""
    direction = "over" if row["gap"] > 0 else "under"
    return (f"{row['pillar_name']}: {abs(row['gap_pp']):.0f} pp {direction} its {row['target_share'] * 100:.0f}% "
            "target share")


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("pillars", requires=("epics", "effort", "snapshots", "allocation_window_days"), compute=compute)


__all__ = ["VIEW", "compute", "furthest_from_target", "gap_sentence", "ALLOCATION_WINDOW_DAYS", "GAP_TOLERANCE",
           "COLUMNS"]
