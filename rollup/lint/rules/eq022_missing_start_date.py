"""EQ022: an epic in progress without a start date."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingStartDate(Rule):
    """No start date while in progress: the epic is in progress but "Start date" is empty.

    Why:
    The roadmap draws each epic from its start to its target; without a start an epic that is
    being worked on does not appear on it, and its duration cannot be checked.

    How to fix:
    Set "Start date" on the epic to when work began.
    """

    code = "EQ022"
    name = "epic-missing-start-date"
    groups = ("planning",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        return self.flag(epics["in_progress"] & epics["start"].isna(), "in progress but no start date")
