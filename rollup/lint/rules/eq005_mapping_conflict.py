"""EQ005: mapping rules disagree about an epic."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MappingConflict(Rule):
    """Mapping conflict: two rules of the same priority set different values for this epic.

    Why:
    The first rule wins, so the epic is reported under a value the other tag contradicts. Usually
    the epic carries two tags that disagree (a pillar label and a pillar component), and the
    rollup silently picks one.

    How to fix:
    Remove the tag that is wrong from the epic in Jira. If both tags are right in general, give
    one of the two rules a higher `priority` in mappings.yaml so the choice is deliberate.
    """

    code = "EQ005"
    name = "epic-mapping-conflict"
    groups = ("strategy",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        conflicts = ctx.conflicts
        if not len(conflicts):
            return self.flag(pd.Series(False, index=ctx.epics.index), "")
        text = (conflicts["attribute"].astype(str) + ": " + conflicts["value"].astype(str) + " by "
                + conflicts["rule"].astype(str) + ", but " + conflicts["conflicting_value"].astype(str) + " by "
                + conflicts["conflicting_rule"].astype(str))
        per_key = text.groupby(conflicts["key"].astype(str).to_numpy(), sort=False).agg("; ".join)
        message = ctx.epics["key"].astype(str).map(per_key)
        return self.flag(message.notna(), "rules disagree: " + message.fillna(""))
