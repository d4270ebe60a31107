"""Allocation: effort by pillar and bucket, per month and per quarter.

Columns:

================  ==============================================================
``period_type``   ``month``, ``quarter`` or ``window`` (the ``allocation_window_days`` up to ``as_of``,
                  the window behind the pillars' actual shares and the Summary's strategy share)
``period``        ``2026-11``, ``2026Q4`` or ``last 91 days``
``period_start``  first day of the period (datetime64; the window's first day)
``pillar``        pillar id (ordered categorical as declared, ``Unmapped`` last)
``pillar_name``   its name
``bucket``        bucket id (ordered categorical, ``Unmapped`` last)
``bucket_name``   its name
``treatment``     the bucket's accounting treatment (capex / opex) or NA
``effort``        effort in ``unit`` (see :func:`effort`)
``share``         effort / all effort of the period
``unit``          ``story points`` or ``issues``
================  ==============================================================

Every completed story-level issue counts once, in the month it was resolved; the rows of a
period sum to that period's total effort. Issues whose epic is not visible count like any other
(their pillar is what their own rules say, usually Unmapped).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import usable_points
from rollup.views._common import (
    UNMAPPED,
    bucket_ids,
    empty,
    is_done,
    names,
    ordered,
    pillar_ids,
    report_options,
    to_day,
)
from rollup.views.registry import View

COLUMNS = ["period_type", "period", "period_start", "pillar", "pillar_name", "bucket", "bucket_name",
           "treatment", "effort", "share", "unit"]

#: Below this share of estimated completed issues, effort is counted in issues instead of points.
POINTS_COVERAGE = 0.5


def effort(mapped_issues: pd.DataFrame, max_points: float = 100) -> pd.DataFrame:
    """Effort per completed story-level issue — the one place the effort model lives.

    Returns columns ``key``, ``pillar``, ``bucket``, ``team_id``, ``resolved`` (datetime64),
    ``effort`` and ``unit``. Today's model: completed story points by resolved date. When at
    least half of the completed issues carry story points the unit is ``story points`` and an
    unestimated completed issue counts as the median estimate (so it is not silently zero);
    otherwise the unit is ``issues`` and each completed issue counts 1. Story points below 0 or above
    ``max_points`` (``report.max_story_points``) are not an estimate: such an issue counts as
    unestimated. Sub-tasks are left out
    (their work is in their parent's estimate). A later finance effort model (worklogs,
    person-days) replaces this function and nothing else.
    """
    work = mapped_issues[mapped_issues["hierarchy_level"].eq(0)]
    done = work[is_done(work) & work["resolved"].notna()]
    points = usable_points(done["story_points"], max_points)
    coverage = points.notna().mean() if len(points) else 0.0
    if coverage >= POINTS_COVERAGE:
        unit, value = "story points", points.fillna(points.median())
    else:
        unit, value = "issues", pd.Series(1.0, index=done.index)
    return pd.DataFrame({
        "key": done["key"].astype("object"),
        "pillar": done["pillar"].astype("object"),
        "bucket": done["bucket"].astype("object"),
        "team_id": done["team_id"].astype("object"),
        "resolved": to_day(done["resolved"]),
        "effort": value.astype(float),
        "unit": unit,
    })


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, effort: pd.DataFrame, allocation_window_days: int | None,
) -> pd.DataFrame:
    """Effort by pillar × bucket per month and per quarter, up to and including ``as_of``."""
    options = report_options(mappings)
    work = _up_to(effort, mappings, as_of)
    if work.empty:
        return empty(COLUMNS)
    unit = str(work["unit"].iloc[0])
    window = int(allocation_window_days or options.allocation_window_days)
    frames = []
    for period_type, col in (("month", "month"), ("quarter", "quarter")):
        grouped = _by_period(work, col, ["pillar", "bucket"])
        grouped["period_type"] = period_type
        grouped["period"] = grouped["period_obj"].map(str)
        grouped["period_start"] = grouped["period_obj"].map(lambda p: p.start_time.normalize())
        frames.append(grouped.drop(columns="period_obj"))
    start = pd.Timestamp(as_of - timedelta(days=window))
    recent = work[work["resolved"].gt(start)]
    if len(recent):
        grouped = recent.groupby(["pillar", "bucket"], observed=True)["effort"].sum().reset_index()
        grouped["share"] = grouped["effort"] / grouped["effort"].sum()
        frames.append(grouped.assign(period_type="window", period=f"last {window} days",
                                     period_start=start + pd.Timedelta(days=1)))
    out = pd.concat(frames, ignore_index=True)
    pillar_names, bucket_names = names(mappings, "pillars"), names(mappings, "buckets")
    treatments: dict[str, str] = {str(b.id): b.treatment for b in mappings.buckets}
    out["pillar_name"] = out["pillar"].astype(str).map(lambda p: pillar_names.get(p, p))
    out["bucket_name"] = out["bucket"].astype(str).map(lambda b: bucket_names.get(b, b))
    out["treatment"] = out["bucket"].astype(str).map(lambda b: treatments.get(b))
    out["unit"] = unit
    out["period_start"] = pd.to_datetime(out["period_start"])
    kind = out["period_type"].map({"window": 0, "quarter": 1, "month": 2})
    return (out.assign(kind=kind).sort_values(["kind", "period_start", "pillar", "bucket"], kind="stable")[COLUMNS]
            .reset_index(drop=True))


def _up_to(effort: pd.DataFrame, mappings: RollupConfig, as_of: date) -> pd.DataFrame:
    """The effort rows resolved up to and including ``as_of``, with ordered pillar and bucket and their month
    and quarter: what every allocation figure is summed from."""
    if effort.empty:
        return effort
    work = effort[effort["resolved"].le(pd.Timestamp(as_of))]
    if work.empty:
        return work
    return work.assign(
        pillar=ordered(work["pillar"], pillar_ids(mappings)),
        bucket=ordered(work["bucket"], bucket_ids(mappings)),
        month=work["resolved"].dt.to_period("M"),
        quarter=work["resolved"].dt.to_period("Q"),
    )


def _by_period(work: pd.DataFrame, period: str, keys: list[str]) -> pd.DataFrame:
    """Effort summed per ``period`` (``month`` or ``quarter``) × ``keys``, with each row's share of its period."""
    grouped = (
        work.groupby([period, *keys], observed=True)["effort"].agg(["sum", "size"]).reset_index()
        .rename(columns={period: "period_obj", "sum": "effort", "size": "issues"})
    )
    grouped["share"] = grouped["effort"] / grouped.groupby("period_obj")["effort"].transform("sum")
    return grouped


