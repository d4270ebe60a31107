"""The three effort models, vectorised: worklogs, person-days and points.

Each model turns the store's frames into effort rows ``person_id, pos, team_id, month, window,
method, hours`` where ``pos`` is the issue's row in the mapped issues frame (``-1`` for a person's
unallocated time), ``month`` a :attr:`Month.index` and ``window`` the position of the work against
its epic's capitalization window (:mod:`rollup.finance.policy`). The team (from the mapping)
decides the model: ``finance.effort.teams`` or ``finance.effort.default``.

* **worklogs** — hours logged per person per issue per day (the worklog's start, in the calendar's
  time zone).
* **person-days** — from the changelog: each working day of a person is split equally across the
  issues assigned to them that were in an in-progress status category at any time that day. An
  issue's in-progress days with one assignee are merged before counting, so a person-day is
  allocated at most once and never more than ``hours_per_day`` hours. A working day with no such
  issue, between a person's first and last in-progress day, is *unallocated* (reported, not
  dropped). Days after the data's as-of day are not counted.
* **points** — completed points in the month (by resolution date), scaled to the team's capacity
  (``points_capacity_fte`` × the month's working hours): the fallback, flagged low confidence.
  Story points below 0 or above ``report.max_story_points`` are not an estimate
  (:func:`rollup.datachecks.usable_points`, the portfolio's rule): such an issue takes no share of the
  capacity and is listed in :attr:`Effort.points_left_out` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rollup.config.finance import FinanceOptions
from rollup.datachecks import usable_points
from rollup.finance.calendar import NS_PER_DAY, Month, WorkCalendar
from rollup.finance.policy import position

EFFORT_COLUMNS = ("person_id", "pos", "team_id", "month", "window", "method", "hours")
#: Columns of :attr:`Effort.points_left_out`.
LEFT_OUT_COLUMNS = ("pos", "team_id", "month", "story_points")
#: How much an auditor can lean on each model.
CONFIDENCE = {"worklogs": "high", "person-days": "medium", "points": "low"}
UNALLOCATED = "unallocated"
_EPOCH_MONTHS = 1970 * 12


@dataclass
class Effort:
    """Effort rows and, per person and month, the person-days behind them."""

    rows: pd.DataFrame
    #: person_id, month, allocated_days, unallocated_days (person-days model only).
    person_days: pd.DataFrame
    #: :data:`LEFT_OUT_COLUMNS`: completed issues of points teams whose story points (as entered) are out
    #: of range, so the points model left them out.
    points_left_out: pd.DataFrame


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Day numbers → :attr:`Month.index`."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) \
        + _EPOCH_MONTHS


def month_start_day(months: np.ndarray) -> np.ndarray:
    """:attr:`Month.index` → day number of the month's first day."""
    return (np.asarray(months, dtype=np.int64) - _EPOCH_MONTHS).astype("datetime64[M]").astype(
        "datetime64[D]").astype(np.int64)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({"person_id": pd.Series(dtype=object), "pos": pd.Series(dtype=np.int64),
                         "team_id": pd.Series(dtype=object), "month": pd.Series(dtype=np.int64),
                         "window": pd.Series(dtype=object), "method": pd.Series(dtype=object),
                         "hours": pd.Series(dtype=np.float64)})


def compute_effort(mapped_issues: pd.DataFrame, transitions: pd.DataFrame, worklogs: pd.DataFrame,
                   windows: pd.DataFrame, finance: FinanceOptions, calendar: WorkCalendar,
                   months: list[Month], as_of_day: int, *, max_story_points: float) -> Effort:
    """Effort of every model over ``months`` (rows of other months are dropped).

    ``max_story_points``: ``report.max_story_points``, above which the points model leaves an issue out.
    """
    mapped_issues = mapped_issues.reset_index(drop=True)
    windows = windows.reset_index(drop=True)
    first, last = min(months), max(months)
    start_day, end_day = first.start_day, last.end_day
    wanted = np.array([m.index for m in months], dtype=np.int64)
    team = mapped_issues["team_id"].astype("object")
    method = np.array([finance.effort.method_for(t) for t in team.where(team.notna(), None)], dtype=object)
    ctx = _Context(mapped_issues, windows, method, calendar)
    points_rows, left_out = points_effort(ctx, finance, start_day, end_day, max_story_points)
    parts = [worklog_effort(ctx, worklogs, start_day, end_day), points_rows]
    pd_rows, pd_days = person_day_effort(ctx, transitions, finance, start_day, min(end_day, as_of_day + 1))
    parts.append(pd_rows)
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()
    rows = rows[np.isin(rows["month"].to_numpy(), wanted)].reset_index(drop=True)
    pd_days = pd_days[np.isin(pd_days["month"].to_numpy(), wanted)].reset_index(drop=True)
    left_out = left_out[np.isin(left_out["month"].to_numpy(), wanted)].reset_index(drop=True)
    return Effort(rows=rows.reindex(columns=list(EFFORT_COLUMNS)), person_days=pd_days, points_left_out=left_out)


