"""``rollup mapping diff``: what an edit to ``mappings.yaml`` would change, before anyone commits it.

Both configurations are applied to the same issues. The result lists every epic whose pillar,
OKR, key result, bucket or team changes (from → to) and how the allocation per pillar and per
bucket shifts, by epic count and by story points (story-level issues, so nothing counts twice);
and, per pillar, its target share before and after and how its gap moves — actual share of the
completed effort the portfolio's Pillars sheet counts (the last ``report.allocation_window_days``
days up to the as-of date) minus the target share — so a change of targets shows what it does to
the gaps a CEO reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd

from rollup.config.models import ALLOCATION_WINDOW_DAYS, RollupConfig
from rollup.mapping.check import _records
from rollup.mapping.engine import apply
from rollup.mapping.models import ATTRIBUTES

#: The value shown for an unmapped epic in :attr:`MappingDiff.moves` and ``shares``.
NONE = "(unmapped)"

MOVE_COLUMNS = ("key", "attribute", "from", "to", "from_source", "to_source")
SHARE_COLUMNS = ("dimension", "value", "epics_old", "epics_new", "epic_share_old", "epic_share_new",
                 "epic_share_change", "points_old", "points_new", "point_share_old", "point_share_new",
                 "point_share_change")
PILLAR_COLUMNS = ("pillar", "name", "target_old", "target_new", "target_change", "actual_old", "actual_new",
                  "gap_old", "gap_new", "gap_change")


@dataclass
class MappingDiff:
    """What :func:`diff` found.

    ``moves``: one row per epic and attribute that changes — ``key``, ``attribute``, ``from``,
    ``to`` (ids, or ``(unmapped)``) and the provenance before and after.
    ``shares``: per ``dimension`` (``pillar``, ``bucket``) and ``value`` (declared ids in order in
    either file, then ``(unmapped)``): epic counts and shares (0–1) before and after, story
    points and their shares before and after, and the changes (new − old).
    """

    moves: pd.DataFrame
    shares: pd.DataFrame
    #: Per pillar declared in either file (:data:`PILLAR_COLUMNS`): target share old / new and its
    #: change, actual share old / new, gap (actual − target) old / new and its change — shares 0–1
    #: (NaN where a file does not declare the pillar or declares no target).
    pillars: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PILLAR_COLUMNS)))
    #: The as-of date and window days behind the actual shares.
    as_of: date | None = None
    window_days: int = ALLOCATION_WINDOW_DAYS

    @property
    def changed_targets(self) -> pd.DataFrame:
        """The pillars whose target share changes (or that one file alone declares)."""
        p = self.pillars
        return p[~(p["target_old"].fillna(-1) == p["target_new"].fillna(-1))]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"moves": _records(self.moves), "shares": _records(self.shares), "pillars": _records(self.pillars),
                "as_of": self.as_of.isoformat() if self.as_of else None, "window_days": self.window_days}


def diff(issues: pd.DataFrame, old: RollupConfig, new: RollupConfig, *, as_of: date | None = None) -> MappingDiff:
    """Compare the mapping of ``issues`` under ``old`` and ``new`` (actual shares as of ``as_of``, default today)."""
    before = apply(issues, old).issues
    after = apply(issues, new).issues
    epics = before["hierarchy_level"].eq(1).to_numpy()
    moves = []
    for attribute in ATTRIBUTES:
        a = _text(before[attribute])
        b = _text(after[attribute])
        changed = epics & (a != b).to_numpy()
        if changed.any():
            moves.append(pd.DataFrame({
                "key": before.loc[changed, "key"].astype(object).to_numpy(),
                "attribute": attribute,
                "from": a[changed].to_numpy(),
                "to": b[changed].to_numpy(),
                "from_source": before.loc[changed, f"{attribute}_source"].astype(object).to_numpy(),
                "to_source": after.loc[changed, f"{attribute}_source"].astype(object).to_numpy(),
            }))
    move_frame = (pd.concat(moves, ignore_index=True) if moves
                  else pd.DataFrame({c: pd.Series(dtype=object) for c in MOVE_COLUMNS}))
    shares = pd.concat([_shares(before, after, "pillar", old, new), _shares(before, after, "bucket", old, new)],
                       ignore_index=True)
    as_of = as_of or date.today()
    window = new.report.allocation_window_days
    return MappingDiff(moves=move_frame, shares=shares[list(SHARE_COLUMNS)],
                       pillars=_pillar_gaps(before, after, old, new, as_of=as_of, window=window),
                       as_of=as_of, window_days=window)


def _pillar_gaps(before: pd.DataFrame, after: pd.DataFrame, old: RollupConfig, new: RollupConfig, *,
                 as_of: date, window: int) -> pd.DataFrame:
    """Target, actual share and gap per pillar under each file (the Pillars sheet's definitions)."""
    from rollup.views.allocation import pillar_shares  # the one place the effort model lives

    start = as_of - timedelta(days=window)
    order = list(dict.fromkeys([p.id for p in old.pillars] + [p.id for p in new.pillars]))
    names = {p.id: p.name for p in old.pillars} | {p.id: p.name for p in new.pillars}

    def side(frame: pd.DataFrame, config: RollupConfig) -> tuple[pd.Series, pd.Series]:
        target = pd.Series({p.id: p.target_share for p in config.pillars}, dtype=float).reindex(order)
        actual = (pillar_shares(frame, config, start=start, end=as_of).set_index("pillar")["share"]
                  .astype(float).reindex(order))
        declared = pd.Series(order, index=order).isin([p.id for p in config.pillars])
        return target, actual.where(declared)

    target_old, actual_old = side(before, old)
    target_new, actual_new = side(after, new)
    out = pd.DataFrame({
        "pillar": order, "name": [names[p] for p in order],
        "target_old": target_old.to_numpy(), "target_new": target_new.to_numpy(),
        "actual_old": actual_old.to_numpy(), "actual_new": actual_new.to_numpy(),
    })
    out["target_change"] = out["target_new"] - out["target_old"]
    out["gap_old"] = out["actual_old"] - out["target_old"]
    out["gap_new"] = out["actual_new"] - out["target_new"]
    out["gap_change"] = out["gap_new"] - out["gap_old"]
    return out[list(PILLAR_COLUMNS)]


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), NONE).astype(str)


