"""Definitions: the rules behind the figures, in the words the workbook prints, with this configuration's values.

Columns: ``name`` (``rag``, ``okr_status``, ``ktlo``, ``forecast``, ``hygiene``, ``points_out_of_range``,
``not_visible``), ``text``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views._common import report_options
from rollup.views._lint import definition
from rollup.views.epics import rag_rule
from rollup.views.forecast import rule as forecast_rule
from rollup.views.headline import KTLO_RULE
from rollup.views.okrs import status_rule
from rollup.views.registry import View

COLUMNS = ["name", "text"]


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
    """One row per rule."""
    options = report_options(mappings)
    rows = [
        ("rag", rag_rule(mappings)),
        ("okr_status", status_rule(options.key_result_tolerance)),
        ("ktlo", KTLO_RULE),
        ("forecast", forecast_rule(mappings)),
        ("hygiene", f"Hygiene score = {definition(options.hygiene_min_severity)} at severity "
                    f"{options.hygiene_min_severity} or above (report.hygiene_min_severity), from the lint run of the "
                    "report's as-of date made on the same data and mappings.yaml, or a lint run made with the report "
                    "when there is none. The same score is shown on the Summary, the Teams sheet and here."),
        ("points_out_of_range", f"Story points below 0 or above {options.max_story_points:g} "
                                "(report.max_story_points) are kept as entered but left out of every sum: the issue "
                                "counts as unestimated. Lint rule EQ043 names the epics they sit under."),
        ("not_visible", "An issue whose epic (or parent, or initiative) is not in the store — private, deleted or "
                        "outside the synced scope — still counts in every total, under the pillar its own rules "
                        "give it (usually Unmapped); the Epics sheet rolls such issues up in an 'Epic not visible' "
                        "row per team. Lint rule EQ055 and `rollup mapping check` list the missing keys."),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("definitions", requires=(), compute=compute)
