"""The export as finance opens it: the workbook read back, the CSV set, all-or-nothing writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from finance_helpers import MAPPINGS, OCT, RATES, at, config, effort, frames, issue, worklog
from openpyxl import load_workbook

from rollup.config import load_config
from rollup.finance.allocation import build_tables, detail_rows, person_names
from rollup.finance.calendar import WorkCalendar
from rollup.finance.rates import load_rates
from rollup.jobs.finance import run_export
from rollup.store import Store
from rollup.writers.finance import SHEETS, write_finance


@pytest.fixture(scope="module")
def exported(sample_store, sample_rates, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    with Store.open(sample_store) as store:
        result = run_export(store, load_config(MAPPINGS), month="2026-10", out_dir=out, rates_path=sample_rates,
                            base_url="https://clinicloud.atlassian.net")
    return result


def test_the_set_of_files(exported):
    names = sorted(p.name for p in exported.paths)
    assert names == sorted(["finance-2026-10.xlsx", "summary.csv", "by-pillar.csv", "by-initiative.csv",
                            "detail.csv", "people.csv", "reconciliation.csv", "policy.csv", "evidence.csv",
                            "run.json"])
    assert sorted(p.name for p in exported.folder.iterdir()) == names
    assert not [p for p in exported.folder.parent.iterdir() if p.name.startswith(".")]


def test_workbook_figures_tie_to_the_csvs_and_the_detail(exported):
    wb = load_workbook(exported.folder / "finance-2026-10.xlsx")
    assert wb.sheetnames == list(SHEETS)
    detail = pd.read_csv(exported.folder / "detail.csv", keep_default_na=False)
    summary = pd.read_csv(exported.folder / "summary.csv", keep_default_na=False)
    ws = wb["Summary"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["Period", "Team id", "Team", "Bucket", "Bucket name", "Row type"]
    assert ws.freeze_panes == "A2" and list(ws.tables) == ["tblSummary"]
    ref = ws.tables["tblSummary"].ref
    cost_col = header.index("Cost")
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    body, total = rows[:-1], rows[-1]
    # The Table covers the header, the rows and the Total row, its totals row (outside its filter).
    last_row = int(ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert len(body) == len(summary) and ref.startswith("A1:") and last_row == len(body) + 2
    table = ws.tables["tblSummary"]
    assert table.totalsRowCount == 1 and table.tableColumns[0].totalsRowLabel == "Total"
    assert table.autoFilter.ref == ref.replace(f"{last_row}", f"{last_row - 1}")
    sheet_cost = sum(row[cost_col] for row in body)
    assert sheet_cost == pytest.approx(detail["cost"].sum(), abs=0.01)
    # The totals row: labelled, bold, each figure the sum of the rows above it and of the detail.
    assert total[0] == "Total" and ws.cell(row=len(rows) + 1, column=1).font.b
    for column in ("Hours", "Cost", "GAAP capex", "GAAP opex"):
        j = header.index(column)
        assert total[j] == pytest.approx(sum(row[j] for row in body), abs=0.005)
        field = {"Hours": "hours", "Cost": "cost", "GAAP capex": "gaap_capex", "GAAP opex": "gaap_opex"}[column]
        assert total[j] == pytest.approx(detail[field].sum(), abs=0.01)
    # Display names beside the ids, from mappings.yaml.
    names = {b.id: b.name for b in load_config(MAPPINGS).buckets}
    shown = {r[header.index("Bucket")]: r[header.index("Bucket name")] for r in body}
    assert shown and all(shown[b] == names.get(b, b) for b in shown) and any(b in names for b in shown)
    for title in ("By pillar", "By initiative", "People"):
        sheet_rows = list(wb[title].iter_rows(min_row=2, values_only=True))
        assert sheet_rows[-1][0] == "Total", title
        (excel_table,) = wb[title].tables.values()
        assert excel_table.totalsRowCount == 1 and excel_table.ref.endswith(str(len(sheet_rows) + 1)), title
    for title in ("Detail", "Policy", "Reconciliation"):  # no totals row where a sum means nothing
        (excel_table,) = wb[title].tables.values()
        assert not excel_table.totalsRowCount, title
    # Every sheet's table is an Excel Table with a stable name, its columns named as its header cells.
    names = {ws.title: list(ws.tables) for ws in wb.worksheets}
    assert names == {"Summary": ["tblSummary"], "By pillar": ["tblByPillar"], "By initiative": ["tblByInitiative"],
                     "Detail": ["tblDetail"], "People": ["tblPeople"], "Evidence": ["tblEvidence"],
                     "Policy": ["tblPolicy"], "Reconciliation": ["tblReconciliation"]}
    for sheet in wb.worksheets:
        for excel_table in sheet.tables.values():
            assert [c.name for c in excel_table.tableColumns] == [c.value for c in sheet[1]]
    assert summary["cost"].sum() == pytest.approx(detail["cost"].sum(), abs=0.01)
    assert ws.cell(row=2, column=cost_col + 1).number_format == "#,##0.00"
    # By team and bucket, the summary is the detail grouped.
    grouped = detail.groupby(["team_id", "bucket"])["hours"].sum()
    mine = summary.groupby(["team_id", "bucket"])["hours"].sum()
    pd.testing.assert_series_equal(mine.round(4), grouped.round(4), check_names=False)
    # Every capex euro names its clause.
    capex = detail[detail["gaap_capex"] > 0]
    assert len(capex) and (capex["gaap_clause"] == "gaap-development").all()
    assert (capex["window"] == "inside").all()
    # Issue keys link to Jira.
    dws = wb["Detail"]
    dheader = [c.value for c in dws[1]]
    key_cell = dws.cell(row=2, column=dheader.index("Issue key") + 1)
    assert key_cell.hyperlink.target == f"https://clinicloud.atlassian.net/browse/{key_cell.value}"


def test_policy_sheet_carries_the_hashes(exported):
    policy = pd.read_csv(exported.folder / "policy.csv").set_index("item")["value"]
    digest = hashlib.sha256((exported.folder / "detail.csv").read_bytes()).hexdigest()
    assert policy["content sha256 (detail.csv)"] == digest == exported.content_hash
    for item in ("mappings sha256 (the validated settings, as JSON)", "rates sha256", "data snapshot sha256"):
        assert len(policy[item]) == 64
    assert "gaap clause 2: gaap-development" in policy.index
    recon = pd.read_csv(exported.folder / "reconciliation.csv")
    assert recon["ok"].all() and len(recon) >= 12
    people = pd.read_csv(exported.folder / "people.csv")
    assert (people[people["methods"] == "person-days"]["fte"] <= 1.0).all()


def _small_tables(tmp_path, author_name: str = "Wanda"):
    a1 = issue("A-1", id=1, assignee_id="w", assignee_name=author_name)
    cfg = config()
    f = frames([a1], worklogs=[worklog(1, "w", "2026-10-05 09:00", 3)])
    f.worklogs["author_name"] = author_name
    result, mapped = effort(f, cfg, [OCT])
    path = tmp_path / "rates.csv"
    path.write_text(RATES)
    detail = detail_rows(result.rows, mapped, cfg, WorkCalendar(cfg.finance.calendar),
                         load_rates(path, cfg.finance), person_names(mapped, f.worklogs))
    return build_tables("2026-10", detail, ["gaap"], sources={}, policy_rows=[("month", "2026-10")], info={},
                        capacity_hours=176)


def test_the_policy_sheet_counts_the_story_points_left_out(tmp_path, monkeypatch):
    """Gamma (points) completed G-1 (5 points) and G-5 (999, above report.max_story_points): G-5 takes none of
    the capacity, and the Policy sheet says so by key."""
    from rollup.jobs.finance import month_figures, policy_rows

    monkeypatch.delenv("ROLLUP_RATES", raising=False)
    done = {"status": "Done", "status_category": "done"}
    f = frames([issue("G-1", id=1, story_points=5, resolved=at("2026-10-10 12:00"), assignee_id="g", **done),
                issue("G-5", id=5, story_points=999, resolved=at("2026-10-21 12:00"), **done)])
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    with Store.open(f"sqlite:///{tmp_path / 'small.db'}") as store:
        figures = month_figures(store, config(), "2026-10", rates_path_option=rates, frames=f)
    points = figures.detail[figures.detail["method"] == "points"]
    assert list(points["issue_key"].astype(str)) == ["G-1"] and points["hours"].sum() == pytest.approx(352)
    rows = dict(policy_rows(figures, closed_at=None))
    assert rows["points model: story points out of range"] == (
        "1 completed issue of points teams left out, taking no share of the capacity (story points below 0 or "
        "above report.max_story_points (100) are not an estimate, as in the portfolio): G-5 (999)")


def test_jira_text_never_becomes_a_formula(tmp_path):
    tables = _small_tables(tmp_path, author_name="=HYPERLINK(\"http://x\")")
    folder, _ = write_finance(tables, tmp_path / "out")
    ws = load_workbook(folder / "finance-2026-10.xlsx")["Detail"]
    header = [c.value for c in ws[1]]
    cell = ws.cell(row=2, column=header.index("Person") + 1)
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


def test_a_failed_write_leaves_the_previous_set_untouched(tmp_path, monkeypatch):
    tables = _small_tables(tmp_path)
    folder, paths = write_finance(tables, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in paths}
    calls = {"n": 0}
    real = Path.write_bytes

    def failing(path, data):
        calls["n"] += 1
        if calls["n"] == 3:  # the third CSV of the set
            raise OSError("disk full")
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        write_finance(tables, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["finance-2026-10"]


def test_headers_read_as_finance_writes_them(exported):
    wb = load_workbook(exported.folder / "finance-2026-10.xlsx")
    header = [c.value for c in wb["Summary"][1]]
    assert header[6:] == ["Hours", "FTE", "Cost", "GAAP capex", "GAAP opex", "IFRS capex", "IFRS opex",
                          "TAX capex", "TAX opex"]
    ws = wb["Reconciliation"]
    assert [c.value for c in ws[1]] == ["Check", "Left", "Right", "Difference", "Tolerance", "OK"]
    # A tolerance of a few ten-thousandths of an hour must not show as 0.00.
    assert ws.cell(row=2, column=5).number_format == "#,##0.000000"


def test_an_ended_month_is_not_partial(exported):
    policy = pd.read_csv(exported.folder / "policy.csv").set_index("item")["value"]
    assert policy["status"] == "open (figures from today's data)"
    assert exported.data_runs_to is None


def test_the_month_in_progress_is_exported_as_partial(sample_store, sample_rates, tmp_path):
    from click.testing import CliRunner

    from rollup.cli import cli

    with Store.open(sample_store) as store:
        synced = max(r["finished"] for r in store.sync_run_rows() if r.get("finished"))
    month = f"{synced:%Y-%m}"
    result = CliRunner().invoke(cli, ["finance", "export", "--month", month, "--config", str(MAPPINGS), "--out",
                                      str(tmp_path), "--rates", str(sample_rates), "--database", sample_store])
    assert result.exit_code == 0, result.output
    assert f"Partial month: the data runs to {synced.date()} (the last sync), before the month ends" in result.output
    policy = pd.read_csv(tmp_path / f"finance-{month}" / "policy.csv").set_index("item")["value"]
    assert policy["status"] == (f"open (figures from today's data); partial: the data runs to {synced.date()}, "
                                "before the month ends")


def test_finance_goes_to_its_own_folder_for_its_owner_only(tmp_path, sample_store, sample_rates, monkeypatch):
    """Without --out the month goes under finance.output_dir (outputs/finance), apart from the portfolio's
    outputs; the folders and files are rwx------ / rw------- whatever the umask."""
    import os
    import stat

    from click.testing import CliRunner

    from rollup.cli import cli

    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(cli, ["finance", "export", "--month", "2026-10", "--config", str(MAPPINGS),
                                          "--rates", str(sample_rates), "--database", sample_store])
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "outputs" / "finance" / "finance-2026-10"
    assert (folder / "detail.csv").exists() and not (tmp_path / "outputs" / "finance-2026-10").exists()
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(folder.parent) == 0o700 and mode(folder) == 0o700
    assert {mode(p) for p in folder.iterdir()} == {0o600}


def test_no_persons_cost_appears_in_the_portfolio_or_team_workbooks(exported, sample_store, tmp_path):
    """Person-level cost is finance's alone: the portfolio and a team workbook have no cost or rate column (a
    bucket's capex / opex treatment is shown, never money), and no row naming a person carries that person's
    hours or cost from the finance export."""
    from datetime import date

    from rollup.jobs.report import run_portfolio

    people = pd.read_csv(exported.folder / "people.csv", keep_default_na=False)
    figures = {str(r.person): {round(float(r.cost), 2), round(float(r.hours), 2)} for r in people.itertuples()
               if str(r.person) and float(r.cost) > 0}
    assert figures
    config = load_config(MAPPINGS)
    with Store.open(sample_store) as store:
        books = [run_portfolio(store, config, as_of=date(2026, 11, 23), out_dir=tmp_path / "p",
                               save_snapshot=False).workbook,
                 run_portfolio(store, config, as_of=date(2026, 11, 23), team="payments", out_dir=tmp_path / "t",
                               save_snapshot=False).workbook]
    named_rows = 0
    for path in books:
        for ws in load_workbook(path, read_only=True).worksheets:
            for row in ws.iter_rows(values_only=True):
                texts = [str(v) for v in row if isinstance(v, str)]
                assert not any(t.strip().lower() in ("cost", "hourly rate", "rate", "loaded cost") for t in texts), \
                    (path.name, ws.title, row)
                for person in figures.keys() & set(texts):
                    named_rows += 1
                    numbers = {round(float(v), 2) for v in row if isinstance(v, (int, float))}
                    assert not numbers & figures[person], (path.name, ws.title, person)
    assert named_rows  # people are named (owners, assignees): the check looked at real rows
