"""The lint workbook read back: summary numbers, team and owner sheets, trend chart, ignores, rules."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from hand_results import BASE_URL, HOSTILE_SUMMARY, make_result, week_later
from openpyxl import load_workbook
from sheets import table, totals_row

from rollup.lint import history
from rollup.writers.lint import build_lint_workbook, sheet_title, team_rule_counts, workbook_name, write_lint_workbook


def _trend():
    scores = pd.concat([history.scores_frame(make_result(), run_id=1),
                        history.scores_frame(week_later(), run_id=2)], ignore_index=True)
    return history.trend_frame(scores)


@pytest.fixture
def wb(tmp_path):
    path = write_lint_workbook(week_later(), tmp_path / workbook_name(date(2026, 12, 3)), trend=_trend(),
                               by_owner=True)
    assert path.name == "lint-2026-12-03.xlsx"
    return load_workbook(path)


@pytest.fixture
def wb_first(tmp_path):
    return load_workbook(write_lint_workbook(make_result(), tmp_path / "lint.xlsx", trend=_trend(), by_owner=True))


def test_sheets_in_order(wb_first):
    assert wb_first.sheetnames == ["Summary", "Payments", "Scheduling", "Unassigned", "Owner - Ana", "Owner - Ben",
                                   "Owner - (no owner)", "Trend", "Ignores", "Rules"]


def test_summary_team_by_rule_counts_and_scores(wb_first):
    ws = wb_first["Summary"]
    assert ws["A1"].value == "Epic-quality lint — 2026-11-26"
    assert ws["A2"].value.startswith("7 epics linted, 3 clean (score 43%); 5 findings: 4 errors, 1 warnings, 0 infos")
    rows = {r["Team"]: r for r in table(ws, header_row=4)}
    assert list(rows) == ["Payments", "Scheduling", "Unassigned"]
    # "All teams" is the Table's totals row: what the table reader leaves out, and each count the sum of the rows.
    rows["All teams"] = totals_row(ws, header_row=4)
    for column in ("Epics", "Clean", "Errors", "Warnings", "EQ001", "EQ010", "EQ020", "EQ030"):
        assert rows["All teams"][column] == sum(r[column] for r in list(rows.values())[:3]), column
    (excel_table,) = ws.tables.values()
    assert excel_table.totalsRowCount == 1 and excel_table.ref.endswith(str(4 + 3 + 1))
    pay = rows["Payments"]
    assert (pay["Epics"], pay["Clean"], pay["Score"], pay["Errors"], pay["Warnings"]) == (4, 2, 0.5, 2, 1)
    assert (pay["EQ001"], pay["EQ010"], pay["EQ020"], pay["EQ030"]) == (1, 0, 1, 1)
    assert (rows["Scheduling"]["EQ001"], rows["Unassigned"]["EQ010"]) == (1, 1)
    total = rows["All teams"]
    assert (total["Epics"], total["Clean"], total["Errors"], total["EQ001"]) == (7, 3, 4, 2)
    assert total["Score"] == pytest.approx(3 / 7)
    assert ws.cell(row=5, column=5).number_format == "0%"
    assert ws.cell(row=5, column=5).fill.fgColor.rgb.endswith("FFC7CE")  # 50% is red
    assert ws.freeze_panes == "B5" and [t.ref[:3] for t in ws.tables.values()] == ["A4:"]


def test_team_sheet_lists_findings_with_links_most_severe_first(wb_first):
    rows = table(wb_first["Payments"], header_row=4)
    assert [(r["Epic"], r["Rule"], r["Severity"]) for r in rows] == [
        ("PAY-1", "EQ001", "error"), ("PAY-1", "EQ020", "error"), ("PAY-2", "EQ030", "warning")]
    assert rows[2]["How to fix"] == "Write why and the success metric."
    assert rows[0]["Owner"] == "Ana" and rows[0]["Link"] == f"{BASE_URL}/browse/PAY-1"
    ws = wb_first["Payments"]
    assert ws["A5"].hyperlink.target == f"{BASE_URL}/browse/PAY-1"
    assert ws["F5"].fill.fgColor.rgb.endswith("FFC7CE")
    assert wb_first["Payments"]["A2"].value == "2 epics with 3 findings as of 2026-11-26."


def test_formula_like_summary_stays_text(wb_first):
    ws = wb_first["Scheduling"]
    cell = ws["B5"]
    assert cell.value == HOSTILE_SUMMARY and cell.data_type == "s" and cell.quotePrefix
    cells = [c for sheet in wb_first.worksheets for row in sheet.iter_rows() for c in row if c.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []


def test_owner_sheets_route_each_list(wb_first):
    ana = table(wb_first["Owner - Ana"], header_row=4)
    assert sorted((r["Team"], r["Epic"], r["Rule"]) for r in ana) == [
        ("Payments", "PAY-1", "EQ001"), ("Payments", "PAY-1", "EQ020"), ("Scheduling", "SCH-1", "EQ001")]
    assert [r["Epic"] for r in table(wb_first["Owner - (no owner)"], header_row=4)] == ["MOB-9"]


def test_a_team_with_no_finding_gets_a_sheet_saying_so():
    clean = make_result(fixed=("PAY-1", "PAY-2", "SCH-1", "MOB-9"))
    book = build_lint_workbook(clean)
    assert book["Payments"]["A4"].value == "No findings: every epic of this team is fit to roll up."
    assert "Owner - Ana" not in book.sheetnames


def test_trend_sheet_and_native_line_chart(wb):
    ws = wb["Trend"]
    rows = {r["Team"]: r for r in table(ws, header_row=4)}
    assert list(rows) == ["Payments", "Scheduling", "Unassigned"]
    assert (rows["Payments"]["2026-11-26"], rows["Payments"]["2026-12-03"]) == (0.5, 0.75)
    assert ws.cell(row=5, column=2).number_format == "0%"
    charts = ws._charts
    assert len(charts) == 1
    chart = charts[0]
    assert chart.tagname == "lineChart" and len(chart.series) == 3
    assert chart.series[0].val.numRef.f == "'Trend'!$B$5:$C$5"
    assert chart.series[0].tx.strRef.f.replace("$", "") == "'Trend'!A5"


def test_trend_without_runs_says_so(tmp_path):
    book = build_lint_workbook(make_result(), trend=None)
    assert book["Trend"]["A4"].value == "No lint runs recorded yet."
    assert book["Trend"]._charts == []


def test_ignores_sheet_expired_and_unused_first(wb):
    rows = table(wb["Ignores"], header_row=4)
    assert [(r["Epic"], r["Status"]) for r in rows] == [("SCH-2", "expired"), ("PAY-4", "unused"), ("PAY-3", "active")]
    assert rows[0]["Expires"] == datetime(2026, 11, 1)
    assert wb["Ignores"]["C5"].fill.fgColor.rgb.endswith("FFC7CE")


def test_rules_sheet_counts_findings_per_rule(wb):
    rows = {r["Rule"]: r for r in table(wb["Rules"], header_row=4)}
    assert {code: r["Findings"] for code, r in rows.items()} == {"EQ001": 1, "EQ010": 1, "EQ020": 0, "EQ030": 1}
    assert rows["EQ030"]["Severity"] == "warning"


def test_team_rule_counts_frame():
    counts = team_rule_counts(make_result())
    assert counts.loc["Payments"].to_dict() == {"EQ001": 1, "EQ010": 0, "EQ020": 1, "EQ030": 1}
    assert counts["EQ001"].sum() == 2


def test_sheet_titles_are_valid_and_unique():
    taken = {"summary", "trend"}
    assert sheet_title("Summary", taken) == "Summary (2)"
    assert sheet_title("R&D: core/platform [legacy]?", taken) == "R&D- core-platform -legacy--"
    long = "A very long team name that Excel would refuse"
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) == 31 and len(second) == 31 and first != second


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from openpyxl import Workbook

    target = tmp_path / "lint-2026-11-26.xlsx"

    def broken_save(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(OSError):
        write_lint_workbook(make_result(), target)
    assert list(tmp_path.iterdir()) == []


def test_summary_has_a_column_for_every_rule_that_ran_even_without_findings(wb):
    """A week later PAY-1 is fixed and EQ020 finds nothing: its column stays, all zeros."""
    rows = {r["Team"]: r for r in table(wb["Summary"], header_row=4)}
    assert all(rows[team]["EQ020"] == 0 for team in rows)
    header = [c.value for c in wb["Summary"][4]]
    assert header[-4:] == ["EQ001", "EQ010", "EQ020", "EQ030"]
    assert list(team_rule_counts(week_later()).columns) == ["EQ001", "EQ010", "EQ020", "EQ030"]


def test_libreoffice_opens_and_prints_the_lint_workbook(tmp_path):
    """The lint workbook — its Tables, the Summary's totals row — converts in LibreOffice, a page or more a sheet."""
    from office import pdf_pages, to_pdf

    path = write_lint_workbook(make_result(), tmp_path / "lint.xlsx", trend=_trend(), by_owner=True)
    pdf, completed = to_pdf(path, tmp_path)
    assert pdf.exists(), f"soffice exit {completed.returncode}: {completed.stdout} {completed.stderr}"
    assert pdf_pages(pdf) >= len(load_workbook(path).sheetnames)
