"""The week-over-week baseline as the views other than ``changes`` need it: last week's snapshot and its day.

``snapshots`` as in :mod:`rollup.views.changes`, whose :func:`~rollup.views.changes.week_pair`
picks the baseline (the latest week before the as-of week's); None when there is none.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd


def baseline(as_of: date, snapshots: Any) -> pd.DataFrame:
    """The baseline snapshot's rows (``run_id``, ``taken_at``, ``issue_id``, ``key``, ``payload``, ``day``)."""
    from rollup.views.changes import week_pair

    return week_pair(snapshots, as_of=as_of).baseline


def baseline_day(as_of: date, snapshots: Any) -> date | None:
    """The day of the baseline snapshot, or None when there is no snapshot to compare with."""
    rows = baseline(as_of, snapshots)
    return None if rows.empty else pd.Timestamp(rows["day"].max()).date()
