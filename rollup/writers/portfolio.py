"""The executive portfolio workbook (openpyxl).

Sheets: Summary (the one-minute read), Pillars, OKRs, Roadmap, Epics, Allocation, Changes,
Trend, Teams, Data quality. Every table has a frozen header row, an autofilter, fitted widths and real
number / percent / date formats; every issue key links to ``<base_url>/browse/KEY``; Jira
text goes through :func:`rollup.writers.safe.set_text` so it is never a formula.

The Summary is laid out on a grid of equal narrow columns, each table's fields spanning as many of
them as they need (:class:`Span`), and holds no chart (the charts are on the sheets they belong to):
it prints on one landscape page at a size that can be read.
"""

from __future__ import annotations

import math
import re
import warnings
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rollup.config.models import ALLOCATION_WINDOW_DAYS
from rollup.store.sites import JiraBase, browse_url
from rollup.views import decisions as decisions_view
from rollup.views import okrs as okrs_view
from rollup.views import scope as scope_view
from rollup.views.completeness import freshness_line
from rollup.writers.printing import set_print_setup_all
from rollup.writers.safe import DISPLAY_LIMIT, atomic_write, set_text
from rollup.writers.style import (
    GAP_TOLERANCE,
    HEADER_FILL,
    HEADER_FONT,
    LINK_FONT,
    PILLAR_COLOURS,
    RAG_FILLS,
    TOTAL_FONT,
    colour_map,
)

SHEETS = ["Summary", "Pillars", "OKRs", "Roadmap", "Epics", "Forecast", "Allocation", "Changes", "Trend", "Teams",
          "Data quality"]

PCT, INT, NUM, DATE = "0%", "#,##0", "#,##0.0", "yyyy-mm-dd"
#: Percentage points: the value is already in points (21.0 prints "+21.0 pp").
PP = '+0.0" pp";-0.0" pp";0.0" pp"'

EFFORT_RULE = ("Effort = story points of completed stories, tasks and bugs, counted in the month they were "
               "resolved (an unestimated completed issue counts as the median estimate); when fewer than half "
               "of the completed issues are estimated, effort is the count of completed issues. Sub-tasks are "
               "not counted separately. Actual shares use the last {window} days.")


@dataclass
class Col:
    """One column of a written table: frame field, header, kind and an optional width cap."""

    field: str
    header: str
    kind: str = "text"  # text | long | key | int | num | pct | pp | date | rag | bool
    width: int | None = None


@dataclass
class WorkbookInfo:
    """What the workbook says about itself."""

    as_of: date
    base_url: JiraBase | None = None
    title: str = "R&D portfolio"
    team: str | None = None
    unit: str = "story points"
    notes: list[str] = field(default_factory=list)
    #: Days of completed work behind the pillars' actual shares (``report.allocation_window_days``).
    allocation_window_days: int = ALLOCATION_WINDOW_DAYS

    @property
    def effort_rule(self) -> str:
        """The effort definition, with this workbook's window."""
        return EFFORT_RULE.format(window=self.allocation_window_days)


def iso_week(as_of: date) -> str:
    """``2026-W48`` — the ISO week of the as-of date, used in file names."""
    year, week, _ = as_of.isocalendar()
    return f"{year}-W{week:02d}"


def issue_url(base_url: JiraBase | None, key: str) -> str | None:
    """``<base_url>/browse/KEY`` (each site's own for several sites) or None without a base URL."""
    return browse_url(base_url, key)


# ---------------------------------------------------------------------------------------- cells


