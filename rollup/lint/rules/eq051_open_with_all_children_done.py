"""EQ051: an open epic whose children are all done."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class OpenWithAllChildrenDone(Rule):
    """All children done but epic open: every child is done and the epic is not.

    Why:
    The epic looks unfinished on the roadmap and in the counts of open work although nothing is
    left to do — or the remaining work was never written down as stories.

    How to fix:
    Close the epic if it is delivered; otherwise add the stories for the work that remains.
    """

    code = "EQ051"
    name = "epic-open-with-all-children-done"
    groups = ("consistency",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        children = epics["children"]
        mask = ~epics["done"] & children.gt(0) & epics["open_children"].eq(0)
        return self.flag(mask, "still open, but all " + children.astype(str) + " children are done")
