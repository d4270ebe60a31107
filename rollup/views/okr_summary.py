"""OKR summary: how many key results (and objectives) are done, on track, behind, without work or missed.

The counts behind the OKR chart's title, the Summary's OKR line and the line under the OKRs sheet;
all three print :func:`rollup.views.okrs.headline` of this frame. ``okrs``: the OKR view.

Columns: see :func:`rollup.views.okrs.summarise` — ``level``, ``status``, ``count``, ``of``, ``ids``, ``names``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import okrs as okrs_view
from rollup.views.registry import View


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, okrs: pd.DataFrame) -> pd.DataFrame:
    """Status counts per level (every status listed, also when its count is 0)."""
    return okrs_view.summarise(okrs)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("okr_summary", requires=("okrs",), compute=compute)
