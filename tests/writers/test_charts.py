"""The charts read back from their SVG text: they print what the titles view says."""

from __future__ import annotations

import pandas as pd
from portfolio_org import AS_OF, MAPPINGS, SYNC_RUNS, mapped_issues, snapshots
from workbook_checks import svg_texts

from rollup.report import build_views
from rollup.views import titles
from rollup.writers import charts


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


def test_an_empty_trend_draws_its_message(tmp_path):
    message = titles.trend_title(pd.DataFrame(columns=["day", "epics_open", "epics_at_risk"]))
    _, svg = charts.week_over_week(pd.DataFrame(), tmp_path, title=message)
    assert message in svg_texts(svg)