class _Context:
    """Per-issue arrays every model needs."""

    def __init__(self, mapped_issues: pd.DataFrame, windows: pd.DataFrame, method: np.ndarray, calendar: WorkCalendar):
        self.issues = mapped_issues
        self.ids = pd.Index(mapped_issues["id"].to_numpy())
        self.method = method
        self.team = mapped_issues["team_id"].astype("object").to_numpy()
        self.kind = windows["window_kind"].to_numpy()
        self.wstart = windows["window_start"].to_numpy()
        self.wend = windows["window_end"].to_numpy()
        self.calendar = calendar

    def positions(self, issue_ids: pd.Series) -> np.ndarray:
        return self.ids.get_indexer(issue_ids.to_numpy())

    def where(self, pos: np.ndarray, day: np.ndarray) -> np.ndarray:
        return position(self.kind[pos], self.wstart[pos], self.wend[pos], day)


def _grouped(person: np.ndarray, pos: np.ndarray, team: np.ndarray, month: np.ndarray, window: np.ndarray,
             method: str, hours: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"person_id": person, "pos": pos, "team_id": team, "month": month, "window": window,
                          "hours": hours})
    frame["team_id"] = frame["team_id"].astype("object").fillna("")
    out = (frame.groupby(["person_id", "pos", "team_id", "month", "window"], sort=True, dropna=False)["hours"]
           .sum().reset_index())
    out["team_id"] = out["team_id"].replace("", None)
    out["method"] = method
    return out


# ---------------------------------------------------------------------------------------- worklogs


def worklog_effort(ctx: _Context, worklogs: pd.DataFrame, start_day: int, end_day: int) -> pd.DataFrame:
    """Hours logged per person, issue, month and window position."""
    if worklogs.empty:
        return _empty()
    pos = ctx.positions(worklogs["issue_id"])
    keep = pos >= 0
    keep[keep] = ctx.method[pos[keep]] == "worklogs"
    day = ctx.calendar.days_of(worklogs["started"])
    keep &= (day >= start_day) & (day < end_day)
    if not keep.any():
        return _empty()
    pos, day = pos[keep], day[keep]
    person = worklogs["author_id"].astype("object").fillna("").to_numpy()[keep]
    hours = worklogs["seconds"].to_numpy(dtype=np.float64)[keep] / 3600.0
    return _grouped(person, pos, ctx.team[pos], month_of_day(day), ctx.where(pos, day), "worklogs", hours)


# ---------------------------------------------------------------------------------------- points


