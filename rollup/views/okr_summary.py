"""OKR summary: how many key results (and objectives) are done, on track, behind, without work or missed.

The counts behind the OKR chart's title, the Summary's OKR line and the line under the OKRs sheet;
all three print :func:`rollup.views.okrs.headline` of this frame. ``ctx['okrs']``: the OKR view.

Columns: see :func:`rollup.views.okrs.summarise` — ``level``, ``status``, ``count``, ``of``, ``ids``, ``names``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.views import okrs as okrs_view


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """Status counts per level (every status listed, also when its count is 0)."""
    okrs = ctx.get("okrs")
    if okrs is None:
        okrs = okrs_view.compute(mapped_issues, mappings, as_of=as_of, **ctx)
    return okrs_view.summarise(okrs)
