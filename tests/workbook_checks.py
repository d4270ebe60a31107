"""Recompute the Summary's figures and the charts' titles from the detail sheets of a written workbook.

:func:`check_workbook` reads a portfolio workbook back with openpyxl — the Summary, Pillars, OKRs,
Roadmap, Epics, Allocation, Changes, Trend, Teams and Data quality sheets — and the SVG files of its
charts (their text is kept as text), recomputes every headline figure and chart title from the detail
sheets (the roadmap's title and subtitle from the Roadmap sheet, the week-over-week title from the
Trend sheet), and asserts they agree. It returns what it recomputed, for the caller to compare with
hand-worked figures.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sheets import table, totals_row

STATUSES = ("done", "on track", "behind", "no work planned", "missed")
RISKY = ("at risk", "off track")


def row_of(ws: Any, text: str, *, exact: bool = False) -> int:
    """The first row whose column A starts with (or is) ``text``."""
    for r in range(1, ws.max_row + 1):
        value = str(ws.cell(row=r, column=1).value)
        if value == text or (not exact and value.startswith(text)):
            return r
    raise AssertionError(f"no row starting with {text!r} on sheet {ws.title}")


def svg_texts(path: Path) -> list[str]:
    """Every text element of an SVG chart."""
    tree = ET.parse(path)
    return ["".join(e.itertext()) for e in tree.iter() if e.tag.endswith("}text")]


def key_result_counts(ws: Any, line_row: int) -> dict[str, Any]:
    """The Summary's key-result counts under the line at ``line_row``: status header → count below it."""
    return {ws.cell(row=line_row + 1, column=c).value: ws.cell(row=line_row + 2, column=c).value
            for c in range(1, ws.max_column + 1) if ws.cell(row=line_row + 1, column=c).value}


def _headline_cards(ws: Any) -> dict[str, Any]:
    r = row_of(ws, "Active epics", exact=True)
    labels = {ws.cell(row=r, column=c).value: c for c in range(1, ws.max_column + 1) if ws.cell(row=r, column=c).value}
    return {label: ws.cell(row=r + 1, column=c).value for label, c in labels.items()}


