"""The epic-quality lint workbook (openpyxl): ``lint-<YYYY-MM-DD>.xlsx``.

Sheets, in order:

* **Summary** — the run in one line, then one row per team: epics, clean, score (share of epics
  with no finding), findings by severity, stories without an epic, and one column per rule
  with the team's findings of that rule (team × rule, every rule that ran); an "All teams"
  total row under it.
* **one sheet per team** (named after the team) — epic, summary, owner, rule, severity,
  message, how to fix and a link to the epic; most severe first. A team with no finding gets a
  sheet that says so.
* **Owner - <name>** sheets (``by_owner``) — the same rows per owner, to send each PM their list.
* **Trend** — each team's score across stored runs (one column per as-of date) and a native
  Excel line chart of it.
* **Ignores** — every declared ignore with its status (expired and unused first).
* **Rules** — the rule reference with this run's findings per rule.

Every table has a frozen header row, an autofilter and fitted widths; every epic key links to
Jira; text goes through :func:`rollup.writers.safe.set_text` so a summary starting with ``=``
stays text. The file is written to a temp name and renamed (:func:`rollup.writers.safe.atomic_write`).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from rollup.lint.result import SEVERITY_RANK, UNASSIGNED, LintResult
from rollup.writers.portfolio import Col, restyle, write_table
from rollup.writers.printing import set_print_setup_all
from rollup.writers.safe import atomic_write, set_text
from rollup.writers.style import LINK_FONT

#: The fixed sheets; team and owner sheets never take these names.
FIXED_SHEETS = ("Summary", "Trend", "Ignores", "Rules")

SEVERITY_FILLS = {"error": "FFC7CE", "warning": "FFEB9C", "info": "DDEBF7"}
STATUS_FILLS = {"expired": "FFC7CE", "unused": "FFEB9C", "active": "C6EFCE"}
#: Score colours: at or above the first bound green, the second yellow, else red.
SCORE_BOUNDS = (0.9, 0.7)
NO_OWNER = "(no owner)"
OWNER_PREFIX = "Owner - "

TEAM_COLUMNS = [
    Col("team", "Team", "text", 30), Col("team_id", "Team id"), Col("epics", "Epics", "int"),
    Col("clean", "Clean", "int"), Col("score", "Score", "pct"), Col("errors", "Errors", "int"),
    Col("warnings", "Warnings", "int"), Col("infos", "Infos", "int"),
    Col("stories_without_epic", "Stories without epic", "int"),
]

FINDING_SHEET_COLUMNS = [
    Col("key", "Epic"), Col("summary", "Summary", "long", 45), Col("owner", "Owner"), Col("rule", "Rule"),
    Col("name", "Rule name"), Col("severity", "Severity"), Col("message", "Message", "long", 60),
    Col("how_to_fix", "How to fix", "long", 60), Col("link", "Link", "text", 45),
]

OWNER_SHEET_COLUMNS = [Col("team", "Team")] + [c for c in FINDING_SHEET_COLUMNS if c.field != "owner"]

IGNORE_COLUMNS = [
    Col("key", "Epic"), Col("rule", "Rule"), Col("status", "Status"), Col("expires", "Expires", "date"),
    Col("reason", "Reason", "long", 60), Col("source", "Declared in", "text", 40),
]

RULE_COLUMNS = [
    Col("rule", "Rule"), Col("name", "Name"), Col("groups", "Groups"), Col("severity", "Severity"),
    Col("findings", "Findings", "int"), Col("summary", "What it finds", "long", 60),
    Col("why", "Why", "long", 60), Col("how_to_fix", "How to fix", "long", 60),
    Col("config_keys", "Settings (defaults)", "text", 40),
]

_STATUS_ORDER = {"expired": 0, "unused": 1, "active": 2}


def workbook_name(as_of: date, team: str | None = None) -> str:
    """``lint-2026-11-26.xlsx``, or ``lint-<team>-2026-11-26.xlsx`` for one team."""
    if team:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(team)).strip("-").lower() or "team"
        return f"lint-{slug}-{as_of.isoformat()}.xlsx"
    return f"lint-{as_of.isoformat()}.xlsx"


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unused sheet name for ``name``: no ``[]:*?/\\``, at most 31 characters, unique ignoring case."""
    base = re.sub(r"[\[\]:*?/\\]", "-", str(name)).strip("' ") or "Sheet"
    base = base[:31]
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title.lower())
    return title


