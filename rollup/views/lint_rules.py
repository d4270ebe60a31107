"""The lint rules with the most findings, with their names beside their codes.

``lint``: the :class:`~rollup.views._lint.LintRun` of the report; ``missing_parents``.
Only findings about the epics in scope count (a team workbook sees its own), plus findings about epics that are not
visible but have issues in scope (lint rule EQ055).

Columns: ``rule`` (code), ``name`` (kebab-case name), ``summary`` (its message), ``severity``,
``findings``, ``epics`` (distinct keys), ``teams`` (distinct teams) — the :data:`TOP` rules with the
most findings, most first.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.lint.base import rule_lookup
from rollup.views._common import empty, epics
from rollup.views._lint import LintRun
from rollup.views.registry import View

COLUMNS = ["rule", "name", "summary", "severity", "findings", "epics", "teams"]

#: How many rules are listed.
TOP = 5


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, lint: LintRun | None, missing_parents: pd.DataFrame,
) -> pd.DataFrame:
    """The rules with the most findings among the epics in scope."""
    if lint is None or not len(lint.findings) or mapped_issues.empty:
        return empty(COLUMNS)
    missing_keys = missing_parents["missing_key"]
    in_scope = set(epics(mapped_issues)["key"].astype(str)) | set(missing_keys)
    found = lint.findings[lint.findings["key"].astype(str).isin(in_scope)]
    if found.empty:
        return empty(COLUMNS)
    grouped = (found.assign(team_key=found["team_id"].astype("object").fillna(""))
               .groupby("rule", sort=True)
               .agg(severity=("severity", "first"), findings=("key", "size"), epics=("key", "nunique"),
                    teams=("team_key", "nunique"))
               .reset_index()
               .sort_values(["findings", "rule"], ascending=[False, True], kind="stable")
               .head(TOP))
    rules = rule_lookup()
    grouped["name"] = grouped["rule"].map(lambda c: rules[c].name if c in rules else "")
    grouped["summary"] = grouped["rule"].map(lambda c: rules[c].summary if c in rules else "")
    return grouped[COLUMNS].reset_index(drop=True)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("lint_rules", requires=("lint", "missing_parents"), compute=compute)
