"""EQ040: an epic with no stories, tasks or bugs under it."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class NoChildren(Rule):
    """No children: no story, task or bug belongs to this epic.

    Why:
    Progress, effort and projections are all computed from an epic's children. An empty epic
    shows 0 % done forever (or 100 % when closed) and any effort spent on it is booked elsewhere.

    How to fix:
    Break the epic down into stories in Jira, or link the existing stories to it (Cloud: their
    parent; Data Center: their Epic Link). Close the epic if it is no longer planned.
    """

    code = "EQ040"
    name = "epic-without-children"
    groups = ("size",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        return self.flag(ctx.epics["children"].eq(0), "no stories, tasks or bugs under this epic")