def team_rule_counts(result: LintResult) -> pd.DataFrame:
    """Findings per team (rows, ``team`` names in the teams frame's order) × rule code (columns).

    One column per rule that ran, a rule without findings included (a column of zeros), so the
    table keeps the same columns from one run to the next and a rule that found nothing shows it.
    """
    teams = [str(t) for t in result.teams["team"]] if len(result.teams) else []
    findings = result.findings
    ran = set(result.rules["rule"].dropna().astype(str)) if len(result.rules) else set()
    codes = sorted(ran | (set(findings["rule"].astype(str)) if len(findings) else set()))
    if not len(findings):
        return pd.DataFrame(0, index=pd.Index(teams, name="team"), columns=codes)
    counts = (findings.assign(team=findings["team"].fillna(UNASSIGNED).astype(str), rule=findings["rule"].astype(str))
              .groupby(["team", "rule"]).size().unstack("rule", fill_value=0))
    extra = [t for t in counts.index if t not in teams]
    return counts.reindex(index=teams + extra, columns=codes).fillna(0).astype(int)


# ---------------------------------------------------------------------------------------- cells


def _fill(colour: str) -> PatternFill:
    return PatternFill("solid", fgColor=colour)


def _score_fill(score: Any) -> PatternFill | None:
    if score is None or pd.isna(score):
        return None
    good, fair = SCORE_BOUNDS
    return _fill("C6EFCE" if score >= good else "FFEB9C" if score >= fair else "FFC7CE")


