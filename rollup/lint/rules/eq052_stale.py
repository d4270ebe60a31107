"""EQ052: an epic in progress where nothing has moved for weeks."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class Stale(Rule):
    """Stale: the epic is in progress but none of its children changed status in `days` days.

    Why:
    "In progress" with nothing moving usually means the work stopped — the team moved on, or is
    blocked — while the portfolio still counts the epic as active and on its way.

    How to fix:
    Move the epic back to To Do (or close it) if work has stopped, or update the children's
    statuses to reflect the work that is really happening. Read from the status transitions; a
    run without transitions uses the children's last update instead.
    """

    code = "EQ052"
    name = "epic-stale"
    groups = ("consistency",)
    severity = "warning"
    config_keys = {"days": 30}

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        last = epics["last_child_status_change"] if ctx.has_transitions else epics["last_child_update"]
        cutoff = ctx.today - pd.Timedelta(days=self.settings["days"])
        quiet = last.isna() | last.lt(cutoff)
        mask = epics["in_progress"] & epics["children"].gt(0) & quiet
        since = ("last child status change " + last.dt.strftime("%Y-%m-%d").fillna("") + ", "
                 + (ctx.today - last.dt.normalize()).dt.days.fillna(0).astype(int).astype(str) + " days ago")
        message = (f"in progress, but no child changed status in {self.settings['days']} days ("
                   + since.where(last.notna(), "no child ever changed status") + ")")
        return self.flag(mask, message)
