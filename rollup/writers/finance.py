"""The finance export: one workbook and the same tables as CSV, written as a set or not at all.

Everything goes into ``<out>/finance-<month>/``: ``finance-<month>.xlsx`` (Summary, By pillar,
By initiative, Detail, People, Policy, Reconciliation) and ``summary.csv``, ``by-pillar.csv``,
``by-initiative.csv``, ``detail.csv``, ``people.csv``, ``reconciliation.csv``, ``policy.csv``, and
``run.json`` (when the export ran and every other file's SHA-256: the only file that holds a run time).
The files are written into a hidden temporary folder next to it, flushed to disk, and the folder
is renamed into place (a previous export of the month is swapped out and removed), so a reader
sees the old set or the new set, never half of one.

CSV numbers have fixed decimals (6 for hours and FTE, 4 for rates, 2 for money), so the same figures
give the same bytes; ``detail.csv``'s SHA-256 is the content hash on the Policy sheet. In the
workbook every table has a frozen header, an autofilter and fitted widths, issue keys link to
Jira, and Jira text is always text (:func:`rollup.writers.safe.set_text`). Person-level data
appears only here, never in the portfolio workbook.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from rollup.finance.allocation import FinanceTables
from rollup.store.sites import JiraBase, browse_url
from rollup.writers.portfolio import add_excel_table
from rollup.writers.printing import set_print_setup
from rollup.writers.safe import atomic_dir, clean_text, looks_like_formula, set_text
from rollup.writers.style import HEADER_FILL, HEADER_FONT, LINK_FONT, TOTAL_FONT

SHEETS = ("Summary", "By pillar", "By initiative", "Detail", "People", "Evidence", "Policy", "Reconciliation")
FORMATS = {"hours": "#,##0.00", "fte": "0.000", "money": "#,##0.00", "rate": "#,##0.0000", "int": "#,##0",
           "exact": "#,##0.000000"}
#: Words shown in capitals in column headers.
_ACRONYMS = {"fte": "FTE", "ok": "OK", "jql": "JQL"}
_KEY_COLUMNS = ("issue_key", "epic", "initiative")
BOOL_FORMAT = '"TRUE";"TRUE";"FALSE"'
#: Widths of long text: a JQL query shows its start (the cell holds all of it), a hash and a check whole.
WIDTHS = {"jql": 60, "mappings_sha256": 68, "check": 100}


def _kind(column: str, bases: list[str]) -> str:
    if column in ("difference", "tolerance"):
        return "exact"  # a reconciliation's difference and tolerance are far below a hundredth
    if column in ("hours", "allocated_hours", "unallocated_hours", "logged_hours", "over_hours", "left", "right"):
        return "hours"
    if column == "fte":
        return "fte"
    if column == "issues":
        return "int"
    if column == "hourly_rate":
        return "rate"
    if column == "cost" or any(column in (f"{b}_capex", f"{b}_opex") for b in bases):
        return "money"
    if column in _KEY_COLUMNS:
        return "key"
    return "text"


def _header(column: str, bases: Sequence[str] = ()) -> str:
    """``gaap_capex`` → ``GAAP capex``, ``fte`` → ``FTE``, ``team_id`` → ``Team id``."""
    words = column.split("_")
    if len(words) > 1 and words[0] in bases:
        return " ".join([words[0].upper(), *words[1:]])
    words = [_ACRONYMS.get(w, w) for w in words]
    text = " ".join(words)
    return text if words[0].isupper() else text[:1].upper() + text[1:]


def write_sheet(wb: Workbook, title: str, frame: pd.DataFrame, bases: list[str], base_url: JiraBase | None,
                total: dict[str, Any] | None = None) -> None:
    """One table on its own sheet: header row frozen, autofilter, fitted widths, real number formats; ``total``
    (its figures computed with the tables, :attr:`FinanceTables.totals`) as a bold last row: the Table's totals
    row, outside its filter."""
    ws = wb.create_sheet(title)
    set_print_setup(ws, header_rows=1)
    columns = list(frame.columns)
    kinds = [_kind(c, bases) for c in columns]
    ws.freeze_panes = "A2"
    last_col = get_column_letter(max(len(columns), 1))
    with_total = bool(total) and len(frame) > 0 and columns[0] in (total or {})
    ref = f"A1:{last_col}{max(len(frame), 1) + 1 + int(with_total)}"
    # An Excel Table over the header, the rows and the Total row (the Table's totals row); else a sheet filter.
    label = str((total or {}).get(columns[0])) if with_total else None
    if not add_excel_table(ws, ref, [_header(c, bases) for c in columns], totals_label=label):
        ws.auto_filter.ref = ref if not with_total else f"A1:{last_col}{len(frame) + 1}"
    sample = frame.head(300)
    for j, column in enumerate(columns, start=1):
        if column in WIDTHS:
            width = WIDTHS[column]
        elif kinds[j - 1] == "text" or kinds[j - 1] == "key":
            longest = sample[column].astype(str).str.len().max() if len(sample) else 0
            width = min(max(int(longest or 0) + 2, len(_header(column, bases)) + 2, 8), 60)
        else:
            width = max(len(_header(column, bases)) + 2, 12)
        ws.column_dimensions[get_column_letter(j)].width = width
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_header(column, bases))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    values = [frame[c].astype("object").tolist() for c in columns]
    for i in range(len(frame)):
        row: list[Any] = []
        for j, kind in enumerate(kinds):
            row.append(_cell(ws, values[j][i], kind, base_url))
        ws.append(row)
    if with_total and total:
        cells = []
        for column, kind in zip(columns, kinds):
            cell = _cell(ws, total.get(column), kind, None)
            if cell is not None and not isinstance(cell, Cell):
                cell = WriteOnlyCell(ws, value=cell)
            if cell is not None:
                cell.font = TOTAL_FONT
            cells.append(cell)
        ws.append(cells)


def _cell(ws: Any, value: Any, kind: str, base_url: JiraBase | None) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if kind in FORMATS and isinstance(value, (int, float)) and not isinstance(value, bool):
        cell = WriteOnlyCell(ws, value=float(value))
        cell.number_format = FORMATS[kind]
        return cell
    if isinstance(value, bool):
        # A true/false cell, shown as TRUE / FALSE in any spreadsheet (LibreOffice shows 1 / 0 without a format).
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = BOOL_FORMAT
        return cell
    text = clean_text(value)
    link = browse_url(base_url, text) if kind == "key" and text and not text.startswith("(") else None
    if link:
        cell = WriteOnlyCell(ws)
        set_text(cell, text)
        cell.hyperlink = link
        cell.font = LINK_FONT
        return cell
    if looks_like_formula(text):
        cell = WriteOnlyCell(ws)
        set_text(cell, text)
        return cell
    return text


def write_workbook(tables: FinanceTables, path: Path, base_url: JiraBase | None) -> None:
    """The finance workbook at ``path`` (the caller makes the write atomic)."""
    wb = Workbook(write_only=True)
    frames = {"Summary": tables.summary, "By pillar": tables.by_pillar, "By initiative": tables.by_initiative,
              "Detail": tables.detail, "People": tables.people, "Evidence": tables.evidence, "Policy": tables.policy,
              "Reconciliation": tables.reconciliation}
    for title in SHEETS:
        write_sheet(wb, title, frames[title], tables.bases, base_url, total=tables.totals.get(title))
    wb.save(path)


def write_finance(tables: FinanceTables, out_dir: str | Path, *, base_url: JiraBase | None = None,
                  stamp: datetime | None = None, run: dict[str, Any] | None = None,
                  files: dict[str, bytes] | None = None) -> tuple[Path, list[Path]]:
    """Write the workbook and CSVs of one month as a set; return the folder and every file in it.

    ``stamp``: the date the workbook's own properties and its zip entries carry (the figures' date, never
    the time of the export), so the same figures give the same workbook bytes. ``run``: what ``run.json``
    says about the export (when it ran, …); it also lists every other file's SHA-256, and is the only file
    that changes when a closed month is exported again. ``files``: the CSVs' bytes
    (:meth:`FinanceTables.csv_files`) when the caller has them already.
    """
    name = f"finance-{tables.month}"
    final = Path(out_dir) / name
    names = [f"{name}.xlsx"]
    # Person-level cost: the folder and its files are for their owner only.
    with atomic_dir(final, private=True) as staging:
        write_workbook(tables, staging / names[0], base_url)
        reproducible_xlsx(staging / names[0], stamp or datetime(2000, 1, 1, tzinfo=timezone.utc))
        for file_name, data in (files if files is not None else tables.csv_files()).items():
            (staging / file_name).write_bytes(data)
            names.append(file_name)
        if run is not None:
            digests = {n: hashlib.sha256((staging / n).read_bytes()).hexdigest() for n in names}
            (staging / RUN_FILE).write_text(json.dumps({**run, "files_sha256": digests}, indent=2, sort_keys=True)
                                            + "\n", encoding="utf-8")
            names.append(RUN_FILE)
    return final, [final / n for n in names]


#: The export's run metadata (when it ran, each file's SHA-256), beside the data files.
RUN_FILE = "run.json"

_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)\b[^>]*>)[^<]*(</dcterms:\2>)")


def reproducible_xlsx(path: Path, stamp: datetime) -> None:
    """Give the workbook at ``path`` fixed dates: its created / modified properties and every zip entry's
    time become ``stamp`` (openpyxl writes the time of saving into both), so equal content is equal bytes."""
    when = stamp.astimezone(timezone.utc) if stamp.tzinfo else stamp
    text = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    repacked = path.with_name(path.name + ".repack")
    with zipfile.ZipFile(repacked, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(lambda m: m.group(1) + text + m.group(3), data)
            fixed = zipfile.ZipInfo(info.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)
    os.replace(repacked, path)