def _heading(ws: Worksheet, title: str, line: str | None = None) -> None:
    set_text(ws.cell(row=1, column=1), title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    if line:
        set_text(ws.cell(row=2, column=1), line)
        ws.cell(row=2, column=1).font = Font(italic=True, color="555555")


def _link_rows(ws: Worksheet, frame: pd.DataFrame, columns: list[Col], start_row: int) -> None:
    """Link each row's epic key and link cell to the finding's ``link``; colour its severity."""
    fields = [c.field for c in columns]
    links = frame["link"].astype("object").tolist() if "link" in frame else [None] * len(frame)
    severities = frame["severity"].astype("object").tolist() if "severity" in frame else [None] * len(frame)
    key_col = fields.index("key") + 1 if "key" in fields else None
    link_col = fields.index("link") + 1 if "link" in fields else None
    sev_col = fields.index("severity") + 1 if "severity" in fields else None
    fills = {s: _fill(c) for s, c in SEVERITY_FILLS.items()}
    styles: dict = {}  # each style change worked out once (restyle), the bulk of a large findings sheet
    for i, (link, severity) in enumerate(zip(links, severities)):
        row = start_row + 1 + i
        if isinstance(link, str) and link:
            for col in (key_col, link_col):
                if col:
                    cell = ws.cell(row=row, column=col)
                    cell.hyperlink = link
                    restyle(cell, styles, "link", lambda cell=cell: setattr(cell, "font", LINK_FONT))
        if sev_col and severity in fills:
            cell = ws.cell(row=row, column=sev_col)
            restyle(cell, styles, severity, lambda cell=cell, fill=fills[severity]: setattr(cell, "fill", fill))


def _ordered(findings: pd.DataFrame) -> pd.DataFrame:
    """Most severe first, then by rule and epic."""
    if not len(findings):
        return findings
    return (findings.assign(_rank=findings["severity"].map(SEVERITY_RANK))
            .sort_values(["_rank", "rule", "key"], kind="stable").drop(columns="_rank"))


def _findings_sheet(ws: Worksheet, frame: pd.DataFrame, columns: list[Col], title: str, line: str,
                    empty: str) -> None:
    _heading(ws, title, line)
    if not len(frame):
        ws.cell(row=4, column=1, value=empty)
        return
    write_table(ws, frame, columns, base_url=None, start_row=4)
    _link_rows(ws, frame, columns, start_row=4)


# ---------------------------------------------------------------------------------------- sheets


def _summary(ws: Worksheet, result: LintResult, title: str) -> None:
    from rollup.lint.formats import summary, team_totals

    s = summary(result)
    score = "n/a" if s["score"] is None else f"{s['score']:.0%}"
    _heading(ws, f"{title} — {result.as_of.isoformat()}",
             f"{s['epics']:,} epics linted, {s['clean']:,} clean (score {score}); {s['findings']:,} findings: "
             f"{s['errors']:,} errors, {s['warnings']:,} warnings, {s['infos']:,} infos; {s['suppressed']:,} ignored; "
             f"{s['ignores_expired']} expired and {s['ignores_unused']} unused ignores.")
    counts = team_rule_counts(result)
    teams = result.teams.copy()
    if not len(teams):
        ws.cell(row=4, column=1, value="No epics linted.")
        return
    teams["team"] = teams["team"].fillna(UNASSIGNED).astype(str)
    codes = list(counts.columns)
    table = teams.join(counts, on="team") if codes else teams
    columns = TEAM_COLUMNS + [Col(code, code, "int") for code in codes]
    first = 4
    # "All teams" is the Table's totals row (outside its filter, so sorting leaves it last).
    write_table(ws, table, columns, base_url=None, start_row=first, totals=team_totals(result, counts))
    for i, value in enumerate(table["score"].tolist()):
        fill = _score_fill(value)
        if fill:
            ws.cell(row=first + 1 + i, column=5).fill = fill
    ws.freeze_panes = ws.cell(row=first + 1, column=2)


def _trend(ws: Worksheet, trend: pd.DataFrame | None) -> None:
    _heading(ws, "Hygiene score by team across lint runs",
             "Score = share of the team's epics with no finding, on the last run of each date.")
    dates = [c for c in (trend.columns if trend is not None else []) if c not in ("team_id", "team")]
    if trend is None or not len(trend) or not dates:
        ws.cell(row=4, column=1, value="No lint runs recorded yet.")
        return
    first = 4
    columns = [Col("team", "Team", "text", 30)] + [Col(d, d, "pct") for d in dates]
    last = write_table(ws, trend, columns, base_url=None, start_row=first)
    chart = LineChart()
    chart.title = "Share of epics clean, per team"
    chart.y_axis.title = "epics with no finding"
    chart.x_axis.title = "lint run (as-of date)"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(ws, min_col=1, max_col=1 + len(dates), min_row=first + 1, max_row=last)
    chart.add_data(data, from_rows=True, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=2, max_col=1 + len(dates), min_row=first, max_row=first))
    chart.height, chart.width = 9, 18
    ws.add_chart(chart, f"A{last + 3}")


def _ignores(ws: Worksheet, ignores: pd.DataFrame) -> None:
    _heading(ws, "Ignores", "Expired ignores no longer silence their finding; unused ones silence nothing "
                            "and can be removed.")
    if not len(ignores):
        ws.cell(row=4, column=1, value="No ignores declared (lint.ignores in mappings.yaml, or a "
                                       "lint-ignore-<CODE> label on the epic).")
        return
    frame = (ignores.assign(_order=ignores["status"].map(_STATUS_ORDER).fillna(len(_STATUS_ORDER)))
             .sort_values(["_order", "key", "rule"], kind="stable").drop(columns="_order"))
    write_table(ws, frame, IGNORE_COLUMNS, base_url=None, start_row=4)
    for i, status in enumerate(frame["status"].tolist()):
        colour = STATUS_FILLS.get(str(status))
        if colour:
            ws.cell(row=5 + i, column=3).fill = _fill(colour)


