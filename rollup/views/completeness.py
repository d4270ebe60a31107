"""Data completeness: how far the numbers can be trusted, printed in every workbook.

``sync_runs``: the store's ``sync_runs`` rows (list of dicts or a frame), oldest first.
``epics``: the epic view; ``hygiene``, ``missing_parents``
and ``points_out_of_range``: those views.

Columns: ``measure`` (a stable id), ``label`` (words for the reader), ``value`` (a number),
``kind`` (``share``, ``count`` or ``hours``), ``detail`` (text).

Measures: ``epics_unmapped`` (share of epics without a pillar), ``epics_without_bucket``,
``issues_without_estimate`` (share of story-level issues without story points),
``changelogs_incomplete`` (share of issues whose changelog is truncated or missing),
``sync_age_hours`` (hours from the last finished sync to the end of ``as_of``; NaN without one),
``last_sync_status``, ``retries_seen`` (retries + throttled responses in the last sync),
``issues_epic_not_visible`` (stories, tasks and bugs whose epic the store does not hold),
``subtasks_parent_not_visible``, ``epics_initiative_not_visible``, ``points_out_of_range``
(issues whose story points are negative or above ``report.max_story_points``: left out of sums),
``hygiene`` (the hygiene view's score: share of epics with no lint finding at or above
``report.hygiene_min_severity``), ``forecast_p85_hit_rate`` (``forecast_accuracy``'s ``all`` row:
share of past forecasts done by their P85 date, the linear projection's beside it in ``detail``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any, cast

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import usable_points
from rollup.store.sites import worst_last_run
from rollup.views import hygiene as hygiene_view
from rollup.views._common import report_options
from rollup.views.registry import View

COLUMNS = ["measure", "label", "value", "kind", "detail"]


def last_run(sync_runs: Any) -> dict[str, Any] | None:
    """The most recent sync run row (as a dict), or None; with several sites, the latest run of the site
    least to be trusted (one whose last sync failed, else the one synced longest ago)."""
    if sync_runs is None:
        return None
    rows: list[Any] = sync_runs.to_dict(orient="records") if isinstance(sync_runs, pd.DataFrame) else list(sync_runs)
    worst = worst_last_run(rows)
    return dict(worst) if worst is not None else None


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, hygiene: pd.DataFrame, missing_parents: pd.DataFrame,
    points_out_of_range: pd.DataFrame, sync_runs: Any, now: datetime | None, forecast_accuracy: pd.DataFrame,
) -> pd.DataFrame:
    """Completeness measures; always returns every measure (NaN where unknown)."""
    epic_rows = epics
    work = mapped_issues[mapped_issues["hierarchy_level"].eq(0)] if len(mapped_issues) else mapped_issues
    n_epics, n_work, n_all = len(epic_rows), len(work), len(mapped_issues)

    def share(count: float, total: int) -> float:
        return float(count) / total if total else float("nan")

    unmapped = int(epic_rows["pillar"].astype(str).eq("Unmapped").sum()) if n_epics else 0
    no_bucket = int(epic_rows["bucket"].astype(str).eq("Unmapped").sum()) if n_epics else 0
    options = report_options(mappings)
    no_estimate = int(usable_points(work["story_points"], options.max_story_points).isna().sum()) if n_work else 0
    incomplete = int((~mapped_issues["changelog_complete"].fillna(False).astype(bool)).sum()) if n_all else 0
    score = hygiene_view.total(hygiene)
    hygiene_score = float(score["hygiene"]) if score is not None else float("nan")
    missing = missing_parents
    out_of_range = points_out_of_range
    n_points = len(out_of_range) if out_of_range is not None else 0

    def not_visible(measure: str, kind: str, what: str, parent: str) -> tuple[str, str, float, str, str]:
        part = missing[missing["kind"].eq(kind)] if missing is not None and len(missing) else None
        issues = int(part["issues"].sum()) if part is not None else 0
        keys = part["missing_key"].nunique() if part is not None else 0
        detail = (f"{issues:,} {what} under {keys:,} {parent} keys the store does not hold (private, deleted or "
                  "outside the scope); listed below" if issues else "none")
        return (measure, f"{what.capitalize()} whose {kind} is not visible", issues, "count", detail)

    run = last_run(sync_runs)
    age, status, retries, detail_run = float("nan"), "no sync recorded", float("nan"), "no sync run in the store"
    if run:
        finished = run.get("finished") or run.get("started")
        if finished is not None:
            finished = pd.Timestamp(finished)
            finished = finished.tz_localize("UTC") if finished.tzinfo is None else finished.tz_convert("UTC")
            end_of_day = pd.Timestamp(datetime.combine(as_of, time.max), tz=timezone.utc)
            now = min(end_of_day, pd.Timestamp(now or datetime.now(timezone.utc)))
            age = max((now - finished).total_seconds() / 3600, 0.0)
            detail_run = f"last sync {finished.strftime('%Y-%m-%d %H:%M')} UTC ({run.get('mode', '?')})"
        status = str(run.get("status") or "?")
        retries = float((run.get("retries") or 0) + (run.get("throttled") or 0))

    rows = [
        ("epics_unmapped", "Epics without a pillar", share(unmapped, n_epics), "share",
         f"{unmapped} of {n_epics} epics"),
        ("epics_without_bucket", "Epics without an allocation bucket", share(no_bucket, n_epics), "share",
         f"{no_bucket} of {n_epics} epics"),
        ("issues_without_estimate", "Stories/tasks/bugs without story points", share(no_estimate, n_work), "share",
         f"{no_estimate} of {n_work} issues"),
        ("changelogs_incomplete", "Issues with a truncated or missing changelog", share(incomplete, n_all), "share",
         f"{incomplete} of {n_all} issues"),
        ("sync_age_hours", "Hours since the last sync", age, "hours", detail_run),
        ("last_sync_status", "Last sync status", np.nan, "text", status),
        ("retries_seen", "Retries and throttled requests in the last sync", retries, "count",
         "Jira asked us to slow down or a request was retried" if retries and retries > 0 else ""),
        not_visible("issues_epic_not_visible", "epic", "stories, tasks and bugs", "epic"),
        not_visible("subtasks_parent_not_visible", "parent", "sub-tasks", "parent"),
        not_visible("epics_initiative_not_visible", "initiative", "epics", "initiative"),
        ("points_out_of_range", f"Issues with story points below 0 or above {options.max_story_points:g}",
         n_points, "count", "kept as entered, left out of every sum (counted as unestimated); listed below"
         if n_points else "none"),
        ("hygiene", "Hygiene score", hygiene_score, "share", hygiene_view.detail(score, options.hygiene_min_severity)),
        accuracy_row(forecast_accuracy),
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def accuracy_row(accuracy: pd.DataFrame | None) -> tuple[str, str, float, str, str]:
    """The forecast-accuracy measure from the ``forecast_accuracy`` view's ``all`` row."""
    label = "Forecast accuracy: past forecasts done by their P85 date (backtest)"
    rows = accuracy.set_index("team_id") if accuracy is not None and len(accuracy) else None
    if rows is None or "all" not in rows.index or not rows.at["all", "p85_scored"]:
        return ("forecast_p85_hit_rate", label, float("nan"), "share",
                "no past forecast to score yet (forecast.backtest_weeks, or too little history)")
    row = {str(k): v for k, v in rows.loc["all"].to_dict().items()}

    def days(value: Any) -> str:
        return "n/a" if pd.isna(value) else f"{float(value):.0f} days"

    linear = (f"{int(row['linear_hits'])} of {int(row['linear_scored'])} ({row['linear_hit_rate']:.0%})"
              if row["linear_scored"] else "none scored")
    detail = (f"{int(row['p85_hits'])} of {int(row['p85_scored'])} scored forecasts, as of {row['dates']}; "
              f"linear projection: {linear} done by its date. Median error: P50 {days(row['p50_median_error_days'])}"
              f", linear {days(row['linear_median_error_days'])}. Per team below.")
    return ("forecast_p85_hit_rate", label, float(row["p85_hit_rate"]), "share", detail)


