"""EQ041: a "build a button" epic: only one or two children, or very few points."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class TooSmall(Rule):
    """Too small for an epic: fewer than `min_children` children, or fewer than `min_points` story points.

    Why:
    An epic is the unit the portfolio reports on. "Build a button" epics with a child or two
    flood the roadmap and the lint report with noise and make every share and count misleading.
    An epic with no children at all is reported by EQ040 instead.

    How to fix:
    Merge the work into the epic it belongs to (make the stories its children) and close this
    one, or break it down properly if it really is bigger. `min_points` is 0 (off) by default;
    set it in `lint.rules` if your teams estimate consistently.
    """

    code = "EQ041"
    name = "epic-too-small"
    groups = ("size",)
    severity = "info"
    config_keys = {"min_children": 3, "min_points": 0.0}

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        children, points = epics["children"], epics["child_points"]
        min_children, min_points = self.settings["min_children"], self.settings["min_points"]
        few = children.gt(0) & children.lt(min_children)
        light = children.gt(0) & points.lt(min_points)
        counted = ("only " + children.astype(str) + " child" + children.ne(1).map({True: "ren", False: ""})
                   + f" (fewer than {min_children})")
        pointed = "only " + points.map("{:g}".format) + f" story points (fewer than {min_points:g})"
        message = counted.where(few, pointed)
        return self.flag(few | light, message)
