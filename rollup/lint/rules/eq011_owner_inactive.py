"""EQ011: an epic owned by a deactivated or deleted account."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class OwnerInactive(Rule):
    """Owner inactive: the epic's owner has a deactivated or deleted Jira account.

    Why:
    People leave or change roles and their epics stay assigned to them. Findings routed to an
    inactive account reach nobody, and the epic looks owned when it is not.

    How to fix:
    Reassign the epic to the person who now owns the work.
    """

    code = "EQ011"
    name = "epic-owner-inactive"
    groups = ("ownership",)
    severity = "error"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        mask = epics["owner"].notna() & epics["owner_active"].eq(False)
        message = "owner " + epics["owner"].astype("object").fillna("").astype(str) + "'s account is inactive"
        return self.flag(mask, message)
