"""What a lint run produces: plain frames with fixed columns, shared by the engine, the writers,
the run history and write-back.

``findings`` (one row per epic × rule that fired and is not ignored), ordered by team, severity
(error first), rule code, key:

=================  ==============================================================================
``key``            the epic's key; ``issue_id`` its Jira id
``summary``        the epic's summary
``team_id``        mapped team id (``None`` when unmapped); ``team`` its name (``Unassigned``)
``owner``          the owner's display name (``None`` when there is none); ``owner_id`` the account
``rule``           the rule code, e.g. ``EQ001``; ``name`` its kebab-case name; ``group`` its first group
``severity``       ``error`` / ``warning`` / ``info`` (after the config's overrides)
``message``        what is wrong with this epic, in words (names dates, counts, thresholds)
``how_to_fix``     the rule's "How to fix" text
``link``           ``<base url>/browse/<key>`` (``None`` without a base URL)
=================  ==============================================================================

``suppressed``: findings silenced by an ignore — the finding columns plus ``ignore_reason``,
``ignore_source`` (``mappings.yaml:<line>`` or ``label lint-ignore-EQ005``) and ``ignore_expires``.

``ignores``: every declared ignore with its ``status`` — ``active`` (it silenced a finding),
``unused`` (nothing to silence), ``expired`` (past its ``expires`` date; the finding shows again) or
``rule-not-run`` (its rule was not selected in this run). Label ignores have ``expires`` None.

``teams``: one row per team (``Unassigned`` last) — ``epics`` linted, ``clean`` (epics with no
finding), ``score`` (clean / epics, NaN without epics), finding counts per severity and
``stories_without_epic`` (story-level issues of the team with no epic).

``rules``: one row per rule that ran — ``rule``, ``name``, ``group``, ``severity``, ``findings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

SEVERITIES = ("error", "warning", "info")
#: Severity → rank: lower is more severe.
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
#: The team name shown for epics with no mapped team.
UNASSIGNED = "Unassigned"

FINDING_COLUMNS = ("key", "issue_id", "summary", "team_id", "team", "owner", "owner_id", "rule", "name", "group",
                   "severity", "message", "how_to_fix", "link")
SUPPRESSED_COLUMNS = FINDING_COLUMNS + ("ignore_reason", "ignore_source", "ignore_expires")
IGNORE_COLUMNS = ("key", "rule", "reason", "expires", "source", "status")
TEAM_COLUMNS = ("team_id", "team", "epics", "clean", "score", "errors", "warnings", "infos", "stories_without_epic")
RULE_COLUMNS = ("rule", "name", "group", "severity", "findings")


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    """A frame with ``columns`` and no rows."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


@dataclass
class LintResult:
    """The outcome of :func:`rollup.lint.run_lint` (pure: nothing is read or written)."""

    as_of: date
    findings: pd.DataFrame
    suppressed: pd.DataFrame = field(default_factory=lambda: empty_frame(SUPPRESSED_COLUMNS))
    ignores: pd.DataFrame = field(default_factory=lambda: empty_frame(IGNORE_COLUMNS))
    teams: pd.DataFrame = field(default_factory=lambda: empty_frame(TEAM_COLUMNS))
    rules: pd.DataFrame = field(default_factory=lambda: empty_frame(RULE_COLUMNS))
    #: Epics linted.
    epics: int = 0

    def flagged_epics(self) -> int:
        """Epics in the store with at least one finding (a finding about an epic that is not visible —
        rule EQ055, no ``issue_id`` — is about no epic that was linted)."""
        if not len(self.findings):
            return 0
        return int(self.findings.loc[self.findings["issue_id"].notna(), "key"].nunique())

    def count(self, severity: str) -> int:
        """Findings of exactly this severity."""
        return int(self.findings["severity"].eq(severity).sum()) if len(self.findings) else 0

    def at_or_above(self, severity: str) -> int:
        """Findings at ``severity`` or more severe (what ``--fail-on`` compares)."""
        if not len(self.findings):
            return 0
        rank = SEVERITY_RANK[severity]
        return int(self.findings["severity"].map(SEVERITY_RANK).le(rank).sum())
