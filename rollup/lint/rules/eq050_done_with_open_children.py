"""EQ050: an epic marked done while some of its children are not."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class DoneWithOpenChildren(Rule):
    """Done with open children: the epic is done but some of its children are not.

    Why:
    Either work is still going on under a closed epic — so it is reported as delivered when it
    is not — or the children were abandoned and left open, which inflates every team's backlog.

    How to fix:
    Reopen the epic if the work continues, or close (or move to another epic) the children that
    are left.
    """

    code = "EQ050"
    name = "epic-done-with-open-children"
    groups = ("consistency",)
    severity = "error"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        open_children = epics["open_children"]
        message = ("done, but " + open_children.astype(str) + " of " + epics["children"].astype(str)
                   + " children are not")
        return self.flag(epics["done"] & open_children.gt(0), message)
