"""EQ007: an open epic still counted towards an OKR of a quarter that has ended."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class PastQuarterOkr(Rule):
    """OKR from a past quarter: the epic is still open but its OKR's quarter has ended.

    Why:
    OKRs are set per quarter. An open epic still tagged with last quarter's OKR either carried over
    (and should move to this quarter's objective) or is done in all but name; either way the
    current OKR sheet under-counts and the old one never closes.

    How to fix:
    Re-tag the epic with the current quarter's OKR it serves, or close it if the work is finished.
    If the OKR itself was extended, update its `quarter` in mappings.yaml.
    """

    code = "EQ007"
    name = "epic-past-quarter-okr"
    groups = ("strategy", "planning")
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        ended = epics["okr_quarter_end"]
        mask = ~epics["done"] & ended.lt(ctx.today)
        message = ("OKR " + epics["okr"].astype("object").astype(str) + " belongs to a quarter that ended on "
                   + ended.dt.strftime("%Y-%m-%d").fillna("") + ", and the epic is still open")
        return self.flag(mask, message)
