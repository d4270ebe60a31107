"""EQ001: an epic that no mapping rule ties to a strategic pillar."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingPillar(Rule):
    """No strategic pillar: no mapping rule decides one and there is no initiative to inherit it from.

    Why:
    An epic without a pillar lands in "Unmapped" on every allocation chart, so leadership cannot
    see what strategy its effort serves and the pillar shares stop adding up to the real work.

    How to fix:
    Put the epic under an initiative of the right pillar, or tag it the way your team tags
    strategy (a `pillar-*` label, a pillar component or the Investment field). If the tag is
    there, add a rule for it in mappings.yaml (`rollup mapping check` lists tags no rule reads).
    """

    code = "EQ001"
    name = "epic-missing-pillar"
    groups = ("strategy",)
    severity = "error"

    def check(self, ctx: LintContext) -> pd.Series:
        return self.flag(ctx.epics["pillar"].isna(),
                         "no strategic pillar (no rule maps one and no initiative gives one)")
