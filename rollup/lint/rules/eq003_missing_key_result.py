"""EQ003: an epic whose OKR has several key results but that names none of them."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingKeyResult(Rule):
    """OKR without a key result: the OKR has several key results and the epic names none.

    Why:
    Key-result progress is the sum of the epics behind each key result. When an OKR has more than
    one, an epic that names none counts towards the objective but towards no measurable result.

    How to fix:
    Tag the epic with the key result it moves (a label or component that a mapping rule turns
    into `key_result`), or add such a rule to mappings.yaml. OKRs with a single key result need
    nothing: the key result is implied.
    """

    code = "EQ003"
    name = "epic-missing-key-result"
    groups = ("strategy",)
    severity = "info"

    def check(self, ctx: LintContext) -> pd.Series:
        epics = ctx.epics
        several = {o.id: len(o.key_results) for o in ctx.config.okrs if len(o.key_results) > 1}
        count = epics["okr"].astype("object").map(several)
        mask = count.notna() & epics["key_result"].isna()
        message = ("OKR " + epics["okr"].astype("object").astype(str) + " has " + count.fillna(0).astype(int)
                   .astype(str) + " key results and this epic names none")
        return self.flag(mask, message)
