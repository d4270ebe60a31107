"""EQ042: an epic whose children are mostly unestimated."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class UnestimatedChildren(Rule):
    """Unestimated children: more than `max_share` of the epic's children have no story points.

    Why:
    Remaining work and projected finish dates are computed from story points. When most children
    are unestimated, the epic's size, progress and forecast are guesses dressed as numbers.

    How to fix:
    Estimate the children at the team's next refinement. If the team does not estimate in points,
    raise `max_share` for this rule or ignore it (`lint.ignore: [EQ042]`).
    """

    code = "EQ042"
    name = "epic-unestimated-children"
    groups = ("size",)
    severity = "info"
    config_keys = {"max_share": 0.5}
    config_ranges = {"max_share": (0.0, 1.0)}

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        children, missing = epics["children"], epics["unestimated_children"]
        share = missing / children.where(children.gt(0))
        mask = share.gt(self.settings["max_share"])
        message = (missing.astype(str) + " of " + children.astype(str) + " children ("
                   + (share.fillna(0) * 100).round().astype(int).astype(str) + " %) have no story points; at most "
                   + f"{self.settings['max_share'] * 100:g} % allowed")
        return self.flag(mask, message)
