"""EQ053: an open epic that nobody has touched for months."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class NotUpdated(Rule):
    """Not updated: neither the open epic nor any of its children was updated in `days` days.

    Why:
    An open epic that nobody edits, comments on or works under is either forgotten or finished;
    either way it makes the open portfolio look bigger than the work really going on.

    How to fix:
    Close the epic if it is no longer planned, or update it: target date, status and next steps.
    """

    code = "EQ053"
    name = "epic-not-updated"
    groups = ("consistency",)
    severity = "info"
    config_keys = {"days": 90}

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        last = epics["last_update"]
        mask = ~epics["done"] & last.lt(ctx.today - pd.Timedelta(days=self.settings["days"]))
        message = ("no update to the epic or its children since " + last.dt.strftime("%Y-%m-%d").fillna("")
                   + f" (more than {self.settings['days']} days)")
        return self.flag(mask, message)