#: Columns of :func:`by_team_month`.
TEAM_MONTH_COLUMNS = ["month", "month_start", "team_id", "team_name", "pillar", "pillar_name", "bucket",
                      "bucket_name", "treatment", "issues", "effort", "unit", "share"]


def by_team_month(effort: pd.DataFrame, mappings: RollupConfig, *, as_of: date) -> pd.DataFrame:
    """The month rows of :func:`compute` split by team: effort by month × team × pillar × bucket.

    The same effort rows and the same sums as the Allocation sheet's months (a month's rows summed over
    teams are that sheet's row of the month, pillar and bucket; ``share`` is of the whole month, so a
    month's rows sum to 1); ``team_id`` is ``Unmapped`` for issues without a team, ordered as declared.
    ``issues`` counts the completed issues behind each row. Columns :data:`TEAM_MONTH_COLUMNS`.
    """
    work = _up_to(effort, mappings, as_of)
    if work.empty:
        return empty(TEAM_MONTH_COLUMNS)
    team_names = names(mappings, "teams")
    work = work.assign(team_id=ordered(work["team_id"], list(team_names)))
    out = _by_period(work, "month", ["team_id", "pillar", "bucket"])
    pillar_names, bucket_names = names(mappings, "pillars"), names(mappings, "buckets")
    treatments: dict[str, str] = {str(b.id): b.treatment for b in mappings.buckets}
    out = out.assign(
        month=out["period_obj"].map(str),
        month_start=pd.to_datetime(out["period_obj"].map(lambda p: p.start_time.normalize())),
        team_name=out["team_id"].astype(str).map(lambda t: team_names.get(t, t)),
        pillar_name=out["pillar"].astype(str).map(lambda p: pillar_names.get(p, p)),
        bucket_name=out["bucket"].astype(str).map(lambda b: bucket_names.get(b, b)),
        treatment=out["bucket"].astype(str).map(lambda b: treatments.get(b)),
        unit=str(work["unit"].iloc[0]),
    )
    return (out.sort_values(["month_start", "team_id", "pillar", "bucket"], kind="stable")[TEAM_MONTH_COLUMNS]
            .reset_index(drop=True))


