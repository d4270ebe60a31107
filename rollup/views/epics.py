"""Initiative / epic rollup: one row per epic with progress, dates, projection and RAG.

Columns:

=====================  =========================================================================
``id``, ``key``        the epic
``summary``            its summary (Jira text)
``initiative``         key of the initiative above it, or NA
``initiative_summary`` that initiative's summary, or NA
``pillar``             pillar id (ordered categorical, ``Unmapped`` last) and ``pillar_name``
``okr``, ``key_result`` mapped OKR and key result ids, or NA
``objective``          the objective the epic contributes to (its OKR's, or its key result's OKR's)
``key_result_name``    the key result it contributes to; an OKR's only key result when the epic names
                       the OKR alone, marked "(implied)"
``bucket``             bucket id (ordered categorical) and ``bucket_name``
``team_id``, ``team``  mapped team id and its name
``owner``              the epic's assignee
``status``, ``status_category``  Jira status and category key (new / indeterminate / done)
``start_date``, ``target_date``  datetime64 (midnight) or NaT
``children``, ``children_done``   story-level issues under the epic (sub-tasks not counted)
``sprints``            distinct sprints its children have been in (their Sprint fields; 0 when none)
``points_total``, ``points_done`` story points of those children (points below 0 or above
                       ``report.max_story_points`` are left out: such a child counts as unestimated)
``points_left_out``    children whose story points were left out for being out of range
``progress_points``, ``progress_count``  done share by points and by count (NaN without children)
``unit``               ``points`` when any child is estimated, else ``issues``
``progress``           progress in that unit; an epic without children is 1 when done, else 0
``remaining``          work left in that unit
``throughput_per_week`` work finished in the last 28 days, per week, in that unit
``projected_completion`` as_of + remaining / throughput (NaT without recent throughput)
``days_late``          projected completion − target date, in days (NaN when either is missing)
``p50``, ``p85``       the forecast's dates (the forecast view; NaT when it does not date the epic)
``chance``             the forecast's chance of making the target date (NaN without one)
``forecast_items``     items left as the forecast counts them; ``team_per_week`` its team's items a week
``rag``                done / on track / at risk / off track / not rated (see :data:`RAG_RULE`)
``rag_reason``         why, in words
``size``               points_total when estimated, else children — used for "biggest first"
``lint_findings``      lint findings at or above ``report.hygiene_min_severity`` (0 when none;
                       NaN without a lint run in ``lint``)
``lint_rules``         their rule codes
``hygiene_ok``         no such finding: the epic counts as clean in the hygiene score (None without
                       a lint run)
=====================  =========================================================================
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import usable_points
from rollup.views._common import (
    THROUGHPUT_DAYS,
    bucket_ids,
    children,
    contributions,
    day,
    empty,
    epics,
    is_done,
    names,
    okr_catalogue,
    ordered,
    pillar_ids,
    report_options,
    safe_ratio,
    to_day,
)
from rollup.views._lint import LintRun, failing
from rollup.views.registry import View

#: Days a projection may run past the target date before an epic is off track rather than at risk.
OFF_TRACK_GRACE_DAYS = 14

#: With the forecast: at least this chance of making the target date is on track …
ON_TRACK_CHANCE = 0.85
#: … and below this chance is off track (between the two: at risk).
OFF_TRACK_CHANCE = 0.2

#: The RAG rule by the forecast, in the words printed in the workbook.
FORECAST_RAG_RULE = (
    "RAG rule — done: status category Done. not rated: no target date. off track: target date has passed, or "
    f"under {OFF_TRACK_CHANCE:.0%} chance of making it (the Forecast sheet's Monte Carlo). at risk: "
    f"{OFF_TRACK_CHANCE:.0%} to {ON_TRACK_CHANCE:.0%} chance. on track: {ON_TRACK_CHANCE:.0%} or more (its P85 "
    "date on or before the target). An epic the forecast cannot date (no team, or its team finished nothing in "
    "the throughput weeks) is rated by the linear rule: "
)

#: The RAG rule by the linear projection, in the words printed in the workbook.
RAG_RULE = (
    "RAG rule — done: status category Done. not rated: no target date. "
    "off track: target date has passed, or projected completion is more than "
    f"{OFF_TRACK_GRACE_DAYS} days after the target date. "
    "at risk: projected completion is after the target date (by up to "
    f"{OFF_TRACK_GRACE_DAYS} days), or no work finished in the last {THROUGHPUT_DAYS} days while "
    f"the target date is within {THROUGHPUT_DAYS} days. on track: everything else. "
    "Projected completion = as-of date + remaining work / throughput of the last "
    f"{THROUGHPUT_DAYS} days (story points when the epic's children are estimated, else issue count)."
)

COLUMNS = [
    "id", "key", "site", "summary", "initiative", "initiative_summary", "pillar", "pillar_name", "okr", "key_result",
    "objective", "key_result_name", "bucket", "bucket_name", "team_id", "team", "owner", "status",
    "status_category", "start_date", "target_date", "children", "children_done", "sprints", "points_total",
    "points_done",
    "points_left_out", "progress_points", "progress_count", "unit", "progress", "remaining",
    "throughput_per_week", "projected_completion", "days_late", "p50", "p85", "chance", "forecast_items",
    "team_per_week", "rag", "rag_reason", "size", "lint_findings",
    "lint_rules", "hygiene_ok",
]


def child_rollup(mapped_issues: pd.DataFrame, *, as_of: date, max_points: float = 100) -> pd.DataFrame:
    """Per epic key: children, children_done, points_total, points_done, points_left_out, and done in the
    last 28 days. Points outside 0..``max_points`` are left out of every sum."""
    kids = children(mapped_issues)
    done = is_done(kids)
    points = usable_points(kids["story_points"], max_points)
    left_out = pd.to_numeric(kids["story_points"], errors="coerce").notna() & points.isna()
    resolved = to_day(kids["resolved"])
    start = day(as_of) - pd.Timedelta(days=THROUGHPUT_DAYS)
    recent = done & resolved.gt(start) & resolved.le(day(as_of))
    parts = pd.DataFrame({
        "epic": kids["epic"].astype(str),
        "children": 1,
        "children_done": done.astype(int),
        "points_total": points.fillna(0.0),
        "points_done": points.where(done, 0.0).fillna(0.0),
        "estimated": points.notna().astype(int),
        "points_left_out": left_out.astype(int),
        "recent_points": points.where(recent, 0.0).fillna(0.0),
        "recent_count": recent.astype(int),
    })
    return parts.groupby("epic", sort=False).sum()


def rolled_up(mapped_issues: pd.DataFrame, *, as_of: date, max_points: float) -> pd.DataFrame:
    """The epic rows indexed by key, with :func:`child_rollup`'s columns (0 without children)."""
    rows = epics(mapped_issues)
    roll = child_rollup(mapped_issues, as_of=as_of, max_points=max_points)
    out = rows.assign(key=rows["key"].astype(str)).set_index("key", drop=False)
    out = out.join(roll, how="left")
    for col in ("children", "children_done", "points_total", "points_done", "estimated", "recent_points",
                "recent_count", "points_left_out"):
        out[col] = out[col].fillna(0)
    return out


