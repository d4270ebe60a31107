"""Scope ledger: what changed inside each epic after it started, read from Jira's own history.

``transitions``: the store's kept changelog (:mod:`rollup.frames`: a child's ``epic`` / ``parent``,
``story_points``, ``target_date``; None: no history is known and the ledger is empty).

The entries (``change``):

=====================  =============================================================================
``child added``        a story-level issue created under the epic after the day the epic started
                       (``who`` is blank: Jira's history does not record a creation), or moved to the
                       epic (its Epic Link or parent changed) after that day
``child removed``      a child moved from the epic to another epic or to none after that day (an issue
                       deleted in Jira leaves no history and is not listed)
``points changed``     a child's story points changed while it was under the epic, after that day;
                       ``points`` is new − old, an unestimated side counting as 0
``target date moved``  the epic's target date changed, whenever it did; ``days`` is new − old
``target date set``    a target date given where there was none (or ``target date removed``)
=====================  =============================================================================

An epic's start is the flow view's (:func:`rollup.views.flow.starts`: its start date, else the first day
a child moved into progress or was done); an epic not started has target-date entries only. Changes
after the as-of date are left out, so a past week's report shows what was known then.

One frame in two parts, by ``level``: ``epic`` rows (each epic with an entry, most children added
first) and ``event`` rows (each entry, newest first).

Columns: ``level``, ``key`` (the epic), ``summary``, ``team_id``, ``team``, ``started`` (the epic's
start), ``at`` (event rows: when, UTC), ``who`` (event rows), ``change`` (event rows), ``item`` (the child's
key), ``before``, ``after`` (event rows, as text), ``points``, ``days`` (event rows); on epic rows
``children_added``, ``children_removed``, ``points_changes``, ``points_delta`` (sum of ``points``),
``target_moves``, ``target_days`` (sum of ``days``) and ``last_change``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.views import flow
from rollup.views._common import UNMAPPED, empty, names, to_day
from rollup.views.registry import View

COLUMNS = ["level", "key", "summary", "team_id", "team", "started", "at", "who", "change", "item", "before",
           "after", "points", "days", "children_added", "children_removed", "points_changes", "points_delta",
           "target_moves", "target_days", "last_change"]

ADDED, REMOVED, POINTS, TARGET_MOVED = "child added", "child removed", "points changed", "target date moved"
TARGET_SET, TARGET_REMOVED = "target date set", "target date removed"
#: Entry kinds, in the order a tie is listed.
KINDS = (ADDED, REMOVED, POINTS, TARGET_MOVED, TARGET_SET, TARGET_REMOVED)

_EVENT = ["key", "at", "who", "change", "item", "before", "after", "points", "days"]


def compute(mapped_issues: pd.DataFrame, mappings: RollupConfig, *, as_of: date,
            transitions: pd.DataFrame | None) -> pd.DataFrame:
    """Epic rows, then the entries (see the module docstring)."""
    if mapped_issues.empty:
        return empty(COLUMNS)
    level = pd.to_numeric(mapped_issues["hierarchy_level"], errors="coerce")
    epics = mapped_issues[level.eq(1)]
    if epics.empty:
        return empty(COLUMNS)
    epic_keys = epics["key"].astype(str)
    started = flow.starts(mapped_issues, transitions)
    start_of = pd.Series(started.to_numpy(), index=epic_keys.to_numpy())
    start_of = start_of[~start_of.index.duplicated()]
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    # The whole history, so a child's epic on a past day is known even when it moved after the as-of date;
    # the entries themselves stop at the as-of date.
    history = _history(transitions)
    kids = mapped_issues[level.eq(0)]
    key_of = pd.Series(mapped_issues["key"].astype(str).to_numpy(), index=mapped_issues["id"].to_numpy())
    key_of = key_of[~key_of.index.duplicated()]

    moves = _epic_moves(history, kids, key_of)
    # The epic a moved child was in before its first move (None: it had none).
    first_epic = moves.drop_duplicates("issue_id").set_index("issue_id")["old"]
    events = [
        _created(kids, first_epic, start_of),
        _moved(moves, start_of),
        _points(history, kids, moves, first_epic, start_of),
        _targets(history, epics),
    ]
    for e in events[1:3]:
        if len(e):  # children named by id are shown by key
            e["item"] = e["item"].map(key_of).astype("object")
    found = [e for e in events if len(e)]
    ledger = pd.concat(found, ignore_index=True)[_EVENT] if found else pd.DataFrame(columns=_EVENT)
    ledger = ledger[pd.to_datetime(ledger["at"]) < end]
    if ledger.empty:
        return empty(COLUMNS)
    return _frame(ledger, epics, start_of, mappings)


# ---------------------------------------------------------------------------------------- inputs


def _history(transitions: pd.DataFrame | None) -> pd.DataFrame:
    """The kept scope changes, oldest first per issue, with ``at`` naive UTC and ``who`` the author."""
    columns = ["issue_id", "history_id", "field", "at", "from_value", "to_value", "who"]
    if transitions is None or transitions.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    t = transitions[transitions["field"].astype(str).isin(["epic", "parent", "story_points", "target_date"])]
    at = pd.to_datetime(t["at"], utc=True).dt.tz_localize(None)
    names_ = t["author_name"] if "author_name" in t else pd.Series(None, index=t.index, dtype=object)
    who = names_.astype("object").where(names_.notna(), t["author_id"].astype("object"))
    out = pd.DataFrame({"issue_id": t["issue_id"].to_numpy(), "history_id": t["history_id"].to_numpy(),
                        "field": t["field"].astype(str).to_numpy(), "at": at.to_numpy(),
                        "from_value": t["from_value"].astype("object").to_numpy(),
                        "to_value": t["to_value"].astype("object").to_numpy(), "who": who.to_numpy()})
    return out.sort_values(["issue_id", "at", "history_id"], kind="stable").reset_index(drop=True)


def _epic_moves(history: pd.DataFrame, kids: pd.DataFrame, key_of: pd.Series) -> pd.DataFrame:
    """A child's epic changes, oldest first, with ``old`` / ``new`` resolved to epic keys (None: no epic).

    Cloud names the parent by id, Data Center the Epic Link by key; a ``parent`` change counts only
    for a story-level issue (whose parent is its epic).
    """
    kid_ids = set(kids["id"].tolist())
    m = history[history["field"].isin(["epic", "parent"]) & history["issue_id"].isin(kid_ids)].copy()
    for side, column in (("old", "from_value"), ("new", "to_value")):
        m[side] = [_epic_key(v, key_of) for v in m[column]]
    # One history may carry the move twice (an Epic Link item and a parent item): it is one move.
    return m.drop_duplicates(["issue_id", "history_id", "old", "new"])


def _epic_key(value: object, key_of: pd.Series) -> str | None:
    """The epic a change names, by key: an id is looked up; one the frame does not hold (another team's
    epic in a team report) stays as written, shown but never counted (only the frame's epics have a start)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    if text.isdigit():
        text = str(key_of.get(int(text), text))
    return text


# ---------------------------------------------------------------------------------------- entries


def _after_start(keys: pd.Series, at: pd.Series, start_of: pd.Series) -> np.ndarray:
    """True where the entry falls after the day its epic started."""
    start = keys.map(start_of)
    return (start.notna() & (at.dt.normalize() > start)).to_numpy(dtype=bool)


def _created(kids: pd.DataFrame, first: pd.Series, start_of: pd.Series) -> pd.DataFrame:
    """Children created under an epic after it started: the epic they were created in is the one their
    first epic change moved them from, else their epic now."""
    ids = kids["id"]
    current = kids["epic"].astype("object").where(kids["epic"].notna(), None)
    origin = pd.Series(np.where(ids.isin(first.index), ids.map(first), current), index=kids.index, dtype=object)
    created = to_day(kids["created"]) if len(kids) else pd.Series(dtype="datetime64[ns]")
    at = pd.to_datetime(kids["created"], utc=True).dt.tz_localize(None)
    keep = origin.notna().to_numpy() & _after_start(origin, created, start_of)
    rows = kids[keep]
    return pd.DataFrame({"key": origin[keep].to_numpy(), "at": at[keep].to_numpy(), "who": None, "change": ADDED,
                         "item": rows["key"].astype(str).to_numpy(), "before": None, "after": "created in the epic",
                         "points": pd.to_numeric(rows["story_points"], errors="coerce").to_numpy(), "days": np.nan})


def _moved(moves: pd.DataFrame, start_of: pd.Series) -> pd.DataFrame:
    """A move out of one epic and into another, each after that epic started."""
    if moves.empty:
        return pd.DataFrame(columns=_EVENT)
    out = []
    for side, change in (("old", REMOVED), ("new", ADDED)):
        rows = moves[moves[side].notna()]
        rows = rows[_after_start(rows[side], rows["at"], start_of)]
        other = "new" if side == "old" else "old"
        out.append(pd.DataFrame({
            "key": rows[side].to_numpy(), "at": rows["at"].to_numpy(), "who": rows["who"].to_numpy(),
            "change": change, "item": rows["issue_id"].to_numpy(),
            "before": rows["old"].fillna("no epic").to_numpy() if side == "new" else rows["old"].to_numpy(),
            "after": rows[other].fillna("no epic").to_numpy() if side == "old" else rows["new"].to_numpy(),
            "points": np.nan, "days": np.nan}))
    return pd.concat(out, ignore_index=True)


def _points(history: pd.DataFrame, kids: pd.DataFrame, moves: pd.DataFrame, first_epic: pd.Series,
            start_of: pd.Series) -> pd.DataFrame:
    """Story-point changes on a child while it was under an epic that had started."""
    p = history[history["field"].eq("story_points") & history["issue_id"].isin(set(kids["id"].tolist()))]
    p = p[p["from_value"].astype("object").ne(p["to_value"].astype("object"))]
    if p.empty:
        return pd.DataFrame(columns=_EVENT)
    before = pd.to_numeric(p["from_value"], errors="coerce")
    after = pd.to_numeric(p["to_value"], errors="coerce")
    # Where a side is not a number (and not empty), the change cannot be measured: it is left out.
    measurable = (before.notna() | p["from_value"].isna()) & (after.notna() | p["to_value"].isna())
    p = p[measurable].assign(delta=after[measurable].fillna(0) - before[measurable].fillna(0))
    current = pd.Series(kids["epic"].astype("object").to_numpy(), index=kids["id"].to_numpy())
    current = current[~current.index.duplicated()]
    epic = p["issue_id"].map(current).astype("object")
    if len(moves):
        # The epic at the time: where the last move before the change took the child, else the epic
        # its first move took it from.
        m = moves.sort_values("at", kind="stable").assign(moved_at=lambda f: f["at"])
        asof = pd.merge_asof(p[["issue_id", "at"]].reset_index().sort_values("at", kind="stable"),
                             m[["issue_id", "at", "new", "moved_at"]], on="at", by="issue_id",
                             direction="backward").set_index("index").reindex(p.index)
        moved = p["issue_id"].isin(set(moves["issue_id"])).to_numpy()
        then = np.where(asof["moved_at"].notna(), asof["new"].astype("object"), p["issue_id"].map(first_epic))
        epic = pd.Series(np.where(moved, then, epic), index=p.index, dtype=object)
        epic = epic.where(epic.notna(), None)
    keep = epic.notna().to_numpy() & _after_start(epic, p["at"], start_of)
    rows = p[keep]
    return pd.DataFrame({"key": epic[keep].to_numpy(), "at": rows["at"].to_numpy(), "who": rows["who"].to_numpy(),
                         "change": POINTS, "item": rows["issue_id"].to_numpy(),
                         "before": rows["from_value"].to_numpy(), "after": rows["to_value"].to_numpy(),
                         "points": rows["delta"].to_numpy(dtype=float), "days": np.nan})


def _targets(history: pd.DataFrame, epics: pd.DataFrame) -> pd.DataFrame:
    """The epics' target-date changes."""
    key = pd.Series(epics["key"].astype(str).to_numpy(), index=epics["id"].to_numpy())
    key = key[~key.index.duplicated()]
    t = history[history["field"].eq("target_date") & history["issue_id"].isin(set(key.index))]
    if t.empty:
        return pd.DataFrame(columns=_EVENT)
    before = pd.to_datetime(t["from_value"], errors="coerce", format="%Y-%m-%d")
    after = pd.to_datetime(t["to_value"], errors="coerce", format="%Y-%m-%d")
    change = np.where(before.notna() & after.notna(), TARGET_MOVED,
                      np.where(after.notna(), TARGET_SET, TARGET_REMOVED))
    return pd.DataFrame({"key": t["issue_id"].map(key).to_numpy(), "at": t["at"].to_numpy(),
                         "who": t["who"].to_numpy(), "change": change, "item": None,
                         "before": t["from_value"].to_numpy(), "after": t["to_value"].to_numpy(),
                         "points": np.nan, "days": (after - before).dt.days.to_numpy(dtype=float)})


# ---------------------------------------------------------------------------------------- frame


def _frame(ledger: pd.DataFrame, epics: pd.DataFrame, start_of: pd.Series, mappings: RollupConfig) -> pd.DataFrame:
    team_names = {**names(mappings, "teams"), UNMAPPED: UNMAPPED}
    info = epics.drop_duplicates("key").set_index(epics.drop_duplicates("key")["key"].astype(str))
    team_id = info["team_id"].astype("object").where(info["team_id"].notna(), UNMAPPED)
    ledger = ledger.copy()
    ledger["change_order"] = ledger["change"].map({k: i for i, k in enumerate(KINDS)})
    ledger = ledger.sort_values(["at", "key", "change_order"], ascending=[False, True, True], kind="stable")
    ledger = ledger.drop(columns="change_order")
    counts = ledger.groupby(["key", "change"]).size().unstack(fill_value=0).reindex(columns=list(KINDS), fill_value=0)
    per = pd.DataFrame({
        "children_added": counts[ADDED], "children_removed": counts[REMOVED], "points_changes": counts[POINTS],
        "points_delta": ledger[ledger["change"].eq(POINTS)].groupby("key")["points"].sum(),
        "target_moves": counts[TARGET_MOVED],
        "target_days": ledger[ledger["change"].eq(TARGET_MOVED)].groupby("key")["days"].sum(),
        "last_change": ledger.groupby("key")["at"].max(),
    })
    per[["points_delta", "target_days"]] = per[["points_delta", "target_days"]].fillna(0.0)
    per = per.reset_index(names="key").sort_values(
        ["children_added", "points_delta", "key"], ascending=[False, False, True], kind="stable")
    for frame in (per, ledger):
        # Each epic's attributes looked up once, then spread over its rows by position.
        codes, keys = pd.factorize(frame["key"])
        teams = team_id.reindex(keys)
        attributes = {"summary": info["summary"].reindex(keys).to_numpy(), "team_id": teams.to_numpy(),
                      "team": np.array([team_names.get(t, t) for t in teams], dtype=object),
                      "started": start_of.reindex(keys).to_numpy()}
        for name, values in attributes.items():
            frame[name] = values[codes] if len(keys) else values[:0]
    per.insert(0, "level", "epic")
    ledger.insert(0, "level", "event")
    return pd.concat([per, ledger], ignore_index=True).reindex(columns=COLUMNS)


def entries(scope: pd.DataFrame, *, since: date | None = None) -> pd.DataFrame:
    """The ledger's event rows, newest first; ``since``: only those on or after that day."""
    rows = scope[scope["level"].eq("event")]
    if since is not None:
        rows = rows[pd.to_datetime(rows["at"]) >= pd.Timestamp(since)]
    return rows.reset_index(drop=True)


def week_start(as_of: date) -> date:
    """The first day of the week an as-of date's entries are "this week" (the six days before it, and it)."""
    return as_of - timedelta(days=6)


#: What the view is called, what it requires and how it is computed (see :mod:`rollup.views.registry`).
VIEW = View("scope", compute=compute, requires=("transitions",))
