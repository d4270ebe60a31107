"""EQ055: issues link to an epic the store does not hold."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class EpicNotVisible(Rule):
    """Epic not visible: stories, tasks or bugs link to an epic that is private, deleted or outside the scope.

    Why:
    The issues are synced but their epic is not, so they roll up to no epic: they take no pillar,
    OKR or bucket from it and show on no epic's progress. Their effort still counts (under
    Unmapped unless their own rules map them) and the Epics sheet rolls them up under an "Epic
    not visible" row per team, but nobody can see what they were for.

    How to fix:
    Open the epic key in Jira. If it was deleted or moved, re-link the issues to the epic they
    belong to; if it is in a project outside the synced scope, add that project to
    `jira.projects` (or widen `jira.jql`); if it is private, grant the sync user access to it.
    """

    code = "EQ055"
    name = "epic-not-visible"
    groups = ("consistency",)
    severity = "warning"
    target = "missing_epics"

    def check(self, ctx: LintContext) -> pd.Series:
        missing = ctx.missing_epics
        children = missing["children"]
        message = (children.astype(str) + " " + children.ne(1).map({True: "issues link", False: "issue links"})
                   + " to this epic, which the store does not hold (private, deleted or outside the synced "
                   "scope): " + missing["child_keys"].astype(str))
        return self.flag(children.gt(0), message)