def check_workbook(wb: Any, chart_dir: Path, *, ktlo_buckets: set[str], capex_buckets: set[str]) -> dict[str, Any]:
    """Assert the Summary and the chart titles agree with the detail sheets; return the recomputed figures.

    ``ktlo_buckets`` / ``capex_buckets``: bucket *names* that count as keeping the lights on / strategy.
    """
    summary = wb["Summary"]
    epics = [r for r in table(wb["Epics"]) if r["Epic"]]          # the "Epic not visible" rows have no key
    okrs = [r for r in table(wb["OKRs"]) if r["Level"] == "key result"]
    pillars = table(wb["Pillars"])
    allocation = table(wb["Allocation"])
    changes = table(wb["Changes"])
    teams = table(wb["Teams"])
    cards = _headline_cards(summary)
    got: dict[str, Any] = {}

    # Headline figures.
    got["active"] = sum(1 for e in epics if e["Category"] == "indeterminate")
    got["at_risk"] = sum(1 for e in epics if e["RAG"] in RISKY)
    slipped = {c["Epic"] for c in changes if c["Change"] == "target date slipped"}
    got["slipped"] = len(slipped)
    scored = [e for e in epics if e["Passes lint"] is not None]
    got["hygiene"] = sum(e["Passes lint"] == "yes" for e in scored) / len(scored)
    window = [a for a in allocation if a["Period type"] == "window"]
    total = sum(a["Effort"] for a in window)
    got["strategy"] = sum(a["Effort"] for a in window if a["Bucket"] in capex_buckets) / total
    ktlo = sum(a["Effort"] for a in window if a["Bucket"] in ktlo_buckets) / total
    assert cards["Active epics"] == got["active"]
    assert cards["Epics at risk / off track"] == got["at_risk"]
    assert cards["Slipped this week"] == got["slipped"]
    assert cards["Hygiene score"] == pytest.approx(got["hygiene"])
    assert cards["Effort on strategy (vs KTLO)"] == pytest.approx(got["strategy"])
    strategy_row = row_of(summary, "Active epics", exact=True)
    strategy_col = next(c for c in range(1, summary.max_column + 1)
                        if summary.cell(row=strategy_row, column=c).value == "Effort on strategy (vs KTLO)")
    assert summary.cell(row=strategy_row + 2, column=strategy_col).value == f"KTLO {ktlo:.0%}"

    # Hygiene: the Epics sheet, the Teams sheet and the Data quality sheet say the same.
    quality = wb["Data quality"]
    measures = {r["Measure"]: r["Value"] for r in table(quality)}
    assert measures["Hygiene score"] == pytest.approx(got["hygiene"])
    by_team = {r["Team"]: r for r in table(quality, header_row=row_of(quality, "Hygiene by team", exact=True) + 1)}
    assert by_team["All teams"]["Hygiene"] == pytest.approx(got["hygiene"])
    for team in teams:
        mine = [e for e in scored if e["Team"] == team["Team"]]
        if mine:
            share = sum(e["Passes lint"] == "yes" for e in mine) / len(mine)
            assert team["Hygiene"] == pytest.approx(share), team["Team"]
            assert by_team[team["Team"]]["Hygiene"] == pytest.approx(share), team["Team"]

    # Pillars: the Summary's table is the Pillars sheet; shares and gaps follow from its effort column.
    pillar_total = sum(p["Effort"] for p in pillars)
    assert pillar_total == pytest.approx(total)
    # The Pillars Table's totals row: each figure the sum of the rows above it; the shares add up to all.
    totals = totals_row(wb["Pillars"])
    assert totals is not None and totals["Pillar"] == "Total"
    assert totals["Effort"] == pytest.approx(pillar_total) and totals["Actual share"] == pytest.approx(1.0)
    for column in ("Target share", "Epics open", "Epics done", "At risk / off track"):
        assert totals[column] == pytest.approx(sum(p[column] or 0 for p in pillars)), column
    assert totals["Gap (pp)"] is None and totals["Progress"] is None
    header = row_of(summary, "Pillar", exact=True)
    summary_pillars = table(summary, header_row=header)
    assert [p["Pillar"] for p in summary_pillars] == [p["Pillar"] for p in pillars]
    for on_summary, p in zip(summary_pillars, pillars):
        share = p["Effort"] / pillar_total
        in_window = sum(a["Effort"] for a in window if a["Pillar"] == p["Pillar"])
        assert in_window == pytest.approx(p["Effort"]), p["Pillar"]
        assert p["Actual share"] == pytest.approx(share) and on_summary["Actual share"] == pytest.approx(share)
        if p["Target share"] is not None:
            gap = (share - p["Target share"]) * 100
            assert p["Gap (pp)"] == pytest.approx(gap) and on_summary["Gap (pp)"] == pytest.approx(gap)
    targeted = [p for p in pillars if p["Target share"] is not None]
    furthest = max(targeted, key=lambda p: abs(p["Gap (pp)"]))
    got["pillar_title"] = (f"{furthest['Pillar']}: {abs(furthest['Gap (pp)']):.0f} pp "
                           f"{'over' if furthest['Gap (pp)'] > 0 else 'under'} its "
                           f"{furthest['Target share'] * 100:.0f}% target share")
    assert got["pillar_title"] in svg_texts(chart_dir / "allocation-vs-target.svg")

    # Key results: the Summary's counts, its line, the OKRs sheet's line and the chart title.
    counts = {s: sum(1 for k in okrs if k["Status"] == s) for s in STATUSES}
    got["key_results"] = counts
    line_row = row_of(summary, "Key results:")
    line = summary.cell(row=line_row, column=1).value
    assert key_result_counts(summary, line_row) == counts
    risks = [(counts["behind"], "behind the calendar"), (counts["no work planned"], "with no work planned"),
             (counts["missed"], "missed (quarter over)")]
    if any(n for n, _ in risks):
        assert line == "Key results: " + ", ".join(f"{n} {w}" for n, w in risks if n) + f" — of {len(okrs)}"
    else:
        assert line == f"Key results: all {len(okrs)} on track or done"
    if counts["no work planned"]:
        assert "on track" not in line and "not behind" not in line
    okr_sheet = wb["OKRs"]
    assert line in [c.value for c in okr_sheet["A"]]
    assert line in svg_texts(chart_dir / "okr-progress.svg")
    got["key_result_line"] = line

    # The bucket and roadmap charts.
    months = [a for a in allocation if a["Period type"] == "month"]
    last = max(a["Period start"] for a in months)
    latest = {}
    for a in months:
        if a["Period start"] == last:
            latest[a["Bucket"]] = latest.get(a["Bucket"], 0) + a["Effort"]
    top = max(latest, key=lambda b: latest[b])
    period = next(a["Period"] for a in months if a["Period start"] == last)
    assert f"{top} took {latest[top] / sum(latest.values()):.0%} of effort in {period}" in svg_texts(
        chart_dir / "allocation-by-bucket.svg")
    got["roadmap"] = _check_roadmap(table(wb["Roadmap"]), svg_texts(chart_dir / "roadmap.svg"))
    got["trend_title"] = _check_trend(table(wb["Trend"]), svg_texts(chart_dir / "week-over-week.svg"))
    got["initiative_forecast"] = _check_initiative_forecast(table(wb["Forecast"]),
                                                            svg_texts(chart_dir / "initiative-forecast.svg"))

    # The decision list: how many it shows of how many, biggest first.
    decision_row = row_of(summary, "Epics that need a decision")
    heading = summary.cell(row=decision_row, column=1).value
    needing = {e["Epic"] for e in epics if e["RAG"] in RISKY} | slipped
    listed = [r for r in table(summary, header_row=decision_row + 1)] if needing else []
    if len(needing) > len(listed):
        assert heading.endswith(f"the {len(listed)} biggest of {len(needing)} — all {len(needing)} on the Epics sheet")
    elif needing:
        assert heading.endswith(f"all {len(needing)} listed")
    sizes = [r["Size"] for r in listed]
    assert sizes == sorted(sizes, reverse=True)
    smallest_listed = min(sizes) if sizes else 0
    size_of = {e["Epic"]: (e["Points total"] if e["Unit"] == "points" else e["Issues"]) for e in epics}
    assert all(size_of[k] <= smallest_listed for k in needing - {r["Epic"] for r in listed})
    got["decisions"] = (len(listed), len(needing))

    # The sentences cite the same counts.
    sentences = _insight_sentences(summary)
    got["insights"] = sentences
    if got["at_risk"]:
        verb = "epic is" if got["at_risk"] == 1 else "epics are"
        assert any(s.startswith(f"{got['at_risk']} {verb} at risk or off track") for s in sentences)
    for status, word in (("behind", "behind the calendar"), ("no work planned", "no work planned"),
                         ("missed", "missed")):
        n = counts[status]
        if n:
            noun = "key result" if n == 1 else "key results"
            assert any(s.startswith(f"{n} {noun}") and word in s.split(":")[0] for s in sentences), status
    hidden = measures["Stories, tasks and bugs whose epic is not visible"]
    if hidden:
        n = int(hidden)
        assert (any(s.startswith(f"{n:,} issue") and "cannot see" in s for s in sentences)
                or f"the epic of {n:,} issue" in sentences[-1])
    assert sentences[-1].startswith(("What this page could not see", "Nothing this page needs is missing"))
    got["scope"] = _check_scope(wb["Changes"], sentences)
    return got


