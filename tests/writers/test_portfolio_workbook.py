"""The workbook read back with openpyxl: numbers, links, formats — and no formulas from hostile text."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from portfolio_org import AS_OF, BASE_URL, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots
from sheets import table

from rollup.jobs.report import build_views, write_outputs
from rollup.writers.portfolio import SHEETS


def _views(frame=None):
    return build_views(mapped_issues() if frame is None else frame, MAPPINGS, as_of=AS_OF, snapshots=snapshots(),
                       sync_runs=SYNC_RUNS, now=pd.Timestamp("2026-11-26T09:00Z"))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    workbook, charts = write_outputs(_views(), out, as_of=AS_OF, base_url=BASE_URL)
    return workbook, charts, load_workbook(workbook)


def test_file_name_sheets_and_charts(written):
    workbook, charts, wb = written
    assert workbook.name == "portfolio-2026-W48.xlsx"
    assert wb.sheetnames == SHEETS
    for name, paths in charts.items():
        assert [p.suffix for p in paths] == [".png", ".svg"], name
        assert all(p.stat().st_size > 1000 for p in paths)
        assert paths[0].parent == workbook.parent / "charts"
    assert sorted(p.name for p in workbook.parent.iterdir()) == ["charts", "portfolio-2026-W48.xlsx"]  # no temp left


def test_the_same_views_give_the_same_chart_bytes(written, tmp_path):
    _, charts, _ = written
    _, again = write_outputs(_views(), tmp_path, as_of=AS_OF, base_url=BASE_URL)
    for name, paths in charts.items():
        assert [p.read_bytes() for p in again[name]] == [p.read_bytes() for p in paths], name
    assert b"<dc:date>" not in charts["roadmap"][1].read_bytes()


def row_of(ws, text: str, column: int = 1, exact: bool = False) -> int:
    """The first row whose cell in ``column`` starts with (or is) ``text``."""
    def hit(value) -> bool:
        return str(value) == text if exact else str(value).startswith(text)

    return next(r for r in range(1, ws.max_row + 1) if hit(ws.cell(row=r, column=column).value))


def _columns(ws, row):
    """Header text → column, for a row of the Summary's grid (merged cells leave the others empty)."""
    return {ws.cell(row=row, column=c).value: c for c in range(1, ws.max_column + 1)
            if ws.cell(row=row, column=c).value}


def test_summary_headline_figures(written):
    ws = written[2]["Summary"]
    assert "2026-W48" in ws["A1"].value
    assert ws["A2"].value.startswith("As of 2026-11-26") and "synced 11 h ago" in ws["A2"].value
    r = row_of(ws, "Active epics")
    col = _columns(ws, r)
    assert ws.cell(row=r + 1, column=col["Active epics"]).value == 7
    strategy = ws.cell(row=r + 1, column=col["Effort on strategy (vs KTLO)"])
    assert strategy.value == pytest.approx(0.72) and strategy.number_format == "0%"
    assert ws.cell(row=r + 2, column=col["Effort on strategy (vs KTLO)"]).value == "KTLO 24%"
    assert ws.cell(row=r + 1, column=col["Epics at risk / off track"]).value == 3
    assert ws.cell(row=r + 1, column=col["Slipped this week"]).value == 1
    assert ws.cell(row=r + 1, column=col["Hygiene score"]).value == pytest.approx(0.5)
    # The charts live on their own sheets; the Summary is text and tables that print on one page.
    assert ws._charts == [] and ws._images == []
    assert ws.row_dimensions[r + 1].height >= 30                     # the 20-pt figures clear of their labels


def test_summary_key_results_line_and_counts(written):
    ws = written[2]["Summary"]
    r = row_of(ws, "Key results:")
    assert ws.cell(row=r, column=1).value == ("Key results: 1 behind the calendar, 1 with no work planned, "
                                              "1 missed (quarter over) — of 5")
    counts = {h: ws.cell(row=r + 2, column=c).value for h, c in _columns(ws, r + 1).items()}
    assert counts == {"done": 0, "on track": 2, "behind": 1, "no work planned": 1, "missed": 1}
    # Each count sits under its header's merged span, right-aligned like the number below it.
    for c in _columns(ws, r + 1).values():
        assert ws.cell(row=r + 1, column=c).alignment.horizontal == "right"
        assert any(str(m).startswith(ws.cell(row=r + 2, column=c).coordinate) for m in ws.merged_cells.ranges)