def linear_projection(out: pd.DataFrame, *, as_of: date) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``(remaining, per_day, projected)`` per epic of :func:`rolled_up`: the rule in :data:`RAG_RULE`."""
    done = is_done(out)
    by_points = out["estimated"].gt(0)
    total = out["points_total"].where(by_points, out["children"])
    finished = out["points_done"].where(by_points, out["children_done"])
    remaining = (total - finished).clip(lower=0).where(~done, 0.0)
    recent = out["recent_points"].where(by_points, out["recent_count"])
    per_day = recent / THROUGHPUT_DAYS
    days_needed = np.ceil(safe_ratio(remaining, per_day))
    today = day(as_of)
    projected = today + pd.to_timedelta(days_needed, unit="D")
    projected = projected.where(remaining.gt(0), today).where(~done, pd.NaT)
    return remaining, per_day, projected


def rag_rule(mappings: RollupConfig) -> str:
    """The RAG rule in force: by the forecast (``forecast.rag``, the default), else by the linear projection."""
    if not mappings.forecast.rag:
        return RAG_RULE
    return FORECAST_RAG_RULE + RAG_RULE.removeprefix("RAG rule — ")


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date, lint: LintRun | None,
            forecast: pd.DataFrame | None) -> pd.DataFrame:
    """One row per epic: progress by points and count, projection from recent throughput, RAG.

    ``forecast``: the forecast view; with ``forecast.rag`` on, it rates the epics it dates.
    """
    if epics(mapped_issues).empty:
        return empty(COLUMNS)
    today = day(as_of)
    options = report_options(mappings)
    out = rolled_up(mapped_issues, as_of=as_of, max_points=options.max_story_points)
    done = is_done(out)

    initiatives = mapped_issues[mapped_issues["hierarchy_level"].ge(2)].set_index("key")["summary"]
    team_names = names(mappings, "teams")
    pillar_names, bucket_names = names(mappings, "pillars"), names(mappings, "buckets")

    by_points = out["estimated"].gt(0)
    progress_points = safe_ratio(out["points_done"], out["points_total"])
    progress_count = safe_ratio(out["children_done"], out["children"])
    progress = progress_points.where(by_points, progress_count)
    progress = progress.where(out["children"].gt(0), done.astype(float))
    total = out["points_total"].where(by_points, out["children"])
    remaining, per_day, projected = linear_projection(out, as_of=as_of)

    start_date, target_date = to_day(out["start_date"]), to_day(out["target_date"])
    days_late = (projected - target_date).dt.days.astype(float)

    rag, reason = _rag(done, target_date, projected, days_late, remaining, today)
    if forecast is not None and mappings.forecast.rag and not forecast.empty:
        rag, reason = _forecast_rag(out["key"], done, target_date, today, forecast, rag, reason)

    owner = out["assignee_name"].astype("object")
    flagged = failing(lint, options.hygiene_min_severity)
    if lint is not None:
        findings = out["key"].map(flagged["findings"]).fillna(0).astype(float)
        hygiene_ok = findings.eq(0).astype("object")
    else:
        findings = pd.Series(np.nan, index=out.index)
        hygiene_ok = pd.Series(None, index=out.index, dtype="object")
    goal = contributions(out["okr"], out["key_result"], mappings)
    catalogue = okr_catalogue(mappings)
    # object dtype: a mappings.yaml without key results maps every epic to NaN, not text.
    kr_name = goal["key_result"].map(catalogue["key_result"]).astype("object")
    implied_name = pd.Series([f"{v} (implied)" if isinstance(v, str) else v for v in kr_name], index=kr_name.index)
    kr_name = kr_name.where(~goal["implied"], implied_name)
    frame = pd.DataFrame({
        "id": out["id"].to_numpy(),
        "key": out["key"].to_numpy(),
        # The Jira site of the epic (a name in `sites:`); None in a store of one site.
        "site": (out["site"].astype("object").where(out["site"].notna(), None).to_numpy()
                 if "site" in out.columns else None),
        "summary": out["summary"].astype("object").to_numpy(),
        "initiative": out["initiative"].astype("object").where(out["initiative"].notna(), None).to_numpy(),
        "initiative_summary": out["initiative"].map(initiatives).astype("object").to_numpy(),
        "pillar": ordered(out["pillar"], pillar_ids(mappings)),
        "pillar_name": out["pillar"].astype("object").map(pillar_names).astype("object")
                                  .fillna(out["pillar"].astype("object")).to_numpy(),
        "okr": out["okr"].astype("object").to_numpy(),
        "key_result": out["key_result"].astype("object").to_numpy(),
        "objective": goal["okr"].map(catalogue["objective"]).astype("object").to_numpy(),
        "key_result_name": kr_name.astype("object").to_numpy(),
        "bucket": ordered(out["bucket"], bucket_ids(mappings)),
        "bucket_name": out["bucket"].astype("object").map(bucket_names).astype("object")
                                  .fillna(out["bucket"].astype("object")).to_numpy(),
        "team_id": out["team_id"].astype("object").to_numpy(),
        "team": out["team_id"].astype("object").map(team_names).astype("object")
                             .fillna(out["team_id"].astype("object")).to_numpy(),
        "owner": owner.to_numpy(),
        "status": out["status"].astype("object").to_numpy(),
        "status_category": out["status_category"].astype("object").to_numpy(),
        "start_date": start_date.to_numpy(),
        "target_date": target_date.to_numpy(),
        "children": out["children"].astype(int).to_numpy(),
        "children_done": out["children_done"].astype(int).to_numpy(),
        "sprints": out["key"].map(sprints_touched(mapped_issues)).fillna(0).astype(int).to_numpy(),
        "points_total": out["points_total"].astype(float).to_numpy(),
        "points_done": out["points_done"].astype(float).to_numpy(),
        "points_left_out": out["points_left_out"].astype(int).to_numpy(),
        "progress_points": progress_points.to_numpy(),
        "progress_count": progress_count.to_numpy(),
        "unit": np.where(by_points, "points", "issues"),
        "progress": progress.astype(float).to_numpy(),
        "remaining": remaining.astype(float).to_numpy(),
        "throughput_per_week": (per_day * 7).astype(float).to_numpy(),
        "projected_completion": projected.to_numpy(),
        **_forecast_columns(out["key"], forecast),
        "days_late": days_late.to_numpy(),
        "rag": rag,
        "rag_reason": reason,
        "size": total.astype(float).to_numpy(),
        "lint_findings": findings.to_numpy(),
        "lint_rules": out["key"].map(flagged["rules"]).astype("object").to_numpy(),
        "hygiene_ok": hygiene_ok.to_numpy(),
    })
    for col in ("pillar_name", "bucket_name", "team"):
        frame[col] = frame[col].where(frame[col].notna(), "Unmapped")
    return frame.sort_values(["pillar", "key"], kind="stable").reset_index(drop=True)


def sprints_touched(mapped_issues: pd.DataFrame) -> pd.Series:
    """Epic key → distinct sprints its story-level children have been in (epics without any are left out)."""
    if "sprint_ids" not in mapped_issues:
        return pd.Series(dtype="int64")
    kids = children(mapped_issues)
    ids = kids["sprint_ids"]
    has = ids.map(lambda v: isinstance(v, list) and len(v) > 0)
    if not has.any():
        return pd.Series(dtype="int64")
    pairs = pd.DataFrame({"epic": kids.loc[has, "epic"].astype(str).to_numpy(), "sprint": ids[has].to_numpy()})
    pairs = pairs.explode("sprint")
    return pairs.groupby("epic")["sprint"].nunique()


def _rag(done: pd.Series, target: pd.Series, projected: pd.Series, days_late: pd.Series,
         remaining: pd.Series, today: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Apply :data:`RAG_RULE`; conditions are checked in the order of ``np.select``."""
    no_throughput = projected.isna() & remaining.gt(0)
    conditions = [
        done.to_numpy(),
        target.isna().to_numpy(),
        (target < today).to_numpy(),
        days_late.gt(OFF_TRACK_GRACE_DAYS).to_numpy(),
        days_late.gt(0).to_numpy(),
        (no_throughput & (target <= today + pd.Timedelta(days=THROUGHPUT_DAYS))).to_numpy(),
    ]
    rag = np.select(conditions, ["done", "not rated", "off track", "off track", "at risk", "at risk"],
                    default="on track")
    late = days_late.fillna(0).astype(int).astype(str)
    reasons = np.select(conditions, [
        "done",
        "no target date",
        "target date passed",
        "projected " + late + " days after target",
        "projected " + late + " days after target",
        f"no work finished in {THROUGHPUT_DAYS} days, target date near",
    ], default="projected on or before target")
    return rag.astype(object), reasons.astype(object)


