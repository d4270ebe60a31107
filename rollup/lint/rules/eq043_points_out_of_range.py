"""EQ043: an epic whose children carry story points below 0 or above the configured maximum."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class PointsOutOfRange(Rule):
    """Story points out of range: children with negative points, or more than `report.max_story_points`.

    Why:
    A story of -3 or 999 points is a typo or a stand-in for "unknown", not an estimate. Summed as entered it
    would swing the epic's size, progress and forecast, and the portfolio's effort shares; so
    every sum leaves such points out and counts the child as unestimated, and this rule says
    which children they are so the estimate gets fixed rather than silently ignored.

    How to fix:
    Correct the story points of the children named in the message in Jira (at the next
    refinement, if nobody knows the size). If your teams really estimate above the limit, raise
    `report.max_story_points` in mappings.yaml (default 100).
    """

    code = "EQ043"
    name = "epic-children-points-out-of-range"
    groups = ("size",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        bad = epics["bad_point_children"]
        limit = ctx.config.report.max_story_points
        message = (bad.astype(str) + " " + bad.ne(1).map({True: "children have", False: "child has"})
                   + f" story points below 0 or above {limit:g}, left out of every sum: "
                   + epics["bad_point_keys"].astype(str))
        return self.flag(bad.gt(0), message)
