"""What the data cannot show as entered: story points out of range, and issues whose epic is not visible.

Pure functions over the mapped issues frame (``rollup.mapping.apply(...).issues``), shared by the
views, the lint rules, ``rollup mapping check`` and finance's points model so all of them count the same issues.

- **Story points out of range**: a value below 0 or above ``report.max_story_points`` is kept as
  entered in the store, but every sum treats the issue as unestimated (:func:`usable_points`).
- **Parents not visible**: an issue whose link names a key the store does not hold — the epic or
  parent is private, deleted or outside the synced scope (:func:`missing_parents`). Its effort
  still counts; it only loses what it would have inherited (pillar, OKR, bucket).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns of :func:`missing_parents`.
MISSING_COLUMNS = ("key", "hierarchy_level", "missing_key", "kind", "team_id", "story_points", "done")

#: What the missing key is to the issue that names it: a story's epic, a sub-task's parent, an epic's initiative.
KINDS = ("epic", "parent", "initiative")


def points_problem(points: pd.Series, max_points: float) -> pd.Series:
    """Per value: ``negative``, ``above <max>`` or None (fine, or no estimate)."""
    value = pd.to_numeric(points, errors="coerce")
    # numpy's stubs refuse None as a choice of np.where; an object array takes it.
    above = np.where(value.gt(max_points), f"above {max_points:g}", None)  # type: ignore[call-overload]
    out = np.where(value.lt(0), "negative", above)
    return pd.Series(out, index=points.index, dtype="object")


def usable_points(points: pd.Series, max_points: float) -> pd.Series:
    """Story points as floats, NaN where missing, negative or above ``max_points`` (never summed)."""
    value = pd.to_numeric(points, errors="coerce").astype(float)
    return value.where(value.ge(0) & value.le(max_points))


def missing_parents(issues: pd.DataFrame) -> pd.DataFrame:
    """One row per issue whose epic (stories), parent (sub-tasks) or initiative (epics) is not in the frame.

    Columns (:data:`MISSING_COLUMNS`): ``key``, ``hierarchy_level``, ``missing_key`` (the key the issue
    links to), ``kind`` (epic / parent / initiative), ``team_id``, ``story_points`` (as entered) and
    ``done`` (status category done). A story counts only when the mapping found no epic for it: a
    Data Center *Epic Link* to a missing key with a *parent* that is an epic is not missing anything.
    """
    if issues.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in MISSING_COLUMNS})
    level = issues["hierarchy_level"].to_numpy()
    epic_link = issues["epic_key"].astype("object")
    parent = issues["parent_key"].astype("object")
    # Only issues that link somewhere can miss what they link to; look those links up, not every row.
    link = epic_link.where(epic_link.notna() & (level == 0), parent)
    candidate = link.notna().to_numpy() & ((level != 0) | issues["epic"].isna().to_numpy())
    candidate &= level <= 1
    if not candidate.any():
        return pd.DataFrame({c: pd.Series(dtype="object") for c in MISSING_COLUMNS})
    keys = pd.Index(issues["key"].astype("object"))
    wanted = np.zeros(len(issues), dtype=bool)
    wanted[candidate] = keys.get_indexer(link[candidate].to_numpy()) < 0
    rows = issues[wanted]
    kinds = np.select([level[wanted] == 0, level[wanted] < 0], [KINDS[0], KINDS[1]], default=KINDS[2])
    team = rows["team_id"].astype("object")
    return pd.DataFrame({
        "key": rows["key"].astype("object").to_numpy(),
        "hierarchy_level": rows["hierarchy_level"].to_numpy(),
        "missing_key": link[wanted].astype(str).to_numpy(),
        "kind": kinds,
        "team_id": team.where(team.notna(), None).to_numpy(),
        "story_points": pd.to_numeric(rows["story_points"], errors="coerce").to_numpy(),
        "done": rows["status_category"].astype("object").eq("done").to_numpy(),
    }, columns=list(MISSING_COLUMNS))


__all__ = ["points_problem", "usable_points", "missing_parents", "MISSING_COLUMNS", "KINDS"]
