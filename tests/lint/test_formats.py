"""Lint output formats: text for people, JSON and CSV for machines, and the rule reference."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace as NS

import pytest
from hand_results import BASE_URL, HOSTILE_SUMMARY, make_result

from rollup.lint.formats import format_csv, format_json, format_text, render, render_rules, rule_frame
from rollup.lint.result import FINDING_COLUMNS


def test_json_has_summary_counts_findings_teams_and_ignores():
    doc = json.loads(format_json(make_result(), run_id=12))
    assert doc["as_of"] == "2026-11-26" and doc["epics"] == 7 and doc["run_id"] == 12
    assert doc["summary"] == {"epics": 7, "findings": 5, "errors": 4, "warnings": 1, "infos": 0, "suppressed": 1,
                              "clean": 3, "score": pytest.approx(3 / 7), "ignores_expired": 1, "ignores_unused": 1}
    assert [(f["key"], f["rule"]) for f in doc["findings"]][:2] == [("PAY-1", "EQ001"), ("PAY-1", "EQ020")]
    mob = next(f for f in doc["findings"] if f["key"] == "MOB-9")
    assert mob["team_id"] is None and mob["owner"] is None and mob["link"] == f"{BASE_URL}/browse/MOB-9"
    assert {t["team"]: t["score"] for t in doc["teams"]} == {"Payments": 0.5, "Scheduling": 0.5, "Unassigned": 0.0}
    assert {(i["key"], i["status"], i["expires"]) for i in doc["ignores"]} == {
        ("PAY-3", "active", "2027-01-31"), ("SCH-2", "expired", "2026-11-01"), ("PAY-4", "unused", "2027-03-31")}
    assert doc["suppressed"][0]["ignore_source"] == "mappings.yaml:88"
    assert {r["rule"]: r["findings"] for r in doc["rules"]} == {"EQ001": 2, "EQ010": 1, "EQ020": 1, "EQ030": 1}


def test_json_of_a_clean_run_has_empty_lists_and_a_full_score():
    result = make_result(fixed=("PAY-1", "PAY-2", "SCH-1", "MOB-9"))
    doc = json.loads(render(result, "json"))
    assert doc["findings"] == [] and doc["summary"]["findings"] == 0
    assert doc["summary"]["clean"] == 7 and doc["summary"]["score"] == 1.0


def test_csv_has_one_row_per_finding_and_no_formula():
    rows = list(csv.DictReader(io.StringIO(format_csv(make_result()))))
    assert len(rows) == 5
    assert list(rows[0].keys()) == list(FINDING_COLUMNS)
    sch = next(r for r in rows if r["key"] == "SCH-1")
    assert sch["summary"] == "'" + HOSTILE_SUMMARY  # opened in a spreadsheet it stays text
    assert sch["severity"] == "error" and sch["issue_id"] == "201"
    mob = next(r for r in rows if r["key"] == "MOB-9")
    assert mob["owner"] == "" and mob["team_id"] == ""
    assert format_csv(make_result(fixed=("PAY-1", "PAY-2", "SCH-1", "MOB-9"))).splitlines() == [
        ",".join(FINDING_COLUMNS)]


def test_text_groups_by_team_then_epic_with_fix_and_link():
    text = format_text(make_result())
    lines = text.splitlines()
    assert lines[0].startswith("Epic-quality lint as of 2026-11-26: 7 epics, 3 clean (score 43%); 5 findings: "
                               "4 errors, 1 warnings, 0 infos; 1 ignored.")
    headers = [line for line in lines if line.startswith("== ")]
    assert headers == ["== Payments: 2 epics, 3 findings", "== Scheduling: 1 epics, 1 findings",
                       "== Unassigned: 1 epics, 1 findings"]
    pay = lines[lines.index(headers[0]) + 1:lines.index(headers[1])]
    assert pay[0] == "PAY-1  Card vault  (owner: Ana)"
    assert pay[1] == f"  {BASE_URL}/browse/PAY-1"
    assert pay[2].split()[:3] == ["error", "EQ001", "epic-missing-pillar:"]
    assert pay[3].strip() == "fix: Set a pillar label or component."
    assert any(line.startswith("PAY-2  Refunds v2  (owner: Ben)") for line in pay)
    assert "MOB-9  Offline mode  (owner: no owner)" in lines
    assert "  Payments: 50% (2 of 4 epics clean; 2 errors, 1 warnings, 0 infos; 2 stories without an epic)" in lines
    review = lines[lines.index("Ignores to review:") + 1:]
    assert [line.split()[:3] for line in review] == [["expired:", "SCH-2", "EQ030"], ["unused:", "PAY-4", "EQ001"]]
    assert "\x1b[" not in text  # plain text, no terminal styling


def test_text_of_a_clean_run_says_so():
    text = format_text(make_result(fixed=("PAY-1", "PAY-2", "SCH-1", "MOB-9")))
    assert "No findings." in text.splitlines()


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown lint output format 'xml'"):
        render(make_result(), "xml")


RULES = [
    NS(code="EQ001", name="epic-missing-pillar", groups=("strategy",), severity="error", config_keys={},
       summary="No pillar.", why="The epic's effort counts nowhere.", how_to_fix="Label it."),
    NS(code="EQ030", name="epic-short-description", groups=("description", "planning"), severity="warning",
       config_keys={"min_words": 20}, summary="Description too short.", why="Nobody knows why.",
       how_to_fix="Write why."),
]


def test_rule_reference_in_every_format():
    text = render_rules(RULES, "text")
    assert "EQ030 epic-short-description [description, planning; warning]" in text
    assert "  settings: min_words (default 20)" in text and "  how to fix: Write why." in text
    doc = json.loads(render_rules(RULES, "json"))
    assert doc[1] == {"code": "EQ030", "name": "epic-short-description", "groups": ["description", "planning"],
                      "severity": "warning", "config_keys": {"min_words": 20}, "summary": "Description too short.",
                      "why": "Nobody knows why.", "how_to_fix": "Write why."}
    markdown = render_rules(RULES, "markdown")
    assert "| EQ001 | `epic-missing-pillar` | strategy | error | No pillar. |" in markdown
    assert "## EQ030 `epic-short-description`" in markdown and "**How to fix.** Write why." in markdown
    frame = rule_frame(RULES)
    assert list(frame["config_keys"]) == ["", "min_words=20"]
    with pytest.raises(ValueError):
        render_rules(RULES, "html")
