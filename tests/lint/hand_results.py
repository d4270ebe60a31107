"""Lint results built by hand, whose every count is worked out below (for the output and history tests).

As of 2026-11-26. Seven epics linted:

| epic  | team        | owner | findings                                    |
|-------|-------------|-------|---------------------------------------------|
| PAY-1 | Payments    | Ana   | EQ001 error, EQ020 error                    |
| PAY-2 | Payments    | Ben   | EQ030 warning                               |
| PAY-3 | Payments    | Ben   | (EQ020 silenced by an active ignore)        |
| PAY-4 | Payments    | Ana   | none (an unused ignore names it)            |
| SCH-1 | Scheduling  | Ana   | EQ001 error (summary is formula-like text)  |
| SCH-2 | Scheduling  | Cy    | none (an expired ignore names it)           |
| MOB-9 | Unassigned  | —     | EQ010 error                                 |

Scores: Payments 2/4 = 0.5, Scheduling 1/2 = 0.5, Unassigned 0/1 = 0; all teams 3/7.
Counts: 5 findings — 4 errors, 1 warning, 0 infos; 1 suppressed; ignores: 1 active, 1 expired, 1 unused.

``week_later()`` is the same organisation on 2026-12-03 after PAY-1 was fixed: Payments 3/4 = 0.75.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from rollup.lint.result import (
    FINDING_COLUMNS,
    IGNORE_COLUMNS,
    RULE_COLUMNS,
    SUPPRESSED_COLUMNS,
    TEAM_COLUMNS,
    LintResult,
)

AS_OF = date(2026, 11, 26)
BASE_URL = "https://example.atlassian.net"
HOSTILE_SUMMARY = '=HYPERLINK("http://evil.example","click")'

RULES = {
    "EQ001": ("epic-missing-pillar", "strategy", "error", "Set a pillar label or component."),
    "EQ010": ("epic-missing-owner", "ownership", "error", "Assign the epic to its PM."),
    "EQ020": ("epic-missing-target-date", "planning", "error", "Set Target end."),
    "EQ030": ("epic-short-description", "description", "warning", "Write why and the success metric."),
}

EPICS = {  # key: (issue id, summary, team id, team, owner, owner id)
    "PAY-1": (101, "Card vault", "pay", "Payments", "Ana", "acc-ana"),
    "PAY-2": (102, "Refunds v2", "pay", "Payments", "Ben", "acc-ben"),
    "PAY-3": (103, "Invoices", "pay", "Payments", "Ben", "acc-ben"),
    "SCH-1": (201, HOSTILE_SUMMARY, "sch", "Scheduling", "Ana", "acc-ana"),
    "MOB-9": (901, "Offline mode", None, "Unassigned", None, None),
}

FINDINGS = [  # (key, rule, message)
    ("PAY-1", "EQ001", "no pillar: no pillar label, component or Investment value, no initiative"),
    ("PAY-1", "EQ020", "no target date (Target end and due date are empty)"),
    ("PAY-2", "EQ030", "description has 4 words; at least 20 expected"),
    ("SCH-1", "EQ001", "no pillar: no pillar label, component or Investment value, no initiative"),
    ("MOB-9", "EQ010", "no owner: the epic is unassigned"),
]


def finding(key: str, rule: str, message: str) -> dict:
    issue_id, summary, team_id, team, owner, owner_id = EPICS[key]
    name, group, severity, fix = RULES[rule]
    return {"key": key, "issue_id": issue_id, "summary": summary, "team_id": team_id, "team": team,
            "owner": owner, "owner_id": owner_id, "rule": rule, "name": name, "group": group,
            "severity": severity, "message": message, "how_to_fix": fix, "link": f"{BASE_URL}/browse/{key}"}


def teams(pay_clean: int = 2) -> pd.DataFrame:
    rows = [
        ("pay", "Payments", 4, pay_clean, pay_clean / 4, 0, 1, 0, 2),  # errors: counted below
        ("sch", "Scheduling", 2, 1, 0.5, 1, 0, 0, 0),
        (None, "Unassigned", 1, 0, 0.0, 1, 0, 0, 5),
    ]
    return pd.DataFrame(rows, columns=list(TEAM_COLUMNS))


def rules(findings: pd.DataFrame) -> pd.DataFrame:
    counts = findings["rule"].value_counts()
    rows = [(code, name, group, severity, int(counts.get(code, 0)))
            for code, (name, group, severity, _fix) in sorted(RULES.items())]
    return pd.DataFrame(rows, columns=list(RULE_COLUMNS))


def make_result(*, as_of: date = AS_OF, fixed: tuple[str, ...] = ()) -> LintResult:
    """The result described in the module docstring; ``fixed`` epics lose their findings."""
    findings = pd.DataFrame([finding(*f) for f in FINDINGS if f[0] not in fixed], columns=list(FINDING_COLUMNS))
    suppressed = pd.DataFrame(
        [{**finding("PAY-3", "EQ020", "no target date (Target end and due date are empty)"),
          "ignore_reason": "Date set at the January planning", "ignore_source": "mappings.yaml:88",
          "ignore_expires": date(2027, 1, 31)}],
        columns=list(SUPPRESSED_COLUMNS))
    ignores = pd.DataFrame([
        ("PAY-3", "EQ020", "Date set at the January planning", date(2027, 1, 31), "mappings.yaml:88", "active"),
        ("SCH-2", "EQ030", "Spec lives in Confluence", date(2026, 11, 1), "mappings.yaml:92", "expired"),
        ("PAY-4", "EQ001", "Pillar decided in Q1", date(2027, 3, 31), "label lint-ignore-EQ001", "unused"),
    ], columns=list(IGNORE_COLUMNS))
    pay_clean = 2 + (1 if "PAY-1" in fixed else 0)
    team_frame = teams(pay_clean)
    team_frame.loc[0, "errors"] = int(((findings["team_id"] == "pay") & (findings["severity"] == "error")).sum())
    return LintResult(as_of=as_of, findings=findings, suppressed=suppressed, ignores=ignores, teams=team_frame,
                      rules=rules(findings), epics=7)


def week_later() -> LintResult:
    """2026-12-03, PAY-1 fixed: Payments 3 of 4 clean."""
    return make_result(as_of=date(2026, 12, 3), fixed=("PAY-1",))
