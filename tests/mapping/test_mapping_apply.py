"""The mapping engine on small hand-built frames: each route of provenance, each kind of test."""

from __future__ import annotations

import pandas as pd
import pytest
from mapping_helpers import frame, issue

from rollup.config import parse_config
from rollup.mapping import apply

HEAD = """\
jira:
  projects: [STRAT, PAY, SCH]
  extra_fields: [Investment]
pillars:
  - {id: enterprise, name: Enterprise, target_share: 60%}
  - {id: platform, name: Platform, target_share: 40%}
okrs:
  - id: q4-hospitals
    objective: Land 5 hospital systems
    quarter: 2026-Q4
    pillar: enterprise
    key_results:
      - {id: hl7, name: HL7 certified, target: 1}
      - {id: sso, name: SSO GA, target: 1}
buckets:
  - {id: new, name: New capability, treatment: capex}
  - {id: defects, name: Defects and support, treatment: opex}
teams:
  - {id: payments, name: Payments, recognised_by: {team_field: [Payments], projects: [PAY]}}
  - {id: scheduling, name: Scheduling, recognised_by: {boards: [SCH], components: [Calendar]}}
"""


def config(rules: str):
    return parse_config(HEAD + "rules:\n" + rules, source="mappings.yaml")


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle`` in HEAD + rules."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def by_key(mapped, column):
    return dict(zip(mapped.issues["key"], mapped.issues[column].astype(object)))


def nan_to_none(d):
    return {k: (None if pd.isna(v) else v) for k, v in d.items()}


RULES = """\
  - id: pillar-label-enterprise
    priority: 10
    when: {labels: [pillar-enterprise]}
    set: {pillar: enterprise}
  - id: pillar-component-platform
    priority: 10
    when: {components: [Reliability]}
    set: {pillar: platform}
  - id: bugs
    priority: 10
    when: {issue_type: Bug}
    set: {bucket: defects}
  - id: fallback-platform
    when: {labels: [pillar-enterprise, fallback]}
    set: {pillar: platform}
  - id: new-under-enterprise
    when: {issue_type: [Epic], initiative: {labels: [pillar-enterprise]}}
    set: {bucket: new}
"""

HIERARCHY = frame(
    issue("STRAT-1", "Initiative", labels=["pillar-enterprise"]),
    issue("PAY-1", "Epic", parent_key="STRAT-1"),                       # inherits pillar from STRAT-1
    issue("PAY-2", "Epic", labels=["pillar-enterprise"]),               # own rule
    issue("PAY-3", "Story", epic_key="PAY-1", parent_key="PAY-1"),      # epic inherited: origin is STRAT-1
    issue("PAY-4", "Bug", parent_key="PAY-2"),                          # Cloud: parent is the epic
    issue("PAY-5", "Sub-task", parent_key="PAY-4"),                     # from its parent bug
    issue("PAY-6", "Story"),                                            # orphan: unmapped
    issue("PAY-7", "Epic", labels=["pillar-enterprise"], components=["Reliability"]),  # conflict
    issue("PAY-8", "Story", epic_key="PAY-404"),                        # dangling epic link
)


def test_provenance_for_each_route():
    mapped = apply(HIERARCHY, config(RULES))
    text = HEAD + "rules:\n" + RULES
    label_rule = f"rule pillar-label-enterprise (mappings.yaml:{line_of(text, 'id: pillar-label-enterprise')})"
    source = by_key(mapped, "pillar_source")
    assert source == {
        "STRAT-1": label_rule,
        "PAY-1": "inherited from STRAT-1",
        "PAY-2": label_rule,
        "PAY-3": "inherited from STRAT-1",
        "PAY-4": "inherited from PAY-2",
        "PAY-5": "inherited from PAY-2",
        "PAY-6": "unmapped",
        "PAY-7": label_rule,
        "PAY-8": "unmapped",
    }
    assert nan_to_none(by_key(mapped, "pillar")) == {
        "STRAT-1": "enterprise", "PAY-1": "enterprise", "PAY-2": "enterprise", "PAY-3": "enterprise",
        "PAY-4": "enterprise", "PAY-5": "enterprise", "PAY-6": None, "PAY-7": "enterprise", "PAY-8": None,
    }
    bucket = by_key(mapped, "bucket_source")
    assert bucket["PAY-4"].startswith("rule bugs (mappings.yaml:")  # a rule on the issue beats inheritance
    assert bucket["PAY-5"] == "inherited from PAY-4"
    assert bucket["PAY-1"].startswith("rule new-under-enterprise")
    assert bucket["PAY-3"] == "inherited from PAY-1"