def _forecast_columns(keys: pd.Series, forecast: pd.DataFrame | None) -> dict[str, np.ndarray]:
    """The forecast view's figures for each epic (NaT / NaN without a forecast)."""
    if forecast is None or forecast.empty:
        rows = pd.DataFrame(columns=["p50", "p85", "chance", "remaining", "per_week"])
    else:
        rows = forecast[forecast["level"].eq("epic")].set_index("key")
    return {
        "p50": pd.to_datetime(keys.map(rows["p50"])).to_numpy(),
        "p85": pd.to_datetime(keys.map(rows["p85"])).to_numpy(),
        "chance": keys.map(rows["chance"]).astype(float).to_numpy(),
        "forecast_items": keys.map(rows["remaining"]).astype(float).to_numpy(),
        "team_per_week": keys.map(rows["per_week"]).astype(float).to_numpy(),
    }


def _forecast_rag(keys: pd.Series, done: pd.Series, target: pd.Series, today: pd.Timestamp, forecast: pd.DataFrame,
                  rag: np.ndarray, reason: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:data:`FORECAST_RAG_RULE` where the forecast dates the epic; the linear rating, said so, elsewhere."""
    rows = forecast[forecast["level"].eq("epic")].set_index("key")
    chance = keys.map(rows["chance"]).astype(float).to_numpy()
    p85 = pd.to_datetime(keys.map(rows["p85"])).to_numpy()
    note = keys.map(rows["note"]).fillna("").astype(str).to_numpy()
    dated = ~np.isnan(chance)
    live = ~done.to_numpy() & target.notna().to_numpy() & (target >= today).to_numpy()
    rag, reason = rag.copy(), reason.copy()
    for i in np.flatnonzero(live):
        if dated[i]:
            rag[i] = ("on track" if chance[i] >= ON_TRACK_CHANCE else "off track" if chance[i] < OFF_TRACK_CHANCE
                      else "at risk")
            when = "beyond the horizon" if pd.isna(p85[i]) else pd.Timestamp(p85[i]).date().isoformat()
            reason[i] = (f"{chance[i]:.0%} chance of making {pd.Timestamp(target.iloc[i]).date().isoformat()} "
                         f"(P85 {when})")
        else:
            why = note[i].removesuffix(": not forecast") or "not forecast"
            reason[i] = f"{reason[i]} (linear: {why})"
    return rag, reason


def snapshot_payload(epics_frame: pd.DataFrame) -> list[tuple[int, str, dict]]:
    """(issue_id, key, payload) per epic: what week-over-week compares between runs.

    Values are plain Python (``None`` for missing), converted a column at a time.
    """
    if epics_frame.empty:
        return []
    cols = ["key", "summary", "status", "status_category", "pillar", "bucket", "okr", "key_result", "team_id",
            "children", "children_done", "points_total", "points_done", "size", "progress", "rag"]
    if "hygiene_ok" in epics_frame:
        cols.append("hygiene_ok")
    columns = {col: _python(epics_frame[col]) for col in cols}
    for col in ("target_date", "p50", "p85", "projected_completion"):
        if col in epics_frame:
            shown = pd.to_datetime(epics_frame[col], errors="coerce").dt.strftime("%Y-%m-%d")
            columns[col] = shown.astype("object").where(shown.notna(), None).tolist()
        else:
            columns[col] = [None] * len(epics_frame)
    for col in ("chance", "forecast_items", "team_per_week"):
        if col in epics_frame:
            columns[col] = [None if v is None else float(v) for v in _python(epics_frame[col])]
    for col in ("pillar", "bucket"):
        columns[col] = [None if v in (None, "Unmapped") else str(v) for v in columns[col]]
    names_ = list(columns)
    records = [dict(zip(names_, row)) for row in zip(*columns.values())]
    return [(int(i), str(r["key"]), r) for i, r in zip(epics_frame["id"], records)]


def _python(values: pd.Series) -> list:
    """A column as plain Python values: numpy scalars unboxed, NaN / NA / NaT as None."""
    out = values.tolist() if values.dtype.kind in "biuf" else values.astype("object").tolist()
    return [None if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v)
            else v.item() if isinstance(v, np.generic) else v for v in out]


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("epics", requires=("lint", "forecast"), compute=compute)


__all__ = ["VIEW", "compute", "child_rollup", "snapshot_payload", "rag_rule", "RAG_RULE", "FORECAST_RAG_RULE",
           "OFF_TRACK_GRACE_DAYS", "ON_TRACK_CHANCE", "OFF_TRACK_CHANCE", "COLUMNS"]
