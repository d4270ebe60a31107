"""Effort per completed story-level issue: :func:`rollup.views.allocation.effort`, computed once per report.

Every view that measures effort (allocation, pillars, teams, headline, missing parents, insights)
reads this frame from ``effort`` instead of computing it again.

Columns: ``key``, ``pillar``, ``bucket``, ``team_id``, ``resolved`` (datetime64), ``effort``, ``unit``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._common import empty, report_options
from rollup.views.allocation import effort
from rollup.views.registry import View

COLUMNS = ["key", "pillar", "bucket", "team_id", "resolved", "effort", "unit"]


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
    """The effort of every completed story-level issue (all time; views take their windows)."""
    if mapped_issues.empty:
        return empty(COLUMNS)
    return effort(mapped_issues, report_options(mappings).max_story_points)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("effort", requires=(), compute=compute)
