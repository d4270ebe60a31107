"""EQ023: an open epic planned to run longer than a few quarters."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class TooLong(Rule):
    """Too long: from start to target the epic runs longer than `weeks` weeks or spans more than `quarters` quarters.

    Why:
    An epic that spans most of a year is a programme, not a deliverable: progress on it is hard
    to read, it cannot be tied to one quarter's OKR, and risk hides inside it until late.

    How to fix:
    Split the epic into epics that each deliver something on their own within a quarter or two,
    and group them under an initiative. Adjust `weeks` / `quarters` in `lint.rules` if your
    planning horizon is different.
    """

    code = "EQ023"
    name = "epic-too-long"
    groups = ("planning", "size")
    severity = "info"
    config_keys = {"weeks": 26, "quarters": 3}

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        start, target = epics["start"], epics["target"]
        weeks = (target - start).dt.days / 7
        spanned = ((target.dt.year * 4 + (target.dt.month - 1) // 3)
                   - (start.dt.year * 4 + (start.dt.month - 1) // 3) + 1)
        too_long = weeks.gt(self.settings["weeks"]) | spanned.gt(self.settings["quarters"])
        mask = ~epics["done"] & too_long
        message = ("runs " + weeks.round().fillna(0).astype(int).astype(str) + " weeks over "
                   + spanned.fillna(0).astype(int).astype(str) + " quarters ("
                   + start.dt.strftime("%Y-%m-%d").fillna("")
                   + " to " + target.dt.strftime("%Y-%m-%d").fillna("") + "); limit " + str(self.settings["weeks"])
                   + " weeks, " + str(self.settings["quarters"]) + " quarters")
        return self.flag(mask, message)
