"""EQ004: an epic that no rule puts in an allocation bucket."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingBucket(Rule):
    """No allocation bucket: no mapping rule decides what kind of work this is.

    Why:
    Buckets carry the accounting treatment (capex or opex). Effort on an epic without a bucket
    is left out of the capitalizable / expensed split that finance books every month.

    How to fix:
    Add the label or component your mapping rules read for buckets (e.g. `tech-debt`), put the
    epic under an initiative whose rule sets a bucket, or add a fallback rule to mappings.yaml.
    """

    code = "EQ004"
    name = "epic-missing-bucket"
    groups = ("strategy",)
    severity = "warning"

    def check(self, ctx: LintContext) -> pd.Series:
        return self.flag(ctx.epics["bucket"].isna(), "no allocation bucket (no rule maps one)")
