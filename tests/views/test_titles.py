"""Chart titles from the views behind them."""

from __future__ import annotations

import pandas as pd
import pytest

from rollup.views import titles


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
    row = titles.compute(pd.DataFrame(), None, as_of=pd.Timestamp("2026-11-23").date(), trend=frame)
    assert titles.title(row, "week-over-week") == title
