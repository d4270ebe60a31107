"""EQ020: an epic with no target date."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingTargetDate(Rule):
    """No target date: neither "Target end" nor the due date is set.

    Why:
    Without a target the roadmap cannot place the epic, projections cannot say whether it is on
    track, and "what slipped this week" never includes it.

    How to fix:
    Set "Target end" (or the due date) on the epic to when it is expected to be done; a rough
    date that is revised beats none.
    """

    code = "EQ020"
    name = "epic-missing-target-date"
    groups = ("planning",)
    severity = "error"

    def check(self, ctx: LintContext) -> pd.Series:
        return self.flag(ctx.epics["target"].isna(), "no target date (Target end and due date are empty)")
