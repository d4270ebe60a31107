"""Lint findings as the views read them: :class:`LintRun` and the helpers over its findings.

The report hands the views one :class:`LintRun` (``lint``: the stored run of the report's
as-of date, or a run made with the report) and, when there is one, an earlier run
(``lint_previous``). Nothing here reads the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from rollup.lint.result import SEVERITY_RANK

#: Columns a :class:`LintRun`'s findings must have.
FINDING_COLUMNS = ("key", "issue_id", "team_id", "rule", "severity", "message")


@dataclass(frozen=True)
class LintRun:
    """Lint findings the portfolio reads: a run recorded by ``rollup lint``, or one made with the report.

    ``findings`` has :data:`FINDING_COLUMNS` (a finding about an issue the store does not hold — an epic
    that is not visible — has no ``issue_id`` and never makes a visible epic fail). ``teams`` (team_id,
    epics) is how many epics each team had when the run was made; it is needed for an earlier run,
    whose epics may differ from today's.
    """

    label: str
    as_of: date
    findings: pd.DataFrame
    teams: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["team_id", "epics"]))


def definition(min_severity: str) -> str:
    """The hygiene definition in words, for every sheet that shows the score."""
    if min_severity == "info":
        return "share of epics with no lint finding"
    if min_severity == "warning":
        return "share of epics with no lint warning or error"
    return "share of epics with no lint error"


def failing(lint: LintRun | None, min_severity: str) -> pd.DataFrame:
    """Per epic key with a finding at or above ``min_severity``: ``findings`` (count) and ``rules`` (codes)."""
    counted = at_or_above(lint.findings, min_severity) if lint is not None else None
    if counted is None or not len(counted):
        return pd.DataFrame({"findings": pd.Series(dtype="int64"), "rules": pd.Series(dtype="object")},
                            index=pd.Index([], dtype="object", name="key"))
    pairs = pd.DataFrame({"key": counted["key"].astype(str).to_numpy(), "rule": counted["rule"].astype(str).to_numpy()})
    findings = pairs.groupby("key", sort=True).size().rename("findings")
    rules = (pairs.drop_duplicates().sort_values(["key", "rule"], kind="stable")
             .groupby("key", sort=True)["rule"].agg(", ".join).rename("rules"))
    return pd.concat([findings, rules], axis=1).rename_axis("key")


def at_or_above(findings: pd.DataFrame, min_severity: str) -> pd.DataFrame:
    """The findings about visible issues (with an ``issue_id``) at ``min_severity`` or more severe."""
    if not len(findings):
        return findings
    rank = findings["severity"].map(SEVERITY_RANK)
    return findings[rank.le(SEVERITY_RANK[min_severity]) & findings["issue_id"].notna()]


__all__ = ["LintRun", "FINDING_COLUMNS", "definition", "failing", "at_or_above"]
