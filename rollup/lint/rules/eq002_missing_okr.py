"""EQ002: an epic that contributes to no OKR."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingOkr(Rule):
    """No OKR: no mapping rule decides one and there is no initiative to inherit it from.

    Why:
    OKR progress is rolled up from the epics that contribute to each key result; an epic with no
    OKR is invisible on the OKR sheet and its work cannot be argued for at the quarterly review.

    How to fix:
    Tag the epic with its OKR (an `okr-*` label or an `OKR <quarter>: …` component), or put it
    under the initiative that carries the OKR. If it truly serves no OKR, say so with an ignore
    in `lint.ignores` (with a reason and an expiry date).
    """

    code = "EQ002"
    name = "epic-missing-okr"
    groups = ("strategy",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        return self.flag(ctx.epics["okr"].isna(), "no OKR (no rule maps one and no initiative gives one)")
