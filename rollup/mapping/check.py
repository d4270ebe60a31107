"""``rollup mapping check``: audit a mapping against the synced issues.

Reports the rules that never match, the values rules (and teams) name that the Jira data does
not hold — usually a typo or a renamed label — the epics left unmapped per team and attribute,
the conflicts between rules of the same priority, the epic / parent / initiative keys issues link
to that the store does not hold (they inherit nothing), and the story points out of range (left
out of every sum), as :mod:`rollup.datachecks` finds them for the views and lint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rollup.config.models import RollupConfig
from rollup.datachecks import missing_parents, points_problem
from rollup.mapping.engine import Mapped, _Context, _text, apply
from rollup.mapping.models import ATTRIBUTES, compile_rules

#: The team label of epics no team claims, in :attr:`CheckReport.unmapped`.
NO_TEAM = "(no team)"
#: The row of :attr:`CheckReport.unmapped` that totals every team.
ALL_TEAMS = "(all teams)"

UNKNOWN_COLUMNS = ("rule", "provenance", "kind", "value")
UNMAPPED_COLUMNS = ("team", "attribute", "epics", "unmapped", "share")
NOT_VISIBLE_COLUMNS = ("missing_key", "kind", "issues", "keys")
POINTS_COLUMNS = ("key", "story_points", "problem")


@dataclass
class CheckReport:
    """What :func:`check` found.

    ``rules``: one row per rule (``rule``, ``provenance``, ``matched``, ``decided``, ``matched_epics``).
    ``unknown_values``: ``rule``, ``provenance``, ``kind`` (project, issue_type, label, component,
    field, initiative, team_field, board) and ``value`` a rule names that no issue holds.
    ``unmapped``: per team (``team`` id, :data:`NO_TEAM`, and :data:`ALL_TEAMS`) and ``attribute``:
    ``epics``, ``unmapped`` epics and their ``share`` (0–1).
    ``conflicts``: :attr:`Mapped.conflicts`.
    ``not_visible``: one row per key issues link to that the store does not hold — ``missing_key``,
    ``kind`` (epic, parent, initiative), ``issues`` (how many link to it), ``keys`` (them, comma separated).
    ``points_out_of_range``: ``key``, ``story_points`` and ``problem`` of every issue whose story points
    are negative or above ``report.max_story_points``.
    """

    rules: pd.DataFrame
    unknown_values: pd.DataFrame
    unmapped: pd.DataFrame
    conflicts: pd.DataFrame
    epics: int
    issues: int
    not_visible: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(NOT_VISIBLE_COLUMNS)))
    points_out_of_range: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(POINTS_COLUMNS)))

    @property
    def never_matched(self) -> list[str]:
        """Ids of the rules that match no issue."""
        return self.rules.loc[self.rules["matched"].eq(0), "rule"].tolist()

    @property
    def clean(self) -> bool:
        """No rule idle, no unknown value, no conflict, no unmapped epic, nothing not visible, no bad points."""
        total = self.unmapped[self.unmapped["team"].eq(ALL_TEAMS)]
        return (not self.never_matched and self.unknown_values.empty and self.conflicts.empty
                and int(total["unmapped"].sum()) == 0 and self.not_visible.empty and self.points_out_of_range.empty)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "issues": self.issues,
            "epics": self.epics,
            "never_matched": self.never_matched,
            "rules": _records(self.rules),
            "unknown_values": _records(self.unknown_values),
            "unmapped": _records(self.unmapped),
            "conflicts": _records(self.conflicts),
            "not_visible": _records(self.not_visible),
            "points_out_of_range": _records(self.points_out_of_range),
        }


def check(issues: pd.DataFrame, mappings: RollupConfig, mapped: Mapped | None = None) -> CheckReport:
    """Audit ``mappings`` against ``issues`` (the ``issues`` frame); pass ``mapped`` to reuse a mapping."""
    mapped = mapped if mapped is not None else apply(issues, mappings)
    ctx = _Context(issues.reset_index(drop=True))
    return CheckReport(
        rules=mapped.rules,
        unknown_values=_unknown_values(ctx, mappings),
        unmapped=_unmapped(mapped.issues),
        conflicts=mapped.conflicts,
        epics=int(mapped.issues["hierarchy_level"].eq(1).sum()),
        issues=len(mapped.issues),
        not_visible=_not_visible(mapped.issues),
        points_out_of_range=_points(mapped.issues, mappings.report.max_story_points),
    )


def _not_visible(issues: pd.DataFrame) -> pd.DataFrame:
    """Per missing key: what it is to the issues that link to it, how many, and which (most first)."""
    rows = missing_parents(issues)
    if rows.empty:
        return pd.DataFrame(columns=list(NOT_VISIBLE_COLUMNS))
    out = (rows.groupby(["missing_key", "kind"], sort=False)
           .agg(issues=("key", "size"), keys=("key", lambda s: ", ".join(sorted(s))))
           .reset_index()
           .sort_values(["issues", "missing_key"], ascending=[False, True], kind="stable"))
    out["issues"] = out["issues"].astype("int64")
    return out[list(NOT_VISIBLE_COLUMNS)].reset_index(drop=True)


def _points(issues: pd.DataFrame, max_points: float) -> pd.DataFrame:
    """Issues whose story points are negative or above ``max_points``."""
    problem = points_problem(issues["story_points"], max_points)
    rows = issues[problem.notna()]
    return pd.DataFrame({"key": rows["key"].astype("object").to_numpy(),
                         "story_points": pd.to_numeric(rows["story_points"], errors="coerce").to_numpy(),
                         "problem": problem[problem.notna()].to_numpy()}, columns=list(POINTS_COLUMNS))


def _unknown_values(ctx: _Context, mappings: RollupConfig) -> pd.DataFrame:
    seen: dict[str, set[str]] = {}

    def distinct(column: str) -> set[str]:
        if column not in seen:
            seen[column] = ctx.distinct(column)
        return seen[column]

    rows: list[tuple[str, str, str, str]] = []
    for rule in compile_rules(mappings):
        wanted: list[tuple[str, str, list[str]]] = []
        if rule.team is not None:
            r = rule.team.recognised_by
            wanted += [("team_field", "team", r.team_field), ("project", "project_key", r.projects),
                       ("component", "components", r.components)]
            sprints = distinct("sprint")
            rows += [(rule.id, rule.provenance, "board", b) for b in r.boards
                     if not any(s.startswith(b + " ") for s in sprints)]
        else:
            when = rule.when
            assert when is not None, f"{rule.provenance}: a rule that is not a team's has its tests"
            wanted += [("project", "project_key", when.project), ("issue_type", "issue_type", when.issue_type),
                       ("site", "site", when.site)]
            if when.labels is not None:
                wanted.append(("label", "labels", when.labels.values()))
            if when.components is not None:
                wanted.append(("component", "components", when.components.values()))
            if when.initiative is not None:
                if when.initiative.labels is not None:
                    wanted.append(("label", "labels", when.initiative.labels.values()))
                wanted.append(("initiative", "key", when.initiative.keys))
            if when.field is not None:
                test = when.field
                values = distinct(f"field:{test.name}")
                if test.regex is not None:
                    if not ctx.field(test, rule.provenance).any():
                        rows.append((rule.id, rule.provenance, "field", f"{test.name} ~ /{test.regex}/"))
                else:
                    given = test.in_ if test.in_ is not None else [test.equals]
                    rows += [(rule.id, rule.provenance, "field", f"{test.name} = {_text(v)}") for v in given
                             if _text(v) not in values]
        for kind, column, names in wanted:
            if names:
                known = {k for k in ctx.keys if k is not None} if column == "key" else distinct(column)
                rows += [(rule.id, rule.provenance, kind, v) for v in dict.fromkeys(names) if v not in known]
    return pd.DataFrame(rows, columns=list(UNKNOWN_COLUMNS))


def _unmapped(mapped_issues: pd.DataFrame) -> pd.DataFrame:
    epics = mapped_issues[mapped_issues["hierarchy_level"].eq(1)]
    team = epics["team_id"].astype(object).where(epics["team_id"].notna(), NO_TEAM)
    declared = ([str(c) for c in mapped_issues["team_id"].cat.categories] if hasattr(mapped_issues["team_id"], "cat")
                else [])
    order = [t for t in declared if t in set(team)] + ([NO_TEAM] if (team == NO_TEAM).any() else [])
    frames = []
    for attribute in ATTRIBUTES:
        missing = epics[attribute].isna()
        per_team = (pd.DataFrame({"team": team, "missing": missing})
                    .groupby("team", sort=False)["missing"].agg(epics="size", unmapped="sum")
                    .reindex(order).reset_index())
        total = pd.DataFrame({"team": [ALL_TEAMS], "epics": [len(epics)], "unmapped": [int(missing.sum())]})
        frame = pd.concat([per_team, total], ignore_index=True).assign(attribute=attribute)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["epics"] = out["epics"].astype("int64")
    out["unmapped"] = out["unmapped"].astype("int64")
    out["share"] = np.where(out["epics"] > 0, out["unmapped"] / out["epics"].where(out["epics"] > 0, 1), 0.0)
    return out[list(UNMAPPED_COLUMNS)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in out.to_dict("records")]
