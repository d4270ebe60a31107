"""The charts read back from their SVG text: they print what the titles view says, and a legend for what they draw."""

from __future__ import annotations

import pandas as pd
from portfolio_org import AS_OF, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots
from roadmap_epics import NAMES, REPORT_DAY, roadmap_epics
from workbook_checks import in_lines, svg_texts

from rollup.jobs.report import build_views
from rollup.views import titles
from rollup.writers import charts


def test_the_roadmap_legend_names_the_pillars_it_draws(tmp_path):
    frame = roadmap_epics()
    rows, candidates = titles.roadmap_rows(frame), titles.open_epics(frame)
    subtitle = titles.roadmap_subtitle(rows, candidates)
    _, svg = charts.roadmap(frame, tmp_path, as_of=REPORT_DAY, title=titles.roadmap_title(rows, candidates),
                            subtitle=subtitle)
    texts = svg_texts(svg)
    assert "Roadmap: 11 of the 30 open epics due earliest are at risk or off track" in texts
    assert in_lines(texts, subtitle)
    # Enterprise and Retain are drawn, and PAY-9 has no pillar; Grow (PAY-1..8, due later) and Platform
    # (PAY-41, no target date) are not.
    assert {NAMES["ENT"], NAMES["RET"], "unmapped", "at risk / off track", "report date 2026-11-23"} <= set(texts)
    assert NAMES["GROW"] not in texts and NAMES["PLAT"] not in texts
    keys = {t.split("  ")[0] for t in texts if "  " in t}
    assert set(rows["key"]) <= keys and not keys & {"PAY-1", "PAY-10", "PAY-40", "DONE-1"}
    assert {"INIT-1", "INIT-2", "INIT-10", "No initiative"} <= keys | set(texts)


def test_the_week_over_week_chart_prints_the_title_of_the_titles_view(tmp_path):
    views = build_views(mapped_issues(), MAPPINGS, as_of=AS_OF, snapshots=snapshots(), sync_runs=SYNC_RUNS,
                        now=pd.Timestamp("2026-11-26T09:00Z"))
    said = titles.title(views["titles"], "week-over-week")
    assert said == titles.trend_title(views["trend"]) == "Epics at risk unchanged (3 → 3) over 2 weeks since 2026-11-12"
    # Whatever the view says is what the chart prints: the chart computes no sentence of its own.
    views["titles"] = views["titles"].replace({said: "Three weeks, and the epics at risk hold at three"})
    written = charts.write_all(views, tmp_path, as_of=AS_OF)
    texts = svg_texts(written["week-over-week"][1])
    assert "Three weeks, and the epics at risk hold at three" in texts
    assert not any(t.startswith("Epics at risk") for t in texts)
    # The allocation mix is labelled by bucket name, as the Trend sheet heads it.
    assert [t for t in texts if t.startswith("bucket")] == [f"bucket: {b.name}" for b in MAPPINGS.buckets]


def test_an_empty_trend_draws_its_message(tmp_path):
    message = titles.trend_title(pd.DataFrame(columns=["day", "epics_open", "epics_at_risk"]))
    _, svg = charts.week_over_week(pd.DataFrame(), tmp_path, title=message)
    assert message in svg_texts(svg)
