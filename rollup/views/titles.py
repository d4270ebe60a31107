"""Chart titles: what each chart tells the reader, from the same views and functions the sheets print.

The allocation chart and the Summary's native chart take the pillar furthest from target
(:func:`rollup.views.pillars.gap_sentence`), the OKR chart takes :func:`rollup.views.okrs.headline`
of the ``okr_summary`` view (the line the Summary and the OKRs sheet print), the bucket chart the
last month's biggest bucket of the allocation view, the roadmap how many of the epics it draws
(:func:`roadmap_rows`) are at risk, the week-over-week chart how the epics at risk moved over the
``trend`` view (:func:`trend_title`).

The roadmap draws at most :data:`ROADMAP_LIMIT` epics: of the open epics with a target date, those
whose target dates come earliest (overdue ones included), grouped by initiative. Its row
``roadmap-subtitle`` states that rule with the counts behind it, and how many open epics the Roadmap
sheet lists beside them (:func:`roadmap_subtitle`); the chart prints it under its title.

Columns: ``chart`` (the chart's name, as in ``rollup.writers.charts.CHARTS``, or ``<name>-subtitle``
for the line under that chart's title), ``title``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import okrs as okrs_view
from rollup.views import pillars as pillars_view
from rollup.views._common import key_order
from rollup.views.registry import View

COLUMNS = ["chart", "title"]

#: Most epics the roadmap chart draws.
ROADMAP_LIMIT = 30

#: Days a roadmap bar runs before the target date when the epic has no start date.
DEFAULT_SPAN_DAYS = 30


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, pillars: pd.DataFrame, allocation: pd.DataFrame, okr_summary: pd.DataFrame,
    trend: pd.DataFrame, forecast: pd.DataFrame,
) -> pd.DataFrame:
    """One row per chart that takes its title from here."""
    summary = okr_summary
    drawn, candidates = roadmap_rows(epics), open_epics(epics)
    rows = [
        ("allocation-vs-target", pillar_title(pillars)),
        ("allocation-by-bucket", bucket_title(allocation)),
        ("roadmap", roadmap_title(drawn, candidates)),
        ("roadmap-subtitle", roadmap_subtitle(drawn, candidates)),
        ("okr-progress", okrs_view.headline(summary)),
        ("week-over-week", trend_title(trend)),
        ("initiative-forecast", initiative_forecast_title(forecast.attrs.get("curve"))),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def initiative_forecast_title(curve: pd.DataFrame | None) -> str:
    """The drawn initiative and its P50 / P85 dates (and its target date, when it has one)."""
    if curve is None or curve.empty:
        return "Initiative forecast: no initiative can be dated yet"
    row = curve.iloc[0]

    def day(value: Any) -> str:
        return "beyond the horizon" if pd.isna(value) else pd.Timestamp(value).date().isoformat()

    target = "" if pd.isna(row["target_date"]) else f"; target {day(row['target_date'])}"
    return f"{row['key']}: P50 {day(row['p50'])}, P85 {day(row['p85'])}{target}"


def pillar_title(pillars: pd.DataFrame) -> str:
    """The pillar furthest from its target share, in percentage points."""
    row = pillars_view.furthest_from_target(pillars)
    return pillars_view.gap_sentence(row) if row is not None else "Effort by pillar: actual vs target"


def bucket_title(allocation: pd.DataFrame) -> str:
    """Which bucket took most of the last month's effort."""
    months = allocation[allocation["period_type"].eq("month")] if len(allocation) else allocation
    if months.empty:
        return "Effort by allocation bucket per month"
    last = months[months["period_start"].eq(months["period_start"].max())]
    by_bucket = last.groupby("bucket_name", observed=True, sort=False)["effort"].sum()
    if not by_bucket.sum():
        return "Effort by allocation bucket per month"
    top = by_bucket.idxmax()
    return f"{top} took {by_bucket.max() / by_bucket.sum():.0%} of effort in {last['period'].iloc[0]}"


def open_epics(epics: pd.DataFrame) -> pd.DataFrame:
    """The open (not done) epics: the rows of the Roadmap sheet, with or without a target date."""
    return epics[epics["rag"] != "done"] if len(epics) else epics