def _rules(ws: Worksheet, result: LintResult, reference: pd.DataFrame | None) -> None:
    _heading(ws, "Rules", "Severity as configured for this run; findings counted after ignores.")
    ran = result.rules.copy()
    if reference is not None and len(reference):
        ref = reference.rename(columns={"code": "rule", "severity": "default_severity"})
        frame = ref.merge(ran[["rule", "severity", "findings"]], on="rule", how="left") if len(ran) else \
            ref.assign(severity=None, findings=None)
        frame["severity"] = frame["severity"].astype("object").where(frame["severity"].notna(),
                                                                     frame["default_severity"])
        frame = frame[frame["rule"].isin(ran["rule"])] if len(ran) else frame
    else:
        frame = ran.rename(columns={"group": "groups"})
    if not len(frame):
        ws.cell(row=4, column=1, value="No rules ran.")
        return
    columns = [c for c in RULE_COLUMNS if c.field in frame.columns]
    write_table(ws, frame, columns, base_url=None, start_row=4)
    severity_col = 1 + [c.field for c in columns].index("severity")
    fills = {s: _fill(c) for s, c in SEVERITY_FILLS.items()}
    for i, severity in enumerate(frame["severity"].tolist()):
        if severity in fills:
            ws.cell(row=5 + i, column=severity_col).fill = fills[severity]


def build_lint_workbook(result: LintResult, *, trend: pd.DataFrame | None = None, by_owner: bool = False,
                        rule_reference: pd.DataFrame | None = None, title: str = "Epic-quality lint") -> Workbook:
    """The workbook in memory (no file written); see the module docstring for the sheets.

    ``trend`` comes from :func:`rollup.lint.history.trend_frame`; ``rule_reference`` from
    :func:`rollup.lint.formats.rule_frame` (without it the Rules sheet lists code, name, group,
    severity and findings only).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    _summary(ws, result, title)
    taken = {name.lower() for name in FIXED_SHEETS}

    findings = result.findings.assign(team=result.findings["team"].fillna(UNASSIGNED).astype(str)) \
        if len(result.findings) else result.findings
    teams = [str(t) for t in result.teams["team"].fillna(UNASSIGNED)] if len(result.teams) else []
    teams += sorted(set(findings["team"]) - set(teams)) if len(findings) else []
    for team in teams:
        rows = _ordered(findings[findings["team"].eq(team)]) if len(findings) else findings
        sheet = wb.create_sheet(sheet_title(team, taken))
        epics = rows["key"].nunique() if len(rows) else 0
        _findings_sheet(sheet, rows, FINDING_SHEET_COLUMNS, f"{team} — epics to fix",
                        f"{epics} epics with {len(rows)} findings as of {result.as_of.isoformat()}.",
                        "No findings: every epic of this team is fit to roll up.")
    if by_owner and len(findings):
        owners = findings["owner"].astype("object").where(findings["owner"].notna(), NO_OWNER)
        for owner in sorted(set(owners) - {NO_OWNER}) + ([NO_OWNER] if owners.eq(NO_OWNER).any() else []):
            rows = _ordered(findings[owners.eq(owner)])
            sheet = wb.create_sheet(sheet_title(OWNER_PREFIX + str(owner), taken))
            _findings_sheet(sheet, rows, OWNER_SHEET_COLUMNS, f"{owner} — epics to fix",
                            f"{rows['key'].nunique()} epics with {len(rows)} findings as of "
                            f"{result.as_of.isoformat()}.", "No findings.")
    _trend(wb.create_sheet("Trend"), trend)
    _ignores(wb.create_sheet("Ignores"), result.ignores)
    _rules(wb.create_sheet("Rules"), result, rule_reference)
    set_print_setup_all(wb, one_page=("Summary",))
    return wb


def write_lint_workbook(result: LintResult, path: str | Path, **options: Any) -> Path:
    """Build the workbook (options as :func:`build_lint_workbook`) and write it atomically to ``path``."""
    wb = build_lint_workbook(result, **options)
    return atomic_write(path, lambda tmp: wb.save(tmp))