def _shares(before: pd.DataFrame, after: pd.DataFrame, dimension: str, old: RollupConfig,
            new: RollupConfig) -> pd.DataFrame:
    section = {"pillar": "pillars", "bucket": "buckets"}[dimension]
    order = list(dict.fromkeys([x.id for x in getattr(old, section)] + [x.id for x in getattr(new, section)]))
    order.append(NONE)

    def tally(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
        epics = frame[frame["hierarchy_level"].eq(1)]
        stories = frame[frame["hierarchy_level"].eq(0)]
        counts = _text(epics[dimension]).value_counts().reindex(order, fill_value=0)
        points = (stories.assign(_v=_text(stories[dimension])).groupby("_v")["story_points"].sum()
                  .reindex(order, fill_value=0.0).fillna(0.0))
        return counts, points

    epics_old, points_old = tally(before)
    epics_new, points_new = tally(after)
    out = pd.DataFrame({"dimension": dimension, "value": order,
                        "epics_old": epics_old.to_numpy(), "epics_new": epics_new.to_numpy(),
                        "points_old": points_old.to_numpy(), "points_new": points_new.to_numpy()})
    for kind, (old_col, new_col) in (("epic", ("epics_old", "epics_new")), ("point", ("points_old", "points_new"))):
        for suffix, column in (("old", old_col), ("new", new_col)):
            total = out[column].sum()
            out[f"{kind}_share_{suffix}"] = out[column] / total if total else 0.0
        out[f"{kind}_share_change"] = out[f"{kind}_share_new"] - out[f"{kind}_share_old"]
    return out
