"""EQ054: an epic outside the initiative hierarchy."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingInitiative(Rule):
    """No parent initiative: the hierarchy requires every epic to sit under an initiative.

    Why:
    Initiatives are how the portfolio groups epics into bets leadership decides on; an epic
    outside them cannot be seen or traded off at that level, and it inherits no strategy.
    Only checked when `lint.require_initiative` is true.

    How to fix:
    Set the epic's parent (Cloud) or Parent Link (Data Center) to the initiative it belongs to.
    """

    code = "EQ054"
    name = "epic-missing-initiative"
    groups = ("consistency", "strategy")
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        required = bool(ctx.options.require_initiative)
        return self.flag(ctx.epics["initiative"].isna() & required, "no parent initiative")
