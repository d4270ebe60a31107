"""Reading a worksheet table back: one dict per row, keyed by the header row, until the first empty row."""

from __future__ import annotations

from typing import Any


def table(ws: Any, header_row: int = 1) -> list[dict[str, Any]]:
    """The rows below ``header_row`` as dicts of header → value, stopping at the first empty row."""
    headers = [c.value for c in ws[header_row]]
    rows = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if all(v is None for v in row):
            break
        rows.append(dict(zip(headers, row)))
    return rows
