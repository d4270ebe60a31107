"""The week-over-week baseline as the views other than ``changes`` need it: the day of last week's snapshot.

``ctx['snapshots']`` and ``ctx['current_run_id']`` as in :mod:`rollup.views.changes`, whose
:func:`~rollup.views.changes.baseline_run` picks the baseline; None when there is none.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd


def baseline(as_of: date, ctx: dict[str, Any]) -> pd.DataFrame:
    """The baseline snapshot's rows (``run_id``, ``taken_at``, ``issue_id``, ``key``, ``payload``, ``day``)."""
    from rollup.views.changes import baseline_run

    return baseline_run(ctx.get("snapshots"), as_of=as_of, current_run_id=ctx.get("current_run_id"))


def baseline_day(as_of: date, ctx: dict[str, Any]) -> date | None:
    """The day of the baseline snapshot, or None when there is no snapshot to compare with."""
    rows = baseline(as_of, ctx)
    return None if rows.empty else pd.Timestamp(rows["day"].max()).date()