def points_effort(ctx: _Context, finance: FinanceOptions, start_day: int, end_day: int,
                  max_points: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Completed points per team and month, scaled to the team's capacity in that month; and the completed
    issues left out because their story points are out of range (:data:`LEFT_OUT_COLUMNS`)."""
    m = ctx.issues
    level_ok = m["hierarchy_level"].isin(finance.effort.work_levels).to_numpy()
    entered = pd.to_numeric(m["story_points"], errors="coerce").to_numpy(dtype=np.float64)
    points = usable_points(m["story_points"], max_points).to_numpy(dtype=np.float64)
    done = (m["status_category"].astype(str) == "done").to_numpy() & m["resolved"].notna().to_numpy()
    out_of_range = ~np.isnan(entered) & np.isnan(points)
    keep = (ctx.method == "points") & level_ok & done & ((np.nan_to_num(points) > 0) | out_of_range)
    if not keep.any():
        return _empty(), _left_out()
    pos = np.flatnonzero(keep)
    day = ctx.calendar.days_of(m["resolved"].iloc[pos])
    inside = (day >= start_day) & (day < end_day)
    pos, day = pos[inside], day[inside]
    skip = out_of_range[pos]
    left_out = pd.DataFrame({"pos": pos[skip], "team_id": ctx.team[pos[skip]], "month": month_of_day(day[skip]),
                             "story_points": entered[pos[skip]]})
    pos, day = pos[~skip], day[~skip]
    if not len(pos):
        return _empty(), left_out
    month = month_of_day(day)
    frame = pd.DataFrame({"pos": pos, "team_id": ctx.team[pos], "month": month, "points": points[pos]})
    total = frame.groupby(["team_id", "month"])["points"].transform("sum")
    capacity_fte = frame["team_id"].map(finance.effort.points_capacity_fte).fillna(0.0).to_numpy()
    month_hours = pd.Series(month).map(
        {mi: ctx.calendar.capacity_hours(Month.from_index(mi)) for mi in np.unique(month)}).to_numpy()
    hours = frame["points"].to_numpy() / total.to_numpy() * capacity_fte * month_hours
    person = m["assignee_id"].astype("object").fillna("").to_numpy()[pos]
    return _grouped(person, pos, ctx.team[pos], month, ctx.where(pos, day), "points", hours), left_out


def _left_out() -> pd.DataFrame:
    return pd.DataFrame({"pos": pd.Series(dtype=np.int64), "team_id": pd.Series(dtype=object),
                         "month": pd.Series(dtype=np.int64), "story_points": pd.Series(dtype=np.float64)})


# ---------------------------------------------------------------------------------------- person-days


def _segments(pos_all: np.ndarray, created: np.ndarray, current: np.ndarray, t_pos: np.ndarray,
              t_at: np.ndarray, t_from: np.ndarray, t_to: np.ndarray, open_end: int) -> pd.DataFrame:
    """Time segments (pos, start, end, value) of one field: before the first change, between changes, after."""
    order = np.lexsort((t_at, t_pos))
    t_pos, t_at, t_from, t_to = t_pos[order], t_at[order], t_from[order], t_to[order]
    n = len(t_pos)
    first = np.ones(n, dtype=bool)
    last = np.ones(n, dtype=bool)
    if n:
        first[1:] = t_pos[1:] != t_pos[:-1]
        last[:-1] = t_pos[1:] != t_pos[:-1]
    nxt = np.empty(n, dtype=np.int64)
    if n:
        nxt[:-1] = t_at[1:]
    nxt[last] = open_end
    untouched = np.setdiff1d(pos_all, t_pos, assume_unique=False)
    return pd.DataFrame({
        "pos": np.concatenate([t_pos[first], t_pos, untouched]),
        "start": np.concatenate([created[t_pos[first]], t_at, created[untouched]]),
        "end": np.concatenate([t_at[first], nxt, np.full(len(untouched), open_end, dtype=np.int64)]),
        "value": np.concatenate([t_from[first], t_to, current[untouched]]),
    })


def person_day_intervals(ctx: _Context, transitions: pd.DataFrame, finance: FinanceOptions,
                         eligible: np.ndarray, open_end: int) -> pd.DataFrame:
    """(pos, person_id, start, end) in UTC nanoseconds: the issue in progress and assigned to the person."""
    m = ctx.issues
    created = m["created"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    t_pos = ctx.positions(transitions["issue_id"]) if len(transitions) else np.array([], dtype=np.int64)
    in_scope = t_pos >= 0
    in_scope[in_scope] = eligible[t_pos[in_scope]]
    t = transitions[in_scope]
    t_pos = t_pos[in_scope]
    t_at = t["at"].to_numpy(dtype="datetime64[ns]").astype(np.int64) if len(t) else np.array([], dtype=np.int64)
    field = t["field"].to_numpy()
    pos_all = np.flatnonzero(eligible)
    # Status names → categories, from the changes themselves and the issues' current status.
    cats = dict(zip(m["status"].astype(str), m["status_category"].astype(str)))
    st = t[field == "status"]
    cats.update(zip(st["to_value"].astype(str), st["to_category"].astype(str)))
    in_progress = set(finance.effort.in_progress_categories)
    progress_names = {name for name, cat in cats.items() if cat in in_progress}
    is_status = field == "status"
    status = _segments(pos_all, created, m["status"].astype(str).to_numpy(dtype=object), t_pos[is_status],
                       t_at[is_status], st["from_value"].astype(str).to_numpy(dtype=object),
                       st["to_value"].astype(str).to_numpy(dtype=object), open_end)
    status = status[status["value"].isin(progress_names) & (status["start"] < status["end"])]
    asg = t[field == "assignee"]
    is_asg = field == "assignee"
    assignee = _segments(pos_all, created, m["assignee_id"].astype("object").to_numpy(), t_pos[is_asg],
                         t_at[is_asg], asg["from_value"].astype("object").to_numpy(),
                         asg["to_value"].astype("object").to_numpy(), open_end)
    assignee = assignee[assignee["value"].notna() & (assignee["start"] < assignee["end"])]
    assignee = assignee[assignee["pos"].isin(status["pos"].unique())]
    both = status.merge(assignee, on="pos", suffixes=("_s", "_a"))
    start = np.maximum(both["start_s"].to_numpy(), both["start_a"].to_numpy())
    end = np.minimum(both["end_s"].to_numpy(), both["end_a"].to_numpy())
    keep = start < end
    return pd.DataFrame({"pos": both["pos"].to_numpy()[keep], "person_id": both["value_a"].to_numpy()[keep],
                         "start": start[keep], "end": end[keep]})


def person_day_effort(ctx: _Context, transitions: pd.DataFrame, finance: FinanceOptions, start_day: int,
                      end_day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Person-day rows (unallocated time included) and the per person-month day counts."""
    days_frame = pd.DataFrame({"person_id": pd.Series(dtype=object), "month": pd.Series(dtype=np.int64),
                               "allocated_days": pd.Series(dtype=np.int64),
                               "unallocated_days": pd.Series(dtype=np.int64)})
    m = ctx.issues
    eligible = (ctx.method == "person-days") & m["hierarchy_level"].isin(finance.effort.work_levels).to_numpy()
    if end_day <= start_day or not eligible.any():
        return _empty(), days_frame
    calendar = ctx.calendar
    # Open ends reach a little past the period, far enough for any time-zone offset.
    open_end = (end_day + 2) * NS_PER_DAY
    iv = person_day_intervals(ctx, transitions, finance, eligible, open_end)
    if iv.empty:
        return _empty(), days_frame
    local_start = calendar.local_ns(pd.to_datetime(np.minimum(iv["start"].to_numpy(), open_end), utc=True))
    local_end = calendar.local_ns(pd.to_datetime(np.minimum(iv["end"].to_numpy(), open_end), utc=True))
    d0 = np.floor_divide(local_start, NS_PER_DAY)
    d1 = np.floor_divide(local_end - 1, NS_PER_DAY) + 1
    people, pc = np.unique(iv["person_id"].astype(str).to_numpy(), return_inverse=True)
    # Each person's span: first to last in-progress day (before clipping to the period).
    span0 = np.full(len(people), np.iinfo(np.int64).max)
    span1 = np.full(len(people), np.iinfo(np.int64).min)
    np.minimum.at(span0, pc, d0)
    np.maximum.at(span1, pc, d1)
    d0 = np.maximum(d0, start_day)
    d1 = np.minimum(d1, end_day)
    keep = d0 < d1
    pos, pc, d0, d1 = iv["pos"].to_numpy()[keep], pc[keep], d0[keep], d1[keep]
    pos, pc, d0, d1 = _merge_overlaps(pos, pc, d0, d1)
    n_days = end_day - start_day
    n_people = len(people)
    diff = np.zeros((n_people, n_days + 1), dtype=np.int32)
    np.add.at(diff, (pc, d0 - start_day), 1)
    np.add.at(diff, (pc, d1 - start_day), -1)
    count = np.cumsum(diff[:, :n_days], axis=1)
    days = np.arange(start_day, end_day)
    working = calendar.working(days)
    hpd = calendar.hours_per_day
    allocated = working[None, :] & (count > 0)
    weight = np.where(allocated, hpd / np.maximum(count, 1), 0.0)
    cum = np.zeros((n_people, n_days + 1))
    np.cumsum(weight, axis=1, out=cum[:, 1:])
    # Pieces: each interval cut at month starts and at its epic's window edges.
    m0, m1 = month_of_day(d0), month_of_day(d1 - 1)
    reps = (m1 - m0 + 1).astype(np.int64)
    idx = np.repeat(np.arange(len(d0)), reps)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(reps) - reps, reps)
    month = m0[idx] + offset
    s = np.maximum(d0[idx], month_start_day(month))
    e = np.minimum(d1[idx], month_start_day(month + 1))
    p_pos, p_pc = pos[idx], pc[idx]
    kind, ws, we = ctx.kind[p_pos], ctx.wstart[p_pos], ctx.wend[p_pos]
    win = kind == "window"
    cuts = [
        (s, np.where(win, np.minimum(e, ws), e), np.where(win, "before", kind)),
        (np.maximum(s, ws), np.minimum(e, we), np.full(len(s), "inside", dtype=object)),
        (np.maximum(s, we), e, np.full(len(s), "after", dtype=object)),
    ]
    pieces = []
    for k, (a, b, label) in enumerate(cuts):
        ok = a < b if k == 0 else win & (a < b)
        hours = cum[p_pc[ok], b[ok] - start_day] - cum[p_pc[ok], a[ok] - start_day]
        pieces.append(pd.DataFrame({"pc": p_pc[ok], "pos": p_pos[ok], "month": month[ok],
                                    "window": label[ok].astype(object), "hours": hours}))
    allp = pd.concat(pieces, ignore_index=True)
    allp = allp[allp["hours"] > 0]
    rows = _grouped(people[allp["pc"].to_numpy()].astype(object), allp["pos"].to_numpy(),
                    ctx.team[allp["pos"].to_numpy()], allp["month"].to_numpy(), allp["window"].to_numpy(),
                    "person-days", allp["hours"].to_numpy())
    # Unallocated working days inside each person's span.
    in_span = (days[None, :] >= span0[:, None]) & (days[None, :] < span1[:, None])
    idle = working[None, :] & (count == 0) & in_span
    day_month = month_of_day(days)
    month_ids = np.unique(day_month)
    month_col = np.searchsorted(month_ids, day_month)

    def per_month(mask: np.ndarray) -> np.ndarray:
        out = np.zeros((n_people, len(month_ids)), dtype=np.int64)
        for j in range(len(month_ids)):
            out[:, j] = mask[:, month_col == j].sum(axis=1)
        return out

    alloc_days, idle_days = per_month(allocated), per_month(idle)
    counts = pd.DataFrame({
        "person_id": np.repeat(people.astype(object), len(month_ids)),
        "month": np.tile(month_ids, n_people),
        "allocated_days": alloc_days.ravel(),
        "unallocated_days": idle_days.ravel(),
    })
    counts = counts[(counts["allocated_days"] > 0) | (counts["unallocated_days"] > 0)].reset_index(drop=True)
    idle_rows = counts[counts["unallocated_days"] > 0]
    if len(idle_rows):
        home = _home_team(rows, people)
        idle_frame = pd.DataFrame({
            "person_id": idle_rows["person_id"].to_numpy(), "pos": -1,
            "team_id": idle_rows["person_id"].map(home).to_numpy(), "month": idle_rows["month"].to_numpy(),
            "window": UNALLOCATED, "method": "person-days",
            "hours": idle_rows["unallocated_days"].to_numpy() * hpd,
        })
        rows = pd.concat([rows, idle_frame], ignore_index=True)
    return rows, counts


