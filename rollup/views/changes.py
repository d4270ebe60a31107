"""Week-over-week: what changed in the epics between the as-of week and the week before it.

``snapshots``: the stored weekly epic snapshots (:data:`SNAPSHOT_COLUMNS`: ``week`` — the
ISO week of the report's as-of date —, ``as_of``, ``run_id``, ``taken_at``, ``issue_id``, ``key``,
``payload``, the dict from :func:`rollup.views.epics.snapshot_payload`). Rows without ``week`` /
``as_of`` are dated by ``taken_at``; of several snapshots in one week the latest counts.
``epics``: the current epic view.
``scope_growth_threshold``: relative growth of an epic's size reported as scope growth
(default 0.2 = 20 %). ``team``: a team report, whose changes are those of the team's epics
(snapshots hold the whole portfolio; an epic that joined the team is compared with what it was).

The as-of week's state is the current epic view — unless a later week's snapshot is stored: the
as-of week is then in the past and its own stored snapshot is its state, so ``--as-of`` of a past
week reproduces what that week's report showed. The baseline is the latest snapshot of a week
before the as-of week (normally the previous week; an older one is named in ``baseline``).
``frame.attrs['note']`` says in a sentence what was compared, or why nothing could be.

Columns:

=================  ==================================================================
``change``         new epic / completed / target date slipped / target date pulled in /
                   scope growth / status changed / pillar changed / bucket changed
``key``, ``summary``  the epic now
``pillar``, ``team_id``  its pillar and team ids now, and ``pillar_name``, ``team`` their names
                   (``Unmapped`` when none; an id the mappings no longer declare is shown as is)
``before``, ``after``  the value then and now, as text; for pillar and bucket changes the names
                   (``Unmapped`` for none)
``days_slipped``   for target date changes: new − old target date in days
``scope_growth``   for scope growth: relative growth of size (points, else child count)
``size``           the epic's size now (for "biggest first")
``baseline``       ISO date of the baseline snapshot
=================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import epics as epics_view
from rollup.views._common import UNMAPPED, empty, names, team_scope
from rollup.views.registry import View

COLUMNS = ["change", "key", "summary", "pillar", "pillar_name", "team_id", "team", "before", "after", "days_slipped",
           "scope_growth", "size", "baseline"]

#: Columns of the stored snapshots (``rollup.frames.SNAPSHOT_COLUMNS``).
SNAPSHOT_COLUMNS = ["week", "as_of", "run_id", "taken_at", "issue_id", "key", "payload"]

SCOPE_GROWTH_THRESHOLD = 0.2

#: Change kinds in the order they are listed.
KINDS = ["new epic", "completed", "target date slipped", "target date pulled in", "scope growth",
         "status changed", "pillar changed", "bucket changed"]


def iso_week(day: date) -> str:
    """``2026-W48``: the ISO week a snapshot of ``day`` is stored under."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly(snapshots: pd.DataFrame | None) -> pd.DataFrame:
    """The snapshots with ``week`` and ``day`` (the as-of date, datetime64) filled in, one snapshot per week.

    Rows lacking ``as_of`` are dated by ``taken_at``; where a week holds several runs (stores
    written before snapshots were weekly) the latest run is kept.
    """
    if snapshots is None or len(snapshots) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*SNAPSHOT_COLUMNS, "day"]})
    snaps = snapshots.reindex(columns=list(dict.fromkeys([*SNAPSHOT_COLUMNS, *snapshots.columns])))
    taken = pd.to_datetime(snaps["taken_at"], utc=True).dt.tz_localize(None)
    day = pd.to_datetime(snaps["as_of"], errors="coerce").fillna(taken.dt.normalize())
    week = snaps["week"].astype("object")
    missing = week.isna() & day.notna()
    if missing.any():  # one ISO week per distinct day, not per row
        weeks = {d: iso_week(d.date()) for d in day[missing].unique()}
        week = week.where(~missing, day.map(weeks))
    snaps = snaps.assign(week=week, day=day, _taken=taken)
    latest = snaps.sort_values("_taken", kind="stable").groupby("week")["run_id"].last()
    snaps = snaps[snaps["run_id"].eq(snaps["week"].map(latest))]
    return snaps.drop(columns="_taken").reset_index(drop=True)


@dataclass
class WeekPair:
    """The as-of week's stored snapshot (None: use the current epics) and the baseline's rows."""

    week: str
    current: pd.DataFrame | None
    baseline: pd.DataFrame
    past: bool

    @property
    def baseline_week(self) -> str | None:
        """The ISO week of the baseline snapshot, or None when there is none."""
        return None if self.baseline.empty else str(self.baseline["week"].iloc[0])


def week_pair(snapshots: pd.DataFrame | None, *, as_of: date) -> WeekPair:
    """Which snapshots the as-of week compares: see the module docstring."""
    snaps = weekly(snapshots)
    week = iso_week(as_of)
    past = bool(snaps["week"].gt(week).any()) if len(snaps) else False
    own = snaps[snaps["week"].eq(week)]
    earlier = snaps[snaps["week"].lt(week)]
    baseline = earlier[earlier["week"].eq(earlier["week"].max())] if len(earlier) else earlier
    return WeekPair(week=week, current=own if past and len(own) else None, baseline=baseline, past=past)


def is_past_week(snapshots: pd.DataFrame | None, *, as_of: date) -> bool:
    """True when a snapshot of a week after ``as_of``'s is stored: reports of that week only read history."""
    return week_pair(snapshots, as_of=as_of).past


def _payload_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(list(rows["payload"]), index=rows["issue_id"].astype(int).to_numpy())