def test_conflicts_are_listed_not_silently_resolved():
    mapped = apply(HIERARCHY, config(RULES))
    conflicts = mapped.conflicts
    assert len(conflicts) == 1
    row = conflicts.iloc[0]
    assert (row["key"], row["attribute"], row["value"], row["conflicting_value"]) == \
        ("PAY-7", "pillar", "enterprise", "platform")
    assert row["rule"].startswith("rule pillar-label-enterprise (mappings.yaml:")
    assert row["conflicting_rule"].startswith("rule pillar-component-platform (mappings.yaml:")


def test_first_match_wins_and_lower_priority_is_a_silent_fallback():
    mapped = apply(HIERARCHY, config(RULES))
    # fallback-platform (priority 0) also matches PAY-2 and STRAT-1 but never overrides nor conflicts.
    assert by_key(mapped, "pillar")["PAY-2"] == "enterprise"
    assert not (mapped.conflicts["conflicting_rule"].str.contains("fallback")).any()
    stats = mapped.rules.set_index("rule")
    assert stats.loc["fallback-platform", "matched"] == 3  # STRAT-1, PAY-2, PAY-7
    assert stats.loc["fallback-platform", "decided"] == 0
    same_order = config("""\
  - {id: first, when: {labels: [x]}, set: {pillar: platform}}
  - {id: second, when: {labels: [x]}, set: {pillar: platform}}
  - {id: third, when: {labels: [x]}, set: {pillar: enterprise}}
""")
    mapped = apply(frame(issue("PAY-1", "Epic", labels=["x"])), same_order)
    assert by_key(mapped, "pillar_source")["PAY-1"].startswith("rule first ")
    assert mapped.conflicts["conflicting_rule"].str.startswith("rule third ").tolist() == [True]


def test_higher_priority_later_in_the_file_runs_first():
    rules = config("""\
  - {id: early, when: {labels: [x]}, set: {pillar: platform}}
  - {id: late, priority: 5, when: {labels: [x]}, set: {pillar: enterprise}}
""")
    mapped = apply(frame(issue("PAY-1", "Epic", labels=["x"])), rules)
    assert by_key(mapped, "pillar")["PAY-1"] == "enterprise"
    assert mapped.conflicts.empty
    assert mapped.rules["rule"].tolist()[:2] == ["late", "early"]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{labels: {any: [a, b]}}", {"PAY-1", "PAY-2", "PAY-3"}),
        ("{labels: {all: [a, b]}}", {"PAY-2"}),
        ("{labels: {any: [a], none: [b]}}", {"PAY-1"}),
        ("{labels: [c]}", {"PAY-3"}),
        ("{components: [Reliability]}", {"PAY-2"}),
        ("{components: {all: [Reliability, Audit]}}", set()),
        ("{field: {name: Investment, equals: Win enterprise hospitals}}", {"PAY-1"}),
        ("{field: {name: Investment, in: [Win enterprise hospitals, Grow new practices]}}", {"PAY-1", "PAY-3"}),
        ("{field: {name: Investment, regex: '^(Grow|Platform)'}}", {"PAY-3", "SCH-1"}),
        ("{issue_type: [Bug, Task]}", {"SCH-2"}),
        ("{project: SCH}", {"SCH-1", "SCH-2"}),
        ("{project: [PAY], labels: [a]}", {"PAY-1", "PAY-2"}),
        ("{initiative: {keys: [STRAT-1]}}", {"PAY-1", "PAY-2", "SCH-2"}),
        ("{initiative: {labels: [pillar-platform]}}", {"SCH-1"}),
        ("{}", {"STRAT-1", "STRAT-2", "PAY-1", "PAY-2", "PAY-3", "SCH-1", "SCH-2"}),
    ],
)
def test_each_kind_of_test(when, expected):
    issues = frame(
        issue("STRAT-1", "Initiative", labels=["pillar-enterprise"]),
        issue("STRAT-2", "Initiative", labels=["pillar-platform"]),
        issue("PAY-1", "Epic", parent_key="STRAT-1", labels=["a"], custom={"Investment": "Win enterprise hospitals"}),
        issue("PAY-2", "Epic", parent_key="STRAT-1", labels=["a", "b"], components=["Reliability"]),
        issue("PAY-3", "Epic", labels=["b", "c"], custom={"Investment": "Grow new practices"}),
        issue("SCH-1", "Epic", parent_key="STRAT-2", custom={"Investment": "Platform reliability and compliance"}),
        issue("SCH-2", "Bug", parent_key="PAY-1"),
    )
    mapped = apply(issues, config(f"  - {{id: r, when: {when}, set: {{okr: q4-hospitals}}}}\n"))
    direct = mapped.issues[mapped.issues["okr_source"].astype(str).str.startswith("rule r ")]
    assert set(direct["key"]) == expected


