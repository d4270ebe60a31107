"""EQ030: an epic whose description is empty or a few words."""

from __future__ import annotations

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class ShortDescription(Rule):
    """Short description: the description is empty or shorter than `min_words` words.

    Why:
    "TBD" and "See Slack thread" do not tell a reader why the epic exists or how success is
    measured. The description is where a newcomer, an executive or an auditor finds that out.

    How to fix:
    Write a few sentences: the problem and who has it, what will be delivered, and how you will
    know it worked.
    """

    code = "EQ030"
    name = "epic-short-description"
    groups = ("description",)
    severity = "warning"
    config_keys = {"min_words": 20}

    def check(self, ctx: LintContext) -> pd.Series:
        minimum = self.settings["min_words"]
        words = ctx.description_words(minimum)
        plural = words.ne(1).map({True: "s", False: ""})
        message = ("description has " + words.astype(str) + " word" + plural + f" (fewer than {minimum})").where(
            words.gt(0), "description is empty")
        return self.flag(words.lt(minimum), message)
