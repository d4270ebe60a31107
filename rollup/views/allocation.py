"""Allocation: effort by pillar and bucket, per month and per quarter.

Columns:

================  ==============================================================
``period_type``   ``month`` or ``quarter``
``period``        ``2026-11`` or ``2026Q4``
``period_start``  first day of the period (datetime64)
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
period sum to that period's total effort.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from rollup.views._common import (
    UNMAPPED,
    bucket_ids,
    empty,
    is_done,
    listed,
    names,
    ordered,
    pillar_ids,
    to_day,
)

COLUMNS = ["period_type", "period", "period_start", "pillar", "pillar_name", "bucket", "bucket_name",
           "treatment", "effort", "share", "unit"]

#: Below this share of estimated completed issues, effort is counted in issues instead of points.
POINTS_COVERAGE = 0.5


def effort(mapped_issues: pd.DataFrame) -> pd.DataFrame:
    """Effort per completed story-level issue — the one place the effort model lives.

    Returns columns ``key``, ``pillar``, ``bucket``, ``team_id``, ``resolved`` (datetime64),
    ``effort`` and ``unit``. Today's model: completed story points by resolved date. When at
    least half of the completed issues carry story points the unit is ``story points`` and an
    unestimated completed issue counts as the median estimate (so it is not silently zero);
    otherwise the unit is ``issues`` and each completed issue counts 1. Sub-tasks are left out
    (their work is in their parent's estimate). A later finance effort model (worklogs,
    person-days) replaces this function and nothing else.
    """
    work = mapped_issues[mapped_issues["hierarchy_level"].eq(0)]
    done = work[is_done(work) & work["resolved"].notna()]
    points = pd.to_numeric(done["story_points"], errors="coerce")
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


def compute(mapped_issues: pd.DataFrame, mappings: Any, *, as_of: date, **ctx: Any) -> pd.DataFrame:
    """Effort by pillar × bucket per month and per quarter, up to and including ``as_of``."""
    work = effort(mapped_issues) if not mapped_issues.empty else pd.DataFrame()
    if work.empty:
        return empty(COLUMNS)
    work = work[work["resolved"].le(pd.Timestamp(as_of))]
    if work.empty:
        return empty(COLUMNS)
    unit = str(work["unit"].iloc[0])
    work = work.assign(
        pillar=ordered(work["pillar"], pillar_ids(mappings)),
        bucket=ordered(work["bucket"], bucket_ids(mappings)),
        month=work["resolved"].dt.to_period("M"),
        quarter=work["resolved"].dt.to_period("Q"),
    )
    frames = []
    for period_type, col in (("month", "month"), ("quarter", "quarter")):
        grouped = (
            work.groupby([col, "pillar", "bucket"], observed=True)["effort"].sum().reset_index()
            .rename(columns={col: "period_obj"})
        )
        grouped["share"] = grouped["effort"] / grouped.groupby("period_obj")["effort"].transform("sum")
        grouped["period_type"] = period_type
        grouped["period"] = grouped["period_obj"].map(lambda p: str(p).replace("Q", "Q"))
        grouped["period_start"] = grouped["period_obj"].map(lambda p: p.start_time.normalize())
        frames.append(grouped.drop(columns="period_obj"))
    out = pd.concat(frames, ignore_index=True)
    pillar_names, bucket_names = names(mappings, "pillars"), names(mappings, "buckets")
    treatments = {str(b.id): getattr(b, "treatment", None) for b in listed(mappings, "buckets")}
    out["pillar_name"] = out["pillar"].astype(str).map(lambda p: pillar_names.get(p, p))
    out["bucket_name"] = out["bucket"].astype(str).map(lambda b: bucket_names.get(b, b))
    out["treatment"] = out["bucket"].astype(str).map(lambda b: _treatment(treatments.get(b)))
    out["unit"] = unit
    out["period_start"] = pd.to_datetime(out["period_start"])
    return out[COLUMNS].sort_values(["period_type", "period_start", "pillar", "bucket"], ascending=[False, True, True, True],
                                    kind="stable").reset_index(drop=True)


def _treatment(value: Any) -> Any:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def pillar_shares(mapped_issues: pd.DataFrame, mappings: Any, *, start: date, end: date) -> pd.DataFrame:
    """Effort and share per pillar for issues resolved in (start, end]: columns pillar, effort, share."""
    order = pillar_ids(mappings)
    work = effort(mapped_issues) if not mapped_issues.empty else pd.DataFrame(columns=["pillar", "effort", "resolved"])
    if not work.empty:
        work = work[work["resolved"].gt(pd.Timestamp(start)) & work["resolved"].le(pd.Timestamp(end))]
    pillar = ordered(work["pillar"] if len(work) else pd.Series([], dtype="object"), order)
    sums = (pd.DataFrame({"pillar": pillar, "effort": work["effort"].to_numpy() if len(work) else []})
            .groupby("pillar", observed=False)["effort"].sum())
    total = sums.sum()
    return pd.DataFrame({"pillar": sums.index.astype(str), "effort": sums.to_numpy(),
                         "share": sums.to_numpy() / total if total else 0.0})


def ktlo_buckets(mappings: Any) -> set[str]:
    """Bucket ids that count as keeping the lights on (KTLO).

    A bucket is KTLO when its treatment is opex and it is maintenance-like: its ``ktlo``
    attribute is true if the mappings declare one, else its id or name mentions maintenance,
    KTLO, keeping the lights on, support, defects/bugs, incidents or operations. Other opex
    work (e.g. tech debt) is neither strategy nor KTLO; capex buckets are strategy.
    """
    words = ("ktlo", "maint", "lights", "support", "defect", "bug", "incident", "operat")
    out = set()
    for b in listed(mappings, "buckets"):
        flag = getattr(b, "ktlo", None)
        opex = _treatment(getattr(b, "treatment", None)) == "opex"
        text = f"{b.id} {getattr(b, 'name', '')}".lower()
        if flag is True or (flag is None and opex and any(w in text for w in words)):
            out.add(str(b.id))
    return out


def strategy_buckets(mappings: Any) -> set[str]:
    """Bucket ids that count as strategy: capex (capitalizable) buckets."""
    return {str(b.id) for b in listed(mappings, "buckets") if _treatment(getattr(b, "treatment", None)) == "capex"}


__all__ = ["compute", "effort", "pillar_shares", "ktlo_buckets", "strategy_buckets", "COLUMNS", "UNMAPPED"]
