"""EQ010: an epic nobody owns."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingOwner(Rule):
    """No owner: the epic has no assignee (nor a value in the configured owner field).

    Why:
    Lint findings, risks and questions about the epic are routed to its owner. Without one, nobody
    is asked to fix anything and the epic drifts.

    How to fix:
    Assign the epic to the person accountable for it (usually the product manager); when your
    site keeps owners in their own field, set `lint.owner_field` in mappings.yaml and fill it in.
    """

    code = "EQ010"
    name = "epic-missing-owner"
    groups = ("ownership",)
    severity = "error"

    def check(self, ctx: LintContext) -> pd.Series:
        field = ctx.options.owner_field
        where = f"no assignee and no '{field}'" if field else "no assignee"
        return self.flag(ctx.epics["owner"].isna(), f"no owner ({where})")
