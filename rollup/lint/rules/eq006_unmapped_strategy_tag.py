"""EQ006: a label or component that looks like a pillar or OKR tag but that no rule reads."""

from __future__ import annotations

import fnmatch
import re

import pandas as pd

from rollup.lint.base import Rule
from rollup.lint.context import LintContext


class UnmappedStrategyTag(Rule):
    """Strategy tag not in mappings.yaml: a pillar or OKR tag that no mapping rule reads.

    Why:
    Someone meant to tie the epic to strategy — `pillar-enterprize`, `okr-q1-new` — but no rule
    knows that tag, so the intent is lost: the epic falls back to its initiative or to nothing.
    A misspelt tag or a new quarter's OKR missing from mappings.yaml look exactly like this.

    How to fix:
    Correct the tag in Jira to one mappings.yaml reads, or add the new pillar/OKR and a rule for
    its tag to mappings.yaml. The patterns that count as strategy tags are the rule's
    `label_patterns` and `component_patterns` settings.
    """

    code = "EQ006"
    name = "epic-unmapped-strategy-tag"
    groups = ("strategy",)
    severity = "warning"
    config_keys = {"label_patterns": ["pillar-*", "okr-*"], "component_patterns": ["OKR *", "Pillar *"]}

    def check(self, ctx: LintContext) -> pd.Series:
        known_labels: set[str] = set()
        known_components: set[str] = set()
        for rule in ctx.config.rules:
            if rule.when.labels is not None:
                known_labels.update(rule.when.labels.values())
            if rule.when.components is not None:
                known_components.update(rule.when.components.values())
            if rule.when.initiative is not None and rule.when.initiative.labels is not None:
                known_labels.update(rule.when.initiative.labels.values())
        parts = [
            _unknown(ctx.epics["labels"], self.settings["label_patterns"], known_labels, "label"),
            _unknown(ctx.epics["components"], self.settings["component_patterns"], known_components, "component"),
        ]
        found = pd.concat(parts)
        if not len(found):
            return self.flag(pd.Series(False, index=ctx.epics.index), "")
        per_epic = found.groupby(level=0, sort=False).agg(", ".join)
        message = ("tagged " + per_epic + ", which no mapping rule reads").reindex(ctx.epics.index)
        return self.flag(message.notna(), message)


def _unknown(values: pd.Series, patterns: list[str] | str, known: set[str], what: str) -> pd.Series:
    """``<what> '<value>'`` for every listed value matching a pattern that no rule names, by row."""
    patterns = [patterns] if isinstance(patterns, str) else list(patterns)
    if not patterns:
        return pd.Series(dtype="object")
    regex = re.compile("|".join(fnmatch.translate(p) for p in patterns), re.IGNORECASE)
    flat = values.explode().dropna().astype(str)
    hit = flat[flat.str.match(regex) & ~flat.isin(known)]
    return f"{what} '" + hit + "'"
