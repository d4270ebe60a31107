"""Everything the rules read, prepared once per run: the epics frame with per-epic child aggregates.

:func:`build_context` takes the mapped issues (``rollup.mapping.apply(...).issues``), the
configuration, the lint date and optionally the transitions frame, and returns a
:class:`LintContext`. Every rule then works on whole columns of ``ctx.epics``; nothing here or in
a rule loops over epics in Python, and nothing does I/O.

``ctx.epics`` (one row per epic, i.e. hierarchy level 1, positional ``RangeIndex``) has the mapped
issue columns plus:

==========================  ======================================================================
``done`` / ``in_progress``  status category ``done`` / ``indeterminate`` (bool)
``owner``, ``owner_id``     the owner: the ``lint.owner_field`` value when configured and set, else
                            the assignee (display name and account id)
``owner_active``            whether that person's account is active (NA when unknown)
``target``                  target date: the "Target end" date, else the due date (naive day)
``start``                   the start date (naive day)
``last_update``             the later of the epic's and its children's ``updated`` (naive UTC)
``children``                live story-level (level 0) issues whose ``epic`` is this epic
``open_children``           children whose status category is not done
``child_points``            sum of the children's story points (0 when none)
``unestimated_children``    children without story points
``last_child_status_change``  latest status transition of any child (NaT when none or no transitions)
``okr_quarter_end``         last day of the mapped OKR's quarter (NaT when no OKR)
``team``                    the team's name (``Unassigned`` without a team)
==========================  ======================================================================

``ctx.stories_without_epic``: story-level issues with no (existing) epic, per team id
(``None`` for issues without a team).

``ctx.missing_epics`` (one row per epic key that story-level issues link to but the store does not
hold — private, deleted or outside the scope; see :func:`rollup.datachecks.missing_parents`) has the
columns a finding needs — ``key``, ``id`` (None), ``summary``, ``team_id`` (the team most of its
issues belong to), ``team``, ``owner`` / ``owner_id`` (None) — plus ``children`` (how many issues
link to it) and ``child_keys`` (the first of them). Rules whose ``target`` is ``missing_epics``
check this frame instead of ``epics``.

Story points below 0 or above ``report.max_story_points`` are left out of ``child_points`` (the
child counts as unestimated), as in every other sum; ``bad_point_children`` counts them and
``bad_point_keys`` names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rollup.config.lint import LintOptions
from rollup.config.models import RollupConfig
from rollup.datachecks import missing_parents, points_problem, usable_points
from rollup.frames import check_columns
from rollup.lint.result import UNASSIGNED
from rollup.views._common import key_order, quarter_bounds, to_day

if TYPE_CHECKING:
    from rollup.mapping.engine import Mapped

#: Mapped-issue columns the lint reads.
REQUIRED_COLUMNS = ("id", "key", "hierarchy_level", "summary", "description", "status_category", "assignee_id",
                    "assignee_name", "assignee_active", "updated", "story_points", "start_date", "target_date",
                    "due_date", "labels", "components", "custom", "epic", "initiative", "pillar", "okr",
                    "key_result", "bucket", "team_id")

DONE = "done"
IN_PROGRESS = "indeterminate"


@dataclass
class LintContext:
    """What rules read; see the module docstring for the columns of ``epics``."""

    as_of: date
    #: ``as_of`` as a naive Timestamp at midnight.
    today: pd.Timestamp
    epics: pd.DataFrame
    #: ``rollup.mapping`` conflicts of epics (columns per :data:`rollup.mapping.CONFLICT_COLUMNS`).
    conflicts: pd.DataFrame
    #: The parsed configuration (``RollupConfig``).
    config: RollupConfig
    #: Story-level issues without an epic, per team id (``None`` key: no team).
    stories_without_epic: pd.Series
    #: Epic keys issues link to that the store does not hold (see the module docstring).
    missing_epics: pd.DataFrame = field(default_factory=lambda: _missing_epic_frame(pd.DataFrame(), {}))
    #: Whether the run was given transitions (``last_child_status_change`` is only known then).
    has_transitions: bool = False

    def frame(self, target: str) -> pd.DataFrame:
        """The frame a rule checks: ``epics`` or ``missing_epics``."""
        return self.missing_epics if target == "missing_epics" else self.epics

    @property
    def options(self) -> LintOptions:
        """The ``lint:`` section."""
        return self.config.lint

    def description_words(self, cap: int) -> pd.Series:
        """Words (whitespace separated) in each epic's description, counted up to ``cap`` + 1.

        Counting stops after ``cap`` words: a rule asking "fewer than N words?" never needs to
        read the rest of a long description.
        """
        texts = self.epics["description"].astype("object").to_numpy()
        counts = [len(t.split(None, cap)) if isinstance(t, str) else 0 for t in texts]
        return pd.Series(counts, index=self.epics.index, dtype="int64")


def build_context(mapped: Mapped, config: RollupConfig, *, as_of: date,
                  transitions: pd.DataFrame | None = None) -> LintContext:
    """Prepare the epics frame and child aggregates for one lint run (pure)."""
    issues: pd.DataFrame = mapped.issues
    check_columns(issues, REQUIRED_COLUMNS, "mapped issues")
    today = pd.Timestamp(as_of).normalize()
    level = issues["hierarchy_level"]
    epics = issues[level.eq(1)].reset_index(drop=True)
    done = _category(epics).eq(DONE)
    epics = epics.assign(
        done=done.to_numpy(),
        in_progress=_category(epics).eq(IN_PROGRESS).to_numpy(),
        target=to_day(epics["target_date"]).fillna(to_day(epics["due_date"])),
        start=to_day(epics["start_date"]),
        okr_quarter_end=_okr_quarter_end(epics["okr"], config),
        team=_team_names(epics["team_id"], config),
    )
    epics = epics.join(_owners(issues, epics, config.lint.owner_field))
    stories = issues[level.eq(0)]
    has_epic = stories["epic"].isin(epics["key"])
    max_points = config.report.max_story_points
    kids = _child_aggregates(stories[has_epic], transitions, max_points)
    epics = epics.join(kids, on="key")
    for column in ("children", "open_children", "unestimated_children", "bad_point_children"):
        epics[column] = epics[column].fillna(0).astype("int64")
    epics["bad_point_keys"] = epics["bad_point_keys"].fillna("")
    epics["child_points"] = epics["child_points"].fillna(0.0)
    own_update = _naive_utc(epics["updated"])
    epics["last_update"] = own_update.where(own_update.ge(epics["last_child_update"]) |
                                            epics["last_child_update"].isna(), epics["last_child_update"])
    epic_keys = set(epics["key"].astype(str))
    conflicts = mapped.conflicts
    conflicts = conflicts[conflicts["key"].astype(str).isin(epic_keys)] if len(conflicts) else conflicts
    orphans = stories.loc[~has_epic, "team_id"].astype("object")
    without_epic = orphans.where(orphans.notna(), None).value_counts(dropna=False)
    missing = missing_parents(issues)
    names = {t.id: t.name for t in config.teams}
    return LintContext(as_of=as_of, today=today, epics=epics, conflicts=conflicts, config=config,
                       stories_without_epic=without_epic,
                       missing_epics=_missing_epic_frame(missing[missing["kind"].eq("epic")], names),
                       has_transitions=transitions is not None)


#: Issue keys named per missing epic.
CHILD_KEYS_SHOWN = 5


def _missing_epic_frame(children: pd.DataFrame, team_names: dict[str, str]) -> pd.DataFrame:
    """One row per missing epic key: the finding columns plus ``children`` and ``child_keys``."""
    columns = ["key", "id", "summary", "team_id", "team", "owner", "owner_id", "children", "child_keys"]
    if not len(children):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    team = children["team_id"].astype("object").fillna("")
    grouped = children.assign(team_key=team).groupby("missing_key", sort=True)
    per_key = grouped.agg(children=("key", "size"), keys=("key", lambda s: sorted(s, key=key_order)),
                          team_key=("team_key", lambda s: s.value_counts().index[0]))
    team_id = per_key["team_key"].where(per_key["team_key"].ne(""), None)
    return pd.DataFrame({
        "key": per_key.index.to_numpy(),
        "id": None,
        "summary": "(not visible)",
        "team_id": team_id.to_numpy(),
        "team": [team_names.get(t, t) if t else UNASSIGNED for t in team_id],
        "owner": None,
        "owner_id": None,
        "children": per_key["children"].astype("int64").to_numpy(),
        "child_keys": [", ".join(k[:CHILD_KEYS_SHOWN]) + (", …" if len(k) > CHILD_KEYS_SHOWN else "")
                       for k in per_key["keys"]],
    }, columns=columns)


# ---------------------------------------------------------------------------------------- helpers


def _category(frame: pd.DataFrame) -> pd.Series:
    return frame["status_category"].astype("object").fillna("")


def _naive_utc(values: pd.Series) -> pd.Series:
    out = pd.to_datetime(values, utc=True)
    return out.dt.tz_localize(None).astype("datetime64[ns]")


def _okr_quarter_end(okr: pd.Series, config: RollupConfig) -> pd.Series:
    ends = {}
    for o in config.okrs:
        bounds = quarter_bounds(o.quarter)
        assert bounds is not None, "mappings.yaml admits only quarters such as 2026-Q4"
        ends[o.id] = pd.Timestamp(bounds[1])
    return okr.astype("object").map(ends).astype("datetime64[ns]")


def _team_names(team_id: pd.Series, config: RollupConfig) -> pd.Series:
    names = {t.id: t.name for t in config.teams}
    ids = team_id.astype("object")
    return ids.map(names).fillna(ids).fillna(UNASSIGNED).astype("object")


def _owners(issues: pd.DataFrame, epics: pd.DataFrame, owner_field: str | None) -> pd.DataFrame:
    """``owner``, ``owner_id``, ``owner_active`` per epic (aligned to ``epics``)."""
    name = epics["assignee_name"].astype("object")
    account = epics["assignee_id"].astype("object")
    active = epics["assignee_active"].astype("boolean")
    if owner_field:
        value = pd.Series([_text(c.get(owner_field)) if isinstance(c, dict) else None for c in epics["custom"]],
                          index=epics.index, dtype="object")
        from_field = value.notna()
        # The field names a person; whether that account is active is known when they are an assignee anywhere.
        known = issues[["assignee_name", "assignee_id", "assignee_active"]].dropna(subset=["assignee_name"])
        known = known.drop_duplicates("assignee_name", keep="last").set_index("assignee_name")
        name = value.where(from_field, name)
        account = value.map(known["assignee_id"]).where(from_field, account)
        active = value.map(known["assignee_active"]).astype("boolean").where(from_field, active)
    name = name.where(name.notna(), None)
    account = account.where(account.notna(), None)
    return pd.DataFrame({"owner": name, "owner_id": account, "owner_active": active}, index=epics.index)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if v is not None)
    text = str(value).strip()
    return text or None


def _child_aggregates(kids: pd.DataFrame, transitions: pd.DataFrame | None, max_points: float) -> pd.DataFrame:
    """Per epic key: children, open children, points, unestimated, out-of-range points, last update and last
    status change."""
    points = usable_points(kids["story_points"], max_points)
    bad = points_problem(kids["story_points"], max_points).notna()
    frame = pd.DataFrame({
        "epic": kids["epic"].astype(str).to_numpy(),
        "id": kids["id"].to_numpy(),
        "key": kids["key"].astype(str).to_numpy(),
        "open": (~_category(kids).eq(DONE)).to_numpy(),
        "points": points.to_numpy(dtype="float64"),
        "unestimated": points.isna().to_numpy(),
        "bad": bad.to_numpy(),
        "updated": _naive_utc(kids["updated"]).to_numpy(),
    })
    if transitions is not None and len(transitions):
        status = transitions[transitions["field"].astype("object").eq("status")]
        last = _naive_utc(status["at"]).groupby(status["issue_id"].to_numpy()).max()
        frame["status_change"] = frame["id"].map(last).astype("datetime64[ns]")
    else:
        frame["status_change"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    out = frame.groupby("epic", sort=False).agg(
        children=("id", "size"),
        open_children=("open", "sum"),
        child_points=("points", "sum"),
        unestimated_children=("unestimated", "sum"),
        bad_point_children=("bad", "sum"),
        last_child_update=("updated", "max"),
        last_child_status_change=("status_change", "max"),
    )
    bad_keys = frame[frame["bad"]].groupby("epic")["key"].agg(lambda s: ", ".join(sorted(s, key=key_order)))
    return out.join(bad_keys.rename("bad_point_keys"))
