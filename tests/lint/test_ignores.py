"""Ignores: config entries with a reason and an expiry, Jira labels; expired and unused ones reported."""

from __future__ import annotations

from datetime import date

from lint_helpers import lint

ISSUES = [
    {"key": "PAY-1", "type": "Epic", "assignee": "Ana"},                            # no target date
    {"key": "PAY-2", "type": "Epic", "assignee": "Ana"},                            # no target date
    {"key": "PAY-3", "type": "Epic", "assignee": "Ana"},                            # no target date
    {"key": "PAY-4", "type": "Epic", "assignee": "Ana", "labels": ["lint-ignore-EQ020"]},  # no target date
    {"key": "PAY-5", "type": "Epic", "labels": ["lint-ignore-epic-missing-owner"],  # no owner
     "target_date": "2027-01-31"},
    {"key": "PAY-6", "type": "Epic", "assignee": "Ana", "target_date": "2027-01-31"},
]


def ignores(*entries):
    return {"select": ["EQ020", "EQ010"], "ignores": list(entries)}


def test_config_ignore_with_reason_silences_and_is_active():
    result = lint(ISSUES, ignores({"epic": "PAY-1", "rule": "EQ020", "reason": "Date set at the Q1 re-plan",
                                   "expires": date(2026, 12, 31)}))
    target = result.findings[result.findings["rule"].eq("EQ020")]
    assert sorted(target["key"]) == ["PAY-2", "PAY-3"]
    row = result.suppressed.set_index("key").loc["PAY-1"]
    assert row["rule"] == "EQ020" and row["ignore_reason"] == "Date set at the Q1 re-plan"
    assert row["ignore_source"].startswith("case.yaml:") and int(row["ignore_source"].split(":")[1]) > 0
    config_row = result.ignores[result.ignores["key"].eq("PAY-1")].iloc[0]
    assert config_row["status"] == "active" and config_row["expires"] == date(2026, 12, 31)


def test_ignore_by_rule_name_and_on_its_last_day_still_holds():
    result = lint(ISSUES, ignores({"epic": "PAY-2", "rule": "epic-missing-target-date", "reason": "r",
                                   "expires": date(2026, 11, 23)}))
    assert "PAY-2" not in set(result.findings.loc[result.findings["rule"].eq("EQ020"), "key"])
    assert result.ignores.set_index("key").loc["PAY-2", "status"] == "active"


def test_expired_ignore_shows_the_finding_again_and_is_reported():
    result = lint(ISSUES, ignores({"epic": "PAY-3", "rule": "EQ020", "reason": "until November",
                                   "expires": date(2026, 11, 22)}))
    assert "PAY-3" in set(result.findings.loc[result.findings["rule"].eq("EQ020"), "key"])
    assert "PAY-3" not in set(result.suppressed["key"])
    assert result.ignores.set_index("key").loc["PAY-3", "status"] == "expired"


def test_unused_ignore_is_reported():
    result = lint(ISSUES, ignores({"epic": "PAY-6", "rule": "EQ020", "reason": "has a date now",
                                   "expires": date(2027, 6, 30)},
                                  {"epic": "PAY-99", "rule": "EQ020", "reason": "gone",
                                   "expires": date(2027, 6, 30)}))
    status = result.ignores.set_index("key")["status"]
    assert status["PAY-6"] == "unused" and status["PAY-99"] == "unused"


def test_ignore_of_a_rule_that_did_not_run_says_so():
    section = ignores({"epic": "PAY-1", "rule": "EQ030", "reason": "r", "expires": date(2027, 1, 1)})
    result = lint(ISSUES, section)
    assert result.ignores.set_index("key").loc["PAY-1", "status"] == "rule-not-run"


def test_label_ignore_by_code_and_by_name():
    result = lint(ISSUES, ignores())
    assert "PAY-4" not in set(result.findings["key"])
    assert "PAY-5" not in set(result.findings["key"])  # no owner, silenced by name
    suppressed = result.suppressed.set_index("key")
    assert suppressed.loc["PAY-4", "rule"] == "EQ020"
    assert suppressed.loc["PAY-4", "ignore_source"] == "label lint-ignore-EQ020"
    assert suppressed.loc["PAY-5", "rule"] == "EQ010"
    labels = result.ignores[result.ignores["source"].str.startswith("label ")].set_index("key")
    assert labels.loc["PAY-4", "status"] == "active" and labels.loc["PAY-5", "status"] == "active"


def test_label_prefix_is_configurable():
    issues = [{"key": "PAY-1", "type": "Epic", "labels": ["Hygiene-Skip-eq020", "lint-ignore-EQ020"]},
              {"key": "PAY-2", "type": "Epic", "target_date": "2027-01-31"}]
    result = lint(issues, {"select": ["EQ020"], "ignore_label_prefix": "hygiene-skip-"})
    assert result.findings.empty
    assert list(result.suppressed["ignore_source"]) == ["label Hygiene-Skip-eq020"]
    assert list(result.ignores["status"]) == ["active"]  # the default prefix is no longer read


def test_suppressed_epics_do_not_count_against_the_team_score():
    result = lint(ISSUES, ignores({"epic": "PAY-1", "rule": "EQ020", "reason": "r",
                                   "expires": date(2027, 1, 1)}))
    payments = result.teams.set_index("team").loc["Payments"]
    # PAY-2 and PAY-3 keep their finding; PAY-1 (config), PAY-4 and PAY-5 (labels) are silenced.
    assert payments["epics"] == 6 and payments["clean"] == 4
    assert payments["errors"] == 2