def roadmap_rows(epics: pd.DataFrame, limit: int = ROADMAP_LIMIT) -> pd.DataFrame:
    """The open epics with a target date the roadmap draws, with their ``start`` (the start date, or
    :data:`DEFAULT_SPAN_DAYS` before the target date when there is none).

    At most ``limit``: those whose target dates come earliest, overdue ones included (ties: by key, PAY-9
    before PAY-10). They are ordered for drawing: by initiative key (epics without one last), then start,
    then key.
    """
    rows = open_epics(epics)
    rows = rows[rows["target_date"].notna()] if len(rows) else rows
    if not len(rows):
        return rows
    order = rows["key"].map(key_order)
    rows = rows.assign(_key=order).sort_values(["target_date", "_key"], kind="stable").head(limit)
    start = rows["start_date"].fillna(rows["target_date"] - pd.Timedelta(days=DEFAULT_SPAN_DAYS))
    rows = rows.assign(start=start, _initiative=rows["initiative"].map(key_order, na_action="ignore"))
    return (rows.sort_values(["_initiative", "start", "_key"], na_position="last", kind="stable")
            .drop(columns=["_key", "_initiative"]))


def roadmap_title(rows: pd.DataFrame, candidates: pd.DataFrame | None = None) -> str:
    """How many of the drawn epics are at risk or off track; ``candidates``: the open epics (all drawn if None)."""
    if not len(rows):
        return "Roadmap: no open epics with a target date"
    late = int(rows["rag"].isin(["at risk", "off track"]).sum())
    dated = _dated(candidates) if candidates is not None else len(rows)
    if dated > len(rows):
        return f"Roadmap: {late} of the {len(rows)} open epics due earliest are at risk or off track"
    return f"Roadmap: {late} of {len(rows)} open epics with a target date are at risk or off track"


def roadmap_subtitle(rows: pd.DataFrame, candidates: pd.DataFrame) -> str:
    """Which epics the roadmap draws, of how many, and what the Roadmap sheet lists beside them."""
    total, dated = len(candidates), _dated(candidates)
    undated = total - dated
    if not total:
        return "No open epics."
    if not len(rows):
        return f"None of the {total} open epics has a target date; the Roadmap sheet lists them all."
    if dated > len(rows):
        chosen = (f"The {len(rows)} open epics with the earliest target dates (overdue included), "
                  f"of {dated} with one")
    else:
        chosen = f"All {dated} open epics with a target date"
    sheet = (f"; the Roadmap sheet lists all {total} open epics, {undated} without a target date." if undated
             else "; the Roadmap sheet lists them all." if dated > len(rows) else ".")
    guessed = rows["start_date"].isna().any()
    bars = f" (no start date: {DEFAULT_SPAN_DAYS} days before)" if guessed else ""
    return f"{chosen}{sheet} Grouped by initiative; bars run start → target date{bars}."


def _dated(epics: pd.DataFrame) -> int:
    return int(epics["target_date"].notna().sum()) if len(epics) else 0


def trend_title(trend: pd.DataFrame) -> str:
    """How the epics at risk moved over the weekly trend; one week is no trend yet, and says so."""
    if trend.empty:
        return "No epics yet: the trend starts with the first weekly report"
    days = pd.to_datetime(trend["day"])
    last = trend.iloc[-1]
    if len(trend) < 2:
        return (f"Week of {days.iloc[-1].date().isoformat()}: {int(last['epics_open'])} epics open, "
                f"{int(last['epics_at_risk'])} at risk — the trend starts with next week's report")
    first = trend.iloc[0]
    before, now = int(first["epics_at_risk"]), int(last["epics_at_risk"])
    delta = now - before
    word = f"up by {delta}" if delta > 0 else f"down by {-delta}" if delta < 0 else "unchanged"
    weeks = round((days.iloc[-1] - days.iloc[0]).days / 7)
    return (f"Epics at risk {word} ({before} → {now}) over {weeks} {'week' if weeks == 1 else 'weeks'} "
            f"since {days.iloc[0].date().isoformat()}")


def title(titles: pd.DataFrame | None, chart: str) -> str | None:
    """The title of ``chart`` in the titles view, or None."""
    if titles is None or not len(titles):
        return None
    match = titles.loc[titles["chart"].eq(chart), "title"]
    return str(match.iloc[0]) if len(match) else None


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("titles", requires=("epics", "pillars", "allocation", "okr_summary", "trend", "forecast"),
            compute=compute)


__all__ = ["VIEW", "compute", "title", "pillar_title", "bucket_title", "open_epics", "roadmap_rows", "roadmap_title",
           "roadmap_subtitle", "trend_title", "COLUMNS", "ROADMAP_LIMIT", "DEFAULT_SPAN_DAYS"]
