"""run_lint's result frames: columns, order, team scores, per-rule counts, links, edge cases."""

from __future__ import annotations

import math

from lint_helpers import config, issue_rows, lint

from rollup.lint import run_lint
from rollup.lint.result import FINDING_COLUMNS, IGNORE_COLUMNS, RULE_COLUMNS, SUPPRESSED_COLUMNS, TEAM_COLUMNS
from rollup.mapping import apply

GOOD = {"assignee": "Ana", "target_date": "2027-01-31", "labels": ["pillar-enterprise", "okr-q4-sso"]}
ISSUES = [
    {"key": "SCH-1", "type": "Epic", **GOOD},                                                  # clean
    {"key": "SCH-10", "type": "Story", "parent": "SCH-1"}, {"key": "SCH-11", "type": "Story", "parent": "SCH-1"},
    {"key": "SCH-12", "type": "Story", "parent": "SCH-1"},
    {"key": "PAY-10", "type": "Epic", "labels": ["pillar-enterprise", "okr-q4-sso"]},          # no owner, no date
    {"key": "PAY-9", "type": "Epic", **{**GOOD, "assignee": None}},                             # no owner
    {"key": "PAY-2", "type": "Epic", **GOOD, "description": "TBD"},                             # short
    {"key": "PAY-20", "type": "Story"}, {"key": "PAY-21", "type": "Bug"},                       # no epic
    {"key": "SCH-30", "type": "Task"},                                                          # no epic
    {"key": "OPS-1", "type": "Epic", **GOOD},                                                   # no team
]
SELECT = {"select": ["EQ010", "EQ020", "EQ030", "EQ040"]}


def run(**kwargs):
    return lint(ISSUES, SELECT, **kwargs)


def test_frames_have_the_contract_columns():
    result = run()
    assert tuple(result.findings.columns) == FINDING_COLUMNS
    assert tuple(result.suppressed.columns) == SUPPRESSED_COLUMNS
    assert tuple(result.ignores.columns) == IGNORE_COLUMNS
    assert tuple(result.teams.columns) == TEAM_COLUMNS
    assert tuple(result.rules.columns) == RULE_COLUMNS
    assert result.epics == 5


def test_findings_are_ordered_by_team_then_severity_rule_and_key_and_carry_the_rule_text():
    result = run(base_url="https://acme.atlassian.net/")
    rows = list(zip(result.findings["team"], result.findings["severity"], result.findings["rule"],
                    result.findings["key"]))
    assert rows[:4] == [("Payments", "error", "EQ010", "PAY-9"), ("Payments", "error", "EQ010", "PAY-10"),
                        ("Payments", "error", "EQ020", "PAY-10"), ("Payments", "warning", "EQ030", "PAY-2")]
    assert rows[-1][0] == "Unassigned" and rows[-1][3] == "OPS-1"
    first = result.findings.iloc[0]
    assert first["link"] == "https://acme.atlassian.net/browse/PAY-9"
    assert first["name"] == "epic-missing-owner" and first["group"] == "ownership"
    assert first["how_to_fix"].startswith("Assign the epic")
    assert first["team_id"] == "payments" and first["issue_id"] > 0 and first["summary"] == "Epic PAY-9"
    assert result.findings.loc[result.findings["key"].eq("OPS-1"), "team_id"].isna().all()
    assert run().findings["link"].isna().all()


def test_team_scores_and_stories_without_epic():
    teams = run().teams.set_index("team")
    assert list(teams.index) == ["Payments", "Scheduling", "Unassigned"]
    pay, sch, none = teams.loc["Payments"], teams.loc["Scheduling"], teams.loc["Unassigned"]
    # Payments: PAY-10, PAY-9, PAY-2 all have findings (and no children: EQ040 on each).
    assert (pay["epics"], pay["clean"], pay["errors"], pay["warnings"], pay["infos"]) == (3, 0, 3, 4, 0)
    assert math.isclose(pay["score"], 0.0) and pay["stories_without_epic"] == 2
    assert (sch["epics"], sch["clean"], sch["score"], sch["stories_without_epic"]) == (1, 1, 1.0, 1)
    assert (none["epics"], none["clean"]) == (1, 0)
    assert run().teams["team_id"].iloc[-1] is None


def test_rules_frame_counts_findings_per_rule_with_effective_severity():
    rules = lint(ISSUES, {**SELECT, "rules": {"EQ030": {"severity": "error"}}}).rules.set_index("rule")
    assert list(rules.index) == ["EQ010", "EQ020", "EQ030", "EQ040"]
    assert rules["findings"].to_dict() == {"EQ010": 2, "EQ020": 1, "EQ030": 1, "EQ040": 4}
    assert rules.loc["EQ030", "severity"] == "error"


def test_no_epics_gives_empty_frames_with_columns():
    result = lint([{"key": "PAY-1", "type": "Story"}])
    assert result.epics == 0 and result.findings.empty
    assert tuple(result.findings.columns) == FINDING_COLUMNS
    assert result.teams.set_index("team").loc["Payments", "stories_without_epic"] == 1
    assert math.isnan(result.teams.set_index("team").loc["Payments", "score"])


def test_stale_without_transitions_uses_the_childrens_last_update():
    issues = [{"key": "PAY-1", "type": "Epic", "status": "indeterminate"},
              {"key": "PAY-10", "type": "Story", "parent": "PAY-1", "updated": "2026-09-01T00:00:00+00:00",
               "status_changes": ["2026-11-20T00:00:00"]}]
    assert lint(issues, {"select": ["EQ052"]}).findings.empty
    stale = lint(issues, {"select": ["EQ052"]}, with_transitions=False).findings
    assert list(stale["key"]) == ["PAY-1"]


def test_run_lint_does_not_change_its_inputs():
    cfg = config(SELECT)
    frame, transitions = issue_rows(ISSUES)
    mapped = apply(frame, cfg)
    before = mapped.issues.copy(deep=True)
    run_lint(mapped, cfg, as_of=__import__("datetime").date(2026, 11, 23), transitions=transitions)
    assert mapped.issues.equals(before)