def test_summary_pillar_table_and_gap_colours(written):
    ws = written[2]["Summary"]
    header = row_of(ws, "Pillar", exact=True)
    col = _columns(ws, header)
    assert list(col)[:4] == ["Pillar", "Target share", "Actual share", "Gap (pp)"]
    rows = {ws.cell(row=r, column=1).value: {h: ws.cell(row=r, column=c).value for h, c in col.items()}
            for r in range(header + 1, header + 6)}
    enterprise = rows["Win enterprise hospitals"]
    assert [enterprise[h] for h in ("Target share", "Actual share", "Gap (pp)")] == [
        pytest.approx(0.35), pytest.approx(0.56), pytest.approx(21)]
    gap = col["Gap (pp)"]
    assert ws.cell(row=header + 1, column=gap).number_format == '+0.0" pp";-0.0" pp";0.0" pp"'
    assert enterprise["Gap a week ago (pp)"] == pytest.approx(100 * (19 / 41 - 0.35))   # a week ago
    assert rows["Grow new practices"]["Actual share"] == 0
    assert rows["Unmapped"]["Actual share"] == pytest.approx(0.04)
    assert ws.cell(row=header + 1, column=gap).fill.fgColor.rgb.endswith("FFC7CE")      # +21 pp: red
    assert ws.cell(row=header + 4, column=gap).fill.fgColor.rgb.endswith("C6EFCE")      # −1 pp: green
    # Numeric headers stand right-aligned over their numbers; text headers left.
    assert all(ws.cell(row=header, column=c).alignment.horizontal == "right" for h, c in col.items() if h != "Pillar")
    assert ws.cell(row=header, column=1).alignment.horizontal == "left"


def test_summary_tables_are_sized_for_themselves(written):
    """The pillar names and the decision list's epic keys do not share one column width (a merged grid)."""
    ws = written[2]["Summary"]
    pillar_header = row_of(ws, "Pillar", exact=True)
    decision_header = row_of(ws, "Epics that need") + 1
    merged = {str(m).split(":")[0]: m for m in ws.merged_cells.ranges}
    pillar_span = merged[f"A{pillar_header}"].size["columns"]
    key_span = merged[f"A{decision_header}"].size["columns"]
    assert pillar_span > key_span >= 2
    widths = {ws.column_dimensions[get_column_letter(c)].width for c in range(1, 27)}
    assert len(widths) == 1                                           # one grid, no column sized for one table


def test_summary_decisions_link_to_jira(written):
    ws = written[2]["Summary"]
    start = row_of(ws, "Epics that need")
    assert ws.cell(row=start, column=1).value.endswith(": all 4 listed")
    keys = [ws.cell(row=start + 2 + i, column=1) for i in range(4)]
    assert [c.value for c in keys] == ["ENT-1", "ENT-3", "PLAT-2", "RET-1"]
    assert keys[0].hyperlink.target == f"{BASE_URL}/browse/ENT-1"


