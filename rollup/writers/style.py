"""Colours, orders and cell styles shared by the workbooks and the charts, so a pillar looks the same everywhere."""

from __future__ import annotations

from openpyxl.styles import Font, PatternFill

from rollup.views.pillars import GAP_TOLERANCE  # noqa: F401  (a gap within ±5 pp of target is fine: green)

#: Table headers (white on dark blue) and links to Jira, in every workbook.
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
LINK_FONT = Font(color="0563C1", underline="single")
#: A table's totals row.
TOTAL_FONT = Font(bold=True)

#: Pillar colours in declared order (colour-blind friendly, Okabe–Ito); Unmapped is grey.
PILLAR_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
BUCKET_COLOURS = ["#1B9E77", "#66A61E", "#E6AB02", "#A6761D", "#D95F02", "#7570B3", "#E7298A", "#666666"]
UNMAPPED_COLOUR = "#9E9E9E"

RAG_FILLS = {"on track": "C6EFCE", "at risk": "FFEB9C", "off track": "FFC7CE", "done": "DDEBF7",
             "not rated": "EDEDED", "behind": "FFEB9C", "no work planned": "FFC7CE", "missed": "FFC7CE",
             "epic not visible": "EDEDED"}


def colour_map(ids: list[str], palette: list[str]) -> dict[str, str]:
    """``{id: '#RRGGBB'}`` in order; ``Unmapped`` always grey."""
    out = {i: palette[n % len(palette)] for n, i in enumerate(x for x in ids if x != "Unmapped")}
    out["Unmapped"] = UNMAPPED_COLOUR
    return out
