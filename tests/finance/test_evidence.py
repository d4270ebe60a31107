"""The evidence pack: every capitalized epic of a month with the dates of its window and where each came from.

A hand-made set of epics shows each source (a config entry, a label, a date field, a fix version, an abandoned
status); the sample organisation's October export shows the sheet lists every capitalized epic and that each
figure on it can be re-derived from the detail and the store.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from finance_helpers import MAPPINGS, at, config, frames, issue
from openpyxl import load_workbook

from rollup.config import load_config
from rollup.finance.calendar import WorkCalendar, day_date
from rollup.finance.evidence import JQL_LIMIT, evidence_columns, issues_jql
from rollup.finance.policy import NO_DAY, OPEN_END, epic_evidence
from rollup.jobs.finance import run_export
from rollup.mapping import apply
from rollup.store import Store


def _epics(cfg, *epics):
    mapped = apply(frames(list(epics)).issues, cfg).issues.reset_index(drop=True)
    return epic_evidence(mapped, cfg.finance, WorkCalendar(cfg.finance.calendar))


def test_each_source_of_a_window_is_named():
    cfg = config()
    cfg.finance.window.authorized.epics = {"A-4": pd.Timestamp("2026-08-01").date()}
    cfg.finance.window.probable.exclude_statuses = ["Won't do"]
    cfg.finance.window.release.fix_versions = {"A 2026.10": pd.Timestamp("2026-10-28").date()}
    epic = dict(issue_type="Epic", hierarchy_level=1)
    per_epic = _epics(
        cfg,
        issue("A-1", **epic, start_date="2026-09-01", target_date="2026-12-31"),
        issue("A-2", **epic, target_date="2026-12-31"),  # no start date: no evidence of authorization
        issue("A-3", **epic, start_date="2026-09-01", target_date="2026-12-31", status="Done",
              status_category="done", resolved=at("2026-10-20 15:00"), fix_versions=["A 2026.10"]),
        issue("A-4", **epic, start_date="2026-09-15", target_date="2026-12-31", fix_versions=["A 2026.10"]),
        issue("A-5", **epic, start_date="2026-09-01", target_date="2026-12-31", status="Won't do"),
        issue("A-6", **epic, start_date="2026-09-01"),  # no target date: not probable
    )
    row = per_epic.loc
    assert row["A-1", "window_kind"] == "window" and row["A-1", "window_evidence"] == "field start_date"
    assert day_date(row["A-1", "window_start"]).isoformat() == "2026-09-01" and row["A-1", "window_end"] == OPEN_END
    assert row["A-1", "probable"] and row["A-1", "probable_basis"].startswith("target date 2026-12-31")
    assert row["A-2", "window_kind"] == "not-authorized" and row["A-2", "window_start"] == NO_DAY
    assert row["A-2", "window_evidence"].startswith("none: no date in field start_date")
    # Resolved on the 20th, before the fix version's release on the 28th: the resolution ends the window.
    assert day_date(row["A-3", "window_end"] - 1).isoformat() == "2026-10-20"
    assert row["A-3", "release_source"] == "epic resolved (status Done)"
    # A config entry beats the field; the fix version's release ends the window.
    assert row["A-4", "window_evidence"] == "config finance.window.authorized.epics"
    assert day_date(row["A-4", "window_start"]).isoformat() == "2026-08-01"
    assert day_date(row["A-4", "window_end"] - 1).isoformat() == "2026-10-28"
    assert row["A-4", "release_source"].startswith("fix version A 2026.10 released")
    assert row["A-5", "abandoned"] and not row["A-5", "probable"] and row["A-5", "window_kind"] == "not-probable"
    assert "status Won't do is an abandoned status" in row["A-5", "probable_basis"]
    assert not row["A-1", "abandoned"] and "is not an abandoned status" in row["A-1", "probable_basis"]
    assert not row["A-6", "probable"] and row["A-6", "probable_basis"].startswith("no target date (required)")
    # With a label required, the label is the evidence and the date says where it came from.
    cfg.finance.window.authorized.label = "capex-approved"
    per_epic = _epics(cfg, issue("A-7", **epic, labels=["capex-approved"], start_date="2026-09-03",
                                 target_date="2026-12-31"),
                      issue("A-8", **epic, labels=["capex-approved"], target_date="2026-12-31"),
                      issue("A-9", **epic, start_date="2026-09-03", target_date="2026-12-31"))
    assert per_epic.loc["A-7", "window_evidence"] == "label capex-approved (date: field start_date)"
    assert per_epic.loc["A-8", "window_evidence"] == "label capex-approved (date: created)"
    assert per_epic.loc["A-9", "window_evidence"].startswith("none: no label capex-approved")


def test_the_jql_lists_exactly_the_issues_or_the_epics_children_when_too_long():
    assert issues_jql(["PAY-2", "dc:PAY-3"], "PAY-1") == "key in (PAY-2, PAY-3) ORDER BY key"
    many = [f"PAY-{n}" for n in range(1, 5000)]
    assert len(", ".join(many)) > JQL_LIMIT
    assert issues_jql(many, "PAY-1") == 'parent = PAY-1 OR "Epic Link" = PAY-1 ORDER BY key'


@pytest.fixture(scope="module")
def october(sample_store, sample_rates, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence")
    config = load_config(MAPPINGS)
    with Store.open(sample_store) as store:
        result = run_export(store, config, month="2026-10", out_dir=out, rates_path=sample_rates)
    read = lambda name: pd.read_csv(result.folder / name, keep_default_na=False)  # noqa: E731
    return result, read("evidence.csv"), read("detail.csv"), read("policy.csv")


def test_the_sample_organisation_lists_every_capitalized_epic(october, sample_store):
    result, evidence, detail, policy = october
    bases = ["gaap", "ifrs", "tax"]
    assert list(evidence.columns) == evidence_columns(bases)
    capex = detail[(detail[[f"{b}_capex" for b in bases]] != 0).any(axis=1) & (detail["epic"] != "(none)")]
    assert len(evidence) == result.evidence > 0
    assert sorted(evidence["epic"]) == sorted(set(capex["epic"])) == list(evidence["epic"])
    mappings = policy.set_index("item")["value"]["mappings sha256 (the validated settings, as JSON)"]
    assert (evidence["mappings_sha256"] == mappings).all()
    from rollup.frames import load_frames

    with Store.open(sample_store) as store:
        issues = load_frames(store).issues.set_index("key")
    for row in evidence.itertuples():
        rows = detail[detail["epic"] == row.epic]
        epic = issues.loc[row.epic]
        # Each basis's capex and the clauses behind it come from the detail rows of the epic.
        for b in bases:
            assert getattr(row, f"{b}_capex") == pytest.approx(rows[f"{b}_capex"].sum(), abs=0.005)
            clauses = sorted(set(rows.loc[rows[f"{b}_capex"] != 0, f"{b}_clause"]))
            assert getattr(row, f"{b}_clauses") == ", ".join(clauses)
        assert row.cost == pytest.approx(rows["cost"].sum(), abs=0.005)
        # The JQL lists exactly the issues whose effort makes up the figure.
        listed = re.fullmatch(r"key in \((.*)\) ORDER BY key", row.jql).group(1).split(", ")
        assert sorted(listed) == sorted(set(rows["issue_key"])) and row.issues == len(listed)
        # The dates, against the epic in the store and the window of its detail rows.
        if row.authorized_by == "field start_date":
            assert row.authorized_on == pd.Timestamp(epic["start_date"]).date().isoformat()
        else:
            assert row.authorized_on == "" and row.window == "not-authorized"
            assert row.authorized_by.startswith("none: no date in field start_date")
        if row.ready_for_use_by == "epic resolved (status Done)":
            assert epic["status_category"] == "done"
            assert row.ready_for_use_on == pd.Timestamp(epic["resolved"]).date().isoformat()
        else:
            assert row.ready_for_use_on == "" and row.ready_for_use_by.startswith("not released as of")
        assert row.probable == pd.notna(epic["target_date"])  # the shipped policy: a target date, no status out
        positions = set(rows["window"])
        assert positions <= {"before", "inside", "after"} if row.window == "window" else positions == {row.window}
        # Capitalized under GAAP only inside the window.
        if row.gaap_capex:
            assert "inside" in positions and row.window == "window" and not row.abandoned
    # Every source the sample organisation uses is there: windows open and closed by release, and tax-only ones.
    assert {"window", "not-authorized", "not-probable"} <= set(evidence["window"])
    assert (evidence["ready_for_use_by"] == "epic resolved (status Done)").any()
    # The Reconciliation ties the sheet to the detail, basis by basis.
    reconciliation = pd.read_csv(result.folder / "reconciliation.csv")
    ties = reconciliation[reconciliation["check"].str.contains("Evidence capex")]
    assert len(ties) == len(bases) and ties["ok"].all()


def test_the_workbook_evidence_sheet_is_the_csv(october):
    result, evidence, _detail, policy = october
    wb = load_workbook(result.folder / "finance-2026-10.xlsx")
    ws = wb["Evidence"]
    assert list(ws.tables) == ["tblEvidence"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    header = [c.value for c in ws[1]]
    assert len(rows) == len(evidence) and header[:3] == ["Period", "Epic", "Summary"]
    assert [r[header.index("Epic")] for r in rows] == list(evidence["epic"])
    assert [r[header.index("JQL")] for r in rows] == list(evidence["jql"])
    assert [r[header.index("GAAP capex")] for r in rows] == pytest.approx(list(evidence["gaap_capex"]))
    item = policy.set_index("item")["value"]["evidence"]
    assert item.startswith(f"{len(evidence)} capitalized epic(s) on the Evidence sheet")


def test_libreoffice_opens_and_prints_the_finance_workbook(october, tmp_path):
    """Every sheet of the month's workbook, its Tables and their totals rows included, prints from LibreOffice:
    landscape, one page wide, at least a page a sheet."""
    from office import pdf_pages, to_pdf

    result = october[0]
    workbook = result.folder / "finance-2026-10.xlsx"
    wb = load_workbook(workbook)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1, ws.title
        assert ws.print_title_rows.replace("$", "") == "1:1", ws.title  # the header repeated on every page
    pdf, completed = to_pdf(workbook, tmp_path)
    assert pdf.exists(), f"soffice exit {completed.returncode}: {completed.stdout} {completed.stderr}"
    assert pdf_pages(pdf) >= len(wb.sheetnames)