def test_epics_sheet_values_formats_links(written):
    ws = written[2]["Epics"]
    assert ws.freeze_panes == "A2" and not ws.auto_filter.ref  # the Table filters (a sheet filter would clash)
    # An Excel Table with a stable name over the header and every row.
    excel_table = ws.tables["tblEpics"]
    last_row = int(excel_table.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert excel_table.ref.startswith("A1:") and last_row == ws.max_row
    assert excel_table.tableStyleInfo.name == "TableStyleLight1"
    rows = {r["Epic"]: r for r in table(ws)}
    assert rows["ENT-1"]["RAG"] == "at risk"
    assert rows["ENT-1"]["Projected"] == datetime(2027, 1, 5)
    assert rows["ENT-1"]["Progress"] == pytest.approx(12 / 22)
    assert rows["RET-1"]["RAG"] == "off track"
    key_cells = [c for c in ws["A"][1:] if c.value]
    assert all(c.hyperlink and c.hyperlink.target == f"{BASE_URL}/browse/{c.value}" for c in key_cells)
    header = [c.value for c in ws[1]]
    target_col = header.index("Target date") + 1
    assert ws.cell(row=2, column=target_col).number_format == "yyyy-mm-dd"
    assert ws.cell(row=2, column=header.index("Progress") + 1).number_format == "0%"
    assert ws.column_dimensions["B"].width >= 10


def test_okrs_changes_allocation_sheets(written):
    wb = written[2]
    okrs = {r["Key result"]: r for r in table(wb["OKRs"]) if r["Level"] == "key result"}
    assert okrs["SSO and audit logs GA"]["Progress"] == pytest.approx(18 / 34)
    assert okrs["SSO and audit logs GA"]["Status"] == "behind"
    assert okrs["Churn 1.5%/month"]["Status"] == "no work planned"
    assert okrs["Practices onboarded without a sales call"]["Epics implied"] == 1
    changes = table(wb["Changes"])
    slipped = [r for r in changes if r["Change"] == "target date slipped"]
    assert [(r["Epic"], r["Days moved"]) for r in slipped] == [("ENT-3", 15)]
    allocation = table(wb["Allocation"])
    assert sum(r["Effort"] for r in allocation if r["Period type"] == "month") == pytest.approx(50)
    quality = {r["Measure"]: r["Value"] for r in table(wb["Data quality"])}
    assert quality["Epics without a pillar"] == pytest.approx(0.1)
    texts = [c.value for c in wb["Data quality"]["A"] if isinstance(c.value, str)]
    assert any(t.startswith("RAG rule") for t in texts)


HOSTILE = {
    "ENT-1": "=HYPERLINK(\"http://evil.example\",\"click\")",
    "ENT-2": "+1+1",
    "ENT-3": "-2+3",
    "RET-1": "@SUM(A1:A2)",
    "RET-2": "bell\x07 and null\x00 and escape\x1b",
    "GROW-1": "🚀 launch 🏥 hospitals",
    "PLAT-1": "שלום עולם — مرحبا بالعالم",
    "PLAT-2": "\t=1+1",
    "ENT-1-S1": "=cmd|' /C calc'!A0",
}


def test_hostile_content_gives_no_formulas(tmp_path):
    long_text = "x" * 40_000
    frame = mapped_issues(summaries={**HOSTILE, "PLAT-3": long_text}, descriptions={"ENT-1": long_text})
    workbook, _ = write_outputs(_views(frame), tmp_path, as_of=AS_OF, base_url=BASE_URL)
    wb = load_workbook(workbook)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = [c.value for c in cells if isinstance(c.value, str)]
    assert HOSTILE["ENT-1"] in values and "@SUM(A1:A2)" in values and "+1+1" in values
    assert "🚀 launch 🏥 hospitals" in values and HOSTILE["PLAT-1"] in values
    assert "bell\ufffd and null\ufffd and escape\ufffd" in values
    assert max(len(v) for v in values) <= 32_767
    long_cells = [v for v in values if v.startswith("xxxx")]
    assert long_cells and all("truncated: 40,000 characters" in v and len(v) <= 2_000 for v in long_cells)
    epics = wb["Epics"]
    formula_like = [c for c in epics["B"] if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert formula_like and all(c.quotePrefix for c in formula_like)


def test_long_epic_sheets_are_capped_and_say_so(tmp_path, monkeypatch):
    from rollup.writers import portfolio

    views = _views()
    n = len(views["epics"])
    limit = max(1, n // 2)
    monkeypatch.setattr(portfolio, "SHEET_ROW_LIMIT", limit)
    workbook, _ = write_outputs(views, tmp_path, as_of=AS_OF, base_url=BASE_URL)
    ws = load_workbook(workbook)["Epics"]
    keys = [ws.cell(row=r, column=1).value for r in range(2, 2 + limit)]
    assert all(keys) and ws.cell(row=2 + limit, column=1).value is None
    note = ws.cell(row=limit + 3, column=1).value
    assert note.startswith(f"Showing {limit:,} of {n:,} epics")
    kept = views["epics"][views["epics"]["key"].isin(keys)]
    dropped = views["epics"][~views["epics"]["key"].isin(keys)]
    worst = {"off track": 0, "at risk": 1, "not rated": 2, "on track": 3, "done": 4}
    assert kept["rag"].map(worst).max() <= dropped["rag"].map(worst).min()
    assert keys == [k for k in views["epics"]["key"] if k in set(keys)]  # the sheet's own order is kept
    quality = load_workbook(workbook)["Data quality"]
    assert any(str(c.value).startswith("Epics sheet: Showing") for c in quality["A"] if c.value)


def test_short_text_columns_fit_their_longest_value(written):
    """A pillar name in the Changes sheet's Before/After columns is not clipped by the next column."""
    ws = written[2]["Changes"]
    header = [c.value for c in ws[1]]
    for name in ("Before", "After"):
        col = header.index(name) + 1
        values = [str(c.value) for c in list(ws.iter_cols(min_col=col, max_col=col, min_row=2))[0] if c.value]
        if values:
            letter = get_column_letter(col)
            assert ws.column_dimensions[letter].width >= min(max(map(len, values)) + 2, 50), name


def test_every_table_is_an_excel_table_with_a_stable_name(written):
    """Power Query reads Tables: every table below the Summary's one-minute read is one, named after its sheet,
    its columns named as its header cells, over its header and all its rows; no two overlap."""
    from openpyxl.utils import range_boundaries

    wb = written[2]
    names = [name for ws in wb.worksheets for name in ws.tables]
    assert len(names) == len(set(names))
    assert {"tblPillars", "tblOKRs", "tblRoadmap", "tblEpics", "tblForecast", "tblAllocation", "tblChanges",
            "tblTrend", "tblTeams", "tblDataQuality"} <= set(names)
    for ws in wb.worksheets:
        if ws.title != "Summary":
            assert ws.tables, ws.title
        spans = []
        for excel_table in ws.tables.values():
            min_col, min_row, max_col, max_row = range_boundaries(excel_table.ref)
            header = [ws.cell(row=min_row, column=c).value for c in range(min_col, max_col + 1)]
            assert [c.name for c in excel_table.tableColumns] == header, (ws.title, excel_table.name)
            assert excel_table.name.startswith("tbl") and max_row > min_row
            spans.append((min_row, max_row))
        spans.sort()
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), ws.title
        assert not ws.auto_filter.ref or not ws.tables
    # The same views give the same names (a BI query that reads tblEpics keeps working next week).
    again = load_workbook(write_outputs(_views(), written[0].parent / "again", as_of=AS_OF, base_url=BASE_URL)[0])
    assert [n for ws in again.worksheets for n in ws.tables] == names
