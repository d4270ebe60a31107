"""EQ021: an open epic whose target date is in the past."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class TargetDatePassed(Rule):
    """Target date passed: the epic is not done and its target date is before the lint date.

    Why:
    A target in the past tells readers nothing about when the work will land; the portfolio shows
    the epic as off track and the real expected date lives only in someone's head.

    How to fix:
    Move "Target end" to the date the team now expects, or close the epic if the work is finished.
    """

    code = "EQ021"
    name = "epic-target-date-passed"
    groups = ("planning",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        target = epics["target"]
        mask = ~epics["done"] & target.lt(ctx.today)
        days = (ctx.today - target).dt.days.fillna(0).astype(int).astype(str)
        message = "target date " + target.dt.strftime("%Y-%m-%d").fillna("") + " passed " + days + " days ago"
        return self.flag(mask, message)
