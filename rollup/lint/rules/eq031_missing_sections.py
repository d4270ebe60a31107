"""EQ031: an epic description without the sections the company asks for."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class MissingSections(Rule):
    """Missing description sections: the description lacks one of `lint.description_sections`.

    Why:
    A shared template ("Why", "Success metric", …) makes epics comparable and reviewable; a
    description without the agreed sections usually skips exactly the hard question.

    How to fix:
    Add each missing section as a heading (or a line starting with its name and a colon) and fill
    it in. The sections are listed in `lint.description_sections`; with none listed the rule
    reports nothing.
    """

    code = "EQ031"
    name = "epic-missing-description-sections"
    groups = ("description",)
    severity = "info"

    def check(self, ctx: LintContext) -> pd.Series:
        sections = list(ctx.options.description_sections)
        text = ctx.epics["description"].astype("object").fillna("").astype(str)
        missing = pd.Series("", index=text.index, dtype="object")
        for section in sections:
            heading = re.compile(r"(?im)^[ \t]*(?:h[1-6]\.[ \t]*|#{1,6}[ \t]*|\*+[ \t]*)?" + re.escape(section)
                                 + r"[ \t]*\**[ \t]*(?::|$)")
            absent = ~text.str.contains(heading)
            separator: pd.Series = pd.Series(np.where(missing.ne(""), ", ", ""), index=text.index)
            missing = missing.where(~absent, missing + separator + f"'{section}'")
        return self.flag(missing.ne(""), "description lacks section " + missing)