def _home_team(rows: pd.DataFrame, people: np.ndarray) -> dict[str, object]:
    """Each person's team for unallocated time: the team with most of their person-days."""
    if rows.empty:
        return {p: None for p in people}
    by = rows.dropna(subset=["team_id"]).groupby(["person_id", "team_id"])["hours"].sum().reset_index()
    by = by.sort_values(["person_id", "hours", "team_id"], ascending=[True, False, True])
    home = dict(zip(by.drop_duplicates("person_id")["person_id"], by.drop_duplicates("person_id")["team_id"]))
    return {p: home.get(p) for p in people}


def _merge_overlaps(pos: np.ndarray, pc: np.ndarray, d0: np.ndarray, d1: np.ndarray):
    """Merge overlapping day ranges of one person on one issue, so no day counts twice."""
    if not len(pos):
        return pos, pc, d0, d1
    order = np.lexsort((d0, pos, pc))
    pos, pc, d0, d1 = pos[order], pc[order], d0[order], d1[order]
    group_start = np.ones(len(pos), dtype=bool)
    group_start[1:] = (pc[1:] != pc[:-1]) | (pos[1:] != pos[:-1])
    reach = pd.Series(d1).groupby(np.cumsum(group_start)).cummax().to_numpy()
    prev_reach = np.empty_like(reach)
    prev_reach[0] = np.iinfo(np.int64).min
    prev_reach[1:] = reach[:-1]
    new = group_start | (d0 > prev_reach)
    first = np.flatnonzero(new)
    end = np.maximum.reduceat(d1, first)
    return pos[first], pc[first], d0[first], end
