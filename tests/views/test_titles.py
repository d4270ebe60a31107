"""Chart titles and the roadmap's rule: which epics it draws, and the line that says so."""

from __future__ import annotations

import pandas as pd
import pytest
from portfolio_org import MAPPINGS
from roadmap_epics import REPORT_DAY, roadmap_epics

from rollup.views import okrs as okrs_view
from rollup.views import titles


def test_the_roadmap_draws_the_open_epics_due_earliest_grouped_by_initiative():
    rows = titles.roadmap_rows(roadmap_epics())
    assert len(rows) == titles.ROADMAP_LIMIT == 30
    assert set(rows["key"]) == {f"PAY-{n}" for n in range(11, 40)} | {"PAY-9"}    # PAY-9 before PAY-10 on the tie
    assert rows["target_date"].min() < REPORT_DAY                                  # overdue ones included
    groups = list(dict.fromkeys(rows["initiative"].fillna("none")))
    assert groups == ["INIT-1", "INIT-2", "INIT-10", "none"]                       # by key number, none last
    for _, group in rows.groupby(rows["initiative"].fillna("none")):
        assert list(group["start"]) == sorted(group["start"])
    guessed = rows[rows["start_date"].isna()]
    assert (guessed["start"] == guessed["target_date"] - pd.Timedelta(days=titles.DEFAULT_SPAN_DAYS)).all()


def test_the_roadmap_title_and_subtitle_state_the_rule_and_the_counts():
    frame = roadmap_epics()
    rows, candidates = titles.roadmap_rows(frame), titles.open_epics(frame)
    late = int(rows["rag"].isin(["at risk", "off track"]).sum())
    assert late == 11                                                  # PAY-29 … PAY-39 overdue, and PAY-9
    assert titles.roadmap_title(rows, candidates) == (
        "Roadmap: 11 of the 30 open epics due earliest are at risk or off track")
    assert titles.roadmap_subtitle(rows, candidates) == (
        "The 30 open epics with the earliest target dates (overdue included), of 39 with one; the Roadmap "
        "sheet lists all 41 open epics, 2 without a target date. Grouped by initiative; bars run start → "
        "target date (no start date: 30 days before).")
    few = frame[frame["key"].isin(["PAY-13", "PAY-14", "PAY-40"])]       # both with a start date
    few_rows = titles.roadmap_rows(few)
    assert titles.roadmap_title(few_rows, titles.open_epics(few)) == (
        "Roadmap: 0 of 2 open epics with a target date are at risk or off track")
    assert titles.roadmap_subtitle(few_rows, titles.open_epics(few)) == (
        "All 2 open epics with a target date; the Roadmap sheet lists all 3 open epics, 1 without a target date. "
        "Grouped by initiative; bars run start → target date.")


def trend(days: list[str], at_risk: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"day": pd.to_datetime(days), "epics_open": [20] * len(days), "epics_at_risk": at_risk})


@pytest.mark.parametrize(("frame", "title"), [
    (trend(["2026-11-02", "2026-11-09", "2026-11-23"], [4, 6, 7]),
     "Epics at risk up by 3 (4 → 7) over 3 weeks since 2026-11-02"),
    (trend(["2026-11-16", "2026-11-23"], [5, 2]), "Epics at risk down by 3 (5 → 2) over 1 week since 2026-11-16"),
    (trend(["2026-11-16", "2026-11-23"], [2, 2]), "Epics at risk unchanged (2 → 2) over 1 week since 2026-11-16"),
    (trend(["2026-11-23"], [3]),
     "Week of 2026-11-23: 20 epics open, 3 at risk — the trend starts with next week's report"),
    (trend([], []), "No epics yet: the trend starts with the first weekly report"),
])
def test_the_week_over_week_title_comes_from_the_trend(frame, title):
    assert titles.trend_title(frame) == title
    empty = pd.DataFrame(columns=titles.COLUMNS)
    summary = okrs_view.summarise(pd.DataFrame(columns=okrs_view.COLUMNS))
    row = titles.compute(pd.DataFrame(), MAPPINGS, as_of=REPORT_DAY.date(), epics=empty, pillars=empty,
                         allocation=empty, okr_summary=summary, trend=frame, forecast=empty)
    assert titles.title(row, "week-over-week") == title