def _check_scope(ws: Any, sentences: list[str]) -> tuple[int, int]:
    """The week's scope sentence recomputed from the Changes sheet's scope entries: (epics, children added)."""
    import re
    from datetime import date, timedelta

    heading = row_of(ws, "Scope entries of the last")
    until = date.fromisoformat(re.search(r"to (\d{4}-\d{2}-\d{2})\)", ws.cell(row=heading, column=1).value)[1])
    entries = [] if str(ws.cell(row=heading + 1, column=1).value).startswith("None") else table(ws, heading + 1)
    week = [e for e in entries if e["When"].date() >= until - timedelta(days=6)]
    added: dict[str, int] = {}
    points: dict[str, float] = {}
    for e in week:
        if e["Change"] == "child added":
            added[e["Epic"]] = added.get(e["Epic"], 0) + 1
        if e["Change"] in ("child added", "points changed") and e["Points"] is not None:
            points[e["Epic"]] = points.get(e["Epic"], 0) + e["Points"]
    grew = {k for k in {*added, *points} if added.get(k, 0) > 0 or points.get(k, 0) > 0}
    said = [s for s in sentences if s.startswith("Scope grew inside")]
    if said:
        n, children = len(grew), sum(added.values())
        assert said[0].startswith(f"Scope grew inside {n} started {'epic' if n == 1 else 'epics'} this week, "
                                  f"{children} {'child' if children == 1 else 'children'} added in all"), said[0]
    return len(grew), sum(added.values())


#: Most epics the roadmap chart draws.
ROADMAP_LIMIT = 30


def key_order(key: str) -> tuple[str, int]:
    """An issue key sorted by project, then number (PAY-9 before PAY-10)."""
    project, _, number = key.rpartition("-")
    return project, int(number) if number.isdigit() else -1


def in_lines(texts: list[str], sentence: str) -> bool:
    """Whether ``sentence`` is one SVG text, or a run of consecutive ones (a wrapped line) joined by spaces."""
    return any(" ".join(texts[i:j]) == sentence for i in range(len(texts)) for j in range(i + 1, len(texts) + 1))