def test_teams_by_team_field_project_component_and_board():
    issues = frame(
        issue("PAY-1", "Epic"),
        issue("SCH-1", "Story", team="Payments"),
        issue("SCH-2", "Story", sprint="SCH Sprint 4"),
        issue("SCH-3", "Story", components=["Calendar"]),
        issue("SCH-4", "Story"),
        issue("SCH-5", "Story", parent_key="PAY-1"),
    )
    mapped = apply(issues, config("  - {id: r, when: {labels: [never]}, set: {team: scheduling}}\n"))
    team = nan_to_none(by_key(mapped, "team_id"))
    assert team == {"PAY-1": "payments", "SCH-1": "payments", "SCH-2": "scheduling", "SCH-3": "scheduling",
                    "SCH-4": None, "SCH-5": "payments"}
    source = by_key(mapped, "team_id_source")
    assert source["SCH-1"].startswith("rule team:payments (mappings.yaml:")
    assert source["SCH-5"] == "inherited from PAY-1"


def test_a_rule_setting_team_beats_recognition():
    issues = frame(issue("PAY-1", "Epic", labels=["sched"]))
    mapped = apply(issues, config("  - {id: r, when: {labels: [sched]}, set: {team: scheduling}}\n"))
    assert by_key(mapped, "team_id")["PAY-1"] == "scheduling"


def test_columns_types_and_hierarchy_keys():
    mapped = apply(HIERARCHY, config(RULES))
    out = mapped.issues
    assert list(out["pillar"].cat.categories) == ["enterprise", "platform"] and out["pillar"].cat.ordered
    assert list(out["bucket"].cat.categories) == ["new", "defects"] and out["bucket"].cat.ordered
    assert list(out["key_result"].cat.categories) == ["hl7", "sso"]
    assert nan_to_none(by_key(mapped, "epic")) == {
        "STRAT-1": None, "PAY-1": "PAY-1", "PAY-2": "PAY-2", "PAY-3": "PAY-1", "PAY-4": "PAY-2",
        "PAY-5": "PAY-2", "PAY-6": None, "PAY-7": "PAY-7", "PAY-8": None}
    assert nan_to_none(by_key(mapped, "initiative")) == {
        "STRAT-1": "STRAT-1", "PAY-1": "STRAT-1", "PAY-2": None, "PAY-3": "STRAT-1", "PAY-4": None,
        "PAY-5": None, "PAY-6": None, "PAY-7": None, "PAY-8": None}
    assert len(out) == len(HIERARCHY) and list(out.columns[: len(HIERARCHY.columns)]) == list(HIERARCHY.columns)


def test_key_results_are_set_with_their_okr():
    mapped = apply(frame(issue("PAY-1", "Epic", labels=["okr-hl7"]), issue("PAY-2", "Story", epic_key="PAY-1")),
                   config("  - {id: r, when: {labels: [okr-hl7]}, set: {okr: q4-hospitals, key_result: hl7}}\n"))
    assert by_key(mapped, "key_result") == {"PAY-1": "hl7", "PAY-2": "hl7"}
    assert by_key(mapped, "okr_source")["PAY-2"] == "inherited from PAY-1"


def test_empty_frame():
    mapped = apply(frame(), config(RULES))
    assert mapped.issues.empty and "pillar_source" in mapped.issues.columns
    assert mapped.conflicts.empty
