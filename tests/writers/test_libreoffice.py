"""The workbook opens in LibreOffice: converted to PDF headless, the PDF exists and is not empty.

Without ``soffice`` the test is skipped with the reason; with ``ROLLUP_REQUIRE_LIBREOFFICE=1`` it FAILS
and names the install command (:mod:`office`).
"""

from __future__ import annotations

from office import pdf_pages, to_pdf
from portfolio_org import AS_OF, BASE_URL, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots

from rollup.jobs.report import build_views, write_outputs


def test_workbook_converts_to_pdf(tmp_path):
    frame = mapped_issues(summaries={"ENT-1": "=1+1 hostile", "ENT-2": "🚀 עברית"},
                          descriptions={"ENT-1": "x" * 40_000})
    views = build_views(frame, MAPPINGS, as_of=AS_OF, snapshots=snapshots(), sync_runs=SYNC_RUNS)
    workbook, _ = write_outputs(views, tmp_path / "out", as_of=AS_OF, base_url=BASE_URL)
    pdf, completed = to_pdf(workbook, tmp_path / "pdf")
    assert pdf.exists(), f"soffice exit {completed.returncode}: {completed.stdout} {completed.stderr}"
    assert pdf.stat().st_size > 1000
    assert pdf.read_bytes().startswith(b"%PDF")


def test_every_sheet_prints_landscape_one_page_wide_and_the_summary_on_one_page(tmp_path):
    """Print setup is in the file (Excel and LibreOffice honour it); LibreOffice prints the Summary on one page."""
    from openpyxl import load_workbook

    views = build_views(mapped_issues(), MAPPINGS, as_of=AS_OF, snapshots=snapshots(), sync_runs=SYNC_RUNS)
    workbook, _ = write_outputs(views, tmp_path / "out", as_of=AS_OF, base_url=BASE_URL)
    wb = load_workbook(workbook)
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth == 1, ws.title
        assert setup.fitToHeight == (1 if ws.title == "Summary" else 0), ws.title
        if ws.freeze_panes and ws.title != "Summary":
            assert ws.print_title_rows, f"{ws.title}: its header row is not repeated on every page"
    # The Summary alone, printed by LibreOffice: one page.
    for ws in list(wb.worksheets):
        if ws.title != "Summary":
            wb.remove(ws)
    summary = tmp_path / "summary-only.xlsx"
    wb.save(summary)
    pdf, _ = to_pdf(summary, tmp_path)
    pages = pdf_pages(pdf)
    assert pages == 1, f"the Summary prints on {pages} pages"