def _check_roadmap(listed: list[dict[str, Any]], texts: list[str]) -> dict[str, Any]:
    """The roadmap's title and subtitle, recomputed from the Roadmap sheet (every open epic).

    The chart draws the open epics with the earliest target dates, ties by key, at most 30.
    """
    listed = [r for r in listed if r["Epic"]]
    dated = sorted((r for r in listed if r["Target date"] is not None),
                   key=lambda r: (r["Target date"], key_order(r["Epic"])))
    shown = dated[:ROADMAP_LIMIT]
    late = sum(1 for r in shown if r["RAG"] in RISKY)
    undated = len(listed) - len(dated)
    if not shown:
        assert not any(t.startswith("Roadmap: ") for t in texts)
        return {"shown": [], "late": 0, "dated": 0, "listed": len(listed)}
    if len(dated) > len(shown):
        title = f"Roadmap: {late} of the {len(shown)} open epics due earliest are at risk or off track"
        chosen = (f"The {len(shown)} open epics with the earliest target dates (overdue included), "
                  f"of {len(dated)} with one")
    else:
        title = f"Roadmap: {late} of {len(shown)} open epics with a target date are at risk or off track"
        chosen = f"All {len(dated)} open epics with a target date"
    sheet = (f"; the Roadmap sheet lists all {len(listed)} open epics, {undated} without a target date." if undated
             else "; the Roadmap sheet lists them all." if len(dated) > len(shown) else ".")
    guessed = " (no start date: 30 days before)" if any(r["Start"] is None for r in shown) else ""
    subtitle = f"{chosen}{sheet} Grouped by initiative; bars run start → target date{guessed}."
    assert title in texts, (title, [t for t in texts if t.startswith("Roadmap")])
    assert in_lines(texts, subtitle), subtitle
    # Every epic drawn is labelled on the chart, and none other is.
    drawn = {t.split("  ")[0] for t in texts if "  " in t} & {r["Epic"] for r in listed}
    assert drawn == {r["Epic"] for r in shown}
    return {"shown": [r["Epic"] for r in shown], "late": late, "dated": len(dated), "listed": len(listed),
            "title": title, "subtitle": subtitle}


def _check_initiative_forecast(forecast: list[dict[str, Any]], texts: list[str]) -> str:
    """The initiative chart's title, recomputed from the Forecast sheet: the dated initiative with the most
    epics (ties: earliest target date, then key), its P50 and P85 and its target date."""
    dated = [r for r in forecast if r.get("Level") == "initiative" and r.get("P50") is not None]
    if not dated:
        title = "Initiative forecast: no initiative can be dated yet"
    else:
        far = datetime.max
        row = sorted(dated, key=lambda r: (-int(r["Epics"]), r["Target date"] or far, key_order(r["Key"])))[0]

        def day(value: Any) -> str:
            return "beyond the horizon" if value is None else value.date().isoformat()

        target = "" if row["Target date"] is None else f"; target {day(row['Target date'])}"
        title = f"{row['Key']}: P50 {day(row['P50'])}, P85 {day(row['P85'])}{target}"
    assert title in texts, (title, texts[:5])
    return title


def _check_trend(trend: list[dict[str, Any]], texts: list[str]) -> str:
    """The week-over-week chart's title, recomputed from the Trend sheet."""
    if not trend:
        title = "No epics yet: the trend starts with the first weekly report"
    elif len(trend) == 1:
        week = trend[0]
        title = (f"Week of {week['Week of'].date().isoformat()}: {week['Epics open']} epics open, "
                 f"{week['At risk / off track']} at risk — the trend starts with next week's report")
    else:
        first, last = trend[0], trend[-1]
        before, now = first["At risk / off track"], last["At risk / off track"]
        moved = f"up by {now - before}" if now > before else f"down by {before - now}" if now < before else "unchanged"
        weeks = round((last["Week of"] - first["Week of"]).days / 7)
        title = (f"Epics at risk {moved} ({before} → {now}) over {weeks} week{'' if weeks == 1 else 's'} "
                 f"since {first['Week of'].date().isoformat()}")
    assert title in texts, (title, texts)
    return title


def _insight_sentences(summary: Any) -> list[str]:
    """The numbered sentences under "What you should know this week", without their numbers."""
    start = row_of(summary, "What you should know this week", exact=True)
    out = []
    for r in range(start + 1, summary.max_row + 1):
        value = summary.cell(row=r, column=1).value
        if value is None:
            break
        number, _, text = str(value).partition(". ")
        assert number == str(len(out) + 1), value
        out.append(text)
    return out


def placeholder_cells(wb: Any, words: tuple[str, ...] = ("placeholder", "todo", "lorem")) -> list[str]:
    """Every cell (sheet!coordinate) whose text holds one of ``words``, case-insensitive."""
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(w in cell.value.lower() for w in words):
                    found.append(f"{ws.title}!{cell.coordinate}: {cell.value[:80]}")
    return found
