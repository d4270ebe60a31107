"""The ``lint:`` section: selection, severities, thresholds, validation of names.

Bad files: tests/mapping/bad/lint-*.
"""

from __future__ import annotations

import pytest
from lint_helpers import config, lint

from rollup.errors import ConfigError
from rollup.lint import all_rules, selected_rules

EPICS = [
    {"key": "PAY-1", "type": "Epic", "status": "indeterminate", "start_date": "2026-01-05",
     "target_date": "2026-12-20"},                                     # 50 weeks: too long; no owner
    {"key": "PAY-2", "type": "Epic", "assignee": "Ana", "target_date": "2027-01-31"},
]


def codes(lint_section=None, select=None):
    return [r.code for r in selected_rules(config(lint_section).lint, select)]


def test_shipped_file_runs_every_rule_with_the_documented_defaults(shipped_config):
    rules = selected_rules(shipped_config.lint)
    assert [r.code for r in rules] == [r.code for r in all_rules()]
    for rule in rules:
        assert rule.settings == type(rule).config_keys, rule.code  # the file writes the defaults out
        assert rule.severity == type(rule).severity
    assert shipped_config.lint.require_initiative is True
    assert shipped_config.lint.ignore_label_prefix == "lint-ignore-"


def test_select_and_ignore_by_code_name_and_group():
    assert codes({"select": ["ownership"]}) == ["EQ010", "EQ011"]
    assert codes({"select": ["EQ020", "epic-stale"]}) == ["EQ020", "EQ052"]
    everything = codes()
    assert "EQ041" not in codes({"ignore": ["size"]}) and "EQ023" not in codes({"ignore": ["size"]})
    assert codes({"ignore": ["epic-not-updated"]}) == [c for c in everything if c != "EQ053"]
    assert codes({"select": ["ALL"], "ignore": ["ALL"]}) == []


def test_cli_select_narrows_the_configured_selection():
    assert codes({"select": ["planning"]}, select=["EQ020", "EQ010"]) == ["EQ020"]
    assert codes(None, select=["ownership"]) == ["EQ010", "EQ011"]


def test_unknown_cli_select_is_bad_input_with_a_suggestion():
    with pytest.raises(ConfigError) as caught:
        codes(None, select=["epic-stal"])
    assert "--select: unknown rule or group 'epic-stal'; did you mean 'epic-stale'?" in str(caught.value)
    assert caught.value.exit_code == 2


def test_thresholds_and_severity_from_config_change_the_findings():
    default = lint(EPICS, {"select": ["EQ023", "EQ010"]}).findings.set_index("rule")
    assert default.loc["EQ023", "severity"] == "info" and default.loc["EQ010", "severity"] == "error"
    assert "limit 26 weeks, 3 quarters" in default.loc["EQ023", "message"]
    changed = lint(EPICS, {"select": ["EQ023", "EQ010"],
                           "rules": {"EQ023": {"weeks": 60, "quarters": 4},
                                     "epic-missing-owner": {"severity": "warning"}}}).findings
    assert list(changed["rule"]) == ["EQ010"] and list(changed["severity"]) == ["warning"]
    assert lint(EPICS, {"select": ["EQ010"]}).at_or_above("error") == 1
    assert lint(EPICS, {"select": ["EQ010"], "rules": {"EQ010": {"severity": "info"}}}).at_or_above("warning") == 0


def test_owner_field_names_the_owner_and_its_activity_comes_from_the_assignees():
    issues = [
        {"key": "PAY-1", "type": "Epic", "assignee": "Ana", "custom": {"Product owner": "Lars"}},
        {"key": "PAY-2", "type": "Epic", "assignee": "Lars", "assignee_active": False},
        {"key": "PAY-3", "type": "Epic", "assignee": "Ana", "custom": {"Product owner": "Nobody known"}},
    ]
    result = lint(issues, {"select": ["ownership"], "owner_field": "Product owner"})
    found = result.findings.set_index("key")
    assert sorted(found.index) == ["PAY-1", "PAY-2"]
    assert found.loc["PAY-1", "owner"] == "Lars" and found.loc["PAY-1", "rule"] == "EQ011"


def test_threshold_of_the_wrong_type_is_refused():
    with pytest.raises(ConfigError, match=r"'lint.rules.EQ041.min_points': expected a number, got 'few'"):
        config({"rules": {"EQ041": {"min_points": "few"}}})
    with pytest.raises(ConfigError, match=r"expected 0 or more, got -1"):
        config({"rules": {"epic-stale": {"days": -1}}})
    with pytest.raises(ConfigError, match=r"expected a list of strings"):
        config({"rules": {"EQ006": {"label_patterns": [1, 2]}}})


@pytest.mark.parametrize("value, problem", [
    (0.0, None), (0.5, None), (1, None),
    (50, "expected a number from 0 to 1 (a share: write 0.5 for 50 %), got 50"),
    (1.5, "expected a number from 0 to 1 (a share: write 0.5 for 50 %), got 1.5"),
    (-0.1, "expected 0 or more, got -0.1"),
])
def test_a_share_threshold_must_be_a_fraction(value, problem):
    """``max_share: 50`` (meaning 50 %) would silently never match: it is refused with a hint."""
    section = {"rules": {"epic-unestimated-children": {"max_share": value}}}
    if problem is None:
        [rule] = selected_rules(config(section).lint, ["EQ042"])
        assert rule.settings["max_share"] == value
        return
    with pytest.raises(ConfigError) as caught:
        config(section)
    assert f"case.yaml, line 42: 'lint.rules.epic-unestimated-children.max_share': {problem}" in str(caught.value)
    assert caught.value.exit_code == 2
