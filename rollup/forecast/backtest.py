"""How accurate the forecast has been: forecasts made as of past weeks, scored against the actual done dates.

For each past as-of date (every ``every`` weeks back to ``weeks`` weeks before the report's), the
portfolio is rebuilt as it stood then from the store's own rows (:func:`as_of_frame`), forecast
(:func:`rollup.forecast.forecast`) and projected the linear way the Epics sheet does
(:func:`rollup.views.epics.linear_projection`: remaining work ÷ the epic's own throughput of the
last 28 days). Each epic open then is scored:

* **P85 hit**: done on or before its P85 date (for the linear projection: on or before its
  projected date). An epic still open whose date has passed is a miss; one still open whose date
  is still ahead is not scored yet.
* **Error**: days between the P50 date (linear: the projected date) and the day it was done, for
  epics done since; the median absolute error.

Where the store holds a weekly snapshot of that date's ISO week with the forecast and the linear date
in it (``snapshots``, written by every weekly report), the forecasts scored are the ones made then —
nothing is rebuilt for that date, which is both truer and cheaper; :attr:`Backtest.sources` says which
dates were read and which rebuilt.

The rebuild is approximate where the store keeps no history: an issue counts as existing from its
creation and done from its resolution; target dates, teams and story points are today's. The
forecast and the linear projection are scored on the same rebuilt portfolio, so the comparison is fair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.forecast.engine import forecast

#: Columns of :attr:`Backtest.epics`.
EPIC_COLUMNS = ["as_of", "key", "team_id", "p50", "p85", "linear", "done_on", "p85_hit", "linear_hit",
                "p50_error_days", "linear_error_days"]
#: Columns of :attr:`Backtest.teams` (one row per team, then ``all``).
TEAM_COLUMNS = ["team_id", "forecasts", "p85_scored", "p85_hits", "p85_hit_rate", "p50_median_error_days",
                "linear_dated", "linear_scored", "linear_hits", "linear_hit_rate", "linear_median_error_days"]


@dataclass
class Backtest:
    """Every scored forecast (``epics``) and the figures per team (``teams``; the last row is ``all``)."""

    as_of: date
    dates: list[date]
    epics: pd.DataFrame
    teams: pd.DataFrame
    #: Per date: ``stored`` (the forecasts of that week's snapshot) or ``rebuilt``.
    sources: dict[date, str] | None = None


def _day(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, errors="coerce", utc=True)
    return out.dt.tz_convert(None).dt.normalize()


#: The columns the forecast and the linear projection read; the rebuilt weeks keep only these.
COLUMNS_READ = ["key", "hierarchy_level", "epic", "initiative", "team_id", "status", "status_category", "resolved",
                "created", "start_date", "target_date", "story_points"]


def as_of_frame(mapped_issues: pd.DataFrame, day: date) -> pd.DataFrame:
    """The mapped issues as they stood at the end of ``day``: created by then; not yet done if done later."""
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    created = _day(mapped_issues["created"])
    frame = mapped_issues[created.isna() | created.lt(end)].copy()
    resolved = _day(frame["resolved"])
    later = resolved.isna() | resolved.ge(end)
    done = frame["status_category"].astype(str).eq("done") & ~later
    level = pd.to_numeric(frame["hierarchy_level"], errors="coerce")
    # An epic had started by then when its start date had come or one of its children was done.
    started_epics = set(frame.loc[level.eq(0) & done, "epic"].dropna().astype(str))
    start = _day(frame["start_date"]) if "start_date" in frame else pd.Series(pd.NaT, index=frame.index)
    started = start.lt(end) | frame["key"].astype(str).isin(started_epics)
    category = np.where(done, "done", np.where(level.eq(0) | started, "indeterminate", "new"))
    frame["status_category"] = category
    frame["status"] = np.where(done, "Done", np.where(category == "new", "To Do", "In Progress"))
    frame["resolved"] = frame["resolved"].where(done, None)
    return frame


STORED, REBUILT = "stored", "rebuilt"


def stored_forecasts(week: pd.DataFrame, day: date, keys: set[str]) -> pd.DataFrame | None:
    """The forecasts the weekly snapshot of ``day``'s ISO week holds for the epics ``keys`` that were open then:
    ``key``, ``team_id``, ``p50``, ``p85``, ``linear``; None when that week has no snapshot, or one written
    before the snapshots kept the forecast and the linear date, or one made after ``day``. ``week``: the
    snapshots one per week (:func:`rollup.views.changes.weekly`)."""
    from rollup.views.changes import iso_week

    # A snapshot made later in that week would know what happened after the date it is scored from.
    rows = week[week["week"].eq(iso_week(day)) & week["day"].le(pd.Timestamp(day))]
    payloads = [p for p in rows["payload"] if isinstance(p, dict)]
    if not payloads or not any("p85" in p and "projected_completion" in p for p in payloads):
        return None
    frame = pd.DataFrame(payloads).reindex(columns=["key", "team_id", "status_category", "p50", "p85",
                                                    "projected_completion"])
    frame = frame[frame["key"].astype(str).isin(keys) & ~frame["status_category"].astype(str).eq("done")]
    return pd.DataFrame({"key": frame["key"].astype(str).to_numpy(), "team_id": frame["team_id"].to_numpy(),
                         "p50": pd.to_datetime(frame["p50"]).to_numpy(), "p85": pd.to_datetime(frame["p85"]).to_numpy(),
                         "linear": pd.to_datetime(frame["projected_completion"]).to_numpy()})


def backtest(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, weeks: int = 24,
             every: int = 4, trials: int = 2000, snapshots: pd.DataFrame | None = None) -> Backtest:
    """Forecast and project as of each past date; score both against what happened (module docstring).

    ``snapshots``: the store's weekly epic snapshots; a date whose week has one is scored on its forecasts.
    """
    from rollup.views import epics as epics_view

    options = mappings.forecast.model_copy(update={"trials": trials})
    max_points = mappings.report.max_story_points
    mapped_issues = mapped_issues[[c for c in COLUMNS_READ if c in mapped_issues.columns]]
    actual = _day(mapped_issues["resolved"]).where(mapped_issues["status_category"].astype(str).eq("done"))
    done_on = pd.Series(actual.to_numpy(), index=mapped_issues["key"].astype(str))
    today = pd.Timestamp(as_of)
    dates = [as_of - timedelta(days=7 * k) for k in range(every, weeks + 1, every)]
    parts = []
    sources: dict[date, str] = {}
    epic_keys = set(mapped_issues.loc[pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce").eq(1),
                                      "key"].astype(str))
    from rollup.views.changes import weekly

    week = weekly(snapshots)
    for day in dates:
        stored = stored_forecasts(week, day, epic_keys)
        sources[day] = STORED if stored is not None else REBUILT
        if stored is not None:
            stored["as_of"] = pd.Timestamp(day)
            stored["done_on"] = stored["key"].map(done_on)
            parts.append(stored)
            continue
        then = as_of_frame(mapped_issues, day)
        predicted = forecast(then, options, as_of=day, rollups=False).epics
        rolled = epics_view.rolled_up(then, as_of=day, max_points=max_points)
        projected = epics_view.linear_projection(rolled, as_of=day)[2]
        open_now = ~rolled["status_category"].astype(str).eq("done")
        rows = pd.DataFrame({"key": rolled.loc[open_now, "key"].astype(str).to_numpy(),
                             "linear": pd.to_datetime(projected[open_now]).to_numpy()})
        rows = rows.merge(predicted[["key", "team_id", "p50", "p85"]], on="key", how="left")
        rows["as_of"] = pd.Timestamp(day)
        rows["done_on"] = rows["key"].map(done_on)
        parts.append(rows)
    epics = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=EPIC_COLUMNS)
    for col in ("p50", "p85", "linear", "done_on", "as_of"):
        epics[col] = pd.to_datetime(epics[col])
    epics["p85_hit"] = _hits(epics["p85"], epics["done_on"], today)
    epics["linear_hit"] = _hits(epics["linear"], epics["done_on"], today)
    epics["p50_error_days"] = (epics["p50"] - epics["done_on"]).dt.days.abs()
    epics["linear_error_days"] = (epics["linear"] - epics["done_on"]).dt.days.abs()
    epics = epics.reindex(columns=EPIC_COLUMNS)
    return Backtest(as_of=as_of, dates=dates, epics=epics, teams=_scores(epics), sources=sources)


def _hits(dated: pd.Series, done_on: pd.Series, today: pd.Timestamp) -> pd.Series:
    """True: done by the date; False: done later, or still open with the date passed; NA: not scored."""
    hit = pd.Series(pd.NA, index=dated.index, dtype="boolean")
    known = dated.notna() & (done_on.notna() | dated.lt(today))
    hit[known] = done_on[known].notna() & done_on[known].le(dated[known])
    return hit


def _scores(epics: pd.DataFrame) -> pd.DataFrame:
    rows = []
    teams = epics.assign(team_id=epics["team_id"].fillna("(no team)").astype(str))
    for team, part in [*teams.groupby("team_id", sort=True), ("all", teams)]:
        p85 = part["p85_hit"].dropna()
        lin = part["linear_hit"].dropna()
        rows.append({
            "team_id": team, "forecasts": int(part["p85"].notna().sum()),
            "p85_scored": len(p85), "p85_hits": int(p85.sum()),
            "p85_hit_rate": float(p85.mean()) if len(p85) else float("nan"),
            "p50_median_error_days": float(part["p50_error_days"].median()),
            "linear_dated": int(part["linear"].notna().sum()), "linear_scored": len(lin),
            "linear_hits": int(lin.sum()), "linear_hit_rate": float(lin.mean()) if len(lin) else float("nan"),
            "linear_median_error_days": float(part["linear_error_days"].median()),
        })
    return pd.DataFrame(rows, columns=TEAM_COLUMNS)
