"""Reading a worksheet table back: one dict per row, keyed by the header row, until the first empty row."""

from __future__ import annotations

from typing import Any


def table(ws: Any, header_row: int = 1) -> list[dict[str, Any]]:
    """The rows below ``header_row`` as dicts of header → value, stopping at the first empty row or at the
    totals row of the Excel Table whose header is ``header_row`` (:func:`totals_row` reads that)."""
    headers = [c.value for c in ws[header_row]]
    stop = _totals_row_number(ws, header_row)
    rows = []
    for number, row in enumerate(ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1):
        if all(v is None for v in row) or number == stop:
            break
        rows.append(dict(zip(headers, row)))
    return rows


def totals_row(ws: Any, header_row: int = 1) -> dict[str, Any] | None:
    """The totals row of the Excel Table whose header is ``header_row``, as header → value (None without one)."""
    number = _totals_row_number(ws, header_row)
    if number is None:
        return None
    headers = [c.value for c in ws[header_row]]
    return dict(zip(headers, (c.value for c in ws[number])))


def _totals_row_number(ws: Any, header_row: int) -> int | None:
    from openpyxl.utils.cell import range_boundaries

    for excel_table in getattr(ws, "tables", {}).values():
        _, top, _, bottom = range_boundaries(excel_table.ref)
        if top == header_row and excel_table.totalsRowCount:
            return bottom
    return None
