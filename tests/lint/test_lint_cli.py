"""``rollup lint`` end to end: the sample organisation synced from the local Jira, linted through the CLI.

Exit codes 0/1/2, the workbook read back against the JSON on stdout, the run history and its
trend, narrowing, a bad lint configuration (exit 2, nothing written), the rule reference, the
portfolio's Data quality sheet, and ``--apply`` against the local Jira (labels really change
there; a second run changes nothing).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sheets import table, totals_row

from rollup.cli import cli
from rollup.lint import all_rules, history
from rollup.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
ISSUES = 400
SEED = 7
#: The sample organisation's own "now" (2026-11-23), so date rules read the same on any day.
AS_OF = "2026-11-23"


@pytest.fixture(scope="module")
def synced_db(tmp_path_factory) -> Path:
    """The sample organisation (400 issues) synced over real HTTP from the local Jira into a SQLite file."""
    from rollup.jobs.demo import run_demo

    path = tmp_path_factory.mktemp("synced") / "rollup.db"
    run_demo(None, f"sqlite:///{path}", seed=SEED, issues=ISSUES, weeks=1)  # the organisation as generated
    return path


@pytest.fixture
def workdir(tmp_path, monkeypatch, synced_db) -> Path:
    """A working folder with mappings.yaml and its own copy of the synced store; no Jira variables set."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO_ROOT / "mappings.yaml", tmp_path / "mappings.yaml")
    shutil.copy(synced_db, tmp_path / "rollup.db")
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{tmp_path / 'rollup.db'}")
    for name in ("JIRA_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PAT", "JIRA_DEPLOYMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("connectors.jira.settings._from_keyring", lambda username: None)
    return tmp_path


def lint(*args: str):
    return CliRunner().invoke(cli, ["lint", "--as-of", AS_OF, *args])


def runs(workdir: Path):
    with Store.open(f"sqlite:///{workdir / 'rollup.db'}") as store:
        return history.read_runs(store)


def test_json_on_stdout_matches_the_workbook_and_the_stored_run(workdir):
    result = lint("--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    s = doc["summary"]
    assert s["epics"] > 0 and s["findings"] == len(doc["findings"]) > 0
    assert s["errors"] + s["warnings"] + s["infos"] == s["findings"]
    assert doc["run_id"] == 1 and doc["paths"] == ["outputs/lint-2026-11-23.xlsx"]
    assert "Wrote outputs/lint-2026-11-23.xlsx" in result.stderr and "Recorded lint run 1" in result.stderr
    assert "write-back preview skipped" in result.stderr  # no JIRA_* variables: nothing asked of Jira

    wb = load_workbook(workdir / "outputs" / "lint-2026-11-23.xlsx")
    rows = {r["Team"]: r for r in table(wb["Summary"], header_row=4)}
    total = totals_row(wb["Summary"], header_row=4)
    assert total["Team"] == "All teams" and "All teams" not in rows
    assert total["Epics"] == s["epics"] and total["Clean"] == s["clean"] and total["Errors"] == s["errors"]
    for team in doc["teams"]:
        row = rows[team["team"]]
        assert (row["Epics"], row["Clean"], row["Errors"], row["Warnings"], row["Infos"]) == (
            team["epics"], team["clean"], team["errors"], team["warnings"], team["infos"])
        on_sheet = table(wb[team["team"]], header_row=4) if team["errors"] + team["warnings"] + team["infos"] else []
        assert len(on_sheet) == sum(1 for f in doc["findings"] if f["team"] == team["team"])
    per_rule = {r["rule"]: r["findings"] for r in doc["rules"]}
    assert 0 in per_rule.values(), "the sample organisation should leave some rule without a finding"
    for code, count in per_rule.items():
        assert total[code] == count  # every rule that ran has its column, a rule with no finding too

    stored = runs(workdir)
    assert len(stored) == 1
    run = stored.iloc[0]
    assert (run["epics"], run["findings"], run["errors"]) == (s["epics"], s["findings"], s["errors"])
    assert run["rules"] == sorted(r.code for r in all_rules()) and run["sync_run_id"] == 1


def test_fail_on_sets_the_exit_code(workdir):
    doc = json.loads(lint("--format", "json", "--no-store", "--no-workbook").stdout)
    assert doc["summary"]["errors"] > 0
    assert lint("--fail-on", "error", "--no-store", "--no-workbook").exit_code == 1
    assert lint("--fail-on", "never", "--no-store", "--no-workbook").exit_code == 0
    clean_rules = [r["rule"] for r in doc["rules"] if r["findings"] == 0]
    assert clean_rules, "the sample organisation should leave some rule without a finding"
    result = lint("--fail-on", "info", "--select", ",".join(clean_rules), "--no-workbook")
    assert result.exit_code == 0, result.output
    warnings_only = [r["rule"] for r in doc["rules"] if r["severity"] == "warning" and r["findings"]]
    assert lint("--fail-on", "error", "--select", warnings_only[0], "--no-workbook").exit_code == 0
    assert lint("--fail-on", "warning", "--select", warnings_only[0], "--no-workbook").exit_code == 1
    assert not (workdir / "outputs").exists() and runs(workdir).empty


def test_csv_and_text_formats(workdir):
    result = lint("--format", "csv", "--no-workbook", "--no-store")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and {"key", "rule", "severity", "how_to_fix", "link"} <= set(rows[0])
    text = lint("--no-workbook", "--no-store").stdout
    assert text.startswith("Epic-quality lint as of 2026-11-23:")
    assert sum(1 for line in text.splitlines() if line.startswith("== ")) >= 2
    assert "fix: " in text and "/browse/" in text


def test_trend_over_two_stored_runs(workdir):
    assert lint().exit_code == 0
    result = CliRunner().invoke(cli, ["lint", "--as-of", "2026-11-30", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(runs(workdir)["id"]) == [1, 2]
    trend = table(load_workbook(workdir / "outputs" / "lint-2026-11-30.xlsx")["Trend"], header_row=4)
    by_team = {r["Team"]: r for r in trend}
    for team in doc["teams"]:
        assert by_team[team["team"]]["2026-11-30"] == pytest.approx(team["score"])
        assert by_team[team["team"]]["2026-11-23"] is not None
    first = load_workbook(workdir / "outputs" / "lint-2026-11-23.xlsx")["Trend"]
    assert [c.value for c in first[4]] == ["Team", "2026-11-23"]


def test_team_and_owner_narrowing_is_written_but_not_stored(workdir):
    result = lint("--team", "Payments", "--by-owner", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {f["team"] for f in doc["findings"]} == {"Payments"} and [t["team"] for t in doc["teams"]] == ["Payments"]
    assert doc["run_id"] is None and "not recorded" in result.stderr and runs(workdir).empty
    wb = load_workbook(workdir / "outputs" / "lint-payments-2026-11-23.xlsx")
    owners = [name for name in wb.sheetnames if name.startswith("Owner - ")]
    assert "Payments" in wb.sheetnames and "Scheduling" not in wb.sheetnames and owners
    routed = sum(len(table(wb[name], header_row=4)) for name in owners)
    assert routed == len(doc["findings"])


@pytest.mark.parametrize("args, message", [
    (["--select", "EQ999"], "EQ999"),
    (["--team", "nobody"], "unknown team 'nobody'"),
    (["--apply", "--select", "EQ001"], "cannot be combined"),
    (["--fail-on", "sometimes"], "sometimes"),
    (["--as-of", "yesterday"], "yesterday"),
    (["--apply"], "JIRA_URL is not set"),  # found before the workbook is written or the run recorded
])
def test_bad_options_exit_2_and_write_nothing(workdir, args, message):
    result = CliRunner().invoke(cli, ["lint", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (workdir / "outputs").exists() and runs(workdir).empty


def test_a_bad_lint_config_exits_2_and_writes_nothing(workdir):
    text = (workdir / "mappings.yaml").read_text()
    assert "  ignore: []\n" in text
    (workdir / "mappings.yaml").write_text(text.replace("  ignore: []\n", "  ignore: []\n  thresholds: {}\n", 1))
    result = lint("--format", "json")
    assert result.exit_code == 2, result.output
    assert "mappings.yaml" in result.stderr and "line" in result.stderr and "thresholds" in result.stderr
    assert not (workdir / "outputs").exists() and runs(workdir).empty


def test_an_unsynced_store_is_bad_input_and_nothing_is_written(workdir, monkeypatch):
    monkeypatch.setenv("ROLLUP_DATABASE_URL", f"sqlite:///{workdir / 'never-synced.db'}")
    result = lint("--format", "json")
    assert result.exit_code == 2, result.output
    assert f"the store at sqlite:///{workdir / 'never-synced.db'} holds no issues; run `rollup sync` first" \
        in result.stderr
    assert json.loads(result.stdout)["exit_code"] == 2
    assert not (workdir / "outputs").exists()
    assert not (workdir / "never-synced.db").exists()  # a reading command creates no store


@pytest.mark.slow
def test_a_failed_write_back_is_reported_even_when_fail_on_already_fails(workdir, monkeypatch):
    from rollup.jobs.demo import local_jira
    from rollup.localjira.credentials import DEMO_EMAIL, DEMO_TOKEN
    from rollup.localjira.sampleorg import SampleOrg

    org = SampleOrg.generate(seed=SEED, issues=ISSUES)
    with local_jira(org, "cloud") as server:
        for name, value in (("JIRA_URL", server.url), ("JIRA_EMAIL", DEMO_EMAIL), ("JIRA_API_TOKEN", DEMO_TOKEN),
                            ("JIRA_DEPLOYMENT", "cloud")):
            monkeypatch.setenv(name, value)
        doc = json.loads(lint("--format", "json", "--no-workbook", "--no-store").stdout)
        broken = next(f["key"] for f in doc["findings"] if f["severity"] == "error")
        server.faults.update(fail_issues=[broken])
        result = lint("--apply", "--fail-on", "error", "--no-workbook", "--no-store")
    assert result.exit_code == 1, result.output
    assert "Error: write-back failed on 1 epic(s) (2 action(s)); the others were written" in result.stderr
    assert f"{broken}" in result.stderr and DEMO_TOKEN not in result.output


def test_rule_reference(workdir):
    result = CliRunner().invoke(cli, ["lint", "rules", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [r["code"] for r in doc] == [r.code for r in all_rules()]
    assert all(r["why"] and r["how_to_fix"] and r["summary"] for r in doc)
    text = CliRunner().invoke(cli, ["lint", "rules"]).stdout
    assert all(f"{r.code} {r.name} [" in text for r in all_rules())
    markdown = CliRunner().invoke(cli, ["lint", "rules", "--format", "markdown"]).stdout
    assert all(f"`{r.name}`" in markdown for r in all_rules())
    assert markdown == (REPO_ROOT / "docs" / "lint-rules.md").read_text()
    assert not (workdir / "outputs").exists()


def _hygiene_by_team(ws) -> dict:
    column_a = [c.value for c in ws["A"]]
    return {r["Team"]: r for r in table(ws, header_row=column_a.index("Hygiene by team") + 2)}


def test_portfolio_hygiene_reads_the_lint_run_of_its_date_or_lints_itself(workdir):
    before = CliRunner().invoke(cli, ["report", "portfolio", "--as-of", AS_OF, "--out", "before"])
    assert before.exit_code == 0, before.output
    early = _hygiene_by_team(load_workbook(workdir / "before" / "portfolio-2026-W48.xlsx")["Data quality"])
    assert early["All teams"]["Findings from"] == "lint run with this report, as of 2026-11-23"

    doc = json.loads(lint("--format", "json").stdout)
    result = CliRunner().invoke(cli, ["report", "portfolio", "--as-of", AS_OF, "--out", "after"])
    assert result.exit_code == 0, result.output
    wb = load_workbook(workdir / "after" / "portfolio-2026-W48.xlsx")
    ws = wb["Data quality"]
    teams = _hygiene_by_team(ws)
    assert teams["All teams"]["Findings from"] == "lint run 1 of 2026-11-23"
    # With report.hygiene_min_severity: info the hygiene score is the lint report's own score, per team and in all.
    assert {t: round(r["Hygiene"], 6) for t, r in teams.items() if t != "All teams"} == {
        t["team"]: round(t["score"], 6) for t in doc["teams"]}
    assert teams["All teams"]["Clean"] == doc["summary"]["clean"]
    assert teams["All teams"]["Epics"] == doc["summary"]["epics"]
    assert {t: r["Hygiene"] for t, r in early.items()} == {t: r["Hygiene"] for t, r in teams.items()}
    column_a = [c.value for c in ws["A"]]
    top = table(ws, header_row=column_a.index("Lint rules with the most findings") + 2)
    most = max(doc["rules"], key=lambda r: (r["findings"], -int(r["rule"][2:])))
    assert (top[0]["Rule"], top[0]["Name"], top[0]["Findings"]) == (most["rule"], most["name"], most["findings"])
    summary = wb["Summary"]
    label = next(c for row in summary.iter_rows() for c in row if c.value == "Hygiene score")
    assert summary.cell(row=label.row + 1, column=label.column).value == pytest.approx(doc["summary"]["score"])
    by_team = {r["Team"]: r["Hygiene"] for r in table(wb["Teams"])}
    assert by_team == {t: r["Hygiene"] for t, r in teams.items() if t != "All teams"}


@pytest.mark.slow
def test_apply_labels_epics_in_the_local_jira_and_a_second_run_changes_nothing(workdir, monkeypatch):
    from rollup.jobs.demo import local_jira
    from rollup.localjira.credentials import DEMO_EMAIL, DEMO_TOKEN
    from rollup.localjira.sampleorg import SampleOrg

    org = SampleOrg.generate(seed=SEED, issues=ISSUES)
    assert org.now.date() == date.fromisoformat(AS_OF)
    with local_jira(org, "cloud") as server:
        monkeypatch.setenv("JIRA_URL", server.url)
        monkeypatch.setenv("JIRA_EMAIL", DEMO_EMAIL)
        monkeypatch.setenv("JIRA_API_TOKEN", DEMO_TOKEN)
        monkeypatch.setenv("JIRA_DEPLOYMENT", "cloud")
        preview = lint("--format", "json", "--no-workbook", "--no-store")
        assert preview.exit_code == 0, preview.output
        planned = json.loads(preview.stdout)["writeback"]
        assert planned["applied"] is False and planned["planned"] > 0 and planned["changed"] == 0

        applied = lint("--apply", "--format", "json", "--no-workbook")
        assert applied.exit_code == 0, applied.output
        done = json.loads(applied.stdout)["writeback"]
        assert done["applied"] is True and done["changed"] == planned["planned"] and done["failed"] == 0
        labelled = {a["key"] for a in done["actions"] if a["action"] == "add-label"}
        commented = {a["key"] for a in done["actions"] if a["action"] == "add-comment"}
        assert labelled and commented and DEMO_TOKEN not in applied.output
        # What the local Jira itself now holds, not what write-back says it did:
        for key in labelled:
            assert "rollup-lint" in org.tuples[org.labels[org.position(key)]], key
        for key in commented:
            assert len(org.comments[org.position(key)]) == 1, key
        findings = json.loads(applied.stdout)["findings"]
        counted = {f["key"] for f in findings if f["severity"] in ("error", "warning") and f["issue_id"] is not None}
        assert labelled == counted
        # Epics that are not visible (EQ055) cannot be labelled: their findings name keys Jira did not show us.
        assert {f["key"] for f in findings if f["rule"] == "EQ055"} and not labelled & {
            f["key"] for f in findings if f["rule"] == "EQ055"}

        again = lint("--apply", "--format", "json", "--no-workbook")
        assert again.exit_code == 0, again.output
        second = json.loads(again.stdout)["writeback"]
        assert second["changed"] == 0 and second["planned"] == 0 and second["unchanged"] > 0
        assert all(len(org.comments[org.position(key)]) == 1 for key in commented)


@pytest.mark.slow
def test_demo_writes_the_lint_workbook_and_the_portfolio_shows_its_score(tmp_path):
    from rollup.config import load_config
    from rollup.jobs.demo import run_demo

    demo = run_demo(load_config(REPO_ROOT / "mappings.yaml"), f"sqlite:///{tmp_path / 'demo.db'}", seed=SEED,
                    issues=ISSUES, out_dir=tmp_path / "out")
    payload = demo.to_dict()
    assert payload["lint_workbook"] == str(tmp_path / "out" / "lint-2026-11-23.xlsx")
    assert payload["lint"]["run_id"] == 1 and payload["lint"]["findings"] > 0
    lint_sheet = load_workbook(payload["lint_workbook"])["Summary"]
    lint_summary = {r["Team"]: r for r in table(lint_sheet, header_row=4)}
    lint_summary["All teams"] = totals_row(lint_sheet, header_row=4)
    teams = _hygiene_by_team(load_workbook(payload["workbook"])["Data quality"])
    total = lint_summary["All teams"]
    assert teams["All teams"]["Findings from"] == "lint run 1 of 2026-11-23"
    assert (teams["All teams"]["Clean"], teams["All teams"]["Epics"]) == (total["Clean"], total["Epics"])