def _text(value: Any) -> str | None:
    """A before / after value as text: a size of ``157.0`` points reads ``157``; none is None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _named(ids: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """Each id's name from ``lookup`` (an undeclared id as is; none: :data:`UNMAPPED`)."""
    text = ids.astype("object")
    text = text.where(text.notna() & text.astype(str).ne(""), None)
    return text.map(lookup).fillna(text).fillna(UNMAPPED)


def _with_note(frame: pd.DataFrame, note: str) -> pd.DataFrame:
    frame.attrs["note"] = note
    return frame


def compute(
    mapped_issues: pd.DataFrame, mappings: RollupConfig, *,
    as_of: date, epics: pd.DataFrame, snapshots: Any, scope_growth_threshold: float | None, team: str | None,
) -> pd.DataFrame:
    """Changes between the baseline week's snapshot and the as-of week's epics."""
    threshold = float(scope_growth_threshold or SCOPE_GROWTH_THRESHOLD)
    pair = week_pair(snapshots, as_of=as_of)
    base_rows = pair.baseline
    if base_rows.empty:
        return _with_note(empty(COLUMNS), (
            f"No changes to show: no snapshot of a week before {pair.week} is stored. Each weekly report stores "
            f"its week's snapshot, so the next week's report compares with this one."))
    baseline_day = pd.Timestamp(base_rows["day"].max()).date().isoformat()
    before = _payload_frame(base_rows)
    if pair.current is not None:
        now_payload = _payload_frame(pair.current)
        team_id = team_scope(mappings, mapped_issues, team)
        if team_id is not None:
            now_payload = now_payload[now_payload["team_id"].eq(team_id)]
        source = f"the stored snapshot of {pair.week}"
    else:
        now = epics
        now_payload = pd.DataFrame([p for _, _, p in epics_view.snapshot_payload(now)],
                                   index=now["id"].astype(int).to_numpy() if len(now) else None)
        source = f"the epics as of {as_of.isoformat()} ({pair.week})"
    compared = f"Compared {source} with the snapshot of {pair.baseline_week} (as of {baseline_day})"
    if now_payload.empty:
        return _with_note(empty(COLUMNS), f"{compared}: there are no epics now.")
    # pandas-stubs do not know join's ``suffixes`` (pandas 3.1 has it).
    both = now_payload.join(before, suffixes=("", "_was"), how="left")  # type: ignore[call-arg]
    had = both.index.isin(before.index)
    pillar_names, bucket_names = names(mappings, "pillars"), names(mappings, "buckets")
    both = both.assign(
        pillar_name=_named(both["pillar"], pillar_names), pillar_name_was=_named(both["pillar_was"], pillar_names),
        bucket_name=_named(both["bucket"], bucket_names), bucket_name_was=_named(both["bucket_was"], bucket_names),
        team=_named(both["team_id"], names(mappings, "teams")))
    size_now = pd.to_numeric(both["size"], errors="coerce")
    rows = []

    def add(kind: str, mask: np.ndarray, before_col: str | None, after_col: str | None, **extra: Any) -> None:
        if not mask.any():
            return
        part = both[mask]
        frame = pd.DataFrame({
            "change": kind,
            "key": part["key"],
            "summary": part["summary"],
            "pillar": part["pillar"],
            "pillar_name": part["pillar_name"],
            "team_id": part["team_id"],
            "team": part["team"],
            "before": part[before_col].astype("object") if before_col else None,
            "after": part[after_col].astype("object") if after_col else None,
            "size": size_now[mask],
        })
        for col, values in extra.items():
            frame[col] = values[mask]
        rows.append(frame)

    add("new epic", ~had, None, "status")
    was_done = both["status_category_was"].eq("done").to_numpy()
    is_done = both["status_category"].eq("done").to_numpy()
    add("completed", had & is_done & ~was_done, "status_was", "status")

    target_now = pd.to_datetime(both["target_date"], errors="coerce")
    target_was = pd.to_datetime(both["target_date_was"], errors="coerce")
    moved = (target_now - target_was).dt.days
    add("target date slipped", had & moved.gt(0).to_numpy(), "target_date_was", "target_date",
        days_slipped=moved.to_numpy())
    add("target date pulled in", had & moved.lt(0).to_numpy(), "target_date_was", "target_date",
        days_slipped=moved.to_numpy())

    size_was = pd.to_numeric(both["size_was"], errors="coerce")
    growth = (size_now - size_was) / size_was.where(size_was > 0)
    add("scope growth", had & growth.gt(threshold).to_numpy(), "size_was", "size", scope_growth=growth.to_numpy())
    add("status changed", had & both["status"].ne(both["status_was"]).to_numpy() & ~(is_done & ~was_done),
        "status_was", "status")
    for attr in ("pillar", "bucket"):
        differs = both[attr].fillna("").astype(str).ne(both[f"{attr}_was"].fillna("").astype(str))
        add(f"{attr} changed", had & differs.to_numpy(), f"{attr}_name_was", f"{attr}_name")
    if not rows:
        return _with_note(empty(COLUMNS), f"{compared}: no epic changed.")
    out = pd.concat(rows, ignore_index=True).reindex(columns=COLUMNS)
    out["baseline"] = baseline_day
    for col in ("before", "after"):
        out[col] = out[col].map(_text)
    out["change"] = pd.Categorical(out["change"], categories=KINDS, ordered=True)
    out = out.sort_values(["change", "size", "key"], ascending=[True, False, True],
                          kind="stable").reset_index(drop=True)
    counts = out["change"].value_counts(sort=False)
    listed = ", ".join(f"{int(n)} {kind}" for kind, n in counts.items() if n)
    return _with_note(out, f"{compared}: {listed}.")


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("changes", requires=("epics", "snapshots", "scope_growth_threshold", "team"), compute=compute)
