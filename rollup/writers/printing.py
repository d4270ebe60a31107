"""Print setup for the workbooks people print: landscape, one page wide, header rows on every page.

Excel and LibreOffice honour these settings when a sheet is printed or exported to PDF. A sheet named
in ``one_page`` is scaled to fit one page in both directions (the portfolio's Summary, which a CEO
reads on one sheet of paper); every other sheet fits one page wide and runs on as many pages as it
needs, repeating its header rows (the rows above its frozen pane) at the top of each.
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet


def set_print_setup(ws: Worksheet, *, one_page: bool = False, header_rows: int | None = None) -> None:
    """Landscape, fit to one page wide (and tall when ``one_page``), header rows repeated, narrow margins
    (``header_rows``: how many, for a write-only sheet, which cannot be read for its frozen pane)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.print_options.horizontalCentered = True
    header_rows = _header_rows(ws) if header_rows is None else header_rows
    if header_rows and not one_page:
        ws.print_title_rows = f"1:{header_rows}"
    ws.oddFooter.center.text = "&A — page &P of &N"


def set_print_setup_all(wb: Workbook, one_page: Iterable[str] = ()) -> None:
    """:func:`set_print_setup` on every sheet of ``wb``; the sheets named in ``one_page`` on one page."""
    single = set(one_page)
    for ws in wb.worksheets:
        set_print_setup(ws, one_page=ws.title in single)


def _header_rows(ws: Worksheet) -> int:
    """How many rows sit above the frozen pane (the table's header), 0 when nothing is frozen."""
    pane = ws.freeze_panes
    if not pane:
        return 0
    row = ws[pane].row
    return max(0, row - 1)