def window_effort(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, start: date, end: date,
                  work: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`effort` of the issues resolved in (start, end] (the columns of :func:`effort`).

    ``work``: the ``effort`` view (the whole :func:`effort` frame), so it is computed once per report.
    """
    columns = ["key", "pillar", "bucket", "team_id", "resolved", "effort", "unit"]
    if work is None:
        if mapped_issues.empty:
            return pd.DataFrame(columns=columns)
        work = effort(mapped_issues, report_options(mappings).max_story_points)
    if work.empty:
        return pd.DataFrame(columns=columns)
    return work[work["resolved"].gt(pd.Timestamp(start)) & work["resolved"].le(pd.Timestamp(end))]


def pillar_shares(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, start: date, end: date,
                  work: pd.DataFrame | None = None) -> pd.DataFrame:
    """Effort and share per pillar for issues resolved in (start, end]: columns pillar, effort, share.

    ``work``: the ``effort`` view, as for :func:`window_effort`.
    """
    order = pillar_ids(mappings)
    work = window_effort(mapped_issues, mappings, start=start, end=end, work=work)
    pillar = ordered(work["pillar"] if len(work) else pd.Series([], dtype="object"), order)
    sums = (pd.DataFrame({"pillar": pillar, "effort": work["effort"].to_numpy() if len(work) else []})
            .groupby("pillar", observed=False)["effort"].sum())
    total = sums.sum()
    return pd.DataFrame({"pillar": sums.index.astype(str), "effort": sums.to_numpy(),
                         "share": sums.to_numpy() / total if total else 0.0})


def ktlo_buckets(mappings: RollupConfig) -> set[str]:
    """Bucket ids that count as keeping the lights on (KTLO).

    A bucket is KTLO when its treatment is opex and it is maintenance-like: its id or name
    mentions maintenance, KTLO, keeping the lights on, support, defects/bugs, incidents or operations. Other opex
    work (e.g. tech debt) is neither strategy nor KTLO; capex buckets are strategy.
    """
    words = ("ktlo", "maint", "lights", "support", "defect", "bug", "incident", "operat")
    out = set()
    for b in mappings.buckets:
        text = f"{b.id} {b.name}".lower()
        if b.treatment == "opex" and any(w in text for w in words):
            out.add(str(b.id))
    return out


def strategy_buckets(mappings: RollupConfig) -> set[str]:
    """Bucket ids that count as strategy: capex (capitalizable) buckets."""
    return {str(b.id) for b in mappings.buckets if b.treatment == "capex"}


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("allocation", requires=("effort", "allocation_window_days"), compute=compute)


__all__ = ["VIEW", "compute", "effort", "by_team_month", "window_effort", "pillar_shares", "ktlo_buckets",
           "strategy_buckets", "COLUMNS", "UNMAPPED", "TEAM_MONTH_COLUMNS"]