def freshness_line(completeness: pd.DataFrame) -> str:
    """One line for the top of the Summary sheet: freshness and completeness."""
    values = completeness.set_index("measure")

    # ``value`` is numeric (NaN where unknown), ``detail`` text.
    def pct(measure: str) -> str:
        v = cast(float, values.at[measure, "value"])
        return "n/a" if pd.isna(v) else f"{v:.0%}"

    age = cast(float, values.at["sync_age_hours", "value"])
    fresh = "no sync recorded" if pd.isna(age) else (
        f"synced {age:.0f} h ago" if age < 48 else f"synced {age / 24:.0f} days ago — STALE")
    status = cast(str, values.at["last_sync_status", "detail"])
    if status not in ("ok", "no sync recorded"):
        fresh += f" (last sync: {status})"
    hidden = (cast(float, values.at["issues_epic_not_visible", "value"])
              if "issues_epic_not_visible" in values.index else 0)
    unseen = (f"; {int(hidden):,} {'issue' if int(hidden) == 1 else 'issues'} under epics not visible"
              if hidden else "")
    return (f"Data: {fresh}; epics without pillar {pct('epics_unmapped')}; issues without estimate "
            f"{pct('issues_without_estimate')}; changelogs incomplete {pct('changelogs_incomplete')}{unseen}.")


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("completeness", compute=compute, requires=(
    "epics", "hygiene", "missing_parents", "points_out_of_range", "sync_runs", "now", "forecast_accuracy",
))