def _plain(value: Any) -> Any:
    """A value openpyxl can store: NA → None, numpy → Python, Timestamp → naive datetime."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.tz_convert(None).to_pydatetime() if value.tzinfo else value.to_pydatetime()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def put(ws: Worksheet, row: int, col: int, value: Any, kind: str = "text", base_url: JiraBase | None = None,
        styles: dict | None = None):
    """Write one value with the format of its kind; text never becomes a formula.

    ``styles`` (optional, one dict per table) caches the finished style of each (kind, variant) so
    later cells copy it instead of resolving font / fill / number format again (the slow part of
    openpyxl's style setters); the result is the same.
    """
    cell = ws.cell(row=row, column=col)
    value = _plain(value)
    if value is None:
        return cell
    if kind in ("int", "num", "pct", "pp"):
        try:
            number: float = float(value)
        except (TypeError, ValueError):
            set_text(cell, value)
            return cell
        if not math.isfinite(number):  # never a number a spreadsheet could not read back
            set_text(cell, value)
            return cell
        if kind == "int":
            number = int(round(number))
        # What ``cell.value = number`` stores, without openpyxl working out the type again.
        cell._value, cell.data_type = number, "n"
        restyle(cell, styles, kind,
               lambda: setattr(cell, "number_format", {"int": INT, "num": NUM, "pct": PCT, "pp": PP}[kind]))
    elif kind == "date":
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                set_text(cell, value)
                return cell
        # A date cell ("d"): openpyxl would also give it a default date format first, replaced at once here.
        cell._value = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
        cell.data_type = "d"
        restyle(cell, styles, kind, lambda: setattr(cell, "number_format", DATE))
    elif kind == "bool":
        cell.value = "yes" if bool(value) else "no"
    else:
        set_text(cell, value, limit=DISPLAY_LIMIT if kind == "long" else 32_767)
        if kind == "key":
            url = issue_url(base_url, str(value))
            if url:
                cell.hyperlink = url
                restyle(cell, styles, kind, lambda: setattr(cell, "font", LINK_FONT))
        elif kind == "rag":
            fill = RAG_FILLS.get(str(value))
            if fill:
                restyle(cell, styles, (kind, fill), lambda: setattr(cell, "fill", PatternFill("solid", fgColor=fill)))
    return cell


def restyle(cell: Any, styles: dict | None, variant: Any, apply: Any) -> None:
    """Apply a style change once per (variant, style the cell had), then copy the resulting style array to
    later cells alike (same result, much cheaper: openpyxl's style setters look the font, fill or number
    format up in the workbook's lists on every call). Keyed on the cell's own style too, so a cell that
    differs already (e.g. text given Excel's quote prefix) never takes another's style."""
    key = (variant, b"" if cell._style is None else cell._style.tobytes())
    if styles is not None:
        done = styles.get(key)
        if done is not None:
            cell._style = copy(done)
            return
    apply()
    if styles is not None:
        styles[key] = copy(cell._style)


#: Column kinds whose values Excel aligns right (their headers follow).
NUMERIC_KINDS = frozenset({"int", "num", "pct", "pp", "date"})


def write_table(ws: Worksheet, frame: pd.DataFrame, columns: list[Col], *, base_url: JiraBase | None,
                start_row: int = 1, start_col: int = 1, header_row_is_frozen: bool = True,
                autofilter: bool = True, totals: dict[str, Any] | None = None) -> int:
    """Write ``frame`` as a table; return the last row written. Frozen header, filter, widths; ``totals``
    (field → figure, worked out by the view; the first column's the label) a bold totals row of the Table."""
    for j, col in enumerate(columns):
        cell = ws.cell(row=start_row, column=start_col + j, value=col.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        # A number's header stands right-aligned over its numbers, as Excel aligns them.
        cell.alignment = Alignment(vertical="center", wrap_text=False,
                                   horizontal="right" if col.kind in NUMERIC_KINDS else None)
    present = [c for c in columns if c.field in frame.columns]
    values = {c.field: frame[c.field].astype("object").tolist() for c in present}
    styles: dict = {}
    for i in range(len(frame)):
        for j, col in enumerate(columns):
            if col.field in values:
                put(ws, start_row + 1 + i, start_col + j, values[col.field][i], col.kind, base_url, styles)
    last = start_row + len(frame)
    label = None
    if totals and len(frame) and columns[0].field in totals:
        label = str(totals[columns[0].field])
        last += 1
        for j, col in enumerate(columns):
            if col.field in totals:
                put(ws, last, start_col + j, totals[col.field], col.kind, None, styles)
                ws.cell(row=last, column=start_col + j).font = TOTAL_FONT
    if header_row_is_frozen:
        ws.freeze_panes = ws.cell(row=start_row + 1, column=start_col)
    ref = (f"{get_column_letter(start_col)}{start_row}:"
           f"{get_column_letter(start_col + len(columns) - 1)}{max(last, start_row + 1)}")
    # An Excel Table (what Power Query and BI tools read), with its own filter buttons; the sheet's
    # filter is set only where a table cannot be made (a header given twice).
    if not add_excel_table(ws, ref, [c.header for c in columns], totals_label=label) and autofilter:
        ws.auto_filter.ref = ref if label is None else ref[:len(ref) - len(str(last))] + str(last - 1)
    fit_widths(ws, frame, columns, start_col)
    return last


#: The Tables' style: light banding under the header cells' own fill.
TABLE_STYLE = "TableStyleLight1"


def table_name(ws: Worksheet) -> str:
    """A workbook-unique Table name from the sheet's title: ``Epics`` → ``tblEpics``, ``Data quality`` →
    ``tblDataQuality``, the second table of a sheet ``tblDataQuality2`` (stable: tables are written in order)."""
    words = re.findall(r"[A-Za-z0-9]+", ws.title)
    base = "tbl" + ("".join(w[:1].upper() + w[1:] for w in words) or "Table")
    taken = {name for sheet in ws.parent.worksheets for name in getattr(sheet, "tables", {})}
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    return name


def add_excel_table(ws: Any, ref: str, headers: list[str], *, totals_label: str | None = None) -> bool:
    """Make ``ref`` (header row first) an Excel Table named by :func:`table_name`; False (nothing added) when
    the headers are not distinct non-empty text, which a Table needs.

    ``totals_label``: the last row of ``ref`` is the Table's totals row, its first column saying
    ``totals_label`` (its figures are the cells the caller wrote: each the sum the tables computed, so the
    workbook read back shows them without a spreadsheet's recalculation); the filter covers the rows above it.
    """
    from openpyxl.worksheet.filters import AutoFilter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    if not headers or len({h.strip().lower() for h in headers}) != len(headers) or not all(h.strip() for h in headers):
        return False
    filter_ref = ref
    if totals_label is not None:
        start, end = ref.split(":")
        letters = end.rstrip("0123456789")
        filter_ref = f"{start}:{letters}{int(end[len(letters):]) - 1}"
    # The columns are named here, as their header cells say (a write-only sheet cannot be read back for them).
    columns = [TableColumn(id=i, name=h) for i, h in enumerate(headers, start=1)]
    if totals_label is not None:
        columns[0].totalsRowLabel = totals_label
    table = Table(displayName=table_name(ws), ref=ref, autoFilter=AutoFilter(ref=filter_ref), tableColumns=columns,
                  totalsRowCount=1 if totals_label is not None else None)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True, showColumnStripes=False,
                                          showFirstColumn=False, showLastColumn=False)
    with warnings.catch_warnings():
        # openpyxl warns on every table of a write-only sheet that its columns must be named by hand: they are.
        warnings.filterwarnings("ignore", message="In write-only mode you must add table columns manually")
        ws.add_table(table)
    return True


def fit_widths(ws: Worksheet, frame: pd.DataFrame, columns: list[Col], start_col: int = 1) -> None:
    """Set each column's width from its header and (a sample of) its values."""
    sample = frame.head(500)
    for j, col in enumerate(columns):
        letter = get_column_letter(start_col + j)
        if col.kind == "date":
            width = 11
        elif col.kind in ("pct", "pp", "int", "num"):
            width = 9
        elif col.field in sample.columns and len(sample):
            lengths = sample[col.field].astype("object").map(lambda v: 0 if _plain(v) is None else len(str(v)))
            # Long text (summaries) is sized for most rows and wraps; short text fits its longest value.
            width = int(lengths.quantile(0.9) if col.kind == "long" else lengths.max()) + 2
        else:
            width = 10
        width = max(width, len(col.header) + 2)
        cap = col.width or (60 if col.kind == "long" else 50)
        current = ws.column_dimensions[letter].width or 0
        ws.column_dimensions[letter].width = max(min(width, cap), min(current, cap) if current > 13 else 0, 6)


# ---------------------------------------------------------------------------------------- sheets

EPIC_COLUMNS = [
    Col("key", "Epic", "key"), Col("site", "Site"), Col("summary", "Summary", "long", 50),
    Col("initiative", "Initiative", "key"),
    Col("pillar_name", "Pillar"), Col("objective", "Objective", "text", 40),
    Col("key_result_name", "Key result", "text", 40),
    Col("bucket_name", "Bucket"),
    Col("team", "Team"), Col("owner", "Owner"), Col("status", "Status"), Col("status_category", "Category"),
    Col("start_date", "Start", "date"), Col("target_date", "Target date", "date"),
    Col("projected_completion", "Projected", "date"), Col("days_late", "Days late", "int"),
    Col("p50", "P50", "date"), Col("p85", "P85", "date"), Col("chance", "Chance of target date", "pct"),
    Col("rag", "RAG", "rag"), Col("rag_reason", "Why"), Col("progress", "Progress", "pct"),
    Col("progress_points", "Progress (points)", "pct"), Col("progress_count", "Progress (count)", "pct"),
    Col("points_done", "Points done", "num"), Col("points_total", "Points total", "num"),
    Col("children_done", "Issues done", "int"), Col("children", "Issues", "int"),
    Col("sprints", "Sprints touched", "int"),
    Col("points_left_out", "Points left out (issues)", "int"),
    Col("throughput_per_week", "Throughput / week", "num"), Col("unit", "Unit"),
    Col("lint_findings", "Lint findings", "int"), Col("lint_rules", "Lint rules"),
    Col("hygiene_ok", "Passes lint", "bool"),
]

def epic_columns(epics: pd.DataFrame) -> list[Col]:
    """The Epics sheet's columns: the Site column only where the epics come from more than one Jira site."""
    several = "site" in epics.columns and epics["site"].dropna().nunique() > 1
    return EPIC_COLUMNS if several else [c for c in EPIC_COLUMNS if c.field != "site"]


PILLAR_COLUMNS = [
    Col("pillar_name", "Pillar"), Col("target_share", "Target share", "pct"),
                  Col("actual_share", "Actual share", "pct"),
    Col("gap_pp", "Gap (pp)", "pp"), Col("effort", "Effort", "num"), Col("epics_open", "Epics open", "int"),
    Col("epics_done", "Epics done", "int"), Col("epics_at_risk", "At risk / off track", "int"),
    Col("progress", "Progress", "pct"), Col("gap_previous_pp", "Gap a week ago (pp)", "pp"),
]

OKR_COLUMNS = [
    Col("level", "Level"), Col("objective", "Objective", "text", 45), Col("quarter", "Quarter"),
    Col("pillar_name", "Pillar"), Col("key_result_name", "Key result", "text", 45), Col("target", "Target", "num"),
    Col("target_unit", "Target unit"), Col("status", "Status", "rag"), Col("why", "Why", "text", 45),
    Col("progress", "Progress", "pct"), Col("expected", "Quarter elapsed", "pct"),
    Col("epic_count", "Epics", "int"), Col("implied", "Epics implied", "int"),
    Col("epics", "Contributing epics", "text", 60),
    Col("points_done", "Points done", "num"), Col("points_total", "Points total", "num"),
    Col("children_done", "Issues done", "int"), Col("children", "Issues", "int"),
    Col("sprints", "Sprints touched", "int"), Col("unit", "Unit"),
]

ROADMAP_COLUMNS = [
    Col("initiative", "Initiative", "key"), Col("initiative_summary", "Initiative summary", "long", 40),
    Col("key", "Epic", "key"), Col("summary", "Summary", "long", 45), Col("pillar_name", "Pillar"), Col("team", "Team"),
    Col("start_date", "Start", "date"), Col("target_date", "Target date", "date"),
    Col("target_quarter", "Target quarter"),
    Col("projected_completion", "Projected", "date"), Col("rag", "RAG", "rag"), Col("progress", "Progress", "pct"),
]

ALLOCATION_COLUMNS = [
    Col("period_type", "Period type"), Col("period", "Period"), Col("period_start", "Period start", "date"),
    Col("pillar_name", "Pillar"), Col("bucket_name", "Bucket"), Col("treatment", "Treatment"),
    Col("effort", "Effort", "num"), Col("share", "Share of period", "pct"), Col("unit", "Unit"),
]

CHANGE_COLUMNS = [
    Col("change", "Change"), Col("key", "Epic", "key"), Col("summary", "Summary", "long", 50),
    Col("pillar_name", "Pillar", "text", 28), Col("team", "Team"), Col("before", "Before"), Col("after", "After"),
    Col("days_slipped", "Days moved", "int"), Col("scope_growth", "Scope growth", "pct"),
    Col("size", "Size now", "num"), Col("baseline", "Compared with", "date"),
]

TEAM_COLUMNS = [
    Col("team", "Team"), Col("epics_open", "Epics open", "int"),
    Col("epics_done", "Epics done", "int"), Col("epics_at_risk", "At risk / off track", "int"),
    Col("epics_not_rated", "Not rated", "int"), Col("progress", "Progress", "pct"), Col("effort", "Effort", "num"),
    Col("effort_share", "Effort share", "pct"), Col("issues_epic_not_visible", "Issues under epics not visible", "int"),
    Col("hygiene", "Hygiene", "pct"),
]

FORECAST_COLUMNS = [
    Col("level", "Level"), Col("key", "Key", "key"), Col("name", "Name", "long", 45), Col("team", "Team"),
    Col("target_date", "Target date", "date"), Col("p50", "P50", "date"), Col("p85", "P85", "date"),
    Col("p95", "P95", "date"), Col("chance", "Chance of target date", "pct"), Col("remaining", "Items left", "int"),
    Col("allowance", "Default-size allowance", "int"), Col("growth", "Split growth", "int"), Col("wip", "WIP", "int"),
    Col("per_week", "Items / week", "num"), Col("split_rate", "Split rate", "pct"), Col("epics", "Epics", "int"),
    Col("note", "Note", "text", 45), Col("p85_last_week", "P85 last week", "date"),
    Col("p85_move_days", "P85 moved (days)", "int"), Col("cause", "Why it moved", "text", 40),
]

DECISION_COLUMNS = [
    Col("key", "Epic", "key"), Col("summary", "Summary", "long", 45), Col("pillar_name", "Pillar", "text", 28),
    Col("team", "Team"), Col("owner", "Owner"), Col("rag", "RAG", "rag"), Col("why", "Why", "text", 45),
    Col("target_date", "Target date", "date"), Col("size", "Size", "num"), Col("unit", "Unit"),
]


def _gap_fill(gap: float) -> PatternFill | None:
    if gap is None or (isinstance(gap, float) and math.isnan(gap)):
        return None
    size = abs(gap)
    colour = "C6EFCE" if size <= GAP_TOLERANCE else "FFEB9C" if size <= 2 * GAP_TOLERANCE else "FFC7CE"
    return PatternFill("solid", fgColor=colour)


def _image(ws: Worksheet, path: Path | None, anchor: str, width: int = 620) -> None:
    if path is None or not Path(path).exists():
        return
    img = Image(str(path))
    scale = width / img.width
    img.width, img.height = int(img.width * scale), int(img.height * scale)
    ws.add_image(img, anchor)


#: The Summary's sections, in words the consistency test and readers look for.
INSIGHTS_HEADING = "What you should know this week"

# The Summary is laid out on a grid of narrow columns; each table spans as many grid columns per
# field as that field needs, so every table is sized for itself (a wide pillar name does not widen
# the decision list's epic keys) and the page stays one printed sheet wide.
#: Grid columns on the Summary and their width (characters).
GRID_COLUMNS, GRID_WIDTH = 26, 6.5
#: About this many characters of 11-pt text fit on one line across the whole grid.
GRID_CHARS_PER_LINE = 185
#: Points of height for the row of 20-pt headline figures (the default 15 lets them overlap their labels).
HEADLINE_ROW_HEIGHT = 30
#: Grid columns an insight sentence spans; the epics it cites sit in the columns to its right.
SENTENCE_SPAN, KEY_SPAN = 20, 2


@dataclass
class Span:
    """A table column on the Summary grid: the column written and how many grid columns it spans."""

    col: Col
    span: int


_PILLAR_SPANS = {"pillar_name": 6, "epics_at_risk": 3, "gap_previous_pp": 3}
PILLAR_GRID = [Span(c, _PILLAR_SPANS.get(c.field, 2)) for c in PILLAR_COLUMNS]
_DECISION_SPANS = {"key": 2, "summary": 5, "pillar_name": 3, "team": 2, "owner": 2, "rag": 2, "why": 5,
                   "target_date": 2, "size": 2, "unit": 1}
DECISION_GRID = [Span(c, _DECISION_SPANS[c.field]) for c in DECISION_COLUMNS]
#: Headline cards: grid columns each spans.
CARD_SPAN = 5
#: Key-result counts: grid columns each status spans.
STATUS_SPAN = 3


def _lines(text: str, chars_per_line: float) -> int:
    return max(1, math.ceil(len(str(text)) / chars_per_line))


def _merge(ws: Worksheet, row: int, col: int, span: int) -> None:
    if span > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)


def write_grid_table(ws: Worksheet, frame: pd.DataFrame, grid: list[Span], *, base_url: JiraBase | None,
                     start_row: int) -> int:
    """A table on the Summary grid: each field's header and cells merged over its span; the last row."""
    col = 1
    anchors = []
    for item in grid:
        cell = ws.cell(row=start_row, column=col, value=item.col.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        numeric = item.col.kind in NUMERIC_KINDS
        # Text stands one indent clear of the number to its left (a size beside its unit).
        cell.alignment = Alignment(vertical="center", wrap_text=True, horizontal="right" if numeric else "left",
                                   indent=0 if numeric or col == 1 else 1)
        _merge(ws, start_row, col, item.span)
        anchors.append(col)
        col += item.span
    headers_lines = max(_lines(i.col.header, i.span * GRID_WIDTH * 1.2) for i in grid)
    ws.row_dimensions[start_row].height = 15 * headers_lines
    styles: dict = {}
    values = {i.col.field: frame[i.col.field].astype("object").tolist() for i in grid if i.col.field in frame.columns}
    wrap, top = Alignment(wrap_text=True, vertical="top", indent=1), Alignment(vertical="top")
    for r in range(len(frame)):
        row = start_row + 1 + r
        lines = 1
        for item, anchor in zip(grid, anchors):
            if item.col.field in values:
                value = values[item.col.field][r]
                cell = put(ws, row, anchor, value, item.col.kind, base_url, styles)
                if item.col.kind in ("text", "long") and _plain(value) is not None and anchor > 1:
                    # Long text wraps inside its span; the row grows to show it (it never spills over).
                    cell.alignment = wrap
                    lines = max(lines, _lines(value, item.span * GRID_WIDTH * 1.3))
                else:
                    cell.alignment = top
            _merge(ws, row, anchor, item.span)
        if lines > 1:
            ws.row_dimensions[row].height = 15 * min(lines, 3)
    return start_row + len(frame)


def _heading(ws: Worksheet, row: int, text: str) -> None:
    ws.cell(row=row, column=1, value=text).font = Font(bold=True, size=12)


def _wrapped(ws: Worksheet, row: int, text: str, span: int = GRID_COLUMNS, **font: Any) -> None:
    """``text`` in one merged, wrapped row across ``span`` grid columns, tall enough for its lines."""
    cell = ws.cell(row=row, column=1)
    set_text(cell, text)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    if font:
        cell.font = Font(**font)
    _merge(ws, row, 1, span)
    ws.row_dimensions[row].height = 15 * _lines(text, GRID_CHARS_PER_LINE * span / GRID_COLUMNS)


def _insights(ws: Worksheet, insights: pd.DataFrame, row: int, base_url: JiraBase | None) -> int:
    """The sentences, one merged row each, the epics each cites linked to Jira beside it; the next row."""
    _heading(ws, row, INSIGHTS_HEADING)
    row += 1
    for item in insights.itertuples():
        _wrapped(ws, row, f"{item.rank}. {item.sentence}", SENTENCE_SPAN)
        cited = cast(list[str], item.keys)
        for j, key in enumerate(list(cited)[: (GRID_COLUMNS - SENTENCE_SPAN) // KEY_SPAN]):
            col = SENTENCE_SPAN + 1 + j * KEY_SPAN
            put(ws, row, col, key, "key", base_url).alignment = Alignment(vertical="top")
            _merge(ws, row, col, KEY_SPAN)
        row += 1
    return row + 1


def _summary(wb: Workbook, views: dict[str, pd.DataFrame], info: WorkbookInfo, charts: dict[str, list[Path]]) -> None:
    """The one-page read: title, the week's sentences, headline figures, key results, pillars, decisions.

    Its charts are on the sheets they belong to (Pillars, OKRs, Roadmap, Allocation, Changes), so the
    Summary prints on one page at a size a reader can read.
    """
    ws = wb.active
    ws.title = "Summary"
    ws.sheet_view.showGridLines = False
    for col in range(1, GRID_COLUMNS + 1):
        ws.column_dimensions[get_column_letter(col)].width = GRID_WIDTH
    title = f"{info.title} — week {iso_week(info.as_of)}" + (f" — team {_team_name(views, info.team)}"
                                                             if info.team else "")
    set_text(ws.cell(row=1, column=1), title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=16)
    ws.row_dimensions[1].height = 22
    line = f"As of {info.as_of.isoformat()}. " + freshness_line(views["completeness"])
    _wrapped(ws, 2, line, italic=True, color="555555")

    row = _insights(ws, views["insights"], 4, info.base_url)

    head = views["headline"].set_index("measure")
    cards = [
        ("active_epics", "Active epics", "int", None),
        ("strategy_share", "Effort on strategy (vs KTLO)", "pct", "ktlo_share"),
        ("epics_at_risk", "Epics at risk / off track", "int", None),
        ("slipped_this_week", "Slipped this week", "int", None),
        ("hygiene", "Hygiene score", "pct", None),
    ]
    detail_lines = 1
    for j, (measure, label, kind, other) in enumerate(cards):
        col = 1 + j * CARD_SPAN
        ws.cell(row=row, column=col, value=label).font = Font(bold=True, color="555555")
        _merge(ws, row, col, CARD_SPAN)
        cell = put(ws, row + 1, col, head.at[measure, "value"], kind)
        cell.font = Font(bold=True, size=20)
        cell.alignment = Alignment(horizontal="left", vertical="center")
        _merge(ws, row + 1, col, CARD_SPAN)
        detail = str(head.at[measure, "detail"])
        if other:
            v = cast(float, head.at[other, "value"])
            detail = f"KTLO {v:.0%}" if not pd.isna(v) else "no completed work"
        set_text(ws.cell(row=row + 2, column=col), detail)
        ws.cell(row=row + 2, column=col).font = Font(size=9, color="777777")
        ws.cell(row=row + 2, column=col).alignment = Alignment(wrap_text=True, vertical="top")
        _merge(ws, row + 2, col, CARD_SPAN)
        detail_lines = max(detail_lines, _lines(detail, CARD_SPAN * GRID_WIDTH * 1.25))
    ws.row_dimensions[row + 1].height = HEADLINE_ROW_HEIGHT  # the 20-pt figures clear of their labels
    ws.row_dimensions[row + 2].height = 12 * detail_lines
    row += 4

    _heading(ws, row, okrs_view.headline(views["okr_summary"]))
    counts = okrs_view.counts(views["okr_summary"])
    for j, status in enumerate(okrs_view.STATUSES):
        col = 1 + j * STATUS_SPAN
        header = ws.cell(row=row + 1, column=col, value=status)
        header.font, header.fill = HEADER_FONT, HEADER_FILL
        header.alignment = Alignment(horizontal="right")  # over its count, which Excel aligns right
        _merge(ws, row + 1, col, STATUS_SPAN)
        put(ws, row + 2, col, counts.get(status, 0), "int")
        _merge(ws, row + 2, col, STATUS_SPAN)
    row += 4

    whose = ("the team's effort share vs the portfolio's target shares" if info.team
             else "effort share actual vs target")
    _heading(ws, row, f"Pillars: {whose} (last {info.allocation_window_days} days; gaps in percentage points)")
    pillars = views["pillars"]
    first = row + 1
    last = write_grid_table(ws, pillars, PILLAR_GRID, base_url=info.base_url, start_row=first)
    colours = colour_map(list(pillars["pillar"].astype(str)), PILLAR_COLOURS)
    gap_col = 1 + sum(s.span for s in PILLAR_GRID[:3])
    for i, (pillar, gap) in enumerate(zip(pillars["pillar"].astype(str), pillars["gap"])):
        name_cell = ws.cell(row=first + 1 + i, column=1)
        name_cell.fill = PatternFill("solid", fgColor=colours[pillar].lstrip("#"))
        name_cell.font = Font(bold=True, color="FFFFFF")
        fill = _gap_fill(gap)
        if fill:
            ws.cell(row=first + 1 + i, column=gap_col).fill = fill

    row = last + 2
    picks = views["decisions"]
    _heading(ws, row, decisions_view.heading(picks))
    shown = picks[picks["shown"].astype(bool)] if len(picks) else picks
    if shown.empty:
        row += 2
    else:
        row = write_grid_table(ws, shown.reset_index(drop=True), DECISION_GRID, base_url=info.base_url,
                               start_row=row + 1) + 2
    ws.cell(row=row, column=1, value="How to read this").font = Font(bold=True)
    charts_line = ("Charts: on the Pillars, OKRs, Roadmap, Allocation and Changes sheets; every epic on the "
                   "Epics sheet, its forecast on the Forecast sheet; how strategy, KTLO, effort and hygiene are "
                   "counted: Data quality, under 'Rules and definitions'.")
    rag_text = views["definitions"].set_index("name")["text"]["rag"]
    for n, text in enumerate([rag_text, charts_line], start=1):
        # Wrapped inside the Summary's grid: a long line would widen the printed page.
        _wrapped(ws, row + n, text, size=9)
    ws.freeze_panes = "A3"


def _roadmap_frame(epics: pd.DataFrame) -> pd.DataFrame:
    if epics.empty:
        return epics.assign(target_quarter=pd.Series(dtype=object))
    rows = epics[epics["rag"] != "done"]
    target = pd.to_datetime(rows["target_date"])
    quarter = target.dt.year.astype("Int64").astype(str) + "Q" + target.dt.quarter.astype("Int64").astype(str)
    rows = rows.assign(target_quarter=quarter.where(target.notna(), None),
                       initiative_sort=rows["initiative"].fillna("~"))
    return rows.sort_values(["initiative_sort", "target_date", "key"], na_position="last", kind="stable")


#: Most epic rows the Epics and Roadmap sheets hold. openpyxl writes ~10,000 table cells a second on a
#: small machine; 40,000 epics would take minutes to write and to open. A capped sheet says so under
#: its table and in the Data quality notes, and keeps the epics that most need attention.
SHEET_ROW_LIMIT = 2_000

#: Order in which a capped sheet keeps epics: off track first, done last; biggest first within each.
_CAP_ORDER = {"off track": 0, "at risk": 1, "not rated": 2, "on track": 3, "done": 4}


def cap_rows(frame: pd.DataFrame, limit: int | None = None, *, what: str = "epics") -> tuple[pd.DataFrame, str | None]:
    """At most ``limit`` (default :data:`SHEET_ROW_LIMIT`) rows of an epic table, in the frame's own order,
    and a note saying what was left out (None when nothing was)."""
    limit = SHEET_ROW_LIMIT if limit is None else limit
    if len(frame) <= limit:
        return frame, None
    rank = frame["rag"].astype("object").map(_CAP_ORDER).fillna(len(_CAP_ORDER)) if "rag" in frame else 0
    size = pd.to_numeric(frame["size"], errors="coerce").fillna(0) if "size" in frame else 0
    order = pd.DataFrame({"rank": rank, "size": -size, "pos": np.arange(len(frame))}, index=frame.index)
    keep = order.sort_values(["rank", "size", "pos"], kind="stable").index[:limit]
    kept = frame.loc[frame.index.isin(keep)]
    note = (f"Showing {limit:,} of {len(frame):,} {what} (sheet capped at {limit:,} rows): off track first, then at "
            "risk, not rated, on track and done, biggest first within each; the counts on the other sheets cover "
            f"all {len(frame):,}.")
    return kept, note


def build_workbook(views: dict[str, pd.DataFrame], info: WorkbookInfo,
                   charts: dict[str, list[Path]] | None = None) -> Workbook:
    """The workbook in memory (no file written)."""
    charts = charts or {}
    wb = Workbook()
    _summary(wb, views, info, charts)

    capped: list[str] = []

    def sheet(name: str, frame: pd.DataFrame, columns: list[Col], image: str | None = None,
              cap: str | None = None, totals: dict[str, Any] | None = None) -> Worksheet:
        ws = wb.create_sheet(name)
        note = None
        if cap:
            frame, note = cap_rows(frame, what=cap)
        last = write_table(ws, frame, columns, base_url=info.base_url, totals=totals)
        if note:
            set_text(ws.cell(row=last + 2, column=1), note)
            ws.cell(row=last + 2, column=1).font = Font(italic=True, bold=True, color="C00000")
            capped.append(f"{name} sheet: {note}")
        if image:
            drawn = charts.get(image)
            _image(ws, drawn[0] if drawn else None, f"{get_column_letter(len(columns) + 2)}2", width=720)
        return ws

    ws = sheet("Pillars", views["pillars"], PILLAR_COLUMNS, "allocation-vs-target",
               totals=views["pillars"].attrs.get("totals"))
    for i, gap in enumerate(views["pillars"]["gap"]):
        fill = _gap_fill(gap)
        if fill:
            ws.cell(row=2 + i, column=4).fill = fill
    ws = sheet("OKRs", views["okrs"], OKR_COLUMNS, "okr-progress")
    set_text(ws.cell(row=len(views["okrs"]) + 3, column=1), okrs_view.headline(views["okr_summary"]))
    ws.cell(row=len(views["okrs"]) + 3, column=1).font = Font(bold=True)
    sheet("Roadmap", _roadmap_frame(views["epics"]), ROADMAP_COLUMNS, "roadmap", cap="open epics")
    epics, note = cap_rows(views["epics"], what="epics")
    ws = wb.create_sheet("Epics")
    last = write_table(ws, pd.concat([epics, views["epics_not_visible"]], ignore_index=True)
                       if len(views["epics_not_visible"]) else epics, epic_columns(views["epics"]),
                       base_url=info.base_url)
    if note:
        set_text(ws.cell(row=last + 2, column=1), note)
        ws.cell(row=last + 2, column=1).font = Font(italic=True, bold=True, color="C00000")
        capped.append(f"Epics sheet: {note}")
    _forecast_sheet(wb.create_sheet("Forecast"), views, info, capped, charts)
    sheet("Allocation", views["allocation"], ALLOCATION_COLUMNS, "allocation-by-bucket")
    changes = sheet("Changes", views["changes"], CHANGE_COLUMNS, "week-over-week")
    _note_under(changes, len(views["changes"]) + 3, views["changes"].attrs.get("note"))
    _scope_ledger(changes, views, info, len(views["changes"]) + 5)
    _trend_sheet(wb.create_sheet("Trend"), views["trend"], info)
    _teams_sheet(sheet("Teams", views["teams"], TEAM_COLUMNS), views, info)

    ws = wb.create_sheet("Data quality")
    quality = views["completeness"]
    cols = [Col("label", "Measure", "text", 55), Col("value", "Value", "num"), Col("kind", "Kind"),
            Col("detail", "Detail", "text", 60)]
    last = write_table(ws, quality, cols, base_url=info.base_url)
    for i, kind in enumerate(quality["kind"]):
        cell = ws.cell(row=2 + i, column=2)
        cell.number_format = PCT if kind == "share" else INT if kind == "count" else NUM
    row = last + 2
    for heading, frame, columns, none in (
        ("Issues whose epic, parent or initiative is not visible", views["missing_parents"], MISSING_COLUMNS,
         "Every issue's epic, parent and initiative is in the store."),
        ("Story points out of range (left out of every sum)", views["points_out_of_range"], POINTS_COLUMNS,
         "No story points out of range."),
        ("Hygiene by team", views["hygiene"], HYGIENE_COLUMNS, "No epics to score."),
        ("Lint rules with the most findings", views["lint_rules"], LINT_RULE_COLUMNS, "No lint findings."),
        ("Forecast accuracy by team (forecasts made as of past weeks, scored against what happened"
         + (f": {views['forecast_accuracy']['dates'].iloc[0]}" if len(views["forecast_accuracy"]) else "") + ")",
         views["forecast_accuracy"], ACCURACY_COLUMNS, "No past forecast to score (forecast.backtest_weeks)."),
    ):
        ws.cell(row=row, column=1, value=heading).font = Font(bold=True)
        if frame.empty:
            ws.cell(row=row + 1, column=1, value=none)
            row += 3
        else:
            row = write_table(ws, frame, columns, base_url=info.base_url, start_row=row + 1,
                              header_row_is_frozen=False, autofilter=False) + 2
    notes = [*views["definitions"]["text"], info.effort_rule, *capped, *info.notes]
    if not info.base_url:
        notes.append("Issue keys are not linked: the Jira base URL is unknown (sync it, or pass --base-url).")
    ws.cell(row=row, column=1, value="Rules and definitions").font = Font(bold=True)
    # Each rule wraps across the measures table's four columns: one long line would shrink the printed page.
    width = sum(ws.column_dimensions[get_column_letter(c)].width or 10 for c in range(1, len(cols) + 1))
    for n, text in enumerate(notes, start=1):
        cell = ws.cell(row=row + n, column=1)
        set_text(cell, text)
        _merge(ws, row + n, 1, len(cols))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[row + n].height = 15 * _lines(str(text), width * 1.1)
    set_print_setup_all(wb, one_page=("Summary",))
    return wb


MISSING_COLUMNS = [
    Col("missing_key", "Missing key", "key"), Col("kind", "Missing"), Col("team", "Team"),
    Col("issues", "Issues under it", "int"), Col("done", "Done", "int"), Col("points", "Points", "num"),
    Col("effort", "Effort in window", "num"), Col("keys", "Issues", "text", 60),
]
POINTS_COLUMNS = [
    Col("key", "Issue", "key"), Col("story_points", "Story points as entered", "num"), Col("problem", "Problem"),
    Col("epic", "Epic", "key"), Col("team", "Team"), Col("status_category", "Category"),
]
HYGIENE_COLUMNS = [
    Col("team", "Team"), Col("epics", "Epics", "int"), Col("clean", "Clean", "int"), Col("failing", "Failing", "int"),
    Col("hygiene", "Hygiene", "pct"), Col("previous", "Previous", "pct"), Col("change_pp", "Change (pp)", "pp"),
    Col("previous_as_of", "Previous run", "date"), Col("newly_failing", "Newly failing", "text", 50),
    Col("source", "Findings from", "text", 40),
]
LINT_RULE_COLUMNS = [
    Col("rule", "Rule"), Col("name", "Name"), Col("severity", "Severity"), Col("findings", "Findings", "int"),
    Col("epics", "Epics", "int"), Col("teams", "Teams", "int"), Col("summary", "What it checks", "text", 60),
]


FLOW_TEAM_COLUMNS = [
    Col("team", "Team"), Col("in_progress", "Epics in progress", "int"),
    Col("done_in_window", "Epics done (26 weeks)", "int"), Col("done_per_4_weeks", "Done per 4 weeks", "num"),
    Col("weeks_of_wip", "Weeks of work in progress at that pace", "num"),
    Col("cycle_p50_days", "Cycle time P50 (days)", "num"), Col("cycle_p85_days", "Cycle time P85 (days)", "num"),
]
FLOW_EPIC_COLUMNS = [
    Col("key", "Epic", "key"), Col("summary", "Summary", "long", 45), Col("team", "Team"),
    Col("started", "Started", "date"), Col("age_days", "Age (days)", "int"),
]

ACCURACY_COLUMNS = [
    Col("team", "Team"), Col("forecasts", "Forecasts", "int"), Col("p85_scored", "Scored", "int"),
    Col("p85_hits", "Done by P85", "int"), Col("p85_hit_rate", "Share done by P85", "pct"),
    Col("p50_median_error_days", "Median error P50 (days)", "num"),
    Col("linear_dated", "Linear projections", "int"), Col("linear_scored", "Linear scored", "int"),
    Col("linear_hits", "Done by linear date", "int"), Col("linear_hit_rate", "Share done by linear date", "pct"),
    Col("linear_median_error_days", "Median error linear (days)", "num"),
]


TREND_COLUMNS = [
    Col("day", "Week of", "date"), Col("week", "ISO week"), Col("epics_open", "Epics open", "int"),
    Col("epics_done", "Epics done", "int"), Col("epics_at_risk", "At risk / off track", "int"),
    Col("points_total", "Points total", "num"), Col("points_done", "Points done", "num"),
    Col("progress", "Progress", "pct"), Col("hygiene", "Hygiene", "pct"),
    Col("strategy_share", "Effort on strategy", "pct"),
]


def _teams_sheet(ws: Worksheet, views: dict[str, pd.DataFrame], info: WorkbookInfo) -> None:
    """Below the teams: flow per team (epics in progress against finished, cycle times), then epic ages."""
    flow = views["flow"]
    _tables_below(ws, len(views["teams"]) + 3, [
        ("Flow: epics in progress against epics finished, and cycle time (first child started → epic done), "
         "over the last 26 weeks", flow[flow["level"].eq("team")], FLOW_TEAM_COLUMNS, "None."),
        ("Epics in progress, oldest first (age: days since the epic started)", flow[flow["level"].eq("epic")],
         FLOW_EPIC_COLUMNS, "None."),
    ], info, more="Showing the {shown:,} oldest of {total:,} epics in progress; the counts above cover all.")


def _tables_below(ws: Worksheet, row: int, tables: list[tuple[str, pd.DataFrame, list[Col], str]],
                  info: WorkbookInfo, *, more: str) -> int:
    """Tables stacked down a sheet from ``row``, each under its bold heading (its ``none`` line when empty),
    at most :data:`SHEET_ROW_LIMIT` rows each with ``more`` (``{shown}``, ``{total}``) said under a cut one;
    return the next free row."""
    for heading, rows, columns, none in tables:
        ws.cell(row=row, column=1, value=heading).font = Font(bold=True)
        if rows.empty:
            ws.cell(row=row + 1, column=1, value=none)
            row += 3
            continue
        shown = rows.head(SHEET_ROW_LIMIT)
        row = write_table(ws, shown.reset_index(drop=True), columns, base_url=info.base_url, start_row=row + 1,
                          header_row_is_frozen=False, autofilter=False) + 2
        if len(rows) > len(shown):
            set_text(ws.cell(row=row - 1, column=1), more.format(shown=len(shown), total=len(rows)))
            ws.cell(row=row - 1, column=1).font = Font(italic=True, color="555555")
            row += 1
    return row


# The two scope tables keep the week-over-week table's columns where they can (key in B, summary in C,
# team in E, before/after in F/G), so the sheet keeps its width and prints at the same size.
SCOPE_EPIC_COLUMNS = [
    Col("last_change", "Last change", "date"), Col("key", "Epic", "key"), Col("summary", "Summary", "long", 50),
    Col("started", "Started", "date"), Col("team", "Team"), Col("children_added", "Children added", "int"),
    Col("children_removed", "Children removed", "int"), Col("points_changes", "Point changes", "int"),
    Col("points_delta", "Points (net)", "num"), Col("target_moves", "Target moves", "int"),
    Col("target_days", "Target moved (days)", "int"),
]
SCOPE_EVENT_COLUMNS = [
    Col("change", "Change"), Col("key", "Epic", "key"), Col("summary", "Summary", "long", 50),
    Col("item", "Child", "key"), Col("team", "Team"), Col("before", "Before"), Col("after", "After"),
    Col("days", "Days moved", "int"), Col("points", "Points", "num"), Col("who", "Who"), Col("at", "When", "date"),
]
#: Days of scope entries listed on the Changes sheet (the per-epic table counts every entry).
SCOPE_LISTED_DAYS = 28


def _scope_ledger(ws: Worksheet, views: dict[str, pd.DataFrame], info: WorkbookInfo, row: int) -> None:
    """Below the week-over-week changes: the scope ledger per epic, then its recent entries, newest first."""
    ledger = views["scope"]
    per = ledger[ledger["level"].eq("epic")].reset_index(drop=True)
    since = info.as_of - timedelta(days=SCOPE_LISTED_DAYS - 1)
    recent = scope_view.entries(ledger, since=since)
    none = "None: no such change in the store's history."
    _tables_below(ws, row, [
        ("Scope ledger: what changed inside each epic after it started (children added and removed, story "
         "points), and every target-date move, from Jira's history", per, SCOPE_EPIC_COLUMNS, none),
        (f"Scope entries of the last {SCOPE_LISTED_DAYS} days ({since.isoformat()} to {info.as_of.isoformat()}), "
         "newest first", recent, SCOPE_EVENT_COLUMNS, none),
    ], info, more="Showing {shown:,} of {total:,} rows, in the order above; the per-epic table counts every entry.")


def _forecast_sheet(ws: Worksheet, views: dict[str, pd.DataFrame], info: WorkbookInfo, capped: list[str],
                    charts: dict[str, list[Path]]) -> None:
    """The forecast table (teams, initiatives and key results, then epics in backlog order), its rule and the
    completion chart of one initiative beside it."""
    frame = views["forecast"]
    note = None
    if len(frame) > SHEET_ROW_LIMIT:
        note = (f"Showing {SHEET_ROW_LIMIT:,} of {len(frame):,} forecast rows (sheet capped at {SHEET_ROW_LIMIT:,} "
                "rows): the teams, initiatives and key results first, then the epics in backlog order.")
        capped.append(f"Forecast sheet: {note}")
        frame = frame.head(SHEET_ROW_LIMIT)
    last = write_table(ws, frame, FORECAST_COLUMNS, base_url=info.base_url)
    if note:
        set_text(ws.cell(row=last + 2, column=1), note)
        ws.cell(row=last + 2, column=1).font = Font(italic=True, bold=True, color="C00000")
    rule = views["definitions"].set_index("name")["text"].get("forecast")
    if rule:
        # The rule wraps across the table's width (one long line would shrink the printed page).
        row, span = last + (4 if note else 2), len(FORECAST_COLUMNS)
        _note_under(ws, row, rule)
        _merge(ws, row, 1, span)
        ws.cell(row=row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        width = sum(ws.column_dimensions[get_column_letter(c)].width or 10 for c in range(1, span + 1))
        ws.row_dimensions[row].height = 15 * _lines(rule, width * 1.1)
    drawn = charts.get("initiative-forecast")
    _image(ws, drawn[0] if drawn else None, f"{get_column_letter(len(FORECAST_COLUMNS) + 2)}2", width=620)


def _note_under(ws: Worksheet, row: int, note: str | None) -> None:
    """A view's sentence under its table: what was compared, or why the table is empty."""
    if note:
        set_text(ws.cell(row=row, column=1), note)
        ws.cell(row=row, column=1).font = Font(italic=True, color="555555")


def _trend_sheet(ws: Worksheet, trend: pd.DataFrame, info: WorkbookInfo) -> None:
    """One row per weekly snapshot, and native line charts of the epic counts and of the shares."""
    buckets = [c for c in trend.columns if c.startswith("share_")]
    labels = trend.attrs.get("labels", {})
    columns = TREND_COLUMNS + [Col(c, f"Bucket: {labels.get(c, c.removeprefix('share_'))}", "pct") for c in buckets]
    last = write_table(ws, trend, columns, base_url=None)
    if trend.empty:
        _note_under(ws, 3, "No weekly snapshot yet: each weekly report adds a row, starting with this one.")
        return
    if len(trend) < 2:
        _note_under(ws, last + 2, "One week so far: the trend starts with next week's report.")
        return
    _note_under(ws, last + 2, f"{len(trend)} weekly snapshots; effort shares are of the work completed in the "
                              "four weeks up to each date.")
    anchor_col = get_column_letter(len(columns) + 2)
    counts = LineChart()
    counts.title, counts.y_axis.title, counts.x_axis.title = "Epics per week", "epics", "week of"
    counts.add_data(Reference(ws, min_col=3, max_col=5, min_row=1, max_row=last), titles_from_data=True)
    counts.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    counts.x_axis.number_format, counts.height, counts.width = DATE, 7.5, 16
    ws.add_chart(counts, f"{anchor_col}2")
    mix = LineChart()
    mix.title, mix.y_axis.title, mix.x_axis.title = "Hygiene and allocation mix per week", "share", "week of"
    mix.y_axis.numFmt = "0%"
    mix.add_data(Reference(ws, min_col=9, max_col=len(columns), min_row=1, max_row=last), titles_from_data=True)
    mix.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    mix.x_axis.number_format, mix.height, mix.width = DATE, 7.5, 16
    ws.add_chart(mix, f"{anchor_col}18")


def _team_name(views: dict[str, pd.DataFrame], team_id: str) -> str:
    """A team report's team by the name the Teams view gives it (its id when the view does not list it)."""
    teams = views.get("teams")
    if teams is None or teams.empty:
        return team_id
    named = teams.loc[teams["team_id"].astype(str).eq(team_id), "team"]
    return str(named.iloc[0]) if len(named) else team_id


def write_portfolio(views: dict[str, pd.DataFrame], path: str | Path, info: WorkbookInfo,
                    charts: dict[str, list[Path]] | None = None) -> Path:
    """Build the workbook and write it atomically to ``path``; return the path."""
    wb = build_workbook(views, info, charts)
    return atomic_write(path, lambda tmp: wb.save(tmp))
